/* concurry-work-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"
#include "concurry-executor-private.h"
#include "concurry-i18n-private.h"
#include "concurry-platform-private.h"
#include "concurry-promise.h"
#include "concurry-runner-private.h"
#include "concurry-work-queue-private.h"

/* How many times a drainer that found the queue empty looks again before
 * it leaves: a submitter in a loop pushes the next item within a few
 * hundred nanoseconds, and starting a drainer again costs a wake-up. */
#define DRAINER_LINGER_CHECKS 64

/* How long an idle drainer of an executor with threads of its own then
 * waits for more work before it leaves: a program that submits, waits
 * for the result and submits again finds the same worker (as a
 * concurrent.futures worker thread waits for work for ever), however long
 * its own thread took to wake up and submit. */
#define DRAINER_PARK_USEC (250 * 1000)

/* How long shutdown with cancel_futures gives the drainers started for
 * work already submitted to take it: see wait_for_started_drainers(). */
#define DRAINER_BEGIN_WAIT_USEC (250 * 1000)

/* A drainer takes up to this many items at once... */
#define MAX_BATCH 64
/* ...as long as its items run for less than this all together: then a
 * batch never keeps work from an idle worker for long. */
#define QUICK_BATCH_USEC 50
/* ...or for less than this per item, for a runner's items. */
#define QUICK_ITEM_USEC 20

/*
 * A drainer drops its reference on the executor as the last thing it
 * does, on its pool thread. When a binding holds the executor through a
 * toggle reference, that can be the drop that notifies the binding (for
 * PyGObject: a call into the interpreter). It must not come after
 * shutdown (wait = TRUE) returned: a script that shut its executor down
 * may be exiting by then, and an interpreter that is finalized crashes
 * when called. So shutdown also waits for the drainers to return, holding
 * a reference of its own meanwhile, which their drops then never reach.
 *
 * The count of drainers still to return lives apart from the executor,
 * with a reference for each drainer: a drainer's drop may finalize the
 * executor, and it still has to count itself out afterwards.
 */
struct _ConcurryDrainerExits
{
  gatomicrefcount ref_count;
  GMutex          mutex;
  GCond           cond;
  guint           n_running;
};

static ConcurryDrainerExits *
exits_ref (ConcurryDrainerExits *exits)
{
  g_atomic_ref_count_inc (&exits->ref_count);
  return exits;
}

static void
exits_unref (ConcurryDrainerExits *exits)
{
  if (g_atomic_ref_count_dec (&exits->ref_count))
    {
      g_mutex_clear (&exits->mutex);
      g_cond_clear (&exits->cond);
      g_free (exits);
    }
}

/* Counts in a drainer about to be started, and gives it a reference. */
static void
exits_enter (ConcurryDrainerExits *exits)
{
  exits_ref (exits);
  g_mutex_lock (&exits->mutex);
  exits->n_running++;
  g_mutex_unlock (&exits->mutex);
}

/* Counts out a drainer that has returned, and drops its reference. */
static void
exits_leave (ConcurryDrainerExits *exits)
{
  g_mutex_lock (&exits->mutex);
  if (--exits->n_running == 0)
    g_cond_broadcast (&exits->cond);
  g_mutex_unlock (&exits->mutex);
  exits_unref (exits);
}

static void
exits_wait (ConcurryDrainerExits *exits)
{
  g_mutex_lock (&exits->mutex);
  while (exits->n_running > 0)
    g_cond_wait (&exits->cond, &exits->mutex);
  g_mutex_unlock (&exits->mutex);
}

void
_concurry_work_queue_init (ConcurryWorkQueue *queue)
{
  memset (queue, 0, sizeof *queue);
  g_mutex_init (&queue->mutex);
  g_cond_init (&queue->idle_cond);
  g_cond_init (&queue->begun_cond);
  queue->exits = g_new0 (ConcurryDrainerExits, 1);
  g_atomic_ref_count_init (&queue->exits->ref_count);
  g_mutex_init (&queue->exits->mutex);
  g_cond_init (&queue->exits->cond);
}

void
_concurry_work_queue_clear (ConcurryWorkQueue *queue)
{
  g_assert (queue->n_outstanding == 0);
  g_assert (queue->incoming == NULL);
  g_assert (queue->fifo == NULL);
  g_assert (queue->drained == NULL);

  g_assert (queue->waiting == NULL || g_hash_table_size (queue->waiting) == 0);
  g_assert (queue->maps == NULL || queue->maps->len == 0);
  g_clear_pointer (&queue->waiting, g_hash_table_unref);
  g_clear_pointer (&queue->maps, g_ptr_array_unref);

  exits_unref (queue->exits);
  g_cond_clear (&queue->idle_cond);
  g_cond_clear (&queue->begun_cond);
  g_mutex_clear (&queue->mutex);
}

/* Tells whoever waits in shutdown that nothing is outstanding any more. */
static void
settle_drained (ConcurryWorkQueue *queue)
{
  ConcurryPromise *drained;

  g_mutex_lock (&queue->mutex);
  drained = g_steal_pointer (&queue->drained);
  g_mutex_unlock (&queue->mutex);

  if (drained != NULL)
    {
      concurry_promise_resolve (drained, NULL);
      g_object_unref (drained);
    }
}

