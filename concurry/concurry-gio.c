/* concurry-gio.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"
#include "concurry-gio.h"
#include "concurry-i18n-private.h"

struct _ConcurryGioCall
{
  ConcurryPromise       *promise;
  GType                  value_type;
  GCallback              finish;
  ConcurryGioFinishFunc  finish_full;
  gpointer               user_data;
  GDestroyNotify         destroy;
};

typedef gboolean (*FinishBoolean) (gpointer source, GAsyncResult *result, GError **error);
typedef gssize   (*FinishSize)    (gpointer source, GAsyncResult *result, GError **error);
typedef gpointer (*FinishPointer) (gpointer source, GAsyncResult *result, GError **error);

/**
 * concurry_gio_call_new: (skip)
 * @value_type: the `GType` of what @finish returns; see `CONCURRY_GIO_CALL()`
 * @finish: the `_finish` function, of the shape `(source, result, error)`
 *
 * Creates the glue for one GIO call whose `_finish` function has the
 * plain shape. Pass concurry_gio_call_ready() and the call as the
 * callback and data of the `_async` function, and
 * concurry_gio_call_get_cancellable() as its cancellable.
 * `CONCURRY_GIO_CALL()` does all of this in one line.
 *
 * Returns: (transfer full): the call, freed once it completes
 *
 * Since: 0.1
 */
ConcurryGioCall *
concurry_gio_call_new (GType     value_type,
                       GCallback finish)
{
  ConcurryGioCall *call;

  g_return_val_if_fail (finish != NULL, NULL);
  g_return_val_if_fail (value_type == G_TYPE_BOOLEAN ||
                        value_type == G_TYPE_INT64 ||
                        G_TYPE_IS_OBJECT (value_type) ||
                        G_TYPE_IS_INTERFACE (value_type) ||
                        G_TYPE_FUNDAMENTAL (value_type) == G_TYPE_BOXED ||
                        value_type == G_TYPE_STRING ||
                        value_type == G_TYPE_VARIANT, NULL);

  call = g_new0 (ConcurryGioCall, 1);
  call->promise = concurry_promise_new ();
  call->value_type = value_type;
  call->finish = finish;

  return call;
}

/**
 * concurry_gio_call_new_full: (skip)
 * @finish: a function calling the real `_finish` function and completing
 *   the promise it is given
 * @user_data: data for @finish
 * @destroy: (nullable): a function to free @user_data with
 *
 * Creates the glue for one GIO call whose `_finish` function does not have
 * the plain shape, for example one with out parameters.
 *
 * Returns: (transfer full): the call, freed once it completes
 *
 * Since: 0.1
 */
ConcurryGioCall *
concurry_gio_call_new_full (ConcurryGioFinishFunc finish,
                            gpointer              user_data,
                            GDestroyNotify        destroy)
{
  ConcurryGioCall *call;

  g_return_val_if_fail (finish != NULL, NULL);

  call = g_new0 (ConcurryGioCall, 1);
  call->promise = concurry_promise_new ();
  call->finish_full = finish;
  call->user_data = user_data;
  call->destroy = destroy;

  return call;
}

/**
 * concurry_gio_call_dup_future: (skip)
 * @call: a `ConcurryGioCall`
 *
 * Gets the future of the call.
 *
 * Returns: (transfer full): the future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_gio_call_dup_future (ConcurryGioCall *call)
{
  g_return_val_if_fail (call != NULL, NULL);

  return g_object_ref (CONCURRY_FUTURE (call->promise));
}

/**
 * concurry_gio_call_get_cancellable: (skip)
 * @call: a `ConcurryGioCall`
 *
 * Gets the cancellable to give the `_async` function: cancelling the
 * future cancels the call.
 *
 * Returns: (transfer none): the cancellable
 *
 * Since: 0.1
 */
GCancellable *
concurry_gio_call_get_cancellable (ConcurryGioCall *call)
{
  g_return_val_if_fail (call != NULL, NULL);

  return concurry_promise_get_cancellable (call->promise);
}

/**
 * concurry_gio_call_ready: (skip)
 * @source_object: (nullable): the source object of the call
 * @result: its result
 * @call: the `ConcurryGioCall`
 *
 * The `GAsyncReadyCallback` to give the `_async` function, with the call
 * as its data. It finishes the call, completes the future and frees the
 * call.
 *
 * Since: 0.1
 */
