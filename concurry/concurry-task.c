/* concurry-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-future-private.h"
#include "concurry-resolved-future.h"
#include "concurry-task-private.h"

/**
 * ConcurryTask:
 *
 * One piece of work run by a [class@Concurry.TaskManager]: what it was
 * given, how it ended, and how long it ran.
 *
 * A task is made by [method@Concurry.TaskManager.submit],
 * [method@Concurry.TaskManager.submit_input] or, one per input item, by
 * [method@Concurry.TaskManager.map]. Its outcome is the outcome of its
 * [iface@Concurry.Future]: a value, an error, or a cancellation. Finished
 * tasks appear, in the order they finished, in the manager's list model
 * and in [method@Concurry.TaskManager.next_completed].
 *
 * ```c
 * g_autoptr(ConcurryTask) task = concurry_task_manager_next_completed (manager, -1, &error);
 *
 * if (concurry_task_get_error (task) != NULL)
 *   g_print ("task %" G_GUINT64_FORMAT " failed: %s\n",
 *            concurry_task_get_index (task), concurry_task_get_error (task)->message);
 * ```
 *
 * Since: 0.2
 */

G_DEFINE_FINAL_TYPE (ConcurryTask, concurry_task, G_TYPE_OBJECT)

static void
concurry_task_finalize (GObject *object)
{
  ConcurryTask *self = CONCURRY_TASK (object);

  g_assert (self->destroy == NULL);

  g_clear_pointer (&self->map, _concurry_task_map_unref);
  g_clear_object (&self->future);
  g_clear_object (&self->done_future);
  if (G_IS_VALUE (&self->value))
    g_value_unset (&self->value);
  g_clear_error (&self->error);
  if (G_IS_VALUE (&self->input))
    g_value_unset (&self->input);

  G_OBJECT_CLASS (concurry_task_parent_class)->finalize (object);
}

static void
concurry_task_class_init (ConcurryTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = concurry_task_finalize;
}

static void
concurry_task_init (ConcurryTask *self)
{
  self->claim = TASK_WORK_HELD;
  self->state = CONCURRY_FUTURE_STATE_PENDING;
  self->start_time = -1;
  self->end_time = -1;
}

/* Made without the manager's lock: the GObject is most of the cost of a
 * task. */
ConcurryTask *
_concurry_task_new (ConcurryTaskManager *manager)
{
  ConcurryTask *self = g_object_new (CONCURRY_TYPE_TASK, NULL);

  self->manager = manager;     /* borrowed: see the task manager */

  return self;
}

/* The future of an EXPOSED task, or NULL: the outcome is then the task's
 * own. */
static inline ConcurryFuture *
exposed_future (ConcurryTask *self)
{
  if (g_atomic_int_get (&self->claim) == TASK_WORK_EXPOSED)
    return self->future;
  return NULL;
}

ConcurryFutureState
_concurry_task_get_state (ConcurryTask *self)
{
  ConcurryFuture *future = exposed_future (self);

  if (future != NULL)
    return concurry_future_get_state (future);
  return g_atomic_int_get (&self->state);
}

const GError *
_concurry_task_get_error (ConcurryTask *self)
{
  ConcurryFuture *future = exposed_future (self);
  int state;

  if (future != NULL)
    return concurry_future_get_error (future);
  state = g_atomic_int_get (&self->state);
  if (state != CONCURRY_FUTURE_STATE_FAILED && state != CONCURRY_FUTURE_STATE_CANCELLED)
    return NULL;
  return self->error;
}

/**
 * concurry_task_get_index:
 * @self: a [class@Concurry.Task]
 *
 * Gets the number of @self in its manager: the first task submitted is
 * number 1, the next number 2, and so on, whichever call made them.
 *
 * Returns: the submission number of @self
 *
 * Since: 0.2
 */
guint64
concurry_task_get_index (ConcurryTask *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK (self), 0);

  return self->index;
}

/**
 * concurry_task_get_input:
 * @self: a [class@Concurry.Task]
 *
 * Gets the input the work of @self was given: the item read from the
 * input of [method@Concurry.TaskManager.map], or the value given to
 * [method@Concurry.TaskManager.submit_input]. A task made by
 * [method@Concurry.TaskManager.submit] has none.
 *
 * Returns: (nullable) (transfer none): the input of @self, or %NULL
 *
 * Since: 0.2
 */
const GValue *
concurry_task_get_input (ConcurryTask *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK (self), NULL);

  return G_IS_VALUE (&self->input) ? &self->input : NULL;
}

