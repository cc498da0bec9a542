/* concurry-work-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"
#include "concurry-executor-private.h"
#include "concurry-i18n-private.h"
#include "concurry-promise.h"
#include "concurry-work-queue-private.h"

void
_concurry_work_queue_init (ConcurryWorkQueue *queue)
{
  memset (queue, 0, sizeof *queue);
  g_mutex_init (&queue->mutex);
}

void
_concurry_work_queue_clear (ConcurryWorkQueue *queue)
{
  g_assert (queue->n_outstanding == 0);
  g_assert (queue->head == NULL);

  g_assert (queue->drained == NULL);
  g_mutex_clear (&queue->mutex);
}

/* Queues new work. Returns the future with two references, the caller's
 * and the queue's (handed over by _concurry_work_queue_pop()), or NULL
 * with @error set, in which case @user_data was destroyed. The executor
 * then hands the item to whatever runs its work. */
ConcurryWorkFuture *
_concurry_work_queue_push (ConcurryWorkQueue  *queue,
                           ConcurryExecutor   *executor,
                           ConcurryWorkFunc    func,
                           gpointer            user_data,
                           GDestroyNotify      destroy,
                           gboolean            on_worker_threads,
                           gboolean           *start_drainer,
                           GError            **error)
{
  ConcurryWorkFuture *item;
  gboolean first;

  g_assert (start_drainer == NULL || on_worker_threads);

  if (on_worker_threads && _concurry_executor_refuse_javascript (func, error))
    goto refused;

  item = _concurry_work_future_new (func, user_data, destroy);

  /* Without drainers, the queue holds a reference on the executor while
   * items are outstanding. It must exist before the item is visible to
   * whatever runs it, which may finish it and drop that reference at once;
   * so it is taken outside the lock (a toggle reference may call into a
   * binding) and given back below if another item already holds one.
   * With drainers, each running drainer holds a reference instead, and
   * queued items always have a drainer coming. */
  if (start_drainer == NULL)
    g_object_ref (executor);

  g_mutex_lock (&queue->mutex);
  if (queue->shut_down)
    {
      g_mutex_unlock (&queue->mutex);
      if (start_drainer == NULL)
        g_object_unref (executor);
      item->func = NULL;
      item->destroy = NULL;
      g_object_unref (item);
      _concurry_executor_set_shut_down_error (error);
      goto refused;
    }

  g_object_ref (item);
  if (queue->tail != NULL)
    queue->tail->next = item;
  else
    queue->head = item;
  queue->tail = item;
  first = queue->n_outstanding++ == 0;
  if (start_drainer != NULL)
    {
      *start_drainer = queue->n_drainers < queue->max_drainers;
      if (*start_drainer)
        queue->n_drainers++;
    }
  g_mutex_unlock (&queue->mutex);

  /* A new drainer holds its own reference until it returns; it does not
   * exist before the caller starts it after this returns. */
  if (start_drainer != NULL && *start_drainer)
    g_object_ref (executor);

  if (start_drainer == NULL && !first)
    g_object_unref (executor);

  return item;

refused:
  if (destroy != NULL)
    destroy (user_data);
  return NULL;
}

/* Takes the oldest queued item, with the queue's reference. */
ConcurryWorkFuture *
_concurry_work_queue_pop (ConcurryWorkQueue *queue)
{
  ConcurryWorkFuture *item;

  g_mutex_lock (&queue->mutex);
  item = queue->head;
  if (item != NULL)
    {
      queue->head = item->next;
      if (queue->head == NULL)
        queue->tail = NULL;
      item->next = NULL;
    }
  g_mutex_unlock (&queue->mutex);

  return item;
}

/* Tells whoever waits in shutdown that nothing is outstanding any more. */
static void
settle_drained (ConcurryPromise *drained)
{
  if (drained != NULL)
    {
      concurry_promise_resolve (drained, NULL);
      g_object_unref (drained);
    }
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
  ConcurryPromise *drained;
  gboolean last;

  _concurry_executor_set_current (executor);
  _concurry_work_future_run (item);
  _concurry_executor_set_current (previous);

  g_object_unref (item);

  g_mutex_lock (&queue->mutex);
  g_assert (queue->n_outstanding > 0);
  last = --queue->n_outstanding == 0;
  drained = last ? g_steal_pointer (&queue->drained) : NULL;
  g_mutex_unlock (&queue->mutex);

  settle_drained (drained);
  if (last)
    g_object_unref (executor);
}

/* The body of a drainer, on a pool thread: runs queued items until there
 * are none, then drops the drainer's reference on @executor (maybe the
 * last one). Finishing an item and taking the next share one lock. */
void
_concurry_work_queue_drain (ConcurryWorkQueue *queue,
                            ConcurryExecutor  *executor)
{
  ConcurryWorkFuture *item = NULL;

  _concurry_executor_set_current (executor);

  for (;;)
    {
      ConcurryPromise *drained = NULL;

      g_mutex_lock (&queue->mutex);
      if (item != NULL && --queue->n_outstanding == 0)
        drained = g_steal_pointer (&queue->drained);
      item = queue->head;
      if (item != NULL)
        {
          queue->head = item->next;
          if (queue->head == NULL)
            queue->tail = NULL;
          item->next = NULL;
        }
      else
        {
          queue->n_drainers--;
        }
      g_mutex_unlock (&queue->mutex);

      settle_drained (drained);

      if (item == NULL)
        break;

      _concurry_work_future_run (item);
      g_object_unref (item);
    }

  _concurry_executor_set_current (NULL);
  g_object_unref (executor);
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

  g_mutex_lock (&queue->mutex);
  queue->shut_down = TRUE;
  if (cancel_futures && queue->head != NULL)
    {
      to_cancel = g_ptr_array_new_with_free_func (g_object_unref);
      for (ConcurryWorkFuture *item = queue->head; item != NULL; item = item->next)
        g_ptr_array_add (to_cancel, g_object_ref (item));
    }
  g_mutex_unlock (&queue->mutex);

  /* Outside the lock: cancelling schedules callbacks and runs the handlers
   * of the cancellables. The items stay queued and are skipped. */
  if (to_cancel != NULL)
    {
      for (guint i = 0; i < to_cancel->len; i++)
        concurry_future_cancel (to_cancel->pdata[i]);
      g_ptr_array_unref (to_cancel);
    }

  if (!wait)
    return TRUE;

  if (_concurry_executor_get_current () == executor)
    {
      g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_WRONG_THREAD,
                           _("Cannot wait for an executor to finish from one of its own workers"));
      return FALSE;
    }

  g_mutex_lock (&queue->mutex);
  if (queue->n_outstanding > 0)
    {
      if (queue->drained == NULL)
        queue->drained = concurry_promise_new ();
      drained = g_object_ref (queue->drained);
    }
  g_mutex_unlock (&queue->mutex);

  if (drained != NULL)
    concurry_future_wait (CONCURRY_FUTURE (drained), -1, NULL);

  return TRUE;
}

gboolean
_concurry_work_queue_is_shut_down (ConcurryWorkQueue *queue)
{
  gboolean ret;

  g_mutex_lock (&queue->mutex);
  ret = queue->shut_down;
  g_mutex_unlock (&queue->mutex);

  return ret;
}
