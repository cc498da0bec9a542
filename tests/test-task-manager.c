/* test-task-manager.c: the task manager over an executor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <concurry.h>

#include "test-gate.h"

/* -- helpers -- */

/* Work: returns twice its input (an int), or fails for negative inputs;
 * passes the gate first if one is given. */
static void
double_work (const GValue  *item,
             GCancellable  *cancellable,
             GValue        *result,
             gpointer       user_data,
             GError       **error)
{
  Gate *gate = user_data;
  int n = g_value_get_int (item);

  if (gate != NULL)
    gate_pass (gate);
  if (n < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad input %d", n);
      return;
    }
  g_value_init (result, G_TYPE_INT);
  g_value_set_int (result, 2 * n);
}

static void
answer_work (GCancellable  *cancellable,
             GValue        *value,
             gpointer       user_data,
             GError       **error)
{
  g_value_init (value, G_TYPE_INT);
  g_value_set_int (value, 42);
}

static void
gated_work (GCancellable  *cancellable,
            GValue        *value,
            gpointer       user_data,
            GError       **error)
{
  gate_pass (user_data);
}

static void
failing_work (GCancellable  *cancellable,
              GValue        *value,
              gpointer       user_data,
              GError       **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "no way");
}

static void
gated_failing_work (GCancellable  *cancellable,
                    GValue        *value,
                    gpointer       user_data,
                    GError       **error)
{
  gate_pass (user_data);
  failing_work (cancellable, value, NULL, error);
}

/* An input of ints 0, 1, ... n - 1, counting how many were read; an
 * entry of @fail_at < n makes that item negative (its task fails). */
typedef struct
{
  int  n;
  int  fail_at;
  int  n_read;
  int  error_at;       /* the input itself fails there */
  gboolean freed;
} Counter;

static gboolean
counter_next (GValue   *item,
              gpointer  user_data,
              GError  **error)
{
  Counter *counter = user_data;

  if (counter->n_read == counter->error_at)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "input broke");
      return FALSE;
    }
  if (counter->n_read >= counter->n)
    return FALSE;
  g_value_init (item, G_TYPE_INT);
  g_value_set_int (item, counter->n_read == counter->fail_at ? -1 : counter->n_read);
  counter->n_read++;
  return TRUE;
}

static void
counter_free (gpointer data)
{
  ((Counter *)data)->freed = TRUE;
}

static void
counter_init (Counter *counter,
              int      n)
{
  counter->n = n;
  counter->fail_at = -1;
  counter->error_at = -1;
  counter->n_read = 0;
  counter->freed = FALSE;
}

/* Iterates the default context until nothing is pending: the manager's
 * publication is either done or scheduled, and a scheduled one is due
 * within a 60th of a second. */
static void
flush_main_context (ConcurryTaskManager *manager)
{
  guint64 submitted = concurry_task_manager_get_n_submitted (manager);
  guint64 completed = concurry_task_manager_get_n_completed (manager);
  guint64 got_submitted, got_completed;

  for (;;)
    {
      g_object_get (manager, "n-submitted", &got_submitted, "n-completed", &got_completed, NULL);
      if (g_list_model_get_n_items (G_LIST_MODEL (manager)) >= completed &&
          got_submitted == submitted && got_completed == completed)
        break;
      g_main_context_iteration (NULL, TRUE);
    }
}

/* -- log capture -- */

typedef struct
{
  GMutex     mutex;
  GPtrArray *failures;     /* "task=N domain code message" */
  GPtrArray *monitor;      /* MESSAGE of monitoring lines */
} LogCapture;

static LogCapture capture;

static GLogWriterOutput
capture_writer (GLogLevelFlags   log_level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  const char *task = NULL, *message = NULL, *completed = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "CONCURRY_TASK"))
        task = fields[i].value;
      else if (g_str_equal (fields[i].key, "CONCURRY_TASKS_COMPLETED"))
        completed = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }

  if (task != NULL)
    {
      g_mutex_lock (&capture.mutex);
      g_ptr_array_add (capture.failures, g_strdup_printf ("%s: %s", task, message));
      g_mutex_unlock (&capture.mutex);
      return G_LOG_WRITER_HANDLED;
    }
  if (completed != NULL)
    {
      g_mutex_lock (&capture.mutex);
      g_ptr_array_add (capture.monitor, g_strdup (message));
      g_mutex_unlock (&capture.mutex);
      return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static void
capture_reset (void)
{
  g_mutex_lock (&capture.mutex);
  g_ptr_array_set_size (capture.failures, 0);
  g_ptr_array_set_size (capture.monitor, 0);
  g_mutex_unlock (&capture.mutex);
}

static ConcurryTaskManager *
new_manager (ConcurryExecutor    *executor,
             ConcurryErrorPolicy  policy)
{
  ConcurryTaskManager *manager = concurry_task_manager_new (executor, policy);

  concurry_task_manager_set_monitor_interval (manager, 0);
  return manager;
}

/* -- tests -- */

static void
test_submit_records_each_task (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (4);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  ConcurryTask *tasks[20];

  g_test_summary ("Submitted work runs on the executor; each task keeps its "
                  "number, outcome, state and duration");

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      tasks[i] = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (concurry_task_get_index (tasks[i]), ==, i + 1);
      g_assert_null (concurry_task_get_input (tasks[i]));
    }

  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_true (concurry_task_is_complete (tasks[i]));
      g_assert_cmpint (concurry_task_get_state (tasks[i]), ==, CONCURRY_FUTURE_STATE_DONE);
      g_assert_cmpint (g_value_get_int (concurry_task_get_value (tasks[i])), ==, 42);
      g_assert_null (concurry_task_get_error (tasks[i]));
      g_assert_cmpint (concurry_task_get_duration (tasks[i]), >=, 0);
      g_assert_true (CONCURRY_IS_FUTURE (concurry_task_get_future (tasks[i])));
      g_object_unref (tasks[i]);
    }

  g_assert_cmpuint (concurry_task_manager_get_n_submitted (manager), ==, 20);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 20);
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, 0);
  g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==, 0);
  g_assert_false (concurry_task_manager_get_running (manager));
  g_assert_cmpfloat (concurry_task_manager_get_fraction (manager), ==, 1.0);
  g_assert_true (concurry_task_manager_get_executor (manager) == pool);
}

static void
test_submit_input_keeps_input (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_auto(GValue) input = G_VALUE_INIT;
  g_autoptr(ConcurryTask) task = NULL;

  g_test_summary ("A task made with an input keeps a copy of it and the work gets it");

  g_value_init (&input, G_TYPE_INT);
  g_value_set_int (&input, 21);
  task = concurry_task_manager_submit_input (manager, &input, double_work, NULL, NULL, &error);
  g_assert_no_error (error);
  g_value_set_int (&input, 0);

  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_cmpint (g_value_get_int (concurry_task_get_input (task)), ==, 21);
  g_assert_cmpint (g_value_get_int (concurry_task_get_value (task)), ==, 42);
}

static void
test_map_reads_input_as_work_completes (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  Counter counter;
  Gate gate;

  g_test_summary ("map() reads its input only as tasks finish: at most "
                  "max-in-flight of its tasks are unfinished at once");

  gate_init (&gate);
  counter_init (&counter, 1000);
  concurry_task_manager_set_keep_completed (manager, FALSE);
  concurry_task_manager_set_max_in_flight (manager, 3);

  g_assert_true (concurry_task_manager_map (manager, double_work, &gate, NULL,
                                            counter_next, &counter, counter_free,
                                            counter.n, &error));
  g_assert_no_error (error);

  /* The first window is read by the call; two workers block on the gate. */
  gate_wait_for (&gate, 2);
  g_assert_cmpint (counter.n_read, ==, 3);
  g_assert_cmpuint (concurry_task_manager_get_n_submitted (manager), ==, 3);
  g_assert_true (concurry_task_manager_get_running (manager));
  g_assert_cmpfloat (concurry_task_manager_get_fraction (manager), ==, 0.0);

  /* Nothing frees a slot: a poll reads nothing more. */
  g_assert_false (concurry_task_manager_wait (manager, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpint (counter.n_read, ==, 3);

  gate_open (&gate);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (counter.n_read, ==, 1000);
  g_assert_true (counter.freed);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 1000);
  g_assert_cmpfloat (concurry_task_manager_get_fraction (manager), ==, 1.0);
  gate_clear (&gate);
}

static void
test_map_unsized_fraction (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  Counter counter;
  Gate gate;

  g_test_summary ("fraction stays 0 while an input of unknown length is read, "
                  "and counts over the known total otherwise");

  gate_init (&gate);
  counter_init (&counter, 4);
  concurry_task_manager_set_max_in_flight (manager, 1);
  g_assert_true (concurry_task_manager_map (manager, double_work, &gate, NULL,
                                            counter_next, &counter, NULL, -1, &error));
  gate_wait_for (&gate, 1);
  g_assert_cmpfloat (concurry_task_manager_get_fraction (manager), ==, 0.0);
  gate_open (&gate);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_cmpfloat (concurry_task_manager_get_fraction (manager), ==, 1.0);
  gate_clear (&gate);
}

static void
test_raise_fails_fast (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ConcurryTask) first = NULL;
  ConcurryTask *queued[9];
  ConcurryTask *refused;
  Counter counter;
  Gate gate;

  g_test_summary ("RAISE: the first failure cancels the tasks not started, stops "
                  "reading input, and wait/join/submit fail with that very error");

  gate_init (&gate);
  counter_init (&counter, 1000000);
  concurry_task_manager_set_max_in_flight (manager, 2);

  first = concurry_task_manager_submit (manager, gated_failing_work, &gate, NULL, &error);
  gate_wait_for (&gate, 1);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    queued[i] = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, NULL, -1, &error));
  g_assert_cmpint (counter.n_read, ==, 2);

  gate_open (&gate);
  g_assert_false (concurry_task_manager_wait (manager, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpstr (error->message, ==, "no way");
  g_clear_error (&error);

  g_assert_false (concurry_task_manager_join (manager, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  refused = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  /* Let what is left end: the queued tasks never run. */
  g_assert_true (concurry_task_manager_shutdown (manager, TRUE, FALSE, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    {
      g_assert_cmpint (concurry_task_get_state (queued[i]), ==, CONCURRY_FUTURE_STATE_CANCELLED);
      g_assert_cmpint (concurry_task_get_duration (queued[i]), ==, -1);
      g_object_unref (queued[i]);
    }
  g_assert_cmpint (counter.n_read, ==, 2);
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, 1);
  g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==, 11);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 12);
  g_assert_error (concurry_task_manager_get_error (manager), G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpfloat (concurry_task_manager_get_fraction (manager), ==, 1.0);
  gate_clear (&gate);
}

static void
test_log_policy_logs_each_failure_once (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (3);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_LOG);
  g_autoptr(GError) error = NULL;
  Counter counter;

  g_test_summary ("LOG: one structured record per failed task, naming the task "
                  "and its error; the work goes on");

  capture_reset ();
  counter_init (&counter, 10);
  counter.fail_at = 4;
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, NULL, 10, &error));
  for (int i = 0; i < 2; i++)
    g_object_unref (concurry_task_manager_submit (manager, failing_work, NULL, NULL, &error));

  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 12);
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, 3);

  g_mutex_lock (&capture.mutex);
  g_assert_cmpuint (capture.failures->len, ==, 3);
  for (guint i = 0; i < capture.failures->len; i++)
    {
      const char *line = g_ptr_array_index (capture.failures, i);
      g_assert_true (strstr (line, "failed") != NULL);
      g_assert_true (strstr (line, "bad input -1") != NULL || strstr (line, "no way") != NULL);
    }
  g_mutex_unlock (&capture.mutex);
}

