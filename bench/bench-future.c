/* bench-future.c: the cost of futures next to raw GLib baselines
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Prints, for each case, ns per item for concurry and for the GLib
 * baseline measured in the same run, and their ratio. Each figure is the
 * best of several interleaved runs, to keep noise from other processes out.
 *
 *   resolved future   concurry_resolved_future_new_int() + get_int() + unref
 *                     vs g_object_new() + unref of an empty GObject class
 *   promise->callback promise + done callback + resolve, delivered by the
 *                     main loop, vs GTask created, returned and its
 *                     callback dispatched by the main loop
 */

#include <concurry.h>

#define BENCH_TYPE_EMPTY (bench_empty_get_type ())
G_DECLARE_FINAL_TYPE (BenchEmpty, bench_empty, BENCH, EMPTY, GObject)

struct _BenchEmpty
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (BenchEmpty, bench_empty, G_TYPE_OBJECT)

static void bench_empty_class_init (BenchEmptyClass *klass) { }
static void bench_empty_init (BenchEmpty *self) { }

#define N_ROUNDS 15

typedef double (*BenchFunc) (guint n);

static volatile int sink;

static double
bench_resolved_future (guint n)
{
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++)
    {
      ConcurryFuture *future = concurry_resolved_future_new_int ((int)i);
      sink += concurry_future_get_int (future);
      g_object_unref (future);
    }

  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

static double
bench_empty_gobject (guint n)
{
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++)
    {
      GObject *object = g_object_new (BENCH_TYPE_EMPTY, NULL);
      g_object_unref (object);
    }

  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

static void
promise_cb (ConcurryFuture *future,
            gpointer        user_data)
{
  guint *count = user_data;

  (*count)++;
}

static double
bench_promise_callback (guint n)
{
  gint64 start = g_get_monotonic_time ();
  guint count = 0;

  for (guint i = 0; i < n; i++)
    {
      ConcurryPromise *promise = concurry_promise_new ();

      concurry_future_add_done_callback (CONCURRY_FUTURE (promise), promise_cb, &count, NULL);
      concurry_promise_resolve_int (promise, (int)i);
      g_object_unref (promise);
    }
  while (count < n)
    g_main_context_iteration (NULL, TRUE);

  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

static void
task_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  guint *count = user_data;

  g_task_propagate_boolean (G_TASK (result), NULL);
  (*count)++;
}

static double
bench_gtask (guint n)
{
  gint64 start = g_get_monotonic_time ();
  guint count = 0;

  for (guint i = 0; i < n; i++)
    {
      GTask *task = g_task_new (NULL, NULL, task_cb, &count);

      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
  while (count < n)
    g_main_context_iteration (NULL, TRUE);

  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

static void
compare (const char *name,
         BenchFunc   ours,
         BenchFunc   baseline,
         const char *baseline_name,
         guint       n,
         double      target)
{
  double best_ours = G_MAXDOUBLE, best_base = G_MAXDOUBLE;

  /* Warm up both, then interleave, alternating which goes first. */
  ours (n / 10);
  baseline (n / 10);
  for (guint round = 0; round < N_ROUNDS; round++)
    {
      if (round % 2 == 0)
        {
          best_ours = MIN (best_ours, ours (n));
          best_base = MIN (best_base, baseline (n));
        }
      else
        {
          best_base = MIN (best_base, baseline (n));
          best_ours = MIN (best_ours, ours (n));
        }
    }

  g_print ("%-20s %8.1f ns/item | %-34s %8.1f ns/item | ratio %.2fx (target <= %.2fx) %s\n",
           name, best_ours, baseline_name, best_base, best_ours / best_base, target,
           best_ours / best_base <= target ? "ok" : "MISSED");
}

int
main (int argc,
      char *argv[])
{
  guint n = 200000;

  if (argc > 1)
    n = (guint)g_ascii_strtoull (argv[1], NULL, 10);

  g_print ("concurry %s, GLib %u.%u.%u, %u items per run, best of %d\n",
           CONCURRY_VERSION_S, glib_major_version, glib_minor_version, glib_micro_version, n, N_ROUNDS);

  compare ("resolved future", bench_resolved_future,
           bench_empty_gobject, "g_object_new+unref (empty GObject)", n, 1.15);
  compare ("promise->callback", bench_promise_callback,
           bench_gtask, "GTask new+return+callback", n, 0.70);

  return 0;
}
