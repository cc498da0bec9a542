/* concurry-executor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-executor.h"
#include "concurry-error.h"
#include "concurry-executor-private.h"
#include "concurry-future-private.h"
#include "concurry-i18n-private.h"
#include "concurry-main-context-executor.h"
#include "concurry-map-results-private.h"
#include "concurry-runner-private.h"
#include "concurry-task-executor.h"
#include "concurry-thread-pool-executor.h"
#include "concurry-work-queue-private.h"
#include "concurry-platform-private.h"
#include "concurry-work-future-private.h"

/**
 * ConcurryExecutor:
 *
 * Something that runs work and hands out a [iface@Concurry.Future] for
 * each piece of it.
 *
 * concurry has three executors:
 *
 * - [class@Concurry.ThreadPoolExecutor] owns a `GThreadPool` of
 *   `max-workers` threads: the choice for blocking or CPU-bound work in C,
 *   Vala and Python;
 * - [class@Concurry.TaskExecutor] runs work with g_task_run_in_thread() on
 *   GLib's shared pool;
 * - [class@Concurry.MainContextExecutor] runs work on a `GMainContext`:
 *   how a GJS or GTK program runs its own functions through the same API,
 *   since JavaScript must never run on another thread.
 *
 * Work is a [callback@Concurry.WorkFunc]: it gets the `GCancellable` of its
 * future and returns a value or an error. Work that has not started when
 * its future is cancelled never starts; work that runs sees its
 * cancellable cancelled.
 *
 * Every submitted item ends in exactly one terminal state, whatever the
 * interleaving of submit, cancel and shutdown. The executor keeps each
 * submitted item alive until it is done, so dropping the last reference
 * to a future, or to the executor, never loses work: an executor whose
 * last reference is dropped finishes what it was given, then goes away.
 *
 * ```c
 * static void
 * answer (GCancellable *cancellable,
 *         GValue       *value,
 *         gpointer      user_data,
 *         GError      **error)
 * {
 *   g_value_init (value, G_TYPE_INT);
 *   g_value_set_int (value, 42);
 * }
 *
 * g_autoptr(ConcurryExecutor) pool = concurry_thread_pool_executor_new (4);
 * g_autoptr(ConcurryFuture) future = concurry_executor_submit (pool, answer, NULL, NULL, &error);
 * ```
 *
 * ## Implementing it
 *
 * Code outside concurry may implement `ConcurryExecutor`: everything that
 * takes an executor ([method@Concurry.Executor.map] included) goes through
 * the four vfuncs of `ConcurryExecutorInterface`, which must all be set. A
 * vfunc left %NULL is a programmer error: calling it logs a critical and
 * returns %NULL, %FALSE or 0, as a failed precondition does. An
 * implementation hands out futures it made with [class@Concurry.Promise]
 * (see [iface@Concurry.Future]).
 *
 * Since: 0.1
 */

G_DEFINE_INTERFACE (ConcurryExecutor, concurry_executor, G_TYPE_OBJECT)

static void
concurry_executor_default_init (ConcurryExecutorInterface *iface)
{
}

/* The interface of @self if it has @vfunc; otherwise a critical naming
 * @caller, and NULL: an implementation outside concurry may leave a
 * vfunc out. */
static ConcurryExecutorInterface *
get_iface_with (ConcurryExecutor *self,
                gsize             vfunc_offset,
                const char       *vfunc_name,
                const char       *caller)
{
  ConcurryExecutorInterface *iface = CONCURRY_EXECUTOR_GET_IFACE (self);

  if G_UNLIKELY (G_STRUCT_MEMBER (gpointer, iface, vfunc_offset) == NULL)
    {
      /* g_log(), like g_return_val_if_fail(): what tests can expect */
      g_log (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "%s: %s does not implement ConcurryExecutor.%s",
             caller, G_OBJECT_TYPE_NAME (self), vfunc_name);
      return NULL;
    }

  return iface;
}