static void
test_ignore_policy_keeps_failures (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ConcurryTask) task = NULL;

  g_test_summary ("IGNORE: a failure stays in its task; nothing is logged or raised");

  capture_reset ();
  task = concurry_task_manager_submit (manager, failing_work, NULL, NULL, &error);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);
  g_assert_error (concurry_task_get_error (task), G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_null (concurry_task_get_value (task));
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, 1);
  g_assert_null (concurry_task_manager_get_error (manager));
  g_assert_cmpuint (capture.failures->len, ==, 0);
}

typedef struct
{
  GArray *times;
} Times;

static void
on_completed_notify (GObject    *object,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  gint64 now = g_get_monotonic_time ();

  g_array_append_val (((Times *)user_data)->times, now);
}

static void
test_notifications_are_rate_limited (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  Times times = { g_array_new (FALSE, FALSE, sizeof (gint64)) };

  g_test_summary ("However fast tasks finish, two notifications of a property are at "
                  "least a 60th of a second apart (at most 60 a second)");

  g_signal_connect (manager, "notify::n-completed", G_CALLBACK (on_completed_notify), &times);
  for (int i = 0; i < 20000; i++)
    {
      g_object_unref (concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error));
      if (i % 16 == 0)
        g_main_context_iteration (NULL, FALSE);
    }
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  flush_main_context (manager);

  /* The handlers run some time after each publication (much of it under
   * valgrind), which moves single gaps either way: the rate is checked
   * over the whole run. */
  g_assert_cmpuint (times.times->len, >=, 1);
  g_assert_cmpint (g_array_index (times.times, gint64, times.times->len - 1) -
                   g_array_index (times.times, gint64, 0),
                   >=, (gint64)(times.times->len - 1) * (G_USEC_PER_SEC / 60 - 500));
  g_signal_handlers_disconnect_by_data (manager, &times);
  g_array_unref (times.times);
}

typedef struct
{
  GThread *owner;
  guint    n_fraction;
  guint    n_completed;
  guint    n_items_changed;
  guint    n_items_added;
} Notes;

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  Notes *notes = user_data;

  g_assert_true (g_thread_self () == notes->owner);
  if (g_str_equal (pspec->name, "fraction"))
    notes->n_fraction++;
  else if (g_str_equal (pspec->name, "n-completed"))
    notes->n_completed++;
}

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  Notes *notes = user_data;

  g_assert_true (g_thread_self () == notes->owner);
  g_assert_cmpuint (removed, ==, 0);
  g_assert_cmpuint (position, ==, notes->n_items_added);
  notes->n_items_changed++;
  notes->n_items_added += added;
}

static gpointer
wait_in_thread (gpointer data)
{
  g_assert_true (concurry_task_manager_wait (data, -1, NULL));
  return NULL;
}

static void
test_progress_is_published_on_main_context (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (4);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  Notes notes = { g_thread_self (), };
  GThread *waiter;

  g_test_summary ("Progress notifications and items-changed come on the manager's "
                  "main context, batched: completions between two iterations make "
                  "one notification");

  g_signal_connect (manager, "notify", G_CALLBACK (on_notify), &notes);
  g_signal_connect (manager, "items-changed", G_CALLBACK (on_items_changed), &notes);

  for (int i = 0; i < 500; i++)
    g_object_unref (concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error));

  /* All the work ends while the main context is not iterated. */
  waiter = g_thread_new ("waiter", wait_in_thread, manager);
  g_thread_join (waiter);
  g_assert_cmpuint (notes.n_fraction, ==, 0);

  flush_main_context (manager);
  g_assert_cmpuint (notes.n_fraction, ==, 1);
  g_assert_cmpuint (notes.n_completed, ==, 1);
  g_assert_cmpuint (notes.n_items_changed, ==, 1);
  g_assert_cmpuint (notes.n_items_added, ==, 500);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 500);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (manager)) == CONCURRY_TYPE_TASK);
  g_assert_true (concurry_task_manager_get_completed_tasks (manager) == G_LIST_MODEL (manager));

  g_signal_handlers_disconnect_by_data (manager, &notes);
}

static void
test_fraction_binds_to_a_property (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(ConcurryTaskManager) mirror = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  Counter counter;

  g_test_summary ("g_object_bind_property() from a progress property to another "
                  "object follows the manager to its end");

  /* The binding copies the property to the target on the main context. */
  counter_init (&counter, 50);
  g_object_bind_property (manager, "n-completed", mirror, "max-in-flight",
                          G_BINDING_DEFAULT);
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, NULL, 50, &error));
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  flush_main_context (manager);
  g_assert_cmpuint (concurry_task_manager_get_max_in_flight (mirror), ==, 50);
  g_assert_cmpfloat (concurry_task_manager_get_fraction (manager), ==, 1.0);
}

static void
test_list_model_in_completion_order (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  Counter counter;

  g_test_summary ("The list model holds every finished task, in completion order");

  counter_init (&counter, 30);
  counter.fail_at = 7;
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, NULL, 30, &error));
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  flush_main_context (manager);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 30);
  for (guint i = 0; i < 30; i++)
    {
      g_autoptr(ConcurryTask) task = g_list_model_get_item (G_LIST_MODEL (manager), i);

      /* one worker: completion order is submission order */
      g_assert_cmpuint (concurry_task_get_index (task), ==, i + 1);
      g_assert_cmpint (g_value_get_int (concurry_task_get_input (task)), ==, i == 7 ? -1 : (int)i);
      g_assert_cmpint (concurry_task_get_state (task), ==,
                       i == 7 ? CONCURRY_FUTURE_STATE_FAILED : CONCURRY_FUTURE_STATE_DONE);
    }
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (manager), 30));
}

static void
test_next_completed_hands_out_each_task_once (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (3);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  ConcurryTask *task;
  Counter counter;
  Gate gate;

  g_test_summary ("next_completed() gives every task once, in completion order, then "
                  "NULL; a deadline that passes is a timeout");

  gate_init (&gate);
  g_object_unref (concurry_task_manager_submit (manager, gated_work, &gate, NULL, &error));
  gate_wait_for (&gate, 1);
  g_assert_null (concurry_task_manager_next_completed (manager, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_null (concurry_task_manager_next_completed (manager, 1000, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  gate_open (&gate);

  counter_init (&counter, 100);
  concurry_task_manager_set_max_in_flight (manager, 4);
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, NULL, 100, &error));

  while ((task = concurry_task_manager_next_completed (manager, -1, &error)) != NULL)
    {
      g_assert_true (concurry_task_is_complete (task));
      g_assert_false (g_hash_table_contains (seen, task));
      g_hash_table_add (seen, task);
      g_object_unref (task);
    }
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 101);
  g_assert_cmpint (counter.n_read, ==, 100);
  gate_clear (&gate);
}

typedef struct
{
  GMainLoop *loop;
  guint      n_tasks;
  GError    *error;
  gboolean   waited;
} AsyncState;

static void
next_ready (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AsyncState *state = user_data;
  ConcurryTaskManager *manager = CONCURRY_TASK_MANAGER (source);
  ConcurryTask *task;

  task = concurry_task_manager_next_completed_finish (manager, result, &state->error);
  if (task == NULL)
    {
      g_main_loop_quit (state->loop);
      return;
    }
  state->n_tasks++;
  g_object_unref (task);
  concurry_task_manager_next_completed_async (manager, NULL, next_ready, state);
}

static void
test_next_completed_async (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  AsyncState state = { g_main_loop_new (NULL, FALSE), };
  Counter counter;

  g_test_summary ("next_completed_async() iterates the finished tasks from a main loop");

  counter_init (&counter, 40);
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, NULL, 40, &error));
  concurry_task_manager_next_completed_async (manager, NULL, next_ready, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  g_assert_cmpuint (state.n_tasks, ==, 40);
  g_main_loop_unref (state.loop);
}

