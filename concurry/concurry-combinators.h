/* concurry-combinators.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-future.h"

G_BEGIN_DECLS

/**
 * ConcurryWaitMode:
 * @CONCURRY_WAIT_ALL_COMPLETED: until every future is done (including
 *   failed and cancelled ones)
 * @CONCURRY_WAIT_FIRST_COMPLETED: until any future is done
 * @CONCURRY_WAIT_FIRST_EXCEPTION: until any future fails, or all are done;
 *   a cancellation is not a failure
 *
 * When [func@Concurry.wait] returns.
 *
 * Since: 0.1
 */
typedef enum
{
  CONCURRY_WAIT_ALL_COMPLETED,
  CONCURRY_WAIT_FIRST_COMPLETED,
  CONCURRY_WAIT_FIRST_EXCEPTION,
} ConcurryWaitMode;

/**
 * ConcurryGatherFlags:
 * @CONCURRY_GATHER_FLAGS_NONE: fail as soon as any input fails or is
 *   cancelled, with that input's error
 * @CONCURRY_GATHER_FLAGS_ALL_OUTCOMES: wait for every input and succeed
 *   whatever their outcomes (like `Promise.allSettled` or
 *   `return_exceptions=True`)
 *
 * How [func@Concurry.gather] treats failures.
 *
 * Since: 0.1
 */
typedef enum /*< flags >*/
{
  CONCURRY_GATHER_FLAGS_NONE = 0,
  CONCURRY_GATHER_FLAGS_ALL_OUTCOMES = 1 << 0,
} ConcurryGatherFlags;

/**
 * ConcurryChainFunc:
 * @future: the future that completed
 * @result: (out caller-allocates): an uninitialized `GValue` for the
 *   result: a value, or a [iface@Concurry.Future] to continue with
 * @user_data: (closure): the data given with the function
 * @error: return location for a `GError`
 *
 * A step of a chain, run on the main context of the code that built it.
 * Storing a future in @result continues the chain with that future's
 * outcome (the future is flattened); setting @error fails the chain.
 *
 * Since: 0.1
 */
typedef void (*ConcurryChainFunc) (ConcurryFuture  *future,
                                   GValue          *result,
                                   gpointer         user_data,
                                   GError         **error);

/**
 * ConcurryValueFunc:
 * @value: (nullable): the value of the future that completed
 * @result: (out caller-allocates): an uninitialized `GValue` for the
 *   result: a value, or a [iface@Concurry.Future] to continue with
 * @user_data: (closure): the data given with the function
 * @error: return location for a `GError`
 *
 * A transformation of a value, for [method@Concurry.Future.map].
 *
 * Since: 0.1
 */
typedef void (*ConcurryValueFunc) (const GValue  *value,
                                   GValue        *result,
                                   gpointer       user_data,
                                   GError       **error);

CONCURRY_AVAILABLE_IN_ALL
gboolean        concurry_wait                (ConcurryFuture         **futures,
                                              guint                    n_futures,
                                              ConcurryWaitMode         mode,
                                              gint64                   timeout_usec,
                                              GPtrArray              **done,
                                              GPtrArray              **not_done);
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_wait_future         (ConcurryFuture         **futures,
                                              guint                    n_futures,
                                              ConcurryWaitMode         mode) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_gather              (ConcurryFuture         **futures,
                                              guint                    n_futures,
                                              ConcurryGatherFlags      flags) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_any                 (ConcurryFuture         **futures,
                                              guint                    n_futures) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_race                (ConcurryFuture         **futures,
                                              guint                    n_futures) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_delay               (gint64                   delay_usec) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_timeout             (gint64                   delay_usec) G_GNUC_WARN_UNUSED_RESULT;

CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_future_with_timeout (ConcurryFuture          *self,
                                              gint64                   timeout_usec) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_future_and_then     (ConcurryFuture          *self,
                                              ConcurryChainFunc        func,
                                              gpointer                 user_data,
                                              GDestroyNotify           destroy) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_future_map          (ConcurryFuture          *self,
                                              ConcurryValueFunc        func,
                                              gpointer                 user_data,
                                              GDestroyNotify           destroy) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_future_catch_error  (ConcurryFuture          *self,
                                              ConcurryChainFunc        func,
                                              gpointer                 user_data,
                                              GDestroyNotify           destroy) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_future_finally_do   (ConcurryFuture          *self,
                                              ConcurryFutureCallback   func,
                                              gpointer                 user_data,
                                              GDestroyNotify           destroy) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_0_2
ConcurryFuture *concurry_future_finally_then (ConcurryFuture          *self,
                                              ConcurryChainFunc        func,
                                              gpointer                 user_data,
                                              GDestroyNotify           destroy) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
