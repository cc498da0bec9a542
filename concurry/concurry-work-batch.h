/* concurry-work-batch.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-future.h"

G_BEGIN_DECLS

#define CONCURRY_TYPE_WORK_BATCH (concurry_work_batch_get_type ())

CONCURRY_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (ConcurryWorkBatch, concurry_work_batch, CONCURRY, WORK_BATCH, GObject)

CONCURRY_AVAILABLE_IN_0_2
guint           concurry_work_batch_get_size        (ConcurryWorkBatch *self);
CONCURRY_AVAILABLE_IN_0_2
const GValue   *concurry_work_batch_get_data        (ConcurryWorkBatch *self);
CONCURRY_AVAILABLE_IN_0_2
const GValue   *concurry_work_batch_start           (ConcurryWorkBatch *self,
                                                     guint              index);
CONCURRY_AVAILABLE_IN_0_2
GCancellable   *concurry_work_batch_get_cancellable (ConcurryWorkBatch *self,
                                                     guint              index);
CONCURRY_AVAILABLE_IN_0_2
ConcurryFuture *concurry_work_batch_get_future      (ConcurryWorkBatch *self,
                                                     guint              index);
CONCURRY_AVAILABLE_IN_0_2
void            concurry_work_batch_return_value    (ConcurryWorkBatch *self,
                                                     guint              index,
                                                     const GValue      *value);
CONCURRY_AVAILABLE_IN_0_2
void            concurry_work_batch_return_part     (ConcurryWorkBatch *self,
                                                     guint              index,
                                                     const GValue      *value);
CONCURRY_AVAILABLE_IN_0_2
void            concurry_work_batch_return_error    (ConcurryWorkBatch *self,
                                                     guint              index,
                                                     const GError      *error,
                                                     const GValue      *payload);

G_END_DECLS
