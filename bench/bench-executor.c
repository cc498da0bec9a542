/* bench-executor.c: executors next to raw GLib baselines
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * In one run, each figure the best of several interleaved rounds:
 *
 *   thread pool   N trivial items through ConcurryThreadPoolExecutor (one
 *                 future each, dropped by the submitter), then waiting for
 *                 all, vs a raw GThreadPool with the same number of
 *                 threads carrying, for each item, the least a future can
 *                 be: a reference-counted struct with a GMutex, a GCond
 *                 and a done flag, made by the submitter, completed
 *                 (locked, flagged, broadcast) by the worker and freed by
 *                 whichever of the two drops it last. That is the target
 *                 (<= 1.0x). For reference, also the raw pool with only an
 *                 atomic counter (no future at all), and the raw pool
 *                 carrying one bare GObject per item.
 *   GTask         the same through ConcurryTaskExecutor vs raw
 *                 g_task_run_in_thread()
 *   pending       bytes of memory per queued, not yet started future (in
 *                 a child process, so that every future is a new one)
 *   map           peak RSS of a map over 10 million lazily produced inputs
 *                 (run in a child process so that its peak is its own)
 */

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <concurry.h>

#define N_ROUNDS 7

/* CPU time of the whole process (every thread), in ns: what the work
 * cost, as opposed to how long it took, which on a busy machine depends
 * on when the threads get a core. */
static double
cpu_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The CPU time per item of the last run of a thread-pool bench. */
static double last_cpu;

/* Done when the last item counts itself. */
typedef struct
{
  GMutex mutex;
  GCond  cond;
  int    remaining;
} Latch;

static Latch latch;

static void
latch_arm (int n)
{
  g_atomic_int_set (&latch.remaining, n);
}

static void
latch_count_down (void)
{
  if (g_atomic_int_dec_and_test (&latch.remaining))
    {
      g_mutex_lock (&latch.mutex);
      g_cond_signal (&latch.cond);
      g_mutex_unlock (&latch.mutex);
    }
}

static void
latch_wait (void)
{
  g_mutex_lock (&latch.mutex);
  while (g_atomic_int_get (&latch.remaining) > 0)
    g_cond_wait (&latch.cond, &latch.mutex);
  g_mutex_unlock (&latch.mutex);
}

static void
trivial_work (GCancellable  *cancellable,
              GValue        *value,
              gpointer       user_data,
              GError       **error)
{
  latch_count_down ();
}

static void
raw_pool_func (gpointer data,
               gpointer user_data)
{
  latch_count_down ();
}

static double
bench_concurry_pool (ConcurryExecutor *executor,
                     guint             n)
{
  gint64 start = g_get_monotonic_time ();
  double cpu_start = cpu_now ();

  latch_arm ((int)n);
  for (guint i = 0; i < n; i++)
    g_object_unref (concurry_executor_submit (executor, trivial_work, NULL, NULL, NULL));
  latch_wait ();

  last_cpu = (cpu_now () - cpu_start) / n;
  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

/* The raw baseline's future: what completing and waiting for one item
 * takes at the least, without GObject. */
typedef struct
{
  gatomicrefcount ref_count;
  GMutex          mutex;
  GCond           cond;
  gboolean        done;
} RawFuture;

static RawFuture *
raw_future_new (void)
{
  RawFuture *self = g_new (RawFuture, 1);

  /* Two references: the submitter's and the worker's. */
  g_atomic_ref_count_init (&self->ref_count);
  g_atomic_ref_count_inc (&self->ref_count);
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->done = FALSE;
  return self;
}

static void
raw_future_unref (RawFuture *self)
{
  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_mutex_clear (&self->mutex);
      g_cond_clear (&self->cond);
      g_free (self);
    }
}

static void
raw_future_func (gpointer data,
                 gpointer user_data)
{
  RawFuture *future = data;

  g_mutex_lock (&future->mutex);
  future->done = TRUE;
  g_cond_broadcast (&future->cond);
  g_mutex_unlock (&future->mutex);
  latch_count_down ();
  raw_future_unref (future);
}

