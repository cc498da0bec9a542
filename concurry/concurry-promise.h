/* concurry-promise.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-future.h"

G_BEGIN_DECLS

#define CONCURRY_TYPE_PROMISE (concurry_promise_get_type ())

CONCURRY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ConcurryPromise, concurry_promise, CONCURRY, PROMISE, GObject)

CONCURRY_AVAILABLE_IN_ALL
ConcurryPromise *concurry_promise_new             (void) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture  *concurry_promise_get_future      (ConcurryPromise *self);
CONCURRY_AVAILABLE_IN_ALL
GCancellable    *concurry_promise_get_cancellable (ConcurryPromise *self);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_mark_running    (ConcurryPromise *self);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve         (ConcurryPromise *self,
                                                   const GValue    *value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_boolean (ConcurryPromise *self,
                                                   gboolean         value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_int     (ConcurryPromise *self,
                                                   int              value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_uint    (ConcurryPromise *self,
                                                   guint            value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_int64   (ConcurryPromise *self,
                                                   gint64           value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_uint64  (ConcurryPromise *self,
                                                   guint64          value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_double  (ConcurryPromise *self,
                                                   double           value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_string  (ConcurryPromise *self,
                                                   const char      *value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_object  (ConcurryPromise *self,
                                                   gpointer         value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_pointer (ConcurryPromise *self,
                                                   gpointer         value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_boxed   (ConcurryPromise *self,
                                                   GType            boxed_type,
                                                   gconstpointer    value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_resolve_variant (ConcurryPromise *self,
                                                   GVariant        *value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_take_value      (ConcurryPromise *self,
                                                   GValue          *value);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_reject          (ConcurryPromise *self,
                                                   const GError    *error);
CONCURRY_AVAILABLE_IN_0_2
gboolean         concurry_promise_reject_with_payload (ConcurryPromise *self,
                                                       const GError    *error,
                                                       const GValue    *payload);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_reject_literal  (ConcurryPromise *self,
                                                   GQuark           domain,
                                                   int              code,
                                                   const char      *message);
CONCURRY_AVAILABLE_IN_ALL
gboolean         concurry_promise_take_error      (ConcurryPromise *self,
                                                   GError          *error);

G_END_DECLS
