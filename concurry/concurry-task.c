/* concurry-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-future-private.h"
#include "concurry-task-manager-private.h"
#include "concurry-task-private.h"

/**
 * ConcurryTask:
 *
 * One piece of work run by a [class@Concurry.TaskManager]: what it was
 * given, how it ended, and how long it ran.
 *
 * A task is made by [method@Concurry.TaskManager.submit],
 * [method@Concurry.TaskManager.submit_input] or, one per input item, by
 * [method@Concurry.TaskManager.map]. A task is a [iface@Concurry.Future]:
 * its outcome is a value, an error, or a cancellation, and it can be
 * waited for, cancelled, chained and given done callbacks like any other
 * future (as an `asyncio.Task` is an `asyncio.Future`). Finished
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

static void future_iface_init (ConcurryFutureInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConcurryTask, concurry_task, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_FUTURE, future_iface_init))

static void
task_completed (ConcurryFuture *future)
{
  _concurry_task_manager_task_completed ((ConcurryTask *)future);
}

static void
future_iface_init (ConcurryFutureInterface *iface)
{
  iface->completed = task_completed;
  _concurry_future_implement (iface, G_STRUCT_OFFSET (ConcurryTask, work.core), "task");
}

/* Plain casts: a task is finalized per piece of work. */
static void
concurry_task_finalize (GObject *object)
{
  ConcurryTask *self = (ConcurryTask *)object;

  /* The executor ran or dropped the work, and its data, before it let go
   * of the task. */
  g_assert (self->work.func == NULL);
  g_assert (self->destroy == NULL);

  if (_concurry_task_get_map (self) != NULL)
    _concurry_task_map_unref (self->func.of_map);
  if (self->input != NULL)
    {
      g_value_unset (self->input);
      g_free (self->input);
    }
  _concurry_core_finalize (&self->work.core, (ConcurryFuture *)self);

  ((GObjectClass *)concurry_task_parent_class)->finalize (object);
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
  _concurry_core_init (&self->work.core);
  _concurry_core_set_hooked (&self->work.core);
  self->start_time = -1;
  self->end_time = -1;
}

/* Made without the manager's lock: the GObject is most of the cost of a
 * task. */
ConcurryTask *
_concurry_task_new (void)
{
  return (ConcurryTask *)g_object_new_with_properties (CONCURRY_TYPE_TASK, 0, NULL, NULL);
}

ConcurryFutureState
_concurry_task_get_state (ConcurryTask *self)
{
  return _concurry_core_get_state (&self->work.core);
}

/* For the manager, which looks at every failure: the task's error is
 * seen, whatever the policy (no unobserved-failure warning later). */
const GError *
_concurry_task_get_error (ConcurryTask *self)
{
  return concurry_future_get_error ((ConcurryFuture *)self);
}

/**
 * concurry_task_get_index:
 * @self: a [class@Concurry.Task]
 *
 * Gets the number of @self in its manager: the first task submitted is
 * number 1, the next number 2, and so on, whichever call made them. (A
 * submission that a shutdown or a failure refuses while another thread
 * submits too may leave a number unused.)
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

  return self->input;
}

/**
 * concurry_task_get_future:
 * @self: a [class@Concurry.Task]
 *
 * Gets the future of the work of @self, which is @self itself: a task is
 * a [iface@Concurry.Future]. This is for code written before tasks were
 * futures, and for languages that do not see the interface of an object
 * at once.
 *
 * Returns: (transfer none): @self, as a [iface@Concurry.Future]
 *
 * Since: 0.2
 */
ConcurryFuture *
concurry_task_get_future (ConcurryTask *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK (self), NULL);

  return CONCURRY_FUTURE (self);
}

/**
 * concurry_task_get_state:
 * @self: a [class@Concurry.Task]
 *
 * Gets the state of @self, as a [iface@Concurry.Future].
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
  g_return_val_if_fail (CONCURRY_IS_TASK (self), NULL);

  return concurry_future_get_value (CONCURRY_FUTURE (self));
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

  return concurry_future_get_error (CONCURRY_FUTURE (self));
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
