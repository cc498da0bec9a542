/* main-context-executor.c: running functions on the main thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A ConcurryMainContextExecutor runs each function it is given from its
 * main context, one at a time, after submit() returned, and hands out the
 * function's future. It is how code on other threads gets something done
 * on the main thread (a GTK widget to update, a JavaScript callback to
 * call), and how a GJS program runs its own functions through the
 * executor API.
 *
 * Here a thread pool hashes four strings; each worker submits a "report"
 * function to the main-context executor, which prints the digest from the
 * main thread. The program checks that every report ran on the main
 * thread, then shuts both executors down.
 */

#include <concurry.h>

#define N_JOBS 4

typedef struct
{
  ConcurryExecutor *main_executor;
  GThread          *main_thread;
  guint             reports_on_main_thread;
  guint             reports;
  GMainLoop        *loop;
} App;

typedef struct
{
  App  *app;
  char *text;
  char *digest;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_free (job->text);
  g_free (job->digest);
  g_free (job);
}

/* Runs on the main thread, from the main loop. */
static void
report (GCancellable  *cancellable,
        GValue        *value,
        gpointer       user_data,
        GError       **error)
{
  Job *job = user_data;
  App *app = job->app;

  g_print ("%-6s %.16s...\n", job->text, job->digest);
  if (g_thread_self () == app->main_thread)
    app->reports_on_main_thread++;
  if (++app->reports == N_JOBS)
    g_main_loop_quit (app->loop);
}

/* Runs on a worker thread of the pool. */
static void
hash (GCancellable  *cancellable,
      GValue        *value,
      gpointer       user_data,
      GError       **error)
{
  Job *job = user_data;
  g_autoptr(ConcurryFuture) reported = NULL;

  job->digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, job->text, -1);

  /* Hand the result to the main thread; the executor owns the job now. */
  reported = concurry_executor_submit (job->app->main_executor, report, job, job_free, error);

  g_value_init (value, G_TYPE_BOOLEAN);
  g_value_set_boolean (value, reported != NULL);
}

int
main (void)
{
  static const char *const texts[N_JOBS] = { "alpha", "beta", "gamma", "delta" };
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryExecutor) main_executor = concurry_main_context_executor_new (NULL);
  g_autoptr(GError) error = NULL;
  App app = { main_executor, g_thread_self (), 0, 0, loop };

  for (guint i = 0; i < N_JOBS; i++)
    {
      Job *job = g_new0 (Job, 1);
      g_autoptr(ConcurryFuture) future = NULL;

      job->app = &app;
      job->text = g_strdup (texts[i]);
      /* The job is freed by the report, not by the hash work. */
      future = concurry_executor_submit (pool, hash, job, NULL, &error);
      if (future == NULL)
        g_error ("%s", error->message);
    }

  g_main_loop_run (loop);

  if (!concurry_executor_shutdown (pool, TRUE, FALSE, &error) ||
      !concurry_executor_shutdown (main_executor, TRUE, FALSE, &error))
    g_error ("%s", error->message);

  g_print ("%u of %u reports ran on the main thread\n", app.reports_on_main_thread, N_JOBS);
  return app.reports_on_main_thread == N_JOBS ? 0 : 1;
}
