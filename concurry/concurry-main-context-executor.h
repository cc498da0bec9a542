/* concurry-main-context-executor.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-executor.h"

G_BEGIN_DECLS

#define CONCURRY_TYPE_MAIN_CONTEXT_EXECUTOR (concurry_main_context_executor_get_type ())

CONCURRY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ConcurryMainContextExecutor, concurry_main_context_executor, CONCURRY, MAIN_CONTEXT_EXECUTOR, GObject)

CONCURRY_AVAILABLE_IN_ALL
ConcurryExecutor *concurry_main_context_executor_new         (GMainContext                *context) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_ALL
GMainContext     *concurry_main_context_executor_get_context (ConcurryMainContextExecutor *self);

G_END_DECLS
