/* concurry-task-manager-waiting.c: the waits of a task manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * next_completed(), wait(), their asynchronous variants and join(). A
 * waiter sleeps on a promise of the manager, resolved (and replaced) when
 * something it may be waiting for happens; the waiting thread also reads
 * the input of the manager's maps, so that they progress with nobody
 * iterating the manager's main context.
 */

#include "config.h"

#include "concurry-task-manager.h"
#include "concurry-error.h"
#include "concurry-future-private.h"
#include "concurry-i18n-private.h"
#include "concurry-promise.h"
#include "concurry-task-manager-private.h"

typedef enum
{
  STEP_WAIT,          /* keep waiting */
  STEP_DONE,          /* the condition holds */
  STEP_FAILED,        /* stopped by a failure */
} Step;

/* With the lock held: a future resolved at the next change. */
static ConcurryFuture *
change_future_locked (ConcurryTaskManager *self)
{
  if (self->change == NULL)
    self->change = concurry_promise_new ();
  return g_object_ref (concurry_promise_get_future (self->change));
}

/* Whether this thread may dispatch on the manager's context: the context
 * a blocking wait here would iterate (see
 * _concurry_acquire_context_to_iterate()) is the manager's. Acquired, if
 * so: release it. */
static gboolean
acquire_at_home (ConcurryTaskManager *self)
{
  GMainContext *here = _concurry_acquire_context_to_iterate ();

  if (here == self->context)
    return TRUE;
  if (here != NULL)
    g_main_context_release (here);
  return FALSE;
}

/* The work is over (or failed): a blocking wait that returns on the
 * manager's context first lets the publication that is still due run
 * (at most a 60th of a second later: the rate limit holds), so that a
 * program that carries on from the wait (or drops the manager) finds the
 * properties and the list model final. */
static void
publish_if_at_home (ConcurryTaskManager *self)
{
  guint n_publications;

  /* Not from a handler of a publication (the source cannot run again
   * from inside itself), and only the one due now: a publication made
   * since ends the wait, whatever is due after it. */
  if (self->publishing || !acquire_at_home (self))
    return;
  n_publications = self->n_publications;
  while (self->n_publications == n_publications &&
         _concurry_task_manager_publication_due (self) >= 0)
    g_main_context_iteration (self->context, TRUE);
  g_main_context_release (self->context);
}

/* The same for an asynchronous wait: its answer comes once the due
 * publication ran (a source of lower priority, ready at the same time). */
static void async_wait_step (GTask *task);

static gboolean
async_wait_again (gpointer data)
{
  /* the step takes a reference: the source keeps its own */
  async_wait_step (g_object_ref (data));
  return G_SOURCE_REMOVE;
}

/* Once per wait (marked on @task), and not from a handler of a
 * publication. Takes the step's reference on @task if it defers. */
static gboolean
defer_after_publication (ConcurryTaskManager *self,
                         GTask               *task)
{
  GQuark deferred_quark = g_quark_from_static_string ("concurry-task-manager-deferred");
  gint64 due;
  GSource *later;

  if (self->publishing || g_object_get_qdata (G_OBJECT (task), deferred_quark) != NULL ||
      !acquire_at_home (self))
    return FALSE;
  g_main_context_release (self->context);
  if ((due = _concurry_task_manager_publication_due (self)) < 0)
    return FALSE;
  g_object_set_qdata (G_OBJECT (task), deferred_quark, GINT_TO_POINTER (TRUE));
  later = _concurry_platform_ready_time_source_new ();
  g_source_set_static_name (later, "[concurry] task manager wait");
  g_source_set_priority (later, G_PRIORITY_DEFAULT + 1);
  g_source_set_ready_time (later, due);
  /* the step's reference, dropped with the source (by a context that goes
   * away without running it, too) */
  g_source_set_callback (later, async_wait_again, task, g_object_unref);
  g_source_attach (later, self->context);
  g_source_unref (later);
  return TRUE;
}

static Step
check_idle_locked (ConcurryTaskManager  *self,
                   GError              **error)
{
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return STEP_FAILED;
    }
  return _concurry_task_manager_is_running_locked (self) ? STEP_WAIT : STEP_DONE;
}