#define GET_IFACE_WITH(self, vfunc) \
  get_iface_with ((self), G_STRUCT_OFFSET (ConcurryExecutorInterface, vfunc), #vfunc, G_STRFUNC)

/**
 * concurry_executor_submit:
 * @self: a [iface@Concurry.Executor]
 * @func: (scope notified) (closure user_data) (destroy destroy): the work
 * @user_data: data for @func
 * @destroy: (nullable): a function to free @user_data with, once the work
 *   ran or was dropped
 * @error: return location for a `GError`
 *
 * Schedules @func and returns its future.
 *
 * Submitting to an executor that was shut down fails with
 * %CONCURRY_ERROR_SHUT_DOWN (and @user_data is destroyed right away).
 *
 * Returns: (transfer full): the future of the work, or %NULL on error
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_executor_submit (ConcurryExecutor  *self,
                          ConcurryWorkFunc   func,
                          gpointer           user_data,
                          GDestroyNotify     destroy,
                          GError           **error)
{
  ConcurryExecutorInterface *iface;

  /* concurry's thread pool, a final type, straight to its submit: the
   * interface check and lookup cost as much as the rest of the
   * bookkeeping of a submit. Anything else takes the checked path. */
  if G_LIKELY (self != NULL && func != NULL && (error == NULL || *error == NULL) &&
               G_TYPE_FROM_INSTANCE (self) == CONCURRY_TYPE_THREAD_POOL_EXECUTOR)
    return _concurry_thread_pool_executor_submit (self, func, user_data, destroy, error);

  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  iface = GET_IFACE_WITH (self, submit);
  if (iface == NULL)
    return NULL;

  return iface->submit (self, func, user_data, destroy, error);
}

/**
 * concurry_executor_shutdown:
 * @self: a [iface@Concurry.Executor]
 * @wait: whether to block until all the work submitted so far is done
 * @cancel_futures: whether to cancel the work that has not started yet
 * @error: return location for a `GError`
 *
 * Stops accepting work: any later submit fails with
 * %CONCURRY_ERROR_SHUT_DOWN. Work already submitted still runs, unless
 * @cancel_futures cancels what has not started; work that runs is never
 * interrupted by a shutdown. The items of a [class@Concurry.Runner] that
 * a worker has taken from the queue count as started, even while the
 * runner has yet to start them (a binding waiting for its interpreter's
 * lock), as a `concurrent.futures` worker runs the item it took.
 *
 * With @wait, returns only once every submitted item is done. Waiting from
 * inside one of the executor's own work functions would wait for itself:
 * that fails with %CONCURRY_ERROR_WRONG_THREAD instead (the executor is
 * still shut down).
 *
 * Shutting down again is harmless.
 *
 * Returns: %TRUE on success, %FALSE if @wait was refused
 *
 * Since: 0.1
 */
gboolean
concurry_executor_shutdown (ConcurryExecutor  *self,
                            gboolean           wait,
                            gboolean           cancel_futures,
                            GError           **error)
{
  ConcurryExecutorInterface *iface;

  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = GET_IFACE_WITH (self, shutdown);
  if (iface == NULL)
    return FALSE;

  return iface->shutdown (self, !!wait, !!cancel_futures, error);
}

/**
 * concurry_executor_is_shutdown:
 * @self: a [iface@Concurry.Executor]
 *
 * Checks whether [method@Concurry.Executor.shutdown] was called.
 *
 * Returns: %TRUE if @self accepts no more work
 *
 * Since: 0.1
 */
gboolean
concurry_executor_is_shutdown (ConcurryExecutor *self)
{
  ConcurryExecutorInterface *iface;

  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), FALSE);

  iface = GET_IFACE_WITH (self, is_shutdown);
  if (iface == NULL)
    return FALSE;

  return iface->is_shutdown (self);
}

/**
 * concurry_executor_get_max_workers:
 * @self: a [iface@Concurry.Executor]
 *
 * Gets how many work functions @self may run at the same time.
 *
 * Returns: the number of workers
 *
 * Since: 0.1
 */
guint
concurry_executor_get_max_workers (ConcurryExecutor *self)
{
  ConcurryExecutorInterface *iface;

  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), 0);

  iface = GET_IFACE_WITH (self, get_max_workers);
  if (iface == NULL)
    return 0;

  return iface->get_max_workers (self);
}

