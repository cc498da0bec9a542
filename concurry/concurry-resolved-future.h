/* concurry-resolved-future.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-future.h"

G_BEGIN_DECLS

#define CONCURRY_TYPE_RESOLVED_FUTURE (concurry_resolved_future_get_type ())

CONCURRY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ConcurryResolvedFuture, concurry_resolved_future, CONCURRY, RESOLVED_FUTURE, GObject)

CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new               (const GValue  *value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_take_value    (GValue        *value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_boolean       (gboolean       value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_int           (int            value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_uint          (guint          value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_int64         (gint64         value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_uint64        (guint64        value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_double        (double         value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_string        (const char    *value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_object        (gpointer       value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_pointer       (gpointer       value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_variant       (GVariant      *value) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_error         (const GError  *error) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_error_literal (GQuark         domain,
                                                            int            code,
                                                            const char    *message) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_0_2
ConcurryFuture *concurry_resolved_future_new_error_with_payload (const GError *error,
                                                                 const GValue *payload) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture *concurry_resolved_future_new_take_error    (GError        *error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
