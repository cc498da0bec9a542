/* bench-combinators.c: wait, gather and as_completed as N grows
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What is timed, for N = 10^4, 10^5 and 10^6 futures:
 *
 *   wait          concurry_wait (ALL_COMPLETED) over N futures, half of
 *                 them done already, half resolved by another thread once
 *                 the wait has started; then the done set is freed
 *   gather        concurry_gather over N futures already done, waited
 *                 and freed (which releases the inputs)
 *   as_completed  iterating N futures, half done already, half resolved
 *                 by another thread once the iterator is built
 *
 * The target is that each grows linearly with N: 10x more time per 10x
 * more futures, at most 11x. Raw times cannot show that on their own. At
 * 10^4 the futures (about 1.5 MB) fit in the caches, at 10^6 (about
 * 150 MB) they do not, and every input costs a cache and TLB miss: even a
 * loop that only takes a reference on each input, reads its state and
 * drops the reference grows 10-17x per x10 on a small VM.
 *
 * So each combinator is measured against that loop, the baseline: the
 * least any combinator has to do per input (g_object_ref() and
 * concurry_future_is_done(), then in a second pass g_object_unref(), the
 * references held in an array as a combinator holds them). In a round,
 * fresh futures are made, then the baseline and the combinator run over
 * the very same futures, in the same state, one after the other. Before
 * each of the two timed runs the caches are flushed, by reading a 64 MB
 * buffer (more than the last-level cache of usual machines), so that
 * every size starts cold and 10^4 is not unfairly warm.
 *
 * Each figure is the best of 40, 20 and 15 rounds for 10^4, 10^5 and
 * 10^6 (the run takes about 25 s). The rounds are spread over 5 passes
 * through every case and size, rather than run size after size, so that
 * a slow spell of the machine weighs on all sizes alike.
 *
 * With 4 KiB pages, a cold input also costs a TLB miss, and the TLB covers
 * 10^4 futures but not 10^6: so the bench runs with transparent huge pages
 * for malloc's memory (it runs itself again with GLIBC_TUNABLES set to
 * glibc.malloc.hugetlb=1, glibc 2.35 and later, when the kernel allows
 * madvise()d huge pages), as it flushes the caches: to measure how the
 * combinators scale, not how far the TLB reaches. --small-pages runs
 * without, to compare.
 *
 * Printed per combinator: the best times at each N, for concurry and for
 * the baseline, and their raw growth per x10, to which the target (<= 11x)
 * applies; then the growth net of the memory hierarchy, 10 x (our growth /
 * baseline growth): what our growth would be if touching an input cost the
 * same at every N; then the best CPU time at each N (the timed thread's,
 * plus the other thread's from when it is let go) and its growth. On a
 * busy machine, a long run is more likely than a short one to lose time
 * slices to other processes, which inflates the growth of wall times; CPU
 * times do not count those. Last, gather over inputs already done must cost at most
 * 100 ns per input, at 10^6, from flushed caches.
 *
 * The other thread is started before the clock and spins until it is let
 * go, so that thread start-up and wake-up latency stay out of the times;
 * for wait, it is let go by an idle source, which runs once concurry_wait()
 * has registered on every input and blocks iterating the main context.
 * No sleeps: the order of events is fixed, only their speed is measured.
 *
 * Memory freed between rounds stays with malloc (see keep_freed_memory()),
 * so that rounds of 10^6 do not pay for fresh pages that rounds of 10^4
 * never need. For as_completed, the CPU time is also given in parts
 * (building the iterator, iterating, the other thread), and the CPU time
 * the other thread's resolving takes on its own, with nobody waiting on
 * the promises, as a reference; the last lines give the growth against
 * the target.
 *
 * Usage: bench-combinators [--no-flush] [--small-pages] [--give-back] [wait|gather|as_completed...]
 * (--no-flush skips the cache flush, --small-pages the huge pages,
 * --give-back lets malloc give freed memory back, to compare; names
 * select the cases, for instance under perf).
 */

#include <concurry.h>

#include <string.h>
#include <unistd.h>
#include <time.h>
#ifdef __GLIBC__
# include <malloc.h>
#endif

#define N_SIZES    3
#define N_PASSES   5
#define FLUSH_SIZE (64 * 1024 * 1024)

static const guint sizes[N_SIZES] = { 10000, 100000, 1000000 };
/* rounds of each size in each pass: 40, 20 and 15 in all */
static const guint rounds[N_SIZES] = { 8, 4, 3 };