static double
bench_raw_futures (GThreadPool *pool,
                   guint        n)
{
  gint64 start = g_get_monotonic_time ();
  double cpu_start = cpu_now ();

  latch_arm ((int)n);
  for (guint i = 0; i < n; i++)
    {
      RawFuture *future = raw_future_new ();

      g_thread_pool_push (pool, future, NULL);
      raw_future_unref (future);
    }
  latch_wait ();

  last_cpu = (cpu_now () - cpu_start) / n;
  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

static void
raw_object_func (gpointer data,
                 gpointer user_data)
{
  g_object_unref (data);
  latch_count_down ();
}

/* With @objects, each item carries a bare GObject, created by the
 * submitter and dropped by the worker: what any GObject per item costs on
 * top of the raw pool. Not a target; it tells how much of the gap is
 * GObject's own. */
static double
bench_raw_pool (GThreadPool *pool,
                guint        n,
                gboolean     objects)
{
  gint64 start = g_get_monotonic_time ();
  double cpu_start = cpu_now ();

  latch_arm ((int)n);
  for (guint i = 0; i < n; i++)
    g_thread_pool_push (pool, objects ? g_object_new (G_TYPE_OBJECT, NULL) : GINT_TO_POINTER (1), NULL);
  latch_wait ();

  last_cpu = (cpu_now () - cpu_start) / n;
  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

static void
raw_task_func (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  latch_count_down ();
  g_task_return_boolean (task, TRUE);
}

static double
bench_raw_task (guint n)
{
  gint64 start = g_get_monotonic_time ();
  double ret;

  latch_arm ((int)n);
  for (guint i = 0; i < n; i++)
    {
      GTask *task = g_task_new (NULL, NULL, NULL, NULL);
      g_task_run_in_thread (task, raw_task_func);
      g_object_unref (task);
    }
  latch_wait ();
  ret = (g_get_monotonic_time () - start) * 1000.0 / n;

  /* Let the tasks' completions (idles on this context) free them. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return ret;
}

static double
bench_concurry_task (ConcurryExecutor *executor,
                     guint             n)
{
  double ret = bench_concurry_pool (executor, n);

  while (g_main_context_iteration (NULL, FALSE))
    ;
  return ret;
}

static void
print_ratio (const char *name,
             double      ours,
             const char *base_name,
             double      base,
             double      target)
{
  g_print ("%-22s %8.1f ns/item | %-32s %8.1f ns/item | ratio %.2fx (target <= %.2fx) %s\n",
           name, ours, base_name, base, ours / base, target, ours / base <= target ? "ok" : "MISSED");
}

static long
current_rss_kb (void)
{
  long pages = 0, rss = 0;
  FILE *f = fopen ("/proc/self/statm", "r");

  if (f == NULL)
    return 0;
  if (fscanf (f, "%ld %ld", &pages, &rss) != 2)
    rss = 0;
  fclose (f);
  return rss * (sysconf (_SC_PAGESIZE) / 1024);
}

static void
gate_work (GCancellable  *cancellable,
           GValue        *value,
           gpointer       user_data,
           GError       **error)
{
  GMutex *gate = user_data;

  g_mutex_lock (gate);
  g_mutex_unlock (gate);
}

static int
bench_pending_memory (void)
{
  const guint n = 1000000;
  ConcurryExecutor *executor = concurry_thread_pool_executor_new (1);
  ConcurryFuture **futures = g_new (ConcurryFuture *, n);
  GMutex gate;
  long before, after;

  g_mutex_init (&gate);
  g_mutex_lock (&gate);
  /* The one worker blocks on the gate; everything else stays queued. */
  g_object_unref (concurry_executor_submit (executor, gate_work, &gate, NULL, NULL));

  before = current_rss_kb ();
  for (guint i = 0; i < n; i++)
    futures[i] = concurry_executor_submit (executor, trivial_work, NULL, NULL, NULL);
  after = current_rss_kb ();

  /* The array of pointers is the caller's, not the future's. */
  g_print ("%-22s %8.1f bytes per queued future, the caller's pointer excluded (target <= 160) %s\n",
           "pending futures",
           (after - before) * 1024.0 / n - sizeof (gpointer),
           (after - before) * 1024.0 / n - sizeof (gpointer) <= 160 ? "ok" : "MISSED");

  latch_arm ((int)n);
  g_mutex_unlock (&gate);
  concurry_executor_shutdown (executor, TRUE, FALSE, NULL);
  for (guint i = 0; i < n; i++)
    g_object_unref (futures[i]);
  g_free (futures);
  g_object_unref (executor);
  g_mutex_clear (&gate);

  return 0;
}

/* ---- map over 10 million inputs, in a child process ---- */

typedef struct
{
  guint64 next;
  guint64 end;
} Range;

static gboolean
range_input (GValue   *item,
             gpointer  user_data,
             GError  **error)
{
  Range *range = user_data;

  if (range->next >= range->end)
    return FALSE;
  g_value_init (item, G_TYPE_UINT64);
  g_value_set_uint64 (item, range->next++);
  return TRUE;
}

static void
double_it (const GValue  *item,
           GCancellable  *cancellable,
           GValue        *result,
           gpointer       user_data,
           GError       **error)
{
  g_value_init (result, G_TYPE_UINT64);
  g_value_set_uint64 (result, 2 * g_value_get_uint64 (item));
}

static int
run_map (guint64 n)
{
  ConcurryExecutor *executor = concurry_thread_pool_executor_new (0);
  Range range = { 0, n };
  ConcurryMapResults *results;
  GValue value = G_VALUE_INIT;
  guint64 count = 0, sum = 0;
  gint64 start = g_get_monotonic_time ();
  long peak_kb = 0;
  char line[256];
  FILE *status;

  results = concurry_executor_map (executor, double_it, NULL, NULL, range_input, &range, NULL,
                                   -1, 256, 0, NULL);
  while (concurry_map_results_next (results, &value, NULL))
    {
      sum += g_value_get_uint64 (&value);
      count++;
      g_value_unset (&value);
    }
  g_value_unset (&value);
  g_object_unref (results);
  concurry_executor_shutdown (executor, TRUE, FALSE, NULL);
  g_object_unref (executor);

  /* VmHWM, not getrusage(): ru_maxrss survives exec and would count the
   * parent's pages that the fork shared. */
  status = fopen ("/proc/self/status", "r");
  while (status != NULL && fgets (line, sizeof line, status) != NULL)
    if (g_str_has_prefix (line, "VmHWM:"))
      peak_kb = strtol (line + strlen ("VmHWM:"), NULL, 10);
  if (status != NULL)
    fclose (status);

  g_print ("%-22s %8.1f MB peak RSS for %" G_GUINT64_FORMAT " lazily produced inputs "
           "(%.1f s, chunksize 256; target < 50 MB) %s\n",
           "map", peak_kb / 1024.0, count,
           (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC,
           peak_kb < 50 * 1024 ? "ok" : "MISSED");

  return count == n && sum == n * (n - 1) ? 0 : 1;
}

/* One variant alone, for instruction counts: `valgrind --tool=callgrind
 * bench-executor --only concurry|raw-futures N` and the same with 2N;
 * the difference over N is the cost of one item, start-up excluded. */
static int
run_only (const char *which,
          guint       n,
          guint       workers)
{
  if (g_str_equal (which, "concurry"))
    {
      ConcurryExecutor *executor = concurry_thread_pool_executor_new (workers);

      bench_concurry_pool (executor, n);
      concurry_executor_shutdown (executor, TRUE, FALSE, NULL);
      g_object_unref (executor);
    }
  else if (g_str_equal (which, "raw-futures"))
    {
      GThreadPool *pool = g_thread_pool_new (raw_future_func, NULL, (int)workers, FALSE, NULL);

      bench_raw_futures (pool, n);
      g_thread_pool_free (pool, FALSE, TRUE);
    }
  else
    {
      g_printerr ("--only concurry|raw-futures N\n");
      return 2;
    }
  return 0;
}

int
main (int argc,
      char *argv[])
{
  guint n = 100000;
  guint workers = g_get_num_processors ();
  ConcurryExecutor *pool_executor, *task_executor;
  GThreadPool *raw_pool, *raw_futures_pool, *raw_object_pool;
  double ours = G_MAXDOUBLE, base = G_MAXDOUBLE, objects = G_MAXDOUBLE, futures = G_MAXDOUBLE;
  double ours_cpu = G_MAXDOUBLE, futures_cpu = G_MAXDOUBLE;
  g_autofree char *child_out = NULL;
  int child_status = 0;
  const char *map_argv[] = { argv[0], "--map", NULL };
  const char *pending_argv[] = { argv[0], "--pending", NULL };

  if (argc > 1 && g_str_equal (argv[1], "--map"))
    return run_map (10000000);
  if (argc > 1 && g_str_equal (argv[1], "--pending"))
    return bench_pending_memory ();

  g_mutex_init (&latch.mutex);
  g_cond_init (&latch.cond);

  if (argc > 3 && g_str_equal (argv[1], "--only"))
    return run_only (argv[2], (guint)g_ascii_strtoull (argv[3], NULL, 10), workers);
  if (argc > 1)
    {
      n = (guint)g_ascii_strtoull (argv[1], NULL, 10);
      if (n == 0)
        {
          g_printerr ("Usage: %s [ITEMS]\n"
                      "       %s --only concurry|raw-futures ITEMS   (one variant, for callgrind)\n",
                      argv[0], argv[0]);
          return 2;
        }
    }

  g_print ("concurry %s, GLib %u.%u.%u, %u workers, %u items per run, best of %d\n",
           CONCURRY_VERSION_S, glib_major_version, glib_minor_version, glib_micro_version,
           workers, n, N_ROUNDS);

  pool_executor = concurry_thread_pool_executor_new (workers);
  raw_pool = g_thread_pool_new (raw_pool_func, NULL, (int)workers, FALSE, NULL);
  raw_futures_pool = g_thread_pool_new (raw_future_func, NULL, (int)workers, FALSE, NULL);
  raw_object_pool = g_thread_pool_new (raw_object_func, NULL, (int)workers, FALSE, NULL);
  bench_concurry_pool (pool_executor, n / 10);
  bench_raw_futures (raw_futures_pool, n / 10);
  bench_raw_pool (raw_pool, n / 10, FALSE);
  bench_raw_pool (raw_object_pool, n / 10, TRUE);
  for (guint round = 0; round < N_ROUNDS; round++)
    {
      ours = MIN (ours, bench_concurry_pool (pool_executor, n));
      ours_cpu = MIN (ours_cpu, last_cpu);
      futures = MIN (futures, bench_raw_futures (raw_futures_pool, n));
      futures_cpu = MIN (futures_cpu, last_cpu);
      base = MIN (base, bench_raw_pool (raw_pool, n, FALSE));
      objects = MIN (objects, bench_raw_pool (raw_object_pool, n, TRUE));
    }
  print_ratio ("thread-pool executor", ours, "raw GThreadPool + raw future/item", futures, 1.0);
  g_print ("%-22s %8.1f ns/item | %-32s %8.1f ns/item | ratio %.2fx (CPU time, all threads; target <= 1.00x) %s\n",
           "thread-pool executor", ours_cpu, "raw GThreadPool + raw future/item", futures_cpu,
           ours_cpu / futures_cpu, ours_cpu / futures_cpu <= 1.0 ? "ok" : "MISSED");
  g_print ("%-22s %8.1f ns/item | %-32s %8.1f ns/item | ratio %.2fx (for reference: no future)\n",
           "thread-pool executor", ours, "raw GThreadPool + atomic counter", base, ours / base);
  g_print ("%-22s %8.1f ns/item | %-32s %8.1f ns/item | ratio %.2fx (for reference, no target)\n",
           "thread-pool executor", ours, "raw GThreadPool + GObject/item", objects, ours / objects);

  task_executor = concurry_task_executor_new ();
  ours = base = G_MAXDOUBLE;
  bench_concurry_task (task_executor, n / 10);
  bench_raw_task (n / 10);
  for (guint round = 0; round < N_ROUNDS; round++)
    {
      ours = MIN (ours, bench_concurry_task (task_executor, n));
      base = MIN (base, bench_raw_task (n));
    }
  print_ratio ("GTask executor", ours, "raw g_task_run_in_thread", base, 1.0);

  concurry_executor_shutdown (pool_executor, TRUE, FALSE, NULL);
  concurry_executor_shutdown (task_executor, TRUE, FALSE, NULL);
  g_object_unref (pool_executor);
  g_object_unref (task_executor);
  g_thread_pool_free (raw_pool, FALSE, TRUE);
  g_thread_pool_free (raw_futures_pool, FALSE, TRUE);
  g_thread_pool_free (raw_object_pool, FALSE, TRUE);

  /* In child processes: a fresh heap for the pending futures (no spare
   * futures, no holes left by the runs above), and a peak of its own for
   * map. */
  if (g_spawn_sync (NULL, (char **)pending_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                    &child_out, NULL, &child_status, NULL))
    g_print ("%s", child_out);
  g_clear_pointer (&child_out, g_free);
  if (child_status == 0 &&
      g_spawn_sync (NULL, (char **)map_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                    &child_out, NULL, &child_status, NULL))
    g_print ("%s", child_out);

  return child_status == 0 ? 0 : 1;
}