static Step
check_next_locked (ConcurryTaskManager  *self,
                   ConcurryTask        **task,
                   GError              **error)
{
  if (!self->keep_completed && self->cursor >= self->completed->len)
    {
      g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_INVALID_STATE,
                           _("The task manager keeps no finished tasks"));
      return STEP_FAILED;
    }
  if (self->cursor < self->completed->len)
    {
      *task = g_object_ref (g_ptr_array_index (self->completed, self->cursor++));
      return STEP_DONE;
    }
  return _concurry_task_manager_is_running_locked (self) ? STEP_WAIT : STEP_DONE;
}

static gboolean
wait_for_change (ConcurryFuture *change,
                 gint64          deadline,
                 GError        **error)
{
  gboolean ret = concurry_future_wait_until (change, deadline, NULL) ||
                 concurry_future_is_done (change);

  g_object_unref (change);
  if (!ret)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                         _("Timed out waiting for the task manager"));
  return ret;
}

/**
 * concurry_task_manager_next_completed:
 * @self: a [class@Concurry.TaskManager]
 * @timeout_usec: how long to wait, in microseconds: 0 only polls, a
 *   negative value waits for ever
 * @error: return location for a `GError`
 *
 * Gets the next finished task, in the order they finished, waiting for
 * one if need be: the as-completed iteration of a task manager. Each
 * task is handed out once, whichever thread asks.
 *
 * Every task comes out, whatever the error policy: under
 * %CONCURRY_ERROR_POLICY_RAISE the task that stopped the manager comes out
 * in its place, failed, followed by the tasks that were cancelled because
 * of it (use [method@Concurry.TaskManager.wait] to fail at once instead).
 *
 * The wait iterates the manager's main context when called on its
 * thread, and reads input for [method@Concurry.TaskManager.map].
 *
 * Returns: (transfer full) (nullable): the next finished task, or %NULL
 *   once every task was handed out and no work is left (with no error),
 *   or on error: `G_IO_ERROR_TIMED_OUT` if the timeout passed, or
 *   %CONCURRY_ERROR_INVALID_STATE if @self keeps no finished tasks
 *
 * Since: 0.2
 */
ConcurryTask *
concurry_task_manager_next_completed (ConcurryTaskManager  *self,
                                      gint64                timeout_usec,
                                      GError              **error)
{
  gint64 deadline = _concurry_deadline_from_timeout (timeout_usec);

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (;;)
    {
      ConcurryTask *task = NULL;
      ConcurryFuture *change;

      _concurry_task_manager_refill (self);

      g_mutex_lock (&self->mutex);
      if (check_next_locked (self, &task, error) != STEP_WAIT)
        {
          g_mutex_unlock (&self->mutex);
          return task;
        }
      change = change_future_locked (self);
      self->next_waiting++;
      g_mutex_unlock (&self->mutex);

      if (!wait_for_change (change, deadline, error))
        {
          g_mutex_lock (&self->mutex);
          self->next_waiting--;
          g_mutex_unlock (&self->mutex);
          return NULL;
        }
      g_mutex_lock (&self->mutex);
      self->next_waiting--;
      g_mutex_unlock (&self->mutex);
    }
}

typedef struct
{
  ConcurryTaskManager *manager;
  gboolean             next;      /* next_completed, else wait */
} AsyncWait;