/**
 * concurry_executor_map:
 * @self: a [iface@Concurry.Executor]
 * @func: (scope notified) (closure func_data) (destroy func_destroy): the
 *   work to run on each item
 * @func_data: data for @func
 * @func_destroy: (nullable): a function to free @func_data with
 * @input: (scope notified) (closure input_data) (destroy input_destroy):
 *   the function producing the items
 * @input_data: data for @input
 * @input_destroy: (nullable): a function to free @input_data with
 * @timeout_usec: a time limit for the whole map, in microseconds from
 *   this call, or a negative value for none
 * @chunksize: how many items each submitted piece of work handles, at
 *   least 1
 * @max_in_flight: how many pieces of work may be submitted and not yet
 *   consumed at once, or 0 for twice the executor's workers
 * @error: return location for a `GError`
 *
 * Runs @func on every item that @input produces, on @self, and gives the
 * results in input order through the returned [class@Concurry.MapResults].
 *
 * The input is read lazily, as results are consumed: besides the chunk
 * whose results are being read, at most @max_in_flight chunks of
 * @chunksize items are submitted and not yet consumed, so an input of
 * millions of items (or an endless one) runs in constant memory. @input
 * is only ever called on the thread that calls this function or
 * [method@Concurry.MapResults.next].
 *
 * Like [method@Concurry.Executor.submit], an executor running work on
 * worker threads refuses a JavaScript @func with
 * %CONCURRY_ERROR_WRONG_THREAD.
 *
 * The deadline is absolute, counted once from this call. When it passes,
 * when an item fails, or when the results are closed early, the work not
 * consumed yet is cancelled.
 *
 * Returns: (transfer full): the results, or %NULL if @self is shut down
 *   or refused a JavaScript @func
 *
 * Since: 0.1
 */
ConcurryMapResults *
concurry_executor_map (ConcurryExecutor   *self,
                       ConcurryMapFunc     func,
                       gpointer            func_data,
                       GDestroyNotify      func_destroy,
                       ConcurryInputFunc   input,
                       gpointer            input_data,
                       GDestroyNotify      input_destroy,
                       gint64              timeout_usec,
                       guint               chunksize,
                       guint               max_in_flight,
                       GError            **error)
{
  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (chunksize >= 1, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* The chunks run @func on the executor's threads, which submit() cannot
   * check: check it here. */
  if (!CONCURRY_IS_MAIN_CONTEXT_EXECUTOR (self) &&
      _concurry_executor_refuse_javascript (func, error))
    {
      if (func_destroy != NULL)
        func_destroy (func_data);
      if (input_destroy != NULL)
        input_destroy (input_data);
      return NULL;
    }

  if (max_in_flight == 0)
    max_in_flight = 2 * MAX (1, concurry_executor_get_max_workers (self));

  return _concurry_map_results_new (self, func, func_data, func_destroy, NULL, NULL,
                                    input, input_data, input_destroy,
                                    _concurry_deadline_from_timeout (timeout_usec),
                                    chunksize, max_in_flight, error);
}

static GPrivate current_executor;

ConcurryExecutor *
_concurry_executor_get_current (void)
{
  return g_private_get (&current_executor);
}

void
_concurry_executor_set_current (ConcurryExecutor *executor)
{
  g_private_set (&current_executor, executor);
}

void
_concurry_executor_set_shut_down_error (GError **error)
{
  g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN,
                       _("The executor was shut down and accepts no more work"));
}

/* For executors that run work on worker threads. */
gboolean
_concurry_executor_refuse_javascript (gpointer   func,
                                      GError   **error)
{
  if (!_concurry_platform_func_is_javascript (func))
    return FALSE;

  g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_WRONG_THREAD,
                       _("A JavaScript function cannot run on a worker thread: "
                         "submit it to a ConcurryMainContextExecutor instead"));
  return TRUE;
}

/* The work queue of one of concurry's own executors, or NULL. */
ConcurryWorkQueue *
_concurry_executor_get_work_queue (ConcurryExecutor *executor)
{
  GType type = G_OBJECT_TYPE (executor);

  if (type == CONCURRY_TYPE_THREAD_POOL_EXECUTOR)
    return _concurry_thread_pool_executor_get_queue (executor);
  if (type == CONCURRY_TYPE_TASK_EXECUTOR)
    return _concurry_task_executor_get_queue (executor);
  if (type == CONCURRY_TYPE_MAIN_CONTEXT_EXECUTOR)
    return _concurry_main_context_executor_get_queue (executor);
  return NULL;
}