static void
wait_ready (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AsyncState *state = user_data;

  state->waited = concurry_task_manager_wait_finish (CONCURRY_TASK_MANAGER (source), result,
                                                     &state->error);
  g_main_loop_quit (state->loop);
}

static void
test_wait_async (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  AsyncState state = { g_main_loop_new (NULL, FALSE), };
  Gate gate;

  g_test_summary ("wait_async() completes when the work is done, and fails at once "
                  "with the first error under RAISE");

  for (int i = 0; i < 10; i++)
    g_object_unref (concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error));
  concurry_task_manager_wait_async (manager, NULL, wait_ready, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  g_assert_true (state.waited);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 10);

  /* A task still blocked does not delay the failure. */
  gate_init (&gate);
  g_object_unref (concurry_task_manager_submit (manager, gated_work, &gate, NULL, &error));
  g_object_unref (concurry_task_manager_submit (manager, failing_work, NULL, NULL, &error));
  concurry_task_manager_wait_async (manager, NULL, wait_ready, &state);
  g_main_loop_run (state.loop);
  g_assert_error (state.error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_false (state.waited);
  g_clear_error (&state.error);
  g_assert_true (concurry_task_manager_get_running (manager));

  gate_open (&gate);
  g_assert_true (concurry_task_manager_shutdown (manager, TRUE, FALSE, &error));
  g_main_loop_unref (state.loop);
  gate_clear (&gate);
}

static void
count_done (ConcurryFuture *future,
            gpointer        user_data)
{
  g_atomic_int_inc ((int *)user_data);
}

static void
test_cancel_ends_every_task_once (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  ConcurryTask *tasks[8];
  int done[8] = { 0, };
  Counter counter;
  Gate gate;

  g_test_summary ("cancel() cancels running and queued tasks and stops the input; "
                  "every task ends exactly once; new work is accepted after");

  gate_init (&gate);
  counter_init (&counter, 1000);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      tasks[i] = concurry_task_manager_submit (manager, gated_work, &gate, NULL, &error);
      concurry_future_add_done_callback (concurry_task_get_future (tasks[i]), count_done, &done[i], NULL);
    }
  g_assert_true (concurry_task_manager_map (manager, double_work, &gate, NULL,
                                            counter_next, &counter, NULL, -1, &error));
  gate_wait_for (&gate, 2);

  concurry_task_manager_cancel (manager);
  gate_open (&gate);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_assert_cmpint (concurry_task_get_state (tasks[i]), ==, CONCURRY_FUTURE_STATE_CANCELLED);
  g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==,
                    concurry_task_manager_get_n_submitted (manager));
  g_assert_cmpint (counter.n_read, ==, concurry_task_manager_get_max_in_flight (manager));

  flush_main_context (manager);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      while (done[i] == 0)
        g_main_context_iteration (NULL, TRUE);
      g_assert_cmpint (done[i], ==, 1);
      g_object_unref (tasks[i]);
    }

  g_object_unref (concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==,
                    concurry_task_manager_get_n_submitted (manager));

  /* The cancelled work that was running may still be leaving the gate. */
  g_assert_true (concurry_executor_shutdown (pool, TRUE, FALSE, NULL));
  gate_clear (&gate);
}

static void
test_shutdown_as_the_executor (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ConcurryTask) running = NULL;
  g_autoptr(ConcurryTask) queued = NULL;
  Counter counter;
  Gate gate;

  g_test_summary ("shutdown() refuses new work; cancel_futures cancels what has not "
                  "started, while running work completes; the executor stays up");

  gate_init (&gate);
  counter_init (&counter, 100);
  running = concurry_task_manager_submit (manager, gated_work, &gate, NULL, &error);
  queued = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, NULL, 100, &error));
  gate_wait_for (&gate, 1);

  g_assert_true (concurry_task_manager_shutdown (manager, FALSE, TRUE, &error));
  g_assert_true (concurry_task_manager_is_shutdown (manager));
  g_assert_null (concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error));
  g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
  g_clear_error (&error);
  g_assert_false (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                             counter_next, &counter, NULL, 100, &error));
  g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
  g_clear_error (&error);

  gate_open (&gate);
  g_assert_true (concurry_task_manager_shutdown (manager, TRUE, FALSE, &error));
  g_assert_cmpint (concurry_task_get_state (running), ==, CONCURRY_FUTURE_STATE_DONE);
  g_assert_cmpint (concurry_task_get_state (queued), ==, CONCURRY_FUTURE_STATE_CANCELLED);
  g_assert_false (concurry_task_manager_get_running (manager));
  g_assert_false (concurry_executor_is_shutdown (pool));
  gate_clear (&gate);
}

static void
test_join_closes_and_waits (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_LOG);
  g_autoptr(GError) error = NULL;
  Counter counter;

  g_test_summary ("join() closes the manager and waits for all its work, input included");

  counter_init (&counter, 64);
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, NULL, -1, &error));
  g_assert_true (concurry_task_manager_join (manager, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 64);
  g_assert_null (concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error));
  g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
}

static void
test_executor_refusal_fails_the_task (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ConcurryTask) task = NULL;

  g_test_summary ("A task the executor refuses (it was shut down) ends failed with "
                  "the executor's error");

  g_assert_true (concurry_executor_shutdown (pool, TRUE, FALSE, NULL));
  task = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_error (concurry_task_get_error (task), CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, 1);
}

static void
test_input_error_under_raise (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  Counter counter;

  g_test_summary ("An input that fails stops a RAISE manager with its error");

  counter_init (&counter, 100);
  counter.error_at = 5;
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, counter_free, -1, &error));
  g_assert_false (concurry_task_manager_wait (manager, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  g_clear_error (&error);
  g_assert_true (concurry_task_manager_shutdown (manager, TRUE, FALSE, &error));
  g_assert_true (counter.freed);
  g_assert_cmpint (counter.n_read, ==, 5);
}

/* An input that fails ends in a task of its own: failed with the input's
 * error, with no input, and the policy applies to it as to any failure. */
static void
check_input_failure (ConcurryErrorPolicy policy)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, policy);
  g_autoptr(GError) error = NULL;
  ConcurryTask *failed = NULL;
  Counter counter;
  guint n_items;

  capture_reset ();
  counter_init (&counter, 100);
  counter.error_at = 5;
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, counter_free, 100, &error));
  if (policy == CONCURRY_ERROR_POLICY_RAISE)
    {
      g_assert_false (concurry_task_manager_wait (manager, -1, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
      g_clear_error (&error);
      g_assert_true (concurry_task_manager_shutdown (manager, TRUE, FALSE, &error));
    }
  else
    g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);
  g_assert_true (counter.freed);
  g_assert_cmpint (counter.n_read, ==, 5);

  /* five items read, and the input's own task */
  g_assert_cmpuint (concurry_task_manager_get_n_submitted (manager), ==, 6);
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, 1);
  flush_main_context (manager);
  n_items = g_list_model_get_n_items (G_LIST_MODEL (manager));
  g_assert_cmpuint (n_items, ==, 6);
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(ConcurryTask) task = g_list_model_get_item (G_LIST_MODEL (manager), i);

      if (concurry_future_get_state (CONCURRY_FUTURE (task)) == CONCURRY_FUTURE_STATE_FAILED)
        {
          g_assert_null (failed);
          failed = task;
          g_assert_null (concurry_task_get_input (task));
          g_assert_error (concurry_task_get_error (task), G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
        }
    }
  g_assert_nonnull (failed);

  g_mutex_lock (&capture.mutex);
  g_assert_cmpuint (capture.failures->len, ==, policy == CONCURRY_ERROR_POLICY_LOG ? 1 : 0);
  if (policy == CONCURRY_ERROR_POLICY_LOG)
    g_assert_nonnull (strstr (g_ptr_array_index (capture.failures, 0), "input broke"));
  g_mutex_unlock (&capture.mutex);
}

static void
test_input_error_is_a_failed_task (void)
{
  g_test_summary ("An input that fails ends in a failed task of its own, with no "
                  "input: RAISE fails fast with its error, LOG logs it, IGNORE keeps it");

  check_input_failure (CONCURRY_ERROR_POLICY_RAISE);
  check_input_failure (CONCURRY_ERROR_POLICY_LOG);
  check_input_failure (CONCURRY_ERROR_POLICY_IGNORE);
}

static void
length_work (const GValue  *item,
             GCancellable  *cancellable,
             GValue        *result,
             gpointer       user_data,
             GError       **error)
{
  g_value_init (result, G_TYPE_INT);
  g_value_set_int (result, strlen (g_value_get_string (item)));
}