/* Counts @n items as finished (or never queued). */
static void
count_finished (ConcurryWorkQueue *queue,
                int                n)
{
  if (g_atomic_int_add (&queue->n_outstanding, -n) == n)
    settle_drained (queue);
}

/* Counts in one piece of work that will be queued later (or never: then
 * _concurry_work_queue_unreserve() counts it out). Refused once the queue
 * is shut down. Counted before the shut-down flag is read, and shutdown
 * sets the flag before it reads the count: either this sees the flag, or
 * shutdown sees the reservation and waits for it. */
gboolean
_concurry_work_queue_reserve (ConcurryWorkQueue  *queue,
                              GError            **error)
{
  g_atomic_int_inc (&queue->n_outstanding);
  if G_UNLIKELY (g_atomic_int_get (&queue->shut_down))
    {
      count_finished (queue, 1);
      _concurry_executor_set_shut_down_error (error);
      return FALSE;
    }
  return TRUE;
}

void
_concurry_work_queue_unreserve (ConcurryWorkQueue *queue)
{
  count_finished (queue, 1);
}

/* A drainer that becomes idle offers itself: a submitter that finds it
 * (claims it) leaves its item to it instead of starting another drainer.
 * Each offer is claimed by one submitter at most, so that work submitted
 * together still gets a drainer each. */
static void
offer_idle (ConcurryWorkQueue *queue)
{
  g_atomic_int_inc (&queue->n_idle);
}

/* Claims an idle drainer's offer, or withdraws one's own (offers are all
 * alike): FALSE if there is none. */
static gboolean
claim_idle (ConcurryWorkQueue *queue)
{
  int n;

  while ((n = g_atomic_int_get (&queue->n_idle)) > 0)
    if (g_atomic_int_compare_and_exchange (&queue->n_idle, n, n - 1))
      return TRUE;

  return FALSE;
}

/* Links @item (counted in already) into the queue, with a reference for
 * the queue, and gets it going. On worker threads, a drainer that is
 * started holds a reference on @executor (taken here) until it returns.
 * Without, the item holds one until it is finished, given back by
 * _concurry_work_queue_run(). */
static void
enqueue (ConcurryWorkQueue  *queue,
         ConcurryExecutor   *executor,
         ConcurryWorkFuture *item)
{
  ConcurryWorkFuture *head;
  gboolean start_drainer = FALSE;

  g_object_ref (item);
  if (!queue->on_worker_threads)
    g_object_ref (executor);

  do
    {
      head = g_atomic_pointer_get (&queue->incoming);
      item->next = head;
    }
  while (!g_atomic_pointer_compare_and_exchange (&queue->incoming, head, item));

  /* After the item is visible: a drainer that leaves decrements the count
   * before it looks at the queue a last time, so either it sees the item
   * or this sees room for a new drainer. A drainer that is idle (looking
   * for more work before it leaves) takes the item too: no other is
   * started then, which would need a thread of its own while that one's
   * is busy looking, and would leave it idle. (The idle one is counted
   * among the drainers, and leaves as they all do: if it leaves, it saw
   * no item in the queue, with the lock, after this looked.) Each idle
   * drainer takes one submitter's item so: see offer_idle(). */
  if (queue->on_worker_threads && !claim_idle (queue))
    {
      int n;

      while ((n = g_atomic_int_get (&queue->n_drainers)) < (int)queue->max_drainers)
        if (g_atomic_int_compare_and_exchange (&queue->n_drainers, n, n + 1))
          {
            start_drainer = TRUE;
            g_object_ref (executor);
            exits_enter (queue->exits);
            g_atomic_int_inc ((int *)&queue->n_started);
            break;
          }
    }

  /* No drainer started for it: one that waits for work (see park()) takes
   * it, whether its offer was the one claimed or not (offers are alike,
   * and a busy drainer may have withdrawn a waiting one's). Looked at
   * after the item is visible, as park() counts itself in before it
   * looks at the queue. */
  if (queue->on_worker_threads && !start_drainer && g_atomic_int_get (&queue->n_parked) > 0)
    {
      g_mutex_lock (&queue->mutex);
      g_cond_signal (&queue->idle_cond);
      g_mutex_unlock (&queue->mutex);
    }

  queue->kick (executor, start_drainer);
}

/* Queues new work, unless the queue is shut down (@reserved: the caller
 * holds a reservation that keeps shutdown waiting, so work may still be
 * queued). Returns the future with two references, the caller's and the
 * queue's, or NULL with @destroy called. */
