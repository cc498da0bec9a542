/* concurry-work-batch-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-work-batch-private.h"
#endif

#include "concurry-work-batch.h"
#include "concurry-work-future-private.h"

G_BEGIN_DECLS

enum {
  CONCURRY_BATCH_ITEM_NEW,
  CONCURRY_BATCH_ITEM_STARTED,
  CONCURRY_BATCH_ITEM_DONE,
  CONCURRY_BATCH_ITEM_SKIPPED,
};

ConcurryWorkBatch *_concurry_work_batch_new_queued (ConcurryWorkFuture **items,
                                                    guint                n_items,
                                                    GCancellable       **cancellables,
                                                    guint8              *states,
                                                    int                 *cancelling);
ConcurryWorkBatch *_concurry_work_batch_new_values (const GValue        *data,
                                                    const GValue        *inputs,
                                                    guint                n_inputs,
                                                    GCancellable        *cancellable,
                                                    GValue              *outputs,
                                                    GError             **errors,
                                                    guint8              *states);

/* Where a batch of values hands each outcome as soon as the runner's
 * function gives it, on the thread running the function: that of item
 * @index (in the order the function gives them, which may not be the
 * items' order), @value (if it holds one) or @error, both taken; @part
 * tells a part of a started item's results (see
 * concurry_work_batch_return_part()) from its end. */
typedef void (*ConcurryBatchSink) (gpointer  data,
                                   guint     index,
                                   GValue   *value,
                                   GError   *error,
                                   gboolean  part);

void               _concurry_work_batch_set_sink   (ConcurryWorkBatch   *batch,
                                                    ConcurryBatchSink    sink,
                                                    gpointer             sink_data);
void               _concurry_work_batch_invalidate (ConcurryWorkBatch   *batch);
gint64             _concurry_work_batch_get_first_start (ConcurryWorkBatch *batch);

G_END_DECLS