/**
 * concurry_task_get_future:
 * @self: a [class@Concurry.Task]
 *
 * Gets the future of the work of @self. It is the whole outcome of the
 * task: its state, value or error, and a way to wait for it or cancel it.
 * Asked for while the work is queued or running, it is the future the
 * executor handed out; asked for once the task is finished, it may be a
 * done future with the same outcome (the manager lets the executor reuse
 * the futures nobody asked for). Either way @self returns the same one
 * from then on.
 *
 * Returns: (transfer none): the future of @self
 *
 * Since: 0.2
 */
ConcurryFuture *
concurry_task_get_future (ConcurryTask *self)
{
  ConcurryFuture *done;
  int state;

  g_return_val_if_fail (CONCURRY_IS_TASK (self), NULL);

  if (_concurry_task_expose (self))
    return self->future;

  /* RELEASED: the outcome is in the task, or a few instructions away from
   * it on the thread that released the work. */
  while (!CONCURRY_FUTURE_STATE_IS_TERMINAL (state = g_atomic_int_get (&self->state)))
    g_thread_yield ();

  done = g_atomic_pointer_get (&self->done_future);
  if (done != NULL)
    return done;

  if (state == CONCURRY_FUTURE_STATE_DONE)
    {
      done = concurry_resolved_future_new (G_IS_VALUE (&self->value) ? &self->value : NULL);
    }
  else
    {
      done = concurry_resolved_future_new_error (self->error);
      /* the manager looked at the error already */
      _concurry_core_set_observed (_concurry_future_get_core (done));
    }

  if (!g_atomic_pointer_compare_and_exchange (&self->done_future, NULL, done))
    {
      g_object_unref (done);
      done = g_atomic_pointer_get (&self->done_future);
    }

  return done;
}

/**
 * concurry_task_get_state:
 * @self: a [class@Concurry.Task]
 *
 * Gets the state of @self: the state of its future.
 *
 * Returns: the state of @self
 *
 * Since: 0.2
 */
ConcurryFutureState
concurry_task_get_state (ConcurryTask *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK (self), CONCURRY_FUTURE_STATE_PENDING);

  return _concurry_task_get_state (self);
}

/**
 * concurry_task_is_complete:
 * @self: a [class@Concurry.Task]
 *
 * Checks whether @self has finished, with a value, an error, or by being
 * cancelled.
 *
 * Returns: %TRUE if @self is in a terminal state
 *
 * Since: 0.2
 */
gboolean
concurry_task_is_complete (ConcurryTask *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK (self), FALSE);

  return CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_task_get_state (self));
}

/**
 * concurry_task_get_value:
 * @self: a [class@Concurry.Task]
 *
 * Gets the value @self completed with.
 *
 * Returns: (nullable) (transfer none): the value, or %NULL if @self has
 *   not completed with one
 *
 * Since: 0.2
 */
const GValue *
concurry_task_get_value (ConcurryTask *self)
{
  ConcurryFuture *future;

  g_return_val_if_fail (CONCURRY_IS_TASK (self), NULL);

  future = exposed_future (self);
  if (future != NULL)
    return concurry_future_get_value (future);
  if (g_atomic_int_get (&self->state) != CONCURRY_FUTURE_STATE_DONE)
    return NULL;
  return G_IS_VALUE (&self->value) ? &self->value : NULL;
}

/**
 * concurry_task_get_error:
 * @self: a [class@Concurry.Task]
 *
 * Gets the error @self failed with: the error of its work, or
 * `G_IO_ERROR_CANCELLED` if it was cancelled.
 *
 * Returns: (nullable) (transfer none): the error, or %NULL if @self has
 *   not failed
 *
 * Since: 0.2
 */
const GError *
concurry_task_get_error (ConcurryTask *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK (self), NULL);

  return _concurry_task_get_error (self);
}

/**
 * concurry_task_get_duration:
 * @self: a [class@Concurry.Task]
 *
 * Gets how long the work of @self ran, from the moment a worker started
 * it to the moment it returned, on the monotonic clock.
 *
 * Returns: the duration in microseconds, or -1 if the work has not run
 *   to its end (it is queued, running, or was cancelled before it started)
 *
 * Since: 0.2
 */
gint64
concurry_task_get_duration (ConcurryTask *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK (self), -1);

  if (!CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_task_get_state (self)) ||
      self->start_time < 0 || self->end_time < 0)
    return -1;

  return self->end_time - self->start_time;
}
