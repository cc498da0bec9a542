/* concurry-future.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include <gio/gio.h>

#include "concurry-version-macros.h"

G_BEGIN_DECLS

/**
 * ConcurryFutureState:
 * @CONCURRY_FUTURE_STATE_PENDING: the result is not known yet and no work
 *   is running for it (for example, it is still queued)
 * @CONCURRY_FUTURE_STATE_RUNNING: the work that produces the result has started
 * @CONCURRY_FUTURE_STATE_DONE: the future completed with a value
 * @CONCURRY_FUTURE_STATE_FAILED: the future completed with an error
 * @CONCURRY_FUTURE_STATE_CANCELLED: the future was cancelled
 *
 * The states of a [iface@Concurry.Future].
 *
 * A future starts PENDING, may become RUNNING, and ends in exactly one of
 * the three terminal states, DONE, FAILED or CANCELLED, which never change
 * afterwards.
 *
 * Since: 0.1
 */
typedef enum
{
  CONCURRY_FUTURE_STATE_PENDING,
  CONCURRY_FUTURE_STATE_RUNNING,
  CONCURRY_FUTURE_STATE_DONE,
  CONCURRY_FUTURE_STATE_FAILED,
  CONCURRY_FUTURE_STATE_CANCELLED,
} ConcurryFutureState;

#define CONCURRY_TYPE_FUTURE (concurry_future_get_type ())

CONCURRY_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (ConcurryFuture, concurry_future, CONCURRY, FUTURE, GObject)

/**
 * ConcurryFutureCallback:
 * @future: the [iface@Concurry.Future] that completed
 * @user_data: (closure): the data given when the callback was added
 *
 * A done callback, run once @future has reached a terminal state.
 *
 * Since: 0.1
 */
typedef void (*ConcurryFutureCallback) (ConcurryFuture *future,
                                        gpointer        user_data);

CONCURRY_AVAILABLE_IN_ALL
ConcurryFutureState  concurry_future_get_state               (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_is_done                 (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_is_running              (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_is_cancelled            (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_is_failed               (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
const char          *concurry_future_get_id                  (ConcurryFuture          *self);

CONCURRY_AVAILABLE_IN_ALL
const GValue        *concurry_future_get_value               (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_dup_value               (ConcurryFuture          *self,
                                                              GValue                  *value);
CONCURRY_AVAILABLE_IN_ALL
GType                concurry_future_get_value_type          (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_get_boolean             (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
int                  concurry_future_get_int                 (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
guint                concurry_future_get_uint                (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gint64               concurry_future_get_int64               (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
guint64              concurry_future_get_uint64              (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
double               concurry_future_get_double              (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
const char          *concurry_future_get_string              (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gpointer             concurry_future_get_object              (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gpointer             concurry_future_get_pointer             (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gpointer             concurry_future_get_boxed               (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
GVariant            *concurry_future_get_variant             (ConcurryFuture          *self);

CONCURRY_AVAILABLE_IN_ALL
const GError        *concurry_future_get_error               (ConcurryFuture          *self);

CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_wait                    (ConcurryFuture          *self,
                                                              gint64                   timeout_usec,
                                                              GError                 **error);
CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_wait_until              (ConcurryFuture          *self,
                                                              gint64                   deadline_usec,
                                                              GError                 **error);
CONCURRY_AVAILABLE_IN_ALL
void                 concurry_future_wait_async              (ConcurryFuture          *self,
                                                              GCancellable            *cancellable,
                                                              GAsyncReadyCallback      callback,
                                                              gpointer                 user_data);
CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_wait_finish             (ConcurryFuture          *self,
                                                              GAsyncResult            *result,
                                                              GError                 **error);

CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_cancel                  (ConcurryFuture          *self);

CONCURRY_AVAILABLE_IN_ALL
guint                concurry_future_add_done_callback       (ConcurryFuture          *self,
                                                              ConcurryFutureCallback   callback,
                                                              gpointer                 user_data,
                                                              GDestroyNotify           destroy);
CONCURRY_AVAILABLE_IN_ALL
guint                concurry_future_add_done_callback_full  (ConcurryFuture          *self,
                                                              GMainContext            *context,
                                                              ConcurryFutureCallback   callback,
                                                              gpointer                 user_data,
                                                              GDestroyNotify           destroy);
CONCURRY_AVAILABLE_IN_0_2
gboolean             concurry_future_cancel_pending          (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_0_2
guint                concurry_future_add_done_callback_direct (ConcurryFuture         *self,
                                                              ConcurryFutureCallback   callback,
                                                              gpointer                 user_data,
                                                              GDestroyNotify           destroy);
CONCURRY_AVAILABLE_IN_0_2
const GValue        *concurry_future_get_error_payload       (ConcurryFuture          *self);
CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_future_remove_done_callback    (ConcurryFuture          *self,
                                                              guint                    callback_id);

CONCURRY_AVAILABLE_IN_ALL
void                 concurry_set_unobserved_error_warnings  (gboolean                 enabled);
CONCURRY_AVAILABLE_IN_ALL
gboolean             concurry_get_unobserved_error_warnings  (void);

G_END_DECLS
