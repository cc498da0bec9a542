/* test-executor.c: executors, map and shutdown
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <concurry.h>

#include "test-gate.h"

static gboolean slow_mode;

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
thread_work (GCancellable  *cancellable,
             GValue        *value,
             gpointer       user_data,
             GError       **error)
{
  g_value_init (value, G_TYPE_POINTER);
  g_value_set_pointer (value, g_thread_self ());
}

static void
failing_work (GCancellable  *cancellable,
              GValue        *value,
              gpointer       user_data,
              GError       **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "nothing here");
}

static void
nothing_work (GCancellable  *cancellable,
              GValue        *value,
              gpointer       user_data,
              GError       **error)
{
}

static void
gated_work (GCancellable  *cancellable,
            GValue        *value,
            gpointer       user_data,
            GError       **error)
{
  gate_pass (user_data);
  g_value_init (value, G_TYPE_BOOLEAN);
  g_value_set_boolean (value, g_cancellable_is_cancelled (cancellable));
}

static void
count_work (GCancellable  *cancellable,
            GValue        *value,
            gpointer       user_data,
            GError       **error)
{
  g_atomic_int_inc ((int *)user_data);
}

static void
count_destroy (gpointer data)
{
  g_atomic_int_inc ((int *)data);
}

typedef ConcurryExecutor *(*NewExecutor) (void);

static ConcurryExecutor *
new_pool (void)
{
  return concurry_thread_pool_executor_new (4);
}

static ConcurryExecutor *
new_task (void)
{
  return concurry_task_executor_new ();
}

static ConcurryExecutor *
new_main_context (void)
{
  return concurry_main_context_executor_new (NULL);
}

static void
test_submit (gconstpointer data)
{
  NewExecutor new_executor = data;
  g_autoptr(ConcurryExecutor) executor = new_executor ();
  g_autoptr(ConcurryFuture) ok = NULL, failed = NULL, none = NULL, where = NULL;
  g_autoptr(GError) error = NULL;
  int destroyed = 0;

  ok = concurry_executor_submit (executor, answer_work, &destroyed, count_destroy, &error);
  g_assert_no_error (error);
  failed = concurry_executor_submit (executor, failing_work, NULL, NULL, &error);
  none = concurry_executor_submit (executor, nothing_work, NULL, NULL, &error);
  where = concurry_executor_submit (executor, thread_work, NULL, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (concurry_future_wait (ok, -1, &error));
  g_assert_cmpint (concurry_future_get_int (ok), ==, 42);
  g_assert_false (concurry_future_wait (failed, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (concurry_future_wait (none, -1, &error));
  g_assert_null (concurry_future_get_value (none));
  g_assert_true (concurry_future_wait (where, -1, &error));

  if (new_executor == new_main_context)
    g_assert_true (concurry_future_get_pointer (where) == g_thread_self ());
  else
    g_assert_true (concurry_future_get_pointer (where) != g_thread_self ());

  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  g_assert_cmpint (destroyed, ==, 1);
  g_assert_true (concurry_executor_is_shutdown (executor));
}

/* Futures nobody but the executor holds once their work ran are reused
 * for later submits: a reused one must look brand new, whatever its
 * previous life left (a value, an error, an id, a cancelled state). */
static void
int_work (GCancellable  *cancellable,
          GValue        *value,
          gpointer       user_data,
          GError       **error)
{
  int n = GPOINTER_TO_INT (user_data);

  if (n % 3 == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "item %d failed", n);
      return;
    }
  g_value_init (value, G_TYPE_STRING);
  g_value_take_string (value, g_strdup_printf ("item %d", n));
}

static void
test_recycled_futures_are_clean (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(GHashTable) dropped = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  guint reused = 0;

  concurry_set_unobserved_error_warnings (FALSE);

  /* Drop every other future at once, keep and check the others, until
   * kept futures have come back as reused ones many times. */
  for (int n = 1; n < 200000 && reused < 50; n++)
    {
      ConcurryFuture *future = concurry_executor_submit (executor, int_work, GINT_TO_POINTER (n),
                                                         NULL, &error);
      const char *id;

      g_assert_no_error (error);
      if (g_hash_table_contains (dropped, future))
        reused++;

      /* (Asking for its id would keep it from being recycled: ids are
       * kept with the object, and never reused.) */
      if (n % 2 == 0)
        {
          g_hash_table_add (dropped, future);
          g_object_unref (future);
          continue;
        }

      id = concurry_future_get_id (future);
      g_assert_false (g_hash_table_contains (ids, id));
      g_hash_table_add (ids, g_strdup (id));

      /* Its outcome is its own, not one left from a previous life. */
      if (n % 3 == 0)
        {
          g_autofree char *expected = g_strdup_printf ("item %d failed", n);

          g_assert_false (concurry_future_wait (future, -1, &error));
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
          g_assert_cmpstr (error->message, ==, expected);
          g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_FAILED);
          g_clear_error (&error);
        }
      else
        {
          g_autofree char *expected = g_strdup_printf ("item %d", n);

          g_assert_true (concurry_future_wait (future, -1, &error));
          g_assert_cmpstr (concurry_future_get_string (future), ==, expected);
        }
      g_hash_table_remove (dropped, future);
      g_object_unref (future);
    }

  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  concurry_set_unobserved_error_warnings (TRUE);
  g_test_message ("%u futures came back reused", reused);
  g_assert_cmpuint (reused, >=, 50);
}

static void
weak_notify_cb (gpointer  data,
                GObject  *where_the_object_was)
{
  g_atomic_int_inc ((int *)data);
}

/* A future somebody can still reach, however weakly, is never reused:
 * weak references, weak pointers and data see it finalized; signal
 * handlers connected to it are destroyed either way. */
static void
test_reachable_futures_not_recycled (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(GError) error = NULL;
  ConcurryFuture *weak_ref, *weak_pointer, *with_data, *with_handler;
  GWeakRef weak;
  int notified = 0, destroyed = 0, handler_destroyed = 0;

  weak_ref = concurry_executor_submit (executor, answer_work, NULL, NULL, &error);
  g_object_weak_ref (G_OBJECT (weak_ref), weak_notify_cb, &notified);
  weak_pointer = concurry_executor_submit (executor, answer_work, NULL, NULL, &error);
  g_weak_ref_init (&weak, weak_pointer);
  with_data = concurry_executor_submit (executor, answer_work, NULL, NULL, &error);
  g_object_set_data_full (G_OBJECT (with_data), "test-data", &destroyed, count_destroy);
  with_handler = concurry_executor_submit (executor, answer_work, NULL, NULL, &error);
  g_signal_connect_data (with_handler, "notify", G_CALLBACK (nothing_work),
                         &handler_destroyed, (GClosureNotify)(void (*) (void))count_destroy, 0);
  g_assert_no_error (error);

  g_object_unref (weak_ref);
  g_object_unref (weak_pointer);
  g_object_unref (with_data);
  g_object_unref (with_handler);

  /* Once shutdown has waited, the executor holds no future any more. */
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  g_assert_cmpint (notified, ==, 1);
  g_assert_null (g_weak_ref_get (&weak));
  g_assert_cmpint (destroyed, ==, 1);
  g_assert_cmpint (handler_destroyed, ==, 1);
  g_weak_ref_clear (&weak);
}