static gboolean
check_after (ConcurryFuture **after,
             guint            n_after)
{
  g_return_val_if_fail (after != NULL || n_after == 0, FALSE);
  for (guint i = 0; i < n_after; i++)
    if (_concurry_future_check_core (after[i], "concurry_executor_submit_after") == NULL)
      return FALSE;
  return TRUE;
}

/* submit_after() on an executor implemented outside concurry: the work
 * is submitted through its vfunc once the inputs are done, and a promise
 * stands for it until then (cancelling it cancels the work). Such an
 * executor cannot count the work in before it is submitted: shutting it
 * down meanwhile fails the promise with its submit error. */
typedef struct
{
  gatomicrefcount   ref_count;
  int               n_remaining;   /* atomic */
  int               settled;       /* atomic */
  ConcurryExecutor *executor;
  ConcurryPromise  *promise;
  ConcurryWorkFunc  func;
  gpointer          user_data;
  GDestroyNotify    destroy;
} ForeignAfter;

static ForeignAfter *
foreign_after_ref (ForeignAfter *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
foreign_after_unref (gpointer data)
{
  ForeignAfter *self = data;

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_object_unref (self->promise);
  g_object_unref (self->executor);
  g_free (self);
}

static void
foreign_after_mirror (ConcurryFuture *work,
                      gpointer        data)
{
  ConcurryPromise *promise = data;
  GError *error = NULL;

  if (concurry_future_wait (work, 0, &error))
    concurry_promise_resolve (promise, concurry_future_get_value (work));
  else
    concurry_promise_take_error (promise, error);
}

static void
foreign_after_cancel (ConcurryFuture *promise,
                      gpointer        data)
{
  if (concurry_future_is_cancelled (promise))
    concurry_future_cancel (data);
}

/* Drops the work at once: it will never be submitted. */
static void
foreign_after_drop (ForeignAfter *self)
{
  GDestroyNotify destroy = g_steal_pointer (&self->destroy);

  if (destroy != NULL)
    destroy (self->user_data);
}

/* One input less to wait for (or the caller's own count): the last one
 * submits the work, unless the future was settled meanwhile. */
static void
foreign_after_count_down (ForeignAfter *self)
{
  g_autoptr(ConcurryFuture) work = NULL;
  GError *error = NULL;

  if (!g_atomic_int_dec_and_test (&self->n_remaining) ||
      !g_atomic_int_compare_and_exchange (&self->settled, FALSE, TRUE))
    return;

  work = concurry_executor_submit (self->executor, self->func, self->user_data,
                                   g_steal_pointer (&self->destroy), &error);
  if (work == NULL)
    {
      concurry_promise_take_error (self->promise, error);
      return;
    }
  concurry_future_add_done_callback_direct (work, foreign_after_mirror,
                                            g_object_ref (self->promise), g_object_unref);
  concurry_future_add_done_callback_direct (CONCURRY_FUTURE (self->promise),
                                            foreign_after_cancel,
                                            g_object_ref (work), g_object_unref);
}

static void
foreign_after_input_done (ConcurryFuture *input,
                          gpointer        data)
{
  ForeignAfter *self = data;
  GError *error = NULL;

  if (concurry_future_get_state (input) != CONCURRY_FUTURE_STATE_DONE)
    {
      if (g_atomic_int_compare_and_exchange (&self->settled, FALSE, TRUE))
        {
          foreign_after_drop (self);
          concurry_future_wait (input, 0, &error);
          concurry_promise_take_error (self->promise, error);
        }
      return;
    }

  foreign_after_count_down (self);
}

/* The future was cancelled while it waited: the work is dropped now. */
static void
foreign_after_settled (ConcurryFuture *promise,
                       gpointer        data)
{
  ForeignAfter *self = data;

  if (g_atomic_int_compare_and_exchange (&self->settled, FALSE, TRUE))
    foreign_after_drop (self);
}

static ConcurryFuture *
submit_after_foreign (ConcurryExecutor  *self,
                      ConcurryFuture   **after,
                      guint              n_after,
                      ConcurryWorkFunc   func,
                      gpointer           user_data,
                      GDestroyNotify     destroy,
                      GError           **error)
{
  ForeignAfter *state;
  ConcurryPromise *promise;

  if (concurry_executor_is_shutdown (self))
    {
      _concurry_executor_set_shut_down_error (error);
      if (destroy != NULL)
        destroy (user_data);
      return NULL;
    }

  promise = concurry_promise_new ();
  state = g_new0 (ForeignAfter, 1);
  g_atomic_ref_count_init (&state->ref_count);
  state->n_remaining = (int)n_after + 1;
  state->executor = g_object_ref (self);
  state->promise = g_object_ref (promise);
  state->func = func;
  state->user_data = user_data;
  state->destroy = destroy;

  concurry_future_add_done_callback_direct (CONCURRY_FUTURE (promise), foreign_after_settled,
                                            foreign_after_ref (state), foreign_after_unref);
  for (guint i = 0; i < n_after; i++)
    concurry_future_add_done_callback_direct (after[i], foreign_after_input_done,
                                              foreign_after_ref (state), foreign_after_unref);
  /* Ours counted too: see _concurry_work_queue_submit_after(). */
  foreign_after_count_down (state);
  foreign_after_unref (state);

  return CONCURRY_FUTURE (promise);
}

/**
 * concurry_executor_submit_after:
 * @self: a [iface@Concurry.Executor]
 * @after: (array length=n_after) (nullable): the futures the work waits for
 * @n_after: the number of futures in @after
 * @func: (scope notified) (closure user_data) (destroy destroy): the work
 * @user_data: data for @func
 * @destroy: (nullable): a function to free @user_data with
 * @error: return location for a `GError`
 *
 * Submits @func to run once every future of @after is done.
 *
 * The returned future is pending at once. When the last of @after
 * completes with a value, the work is queued on @self like any submitted
 * work; if one of them fails or is cancelled first, the work never runs
 * and the returned future fails with a copy of that future's error
 * (cancelled, if it was cancelled). This is how language bindings run
 * work whose arguments are futures: the arguments' values are read by
 * @func when it runs.
 *
 * The work counts as submitted from this call on: shutting @self down
 * waits for it (and queues it when its inputs are done), and shutting
 * down with `cancel_futures` cancels it. Cancelling the returned future
 * while it waits drops the work at once.
 *
 * Executors implemented outside concurry get the work through their
 * `submit` vfunc once the inputs are done; until then they do not know of
 * it, so shutting one down meanwhile fails the returned future with its
 * submit error.
 *
 * Returns: (transfer full): the future of the work, or %NULL if @self is
 *   shut down
 *
 * Since: 0.2
 */
ConcurryFuture *
concurry_executor_submit_after (ConcurryExecutor  *self,
                                ConcurryFuture   **after,
                                guint              n_after,
                                ConcurryWorkFunc   func,
                                gpointer           user_data,
                                GDestroyNotify     destroy,
                                GError           **error)
{
  ConcurryWorkQueue *queue;

  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (check_after (after, n_after), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  queue = _concurry_executor_get_work_queue (self);
  if (queue == NULL)
    return submit_after_foreign (self, after, n_after, func, user_data, destroy, error);

  return (ConcurryFuture *)_concurry_work_queue_submit_after (queue, self, after, n_after,
                                                              func, user_data, destroy, error);
}

static gboolean
refuse_javascript_runner (ConcurryExecutor  *self,
                          ConcurryRunner    *runner,
                          GError           **error)
{
  if (CONCURRY_IS_MAIN_CONTEXT_EXECUTOR (self) || !_concurry_runner_is_javascript (runner))
    return FALSE;

  g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_WRONG_THREAD,
                       _("JavaScript work cannot run on worker threads; "
                         "use a ConcurryMainContextExecutor"));
  return TRUE;
}

/**
 * concurry_executor_submit_to_runner:
 * @self: a [iface@Concurry.Executor]
 * @runner: the [class@Concurry.Runner] that runs the item
 * @item: (nullable): the item, copied: whatever @runner needs to run it
 * @after: (array length=n_after) (nullable): futures to wait for first,
 *   as [method@Concurry.Executor.submit_after] does
 * @n_after: the number of futures in @after
 * @error: return location for a `GError`
 *
 * Submits @item, to be run by @runner on @self.
 *
 * This is [method@Concurry.Executor.submit] for language bindings: the
 * item is a plain value (a binding's callable with its arguments, say)
 * and the binding's code is entered once per batch of items rather than
 * once per item; see [class@Concurry.Runner]. The returned future behaves
 * exactly like the future of submitted work.
 *
 * Returns: (transfer full): the future of the item, or %NULL if @self is
 *   shut down, or refused a JavaScript runner (which can only run on a
 *   [class@Concurry.MainContextExecutor])
 *
 * Since: 0.2
 */
ConcurryFuture *
concurry_executor_submit_to_runner (ConcurryExecutor  *self,
                                    ConcurryRunner    *runner,
                                    const GValue      *item,
                                    ConcurryFuture   **after,
                                    guint              n_after,
                                    GError           **error)
{
  ConcurryRunnerItem *runner_item;
  ConcurryWorkQueue *queue;

  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), NULL);
  g_return_val_if_fail (CONCURRY_IS_RUNNER (runner), NULL);
  g_return_val_if_fail (item == NULL || G_IS_VALUE (item), NULL);
  g_return_val_if_fail (check_after (after, n_after), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (refuse_javascript_runner (self, runner, error))
    return NULL;

  runner_item = _concurry_runner_item_new (runner, item);
  queue = _concurry_executor_get_work_queue (self);

  if (n_after > 0)
    return concurry_executor_submit_after (self, after, n_after, _concurry_runner_work_func,
                                           runner_item, _concurry_runner_item_free, error);
  if (queue != NULL)
    return (ConcurryFuture *)_concurry_work_queue_submit (queue, self, _concurry_runner_work_func,
                                                          runner_item, _concurry_runner_item_free,
                                                          FALSE, error);

  return concurry_executor_submit (self, _concurry_runner_work_func, runner_item,
                                   _concurry_runner_item_free, error);
}

