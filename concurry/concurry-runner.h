/* concurry-runner.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-work-batch.h"

G_BEGIN_DECLS

/**
 * ConcurryRunnerFunc:
 * @batch: the items to run, valid only during the call
 * @user_data: the data given to [ctor@Concurry.Runner.new]
 *
 * Runs the items of @batch in order: for each, calls
 * [method@Concurry.WorkBatch.start], skips the item if that returns
 * %NULL, and otherwise runs it and reports its outcome with
 * [method@Concurry.WorkBatch.return_value] or
 * [method@Concurry.WorkBatch.return_error].
 *
 * Since: 0.2
 */
typedef void (*ConcurryRunnerFunc) (ConcurryWorkBatch *batch,
                                    gpointer           user_data);

#define CONCURRY_TYPE_RUNNER (concurry_runner_get_type ())

CONCURRY_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (ConcurryRunner, concurry_runner, CONCURRY, RUNNER, GObject)

CONCURRY_AVAILABLE_IN_0_2
ConcurryRunner *concurry_runner_new (ConcurryRunnerFunc func,
                                     gpointer           user_data,
                                     GDestroyNotify     destroy) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_0_2
void            concurry_runner_set_forwarding (ConcurryRunner *self,
                                                gboolean        forwarding);
CONCURRY_AVAILABLE_IN_0_2
gboolean        concurry_runner_get_forwarding (ConcurryRunner *self);

G_END_DECLS
