/* bench-combinators.c: wait, gather and as_completed as N grows
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For N = 10^4, 10^5 and 10^6 futures, in one run: the time of
 *
 *   wait          concurry_wait (ALL_COMPLETED) over N futures completed
 *                 while it waits (half already done, half resolved by
 *                 another thread)
 *   gather        concurry_gather over N futures already done
 *   as_completed  iterating N futures completed by another thread
 *
 * and the growth exponent, the time ratio per x10 of N: linear is 10x
 * (target <= 11x). Also ns per input for gather over done inputs
 * (target <= 100 ns).
 */

#include <concurry.h>

typedef struct
{
  ConcurryFuture **futures;
  guint            from;
  guint            n;
} Resolver;

static gpointer
resolver_thread (gpointer data)
{
  Resolver *r = data;

  for (guint i = r->from; i < r->n; i++)
    concurry_promise_resolve_int (CONCURRY_PROMISE (r->futures[i]), (int)i);
  return NULL;
}

static ConcurryFuture **
make_futures (guint    n,
              gboolean all_done)
{
  ConcurryFuture **futures = g_new (ConcurryFuture *, n);

  for (guint i = 0; i < n; i++)
    futures[i] = (all_done || i < n / 2)
      ? concurry_resolved_future_new_int ((int)i)
      : CONCURRY_FUTURE (concurry_promise_new ());
  return futures;
}

static void
free_futures (ConcurryFuture **futures,
              guint            n)
{
  for (guint i = 0; i < n; i++)
    g_object_unref (futures[i]);
  g_free (futures);
}

static double
bench_wait (guint n)
{
  ConcurryFuture **futures = make_futures (n, FALSE);
  Resolver r = { futures, n / 2, n };
  gint64 start = g_get_monotonic_time ();
  GThread *thread = g_thread_new ("resolver", resolver_thread, &r);
  g_autoptr(GPtrArray) done = NULL;
  double elapsed;

  g_assert_true (concurry_wait (futures, n, CONCURRY_WAIT_ALL_COMPLETED, -1, &done, NULL));
  elapsed = (g_get_monotonic_time () - start) / 1e6;
  g_assert_cmpuint (done->len, ==, n);
  g_thread_join (thread);
  free_futures (futures, n);
  return elapsed;
}

static double
bench_gather (guint n)
{
  ConcurryFuture **futures = make_futures (n, TRUE);
  gint64 start = g_get_monotonic_time ();
  ConcurryFuture *all = concurry_gather (futures, n, CONCURRY_GATHER_FLAGS_NONE);
  double elapsed;

  g_assert_true (concurry_future_wait (all, -1, NULL));
  g_object_unref (all);
  elapsed = (g_get_monotonic_time () - start) / 1e6;
  free_futures (futures, n);
  return elapsed;
}

static double
bench_as_completed (guint n)
{
  ConcurryFuture **futures = make_futures (n, FALSE);
  Resolver r = { futures, n / 2, n };
  gint64 start = g_get_monotonic_time ();
  ConcurryAsCompleted *it = concurry_as_completed (futures, n, -1);
  GThread *thread = g_thread_new ("resolver", resolver_thread, &r);
  ConcurryFuture *f;
  guint count = 0;
  double elapsed;

  while ((f = concurry_as_completed_next (it, NULL)) != NULL)
    {
      count++;
      g_object_unref (f);
    }
  elapsed = (g_get_monotonic_time () - start) / 1e6;
  g_assert_cmpuint (count, ==, n);
  g_thread_join (thread);
  g_object_unref (it);
  free_futures (futures, n);
  return elapsed;
}

static void
run (const char *name,
     double    (*func) (guint))
{
  double t[3];
  guint n = 10000;

  for (guint k = 0; k < 3; k++, n *= 10)
    {
      /* best of several rounds: more for the small sizes, whose runs are
       * short enough for noise to matter */
      const guint rounds[] = { 25, 8, 3 };

      t[k] = G_MAXDOUBLE;
      for (guint round = 0; round < rounds[k]; round++)
        t[k] = MIN (t[k], func (n));
    }

  g_print ("%-13s 10^4: %7.4f s  10^5: %7.4f s  10^6: %7.4f s  growth per x10: %.1fx, %.1fx (target <= 11x) %s\n",
           name, t[0], t[1], t[2], t[1] / t[0], t[2] / t[1],
           (t[1] / t[0] <= 11 && t[2] / t[1] <= 11) ? "ok" : "MISSED");
}

int
main (int argc,
      char *argv[])
{
  double ns;

  g_print ("concurry %s, GLib %u.%u.%u\n", CONCURRY_VERSION_S,
           glib_major_version, glib_minor_version, glib_micro_version);

  run ("wait", bench_wait);
  run ("gather", bench_gather);
  run ("as_completed", bench_as_completed);

  /* gather over inputs that are all done, per input (best of 5 at 10^6) */
  ns = G_MAXDOUBLE;
  for (guint round = 0; round < 5; round++)
    {
      ConcurryFuture **futures = make_futures (1000000, TRUE);
      gint64 start = g_get_monotonic_time ();
      ConcurryFuture *all = concurry_gather (futures, 1000000, CONCURRY_GATHER_FLAGS_NONE);

      g_object_unref (all);
      ns = MIN (ns, (g_get_monotonic_time () - start) * 1000.0 / 1000000);
      free_futures (futures, 1000000);
    }
  g_print ("%-13s %.1f ns per input already done (target <= 100 ns) %s\n",
           "gather", ns, ns <= 100 ? "ok" : "MISSED");

  return 0;
}
