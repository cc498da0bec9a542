/* concurry-completion-list.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-future.h"

G_BEGIN_DECLS

#define CONCURRY_TYPE_COMPLETION_LIST (concurry_completion_list_get_type ())

CONCURRY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ConcurryCompletionList, concurry_completion_list, CONCURRY, COMPLETION_LIST, GObject)

CONCURRY_AVAILABLE_IN_ALL
ConcurryCompletionList *concurry_completion_list_new (ConcurryFuture **futures,
                                                      guint            n_futures) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