/* Fills the item (a string), then says the input is exhausted. */
static gboolean
input_filling_then_ending (GValue   *item,
                           gpointer  user_data,
                           GError  **error)
{
  int *n_read = user_data;

  g_value_init (item, G_TYPE_STRING);
  g_value_set_string (item, "unused");
  return (*n_read)++ < 3;
}

static void
test_input_end_frees_a_filled_item (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  int n_read = 0;

  g_test_summary ("An input that fills the item and then returns FALSE has the item "
                  "freed, as Executor.map() does (bindings set the out value first)");

  g_assert_true (concurry_task_manager_map (manager, length_work, NULL, NULL,
                                            input_filling_then_ending, &n_read, NULL, -1,
                                            &error));
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_read, ==, 4);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 3);
  /* the leak itself is for valgrind and ASan, run by .ci/run */
}

/* A task that submits another one through its manager until the
 * progress was published (or a million tasks ran). */
typedef struct
{
  ConcurryTaskManager *manager;
  guint                n_run;
  guint64              published_completed;
} Busy;

#define BUSY_LIMIT 1000000

static void
busy_task (GCancellable  *cancellable,
           GValue        *value,
           gpointer       user_data,
           GError       **error)
{
  Busy *busy = user_data;

  if (++busy->n_run < BUSY_LIMIT && busy->published_completed == 0)
    g_object_unref (concurry_task_manager_submit (busy->manager, busy_task, busy, NULL, NULL));
}

static void
on_n_completed (GObject    *object,
                GParamSpec *pspec,
                Busy       *busy)
{
  guint64 n;

  g_object_get (object, "n-completed", &n, NULL);
  busy->published_completed = n;
}

static void
test_progress_published_while_main_context_work_runs (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_main_context_executor_new (NULL);
  g_autoptr(ConcurryTaskManager) manager = new_manager (executor, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  Busy busy = { manager, 0, 0 };

  g_test_summary ("The progress of a manager over a main-context executor is published "
                  "while its work keeps the context busy, not once it is all done");

  g_signal_connect (manager, "notify::n-completed", G_CALLBACK (on_n_completed), &busy);
  g_object_unref (concurry_task_manager_submit (manager, busy_task, &busy, NULL, &error));
  while (busy.published_completed == 0 && busy.n_run < BUSY_LIMIT)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (busy.published_completed, >, 0);
  g_assert_cmpuint (busy.n_run, <, BUSY_LIMIT);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);
  g_signal_handlers_disconnect_by_data (manager, &busy);
}

/* Waits for its own manager from inside the task, and keeps the errors. */
typedef struct
{
  ConcurryTaskManager *manager;
  GError              *wait_error;
  GError              *shutdown_error;
  GError              *join_error;
  GError              *destroy_error;
  gboolean             poll_done;
} OwnWait;

static void
own_wait_work (GCancellable  *cancellable,
               GValue        *value,
               gpointer       user_data,
               GError       **error)
{
  OwnWait *w = user_data;
  GError *poll_error = NULL;

  /* a poll is answered: not done, since this task is not */
  w->poll_done = concurry_task_manager_wait (w->manager, 0, &poll_error);
  g_assert_error (poll_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&poll_error);
  g_assert_false (concurry_task_manager_wait (w->manager, -1, &w->wait_error));
  g_assert_false (concurry_task_manager_shutdown (w->manager, TRUE, FALSE, &w->shutdown_error));
  g_assert_false (concurry_task_manager_join (w->manager, &w->join_error));
}

static void
own_wait_destroy (gpointer user_data)
{
  OwnWait *w = user_data;

  g_assert_false (concurry_task_manager_wait (w->manager, 10 * G_USEC_PER_SEC, &w->destroy_error));
}

static void
check_own_wait (ConcurryExecutor *executor)
{
  g_autoptr(ConcurryTaskManager) manager = new_manager (executor, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  OwnWait w = { manager, NULL, NULL, NULL, NULL, TRUE };

  g_object_unref (concurry_task_manager_submit (manager, own_wait_work, &w, own_wait_destroy,
                                                &error));
  g_assert_no_error (error);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);

  g_assert_false (w.poll_done);
  g_assert_error (w.wait_error, CONCURRY_ERROR, CONCURRY_ERROR_WRONG_THREAD);
  g_assert_error (w.shutdown_error, CONCURRY_ERROR, CONCURRY_ERROR_WRONG_THREAD);
  g_assert_error (w.join_error, CONCURRY_ERROR, CONCURRY_ERROR_WRONG_THREAD);
  g_assert_error (w.destroy_error, CONCURRY_ERROR, CONCURRY_ERROR_WRONG_THREAD);
  /* the shutdown and the join still closed it */
  g_assert_true (concurry_task_manager_is_shutdown (manager));
  g_clear_error (&w.wait_error);
  g_clear_error (&w.shutdown_error);
  g_clear_error (&w.join_error);
  g_clear_error (&w.destroy_error);
}

static void
test_waiting_for_itself_fails (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryExecutor) main_context = concurry_main_context_executor_new (NULL);
  g_autoptr(ConcurryExecutor) tasks = concurry_task_executor_new ();

  g_test_summary ("wait(), join() and shutdown(wait) from one of the manager's own tasks "
                  "(its work or the drop of its data) fail with WRONG_THREAD instead of "
                  "waiting for themselves for ever");

  check_own_wait (pool);
  check_own_wait (main_context);
  check_own_wait (tasks);
}

static void
record_fraction (GObject    *object,
                 GParamSpec *pspec,
                 double     *fraction)
{
  g_object_get (object, "fraction", fraction, NULL);
}

static void
wait_async_done (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ConcurryTaskManager *manager = CONCURRY_TASK_MANAGER (object);
  double *fraction = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (concurry_task_manager_wait_finish (manager, result, &error));
  /* published before the callback could see it */
  g_assert_cmpfloat (*fraction, ==, 1.0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 40);
  *fraction = -1;   /* done */
}

static void
test_wait_leaves_the_progress_published (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(GError) error = NULL;

  g_test_summary ("Once wait(), wait_async() or shutdown(wait) returns on the manager's "
                  "context, the properties and the list model are final: a program that "
                  "carries on (or drops the manager) misses no last notification");

  for (int how = 0; how < 3; how++)
    {
      g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
      Counter counter;
      double fraction = 0;

      g_signal_connect (manager, "notify::fraction", G_CALLBACK (record_fraction), &fraction);
      counter_init (&counter, 40);
      g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                                counter_next, &counter, NULL, 40, &error));
      if (how == 0)
        g_assert_true (concurry_task_manager_wait (manager, -1, &error));
      else if (how == 1)
        g_assert_true (concurry_task_manager_shutdown (manager, TRUE, FALSE, &error));
      else
        {
          concurry_task_manager_wait_async (manager, NULL, wait_async_done, &fraction);
          while (fraction != -1)
            g_main_context_iteration (NULL, TRUE);
          g_signal_handlers_disconnect_by_data (manager, &fraction);
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpfloat (fraction, ==, 1.0);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 40);
      g_signal_handlers_disconnect_by_data (manager, &fraction);
    }
}

typedef struct
{
  ConcurryTaskManager *manager;
  Gate                *gate;
  gboolean             waited;
} WaitInHandler;

static void
wait_in_handler (GObject       *object,
                 GParamSpec    *pspec,
                 WaitInHandler *w)
{
  g_autoptr(GError) error = NULL;

  if (w->waited)
    return;
  w->waited = TRUE;
  /* the rest finishes while this waits, inside a publication */
  gate_open (w->gate);
  g_assert_true (concurry_task_manager_wait (w->manager, -1, &error));
  g_assert_no_error (error);
}

static gboolean
count_idle (gpointer data)
{
  (*(guint *)data)++;
  return G_SOURCE_CONTINUE;
}

static void
test_waits_inside_a_publication_and_polls (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  WaitInHandler w = { manager, NULL, FALSE };
  guint n_idle = 0, idle_id;
  Gate gate;

  g_test_summary ("A blocking wait from a handler of the manager's own notifications "
                  "returns (it does not wait for a publication that cannot run inside "
                  "itself), and a poll, wait(0), dispatches nothing");

  gate_init (&gate);
  w.gate = &gate;
  g_signal_connect (manager, "notify::n-completed", G_CALLBACK (wait_in_handler), &w);
  g_object_unref (concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error));
  for (int i = 0; i < 4; i++)
    g_object_unref (concurry_task_manager_submit (manager, gated_work, &gate, NULL, &error));
  while (!w.waited)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 5);

  /* a poll once all is done: answered at once, nothing else runs */
  idle_id = g_idle_add (count_idle, &n_idle);
  for (int i = 0; i < 3; i++)
    g_assert_true (concurry_task_manager_wait (manager, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_idle, ==, 0);
  g_source_remove (idle_id);
  g_signal_handlers_disconnect_by_data (manager, &w);
  gate_clear (&gate);
}

static void
test_main_context_executor (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_main_context_executor_new (NULL);
  g_autoptr(ConcurryTaskManager) manager = new_manager (executor, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  Counter counter;

  g_test_summary ("Over a main-context executor the work and the input run on the "
                  "main thread, and a blocking wait iterates the context");

  counter_init (&counter, 25);
  g_assert_true (concurry_task_manager_map (manager, double_work, NULL, NULL,
                                            counter_next, &counter, NULL, 25, &error));
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 25);
}