static gboolean flush_caches = TRUE;
static guint8 *flush_buffer;
static volatile guint sink;

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread, in seconds. */
static double
thread_cpu_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The CPU time of the last timed run: the calling thread's during the
 * run, plus the other thread's from when it was let go. On a busy
 * machine the wall time of a long run also counts the time slices given
 * to other processes, which a short run is more likely to escape; this
 * does not. */
static double last_cpu;

/* as_completed's CPU time in parts: building the iterator, iterating
 * (the timed thread), and the other thread once let go. */
enum { PART_BUILD, PART_ITERATE, PART_OTHER, N_PARTS };
static double last_parts[N_PARTS];
static const char * const part_names[N_PARTS] = { "build", "iterate", "other thread" };

/* Reads a buffer larger than the last-level cache: whatever was cached
 * before is gone. */
static void
flush (void)
{
  guint sum = 0;

  if (!flush_caches)
    return;

  if (flush_buffer == NULL)
    {
      flush_buffer = g_malloc (FLUSH_SIZE);
      memset (flush_buffer, 1, FLUSH_SIZE);
    }

  for (gsize i = 0; i < FLUSH_SIZE; i += 64)
    sum += flush_buffer[i];
  sink += sum;
}

/* ---- the other thread ---- */

typedef struct
{
  ConcurryFuture **futures;
  guint            from;
  guint            n;
  gint             go;
  double           cpu;     /* its CPU time from when it was let go */
  GThread         *thread;
} Resolver;

static gpointer
resolver_thread (gpointer data)
{
  Resolver *r = data;

  /* Spins rather than sleeps: no wake-up latency in the times. It yields
   * meanwhile: on a busy machine a thread that only spins would take a
   * core's time slices from whatever else runs, the timed thread too. */
  double start;

  while (!g_atomic_int_get (&r->go))
    g_thread_yield ();

  start = thread_cpu_now ();
  for (guint i = r->from; i < r->n; i++)
    concurry_promise_resolve_int (CONCURRY_PROMISE (r->futures[i]), (int)i);
  r->cpu = thread_cpu_now () - start;

  return NULL;
}

static void
resolver_start (Resolver         *r,
                ConcurryFuture  **futures,
                guint             n)
{
  r->futures = futures;
  r->from = n / 2;
  r->n = n;
  r->go = 0;
  r->cpu = 0;
  r->thread = g_thread_new ("resolver", resolver_thread, r);
}

static gboolean
resolver_go_cb (gpointer data)
{
  Resolver *r = data;

  g_atomic_int_set (&r->go, 1);
  return G_SOURCE_REMOVE;
}

/* ---- the inputs ---- */

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

/* ---- what is timed ---- */

/* The baseline: the least a combinator does with each input. */
static double
run_baseline (ConcurryFuture **futures,
              guint            n)
{
  double cpu_start = thread_cpu_now ();
  double start = now ();
  ConcurryFuture **held = g_new (ConcurryFuture *, n);
  guint n_done = 0;

  for (guint i = 0; i < n; i++)
    {
      held[i] = g_object_ref (futures[i]);
      n_done += concurry_future_is_done (held[i]);
    }
  for (guint i = 0; i < n; i++)
    g_object_unref (held[i]);
  g_free (held);

  sink += n_done;
  last_cpu = thread_cpu_now () - cpu_start;
  return now () - start;
}

static double
run_wait (ConcurryFuture **futures,
          guint            n)
{
  GPtrArray *done = NULL;
  Resolver r;
  double start, elapsed, cpu_start;

  resolver_start (&r, futures, n);
  g_idle_add (resolver_go_cb, &r);

  cpu_start = thread_cpu_now ();
  start = now ();
  g_assert_true (concurry_wait (futures, n, CONCURRY_WAIT_ALL_COMPLETED, -1, &done, NULL));
  g_assert_cmpuint (done->len, ==, n);
  g_ptr_array_unref (done);
  elapsed = now () - start;
  last_cpu = thread_cpu_now () - cpu_start;

  g_thread_join (r.thread);
  last_cpu += r.cpu;
  return elapsed;
}

static double
run_gather (ConcurryFuture **futures,
            guint            n)
{
  double cpu_start = thread_cpu_now ();
  double start = now ();
  ConcurryFuture *all = concurry_gather (futures, n, CONCURRY_GATHER_FLAGS_NONE);

  g_assert_true (concurry_future_wait (all, -1, NULL));
  g_object_unref (all);

  last_cpu = thread_cpu_now () - cpu_start;
  return now () - start;
}

