/* concurry-work-queue-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-work-queue-private.h"
#endif

#include "concurry-promise.h"
#include "concurry-work-future-private.h"

G_BEGIN_DECLS

/*
 * ConcurryWorkQueue:
 *
 * The bookkeeping every executor shares, so that submit, cancel and
 * shutdown behave the same whatever runs the work: the FIFO of submitted
 * items no worker has taken yet (so shutdown can cancel them), the count
 * of items not finished (so shutdown can wait for them), and the
 * shut-down flag. While items are outstanding the queue holds a reference
 * on its executor, so dropping the executor never loses work.
 *
 * Executors running work on threads use drainers: a drainer is one job
 * given to a thread pool that runs queued items until the queue is empty.
 * A push starts a drainer only while fewer than @max_drainers run, so a
 * burst of submissions costs one pool job per worker, not one per item.
 */
typedef struct
{
  GMutex              mutex;
  ConcurryPromise    *drained;         /* resolved when n_outstanding is 0 */
  ConcurryWorkFuture *head;
  ConcurryWorkFuture *tail;
  guint               n_outstanding;
  guint               n_drainers;
  guint               max_drainers;
  gboolean            shut_down;
} ConcurryWorkQueue;

void                _concurry_work_queue_init       (ConcurryWorkQueue  *queue);
void                _concurry_work_queue_clear      (ConcurryWorkQueue  *queue);
ConcurryWorkFuture *_concurry_work_queue_push       (ConcurryWorkQueue  *queue,
                                                     ConcurryExecutor   *executor,
                                                     ConcurryWorkFunc    func,
                                                     gpointer            user_data,
                                                     GDestroyNotify      destroy,
                                                     gboolean            on_worker_threads,
                                                     gboolean           *start_drainer,
                                                     GError            **error);
void                _concurry_work_queue_drain      (ConcurryWorkQueue  *queue,
                                                     ConcurryExecutor   *executor);
ConcurryWorkFuture *_concurry_work_queue_pop        (ConcurryWorkQueue  *queue);
void                _concurry_work_queue_run        (ConcurryWorkQueue  *queue,
                                                     ConcurryExecutor   *executor,
                                                     ConcurryWorkFuture *item);
gboolean            _concurry_work_queue_shutdown   (ConcurryWorkQueue  *queue,
                                                     ConcurryExecutor   *executor,
                                                     gboolean            wait,
                                                     gboolean            cancel_futures,
                                                     GError            **error);
gboolean            _concurry_work_queue_is_shut_down (ConcurryWorkQueue *queue);

G_END_DECLS
