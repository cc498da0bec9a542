/* concurry-gio.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-promise.h"

G_BEGIN_DECLS

/**
 * ConcurryGioCall:
 *
 * The glue between one GIO `_async`/`_finish` call and its future; see
 * `CONCURRY_GIO_CALL()`. It frees itself when the call completes.
 *
 * Since: 0.1
 */
typedef struct _ConcurryGioCall ConcurryGioCall;

/**
 * ConcurryGioFinishFunc:
 * @source_object: (nullable): the source object of the call
 * @result: its result
 * @promise: the promise to complete with the outcome
 * @user_data: (closure): the data given with the function
 *
 * Finishes a GIO call whose `_finish` function does not have the plain
 * `(source, result, error)` shape, for example one with out parameters:
 * call the `_finish` function and resolve or reject @promise.
 *
 * Since: 0.1
 */
typedef void (*ConcurryGioFinishFunc) (GObject         *source_object,
                                       GAsyncResult    *result,
                                       ConcurryPromise *promise,
                                       gpointer         user_data);

CONCURRY_AVAILABLE_IN_ALL
ConcurryGioCall *concurry_gio_call_new             (GType                  value_type,
                                                    GCallback              finish);
CONCURRY_AVAILABLE_IN_ALL
ConcurryGioCall *concurry_gio_call_new_full        (ConcurryGioFinishFunc  finish,
                                                    gpointer               user_data,
                                                    GDestroyNotify         destroy);
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture  *concurry_gio_call_dup_future      (ConcurryGioCall       *call);
CONCURRY_AVAILABLE_IN_ALL
GCancellable    *concurry_gio_call_get_cancellable (ConcurryGioCall       *call);
CONCURRY_AVAILABLE_IN_ALL
void             concurry_gio_call_ready           (GObject               *source_object,
                                                    GAsyncResult          *result,
                                                    gpointer               call);

CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture  *concurry_future_new_for_task      (GTask                 *task,
                                                    GType                  value_type) G_GNUC_WARN_UNUSED_RESULT;

/**
 * CONCURRY_GIO_CALL:
 * @value_type: the `GType` of what @finish returns: %G_TYPE_BOOLEAN for a
 *   `gboolean`, %G_TYPE_INT64 for a `gssize`, or the type of the object,
 *   boxed, string or variant it returns (transfer full)
 * @finish: the `_finish` function, of the shape `(source, result, error)`
 * @async_func: the `_async` function
 * @...: the arguments of @async_func before its cancellable
 *
 * Starts a GIO asynchronous call and returns its future, in one line.
 *
 * The call gets a cancellable that [method@Concurry.Future.cancel] trips,
 * and completes on the thread-default main context of the caller, like
 * any GIO call. The future holds what @finish returned, or its error.
 *
 * ```c
 * g_autoptr(ConcurryFuture) done =
 *   CONCURRY_GIO_CALL (G_TYPE_BOOLEAN, g_subprocess_wait_check_finish,
 *                      g_subprocess_wait_check_async, subprocess);
 * g_autoptr(ConcurryFuture) reply =
 *   CONCURRY_GIO_CALL (G_TYPE_VARIANT, g_dbus_connection_call_finish,
 *                      g_dbus_connection_call, bus, "org.freedesktop.DBus",
 *                      "/org/freedesktop/DBus", "org.freedesktop.DBus",
 *                      "ListNames", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1);
 * ```
 *
 * For a `_finish` function of another shape, use
 * concurry_gio_call_new_full() and pass
 * concurry_gio_call_ready() and the call as callback and data.
 *
 * This macro needs GCC or Clang (it is a statement expression).
 *
 * Returns: (transfer full): the future of the call
 *
 * Since: 0.1
 */
#if defined (__GNUC__) || defined (__clang__)
# define CONCURRY_GIO_CALL(value_type, finish, async_func, ...)                        \
  (__extension__ ({                                                                      \
    ConcurryGioCall *_concurry_call = concurry_gio_call_new ((value_type),              \
                                                             (GCallback) (finish));     \
    ConcurryFuture *_concurry_future = concurry_gio_call_dup_future (_concurry_call);   \
    async_func (__VA_ARGS__, concurry_gio_call_get_cancellable (_concurry_call),         \
                concurry_gio_call_ready, _concurry_call);                               \
    _concurry_future;                                                                    \
  }))
#endif

G_END_DECLS
