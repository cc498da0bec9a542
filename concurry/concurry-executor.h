/* concurry-executor.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-future.h"
#include "concurry-map-results.h"
#include "concurry-runner.h"

G_BEGIN_DECLS

/**
 * ConcurryWorkFunc:
 * @cancellable: the cancellable of the future, tripped when it is cancelled
 * @value: (out caller-allocates): an uninitialized `GValue` to store the
 *   result in
 * @user_data: (closure): the data given with the function
 * @error: return location for a `GError`
 *
 * Work to run for a future: store the result in @value, or set @error.
 *
 * Leaving @value uninitialized completes the future without a value. An
 * error of `G_IO_ERROR_CANCELLED` makes the future cancelled.
 *
 * In bindings the function returns its result. In JavaScript a thrown
 * exception fails the future with its message, and so does returning
 * `undefined` (return `null` for no value). With PyGObject's raw API only
 * a raised `GLib.Error` fails the future (other exceptions are printed and
 * the future completes without a value): the Python override's executor
 * keeps the very exception instead.
 *
 * Since: 0.1
 */
typedef void (*ConcurryWorkFunc) (GCancellable  *cancellable,
                                  GValue        *value,
                                  gpointer       user_data,
                                  GError       **error);

#define CONCURRY_TYPE_EXECUTOR (concurry_executor_get_type ())

CONCURRY_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (ConcurryExecutor, concurry_executor, CONCURRY, EXECUTOR, GObject)

/**
 * ConcurryExecutorInterface:
 * @parent_iface: the parent interface
 * @submit: schedules work and returns its future
 * @shutdown: stops accepting work, optionally cancelling what has not
 *   started and waiting for the rest
 * @is_shutdown: whether the executor was shut down
 * @get_max_workers: how many work functions may run at once
 *
 * The virtual functions of [iface@Concurry.Executor].
 *
 * Since: 0.1
 */
struct _ConcurryExecutorInterface
{
  GTypeInterface parent_iface;

  ConcurryFuture *(*submit)          (ConcurryExecutor  *self,
                                      ConcurryWorkFunc   func,
                                      gpointer           user_data,
                                      GDestroyNotify     destroy,
                                      GError           **error);
  gboolean        (*shutdown)        (ConcurryExecutor  *self,
                                      gboolean           wait,
                                      gboolean           cancel_futures,
                                      GError           **error);
  gboolean        (*is_shutdown)     (ConcurryExecutor  *self);
  guint           (*get_max_workers) (ConcurryExecutor  *self);

  /*< private >*/
  gpointer padding[8];
};

CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture     *concurry_executor_submit          (ConcurryExecutor   *self,
                                                       ConcurryWorkFunc    func,
                                                       gpointer            user_data,
                                                       GDestroyNotify      destroy,
                                                       GError            **error) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryMapResults *concurry_executor_map             (ConcurryExecutor   *self,
                                                       ConcurryMapFunc     func,
                                                       gpointer            func_data,
                                                       GDestroyNotify      func_destroy,
                                                       ConcurryInputFunc   input,
                                                       gpointer            input_data,
                                                       GDestroyNotify      input_destroy,
                                                       gint64              timeout_usec,
                                                       guint               chunksize,
                                                       guint               max_in_flight,
                                                       GError            **error) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_0_2
ConcurryFuture     *concurry_executor_submit_after    (ConcurryExecutor   *self,
                                                       ConcurryFuture    **after,
                                                       guint               n_after,
                                                       ConcurryWorkFunc    func,
                                                       gpointer            user_data,
                                                       GDestroyNotify      destroy,
                                                       GError            **error) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_0_2
ConcurryFuture     *concurry_executor_submit_to_runner (ConcurryExecutor  *self,
                                                        ConcurryRunner    *runner,
                                                        const GValue      *item,
                                                        ConcurryFuture   **after,
                                                        guint              n_after,
                                                        GError           **error) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_0_2
ConcurryMapResults *concurry_executor_map_with_runner (ConcurryExecutor   *self,
                                                       ConcurryRunner     *runner,
                                                       const GValue       *data,
                                                       ConcurryInputFunc   input,
                                                       gpointer            input_data,
                                                       GDestroyNotify      input_destroy,
                                                       gint64              timeout_usec,
                                                       guint               chunksize,
                                                       guint               max_in_flight,
                                                       GError            **error) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_0_2
guint               concurry_map_input_hint           (void);
CONCURRY_AVAILABLE_IN_ALL
gboolean            concurry_executor_shutdown        (ConcurryExecutor   *self,
                                                       gboolean            wait,
                                                       gboolean            cancel_futures,
                                                       GError            **error);
CONCURRY_AVAILABLE_IN_ALL
gboolean            concurry_executor_is_shutdown     (ConcurryExecutor   *self);
CONCURRY_AVAILABLE_IN_ALL
guint               concurry_executor_get_max_workers (ConcurryExecutor   *self);

G_END_DECLS
