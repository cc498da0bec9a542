/* concurry-runner-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-runner-private.h"
#endif

#include "concurry-runner.h"
#include "concurry-work-batch-private.h"
#include "concurry-work-future-private.h"

G_BEGIN_DECLS

struct _ConcurryRunner
{
  GObject             parent_instance;
  ConcurryRunnerFunc  func;
  gpointer            user_data;
  GDestroyNotify      destroy;
  gboolean            forwarding;
};

/* The data of a work item submitted to a runner. */
typedef struct
{
  ConcurryRunner *runner;
  GValue          item;
} ConcurryRunnerItem;

/* The most items one batch holds. */
#define CONCURRY_RUNNER_MAX_BATCH 64

ConcurryRunnerItem *_concurry_runner_item_new       (ConcurryRunner      *runner,
                                                     const GValue        *item);
void                _concurry_runner_item_free      (gpointer             data);
void                _concurry_runner_work_func      (GCancellable        *cancellable,
                                                     GValue              *value,
                                                     gpointer             user_data,
                                                     GError             **error);
ConcurryRunner     *_concurry_runner_of_item        (ConcurryWorkFuture  *item);
void                _concurry_runner_run_queued     (ConcurryRunner      *runner,
                                                     ConcurryWorkFuture **items,
                                                     guint                n_items,
                                                     int                 *cancelling);
void                _concurry_runner_run_values     (ConcurryRunner      *runner,
                                                     const GValue        *data,
                                                     const GValue        *inputs,
                                                     guint                n_inputs,
                                                     GCancellable        *cancellable,
                                                     GValue              *outputs,
                                                     GError             **errors,
                                                     ConcurryBatchSink    sink,
                                                     gpointer             sink_data,
                                                     gint64              *busy_usec);
gboolean            _concurry_runner_is_javascript  (ConcurryRunner      *runner);

/* Whether @runner's function forwards its items (see
 * concurry_runner_set_forwarding()): read on the worker path, no check. */
static inline gboolean
_concurry_runner_is_forwarding (ConcurryRunner *runner)
{
  return g_atomic_int_get (&runner->forwarding);
}

G_END_DECLS
