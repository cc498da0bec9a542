/* concurry-map-results.h
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
 * ConcurryMapFunc:
 * @item: the input item
 * @cancellable: the cancellable of the chunk of work, tripped when the
 *   map is closed, fails or times out
 * @result: (out caller-allocates): an uninitialized `GValue` to store the
 *   result for @item in
 * @user_data: (closure): the data given with the function
 * @error: return location for a `GError`
 *
 * Work to run on each item of [method@Concurry.Executor.map]: store the
 * result for @item in @result, or set @error.
 *
 * Since: 0.1
 */
typedef void (*ConcurryMapFunc) (const GValue  *item,
                                 GCancellable  *cancellable,
                                 GValue        *result,
                                 gpointer       user_data,
                                 GError       **error);

/**
 * ConcurryInputFunc:
 * @item: (out caller-allocates): an uninitialized `GValue` to store the
 *   next item in
 * @user_data: (closure): the data given with the function
 * @error: return location for a `GError`
 *
 * Produces the inputs of [method@Concurry.Executor.map], one at a time and
 * only as they are needed, so that inputs of any length (even endless
 * ones) use bounded memory. An error ends the input: the map reports it
 * at that position.
 *
 * Returns: %TRUE if @item was set, %FALSE when the input is exhausted or
 *   failed
 *
 * Since: 0.1
 */
typedef gboolean (*ConcurryInputFunc) (GValue    *item,
                                       gpointer   user_data,
                                       GError   **error);

#define CONCURRY_TYPE_MAP_RESULTS (concurry_map_results_get_type ())

CONCURRY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ConcurryMapResults, concurry_map_results, CONCURRY, MAP_RESULTS, GObject)

CONCURRY_AVAILABLE_IN_ALL
gboolean concurry_map_results_next  (ConcurryMapResults  *self,
                                     GValue              *value,
                                     GError             **error);
CONCURRY_AVAILABLE_IN_0_2
gboolean concurry_map_results_next_until (ConcurryMapResults  *self,
                                          gint64               deadline_usec,
                                          GValue              *value,
                                          gboolean            *timed_out,
                                          GError             **error);
CONCURRY_AVAILABLE_IN_0_2
const GValue *concurry_map_results_get_error_payload (ConcurryMapResults *self);
CONCURRY_AVAILABLE_IN_ALL
void     concurry_map_results_close (ConcurryMapResults  *self);
CONCURRY_AVAILABLE_IN_0_2
GValue  *concurry_map_results_next_value (ConcurryMapResults  *self,
                                          GError             **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