static void
test_submit_after_shutdown (gconstpointer data)
{
  NewExecutor new_executor = data;
  g_autoptr(ConcurryExecutor) executor = new_executor ();
  g_autoptr(GError) error = NULL;
  ConcurryFuture *future;
  int destroyed = 0;

  g_assert_false (concurry_executor_is_shutdown (executor));
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  g_assert_true (concurry_executor_shutdown (executor, TRUE, TRUE, &error));
  future = concurry_executor_submit (executor, answer_work, &destroyed, count_destroy, &error);
  g_assert_null (future);
  g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
  /* The work's data is not lost either. */
  g_assert_cmpint (destroyed, ==, 1);
}

static void
test_queued_cancel_never_runs (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryFuture) blocker = NULL, queued = NULL, after = NULL;
  g_autoptr(GError) error = NULL;
  int ran = 0, destroyed = 0;
  Gate gate;

  gate_init (&gate);
  blocker = concurry_executor_submit (executor, gated_work, &gate, NULL, &error);
  queued = concurry_executor_submit (executor, count_work, &ran, NULL, &error);
  after = concurry_executor_submit (executor, answer_work, &destroyed, count_destroy, &error);
  gate_wait_for (&gate, 1);

  g_assert_true (concurry_future_is_running (blocker));
  g_assert_false (concurry_future_is_running (queued));
  g_assert_cmpint (concurry_future_get_state (queued), ==, CONCURRY_FUTURE_STATE_PENDING);

  g_assert_true (concurry_future_cancel (queued));
  g_assert_true (concurry_future_is_cancelled (queued));

  gate_open (&gate);
  g_assert_true (concurry_future_wait (after, -1, &error));
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  g_assert_cmpint (ran, ==, 0);
  g_assert_cmpint (destroyed, ==, 1);
  g_assert_false (concurry_future_get_boolean (blocker));
  gate_clear (&gate);
}

/* Quick items are taken in batches: an item cancelled while it waits in a
 * worker's batch must not run either, and one worker runs them in order. */
typedef struct
{
  guint            index;
  ConcurryFuture **futures;
  int             *ran;
  GArray          *order;   /* only ever touched by the one worker */
} BatchItem;

static void
batch_work (GCancellable  *cancellable,
            GValue        *value,
            gpointer       user_data,
            GError       **error)
{
  BatchItem *item = user_data;

  g_atomic_int_set (&item->ran[item->index], 1);
  g_array_append_val (item->order, item->index);
  /* Cancels the next one, most likely already taken with this one. */
  if (item->index % 2 == 0)
    concurry_future_cancel (item->futures[item->index + 1]);
}

static void
test_batched_cancel_never_runs (void)
{
  const guint n = 4000;
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryFuture) blocker = NULL;
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  ConcurryFuture **futures = g_new0 (ConcurryFuture *, n);
  BatchItem *items = g_new0 (BatchItem, n);
  int *ran = g_new0 (int, n);
  Gate gate;

  /* Everything is queued before the worker takes anything. */
  gate_init (&gate);
  blocker = concurry_executor_submit (executor, gated_work, &gate, NULL, NULL);
  gate_wait_for (&gate, 1);
  for (guint i = 0; i < n; i++)
    {
      items[i] = (BatchItem) { i, futures, ran, order };
      futures[i] = concurry_executor_submit (executor, batch_work, &items[i], NULL, NULL);
    }
  gate_open (&gate);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, NULL));

  for (guint i = 0; i < n; i++)
    {
      if (i % 2 == 0)
        {
          g_assert_cmpint (ran[i], ==, 1);
          g_assert_cmpint (concurry_future_get_state (futures[i]), ==, CONCURRY_FUTURE_STATE_DONE);
        }
      else
        {
          g_assert_cmpint (ran[i], ==, 0);
          g_assert_true (concurry_future_is_cancelled (futures[i]));
        }
      g_object_unref (futures[i]);
    }
  g_assert_cmpuint (order->len, ==, n / 2);
  for (guint i = 0; i < order->len; i++)
    g_assert_cmpuint (g_array_index (order, guint, i), ==, 2 * i);

  g_free (ran);
  g_free (items);
  g_free (futures);
  gate_clear (&gate);
}

/* The cancellable is handed to the work without a lock: a cancel() racing
 * with the start of the work must still trip it. */
typedef struct
{
  int ran;
  int saw_cancel;
} StartProbe;

static void
wait_for_cancel_work (GCancellable  *cancellable,
                      GValue        *value,
                      gpointer       user_data,
                      GError       **error)
{
  StartProbe *probe = user_data;

  /* Until cancelled: a cancellation that never reaches running work
   * hangs here, and the harness's timeout reports it. */
  g_atomic_int_set (&probe->ran, 1);
  while (!g_cancellable_is_cancelled (cancellable))
    g_thread_yield ();
  g_atomic_int_set (&probe->saw_cancel, g_cancellable_is_cancelled (cancellable));
}

static void
test_cancel_racing_start (void)
{
  const guint n = slow_mode ? 200 : 3000;
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (2);
  StartProbe *probes = g_new0 (StartProbe, n);
  guint n_ran = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ConcurryFuture) future =
        concurry_executor_submit (executor, wait_for_cancel_work, &probes[i], NULL, NULL);

      /* Now, or once it started, or anywhere in between. */
      for (guint spin = 0; spin < i % 64 && !concurry_future_is_running (future); spin++)
        g_thread_yield ();
      g_assert_true (concurry_future_cancel (future));
    }
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, NULL));

  for (guint i = 0; i < n; i++)
    {
      if (probes[i].ran)
        {
          g_assert_true (probes[i].saw_cancel);
          n_ran++;
        }
    }
  g_test_message ("%u of %u started before they were cancelled", n_ran, n);
  g_free (probes);
}

/* A binding holds an executor through a toggle reference, and is told
 * when it becomes the last one. After shutdown (wait = TRUE) no worker
 * may do that any more: a Python script that shut its pool down may be
 * exiting, and a call into a finalized interpreter crashes. So every
 * notification must come on the thread that shut it down. */
typedef struct
{
  GThread *owner;
  int      shut_down;          /* shutdown() returned */
  int      late_on_workers;    /* notifications on workers after that */
} ToggleWatch;

static void
toggle_notified (gpointer  data,
                 GObject  *object,
                 gboolean  is_last_ref)
{
  ToggleWatch *watch = data;

  if (g_thread_self () != watch->owner && g_atomic_int_get (&watch->shut_down))
    g_atomic_int_inc (&watch->late_on_workers);
}

static void
test_shutdown_leaves_no_worker_holding (gconstpointer data)
{
  NewExecutor new_executor = data;

  for (guint round = 0; round < 20; round++)
    {
      ConcurryExecutor *executor = new_executor ();
      ToggleWatch watch = { g_thread_self (), FALSE, 0 };
      int ran = 0;

      /* From now on, the toggle reference is the binding's only one. */
      g_object_add_toggle_ref (G_OBJECT (executor), toggle_notified, &watch);
      g_object_unref (executor);

      for (guint i = 0; i < 200; i++)
        g_object_unref (concurry_executor_submit (executor, count_work, &ran, NULL, NULL));
      g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, NULL));
      g_atomic_int_set (&watch.shut_down, TRUE);
      g_assert_cmpint (ran, ==, 200);

      /* Until no worker holds a reference any more (at once, if none
       * held one once shutdown returned). */
      while (g_atomic_int_get (&G_OBJECT (executor)->ref_count) > 1)
        g_thread_yield ();
      g_assert_cmpint (watch.late_on_workers, ==, 0);
      g_object_remove_toggle_ref (G_OBJECT (executor), toggle_notified, &watch);
    }
}