static void
test_monitor_logs_progress (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  Gate gate;

  g_test_summary ("Every monitor-interval seconds while there is work, a log line "
                  "says how many tasks completed (and failed) in that time");

  capture_reset ();
  gate_init (&gate);
  g_object_unref (concurry_task_manager_submit (manager, failing_work, NULL, NULL, &error));
  g_object_unref (concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error));
  g_object_unref (concurry_task_manager_submit (manager, gated_work, &gate, NULL, &error));
  gate_wait_for (&gate, 1);
  concurry_task_manager_set_monitor_interval (manager, 1);
  g_assert_cmpuint (concurry_task_manager_get_monitor_interval (manager), ==, 1);

  /* the timer fires on the main context */
  while (capture.monitor->len == 0)
    g_main_context_iteration (NULL, TRUE);
  g_mutex_lock (&capture.mutex);
  g_assert_cmpstr (g_ptr_array_index (capture.monitor, 0), ==,
                   "2 tasks completed, 1 failed, in the last 1 second");
  g_mutex_unlock (&capture.mutex);

  gate_open (&gate);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  concurry_task_manager_set_monitor_interval (manager, 0);
  gate_clear (&gate);
}

/* Fails the work whose number (user data) is a multiple of 7. */
static void
fail_every_seventh_work (GCancellable  *cancellable,
                         GValue        *value,
                         gpointer       user_data,
                         GError       **error)
{
  guint i = GPOINTER_TO_UINT (user_data);

  if (i % 7 == 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "task %u fails", i);
  else
    {
      g_value_init (value, G_TYPE_UINT);
      g_value_set_uint (value, i);
    }
}

static void
test_tasks_finishing_together_counted_once (void)
{
  const guint n = 3000;
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (4);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_autofree gboolean *listed = g_new0 (gboolean, n + 1);
  ConcurryTask *task;
  guint n_handed_out = 0;

  g_test_summary ("Many tasks finishing at the same time on several workers are each "
                  "counted once, listed once and handed out once, with their outcomes");

  for (guint i = 1; i <= n; i++)
    {
      /* the user data is the task's number: the first task is number 1 */
      task = concurry_task_manager_submit (manager, fail_every_seventh_work,
                                           GUINT_TO_POINTER (i), NULL, &error);
      g_assert_no_error (error);
      g_object_unref (task);
    }
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, n);
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, n / 7);
  g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==, 0);
  g_assert_false (concurry_task_manager_get_running (manager));

  while ((task = concurry_task_manager_next_completed (manager, 0, &error)) != NULL)
    {
      n_handed_out++;
      g_object_unref (task);
    }
  g_assert_no_error (error);
  g_assert_cmpuint (n_handed_out, ==, n);

  flush_main_context (manager);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, n);
  for (guint position = 0; position < n; position++)
    {
      guint64 index;

      task = g_list_model_get_item (G_LIST_MODEL (manager), position);
      index = concurry_task_get_index (task);
      g_assert_cmpuint (index, >=, 1);
      g_assert_cmpuint (index, <=, n);
      g_assert_false (listed[index]);
      listed[index] = TRUE;
      if (index % 7 == 0)
        {
          g_assert_cmpint (concurry_task_get_state (task), ==, CONCURRY_FUTURE_STATE_FAILED);
          g_assert_error (concurry_task_get_error (task), G_IO_ERROR, G_IO_ERROR_FAILED);
        }
      else
        {
          g_assert_cmpint (concurry_task_get_state (task), ==, CONCURRY_FUTURE_STATE_DONE);
          g_assert_cmpuint (g_value_get_uint (concurry_task_get_value (task)), ==, index);
        }
      g_object_unref (task);
    }
}

static void
test_dropped_manager_finishes_its_tasks (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  ConcurryTaskManager *manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ConcurryTask) task = NULL;
  GWeakRef weak;

  g_test_summary ("Dropping the manager while tasks run loses none: they finish, "
                  "then the manager goes away");

  g_weak_ref_init (&weak, manager);
  task = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
  g_object_unref (manager);
  g_assert_true (concurry_future_wait (concurry_task_get_future (task), -1, NULL));
  g_assert_true (concurry_executor_shutdown (pool, TRUE, FALSE, NULL));
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
  g_assert_null (g_weak_ref_get (&weak));
  g_weak_ref_clear (&weak);
}

static void count_freed (gpointer data);

typedef struct
{
  Gate     gate;
  gboolean saw_cancel;   /* the work's cancellable was cancelled once the gate opened */
} CancelSeen;

static void
gated_cancel_seeing_work (GCancellable  *cancellable,
                          GValue        *value,
                          gpointer       user_data,
                          GError       **error)
{
  CancelSeen *seen = user_data;

  gate_pass (&seen->gate);
  g_atomic_int_set (&seen->saw_cancel, g_cancellable_is_cancelled (cancellable));
}

static void
remember_done_future (ConcurryFuture *future,
                      gpointer        user_data)
{
  g_atomic_pointer_set ((gpointer *)user_data, future);
}

static void
test_task_is_its_own_future (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) done = NULL;
  ConcurryFuture *futures[3];
  ConcurryTask *tasks[3];
  gpointer called_with = NULL;
  GValue input = G_VALUE_INIT;

  g_test_summary ("A task is a future: its future is itself, it can be waited for, with "
                  "other futures too, and its done callbacks get the task");

  tasks[0] = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
  tasks[1] = concurry_task_manager_submit (manager, failing_work, NULL, NULL, &error);
  g_value_init (&input, G_TYPE_INT);
  g_value_set_int (&input, 21);
  tasks[2] = concurry_task_manager_submit_input (manager, &input, double_work, NULL, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_true (CONCURRY_IS_FUTURE (tasks[i]));
      g_assert_true (concurry_task_get_future (tasks[i]) == CONCURRY_FUTURE (tasks[i]));
      futures[i] = CONCURRY_FUTURE (tasks[i]);
    }
  concurry_future_add_done_callback_direct (futures[0], remember_done_future, &called_with, NULL);

  g_assert_true (concurry_wait (futures, G_N_ELEMENTS (futures), CONCURRY_WAIT_ALL_COMPLETED, -1,
                                &done, NULL));
  g_assert_cmpuint (done->len, ==, 3);
  g_assert_cmpint (concurry_future_get_int (futures[0]), ==, 42);
  g_assert_cmpint (concurry_future_get_int (futures[2]), ==, 42);
  g_assert_cmpint (concurry_future_get_state (futures[1]), ==, CONCURRY_FUTURE_STATE_FAILED);
  g_assert_error (concurry_future_get_error (futures[1]), G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_true (concurry_task_get_value (tasks[0]) == concurry_future_get_value (futures[0]));
  while (g_atomic_pointer_get (&called_with) == NULL)
    g_thread_yield ();
  g_assert_true (called_with == (gpointer)tasks[0]);

  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 3);
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
}

static void
test_cancelled_running_task_counted_at_once (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ConcurryTask) task = NULL;
  CancelSeen seen = { .saw_cancel = FALSE };

  g_test_summary ("Cancelling a running task ends it at once: it is counted as cancelled "
                  "and the manager's wait returns while its work still runs, and the work "
                  "sees its cancellable cancelled");

  gate_init (&seen.gate);
  task = concurry_task_manager_submit (manager, gated_cancel_seeing_work, &seen, NULL, &error);
  g_assert_no_error (error);
  gate_wait_for (&seen.gate, 1);
  g_assert_cmpint (concurry_task_get_state (task), ==, CONCURRY_FUTURE_STATE_RUNNING);

  g_assert_true (concurry_future_cancel (CONCURRY_FUTURE (task)));
  g_assert_cmpint (concurry_task_get_state (task), ==, CONCURRY_FUTURE_STATE_CANCELLED);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 1);
  g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==, 1);
  g_assert_true (concurry_task_manager_wait (manager, 0, &error));
  g_assert_no_error (error);

  gate_open (&seen.gate);
  g_assert_true (concurry_executor_shutdown (pool, TRUE, FALSE, NULL));
  g_assert_true (g_atomic_int_get (&seen.saw_cancel));
  g_assert_cmpint (concurry_task_get_state (task), ==, CONCURRY_FUTURE_STATE_CANCELLED);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 1);
  gate_clear (&seen.gate);
}

static void
test_chain_end_cancel_reaches_the_task (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ConcurryTask) blocker = NULL;
  g_autoptr(ConcurryTask) task = NULL;
  g_autoptr(ConcurryFuture) end = NULL;
  int freed = 0;
  Gate gate;

  g_test_summary ("A task chained on, like any future: cancelling the end of the chain "
                  "cancels the queued task, which never runs, is counted cancelled, and "
                  "has its data freed");

  gate_init (&gate);
  blocker = concurry_task_manager_submit (manager, gated_work, &gate, NULL, &error);
  task = concurry_task_manager_submit (manager, answer_work, &freed, count_freed, &error);
  g_assert_no_error (error);
  gate_wait_for (&gate, 1);

  end = concurry_future_with_timeout (CONCURRY_FUTURE (task), (gint64)3600 * G_USEC_PER_SEC);
  g_assert_true (concurry_future_cancel (end));
  g_assert_cmpint (concurry_task_get_state (task), ==, CONCURRY_FUTURE_STATE_CANCELLED);
  g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==, 1);

  gate_open (&gate);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);
  g_assert_true (concurry_executor_shutdown (pool, TRUE, FALSE, NULL));
  g_assert_cmpint (g_atomic_int_get (&freed), ==, 1);
  g_assert_cmpint (concurry_task_get_duration (task), ==, -1);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 2);
  gate_clear (&gate);
}

