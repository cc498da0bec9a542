/* bench-task-manager.c: the task manager next to its bare executor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * In one run:
 *
 *   overhead       N trivial tasks submitted through a ConcurryTaskManager
 *                  and waited for, vs the same N submitted to the same
 *                  ConcurryThreadPoolExecutor directly (one future each)
 *                  and waited for. After a warm-up, N_ROUNDS rounds, each
 *                  timing both side by side (in alternating order); the
 *                  figure is the median of the rounds' ratios (each round's
 *                  two runs see the same load on a shared machine), with
 *                  the median times. Goal: at most 1.2x. Then the same work
 *                  as a lazy map: the executor's own map vs the manager's.
 *                  Nothing is freed inside a timed run: both sides keep
 *                  what submit returned (futures, tasks) and drop it after
 *                  the run, and a round waits until the manager and its
 *                  tasks are gone before the next run. Every run starts
 *                  the same way, with the executor's store of spare
 *                  futures empty (see start_the_same_way()). With
 *                  CONCURRY_BENCH_ROUNDS set, every round is printed.
 *                  Also printed: CPU time (all threads), the CPU time of
 *                  the submitting loop itself, and what the manager adds
 *                  per task in CPU time. A task is the executor's queued
 *                  item and its future: both sides make one object per
 *                  submission, and the difference is the manager's own
 *                  work (numbering, the clock, counting). On a machine
 *                  whose other core is busy, everything runs on one core
 *                  and the CPU time is the wall time; on an idle one the
 *                  workers run beside the submitting thread and the bare
 *                  executor costs more CPU time (cache lines move between
 *                  the cores), so the ratios differ between the two.
 *   notifications  how many property notifications and list-model changes
 *                  the main loop receives per second while a million quick
 *                  tasks finish, per signal, as intervals between emissions
 *                  over the time they span. Goal: at most 60 per second.
 *   map            a map over 10^9 lazily produced inputs (keep-completed
 *                  off), run over a bounded prefix: RSS sampled as it goes,
 *                  then the peak. Goal: under 50 MB, and flat.
 *
 *                  The whole comparison runs in N_PROCESSES processes in
 *                  turn, and the median of their ratios is the figure
 *                  (see overhead_in_processes()).
 *
 *   bench-task-manager [N]        (default N = 100000)
 *   bench-task-manager N overhead | overhead-once | notifications | map
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <concurry.h>

#ifdef __GLIBC__
# include <malloc.h>
#endif

#define N_ROUNDS 9
#define N_PROCESSES 5
#define N_WORKERS 4
#define MAP_WINDOW 256   /* max-in-flight of the map: trivial tasks need a wide one */

/* A timed run: wall-clock time, returned, and the CPU time of the whole
 * process (this thread and the workers), kept in last_cpu. On a shared
 * machine the CPU time hardly depends on what else runs. */
static gint64 timer_wall;
static gint64 timer_cpu;
static double last_cpu;
static double last_submit_cpu;   /* the submitting loop's own CPU time */

static gint64
thread_cpu_nsec (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * (gint64)1000000000 + ts.tv_nsec;
}

