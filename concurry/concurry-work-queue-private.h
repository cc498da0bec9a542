/* concurry-work-queue-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-work-queue-private.h"
#endif

#include "concurry-platform-private.h"
#include "concurry-promise.h"
#include "concurry-work-future-private.h"

G_BEGIN_DECLS

/*
 * ConcurryWorkQueue:
 *
 * The bookkeeping every executor shares, so that submit, cancel and
 * shutdown behave the same whatever runs the work: the items submitted
 * that nothing has taken yet (so shutdown can cancel them), the count of
 * items not finished (so shutdown can wait for them), and the shut-down
 * flag. Each outstanding item holds its executor alive, through a drainer
 * or a reference of its own, so dropping the executor never loses work.
 *
 * Submitting takes no lock: an item goes on @incoming, a stack that
 * producers push onto with one compare-and-swap. Whoever takes items does
 * so under @mutex, moving the whole stack, reversed, to @fifo when @fifo
 * is empty: items are taken in submission order, and producers never wait
 * for consumers.
 *
 * Executors running work on threads use drainers: a drainer is one job
 * given to a thread pool that runs queued items until the queue is empty
 * (and stays a moment in case more come). A push starts a drainer only
 * while fewer than @max_drainers run, so a burst of submissions costs one
 * pool job per worker, not one per item; and starts none while a drainer
 * is idle, looking for more, as that one takes the item.
 */
typedef struct _ConcurryDrainerExits ConcurryDrainerExits;

typedef struct
{
  /* Written by producers (and read by everybody) */
  ConcurryWorkFuture *incoming;        /* newest first; atomic */
  int                 n_outstanding;   /* submitted, not finished; atomic */
  int                 n_drainers;      /* atomic */
  int                 n_idle;          /* drainers looking for more; atomic */
  int                 shut_down;       /* atomic */
  int                 cancelling;      /* shut down with cancel_futures; atomic */
  guint               max_drainers;

  /* Keeps what consumers write off the producers' cache line. */
  char                padding[64];

  GMutex              mutex;           /* taking items; @drained */
  ConcurryWorkFuture *fifo;            /* oldest first */
  guint               fifo_length;
  ConcurryPromise    *drained;         /* resolved when n_outstanding is 0 */

  /* Idle drainers that wait for work a while (@park_idle_drainers) wait
   * on @idle_cond, with @mutex; @n_parked counts them (atomic, written
   * with @mutex). */
  GCond               idle_cond;
  int                 n_parked;
  /* Drainers started (atomic), and those that took their first batch,
   * announced on @begun_cond (with @mutex): see shutdown. */
  guint               n_started;
  guint               n_begun;
  GCond               begun_cond;
  /* Under @mutex: during a shutdown with cancel_futures, the oldest queued
   * items, one for each drainer still to begin (see shutdown). */
  ConcurryWorkFuture *reserved;

  ConcurryDrainerExits *exits;         /* drainers still to return */

  /* Set by the executor at init: whether work runs on worker threads,
   * and how to get queued work going (@start_drainer: a drainer was
   * counted in and must be started). */
  gboolean            on_worker_threads;
  /* Whether the executor has threads of its own: an idle drainer then
   * waits a while for more work before it leaves (rather than only a
   * moment), and a shutdown with cancel_futures lets the drainers it
   * started take their first item (see shutdown). */
  gboolean            park_idle_drainers;
  void              (*kick)            (ConcurryExecutor *executor,
                                        gboolean          start_drainer);

  /* Under @mutex: items waiting for the futures they were submitted
   * after, and the maps reading input into this queue (each holding
   * a reservation), for shutdown. */
  GHashTable         *waiting;
  GPtrArray          *maps;
} ConcurryWorkQueue;

/* What a map registered with a queue does on shutdown. */
typedef void (*ConcurryQueueMapFunc) (gpointer map,
                                      gboolean cancel_futures);

void                _concurry_work_queue_init       (ConcurryWorkQueue  *queue);
void                _concurry_work_queue_clear      (ConcurryWorkQueue  *queue);
void                _concurry_work_queue_drain      (ConcurryWorkQueue  *queue,
                                                     ConcurryExecutor   *executor);
ConcurryWorkFuture *_concurry_work_queue_submit     (ConcurryWorkQueue  *queue,
                                                     ConcurryExecutor   *executor,
                                                     ConcurryWorkFunc    func,
                                                     gpointer            user_data,
                                                     GDestroyNotify      destroy,
                                                     gboolean            reserved,
                                                     GError            **error);
void                _concurry_work_queue_push_reserved (ConcurryWorkQueue  *queue,
                                                        ConcurryExecutor   *executor,
                                                        ConcurryWorkFuture *item);
ConcurryWorkFuture *_concurry_work_queue_submit_after (ConcurryWorkQueue *queue,
                                                       ConcurryExecutor  *executor,
                                                       ConcurryFuture   **after,
                                                       guint              n_after,
                                                       ConcurryWorkFunc   func,
                                                       gpointer           user_data,
                                                       GDestroyNotify     destroy,
                                                       GError           **error);
gboolean            _concurry_work_queue_reserve    (ConcurryWorkQueue  *queue,
                                                     GError            **error);
void                _concurry_work_queue_unreserve  (ConcurryWorkQueue  *queue);
void                _concurry_work_queue_add_map    (ConcurryWorkQueue  *queue,
                                                     gpointer            map,
                                                     ConcurryQueueMapFunc on_shutdown,
                                                     GDestroyNotify      map_unref);
void                _concurry_work_queue_remove_map (ConcurryWorkQueue  *queue,
                                                     gpointer            map);
ConcurryWorkQueue  *_concurry_executor_get_work_queue (ConcurryExecutor *executor);
ConcurryWorkQueue  *_concurry_thread_pool_executor_get_queue  (ConcurryExecutor *executor);
ConcurryWorkQueue  *_concurry_task_executor_get_queue         (ConcurryExecutor *executor);
ConcurryWorkQueue  *_concurry_main_context_executor_get_queue (ConcurryExecutor *executor);
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
gboolean            _concurry_work_queue_is_empty   (ConcurryWorkQueue  *queue);

/* Numbers the items a drainer runs on this thread, one after the other:
 * two items run back to back, with nothing but the queue's own work
 * between them, when the second's number follows the first's. A drainer
 * skips a number whenever something else may come between (a new batch,
 * which may follow an idle wait; a runner's items). Work that is not run
 * by a drainer sees the number unchanged. */
extern CONCURRY_THREAD_LOCAL guint64 _concurry_work_queue_item_seq;

/* The last reading of the monotonic clock on this thread that the next
 * item may start from: @time was read just before the item numbered
 * @seq + 1 could start (when the item numbered @seq returned, or, with
 * nothing run since, when its batch began). Reading the clock costs as
 * much as a fifth of a trivial item; a drainer and the work it runs that
 * times itself (a task manager's task) share their readings instead of
 * each taking its own, which for batches of one item took four readings
 * per item instead of two. */
typedef struct
{
  guint64 seq;
  gint64  time;
} ConcurryWorkQueueClock;

extern CONCURRY_THREAD_LOCAL ConcurryWorkQueueClock _concurry_work_queue_clock;

G_END_DECLS