void
concurry_gio_call_ready (GObject      *source_object,
                         GAsyncResult *result,
                         gpointer      data)
{
  ConcurryGioCall *call = data;
  GError *error = NULL;

  g_return_if_fail (call != NULL);

  if (call->finish_full != NULL)
    {
      call->finish_full (source_object, result, call->promise, call->user_data);
      if (!concurry_future_is_done (CONCURRY_FUTURE (call->promise)))
        concurry_promise_reject_literal (call->promise, CONCURRY_ERROR, CONCURRY_ERROR_FAILED,
                                         _("The finish function did not complete the promise"));
      if (call->destroy != NULL)
        call->destroy (call->user_data);
    }
  else if (call->value_type == G_TYPE_BOOLEAN)
    {
      gboolean ok = ((FinishBoolean)call->finish) (source_object, result, &error);

      if (error != NULL)
        concurry_promise_take_error (call->promise, error);
      else
        concurry_promise_resolve_boolean (call->promise, ok);
    }
  else if (call->value_type == G_TYPE_INT64)
    {
      gssize size = ((FinishSize)call->finish) (source_object, result, &error);

      if (error != NULL)
        concurry_promise_take_error (call->promise, error);
      else
        concurry_promise_resolve_int64 (call->promise, size);
    }
  else
    {
      gpointer ptr = ((FinishPointer)call->finish) (source_object, result, &error);

      if (error != NULL)
        {
          concurry_promise_take_error (call->promise, error);
        }
      else
        {
          GValue value = G_VALUE_INIT;

          g_value_init (&value, call->value_type);
          if (G_VALUE_HOLDS_OBJECT (&value))
            g_value_take_object (&value, ptr);
          else if (G_VALUE_HOLDS_STRING (&value))
            g_value_take_string (&value, ptr);
          else if (G_VALUE_HOLDS_VARIANT (&value))
            g_value_take_variant (&value, ptr);
          else
            g_value_take_boxed (&value, ptr);
          concurry_promise_take_value (call->promise, &value);
        }
    }

  g_object_unref (call->promise);
  g_free (call);
}

static void
task_completed_cb (GTask      *task,
                   GParamSpec *pspec,
                   gpointer    user_data)
{
  ConcurryPromise *promise = user_data;
  GType value_type = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (promise), "concurry-value-type"));
  GError *error = NULL;

  if (!g_task_get_completed (task))
    return;

  g_signal_handlers_disconnect_by_data (task, promise);

  if (value_type == G_TYPE_BOOLEAN)
    {
      gboolean ok = g_task_propagate_boolean (task, &error);
      if (error == NULL)
        concurry_promise_resolve_boolean (promise, ok);
    }
  else if (value_type == G_TYPE_INT64)
    {
      gssize n = g_task_propagate_int (task, &error);
      if (error == NULL)
        concurry_promise_resolve_int64 (promise, n);
    }
  else
    {
      GValue value = G_VALUE_INIT;

      if (g_task_propagate_value (task, &value, &error))
        concurry_promise_take_value (promise, &value);
    }

  if (error != NULL)
    concurry_promise_take_error (promise, error);

  g_object_unref (promise);
}

/**
 * concurry_future_new_for_task:
 * @task: a `GTask` created with no callback
 * @value_type: how to read the task's result: %G_TYPE_BOOLEAN
 *   (g_task_return_boolean()), %G_TYPE_INT64 (g_task_return_int()), or
 *   %G_TYPE_VALUE for g_task_return_value()
 *
 * Wraps an existing `GTask` in a future that completes with the task's
 * result when the task completes (on the task's main context, as GTask
 * reports completion there). The future consumes the result: create the
 * task without a callback.
 *
 * Cancelling the future cancels the task's cancellable, if it has one.
 *
 * Returns: (transfer full): the future of @task
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_future_new_for_task (GTask *task,
                              GType  value_type)
{
  ConcurryPromise *promise;
  GCancellable *cancellable;

  g_return_val_if_fail (G_IS_TASK (task), NULL);
  g_return_val_if_fail (value_type == G_TYPE_BOOLEAN ||
                        value_type == G_TYPE_INT64 ||
                        value_type == G_TYPE_VALUE, NULL);

  promise = concurry_promise_new ();
  g_object_set_data (G_OBJECT (promise), "concurry-value-type", GSIZE_TO_POINTER (value_type));

  cancellable = g_task_get_cancellable (task);
  if (cancellable != NULL)
    g_signal_connect_object (concurry_promise_get_cancellable (promise), "cancelled",
                             G_CALLBACK (g_cancellable_cancel), cancellable, G_CONNECT_SWAPPED);

  g_signal_connect_data (task, "notify::completed", G_CALLBACK (task_completed_cb),
                         g_object_ref (promise), NULL, 0);
  /* Already completed: nothing will notify any more. */
  if (g_task_get_completed (task))
    task_completed_cb (task, NULL, promise);

  return CONCURRY_FUTURE (promise);
}