static gint64
cpu_usec (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
timer_start (void)
{
  timer_cpu = cpu_usec ();
  timer_wall = g_get_monotonic_time ();
}

static double
timer_stop (void)
{
  gint64 wall = g_get_monotonic_time () - timer_wall;

  last_cpu = (cpu_usec () - timer_cpu) / 1e6;
  return wall / 1e6;
}

static const char *
verdict (gboolean met)
{
  return met ? "met" : "NOT MET";
}

static void
trivial_work (GCancellable  *cancellable,
              GValue        *value,
              gpointer       user_data,
              GError       **error)
{
}

static void
trivial_map (const GValue  *item,
             GCancellable  *cancellable,
             GValue        *result,
             gpointer       user_data,
             GError       **error)
{
}

/* The same starting point for every timed run. An executor keeps the
 * futures of finished work that nobody holds any more (up to 32768) and
 * reuses them for its next submissions instead of making new ones: the
 * task manager's runs leave many (the futures of its tasks' work go back),
 * the bare executor's none (the bench holds all its futures). Left alone,
 * a run would make fewer objects after the first kind than after the
 * second, and the rounds alternate. So before each run the store is
 * emptied, whichever run came before: work whose futures are held takes
 * every spare future, and the futures are dropped once the executor let go
 * of them (then they are freed, not kept). Each run makes every object it
 * needs, as a program's first burst of work does. */
#define N_DRAIN 40000

static void
drain_spare_futures (ConcurryExecutor *pool)
{
  ConcurryFuture **futures = g_new (ConcurryFuture *, N_DRAIN);

  for (guint i = 0; i < N_DRAIN; i++)
    futures[i] = concurry_executor_submit (pool, trivial_work, NULL, NULL, NULL);
  for (guint i = 0; i < N_DRAIN; i++)
    concurry_future_wait (futures[i], -1, NULL);
  /* The workers let go of the last ones as they find the queue empty: a
   * future still held by a worker when we drop ours would be kept, and the
   * next run would take it instead of making one (and be cheaper for it,
   * depending on timing). */
  for (guint i = 0; i < N_DRAIN; i++)
    {
      while (g_atomic_int_get (&G_OBJECT (futures[i])->ref_count) > 1)
        g_usleep (100);
      g_object_unref (futures[i]);
    }
  g_free (futures);
}

static void start_the_same_way (ConcurryExecutor *pool);

static double
bare_executor (ConcurryExecutor *pool,
               guint             n)
{
  ConcurryFuture **futures = g_new (ConcurryFuture *, n);
  double elapsed;

  gint64 submit_cpu;

  start_the_same_way (pool);
  timer_start ();
  submit_cpu = thread_cpu_nsec ();
  for (guint i = 0; i < n; i++)
    futures[i] = concurry_executor_submit (pool, trivial_work, NULL, NULL, NULL);
  last_submit_cpu = (thread_cpu_nsec () - submit_cpu) / 1e9;
  for (guint i = 0; i < n; i++)
    concurry_future_wait (futures[i], -1, NULL);
  elapsed = timer_stop ();

  for (guint i = 0; i < n; i++)
    g_object_unref (futures[i]);
  g_free (futures);

  return elapsed;
}

/* Drops the last reference to @manager and waits until it is finalized:
 * the executor's workers may hold it a little longer, and the tasks it
 * keeps must not be freed during the next timed run. */
static void
drop_manager (ConcurryTaskManager *manager)
{
  gpointer weak = manager;

  /* the workers let go of it shortly after the wait; then its tasks
   * are freed on this thread, where the next run allocates them again */
  while (g_atomic_int_get (&G_OBJECT (manager)->ref_count) > 1)
    g_usleep (100);
  g_object_add_weak_pointer (G_OBJECT (manager), &weak);
  g_object_unref (manager);
  while (g_atomic_pointer_get (&weak) != NULL)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (100);
    }
  /* its publication source, if it was pending */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* The allocator too: a run allocates its objects (futures of 112 bytes,
 * tasks of about twice that) where the objects of the same size freed
 * last lie, which the thread may still have in its caches. Emptying the
 * executor's store of spare futures (above) frees 40000 futures just
 * before the run, which used to favour the bare executor's run and the
 * task manager's run that followed another (not one that followed the
 * bare executor's): the rounds alternate, so the manager's rounds were
 * of two kinds, 30% apart. Every run now starts after the same steps:
 * as many tasks made and freed, then the futures. */
static void
start_the_same_way (ConcurryExecutor *pool)
{
  ConcurryTaskManager *manager = concurry_task_manager_new (pool, CONCURRY_ERROR_POLICY_RAISE);

  concurry_task_manager_set_monitor_interval (manager, 0);
  for (guint i = 0; i < N_DRAIN; i++)
    g_object_unref (concurry_task_manager_submit (manager, trivial_work, NULL, NULL, NULL));
  concurry_task_manager_wait (manager, -1, NULL);
  drop_manager (manager);
  drain_spare_futures (pool);
}

static double
through_manager (ConcurryExecutor *pool,
                 guint             n)
{
  ConcurryTaskManager *manager = concurry_task_manager_new (pool, CONCURRY_ERROR_POLICY_RAISE);
  ConcurryTask **tasks = g_new (ConcurryTask *, n);
  double elapsed;
  gint64 submit_cpu;

  concurry_task_manager_set_monitor_interval (manager, 0);
  start_the_same_way (pool);
  timer_start ();
  submit_cpu = thread_cpu_nsec ();
  for (guint i = 0; i < n; i++)
    tasks[i] = concurry_task_manager_submit (manager, trivial_work, NULL, NULL, NULL);
  last_submit_cpu = (thread_cpu_nsec () - submit_cpu) / 1e9;
  concurry_task_manager_wait (manager, -1, NULL);
  elapsed = timer_stop ();
  for (guint i = 0; i < n; i++)
    g_object_unref (tasks[i]);
  g_free (tasks);

  drop_manager (manager);

  return elapsed;
}

/* The same comparison for a lazily read input: the executor's own map
 * (results in order) vs the manager's map (tasks; keep-completed off). */

typedef struct
{
  guint64 next;
  guint64 end;
} Range;

static gboolean
range_next (GValue   *item,
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

static double
bare_map (ConcurryExecutor *pool,
          guint             n)
{
  Range range = { 0, n };
  GValue value = G_VALUE_INIT;
  ConcurryMapResults *results;
  double elapsed;

  start_the_same_way (pool);
  timer_start ();
  results = concurry_executor_map (pool, trivial_map, NULL, NULL, range_next, &range, NULL,
                                   -1, 1, MAP_WINDOW, NULL);
  while (concurry_map_results_next (results, &value, NULL))
    if (G_IS_VALUE (&value))
      g_value_unset (&value);
  elapsed = timer_stop ();
  g_object_unref (results);

  return elapsed;
}

static double
manager_map (ConcurryExecutor *pool,
             guint             n)
{
  ConcurryTaskManager *manager = concurry_task_manager_new (pool, CONCURRY_ERROR_POLICY_RAISE);
  Range range = { 0, n };
  double elapsed;

  concurry_task_manager_set_monitor_interval (manager, 0);
  concurry_task_manager_set_keep_completed (manager, FALSE);
  concurry_task_manager_set_max_in_flight (manager, MAP_WINDOW);
  start_the_same_way (pool);
  timer_start ();
  concurry_task_manager_map (manager, trivial_map, NULL, NULL, range_next, &range, NULL, n, NULL);
  concurry_task_manager_wait (manager, -1, NULL);
  elapsed = timer_stop ();
  drop_manager (manager);

  return elapsed;
}

/* -- notifications -- */

/* The times of a signal's emissions: their rate is the number of
 * intervals over the time they span (counting emissions over the whole run
 * would count one too many: n emissions make n - 1 intervals). */
typedef struct
{
  guint  n;
  gint64 first;
  gint64 last;
} Emissions;

static void
emitted (Emissions *emissions)
{
  gint64 now = g_get_monotonic_time ();

  if (emissions->n++ == 0)
    emissions->first = now;
  emissions->last = now;
}

static double
emission_rate (const Emissions *emissions)
{
  if (emissions->n < 2 || emissions->last == emissions->first)
    return 0.0;
  return (emissions->n - 1) / ((emissions->last - emissions->first) / 1e6);
}

typedef struct
{
  guint     n_notify;
  guint     n_fraction;
  guint     n_items_changed;
  Emissions fraction;
  Emissions items_changed;
} Counts;

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           Counts     *counts)
{
  counts->n_notify++;
  if (g_str_equal (pspec->name, "fraction"))
    {
      counts->n_fraction++;
      emitted (&counts->fraction);
    }
}

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Counts     *counts)
{
  counts->n_items_changed++;
  emitted (&counts->items_changed);
}