static void
test_running_sees_cancellable (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryFuture) future = NULL;
  g_autoptr(GError) error = NULL;
  Gate gate;

  gate_init (&gate);
  future = concurry_executor_submit (executor, gated_work, &gate, NULL, &error);
  gate_wait_for (&gate, 1);
  g_assert_true (concurry_future_is_running (future));

  /* Cancelled at once; the work sees it when it looks. */
  g_assert_true (concurry_future_cancel (future));
  g_assert_true (concurry_future_is_cancelled (future));
  gate_open (&gate);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  g_assert_true (concurry_future_is_cancelled (future));
  gate_clear (&gate);
}

#define N_QUEUED 10

/* A one-worker pool whose worker is blocked in @gate, with N_QUEUED items
 * counting into @ran queued behind it. */
static ConcurryExecutor *
blocked_pool (Gate            *gate,
              ConcurryFuture **running,
              ConcurryFuture **queued,
              int             *ran)
{
  ConcurryExecutor *executor = concurry_thread_pool_executor_new (1);

  gate_init (gate);
  *running = concurry_executor_submit (executor, gated_work, gate, NULL, NULL);
  for (guint i = 0; i < N_QUEUED; i++)
    queued[i] = concurry_executor_submit (executor, count_work, ran, NULL, NULL);
  gate_wait_for (gate, 1);

  return executor;
}

static void
test_shutdown_cancel_futures (void)
{
  g_autoptr(ConcurryExecutor) executor = NULL;
  g_autoptr(ConcurryFuture) running = NULL;
  ConcurryFuture *queued[N_QUEUED];
  g_autoptr(GError) error = NULL;
  int ran = 0;
  Gate gate;

  executor = blocked_pool (&gate, &running, queued, &ran);

  /* Without waiting: the queued ones are cancelled before it returns. */
  g_assert_true (concurry_executor_shutdown (executor, FALSE, TRUE, &error));
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    g_assert_true (concurry_future_is_cancelled (queued[i]));
  g_assert_false (concurry_future_is_done (running));

  gate_open (&gate);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  /* The running one finished normally. */
  g_assert_cmpint (concurry_future_get_state (running), ==, CONCURRY_FUTURE_STATE_DONE);
  g_assert_cmpint (ran, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    g_object_unref (queued[i]);
  gate_clear (&gate);
}

/* Work submitted as the previous one completes, again and again, runs
 * on the worker that ran the previous one, which is idle once that is
 * done (the pool may have up to 8): that worker offers itself before the
 * previous one completes, and the submission takes the offer instead of
 * starting another drainer on another thread. Each is submitted by a
 * direct done callback of the previous one, which runs as it completes,
 * so that the worker is surely still there (a submitter that waits for
 * the previous one may find it gone, and GLib's pool may then start a
 * thread while the worker's is on its way back). */
typedef struct
{
  ConcurryExecutor *executor;
  GHashTable       *threads;   /* used by one callback at a time */
  guint             n_left;
  Gate              done;
} Sequence;

static void sequence_submit (Sequence *sequence);

static void
sequence_done_cb (ConcurryFuture *future,
                  gpointer        data)
{
  Sequence *sequence = data;

  g_hash_table_add (sequence->threads, concurry_future_get_pointer (future));
  if (--sequence->n_left == 0)
    gate_open (&sequence->done);
  else
    sequence_submit (sequence);
}

static void
sequence_submit (Sequence *sequence)
{
  g_autoptr(ConcurryFuture) future = concurry_executor_submit (sequence->executor, thread_work,
                                                               NULL, NULL, NULL);

  g_assert_nonnull (future);
  concurry_future_add_done_callback_direct (future, sequence_done_cb, sequence, NULL);
}

static void
test_sequential_work_reuses_an_idle_worker (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (8);
  g_autoptr(GHashTable) threads = g_hash_table_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  Sequence sequence = { executor, threads, 20, };

  gate_init (&sequence.done);
  sequence_submit (&sequence);
  gate_pass (&sequence.done);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  g_assert_cmpuint (g_hash_table_size (threads), ==, 1);
  gate_clear (&sequence.done);
}

static void
test_waiting_submitter_finds_the_idle_worker (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (8);
  g_autoptr(GHashTable) threads = g_hash_table_new (NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_test_summary ("Submitting, waiting for the result and submitting again runs on one "
                  "worker: the idle worker waits a while for more work (as a "
                  "concurrent.futures worker does), however late the submitter wakes");

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(ConcurryFuture) future = concurry_executor_submit (executor, thread_work,
                                                                   NULL, NULL, &error);

      g_assert_true (concurry_future_wait (future, -1, &error));
      g_hash_table_add (threads, concurry_future_get_pointer (future));
    }
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  g_assert_cmpuint (g_hash_table_size (threads), ==, 1);
}

static void
test_work_that_started_a_worker_survives_cancel_futures (void)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("Work submitted to an idle pool, which starts a worker for it, runs "
                  "even if shutdown(cancel_futures) comes at once: the worker takes it "
                  "first, as concurrent.futures' submit() starts a thread that does");

  for (guint round = 0; round < 20; round++)
    {
      g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (2);
      g_autoptr(ConcurryFuture) first = NULL;
      g_autoptr(ConcurryFuture) second = NULL;
      g_autoptr(ConcurryFuture) third = NULL;
      Gate gate;

      gate_init (&gate);
      first = concurry_executor_submit (executor, gated_work, &gate, NULL, &error);
      second = concurry_executor_submit (executor, gated_work, &gate, NULL, &error);
      /* no third worker: this one is queued behind them */
      third = concurry_executor_submit (executor, gated_work, &gate, NULL, &error);
      g_assert_true (concurry_executor_shutdown (executor, FALSE, TRUE, &error));
      g_assert_true (concurry_future_is_cancelled (third));
      gate_open (&gate);
      g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
      g_assert_cmpint (concurry_future_get_state (first), ==, CONCURRY_FUTURE_STATE_DONE);
      g_assert_cmpint (concurry_future_get_state (second), ==, CONCURRY_FUTURE_STATE_DONE);
      gate_clear (&gate);
    }
}

static gboolean
open_gate_cb (gpointer data)
{
  gate_open (data);
  return G_SOURCE_REMOVE;
}

/* The sequence of tests/fuzz/hangs/shutdown-wait-after-cancel: shut down
 * without waiting, cancelling what is queued, then again waiting (and
 * cancelling again) while both workers are still busy. The second
 * shutdown returns once the running work finished (the gate opens from
 * the main context, which it runs while it waits) and the cancelled
 * items were taken off the queue; the cancelled work never ran. */
static void
test_shutdown_wait_after_cancel (void)
{
  enum { N_RUNNING = 2, N_CANCELLED = 20 };
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (N_RUNNING);
  ConcurryFuture *running[N_RUNNING];
  ConcurryFuture *queued[N_CANCELLED];
  g_autoptr(GError) error = NULL;
  int ran = 0;
  Gate gate;

  gate_init (&gate);
  for (guint i = 0; i < N_RUNNING; i++)
    running[i] = concurry_executor_submit (executor, gated_work, &gate, NULL, NULL);
  gate_wait_for (&gate, N_RUNNING);
  for (guint i = 0; i < N_CANCELLED; i++)
    queued[i] = concurry_executor_submit (executor, count_work, &ran, NULL, NULL);

  g_assert_true (concurry_executor_shutdown (executor, FALSE, TRUE, &error));
  for (guint i = 0; i < N_CANCELLED; i++)
    g_assert_true (concurry_future_is_cancelled (queued[i]));

  g_idle_add (open_gate_cb, &gate);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, TRUE, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < N_RUNNING; i++)
    {
      g_assert_cmpint (concurry_future_get_state (running[i]), ==, CONCURRY_FUTURE_STATE_DONE);
      g_object_unref (running[i]);
    }
  for (guint i = 0; i < N_CANCELLED; i++)
    g_object_unref (queued[i]);
  g_assert_cmpint (ran, ==, 0);
  /* A third time: nothing left to wait for. */
  g_assert_true (concurry_executor_shutdown (executor, TRUE, TRUE, &error));
  gate_clear (&gate);
}