static void
test_duration_counts_no_idle_time (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ConcurryTask) first = NULL;
  g_autoptr(ConcurryTask) second = NULL;
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 before, after;

  g_test_summary ("A task's duration is the time its work ran: tasks run back to back "
                  "each count their own, and a task run after the worker was idle does "
                  "not count the idle time");

  first = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (concurry_future_wait (CONCURRY_FUTURE (first), -1, NULL));

  /* The worker has nothing to do for 2 ms at least. */
  before = g_get_monotonic_time ();
  while (g_get_monotonic_time () < before + 2000)
    ;
  before = g_get_monotonic_time ();
  second = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (concurry_future_wait (CONCURRY_FUTURE (second), -1, NULL));
  after = g_get_monotonic_time ();
  g_assert_cmpint (concurry_task_get_duration (second), >=, 0);
  g_assert_cmpint (concurry_task_get_duration (second), <=, after - before);

  /* A burst: each task's duration lies within the burst */
  before = g_get_monotonic_time ();
  for (guint i = 0; i < 200; i++)
    g_ptr_array_add (batch, concurry_task_manager_submit (manager, answer_work, NULL, NULL,
                                                          &error));
  g_assert_no_error (error);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  after = g_get_monotonic_time ();
  for (guint i = 0; i < batch->len; i++)
    {
      gint64 duration = concurry_task_get_duration (batch->pdata[i]);

      g_assert_cmpint (duration, >=, 0);
      g_assert_cmpint (duration, <=, after - before);
    }
}

typedef struct
{
  GMainContext *context;
  ConcurryTask *inner;
  gint64        before;   /* around the inner task's run */
  gint64        after;
} Nested;

/* Spins for 2 ms, then runs the inner task by iterating its context. */
static void
run_inner_work (GCancellable  *cancellable,
                GValue        *value,
                gpointer       user_data,
                GError       **error)
{
  Nested *nested = user_data;
  gint64 start = g_get_monotonic_time ();

  while (g_get_monotonic_time () < start + 2000)
    ;
  nested->before = g_get_monotonic_time ();
  while (!concurry_future_is_done (CONCURRY_FUTURE (nested->inner)))
    g_main_context_iteration (nested->context, TRUE);
  nested->after = g_get_monotonic_time ();
}

static void
test_duration_of_task_run_inside_another (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryExecutor) on_context = concurry_main_context_executor_new (context);
  g_autoptr(ConcurryTaskManager) outer_manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(ConcurryTaskManager) inner_manager = NULL;
  g_autoptr(ConcurryTask) outer = NULL;
  g_autoptr(GError) error = NULL;
  Nested nested = { context, NULL, 0, 0 };

  g_test_summary ("A task run inside another task's work (a main context that the "
                  "work iterates) counts from its own start, not from the outer one's");

  inner_manager = new_manager (on_context, CONCURRY_ERROR_POLICY_IGNORE);
  nested.inner = concurry_task_manager_submit (inner_manager, answer_work, NULL, NULL, &error);
  g_assert_no_error (error);
  outer = concurry_task_manager_submit (outer_manager, run_inner_work, &nested, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (concurry_future_wait (CONCURRY_FUTURE (outer), -1, NULL));

  g_assert_cmpint (concurry_task_get_duration (nested.inner), >=, 0);
  g_assert_cmpint (concurry_task_get_duration (nested.inner), <=, nested.after - nested.before);
  g_assert_cmpint (concurry_task_get_duration (outer), >=, 2000);
  g_object_unref (nested.inner);
}

static void
test_finished_task_future_has_its_outcome (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  ConcurryTask *tasks[4];
  Gate gate;

  g_test_summary ("The future of a task asked for once the task finished has the task's "
                  "outcome (value, error or cancellation), and is the same one every time");

  gate_init (&gate);
  tasks[0] = concurry_task_manager_submit (manager, gated_work, &gate, NULL, &error);
  tasks[1] = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
  tasks[2] = concurry_task_manager_submit (manager, failing_work, NULL, NULL, &error);
  tasks[3] = concurry_task_manager_submit (manager, answer_work, NULL, NULL, &error);
  g_assert_no_error (error);
  gate_wait_for (&gate, 1);
  /* the last one is cancelled before it starts: the only worker is busy */
  g_assert_true (concurry_future_cancel (concurry_task_get_future (tasks[3])));
  gate_open (&gate);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      ConcurryFuture *future = concurry_task_get_future (tasks[i]);

      g_assert_true (CONCURRY_IS_FUTURE (future));
      g_assert_true (concurry_task_get_future (tasks[i]) == future);
      g_assert_true (concurry_future_is_done (future));
      g_assert_cmpint (concurry_future_get_state (future), ==,
                       concurry_task_get_state (tasks[i]));
    }
  g_assert_cmpint (concurry_task_get_state (tasks[1]), ==, CONCURRY_FUTURE_STATE_DONE);
  g_assert_cmpint (concurry_future_get_int (concurry_task_get_future (tasks[1])), ==, 42);
  g_assert_cmpint (g_value_get_int (concurry_task_get_value (tasks[1])), ==, 42);
  g_assert_cmpint (concurry_task_get_state (tasks[2]), ==, CONCURRY_FUTURE_STATE_FAILED);
  g_assert_error (concurry_future_get_error (concurry_task_get_future (tasks[2])),
                  G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_error (concurry_task_get_error (tasks[2]), G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpint (concurry_task_get_state (tasks[3]), ==, CONCURRY_FUTURE_STATE_CANCELLED);
  g_assert_error (concurry_task_get_error (tasks[3]), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (concurry_task_get_duration (tasks[3]), ==, -1);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 4);
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, 1);
  g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
  gate_clear (&gate);
}

static void
count_done_direct (ConcurryFuture *future,
                   gpointer        user_data)
{
  g_atomic_int_inc ((int *)user_data);
}

static void
test_future_asked_for_while_running_counts_once (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ConcurryTask) task = NULL;
  ConcurryFuture *future;
  int done = 0;
  Gate gate;

  g_test_summary ("The future of a running task is the task: it completes once, and the "
                  "task is counted once");

  gate_init (&gate);
  task = concurry_task_manager_submit (manager, gated_work, &gate, NULL, &error);
  g_assert_no_error (error);
  gate_wait_for (&gate, 1);

  future = concurry_task_get_future (task);
  g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_RUNNING);
  g_assert_cmpint (concurry_task_get_state (task), ==, CONCURRY_FUTURE_STATE_RUNNING);
  concurry_future_add_done_callback_direct (future, count_done_direct, &done, NULL);
  gate_open (&gate);

  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);
  g_assert_true (concurry_task_get_future (task) == future);
  g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_DONE);
  g_assert_cmpint (concurry_task_get_state (task), ==, CONCURRY_FUTURE_STATE_DONE);
  /* the task is counted (by the core's completed hook) before its done
   * callbacks run: ours may still be on its way on the worker */
  while (g_atomic_int_get (&done) == 0)
    g_thread_yield ();
  g_assert_cmpint (g_atomic_int_get (&done), ==, 1);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 1);
  g_assert_cmpint (concurry_task_get_duration (task), >=, 0);
  gate_clear (&gate);
}

static void
test_dropped_manager_without_futures (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);
  ConcurryTaskManager *manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  ConcurryTask *tasks[8];
  GWeakRef weak;
  Gate gate;

  g_test_summary ("A manager dropped while its tasks are queued and running, none of "
                  "their futures asked for, counts them all, then goes away");

  gate_init (&gate);
  g_weak_ref_init (&weak, manager);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    tasks[i] = concurry_task_manager_submit (manager, gated_work, &gate, NULL, &error);
  g_assert_no_error (error);
  gate_wait_for (&gate, 2);
  g_object_unref (manager);
  gate_open (&gate);

  g_assert_true (concurry_executor_shutdown (pool, TRUE, FALSE, NULL));
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
  g_assert_null (g_weak_ref_get (&weak));
  g_weak_ref_clear (&weak);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_cmpint (concurry_task_get_state (tasks[i]), ==, CONCURRY_FUTURE_STATE_DONE);
      g_object_unref (tasks[i]);
    }
  gate_clear (&gate);
}

typedef struct
{
  ConcurryTask **tasks;
  guint          n;
  int           *done;
} Asker;

/* Asks for the future of every task, in turn, as they finish. */
static gpointer
ask_for_futures (gpointer data)
{
  Asker *asker = data;

  for (guint i = 0; i < asker->n; i += 2)
    {
      ConcurryTask *task;

      /* the submitting thread may not be there yet */
      while ((task = g_atomic_pointer_get (&asker->tasks[i])) == NULL)
        g_thread_yield ();
      concurry_future_add_done_callback_direct (concurry_task_get_future (task),
                                                count_done_direct, &asker->done[i], NULL);
    }
  return NULL;
}