ConcurryWorkFuture *
_concurry_work_queue_submit (ConcurryWorkQueue  *queue,
                             ConcurryExecutor   *executor,
                             ConcurryWorkFunc    func,
                             gpointer            user_data,
                             GDestroyNotify      destroy,
                             gboolean            reserved,
                             GError            **error)
{
  ConcurryWorkFuture *item;

  if (queue->on_worker_threads && _concurry_executor_refuse_javascript (func, error))
    goto refused;

  if (reserved)
    g_atomic_int_inc (&queue->n_outstanding);
  else if (!_concurry_work_queue_reserve (queue, error))
    goto refused;

  item = _concurry_work_future_new (func, user_data, destroy);
  enqueue (queue, executor, item);

  return item;

refused:
  if (destroy != NULL)
    destroy (user_data);
  return NULL;
}

/* Queues @item, a ConcurryWorkFuture or an object laid out as one (a
 * task manager's task), once _concurry_work_queue_reserve() counted it
 * in: the submit above in two steps, for a caller that sets its item up
 * itself. */
void
_concurry_work_queue_push_reserved (ConcurryWorkQueue  *queue,
                                    ConcurryExecutor   *executor,
                                    ConcurryWorkFuture *item)
{
  enqueue (queue, executor, item);
}

/* Work submitted after other futures: counted in at once (so shutdown
 * waits for it, and may cancel it), queued once they are all done, or
 * failed with the error of the first of them to fail. Whoever claims it
 * first handles it: the last of its inputs to finish, or the item itself
 * becoming done while it waits (cancelled). */
typedef struct
{
  gatomicrefcount     ref_count;
  int                 n_remaining;  /* atomic */
  int                 claimed;      /* atomic */
  ConcurryWorkQueue  *queue;        /* alive: @executor is */
  ConcurryExecutor   *executor;
  ConcurryWorkFuture *item;
} Deferred;

static Deferred *
deferred_ref (Deferred *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
deferred_unref (gpointer data)
{
  Deferred *self = data;

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_object_unref (self->item);
      g_object_unref (self->executor);
      g_free (self);
    }
}

static gboolean
deferred_claim (Deferred *self)
{
  gboolean claimed = g_atomic_int_compare_and_exchange (&self->claimed, FALSE, TRUE);

  if (claimed)
    {
      g_mutex_lock (&self->queue->mutex);
      g_hash_table_remove (self->queue->waiting, self->item);
      g_mutex_unlock (&self->queue->mutex);
    }

  return claimed;
}

/* The item will not be queued: it is done (cancelled, or failed by an
 * input). Its work is dropped and it is counted out. */
static void
deferred_drop (Deferred *self)
{
  _concurry_work_future_discard (self->item);
  count_finished (self->queue, 1);
}

static void
deferred_item_done (ConcurryFuture *item,
                    gpointer        data)
{
  Deferred *self = data;

  if (deferred_claim (self))
    deferred_drop (self);
}

static void
deferred_input_done (ConcurryFuture *input,
                     gpointer        data)
{
  Deferred *self = data;

  if (concurry_future_get_state (input) != CONCURRY_FUTURE_STATE_DONE)
    {
      if (deferred_claim (self))
        {
          GError *error = NULL;

          concurry_future_wait (input, 0, &error);
          _concurry_core_complete (&self->item->core, (ConcurryFuture *)self->item, NULL, error);
          deferred_drop (self);
        }
      return;
    }

  if (g_atomic_int_dec_and_test (&self->n_remaining) && deferred_claim (self))
    enqueue (self->queue, self->executor, self->item);
}