static void
test_shutdown_no_wait_still_runs (void)
{
  g_autoptr(ConcurryExecutor) executor = NULL;
  g_autoptr(ConcurryFuture) running = NULL;
  ConcurryFuture *queued[N_QUEUED];
  g_autoptr(GError) error = NULL;
  int ran = 0;
  Gate gate;

  executor = blocked_pool (&gate, &running, queued, &ran);

  g_assert_true (concurry_executor_shutdown (executor, FALSE, FALSE, &error));
  g_assert_false (concurry_future_is_done (queued[0]));
  gate_open (&gate);

  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    {
      g_assert_true (concurry_future_wait (queued[i], -1, &error));
      g_object_unref (queued[i]);
    }
  g_assert_cmpint (ran, ==, G_N_ELEMENTS (queued));
  gate_clear (&gate);
}

static void
test_shutdown_wait_waits (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (2);
  g_autoptr(GError) error = NULL;
  int ran = 0;

  for (guint i = 0; i < 1000; i++)
    {
      ConcurryFuture *future = concurry_executor_submit (executor, count_work, &ran, NULL, &error);
      g_object_unref (future);
    }
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  g_assert_cmpint (g_atomic_int_get (&ran), ==, 1000);
}

typedef struct
{
  ConcurryExecutor *executor;
  GError           *error;
  gboolean          returned;
} SelfWait;

static void
self_wait_work (GCancellable  *cancellable,
                GValue        *value,
                gpointer       user_data,
                GError       **error)
{
  SelfWait *sw = user_data;

  sw->returned = concurry_executor_shutdown (sw->executor, TRUE, FALSE, &sw->error);
}

static void
test_shutdown_from_own_worker (gconstpointer data)
{
  NewExecutor new_executor = data;
  g_autoptr(ConcurryExecutor) executor = new_executor ();
  g_autoptr(ConcurryFuture) future = NULL;
  g_autoptr(GError) error = NULL;
  SelfWait sw = { executor, NULL, TRUE };

  future = concurry_executor_submit (executor, self_wait_work, &sw, NULL, &error);
  g_assert_true (concurry_future_wait (future, -1, &error));
  g_assert_false (sw.returned);
  g_assert_error (sw.error, CONCURRY_ERROR, CONCURRY_ERROR_WRONG_THREAD);
  g_clear_error (&sw.error);
  /* Still shut down. */
  g_assert_true (concurry_executor_is_shutdown (executor));
}

static void
set_flag_weak_notify (gpointer  data,
                      GObject  *where_the_object_was)
{
  g_atomic_int_set ((int *)data, TRUE);
}

static void
test_drop_last_reference (gconstpointer data)
{
  NewExecutor new_executor = data;
  ConcurryExecutor *executor = new_executor ();
  ConcurryFuture *futures[100];
  g_autoptr(GError) error = NULL;
  int ran = 0;
  int finalized = FALSE;

  /* A weak notify, not a GWeakRef polled from here: each poll would take a
   * reference, and this thread might then be the one to drop the last. */
  g_object_weak_ref (G_OBJECT (executor), set_flag_weak_notify, &finalized);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = concurry_executor_submit (executor, count_work, &ran, NULL, &error);
  g_object_unref (executor);

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      g_assert_true (concurry_future_wait (futures[i], -1, &error));
      g_object_unref (futures[i]);
    }
  g_assert_cmpint (g_atomic_int_get (&ran), ==, G_N_ELEMENTS (futures));

  /* Gone once its work is (the last worker may still be returning). */
  while (!g_atomic_int_get (&finalized))
    {
      g_main_context_iteration (NULL, FALSE);
      g_thread_yield ();
    }
}

typedef struct
{
  GString *log;
  char     tag;
} Tagged;

static void
tagged_work (GCancellable  *cancellable,
             GValue        *value,
             gpointer       user_data,
             GError       **error)
{
  Tagged *t = user_data;

  g_string_append_c (t->log, t->tag);
}

static void
test_main_context_executor (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(ConcurryExecutor) executor = concurry_main_context_executor_new (context);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  Tagged tags[] = { { log, 'a' }, { log, 'b' }, { log, 'c' } };
  ConcurryFuture *futures[G_N_ELEMENTS (tags)];

  g_assert_true (concurry_main_context_executor_get_context (CONCURRY_MAIN_CONTEXT_EXECUTOR (executor)) == context);
  g_assert_cmpuint (concurry_executor_get_max_workers (executor), ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
    futures[i] = concurry_executor_submit (executor, tagged_work, &tags[i], NULL, &error);
  /* Nothing runs until the context does. */
  g_assert_cmpstr (log->str, ==, "");
  concurry_future_cancel (futures[1]);

  /* Waiting on the thread whose context runs the work: shutdown iterates
   * it (a thread that does not own the context would just sleep). */
  g_main_context_push_thread_default (context);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  g_main_context_pop_thread_default (context);
  g_assert_cmpstr (log->str, ==, "ac");
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    g_object_unref (futures[i]);
}

/* ---- map ---- */

typedef struct
{
  int  next;
  int  end;        /* -1: endless */
  int  n_read;
  int  fail_at;    /* -1: never */
} Counter;

static gboolean
counter_input (GValue   *item,
               gpointer  user_data,
               GError  **error)
{
  Counter *c = user_data;

  if (c->fail_at >= 0 && c->next == c->fail_at)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "input broke at %d", c->next);
      return FALSE;
    }
  if (c->end >= 0 && c->next >= c->end)
    return FALSE;
  g_value_init (item, G_TYPE_INT);
  g_value_set_int (item, c->next++);
  c->n_read++;
  return TRUE;
}

static void
square (const GValue  *item,
        GCancellable  *cancellable,
        GValue        *result,
        gpointer       user_data,
        GError       **error)
{
  int n = g_value_get_int (item);

  if (user_data != NULL && n == GPOINTER_TO_INT (user_data))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad item %d", n);
      return;
    }
  g_value_init (result, G_TYPE_INT);
  g_value_set_int (result, n * n);
}

static void
test_map_order (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (4);
  g_autoptr(GError) error = NULL;
  Counter counter = { 0, 1000, 0, -1 };

  for (guint chunksize = 1; chunksize <= 7; chunksize += 3)
    {
      g_autoptr(ConcurryMapResults) results = NULL;
      GValue value = G_VALUE_INIT;
      int expected = 0;

      counter.next = 0;
      results = concurry_executor_map (executor, square, NULL, NULL, counter_input, &counter, NULL,
                                       -1, chunksize, 0, &error);
      g_assert_no_error (error);
      while (concurry_map_results_next (results, &value, &error))
        {
          g_assert_cmpint (g_value_get_int (&value), ==, expected * expected);
          g_value_unset (&value);
          expected++;
        }
      g_assert_no_error (error);
      g_value_unset (&value);
      g_assert_cmpint (expected, ==, 1000);
      /* Exhausted for good. */
      g_assert_false (concurry_map_results_next (results, &value, &error));
      g_assert_no_error (error);
      g_value_unset (&value);
    }
}

