/* concurry-as-completed.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-future.h"

G_BEGIN_DECLS

#define CONCURRY_TYPE_AS_COMPLETED (concurry_as_completed_get_type ())

CONCURRY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ConcurryAsCompleted, concurry_as_completed, CONCURRY, AS_COMPLETED, GObject)

CONCURRY_AVAILABLE_IN_ALL
ConcurryAsCompleted *concurry_as_completed             (ConcurryFuture      **futures,
                                                        guint                 n_futures,
                                                        gint64                timeout_usec) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture      *concurry_as_completed_next        (ConcurryAsCompleted  *self,
                                                        GError              **error);
CONCURRY_AVAILABLE_IN_0_2
ConcurryFuture      *concurry_as_completed_next_until  (ConcurryAsCompleted  *self,
                                                        gint64                deadline_usec,
                                                        GError              **error);
CONCURRY_AVAILABLE_IN_ALL
void                 concurry_as_completed_next_async  (ConcurryAsCompleted  *self,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
CONCURRY_AVAILABLE_IN_ALL
ConcurryFuture      *concurry_as_completed_next_finish (ConcurryAsCompleted  *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
CONCURRY_AVAILABLE_IN_ALL
guint                concurry_as_completed_get_n_remaining (ConcurryAsCompleted *self);

G_END_DECLS