static void
notifications (ConcurryExecutor *pool,
               guint             n)
{
  ConcurryTaskManager *manager = concurry_task_manager_new (pool, CONCURRY_ERROR_POLICY_RAISE);
  Counts counts = { 0, };
  gint64 start, elapsed;
  double rate;

  concurry_task_manager_set_monitor_interval (manager, 0);
  g_signal_connect (manager, "notify", G_CALLBACK (on_notify), &counts);
  g_signal_connect (manager, "items-changed", G_CALLBACK (on_items_changed), &counts);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_object_unref (concurry_task_manager_submit (manager, trivial_work, NULL, NULL, NULL));
      /* a main loop that runs while the work goes on */
      if (i % 64 == 0)
        g_main_context_iteration (NULL, FALSE);
    }
  while (concurry_task_manager_get_running (manager) ||
         g_list_model_get_n_items (G_LIST_MODEL (manager)) < n)
    g_main_context_iteration (NULL, TRUE);
  elapsed = g_get_monotonic_time () - start;

  rate = MAX (emission_rate (&counts.fraction), emission_rate (&counts.items_changed));
  printf ("notifications  %u tasks in %.2f s: %u notify emissions (%.1f/s over all properties), "
          "fraction %u (%.1f/s), items-changed %u (%.1f/s)   goal <= 60/s per signal: %s\n",
          n, elapsed / 1e6, counts.n_notify, counts.n_notify / (elapsed / 1e6),
          counts.n_fraction, emission_rate (&counts.fraction),
          counts.n_items_changed, emission_rate (&counts.items_changed),
          verdict (rate <= 60.0));

  g_signal_handlers_disconnect_by_data (manager, &counts);
  g_object_unref (manager);
}