static void
test_map_empty (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryMapResults) results = NULL;
  g_autoptr(GError) error = NULL;
  Counter counter = { 0, 0, 0, -1 };
  g_auto(GValue) value = G_VALUE_INIT;

  results = concurry_executor_map (executor, square, NULL, NULL, counter_input, &counter, NULL,
                                   -1, 1, 0, &error);
  g_assert_false (concurry_map_results_next (results, &value, &error));
  g_assert_no_error (error);
}

static void
test_map_error_stops (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryMapResults) results = NULL;
  g_autoptr(GError) error = NULL;
  Counter counter = { 0, 100, 0, -1 };
  GValue value = G_VALUE_INIT;
  int n = 0;

  results = concurry_executor_map (executor, square, GINT_TO_POINTER (5), NULL,
                                   counter_input, &counter, NULL, -1, 2, 0, &error);
  while (concurry_map_results_next (results, &value, &error))
    {
      g_assert_cmpint (g_value_get_int (&value), ==, n * n);
      g_value_unset (&value);
      n++;
    }
  g_value_unset (&value);
  /* Earlier results normally, the error at its position, then nothing. */
  g_assert_cmpint (n, ==, 5);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (concurry_map_results_next (results, &value, &error));
  g_assert_no_error (error);
  g_value_unset (&value);
  /* The rest was not read. */
  g_assert_cmpint (counter.n_read, <, 100);
}

static void
gated_square (const GValue  *item,
              GCancellable  *cancellable,
              GValue        *result,
              gpointer       user_data,
              GError       **error)
{
  gate_pass (user_data);
  square (item, cancellable, result, NULL, error);
}

static void
test_map_backpressure (void)
{
  /* Endless input, one worker blocked: only the window is read. */
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryMapResults) results = NULL;
  g_autoptr(GError) error = NULL;
  Counter counter = { 0, -1, 0, -1 };
  GValue value = G_VALUE_INIT;
  Gate gate;

  gate_init (&gate);
  results = concurry_executor_map (executor, gated_square, &gate, NULL, counter_input, &counter, NULL,
                                   -1, 3, 4, &error);
  g_assert_no_error (error);
  /* max_in_flight × chunksize */
  g_assert_cmpint (counter.n_read, ==, 12);
  gate_wait_for (&gate, 1);
  g_assert_cmpint (counter.n_read, ==, 12);

  gate_open (&gate);
  for (int i = 0; i < 50; i++)
    {
      g_assert_true (concurry_map_results_next (results, &value, &error));
      g_assert_cmpint (g_value_get_int (&value), ==, i * i);
      g_value_unset (&value);
      /* Never more than the window ahead of what was consumed. */
      g_assert_cmpint (counter.n_read, <=, i + 1 + 12 + 3);
    }
  concurry_map_results_close (results);
  g_assert_false (concurry_map_results_next (results, &value, &error));
  g_assert_no_error (error);
  g_value_unset (&value);
  /* Items of the window may still be passing the gate (valgrind's
   * slowness showed it): wait for the worker before clearing it. */
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, NULL));
  gate_clear (&gate);
}

static void
test_map_timeout (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryMapResults) results = NULL;
  g_autoptr(GError) error = NULL;
  Counter counter = { 0, 20, 0, -1 };
  GValue value = G_VALUE_INIT;
  gint64 start = g_get_monotonic_time ();
  Gate gate;

  gate_init (&gate);
  results = concurry_executor_map (executor, gated_square, &gate, NULL, counter_input, &counter, NULL,
                                   50000, 1, 0, &error);
  g_assert_false (concurry_map_results_next (results, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_value_unset (&value);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50000);
  /* Exhausted, the rest cancelled: releasing the worker runs nothing else. */
  g_assert_false (concurry_map_results_next (results, &value, &error));
  g_assert_no_error (error);
  g_value_unset (&value);
  gate_open (&gate);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  gate_clear (&gate);
}

static void
test_map_input_error (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (2);
  g_autoptr(ConcurryMapResults) results = NULL;
  g_autoptr(GError) error = NULL;
  Counter counter = { 0, -1, 0, 7 };
  GValue value = G_VALUE_INIT;
  int n = 0;

  results = concurry_executor_map (executor, square, NULL, NULL, counter_input, &counter, NULL,
                                   -1, 3, 0, &error);
  while (concurry_map_results_next (results, &value, &error))
    {
      g_assert_cmpint (g_value_get_int (&value), ==, n * n);
      g_value_unset (&value);
      n++;
    }
  g_value_unset (&value);
  /* Every item before the failure, then the input's error. */
  g_assert_cmpint (n, ==, 7);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
}

static void
count_item (const GValue  *item,
            GCancellable  *cancellable,
            GValue        *result,
            gpointer       user_data,
            GError       **error)
{
  g_atomic_int_inc ((int *)user_data);
}

static void
test_map_timeout_cancels_waited_item (void)
{
  /* The worker is busy: the item next() waits for is still queued when
   * the deadline passes, and must never run. */
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryFuture) blocker = NULL;
  g_autoptr(ConcurryMapResults) results = NULL;
  g_autoptr(GError) error = NULL;
  Counter counter = { 0, 5, 0, -1 };
  GValue value = G_VALUE_INIT;
  int ran = 0;
  Gate gate;

  gate_init (&gate);
  blocker = concurry_executor_submit (executor, gated_work, &gate, NULL, &error);
  gate_wait_for (&gate, 1);
  results = concurry_executor_map (executor, count_item, &ran, NULL, counter_input, &counter, NULL,
                                   0, 1, 0, &error);
  g_assert_false (concurry_map_results_next (results, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_value_unset (&value);
  gate_open (&gate);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, NULL));
  g_assert_cmpint (ran, ==, 0);
  gate_clear (&gate);
}

static gpointer
close_later (gpointer data)
{
  Gate *gate = g_object_get_data (data, "gate");

  /* Once the worker is blocked in the first item, next() waits for it. */
  gate_wait_for (gate, 1);
  concurry_map_results_close (data);
  return NULL;
}

static void
test_map_close_from_other_thread (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryMapResults) results = NULL;
  g_autoptr(GError) error = NULL;
  Counter counter = { 0, 10, 0, -1 };
  GValue value = G_VALUE_INIT;
  GThread *thread;
  Gate gate;

  gate_init (&gate);
  results = concurry_executor_map (executor, gated_square, &gate, NULL, counter_input, &counter, NULL,
                                   -1, 1, 0, &error);
  g_object_set_data (G_OBJECT (results), "gate", &gate);
  thread = g_thread_new ("closer", close_later, results);
  /* Returns once closed, without a result or an error. */
  g_assert_false (concurry_map_results_next (results, &value, &error));
  g_assert_no_error (error);
  g_value_unset (&value);
  g_thread_join (thread);
  gate_open (&gate);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, NULL));
  gate_clear (&gate);
}