/**
 * concurry_executor_map_with_runner:
 * @self: a [iface@Concurry.Executor]
 * @runner: the [class@Concurry.Runner] that runs the items
 * @data: (nullable): a value shared by all the items, given to @runner
 *   by [method@Concurry.WorkBatch.get_data] (the function to map, say)
 * @input: (scope notified) (closure input_data) (destroy input_destroy):
 *   the function producing the items
 * @input_data: data for @input
 * @input_destroy: (nullable): a function to free @input_data with
 * @timeout_usec: a time limit for the whole map, in microseconds from
 *   this call, or a negative value for none
 * @chunksize: how many items each submitted piece of work handles, at
 *   least 1
 * @max_in_flight: how many pieces of work may be submitted and not yet
 *   consumed at once, or 0 for twice the executor's workers
 * @error: return location for a `GError`
 *
 * Like [method@Concurry.Executor.map], but the items are run by @runner,
 * up to 64 items of a chunk in one call of its function: the way language
 * bindings map their own functions. Each item's value, given by
 * [method@Concurry.WorkBatch.start], is the input item itself; the
 * batch's data is @data.
 *
 * Returns: (transfer full): the results, or %NULL if @self is shut down
 *   or refused a JavaScript runner
 *
 * Since: 0.2
 */
ConcurryMapResults *
concurry_executor_map_with_runner (ConcurryExecutor   *self,
                                   ConcurryRunner     *runner,
                                   const GValue       *data,
                                   ConcurryInputFunc   input,
                                   gpointer            input_data,
                                   GDestroyNotify      input_destroy,
                                   gint64              timeout_usec,
                                   guint               chunksize,
                                   guint               max_in_flight,
                                   GError            **error)
{
  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), NULL);
  g_return_val_if_fail (CONCURRY_IS_RUNNER (runner), NULL);
  g_return_val_if_fail (data == NULL || G_IS_VALUE (data), NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (chunksize >= 1, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (refuse_javascript_runner (self, runner, error))
    {
      if (input_destroy != NULL)
        input_destroy (input_data);
      return NULL;
    }

  if (max_in_flight == 0)
    max_in_flight = 2 * MAX (1, concurry_executor_get_max_workers (self));

  return _concurry_map_results_new (self, NULL, NULL, NULL, runner, data,
                                    input, input_data, input_destroy,
                                    _concurry_deadline_from_timeout (timeout_usec),
                                    chunksize, max_in_flight, error);
}