ConcurryWorkFuture *
_concurry_work_queue_submit_after (ConcurryWorkQueue  *queue,
                                   ConcurryExecutor   *executor,
                                   ConcurryFuture    **after,
                                   guint               n_after,
                                   ConcurryWorkFunc    func,
                                   gpointer            user_data,
                                   GDestroyNotify      destroy,
                                   GError            **error)
{
  ConcurryWorkFuture *item;
  Deferred *self;

  if (queue->on_worker_threads && _concurry_executor_refuse_javascript (func, error))
    goto refused;

  if (!_concurry_work_queue_reserve (queue, error))
    goto refused;

  item = _concurry_work_future_new (func, user_data, destroy);

  self = g_new0 (Deferred, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->n_remaining = (int)n_after + 1;
  self->queue = queue;
  self->executor = g_object_ref (executor);
  self->item = g_object_ref (item);

  g_mutex_lock (&queue->mutex);
  if (queue->waiting == NULL)
    queue->waiting = g_hash_table_new (NULL, NULL);
  g_hash_table_add (queue->waiting, item);
  g_mutex_unlock (&queue->mutex);

  concurry_future_add_done_callback_direct ((ConcurryFuture *)item, deferred_item_done,
                                            deferred_ref (self), deferred_unref);
  for (guint i = 0; i < n_after; i++)
    concurry_future_add_done_callback_direct (after[i], deferred_input_done,
                                              deferred_ref (self), deferred_unref);

  /* Ours counted too, so that inputs done already cannot queue the item
   * before every callback is in place. */
  if (g_atomic_int_dec_and_test (&self->n_remaining) && deferred_claim (self))
    enqueue (queue, executor, item);
  deferred_unref (self);

  return item;

refused:
  if (destroy != NULL)
    destroy (user_data);
  return NULL;
}

/* Registers a map that holds a reservation: on shutdown, @on_shutdown is
 * called for it (outside the lock), and @map_unref once. */
typedef struct
{
  gpointer             map;
  ConcurryQueueMapFunc on_shutdown;
  GDestroyNotify       map_unref;
} QueueMap;

void
_concurry_work_queue_add_map (ConcurryWorkQueue    *queue,
                              gpointer              map,
                              ConcurryQueueMapFunc  on_shutdown,
                              GDestroyNotify        map_unref)
{
  QueueMap *entry = g_new0 (QueueMap, 1);

  entry->map = map;
  entry->on_shutdown = on_shutdown;
  entry->map_unref = map_unref;

  g_mutex_lock (&queue->mutex);
  if (queue->maps == NULL)
    queue->maps = g_ptr_array_new ();
  g_ptr_array_add (queue->maps, entry);
  g_mutex_unlock (&queue->mutex);
}

void
_concurry_work_queue_remove_map (ConcurryWorkQueue *queue,
                                 gpointer           map)
{
  QueueMap *found = NULL;

  g_mutex_lock (&queue->mutex);
  for (guint i = 0; queue->maps != NULL && i < queue->maps->len; i++)
    {
      QueueMap *entry = queue->maps->pdata[i];

      if (entry->map == map)
        {
          found = g_ptr_array_steal_index_fast (queue->maps, i);
          break;
        }
    }
  g_mutex_unlock (&queue->mutex);

  if (found != NULL)
    {
      found->map_unref (found->map);
      g_free (found);
    }
}

/* Moves what producers pushed since the last call behind @queue->fifo.
 * Called with the lock held. */
static void
take_incoming (ConcurryWorkQueue *queue)
{
  ConcurryWorkFuture *newest, *oldest = NULL;
  ConcurryWorkFuture **tail = &queue->fifo;

  if (g_atomic_pointer_get (&queue->incoming) == NULL)
    return;
  newest = g_atomic_pointer_exchange (&queue->incoming, NULL);

  while (newest != NULL)
    {
      ConcurryWorkFuture *next = newest->next;

      newest->next = oldest;
      oldest = newest;
      newest = next;
      queue->fifo_length++;
    }

  while (*tail != NULL)
    tail = &(*tail)->next;
  g_atomic_pointer_set (tail, oldest);
}

/* Takes the lock that taking items needs. Drainers on every worker want
 * it for a few instructions per item: spin a little first. */
static void
lock_for_taking (ConcurryWorkQueue *queue)
{
  _concurry_platform_mutex_lock_spinning (&queue->mutex);
}

/* Takes the oldest queued item, with the queue's reference. */
ConcurryWorkFuture *
_concurry_work_queue_pop (ConcurryWorkQueue *queue)
{
  ConcurryWorkFuture *item;

  lock_for_taking (queue);
  if (queue->fifo == NULL)
    take_incoming (queue);
  item = queue->fifo;
  if (item != NULL)
    {
      g_atomic_pointer_set (&queue->fifo, item->next);
      item->next = NULL;
      queue->fifo_length--;
    }
  g_mutex_unlock (&queue->mutex);

  return item;
}

/* Takes up to @max of the oldest queued items, with the queue's
 * references, linked through their @next in queue order; but no more than
 * an even share among the drainers of what is queued, so that the others
 * find work too. @cancelling gets whether a shutdown with cancel_futures
 * had begun when they were taken: the shutdown cancels what is queued
 * under the same lock, so items taken before it are not among those. */
static ConcurryWorkFuture *
take_batch (ConcurryWorkQueue *queue,
            guint              max,
            gboolean           first_of_drainer,
            int               *cancelling)
{
  ConcurryWorkFuture *first, *last;
  guint share;

  lock_for_taking (queue);
  if G_UNLIKELY (first_of_drainer)
    {
      /* a drainer just started: see wait_for_started_drainers() */
      queue->n_begun++;
      g_cond_broadcast (&queue->begun_cond);
      /* an item kept for it by a shutdown that cancels the rest: started */
      if (queue->reserved != NULL)
        {
          first = queue->reserved;
          queue->reserved = first->next;
          first->next = NULL;
          *cancelling = FALSE;
          g_mutex_unlock (&queue->mutex);
          return first;
        }
    }
  if (queue->fifo == NULL)
    take_incoming (queue);
  first = last = queue->fifo;
  if (first != NULL)
    {
      share = CLAMP (queue->fifo_length / queue->max_drainers, 1, max);
      for (guint i = 1; i < share; i++)
        last = last->next;
      g_atomic_pointer_set (&queue->fifo, last->next);
      last->next = NULL;
      queue->fifo_length -= share;
    }
  *cancelling = g_atomic_int_get (&queue->cancelling);
  g_mutex_unlock (&queue->mutex);

  return first;
}

/* Whether nothing is queued (a hint: items may come and go meanwhile). */
gboolean
_concurry_work_queue_is_empty (ConcurryWorkQueue *queue)
{
  return g_atomic_pointer_get (&queue->incoming) == NULL &&
         g_atomic_pointer_get (&queue->fifo) == NULL;
}

/* Whether nothing is queued, for sure: with the lock. Lock-free reads may
 * see neither the items nor where they go while someone moves them from
 * @incoming to @fifo (see take_incoming(): the chain is taken off the one
 * before it is linked into the other); for a drainer that then leaves,
 * that someone may be no drainer, but shutdown cancelling what is
 * queued, and the items would be left with nobody to take them. */
static gboolean
is_surely_empty (ConcurryWorkQueue *queue)
{
  gboolean empty;

  g_mutex_lock (&queue->mutex);
  empty = g_atomic_pointer_get (&queue->incoming) == NULL &&
          g_atomic_pointer_get (&queue->fifo) == NULL;
  g_mutex_unlock (&queue->mutex);

  return empty;
}

typedef struct
{
  ConcurryWorkQueue *queue;
  gboolean           offered;
} Drainer;

/* An idle drainer of an executor with threads of its own waits a while
 * for work (its offer stands meanwhile: a submitter that claims it wakes
 * it), unless the executor is shut down. It counts itself in before it
 * looks at the queue, and a submitter looks at the count after its item
 * is visible: either this sees the item, or the submitter sees it
 * waiting. */
static void
park (ConcurryWorkQueue *queue)
{
  gint64 deadline = g_get_monotonic_time () + DRAINER_PARK_USEC;

  g_mutex_lock (&queue->mutex);
  g_atomic_int_inc (&queue->n_parked);
  while (_concurry_work_queue_is_empty (queue) && !g_atomic_int_get (&queue->shut_down))
    if (!g_cond_wait_until (&queue->idle_cond, &queue->mutex, deadline))
      break;
  g_atomic_int_add (&queue->n_parked, -1);
  g_mutex_unlock (&queue->mutex);
}

/* Before the last item queued completes: the drainer will be idle once it
 * is done, and says so before the submitter waiting for the item can see
 * it done (and submit the next one, which would otherwise start another
 * drainer, on another thread, as this one is still busy). */
static void
offer_before_completing (gpointer item,
                         gpointer data)
{
  Drainer *drainer = data;

  if (!drainer->offered && _concurry_work_queue_is_empty (drainer->queue))
    {
      offer_idle (drainer->queue);
      drainer->offered = TRUE;
    }
}

/* Runs @item, unless it was cancelled or the executor was shut down with
 * cancel_futures meanwhile (and @started is FALSE: the item a drainer
 * took to run next before that shutdown has started, as in
 * concurrent.futures, and runs). */
static void
run_item (ConcurryWorkQueue  *queue,
          ConcurryWorkFuture *item,
          gboolean            started)
{
  if G_UNLIKELY (!started && g_atomic_int_get (&queue->cancelling))
    _concurry_work_future_discard (item);
  else
    _concurry_work_future_run (item);
}

/* Runs a popped item on the calling thread (or skips it if it was
 * cancelled), then counts it as finished. May drop the last reference to
 * @executor: the caller must not touch it afterwards. */
void
_concurry_work_queue_run (ConcurryWorkQueue  *queue,
                          ConcurryExecutor   *executor,
                          ConcurryWorkFuture *item)
{
  ConcurryExecutor *previous = _concurry_executor_get_current ();

  _concurry_executor_set_current (executor);
  /* Not back to back with anything: this may run inside other work on
   * this thread (a main context iterated by a drainer's item), whose
   * start would otherwise pass for this item's (see
   * ConcurryWorkQueueClock). */
  _concurry_work_queue_item_seq += 2;
  run_item (queue, item, FALSE);
  _concurry_work_future_release (item);
  _concurry_executor_set_current (previous);

  count_finished (queue, 1);
  g_object_unref (executor);
}

/* See concurry-work-queue-private.h. */
CONCURRY_THREAD_LOCAL guint64 _concurry_work_queue_item_seq;
CONCURRY_THREAD_LOCAL ConcurryWorkQueueClock _concurry_work_queue_clock;

/* When the batch just run ended: the end of its last item, if that item
 * timed itself (see ConcurryWorkQueueClock). */
static gint64
batch_end_time (void)
{
  if (_concurry_work_queue_clock.seq == _concurry_work_queue_item_seq)
    return _concurry_work_queue_clock.time;
  return g_get_monotonic_time ();
}

/* The body of a drainer, on a pool thread: runs queued items until there
 * are none, then drops the drainer's reference on @executor (maybe the
 * last one).
 *
 * The queue's reference on an item is given up only after the next item
 * ran: a submitter that does not keep the future has dropped its own by
 * then, so the future can be recycled instead of finalized (see
 * _concurry_work_future_release()). Items count as finished only then,
 * all together when the queue is empty, so that once shutdown has waited,
 * the executor holds no future.
 *
 * Quick items are taken in batches, one lock for many: the batch doubles
 * while a whole batch runs in under QUICK_BATCH_USEC, and is back to one
 * item as soon as one does not. Items of a batch are cancelled, or
 * skipped on shutdown with cancel_futures, as if they were still queued,
 * but for the first one, which has started (and a runner's items: see
 * _concurry_runner_run_queued()). */
void
_concurry_work_queue_drain (ConcurryWorkQueue *queue,
                            ConcurryExecutor  *executor)
{
  ConcurryWorkFuture *previous = NULL;
  ConcurryDrainerExits *exits;
  Drainer drainer = { queue, FALSE };
  gboolean first = TRUE;
  guint batch_size = 1;
  int finished = 0;

  _concurry_executor_set_current (executor);

  for (;;)
    {
      int cancelling_when_taken;
      ConcurryWorkFuture *batch = take_batch (queue, batch_size, first, &cancelling_when_taken);
      gint64 start;
      int n;

      first = FALSE;
      if (batch != NULL)
        {
          /* Busy again: withdraw the offer (or one like it, if it was
           * claimed: then its claimer's item is in this batch or taken by
           * another drainer). */
          if (drainer.offered)
            {
              claim_idle (queue);
              drainer.offered = FALSE;
            }

          guint n_runner_items = 0;
          gboolean forwarded = FALSE;
          gboolean first_of_batch = TRUE;

          /* not back to back with the last item run */
          _concurry_work_queue_item_seq += 2;
          start = g_get_monotonic_time ();
          /* the first item's start, if it times itself */
          _concurry_work_queue_clock.seq = _concurry_work_queue_item_seq;
          _concurry_work_queue_clock.time = start;
          while (batch != NULL)
            {
              ConcurryWorkFuture *item = batch;
              ConcurryRunner *runner = _concurry_runner_of_item (item);

              if (runner != NULL)
                {
                  ConcurryWorkFuture *run[CONCURRY_RUNNER_MAX_BATCH];
                  guint n_run = 0;

                  /* Consecutive items of one runner: one call for all. */
                  while (batch != NULL && n_run < CONCURRY_RUNNER_MAX_BATCH &&
                         _concurry_runner_of_item (batch) == runner)
                    {
                      run[n_run++] = batch;
                      batch = batch->next;
                      run[n_run - 1]->next = NULL;
                    }
                  forwarded |= _concurry_runner_is_forwarding (runner);
                  _concurry_work_queue_item_seq += 2;
                  /* (Only if the runner completes the item on this
                   * thread; otherwise the drainer offers itself once it
                   * is back.) */
                  if (batch == NULL)
                    _concurry_work_future_set_completion_hook (run[n_run - 1],
                                                               offer_before_completing,
                                                               &drainer);
                  /* A runner's items left the queue: a shutdown with
                   * cancel_futures that began after cancels them no more,
                   * as a concurrent.futures worker runs the item it took.
                   * The runner may have to wait for its interpreter's lock
                   * first (Python's GIL), which the thread that submitted
                   * them and shuts the executor down may hold all along. */
                  /* The items hold the runner, but the runner may end
                   * them inside its call (a forwarding runner whose
                   * destination is gone fails them at once), dropping the
                   * last of those references while its function runs. */
                  g_object_ref (runner);
                  _concurry_runner_run_queued (runner, run, n_run, &cancelling_when_taken);
                  g_object_unref (runner);
                  first_of_batch = FALSE;
                  _concurry_work_future_set_completion_hook (NULL, NULL, NULL);
                  for (guint i = 0; i < n_run; i++)
                    {
                      if (previous != NULL)
                        {
                          _concurry_work_future_release (previous);
                          finished++;
                        }
                      previous = run[i];
                    }
                  n_runner_items += n_run;
                  continue;
                }

              batch = item->next;
              item->next = NULL;
              _concurry_work_queue_item_seq++;
              /* The last of the batch: see offer_before_completing(). */
              if (batch == NULL)
                _concurry_work_future_set_completion_hook (item, offer_before_completing,
                                                           &drainer);
              /* The first of a batch taken before a shutdown with
               * cancel_futures has started; the others are as if queued. */
              run_item (queue, item, first_of_batch && !cancelling_when_taken);
              first_of_batch = FALSE;
              _concurry_work_future_set_completion_hook (NULL, NULL, NULL);
              if (previous != NULL)
                {
                  _concurry_work_future_release (previous);
                  finished++;
                }
              previous = item;
            }
          /* Quick items come in growing batches: quick meaning under
           * QUICK_BATCH_USEC for the batch, or, for the items of a
           * binding's runner (each costs an interpreter's call anyway),
           * under QUICK_ITEM_USEC each. A forwarding runner's items take
           * what they take elsewhere: they get all the batch can hold. */
          if (forwarded)
            batch_size = MAX_BATCH;
          else if (batch_end_time () - start <
              QUICK_BATCH_USEC + QUICK_ITEM_USEC * (gint64)n_runner_items)
            batch_size = MIN (2 * batch_size, MAX_BATCH);
          else
            batch_size = 1;
          continue;
        }

      if (previous != NULL)
        {
          _concurry_work_future_release (g_steal_pointer (&previous));
          finished++;
        }
      if (finished > 0)
        {
          count_finished (queue, finished);
          finished = 0;
        }

      /* Idle meanwhile: a submitter leaves its item to this drainer. */
      if (!drainer.offered)
        offer_idle (queue);
      for (guint i = 0; i < DRAINER_LINGER_CHECKS && _concurry_work_queue_is_empty (queue); i++)
        g_thread_yield ();
      if (queue->park_idle_drainers && _concurry_work_queue_is_empty (queue))
        park (queue);
      claim_idle (queue);
      drainer.offered = FALSE;
      if (!_concurry_work_queue_is_empty (queue))
        continue;

      /* Leave, unless an item came after all and no other drainer can
       * take it: a submitter that saw this drainer counted did not start
       * another one, but pushed its item before looking. (Looked for
       * with the lock: see is_surely_empty().) */
      g_atomic_int_add (&queue->n_drainers, -1);
      if (is_surely_empty (queue))
        break;
      n = g_atomic_int_get (&queue->n_drainers);
      if (n >= (int)queue->max_drainers ||
          !g_atomic_int_compare_and_exchange (&queue->n_drainers, n, n + 1))
        break;
    }

  /* The queue may go with the executor: keep what is needed after. */
  exits = queue->exits;
  _concurry_executor_set_current (NULL);
  g_object_unref (executor);
  exits_leave (exits);
}

/* A main-context executor's queued items that were cancelled (by their
 * futures, or by this shutdown) wait in the queue until its context runs
 * and skips them: shutdown takes them out now, drops their work (on this
 * thread, as destroying a GSource from another thread does) and counts
 * them out, so that waiting for the rest does not wait for a context that
 * the thread owning it may not run meanwhile (it may be waiting for this
 * one). */
static void
purge_cancelled (ConcurryWorkQueue *queue,
                 ConcurryExecutor  *executor)
{
  ConcurryWorkFuture *purged = NULL, *kept = NULL, **kept_tail = &kept;
  ConcurryWorkFuture *item;

  g_mutex_lock (&queue->mutex);
  take_incoming (queue);
  item = queue->fifo;
  while (item != NULL)
    {
      ConcurryWorkFuture *next = item->next;

      if (concurry_future_is_done ((ConcurryFuture *)item))
        {
          item->next = purged;
          purged = item;
          queue->fifo_length--;
        }
      else
        {
          item->next = NULL;
          *kept_tail = item;
          kept_tail = &item->next;
        }
      item = next;
    }
  g_atomic_pointer_set (&queue->fifo, kept);
  g_mutex_unlock (&queue->mutex);

  g_object_ref (executor);
  while (purged != NULL)
    {
      item = purged;
      purged = item->next;
      item->next = NULL;
      /* skipped, released and counted out as the context would */
      _concurry_work_queue_run (queue, executor, item);
    }
  g_object_unref (executor);
}

/* A shutdown with cancel_futures keeps one queued item for each drainer
 * started for work submitted so far that has not begun yet (the oldest
 * ones), cancels the rest at once, and gives those drainers a moment to
 * take their item, which then runs: as a concurrent.futures worker
 * thread, which submit() starts, takes its work before shutdown can
 * cancel it. Without this, whether a submit() followed at once by
 * shutdown(cancel_futures) runs its work would depend on how soon the
 * pool's new thread is scheduled. The drainers at work take nothing
 * meanwhile (the queue holds nothing else), and the wait is bounded: a
 * pool that cannot give a drainer a thread soon does not hold shutdown.
 * With the lock held: keeps the items, and returns how many. */
static guint
reserve_for_started_drainers_locked (ConcurryWorkQueue *queue)
{
  guint pending = (guint)g_atomic_int_get ((int *)&queue->n_started) - queue->n_begun;
  ConcurryWorkFuture *last = NULL;
  guint n = 0;

  if ((int)pending <= 0 || queue->fifo == NULL)
    return 0;
  queue->reserved = queue->fifo;
  for (ConcurryWorkFuture *item = queue->fifo; item != NULL && n < pending; item = item->next)
    {
      last = item;
      n++;
    }
  g_atomic_pointer_set (&queue->fifo, last->next);
  last->next = NULL;
  queue->fifo_length -= n;

  return n;
}

/* Waits (bounded) until the drainers started before took what was kept
 * for them; gives back what they did not take, to cancel. */
static ConcurryWorkFuture *
wait_for_started_drainers (ConcurryWorkQueue *queue)
{
  guint started = (guint)g_atomic_int_get ((int *)&queue->n_started);
  gint64 deadline = g_get_monotonic_time () + DRAINER_BEGIN_WAIT_USEC;
  ConcurryWorkFuture *left;

  g_mutex_lock (&queue->mutex);
  while (queue->reserved != NULL && (int)(queue->n_begun - started) < 0)
    if (!g_cond_wait_until (&queue->begun_cond, &queue->mutex, deadline))
      break;
  left = g_steal_pointer (&queue->reserved);
  g_mutex_unlock (&queue->mutex);

  return left;
}

/* Waiting for the executor to drain goes through a promise, so that it
 * waits like any future: a thread that owns its main context runs it
 * meanwhile (the work of a main-context executor may need exactly that,
 * and so may work waiting for a GIO call), any other thread sleeps. */
gboolean
_concurry_work_queue_shutdown (ConcurryWorkQueue  *queue,
                               ConcurryExecutor   *executor,
                               gboolean            wait,
                               gboolean            cancel_futures,
                               GError            **error)
{
  g_autoptr(ConcurryPromise) drained = NULL;
  GPtrArray *to_cancel = NULL;

  GPtrArray *maps = NULL;

  g_atomic_int_set (&queue->shut_down, TRUE);
  /* Idle drainers waiting for work leave (or take what is left). */
  g_mutex_lock (&queue->mutex);
  g_cond_broadcast (&queue->idle_cond);
  g_mutex_unlock (&queue->mutex);

  /* Maps go on reading their input (they were submitted before), unless
   * the rest of their work is cancelled. */
  g_mutex_lock (&queue->mutex);
  maps = g_steal_pointer (&queue->maps);
  g_mutex_unlock (&queue->mutex);
  if (maps != NULL)
    {
      for (guint i = 0; i < maps->len; i++)
        {
          QueueMap *entry = maps->pdata[i];

          entry->on_shutdown (entry->map, cancel_futures);
          entry->map_unref (entry->map);
          g_free (entry);
        }
      g_ptr_array_unref (maps);
    }

  if (cancel_futures)
    {
      guint n_reserved = 0;

      /* Items still on their way into the queue are discarded by whoever
       * takes them; those already in it are cancelled now, but for those
       * kept for the drainers still to begin. Set with the lock, which
       * takers hold when they look at it: a drainer that begins either
       * took its item before (and runs it) or finds it kept. */
      g_mutex_lock (&queue->mutex);
      take_incoming (queue);
      /* (On threads of its own: a shared pool, busy with others' work,
       * may not start a drainer for a long time.) */
      if (queue->park_idle_drainers)
        n_reserved = reserve_for_started_drainers_locked (queue);
      g_atomic_int_set (&queue->cancelling, TRUE);
      if (queue->fifo != NULL || (queue->waiting != NULL && g_hash_table_size (queue->waiting) > 0))
        {
          GHashTableIter iter;
          gpointer item;

          to_cancel = g_ptr_array_new_with_free_func (g_object_unref);
          for (ConcurryWorkFuture *queued = queue->fifo; queued != NULL; queued = queued->next)
            g_ptr_array_add (to_cancel, g_object_ref (queued));
          if (queue->waiting != NULL)
            {
              g_hash_table_iter_init (&iter, queue->waiting);
              while (g_hash_table_iter_next (&iter, &item, NULL))
                g_ptr_array_add (to_cancel, g_object_ref (item));
            }
        }
      g_mutex_unlock (&queue->mutex);

      /* Outside the lock: cancelling schedules callbacks and runs the
       * handlers of the cancellables. The items stay queued and are
       * skipped. */
      if (to_cancel != NULL)
        {
          for (guint i = 0; i < to_cancel->len; i++)
            concurry_future_cancel (to_cancel->pdata[i]);
          g_ptr_array_unref (to_cancel);
        }

      if (n_reserved > 0)
        {
          ConcurryWorkFuture *left = wait_for_started_drainers (queue);

          /* Not taken in time: cancelled, and back at the head of the
           * queue, for the drainers (started, so they will come) to skip. */
          if (left != NULL)
            {
              ConcurryWorkFuture *last = left;
              guint n = 1;

              for (ConcurryWorkFuture *item = left; item != NULL; item = item->next)
                concurry_future_cancel ((ConcurryFuture *)item);
              while (last->next != NULL)
                {
                  last = last->next;
                  n++;
                }
              g_mutex_lock (&queue->mutex);
              last->next = queue->fifo;
              g_atomic_pointer_set (&queue->fifo, left);
              queue->fifo_length += n;
              g_mutex_unlock (&queue->mutex);
            }
        }
    }

  if (!queue->on_worker_threads)
    purge_cancelled (queue, executor);

  if (!wait)
    return TRUE;

  if (_concurry_executor_get_current () == executor)
    {
      g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_WRONG_THREAD,
                           _("Cannot wait for an executor to finish from one of its own workers"));
      return FALSE;
    }

  /* The last item to finish takes the promise under the lock after its
   * count reached zero: it either finds this one, or this sees zero. */
  g_mutex_lock (&queue->mutex);
  if (g_atomic_int_get (&queue->n_outstanding) > 0)
    {
      if (queue->drained == NULL)
        queue->drained = concurry_promise_new ();
      drained = g_object_ref (queue->drained);
    }
  g_mutex_unlock (&queue->mutex);

  /* Ours, so that no drainer's drop is the last one but ours, made on
   * this thread; see ConcurryDrainerExits. */
  g_object_ref (executor);

  if (drained != NULL)
    concurry_future_wait (CONCURRY_FUTURE (drained), -1, NULL);

  /* Drainers only linger a moment once the queue is empty, and no new
   * one can start now. */
  exits_wait (queue->exits);
  g_object_unref (executor);

  return TRUE;
}

gboolean
_concurry_work_queue_is_shut_down (ConcurryWorkQueue *queue)
{
  return g_atomic_int_get (&queue->shut_down);
}