static void
test_futures_asked_for_as_tasks_finish (void)
{
  const guint n = 3000;
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (4);
  g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_IGNORE);
  g_autoptr(GError) error = NULL;
  g_autofree ConcurryTask **tasks = g_new0 (ConcurryTask *, n);
  g_autofree int *done = g_new0 (int, n);
  Asker asker = { tasks, n, done };
  GThread *thread = NULL;

  g_test_summary ("Futures asked for on another thread while their tasks finish: every "
                  "task is counted once, with its outcome, and every future completes once");

  for (guint i = 0; i < n; i++)
    {
      g_atomic_pointer_set (&tasks[i],
                            concurry_task_manager_submit (manager, fail_every_seventh_work,
                                                          GUINT_TO_POINTER (i + 1), NULL,
                                                          &error));
      g_assert_no_error (error);
      if (i == n / 4)
        thread = g_thread_new ("asker", ask_for_futures, &asker);
    }
  g_thread_join (thread);
  g_assert_true (concurry_task_manager_wait (manager, -1, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, n);
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, n / 7);
  for (guint i = 0; i < n; i++)
    {
      ConcurryFuture *future = concurry_task_get_future (tasks[i]);

      if (i % 2 == 0)
        {
          /* may still be on its way: see above */
          while (g_atomic_int_get (&done[i]) == 0)
            g_thread_yield ();
          g_assert_cmpint (g_atomic_int_get (&done[i]), ==, 1);
        }
      g_assert_cmpint (concurry_future_get_state (future), ==, concurry_task_get_state (tasks[i]));
      if ((i + 1) % 7 == 0)
        g_assert_error (concurry_task_get_error (tasks[i]), G_IO_ERROR, G_IO_ERROR_FAILED);
      else
        g_assert_cmpuint (g_value_get_uint (concurry_task_get_value (tasks[i])), ==, i + 1);
      g_object_unref (tasks[i]);
    }
}

/* An executor of its own, not one of concurry's: it keeps the work until
 * deferred_executor_run() runs it on the calling thread, and hands out
 * the futures of promises. */
typedef struct
{
  GObject  parent_instance;
  GQueue   pending;
  gboolean shut_down;
} DeferredExecutor;
typedef struct { GObjectClass parent_class; } DeferredExecutorClass;
static GType deferred_executor_get_type (void);

typedef struct
{
  ConcurryWorkFunc  func;
  gpointer          user_data;
  GDestroyNotify    destroy;
  ConcurryPromise  *promise;
} DeferredWork;

static ConcurryFuture *
deferred_submit (ConcurryExecutor  *executor,
                 ConcurryWorkFunc   func,
                 gpointer           user_data,
                 GDestroyNotify     destroy,
                 GError           **error)
{
  DeferredExecutor *self = (DeferredExecutor *)executor;
  DeferredWork *work;

  if (self->shut_down)
    {
      if (destroy != NULL)
        destroy (user_data);
      g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN, "shut down");
      return NULL;
    }

  work = g_new0 (DeferredWork, 1);
  work->func = func;
  work->user_data = user_data;
  work->destroy = destroy;
  work->promise = concurry_promise_new ();
  g_queue_push_tail (&self->pending, work);

  return g_object_ref (concurry_promise_get_future (work->promise));
}

/* Runs the work kept so far; the data of each is freed before its future
 * completes, as an executor may do. */
static void
deferred_executor_run (DeferredExecutor *self)
{
  DeferredWork *work;

  while ((work = g_queue_pop_head (&self->pending)) != NULL)
    {
      ConcurryFuture *future = concurry_promise_get_future (work->promise);
      GValue value = G_VALUE_INIT;
      GError *error = NULL;

      if (!concurry_future_is_done (future))
        work->func (concurry_promise_get_cancellable (work->promise), &value, work->user_data,
                    &error);
      if (work->destroy != NULL)
        work->destroy (work->user_data);
      if (error != NULL)
        concurry_promise_take_error (work->promise, error);
      else if (G_IS_VALUE (&value))
        concurry_promise_take_value (work->promise, &value);
      else
        concurry_promise_resolve (work->promise, NULL);
      g_object_unref (work->promise);
      g_free (work);
    }
}

static gboolean
deferred_shutdown (ConcurryExecutor  *executor,
                   gboolean           wait,
                   gboolean           cancel_futures,
                   GError           **error)
{
  ((DeferredExecutor *)executor)->shut_down = TRUE;
  return TRUE;
}

static gboolean
deferred_is_shutdown (ConcurryExecutor *executor)
{
  return ((DeferredExecutor *)executor)->shut_down;
}

static guint
deferred_get_max_workers (ConcurryExecutor *executor)
{
  return 1;
}

static void
deferred_executor_iface_init (ConcurryExecutorInterface *iface)
{
  iface->submit = deferred_submit;
  iface->shutdown = deferred_shutdown;
  iface->is_shutdown = deferred_is_shutdown;
  iface->get_max_workers = deferred_get_max_workers;
}

G_DEFINE_TYPE_WITH_CODE (DeferredExecutor, deferred_executor, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_EXECUTOR, deferred_executor_iface_init))

static void deferred_executor_class_init (DeferredExecutorClass *klass) { }
static void deferred_executor_init (DeferredExecutor *self) { g_queue_init (&self->pending); }

static void
count_freed (gpointer data)
{
  g_atomic_int_inc ((int *)data);
}

