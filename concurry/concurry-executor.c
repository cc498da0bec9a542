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
 * Since: 0.1
 */

G_DEFINE_INTERFACE (ConcurryExecutor, concurry_executor, G_TYPE_OBJECT)

static void
concurry_executor_default_init (ConcurryExecutorInterface *iface)
{
}

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
  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CONCURRY_EXECUTOR_GET_IFACE (self)->submit (self, func, user_data, destroy, error);
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
 * interrupted by a shutdown.
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
  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return CONCURRY_EXECUTOR_GET_IFACE (self)->shutdown (self, !!wait, !!cancel_futures, error);
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
  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), FALSE);

  return CONCURRY_EXECUTOR_GET_IFACE (self)->is_shutdown (self);
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
  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (self), 0);

  return CONCURRY_EXECUTOR_GET_IFACE (self)->get_max_workers (self);
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
  if (!_concurry_work_func_is_javascript (func))
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
    g_return_val_if_fail (CONCURRY_IS_FUTURE (after[i]), FALSE);
  return TRUE;
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
 * Only the executors of concurry (thread pool, GTask and main context)
 * can hold work back like this; other implementations get
 * %CONCURRY_ERROR_FAILED.
 *
 * Returns: (transfer full): the future of the work, or %NULL if @self is
 *   shut down or cannot hold work back
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
    {
      g_set_error (error, CONCURRY_ERROR, CONCURRY_ERROR_FAILED,
                   _("%s cannot hold work back until other futures are done"),
                   G_OBJECT_TYPE_NAME (self));
      if (destroy != NULL)
        destroy (user_data);
      return NULL;
    }

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