static void
async_wait_changed (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  ConcurryTaskManager *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (GPOINTER_TO_INT (g_task_get_task_data (task)))
    {
      g_mutex_lock (&self->mutex);
      self->next_waiting--;
      g_mutex_unlock (&self->mutex);
    }

  if (!concurry_future_wait_finish (CONCURRY_FUTURE (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  g_clear_error (&error);

  async_wait_step (task);
}

static void
async_wait_step (GTask *task)
{
  ConcurryTaskManager *self = g_task_get_source_object (task);
  gboolean next = GPOINTER_TO_INT (g_task_get_task_data (task));
  ConcurryTask *item = NULL;
  ConcurryFuture *change;
  GError *error = NULL;
  Step step;

  _concurry_task_manager_refill (self);

  g_mutex_lock (&self->mutex);
  step = next ? check_next_locked (self, &item, &error) : check_idle_locked (self, &error);
  change = step == STEP_WAIT ? change_future_locked (self) : NULL;
  if (change != NULL && next)
    self->next_waiting++;
  g_mutex_unlock (&self->mutex);

  if (step != STEP_WAIT && !next && defer_after_publication (self, task))
    {
      g_clear_error (&error);
      return;
    }

  switch (step)
    {
    case STEP_FAILED:
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    case STEP_DONE:
      if (next)
        g_task_return_pointer (task, item, item != NULL ? g_object_unref : NULL);
      else
        g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    case STEP_WAIT:
    default:
      concurry_future_wait_async (change, g_task_get_cancellable (task),
                                  async_wait_changed, task);
      g_object_unref (change);
      return;
    }
}

static void
async_wait_start (ConcurryTaskManager *self,
                  gboolean             next,
                  gpointer             source_tag,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, GINT_TO_POINTER (next), NULL);
  async_wait_step (task);
}

/**
 * concurry_task_manager_next_completed_async:
 * @self: a [class@Concurry.TaskManager]
 * @cancellable: (nullable): a `GCancellable` to stop waiting with
 * @callback: (scope async): called with the next finished task
 * @user_data: data for @callback
 *
 * Waits for the next finished task without blocking; see
 * [method@Concurry.TaskManager.next_completed]. @callback runs on the
 * thread-default main context of the caller, where it should call
 * [method@Concurry.TaskManager.next_completed_finish].
 *
 * Since: 0.2
 */
void
concurry_task_manager_next_completed_async (ConcurryTaskManager *self,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_return_if_fail (CONCURRY_IS_TASK_MANAGER (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  async_wait_start (self, TRUE, concurry_task_manager_next_completed_async,
                    cancellable, callback, user_data);
}

/**
 * concurry_task_manager_next_completed_finish:
 * @self: a [class@Concurry.TaskManager]
 * @result: the `GAsyncResult` given to the callback
 * @error: return location for a `GError`
 *
 * Finishes [method@Concurry.TaskManager.next_completed_async].
 *
 * Returns: (transfer full) (nullable): the next finished task, or %NULL
 *   once no work is left (with no error), or on error
 *
 * Since: 0.2
 */
ConcurryTask *
concurry_task_manager_next_completed_finish (ConcurryTaskManager  *self,
                                             GAsyncResult         *result,
                                             GError              **error)
{
  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        concurry_task_manager_next_completed_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * concurry_task_manager_wait:
 * @self: a [class@Concurry.TaskManager]
 * @timeout_usec: how long to wait, in microseconds: 0 only polls, a
 *   negative value waits for ever
 * @error: return location for a `GError`
 *
 * Blocks until every task of @self is finished and every input of
 * [method@Concurry.TaskManager.map] is exhausted, or the timeout passes.
 * Under %CONCURRY_ERROR_POLICY_RAISE it fails as soon as a task fails,
 * with that task's error, without waiting for the tasks still running.
 *
 * The wait iterates the manager's main context when called on its
 * thread, and reads input for [method@Concurry.TaskManager.map].
 *
 * Returning on the manager's main context (the thread that runs it), a
 * wait that blocks (not a poll) first lets the publication that is due
 * run (within the rate limit: at most a 60th of a second later): the
 * properties and the list model are final, and no last notification is
 * left for later. (Not from a handler of a publication: that one is still
 * running.)
 *
 * Called from one of the tasks of @self (its work or the drop of its
 * data), a wait would wait for itself: it fails at once with
 * %CONCURRY_ERROR_WRONG_THREAD instead (a poll, with a timeout of 0, is
 * answered as anywhere else).
 *
 * Returns: %TRUE once the work is done; %FALSE with `G_IO_ERROR_TIMED_OUT`
 *   on timeout, %CONCURRY_ERROR_WRONG_THREAD from one of the tasks of
 *   @self, or the error that stopped @self
 *
 * Since: 0.2
 */
gboolean
concurry_task_manager_wait (ConcurryTaskManager  *self,
                            gint64                timeout_usec,
                            GError              **error)
{
  gint64 deadline = _concurry_deadline_from_timeout (timeout_usec);

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* a poll may run anywhere; a wait from one of the tasks would never end */
  if (timeout_usec != 0 && _concurry_task_manager_refuse_own_wait (self, error))
    return FALSE;

  for (;;)
    {
      ConcurryFuture *change;
      Step step;

      _concurry_task_manager_refill (self);

      g_mutex_lock (&self->mutex);
      step = check_idle_locked (self, error);
      if (step != STEP_WAIT)
        {
          g_mutex_unlock (&self->mutex);
          /* a poll only polls */
          if (timeout_usec != 0)
            publish_if_at_home (self);
          return step == STEP_DONE;
        }
      change = change_future_locked (self);
      g_mutex_unlock (&self->mutex);

      if (!wait_for_change (change, deadline, error))
        return FALSE;
    }
}

/**
 * concurry_task_manager_wait_async:
 * @self: a [class@Concurry.TaskManager]
 * @cancellable: (nullable): a `GCancellable` to stop waiting with
 * @callback: (scope async): called once the work is done
 * @user_data: data for @callback
 *
 * Waits without blocking until the work of @self is done; see
 * [method@Concurry.TaskManager.wait]. @callback runs on the thread-default
 * main context of the caller, where it should call
 * [method@Concurry.TaskManager.wait_finish].
 *
 * Since: 0.2
 */
void
concurry_task_manager_wait_async (ConcurryTaskManager *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (CONCURRY_IS_TASK_MANAGER (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  async_wait_start (self, FALSE, concurry_task_manager_wait_async,
                    cancellable, callback, user_data);
}

/**
 * concurry_task_manager_wait_finish:
 * @self: a [class@Concurry.TaskManager]
 * @result: the `GAsyncResult` given to the callback
 * @error: return location for a `GError`
 *
 * Finishes [method@Concurry.TaskManager.wait_async].
 *
 * Returns: %TRUE once the work is done; %FALSE with the error that stopped
 *   @self, or `G_IO_ERROR_CANCELLED`
 *
 * Since: 0.2
 */
gboolean
concurry_task_manager_wait_finish (ConcurryTaskManager  *self,
                                   GAsyncResult         *result,
                                   GError              **error)
{
  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        concurry_task_manager_wait_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * concurry_task_manager_join:
 * @self: a [class@Concurry.TaskManager]
 * @error: return location for a `GError`
 *
 * Closes @self to new work (as [method@Concurry.TaskManager.shutdown]
 * does) and waits for the work given so far, like
 * [method@Concurry.TaskManager.wait] with no timeout: the end of a
 * `with` block in Python. From one of the tasks of @self, it closes
 * @self and fails with %CONCURRY_ERROR_WRONG_THREAD, as
 * [method@Concurry.TaskManager.wait] does.
 *
 * Returns: %TRUE once the work is done; %FALSE with the error that stopped
 *   @self under %CONCURRY_ERROR_POLICY_RAISE, or
 *   %CONCURRY_ERROR_WRONG_THREAD
 *
 * Since: 0.2
 */
gboolean
concurry_task_manager_join (ConcurryTaskManager  *self,
                            GError              **error)
{
  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&self->mutex);
  self->closed = TRUE;
  _concurry_task_manager_refuse_work_locked (self);
  g_mutex_unlock (&self->mutex);

  if (_concurry_task_manager_refuse_own_wait (self, error))
    return FALSE;

  return concurry_task_manager_wait (self, -1, error);
}

/* Blocks until no task is unfinished and no input is left, whatever the
 * error policy: the end of a shutdown with wait. */
gboolean
_concurry_task_manager_wait_finished (ConcurryTaskManager  *self,
                                      GError              **error)
{
  for (;;)
    {
      ConcurryFuture *future;

      _concurry_task_manager_refill (self);

      g_mutex_lock (&self->mutex);
      if (!_concurry_task_manager_is_running_locked (self))
        {
          g_mutex_unlock (&self->mutex);
          publish_if_at_home (self);
          return TRUE;
        }
      future = change_future_locked (self);
      g_mutex_unlock (&self->mutex);

      if (!wait_for_change (future, -1, error))
        return FALSE;
    }
}
