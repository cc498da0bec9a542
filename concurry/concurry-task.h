/* concurry-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-future.h"

G_BEGIN_DECLS

#define CONCURRY_TYPE_TASK (concurry_task_get_type ())

CONCURRY_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (ConcurryTask, concurry_task, CONCURRY, TASK, GObject)

CONCURRY_AVAILABLE_IN_0_2
guint64              concurry_task_get_index    (ConcurryTask *self);
CONCURRY_AVAILABLE_IN_0_2
const GValue        *concurry_task_get_input    (ConcurryTask *self);
CONCURRY_AVAILABLE_IN_0_2
ConcurryFuture      *concurry_task_get_future   (ConcurryTask *self);
CONCURRY_AVAILABLE_IN_0_2
ConcurryFutureState  concurry_task_get_state    (ConcurryTask *self);
CONCURRY_AVAILABLE_IN_0_2
gboolean             concurry_task_is_complete  (ConcurryTask *self);
CONCURRY_AVAILABLE_IN_0_2
const GValue        *concurry_task_get_value    (ConcurryTask *self);
CONCURRY_AVAILABLE_IN_0_2
const GError        *concurry_task_get_error    (ConcurryTask *self);
CONCURRY_AVAILABLE_IN_0_2
gint64               concurry_task_get_duration (ConcurryTask *self);

G_END_DECLS