static void
test_executor_of_its_own (void)
{
  DeferredExecutor *executor = g_object_new (deferred_executor_get_type (), NULL);
  ConcurryTaskManager *manager;
  g_autoptr(GError) error = NULL;
  ConcurryTask *tasks[4];
  int freed = 0;

  g_test_summary ("Over an executor that is not concurry's, each task ends with its "
                  "work, counted once when it completes (cancelled at once), whenever "
                  "the executor frees the work's data");

  manager = new_manager (CONCURRY_EXECUTOR (executor), CONCURRY_ERROR_POLICY_IGNORE);
  tasks[0] = concurry_task_manager_submit (manager, answer_work, &freed, count_freed, &error);
  tasks[1] = concurry_task_manager_submit (manager, failing_work, &freed, count_freed, &error);
  tasks[2] = concurry_task_manager_submit (manager, answer_work, &freed, count_freed, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (concurry_task_get_state (tasks[i]), ==, CONCURRY_FUTURE_STATE_PENDING);

  g_assert_true (concurry_future_cancel (concurry_task_get_future (tasks[2])));
  g_assert_cmpint (concurry_task_get_state (tasks[2]), ==, CONCURRY_FUTURE_STATE_CANCELLED);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 1);
  g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==, 1);
  g_assert_true (concurry_task_manager_get_running (manager));

  deferred_executor_run (executor);
  g_assert_cmpint (freed, ==, 3);
  g_assert_true (concurry_task_manager_wait (manager, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 3);
  g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, 1);
  g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==, 1);
  g_assert_cmpint (g_value_get_int (concurry_task_get_value (tasks[0])), ==, 42);
  g_assert_error (concurry_task_get_error (tasks[1]), G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_true (concurry_future_is_done (concurry_task_get_future (tasks[0])));

  /* refused by the executor: failed with its error, counted at once */
  g_assert_true (concurry_executor_shutdown (CONCURRY_EXECUTOR (executor), TRUE, FALSE, NULL));
  tasks[3] = concurry_task_manager_submit (manager, answer_work, &freed, count_freed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (freed, ==, 4);
  g_assert_error (concurry_task_get_error (tasks[3]), CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
  g_assert_error (concurry_future_get_error (concurry_task_get_future (tasks[3])),
                  CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
  g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, 4);
  g_assert_false (concurry_task_manager_get_running (manager));

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
  g_object_unref (manager);
  g_object_unref (executor);
}

/* More tasks than a chunk of the manager's register of unfinished tasks
 * holds (256), so that stopping walks several chunks. */
#define N_BLOCKED 1000

static void
test_stop_reaches_every_unfinished_task (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (1);
  g_autoptr(GError) error = NULL;
  ConcurryErrorPolicy policies[] = { CONCURRY_ERROR_POLICY_RAISE, CONCURRY_ERROR_POLICY_IGNORE };

  g_test_summary ("fail-fast and cancel() reach every unfinished task, however many were "
                  "submitted; the numbers of the tasks are 1, 2, ... in submission order");

  for (guint p = 0; p < G_N_ELEMENTS (policies); p++)
    {
      g_autoptr(ConcurryTaskManager) manager = new_manager (pool, policies[p]);
      g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
      Gate gate;

      gate_init (&gate);
      /* the first blocks the only worker; the others wait in the queue */
      g_ptr_array_add (tasks, concurry_task_manager_submit (manager, gated_failing_work, &gate,
                                                           NULL, &error));
      for (guint i = 1; i < N_BLOCKED; i++)
        g_ptr_array_add (tasks, concurry_task_manager_submit (manager, answer_work, NULL,
                                                             NULL, &error));
      g_assert_no_error (error);
      for (guint i = 0; i < N_BLOCKED; i++)
        g_assert_cmpuint (concurry_task_get_index (g_ptr_array_index (tasks, i)), ==, i + 1);
      gate_wait_for (&gate, 1);

      if (policies[p] == CONCURRY_ERROR_POLICY_RAISE)
        {
          /* the failure of the first stops the rest */
          gate_open (&gate);
          g_assert_false (concurry_task_manager_wait (manager, -1, &error));
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
          g_clear_error (&error);
          g_assert_true (concurry_task_manager_shutdown (manager, TRUE, FALSE, NULL));
          g_assert_cmpuint (concurry_task_manager_get_n_failed (manager), ==, 1);
          g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==, N_BLOCKED - 1);
        }
      else
        {
          concurry_task_manager_cancel (manager);
          gate_open (&gate);
          g_assert_true (concurry_task_manager_wait (manager, -1, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (concurry_task_manager_get_n_cancelled (manager), ==, N_BLOCKED);
        }

      g_assert_cmpuint (concurry_task_manager_get_n_submitted (manager), ==, N_BLOCKED);
      g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, N_BLOCKED);
      for (guint i = 1; i < N_BLOCKED; i++)
        g_assert_cmpint (concurry_task_get_state (g_ptr_array_index (tasks, i)), ==,
                         CONCURRY_FUTURE_STATE_CANCELLED);

      /* the worker leaves the gate before the next round closes it */
      g_assert_true (concurry_executor_shutdown (pool, TRUE, FALSE, NULL));
      g_clear_object (&pool);
      pool = concurry_thread_pool_executor_new (1);
      gate_clear (&gate);
    }
}

typedef struct
{
  ConcurryTaskManager *manager;
  GPtrArray           *accepted;
  GError              *refusal;
} Submitter;

static gpointer
submit_until_refused (gpointer data)
{
  Submitter *submitter = data;
  ConcurryTask *task;

  while ((task = concurry_task_manager_submit (submitter->manager, answer_work, NULL, NULL,
                                               &submitter->refusal)) != NULL)
    g_ptr_array_add (submitter->accepted, task);

  return NULL;
}

static int
compare_numbers (gconstpointer a,
                 gconstpointer b)
{
  guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

  return x < y ? -1 : x > y;
}

static void
test_submissions_racing_shutdown (void)
{
  g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (2);

  g_test_summary ("submissions from several threads racing a shutdown: each is accepted "
                  "or refused; the shutdown returns once every accepted task ended; "
                  "the counts and the numbers of the tasks add up");

  for (guint round = 0; round < 20; round++)
    {
      g_autoptr(ConcurryTaskManager) manager = new_manager (pool, CONCURRY_ERROR_POLICY_RAISE);
      Submitter submitters[3];
      GThread *threads[G_N_ELEMENTS (submitters)];
      g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint64));
      guint64 n_accepted = 0;

      for (guint i = 0; i < G_N_ELEMENTS (submitters); i++)
        {
          submitters[i].manager = manager;
          submitters[i].accepted = g_ptr_array_new_with_free_func (g_object_unref);
          submitters[i].refusal = NULL;
          threads[i] = g_thread_new ("submitter", submit_until_refused, &submitters[i]);
        }
      /* shut down while they submit (a condition, not a time) */
      while (concurry_task_manager_get_n_submitted (manager) < 1000)
        g_thread_yield ();
      g_assert_true (concurry_task_manager_shutdown (manager, TRUE, FALSE, NULL));

      /* every task accepted so far has ended; the others are refused */
      for (guint i = 0; i < G_N_ELEMENTS (submitters); i++)
        {
          g_thread_join (threads[i]);
          g_assert_error (submitters[i].refusal, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
          g_clear_error (&submitters[i].refusal);
          for (guint j = 0; j < submitters[i].accepted->len; j++)
            {
              ConcurryTask *task = g_ptr_array_index (submitters[i].accepted, j);

              guint64 number = concurry_task_get_index (task);

              g_assert_cmpint (concurry_task_get_state (task), ==, CONCURRY_FUTURE_STATE_DONE);
              g_array_append_val (numbers, number);
            }
          n_accepted += submitters[i].accepted->len;
        }
      /* each number given once */
      g_array_sort (numbers, compare_numbers);
      for (guint i = 1; i < numbers->len; i++)
        g_assert_cmpuint (g_array_index (numbers, guint64, i - 1), <, g_array_index (numbers, guint64, i));
      g_assert_cmpuint (concurry_task_manager_get_n_submitted (manager), ==, n_accepted);
      g_assert_cmpuint (concurry_task_manager_get_n_completed (manager), ==, n_accepted);
      g_assert_false (concurry_task_manager_get_running (manager));

      for (guint i = 0; i < G_N_ELEMENTS (submitters); i++)
        g_ptr_array_unref (submitters[i].accepted);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_mutex_init (&capture.mutex);
  capture.failures = g_ptr_array_new_with_free_func (g_free);
  capture.monitor = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Concurry/TaskManager/submit-records-each-task", test_submit_records_each_task);
  g_test_add_func ("/Concurry/TaskManager/submit-input-keeps-input", test_submit_input_keeps_input);
  g_test_add_func ("/Concurry/TaskManager/map-reads-input-as-work-completes", test_map_reads_input_as_work_completes);
  g_test_add_func ("/Concurry/TaskManager/map-of-unknown-length-fraction", test_map_unsized_fraction);
  g_test_add_func ("/Concurry/TaskManager/raise-fails-fast", test_raise_fails_fast);
  g_test_add_func ("/Concurry/TaskManager/log-policy-logs-each-failure-once", test_log_policy_logs_each_failure_once);
  g_test_add_func ("/Concurry/TaskManager/ignore-policy-keeps-failures", test_ignore_policy_keeps_failures);
  g_test_add_func ("/Concurry/TaskManager/progress-published-on-main-context", test_progress_is_published_on_main_context);
  g_test_add_func ("/Concurry/TaskManager/progress-binds-to-a-property", test_fraction_binds_to_a_property);
  g_test_add_func ("/Concurry/TaskManager/notifications-are-rate-limited", test_notifications_are_rate_limited);
  g_test_add_func ("/Concurry/TaskManager/list-model-in-completion-order", test_list_model_in_completion_order);
  g_test_add_func ("/Concurry/TaskManager/next-completed-hands-out-each-task-once", test_next_completed_hands_out_each_task_once);
  g_test_add_func ("/Concurry/TaskManager/next-completed-async", test_next_completed_async);
  g_test_add_func ("/Concurry/TaskManager/wait-async", test_wait_async);
  g_test_add_func ("/Concurry/TaskManager/cancel-ends-every-task-once", test_cancel_ends_every_task_once);
  g_test_add_func ("/Concurry/TaskManager/shutdown-as-the-executor", test_shutdown_as_the_executor);
  g_test_add_func ("/Concurry/TaskManager/join-closes-and-waits", test_join_closes_and_waits);
  g_test_add_func ("/Concurry/TaskManager/executor-refusal-fails-the-task", test_executor_refusal_fails_the_task);
  g_test_add_func ("/Concurry/TaskManager/input-error-under-raise", test_input_error_under_raise);
  g_test_add_func ("/Concurry/TaskManager/input-error-is-a-failed-task", test_input_error_is_a_failed_task);
  g_test_add_func ("/Concurry/TaskManager/input-end-frees-a-filled-item", test_input_end_frees_a_filled_item);
  g_test_add_func ("/Concurry/TaskManager/main-context-executor", test_main_context_executor);
  g_test_add_func ("/Concurry/TaskManager/waits-inside-a-publication-and-polls",
                   test_waits_inside_a_publication_and_polls);
  g_test_add_func ("/Concurry/TaskManager/wait-leaves-the-progress-published",
                   test_wait_leaves_the_progress_published);
  g_test_add_func ("/Concurry/TaskManager/waiting-for-itself-fails", test_waiting_for_itself_fails);
  g_test_add_func ("/Concurry/TaskManager/progress-published-while-main-context-work-runs",
                   test_progress_published_while_main_context_work_runs);
  g_test_add_func ("/Concurry/TaskManager/monitor-logs-progress", test_monitor_logs_progress);
  g_test_add_func ("/Concurry/TaskManager/dropped-manager-finishes-its-tasks", test_dropped_manager_finishes_its_tasks);
  g_test_add_func ("/Concurry/TaskManager/finished-task-future-has-its-outcome",
                   test_finished_task_future_has_its_outcome);
  g_test_add_func ("/Concurry/TaskManager/future-asked-for-while-running-counts-once",
                   test_future_asked_for_while_running_counts_once);
  g_test_add_func ("/Concurry/TaskManager/dropped-manager-without-futures-finishes-its-tasks",
                   test_dropped_manager_without_futures);
  g_test_add_func ("/Concurry/TaskManager/futures-asked-for-as-tasks-finish",
                   test_futures_asked_for_as_tasks_finish);
  g_test_add_func ("/Concurry/TaskManager/executor-of-its-own", test_executor_of_its_own);
  g_test_add_func ("/Concurry/TaskManager/task-is-its-own-future", test_task_is_its_own_future);
  g_test_add_func ("/Concurry/TaskManager/duration-counts-no-idle-time",
                   test_duration_counts_no_idle_time);
  g_test_add_func ("/Concurry/TaskManager/duration-of-task-run-inside-another",
                   test_duration_of_task_run_inside_another);
  g_test_add_func ("/Concurry/TaskManager/cancelled-running-task-counted-at-once",
                   test_cancelled_running_task_counted_at_once);
  g_test_add_func ("/Concurry/TaskManager/chain-end-cancel-reaches-the-task",
                   test_chain_end_cancel_reaches_the_task);
  g_test_add_func ("/Concurry/TaskManager/tasks-finishing-together-counted-once",
                   test_tasks_finishing_together_counted_once);
  g_test_add_func ("/Concurry/TaskManager/stop-reaches-every-unfinished-task",
                   test_stop_reaches_every_unfinished_task);
  g_test_add_func ("/Concurry/TaskManager/submissions-racing-shutdown",
                   test_submissions_racing_shutdown);

  return g_test_run ();
}
