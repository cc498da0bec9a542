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

  return _concurry_map_results_new (self, func, func_data, func_destroy,
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