static void
test_map_timeout_zero (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryMapResults) results = NULL;
  g_autoptr(GError) error = NULL;
  Counter counter = { 0, 20, 0, -1 };
  GValue value = G_VALUE_INIT;
  Gate gate;

  gate_init (&gate);
  results = concurry_executor_map (executor, gated_square, &gate, NULL, counter_input, &counter, NULL,
                                   0, 1, 0, &error);
  g_assert_false (concurry_map_results_next (results, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_value_unset (&value);
  gate_open (&gate);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, NULL));
  gate_clear (&gate);
}

/* ---- stress ---- */

typedef struct
{
  ConcurryExecutor *executor;
  guint             n_items;
  int               n_done;
  int               n_failed;
  int               n_cancelled;
  int               n_refused;
  int               n_ran;
  int               n_destroyed;
  int               n_callbacks;
} Stress;

static void
stress_work (GCancellable  *cancellable,
             GValue        *value,
             gpointer       user_data,
             GError       **error)
{
  Stress *s = user_data;
  int n = g_atomic_int_add (&s->n_ran, 1);

  if (n % 7 == 0)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "seventh");
}

static void
stress_destroy (gpointer data)
{
  Stress *s = data;

  g_atomic_int_inc (&s->n_destroyed);
}

static gpointer
stress_submitter (gpointer data)
{
  Stress *s = data;
  GPtrArray *futures = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < s->n_items; i++)
    {
      GError *error = NULL;
      ConcurryFuture *future = concurry_executor_submit (s->executor, stress_work, s, stress_destroy, &error);

      if (future == NULL)
        {
          g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
          g_error_free (error);
          g_atomic_int_inc (&s->n_refused);
          continue;
        }
      if (i % 3 == 0)
        concurry_future_cancel (future);
      g_ptr_array_add (futures, future);
    }

  for (guint i = 0; i < futures->len; i++)
    {
      ConcurryFuture *future = futures->pdata[i];
      GError *error = NULL;

      concurry_future_wait (future, -1, &error);
      switch (concurry_future_get_state (future))
        {
        case CONCURRY_FUTURE_STATE_DONE:
          g_atomic_int_inc (&s->n_done);
          break;
        case CONCURRY_FUTURE_STATE_FAILED:
          g_atomic_int_inc (&s->n_failed);
          break;
        case CONCURRY_FUTURE_STATE_CANCELLED:
          g_atomic_int_inc (&s->n_cancelled);
          break;
        default:
          g_assert_not_reached ();
        }
      g_clear_error (&error);
    }
  g_ptr_array_unref (futures);

  return NULL;
}

static gpointer
stress_shutter (gpointer data)
{
  Stress *s = data;

  /* Shut down somewhere in the middle of the submissions. */
  while (g_atomic_int_get (&s->n_ran) < (int)s->n_items)
    g_thread_yield ();
  g_assert_true (concurry_executor_shutdown (s->executor, FALSE, TRUE, NULL));

  return NULL;
}

static void
test_stress (gconstpointer data)
{
  NewExecutor new_executor = data;
  guint n_threads = 4;
  GThread *threads[5];
  Stress s = { 0, };
  guint total;
  int ran, cancelled_not_run;

  s.executor = new_executor ();
  s.n_items = slow_mode ? 2000 : (new_executor == new_pool ? 50000 : 10000);

  for (guint i = 0; i < n_threads; i++)
    threads[i] = g_thread_new ("submitter", stress_submitter, &s);
  threads[n_threads] = g_thread_new ("shutter", stress_shutter, &s);
  for (guint i = 0; i <= n_threads; i++)
    g_thread_join (threads[i]);
  g_assert_true (concurry_executor_shutdown (s.executor, TRUE, FALSE, NULL));

  total = n_threads * s.n_items;
  /* Every item ended in exactly one way. */
  g_assert_cmpuint (s.n_done + s.n_failed + s.n_cancelled + s.n_refused, ==, total);
  /* Every accepted item's data was destroyed exactly once, run or not... */
  g_assert_cmpint (s.n_destroyed, ==, (int)total);
  /* ...and nothing that was cancelled before starting ran. */
  ran = s.n_ran;
  cancelled_not_run = (int)total - s.n_refused - ran;
  g_assert_cmpint (cancelled_not_run, <=, s.n_cancelled);
  g_assert_cmpint (s.n_done + s.n_failed, <=, ran);
  g_test_message ("%d done, %d failed, %d cancelled, %d refused; %d ran",
                  s.n_done, s.n_failed, s.n_cancelled, s.n_refused, ran);

  g_object_unref (s.executor);
}

static void
callback_count (ConcurryFuture *future,
                gpointer        user_data)
{
  guint *n = user_data;

  (*n)++;
}

static void
test_callbacks_on_main_thread (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (4);
  g_autoptr(GError) error = NULL;
  guint n = 0;

  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(ConcurryFuture) future = concurry_executor_submit (executor, answer_work, NULL, NULL, &error);
      concurry_future_add_done_callback (future, callback_count, &n, NULL);
    }
  while (n < 200)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
}

typedef struct
{
  Gate         *gate;
  GCancellable *seen;
  gboolean      cancelled_at_start;
  gboolean      keep;
} CancellableProbe;

static void
probe_work (GCancellable  *cancellable,
            GValue        *value,
            gpointer       user_data,
            GError       **error)
{
  CancellableProbe *p = user_data;

  p->cancelled_at_start = g_cancellable_is_cancelled (cancellable);
  p->seen = p->keep ? g_object_ref (cancellable) : cancellable;
  if (p->gate != NULL)
    gate_pass (p->gate);
}

/* Threads give their cancellable to the next work only when nobody can
 * see it any more: a cancelled one is never passed on cancelled, and one
 * the work kept is never shared. */
static void
test_cancellable_not_shared (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(GError) error = NULL;
  CancellableProbe first = { NULL, NULL, FALSE, TRUE };
  CancellableProbe second = { NULL, NULL, FALSE, FALSE };
  CancellableProbe third = { NULL, NULL, FALSE, FALSE };
  g_autoptr(ConcurryFuture) a = NULL, b = NULL, c = NULL;
  Gate gate;

  gate_init (&gate);
  first.gate = &gate;
  a = concurry_executor_submit (executor, probe_work, &first, NULL, &error);
  b = concurry_executor_submit (executor, probe_work, &second, NULL, &error);
  c = concurry_executor_submit (executor, probe_work, &third, NULL, &error);
  gate_wait_for (&gate, 1);

  /* Cancelled while it runs: its cancellable trips. */
  g_assert_true (concurry_future_cancel (a));
  g_assert_true (g_cancellable_is_cancelled (first.seen));
  gate_open (&gate);
  g_assert_true (concurry_future_wait (c, -1, &error));

  /* The first work kept its cancellable: still cancelled, and not reused. */
  g_assert_true (g_cancellable_is_cancelled (first.seen));
  g_assert_true (second.seen != first.seen);
  g_assert_false (second.cancelled_at_start);
  g_assert_false (third.cancelled_at_start);

  g_object_unref (first.seen);
  gate_clear (&gate);
}

/* A work function may connect to its cancellable and leave the handler
 * there without keeping the cancellable: the handler is destroyed once the
 * work is over (as finalizing the cancellable would), and never hears of
 * the cancellation of later work, even when the thread passes that work
 * the same cancellable. */
typedef struct
{
  int calls;
  int destroyed;
} LeftHandler;

static void
left_handler_cb (GCancellable *cancellable,
                 gpointer      user_data)
{
  LeftHandler *h = user_data;

  h->calls++;
}

static void
left_handler_destroy (gpointer user_data)
{
  LeftHandler *h = user_data;

  h->destroyed++;
}