static double
run_as_completed (ConcurryFuture **futures,
                  guint            n)
{
  ConcurryAsCompleted *it;
  ConcurryFuture *f;
  guint count = 0;
  Resolver r;
  double start, elapsed, cpu_start, built;

  resolver_start (&r, futures, n);

  cpu_start = thread_cpu_now ();
  start = now ();
  it = concurry_as_completed (futures, n, -1);
  built = thread_cpu_now ();
  g_atomic_int_set (&r.go, 1);
  while ((f = concurry_as_completed_next (it, NULL)) != NULL)
    {
      count++;
      g_object_unref (f);
    }
  g_object_unref (it);
  elapsed = now () - start;
  last_cpu = thread_cpu_now () - cpu_start;
  last_parts[PART_BUILD] = built - cpu_start;
  last_parts[PART_ITERATE] = last_cpu - last_parts[PART_BUILD];

  g_assert_cmpuint (count, ==, n);
  g_thread_join (r.thread);
  last_cpu += r.cpu;
  last_parts[PART_OTHER] = r.cpu;
  return elapsed;
}

/* For reference, the other thread's work without as_completed: the CPU
 * time to resolve as many fresh promises (half of @n), from flushed
 * caches, with nobody waiting on them. */
static double
run_bare_resolving (guint n)
{
  ConcurryFuture **futures = make_futures (n, FALSE);
  double start;

  flush ();
  start = thread_cpu_now ();
  for (guint i = n / 2; i < n; i++)
    concurry_promise_resolve_int (CONCURRY_PROMISE (futures[i]), (int)i);
  start = thread_cpu_now () - start;
  free_futures (futures, n);

  return start;
}

/* ---- the report ---- */

typedef struct
{
  const char *name;
  const char *what;
  gboolean    all_done;
  double    (*run) (ConcurryFuture **, guint);
  double      ours[N_SIZES];
  double      base[N_SIZES];
  double      ours_cpu[N_SIZES];
  double      base_cpu[N_SIZES];
  double      parts[N_SIZES][N_PARTS];  /* as_completed's, best of each */
  double      bare[N_SIZES];   /* as_completed: bare promises resolved, best */
} Case;

static Case cases[] = {
  { "wait", "concurry_wait (ALL_COMPLETED), half done, half resolved meanwhile",
    FALSE, run_wait },
  { "gather", "concurry_gather, all done, waited and freed",
    TRUE, run_gather },
  { "as_completed", "iterating, half done, half resolved meanwhile",
    FALSE, run_as_completed },
};

/* One round: the baseline, then the combinator, over the same fresh
 * futures, each from flushed caches. */
static void
measure (Case  *c,
         guint  k)
{
  ConcurryFuture **futures = make_futures (sizes[k], c->all_done);
  double t;

  flush ();
  t = run_baseline (futures, sizes[k]);
  c->base[k] = MIN (c->base[k], t);
  c->base_cpu[k] = MIN (c->base_cpu[k], last_cpu);
  flush ();
  t = c->run (futures, sizes[k]);
  c->ours[k] = MIN (c->ours[k], t);
  c->ours_cpu[k] = MIN (c->ours_cpu[k], last_cpu);
  if (c->run == run_as_completed)
    for (guint p = 0; p < N_PARTS; p++)
      c->parts[k][p] = MIN (c->parts[k][p], last_parts[p]);
  free_futures (futures, sizes[k]);

  if (c->run == run_as_completed)
    c->bare[k] = MIN (c->bare[k], run_bare_resolving (sizes[k]));
}

