/* concurry-task-executor.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-executor.h"

G_BEGIN_DECLS

#define CONCURRY_TYPE_TASK_EXECUTOR (concurry_task_executor_get_type ())

CONCURRY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ConcurryTaskExecutor, concurry_task_executor, CONCURRY, TASK_EXECUTOR, GObject)

CONCURRY_AVAILABLE_IN_ALL
ConcurryExecutor *concurry_task_executor_new (void) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