static void
leave_handler_work (GCancellable  *cancellable,
                    GValue        *value,
                    gpointer       user_data,
                    GError       **error)
{
  g_cancellable_connect (cancellable, G_CALLBACK (left_handler_cb), user_data,
                         left_handler_destroy);
}

static void
test_handler_left_on_cancellable_never_sees_later_work (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(ConcurryFuture) a = NULL, b = NULL;
  CancellableProbe second = { NULL, NULL, FALSE, FALSE };
  LeftHandler left = { 0, 0 };
  Gate gate;

  gate_init (&gate);
  second.gate = &gate;
  /* One worker: the second work starts once the first is all over. */
  a = concurry_executor_submit (executor, leave_handler_work, &left, NULL, &error);
  b = concurry_executor_submit (executor, probe_work, &second, NULL, &error);
  g_assert_no_error (error);
  gate_wait_for (&gate, 1);

  g_assert_cmpint (left.destroyed, ==, 1);
  g_assert_false (second.cancelled_at_start);

  g_assert_true (concurry_future_cancel (b));
  g_assert_true (g_cancellable_is_cancelled (second.seen));
  g_assert_cmpint (left.calls, ==, 0);

  gate_open (&gate);
  concurry_executor_shutdown (executor, TRUE, FALSE, NULL);
  g_assert_cmpint (left.calls, ==, 0);
  g_assert_cmpint (left.destroyed, ==, 1);
  gate_clear (&gate);
}

typedef struct
{
  ConcurryExecutor *executor;
  GThread          *ran_on;
} Nested;

static void
record_thread_work (GCancellable  *cancellable,
                    GValue        *value,
                    gpointer       user_data,
                    GError       **error)
{
  Nested *n = user_data;

  n->ran_on = g_thread_self ();
}

static void
wait_for_sibling_work (GCancellable  *cancellable,
                       GValue        *value,
                       gpointer       user_data,
                       GError       **error)
{
  Nested *n = user_data;
  g_autoptr(ConcurryFuture) sibling = concurry_executor_submit (n->executor, record_thread_work, n, NULL, NULL);

  /* Runs the executor's source nested: the sibling must run in there. */
  g_value_init (value, G_TYPE_BOOLEAN);
  g_value_set_boolean (value, concurry_future_wait (sibling, -1, NULL));
}

/* Work that queues more of itself until a source of the toolkit's redraw
 * priority got its turn (or a million items ran). */
typedef struct
{
  ConcurryExecutor *executor;
  gboolean          redraw_ran;
  guint             n_run;
} Resubmitting;

#define RESUBMIT_LIMIT 1000000

static void
resubmitting_work (GCancellable  *cancellable,
                   GValue        *value,
                   gpointer       user_data,
                   GError       **error)
{
  Resubmitting *r = user_data;

  if (++r->n_run < RESUBMIT_LIMIT && !r->redraw_ran)
    g_object_unref (concurry_executor_submit (r->executor, resubmitting_work, r, NULL, NULL));
}

static gboolean
redraw_ran (gpointer user_data)
{
  ((Resubmitting *)user_data)->redraw_ran = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_main_context_work_is_background_work (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_main_context_executor_new (NULL);
  Resubmitting r = { executor, FALSE, 0 };

  g_test_summary ("A main-context executor runs its work at idle priority: while work "
                  "stays queued, a source of a toolkit's redraw priority still gets its turn");

  g_object_unref (concurry_executor_submit (executor, resubmitting_work, &r, NULL, NULL));
  g_idle_add_full (G_PRIORITY_HIGH_IDLE + 20, redraw_ran, &r, NULL);
  while (!r.redraw_ran && r.n_run < RESUBMIT_LIMIT)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (r.redraw_ran);
  g_assert_cmpuint (r.n_run, <, RESUBMIT_LIMIT);
  /* the last item queued runs, and queues nothing */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_main_context_nested_wait (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_main_context_executor_new (NULL);
  Nested n = { executor, NULL };
  g_autoptr(ConcurryFuture) outer = concurry_executor_submit (executor, wait_for_sibling_work, &n, NULL, NULL);

  g_assert_true (concurry_future_wait (outer, -1, NULL));
  g_assert_true (concurry_future_get_boolean (outer));
  g_assert_true (n.ran_on == g_thread_self ());
}

static gpointer
shutdown_from_thread (gpointer data)
{
  concurry_executor_shutdown (data, TRUE, FALSE, NULL);
  return NULL;
}

static void
test_main_context_shutdown_elsewhere (void)
{
  /* A thread that does not own the executor's context waits; it never
   * runs the work itself. */
  g_autoptr(ConcurryExecutor) executor = concurry_main_context_executor_new (NULL);
  Nested n = { executor, NULL };
  g_autoptr(ConcurryFuture) future = concurry_executor_submit (executor, record_thread_work, &n, NULL, NULL);
  GThread *thread = g_thread_new ("shutdown", shutdown_from_thread, executor);

  while (!concurry_future_is_done (future))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);
  g_assert_true (n.ran_on == g_thread_self ());
}

typedef struct
{
  ConcurryExecutor *executor;
  gboolean          cancel_futures;
} ShutdownCall;

static gpointer
shutdown_waiting_from_thread (gpointer data)
{
  ShutdownCall *call = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = concurry_executor_shutdown (call->executor, TRUE, call->cancel_futures, &error);

  g_assert_no_error (error);
  return GINT_TO_POINTER (ok);
}

typedef struct
{
  int ran;
  int destroyed;
} RunAndDrop;

static void
run_and_drop_work (GCancellable  *cancellable,
                   GValue        *value,
                   gpointer       user_data,
                   GError       **error)
{
  ((RunAndDrop *)user_data)->ran++;
}

static void
run_and_drop_destroy (gpointer data)
{
  ((RunAndDrop *)data)->destroyed++;
}

static void
test_main_context_shutdown_waits_for_no_cancelled_work (void)
{
  g_test_summary ("shutdown(wait) of a main-context executor from another thread does "
                  "not wait for work that was cancelled (by cancel_futures, or by its "
                  "future): the context's owner may be waiting for that thread");

  for (int how = 0; how < 2; how++)
    {
      g_autoptr(ConcurryExecutor) executor = concurry_main_context_executor_new (NULL);
      ShutdownCall call = { executor, how == 0 };
      RunAndDrop counts = { 0, 0 };
      g_autoptr(ConcurryFuture) future = concurry_executor_submit (executor, run_and_drop_work,
                                                                   &counts,
                                                                   run_and_drop_destroy, NULL);
      GThread *thread;

      g_assert_nonnull (future);
      if (how == 1)
        g_assert_true (concurry_future_cancel (future));
      thread = g_thread_new ("shutdown", shutdown_waiting_from_thread, &call);
      /* this thread owns the context and does not run it meanwhile */
      g_assert_true (GPOINTER_TO_INT (g_thread_join (thread)));
      g_assert_true (concurry_future_is_cancelled (future));
      g_assert_cmpint (counts.ran, ==, 0);
      g_assert_cmpint (counts.destroyed, ==, 1);
    }
}

static gboolean
resolve_true_idle (gpointer data)
{
  concurry_promise_resolve_boolean (data, TRUE);
  return G_SOURCE_REMOVE;
}

static void
wait_for_main_loop_work (GCancellable  *cancellable,
                         GValue        *value,
                         gpointer       user_data,
                         GError       **error)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();

  /* Completed by an idle of the global default context. */
  g_idle_add_full (G_PRIORITY_DEFAULT, resolve_true_idle, g_object_ref (promise), g_object_unref);
  g_value_init (value, G_TYPE_BOOLEAN);
  g_value_set_boolean (value, concurry_future_wait (CONCURRY_FUTURE (promise), -1, NULL));
}