static void
report (const Case *c)
{
  double net[N_SIZES - 1];
  gboolean ok = TRUE;

  g_print ("%s: %s\n", c->name, c->what);
  g_print ("              %10s %10s %10s   growth per x10\n", "10^4", "10^5", "10^6");
  g_print ("  concurry    %8.3f ms %7.2f ms %7.1f ms   %5.1fx %5.1fx\n",
           c->ours[0] * 1e3, c->ours[1] * 1e3, c->ours[2] * 1e3,
           c->ours[1] / c->ours[0], c->ours[2] / c->ours[1]);
  g_print ("  baseline    %8.3f ms %7.2f ms %7.1f ms   %5.1fx %5.1fx\n",
           c->base[0] * 1e3, c->base[1] * 1e3, c->base[2] * 1e3,
           c->base[1] / c->base[0], c->base[2] / c->base[1]);
  for (guint k = 0; k + 1 < N_SIZES; k++)
    {
      net[k] = 10 * (c->ours[k + 1] / c->ours[k]) / (c->base[k + 1] / c->base[k]);
      ok = ok && c->ours[k + 1] / c->ours[k] <= 11;
    }
  g_print ("  %-13s growth per x10: %.1fx, %.1fx (target <= 11x) %s; "
           "net of the baseline's: %.1fx, %.1fx\n",
           c->name, c->ours[1] / c->ours[0], c->ours[2] / c->ours[1], ok ? "ok" : "MISSED",
           net[0], net[1]);
  g_print ("  %-13s CPU time %.3f / %.2f / %.1f ms, growth per x10: %.1fx, %.1fx (target <= 11x) %s; "
           "baseline's %.1fx, %.1fx\n",
           c->name, c->ours_cpu[0] * 1e3, c->ours_cpu[1] * 1e3, c->ours_cpu[2] * 1e3,
           c->ours_cpu[1] / c->ours_cpu[0], c->ours_cpu[2] / c->ours_cpu[1],
           c->ours_cpu[1] / c->ours_cpu[0] <= 11 && c->ours_cpu[2] / c->ours_cpu[1] <= 11
             ? "ok" : "MISSED",
           c->base_cpu[1] / c->base_cpu[0], c->base_cpu[2] / c->base_cpu[1]);
  if (c->run == run_as_completed)
    for (guint p = 0; p < N_PARTS; p++)
      g_print ("    CPU, %-12s %.3f / %.2f / %.1f ms, growth per x10: %.1fx, %.1fx\n",
               part_names[p], c->parts[0][p] * 1e3, c->parts[1][p] * 1e3, c->parts[2][p] * 1e3,
               c->parts[1][p] / c->parts[0][p], c->parts[2][p] / c->parts[1][p]);
}

/* The figure issue 13 asks for, and what it is made of. */
static void
report_verdict (const Case *c)
{
  double wall[2], cpu[2];
  g_autofree char *loadavg = NULL;

  for (guint k = 0; k + 1 < N_SIZES; k++)
    {
      wall[k] = c->ours[k + 1] / c->ours[k];
      cpu[k] = c->ours_cpu[k + 1] / c->ours_cpu[k];
    }

  if (g_file_get_contents ("/proc/loadavg", &loadavg, NULL, NULL))
    {
      char *end = loadavg;

      /* The first three fields: the load over 1, 5 and 15 minutes. */
      for (guint n = 0; *end != '\0' && (n < 3); end++)
        n += *end == ' ';
      if (end > loadavg)
        end[-1] = '\0';
    }
  g_print ("\n%s: growth per x10 of N, 10^4 to 10^5 and 10^5 to 10^6 (target <= 11x)\n"
           "  CPU time   %5.1fx %5.1fx  %s\n"
           "  wall time  %5.1fx %5.1fx  %s  (load average %s: a long run loses more time\n"
           "                            slices to other processes than a short one)\n"
           "  The CPU time counts the other thread's resolving of its promises too; on its\n"
           "  own (the same number of promises, nobody waiting) that grows %.1fx, %.1fx.\n",
           c->name,
           cpu[0], cpu[1], cpu[0] <= 11 && cpu[1] <= 11 ? "ok" : "MISSED",
           wall[0], wall[1], wall[0] <= 11 && wall[1] <= 11 ? "ok" : "MISSED",
           loadavg != NULL ? loadavg : "unknown",
           c->bare[1] / c->bare[0], c->bare[2] / c->bare[1]);
}

#define HUGE_PAGES_TUNABLE "glibc.malloc.hugetlb=1"

/* Whether malloc's memory may be in huge pages: runs the bench again with
 * the glibc tunable that asks for them, unless it is set already. */
static gboolean
use_huge_pages (char **argv)
{
  const char *tunables = g_getenv ("GLIBC_TUNABLES");
  g_autofree char *thp = NULL;
  g_autofree char *with_huge_pages = NULL;

  if (!g_file_get_contents ("/sys/kernel/mm/transparent_hugepage/enabled", &thp, NULL, NULL) ||
      (strstr (thp, "[madvise]") == NULL && strstr (thp, "[always]") == NULL))
    return FALSE;
  if (tunables != NULL && strstr (tunables, HUGE_PAGES_TUNABLE) != NULL)
    return TRUE;

  with_huge_pages = tunables != NULL && *tunables != '\0'
    ? g_strconcat (tunables, ":" HUGE_PAGES_TUNABLE, NULL)
    : g_strdup (HUGE_PAGES_TUNABLE);
  g_setenv ("GLIBC_TUNABLES", with_huge_pages, TRUE);
  execv ("/proc/self/exe", argv);

  /* Could not run again: go on as we are. */
  return FALSE;
}