/* -- memory -- */

static long
status_kb (const char *field)
{
  char *contents = NULL;
  long ret = -1;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &contents, NULL, NULL))
    return -1;
  line = strstr (contents, field);
  if (line != NULL)
    ret = strtol (line + strlen (field), NULL, 10);
  g_free (contents);
  return ret;
}

static void
map_memory (ConcurryExecutor *pool,
            guint64           prefix)
{
  ConcurryTaskManager *manager = concurry_task_manager_new (pool, CONCURRY_ERROR_POLICY_RAISE);
  Range range = { 0, 1000000000 };
  guint64 step = prefix / 8;
  long first = -1, last = -1, peak;
  gint64 start = g_get_monotonic_time ();

  concurry_task_manager_set_monitor_interval (manager, 0);
  concurry_task_manager_set_keep_completed (manager, FALSE);
  concurry_task_manager_set_max_in_flight (manager, MAP_WINDOW);
  concurry_task_manager_map (manager, trivial_map, NULL, NULL, range_next, &range, NULL,
                             range.end, NULL);

  printf ("map            10^9 lazy inputs, keep-completed off, max-in-flight %d; RSS after "
          "each %" G_GUINT64_FORMAT " tasks (MB):", MAP_WINDOW, step);
  for (guint64 mark = step; mark <= prefix; mark += step)
    {
      /* waiting reads the input as tasks finish */
      while (concurry_task_manager_get_n_completed (manager) < mark)
        concurry_task_manager_wait (manager, 10000, NULL);
      last = status_kb ("VmRSS:");
      if (first < 0)
        first = last;
      printf (" %.1f", last / 1024.0);
      fflush (stdout);
    }
  concurry_task_manager_cancel (manager);
  concurry_task_manager_wait (manager, -1, NULL);
  peak = status_kb ("VmHWM:");
  /* flat: what the last 7/8 of the prefix added, at most 1 MB */
  printf ("\n               %" G_GUINT64_FORMAT " of 10^9 inputs read in %.1f s; RSS %.1f MB "
          "-> %.1f MB (%s), peak RSS %.1f MB   goal < 50 MB and flat: %s\n",
          range.next, (g_get_monotonic_time () - start) / 1e6,
          first / 1024.0, last / 1024.0, last - first <= 1024 ? "flat" : "GROWING",
          peak / 1024.0, verdict (peak < 50 * 1024 && last - first <= 1024));

  g_object_unref (manager);
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

static double
median (double *values,
        guint   n)
{
  qsort (values, n, sizeof *values, compare_doubles);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

typedef double (*Run) (ConcurryExecutor *pool,
                       guint             n);

typedef struct
{
  double bare;          /* median wall-clock times */
  double manager;
  double ratio;         /* median of the rounds' wall-clock ratios */
  double cpu_bare;      /* the same in CPU time */
  double cpu_manager;
  double cpu_ratio;
  double submit_bare;   /* median CPU time of the submitting loop */
  double submit_manager;
} Comparison;

/* Times @bare and @manager side by side, N_ROUNDS times after a warm-up. */
static void
side_by_side (ConcurryExecutor *pool,
              guint             n,
              Run               bare,
              Run               manager,
              Comparison       *result)
{
  double bare_times[N_ROUNDS], manager_times[N_ROUNDS], ratios[N_ROUNDS];
  double cpu_bare[N_ROUNDS], cpu_manager[N_ROUNDS], cpu_ratios[N_ROUNDS];
  double submit_bare[N_ROUNDS], submit_manager[N_ROUNDS];

  /* warm up: threads, allocator, caches */
  bare (pool, n);
  manager (pool, n);

  for (guint round = 0; round < N_ROUNDS; round++)
    {
      if (round % 2 == 0)
        {
          bare_times[round] = bare (pool, n);
          cpu_bare[round] = last_cpu;
          submit_bare[round] = last_submit_cpu;
          manager_times[round] = manager (pool, n);
          cpu_manager[round] = last_cpu;
          submit_manager[round] = last_submit_cpu;
        }
      else
        {
          manager_times[round] = manager (pool, n);
          cpu_manager[round] = last_cpu;
          submit_manager[round] = last_submit_cpu;
          bare_times[round] = bare (pool, n);
          cpu_bare[round] = last_cpu;
          submit_bare[round] = last_submit_cpu;
        }
      ratios[round] = manager_times[round] / bare_times[round];
      cpu_ratios[round] = cpu_manager[round] / cpu_bare[round];
      if (g_getenv ("CONCURRY_BENCH_ROUNDS") != NULL)
        printf ("  round %u: bare %.1f ms (submit %.0f ns/task), manager %.1f ms (submit %.0f ns/task): %.2fx\n",
                round, bare_times[round] * 1e3, submit_bare[round] * 1e9 / n,
                manager_times[round] * 1e3, submit_manager[round] * 1e9 / n, ratios[round]);
    }

  result->ratio = median (ratios, N_ROUNDS);
  result->bare = median (bare_times, N_ROUNDS);
  result->manager = median (manager_times, N_ROUNDS);
  result->cpu_ratio = median (cpu_ratios, N_ROUNDS);
  result->cpu_bare = median (cpu_bare, N_ROUNDS);
  result->cpu_manager = median (cpu_manager, N_ROUNDS);
  result->submit_bare = median (submit_bare, N_ROUNDS);
  result->submit_manager = median (submit_manager, N_ROUNDS);
}

/* Keeps the memory the runs free in the process: by default malloc gives
 * the top of its heap back to the system once enough is free there, and
 * whether a run then pays the kernel for fresh pages (faulted in and
 * zeroed) depends on what the run before it freed, and how: the bare
 * executor's futures and the manager's tasks are not of one size. Kept,
 * both kinds of run allocate from a heap that already holds the memory,
 * as in a program that has been running for a while. */
static void
keep_freed_memory (void)
{
#ifdef __GLIBC__
  mallopt (M_TRIM_THRESHOLD, G_MAXINT);
  mallopt (M_MMAP_THRESHOLD, 32 * 1024 * 1024);
#endif
}

static void
overhead (ConcurryExecutor *pool,
          guint             n)
{
  Comparison c;

  keep_freed_memory ();

  side_by_side (pool, n, bare_executor, through_manager, &c);
  printf ("overhead       %u trivial tasks, %d workers, median of %d rounds: bare executor "
          "%.1f ms (%.0f ns/task), task manager %.1f ms (%.0f ns/task): %.2fx   "
          "goal <= 1.2x: %s\n"
          "               in CPU time (all threads): bare executor %.0f ns/task, task manager "
          "%.0f ns/task: %.2fx\n",
          n, N_WORKERS, N_ROUNDS, c.bare * 1e3, c.bare * 1e9 / n,
          c.manager * 1e3, c.manager * 1e9 / n, c.ratio, verdict (c.ratio <= 1.2),
          c.cpu_bare * 1e9 / n, c.cpu_manager * 1e9 / n, c.cpu_ratio);
  printf ("               on the submitting thread (CPU): executor submit %.0f ns/task, task "
          "manager submit %.0f ns/task; the manager's own work: %.0f ns of CPU time per task\n",
          c.submit_bare * 1e9 / n, c.submit_manager * 1e9 / n,
          (c.cpu_manager - c.cpu_bare) * 1e9 / n);

  /* for the parent: see overhead_in_processes() */
  printf ("#ratios %f %f\n", c.ratio, c.cpu_ratio);

  side_by_side (pool, n, bare_map, manager_map, &c);
  printf ("               the same as a lazy map (window %d): executor map %.1f ms "
          "(%.0f ns/item), task manager map %.1f ms (%.0f ns/item): %.2fx (CPU time %.2fx)\n",
          MAP_WINDOW, c.bare * 1e3, c.bare * 1e9 / n, c.manager * 1e3, c.manager * 1e9 / n,
          c.ratio, c.cpu_ratio);
}

/* The comparison in N_PROCESSES processes, one after the other, and the
 * median of their ratios. Within a process, the rounds agree to a few
 * percent; between processes on a shared two-core machine, the same build
 * gave ratios from 0.9x to 1.9x (the bare executor alone took from 160 to
 * 360 ns per task), depending on where the kernel put the five threads.
 * One process's figure is a draw from that spread. */
static void
overhead_in_processes (const char *self,
                       guint       n)
{
  char *n_text = g_strdup_printf ("%u", n);
  const char *child[] = { self, n_text, "overhead-once", NULL };
  double ratios[N_PROCESSES], cpu_ratios[N_PROCESSES], ratio;
  guint n_done = 0;

  for (guint i = 0; i < N_PROCESSES; i++)
    {
      g_autofree char *out = NULL;
      g_auto(GStrv) lines = NULL;

      if (!g_spawn_sync (NULL, (char **)child, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                         &out, NULL, NULL, NULL))
        continue;
      lines = g_strsplit (out, "\n", -1);
      for (guint l = 0; lines[l] != NULL; l++)
        {
          if (sscanf (lines[l], "#ratios %lf %lf", &ratios[n_done], &cpu_ratios[n_done]) == 2)
            n_done++;
          else if (lines[l][0] != '\0')
            printf ("%s\n", lines[l]);
        }
      fflush (stdout);
    }
  g_free (n_text);
  if (n_done == 0)
    return;

  printf ("overhead       in %u processes, per process (time): ", n_done);
  for (guint i = 0; i < n_done; i++)
    printf ("%.2fx ", ratios[i]);
  ratio = median (ratios, n_done);
  printf ("\n               median: %.2fx in time, %.2fx in CPU time   goal <= 1.2x: %s\n",
          ratio, median (cpu_ratios, n_done), verdict (ratio <= 1.2));
}

int
main (int   argc,
      char *argv[])
{
  guint n = argc > 1 ? (guint)atoi (argv[1]) : 100000;
  const char *only = argc > 2 ? argv[2] : NULL;
  ConcurryExecutor *pool = concurry_thread_pool_executor_new (N_WORKERS);

  if (only == NULL || g_str_equal (only, "overhead"))
    overhead_in_processes (argv[0], n);
  else if (g_str_equal (only, "overhead-once"))
    overhead (pool, n);
  if (only == NULL || g_str_equal (only, "notifications"))
    notifications (pool, 10 * n);
  if (only == NULL)
    {
      /* in a process of its own, so that its peak RSS is its own */
      char *n_text = g_strdup_printf ("%u", n);
      const char *child[] = { argv[0], n_text, "map", NULL };

      fflush (stdout);
      g_spawn_sync (NULL, (char **)child, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                    NULL, NULL, NULL, NULL);
      g_free (n_text);
    }
  else if (g_str_equal (only, "map"))
    map_memory (pool, 20 * (guint64)n);

  concurry_executor_shutdown (pool, TRUE, FALSE, NULL);
  g_object_unref (pool);

  return 0;
}