static void
test_shutdown_wait_iterates_own_context (void)
{
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (1);
  g_autoptr(ConcurryFuture) future = concurry_executor_submit (executor, wait_for_main_loop_work, NULL, NULL, NULL);

  /* The main thread owns the default context: waiting runs it (else the
   * work, which waits without a timeout for an idle there, never ends). */
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, NULL));
  g_assert_true (concurry_future_get_boolean (future));
}

static void
test_max_workers (void)
{
  g_autoptr(ConcurryExecutor) four = concurry_thread_pool_executor_new (4);
  g_autoptr(ConcurryExecutor) dflt = concurry_thread_pool_executor_new (0);
  guint max = 0;

  g_assert_cmpuint (concurry_executor_get_max_workers (four), ==, 4);
  g_assert_cmpuint (concurry_executor_get_max_workers (dflt), ==, g_get_num_processors ());
  g_object_get (four, "max-workers", &max, NULL);
  g_assert_cmpuint (max, ==, 4);
}

static void
test_saturation (void)
{
  /* Never more than max_workers at once. */
  g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (3);
  g_autoptr(GError) error = NULL;
  ConcurryFuture *futures[6];
  Gate gate;

  gate_init (&gate);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = concurry_executor_submit (executor, gated_work, &gate, NULL, &error);
  gate_wait_for (&gate, 3);
  g_mutex_lock (&gate.mutex);
  g_assert_cmpuint (gate.n_waiting, ==, 3);
  g_mutex_unlock (&gate.mutex);
  gate_open (&gate);
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      g_assert_true (concurry_future_is_done (futures[i]));
      g_object_unref (futures[i]);
    }
  gate_clear (&gate);
}

int
main (int argc,
      char *argv[])
{
  struct { const char *name; NewExecutor func; } kinds[] = {
    { "thread-pool", new_pool },
    { "task", new_task },
    { "main-context", new_main_context },
  };

  g_test_init (&argc, &argv, NULL);
  slow_mode = g_getenv ("CONCURRY_TEST_SLOW") != NULL;

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *submit = g_strdup_printf ("/Concurry/Executor/%s/submit", kinds[i].name);
      g_autofree char *after = g_strdup_printf ("/Concurry/Executor/%s/submit-after-shutdown", kinds[i].name);
      g_autofree char *self = g_strdup_printf ("/Concurry/Executor/%s/shutdown-from-own-worker", kinds[i].name);
      g_autofree char *drop = g_strdup_printf ("/Concurry/Executor/%s/drop-last-reference", kinds[i].name);

      g_test_add_data_func (submit, kinds[i].func, test_submit);
      g_test_add_data_func (after, kinds[i].func, test_submit_after_shutdown);
      g_test_add_data_func (self, kinds[i].func, test_shutdown_from_own_worker);
      g_test_add_data_func (drop, kinds[i].func, test_drop_last_reference);
    }
  g_test_add_data_func ("/Concurry/Executor/thread-pool/stress", new_pool, test_stress);
  g_test_add_data_func ("/Concurry/Executor/task/stress", new_task, test_stress);

  g_test_add_func ("/Concurry/Executor/queued-cancel-never-runs", test_queued_cancel_never_runs);
  g_test_add_func ("/Concurry/Executor/running-sees-cancellable", test_running_sees_cancellable);
  g_test_add_func ("/Concurry/Executor/batched-cancel-never-runs", test_batched_cancel_never_runs);
  g_test_add_data_func ("/Concurry/Executor/pool/shutdown-leaves-no-worker-holding", new_pool,
                        test_shutdown_leaves_no_worker_holding);
  g_test_add_data_func ("/Concurry/Executor/task/shutdown-leaves-no-worker-holding", new_task,
                        test_shutdown_leaves_no_worker_holding);
  g_test_add_func ("/Concurry/Executor/cancel-racing-start", test_cancel_racing_start);
  g_test_add_func ("/Concurry/Executor/shutdown-cancel-futures", test_shutdown_cancel_futures);
  g_test_add_func ("/Concurry/Executor/shutdown-wait-after-cancel", test_shutdown_wait_after_cancel);
  g_test_add_func ("/Concurry/Executor/sequential-work-reuses-an-idle-worker",
                   test_sequential_work_reuses_an_idle_worker);
  g_test_add_func ("/Concurry/Executor/waiting-submitter-finds-the-idle-worker",
                   test_waiting_submitter_finds_the_idle_worker);
  g_test_add_func ("/Concurry/Executor/work-that-started-a-worker-survives-cancel-futures",
                   test_work_that_started_a_worker_survives_cancel_futures);
  g_test_add_func ("/Concurry/Executor/shutdown-no-wait-still-runs", test_shutdown_no_wait_still_runs);
  g_test_add_func ("/Concurry/Executor/shutdown-wait-waits", test_shutdown_wait_waits);
  g_test_add_func ("/Concurry/Executor/main-context", test_main_context_executor);
  g_test_add_func ("/Concurry/Executor/callbacks-on-main-thread", test_callbacks_on_main_thread);
  g_test_add_func ("/Concurry/Executor/max-workers", test_max_workers);
  g_test_add_func ("/Concurry/Executor/main-context-nested-wait", test_main_context_nested_wait);
  g_test_add_func ("/Concurry/Executor/main-context-work-is-background-work",
                   test_main_context_work_is_background_work);
  g_test_add_func ("/Concurry/Executor/main-context-shutdown-elsewhere", test_main_context_shutdown_elsewhere);
  g_test_add_func ("/Concurry/Executor/main-context-shutdown-waits-for-no-cancelled-work",
                   test_main_context_shutdown_waits_for_no_cancelled_work);
  g_test_add_func ("/Concurry/Executor/shutdown-wait-iterates-own-context", test_shutdown_wait_iterates_own_context);
  g_test_add_func ("/Concurry/Executor/cancellable-not-shared", test_cancellable_not_shared);
  g_test_add_func ("/Concurry/Executor/handler-left-on-cancellable-never-sees-later-work",
                   test_handler_left_on_cancellable_never_sees_later_work);
  g_test_add_func ("/Concurry/Executor/saturation", test_saturation);
  g_test_add_func ("/Concurry/Executor/recycled-futures-are-clean", test_recycled_futures_are_clean);
  g_test_add_func ("/Concurry/Executor/reachable-futures-not-recycled", test_reachable_futures_not_recycled);
  g_test_add_func ("/Concurry/Map/order", test_map_order);
  g_test_add_func ("/Concurry/Map/empty", test_map_empty);
  g_test_add_func ("/Concurry/Map/error-stops", test_map_error_stops);
  g_test_add_func ("/Concurry/Map/backpressure", test_map_backpressure);
  g_test_add_func ("/Concurry/Map/timeout", test_map_timeout);
  g_test_add_func ("/Concurry/Map/timeout-zero", test_map_timeout_zero);
  g_test_add_func ("/Concurry/Map/input-error", test_map_input_error);
  g_test_add_func ("/Concurry/Map/close-from-other-thread", test_map_close_from_other_thread);
  g_test_add_func ("/Concurry/Map/timeout-cancels-waited-item", test_map_timeout_cancels_waited_item);

  return g_test_run ();
}