/* Keeps the memory the rounds free in the process, unless @give_back;
 * returns whether it does. By default malloc gives the top of its heap
 * back to the system once more than a threshold is free there: that
 * happens between the rounds of 10^6 (each frees its 85 MB of futures),
 * not between those of 10^4, whose memory stays below the threshold.
 * Every round of 10^6 would then pay the kernel for fresh pages (faulted
 * in and zeroed) for whatever it allocates, and those of 10^4 would not:
 * the growth would measure the heap's trimming, not the code. Kept, all
 * sizes run in a heap that already holds the memory, as in a program
 * that has been running for a while. (--give-back measures the other
 * way, to compare.) */
static gboolean
keep_freed_memory (gboolean give_back)
{
#ifdef __GLIBC__
  if (give_back)
    return FALSE;
  /* No trimming of the heap, and no allocation in a mapping of its own
   * (whose pages go back to the system when freed) up to 32 MB. */
  return mallopt (M_TRIM_THRESHOLD, G_MAXINT) == 1 &&
         mallopt (M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1;
#else
  return FALSE;
#endif
}

int
main (int argc,
      char *argv[])
{
  gboolean selected[G_N_ELEMENTS (cases)] = { FALSE, };
  gboolean any_selected = FALSE;
  gboolean small_pages = FALSE;
  gboolean give_back = FALSE;
  gboolean huge_pages;

  for (int i = 1; i < argc; i++)
    {
      gboolean known = FALSE;

      if (g_str_equal (argv[i], "--no-flush"))
        {
          flush_caches = FALSE;
          continue;
        }
      if (g_str_equal (argv[i], "--small-pages"))
        {
          small_pages = TRUE;
          continue;
        }
      if (g_str_equal (argv[i], "--give-back"))
        {
          give_back = TRUE;
          continue;
        }
      for (guint j = 0; j < G_N_ELEMENTS (cases); j++)
        if (g_str_equal (argv[i], cases[j].name))
          known = selected[j] = any_selected = TRUE;
      if (!known)
        {
          g_printerr ("Usage: %s [--no-flush] [--small-pages] [--give-back] [wait|gather|as_completed...]\n",
                      argv[0]);
          return 2;
        }
    }

  huge_pages = !small_pages && use_huge_pages (argv);
  give_back = !keep_freed_memory (give_back);

  g_print ("concurry %s, GLib %u.%u.%u, caches %s before each timed run, %s, "
           "freed memory %s; best of %u/%u/%u rounds\n",
           CONCURRY_VERSION_S, glib_major_version, glib_minor_version, glib_micro_version,
           flush_caches ? "flushed" : "not flushed",
           huge_pages ? "huge pages (" HUGE_PAGES_TUNABLE ")" : "4 KiB pages",
           give_back ? "given back to the system" : "kept by malloc",
           N_PASSES * rounds[0], N_PASSES * rounds[1], N_PASSES * rounds[2]);

  for (guint j = 0; j < G_N_ELEMENTS (cases); j++)
    for (guint k = 0; k < N_SIZES; k++)
      {
        cases[j].ours[k] = cases[j].base[k] =
          cases[j].ours_cpu[k] = cases[j].base_cpu[k] = G_MAXDOUBLE;
        for (guint p = 0; p < N_PARTS; p++)
          cases[j].parts[k][p] = G_MAXDOUBLE;
        cases[j].bare[k] = G_MAXDOUBLE;
      }

  /* Passes over every case and size, rather than all the rounds of one
   * after the other: a slow spell of the machine then weighs on all of
   * them alike instead of on one size. */
  for (guint pass = 0; pass < N_PASSES; pass++)
    for (guint j = 0; j < G_N_ELEMENTS (cases); j++)
      if (!any_selected || selected[j])
        for (guint k = 0; k < N_SIZES; k++)
          for (guint round = 0; round < rounds[k]; round++)
            measure (&cases[j], k);

  for (guint j = 0; j < G_N_ELEMENTS (cases); j++)
    {
      if (any_selected && !selected[j])
        continue;
      report (&cases[j]);

      /* gather over inputs that are all done, per input, at 10^6 */
      if (cases[j].run == run_gather)
        {
          double ns = cases[j].ours[N_SIZES - 1] * 1e9 / sizes[N_SIZES - 1];

          g_print ("  %-13s %.1f ns per input already done (target <= 100 ns) %s; "
                   "baseline %.1f ns\n",
                   "gather", ns, ns <= 100 ? "ok" : "MISSED",
                   cases[j].base[N_SIZES - 1] * 1e9 / sizes[N_SIZES - 1]);
        }
    }

  for (guint j = 0; j < G_N_ELEMENTS (cases); j++)
    if (cases[j].run == run_as_completed && (!any_selected || selected[j]))
      report_verdict (&cases[j]);

  g_free (flush_buffer);

  return 0;
}
