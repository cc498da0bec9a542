/* concurry-task-executor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-task-executor.h"
#include "concurry-work-queue-private.h"

/**
 * ConcurryTaskExecutor:
 *
 * An executor that runs work with g_task_run_in_thread(), on the pool of
 * threads GLib shares with GIO.
 *
 * It needs no threads of its own, which suits short work in programs that
 * already use GIO. The shared pool is small and grows slowly under load,
 * and blocking in it delays GIO's own jobs: for long or blocking work, or
 * work that waits for other work, prefer a [class@Concurry.ThreadPoolExecutor].
 *
 * The future of each item is completed by the worker thread itself, so
 * waiting for it never depends on a main loop; as with any `GTask`, the
 * task is freed on the main context that was thread-default when the work
 * was submitted, once that context runs.
 *
 * As with the thread pool, JavaScript functions are refused.
 *
 * Since: 0.1
 */
struct _ConcurryTaskExecutor
{
  GObject           parent_instance;
  ConcurryWorkQueue queue;
};

static void executor_iface_init (ConcurryExecutorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConcurryTaskExecutor, concurry_task_executor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_EXECUTOR, executor_iface_init))

/* One GTask per drainer, not per item: each runs queued items until none
 * are left, so a burst of submissions costs a few GTasks. */
static void
task_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ConcurryTaskExecutor *self = task_data;

  _concurry_work_queue_drain (&self->queue, CONCURRY_EXECUTOR (self));
  g_task_return_boolean (task, TRUE);
}

static void
kick (ConcurryExecutor *executor,
      gboolean          start_drainer)
{
  GTask *task;

  if (!start_drainer)
    return;

  /* The drainer's reference on us is passed to the task's data. */
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_source_tag (task, kick);
  g_task_set_name (task, "[concurry] ConcurryTaskExecutor work");
  g_task_set_task_data (task, executor, NULL);
  g_task_run_in_thread (task, task_thread);
  g_object_unref (task);
}

static ConcurryFuture *
concurry_task_executor_submit (ConcurryExecutor  *executor,
                               ConcurryWorkFunc   func,
                               gpointer           user_data,
                               GDestroyNotify     destroy,
                               GError           **error)
{
  ConcurryTaskExecutor *self = CONCURRY_TASK_EXECUTOR (executor);

  return (ConcurryFuture *)_concurry_work_queue_submit (&self->queue, executor, func, user_data,
                                                        destroy, FALSE, error);
}

ConcurryWorkQueue *
_concurry_task_executor_get_queue (ConcurryExecutor *executor)
{
  return &((ConcurryTaskExecutor *)executor)->queue;
}

static gboolean
concurry_task_executor_shutdown (ConcurryExecutor  *executor,
                                 gboolean           wait,
                                 gboolean           cancel_futures,
                                 GError           **error)
{
  ConcurryTaskExecutor *self = CONCURRY_TASK_EXECUTOR (executor);

  return _concurry_work_queue_shutdown (&self->queue, executor, wait, cancel_futures, error);
}

static gboolean
concurry_task_executor_is_shutdown (ConcurryExecutor *executor)
{
  return _concurry_work_queue_is_shut_down (&CONCURRY_TASK_EXECUTOR (executor)->queue);
}

static guint
concurry_task_executor_get_max_workers (ConcurryExecutor *executor)
{
  return CONCURRY_TASK_EXECUTOR (executor)->queue.max_drainers;
}

static void
executor_iface_init (ConcurryExecutorInterface *iface)
{
  iface->submit = concurry_task_executor_submit;
  iface->shutdown = concurry_task_executor_shutdown;
  iface->is_shutdown = concurry_task_executor_is_shutdown;
  iface->get_max_workers = concurry_task_executor_get_max_workers;
}

static void
concurry_task_executor_finalize (GObject *object)
{
  ConcurryTaskExecutor *self = (ConcurryTaskExecutor *)object;

  _concurry_work_queue_clear (&self->queue);

  G_OBJECT_CLASS (concurry_task_executor_parent_class)->finalize (object);
}

static void
concurry_task_executor_class_init (ConcurryTaskExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = concurry_task_executor_finalize;
}

static void
concurry_task_executor_init (ConcurryTaskExecutor *self)
{
  _concurry_work_queue_init (&self->queue);
  self->queue.on_worker_threads = TRUE;
  self->queue.kick = kick;
  /* GLib's shared pool has at least 10 threads (gtask.c); leave room for
   * GIO's own jobs. */
  self->queue.max_drainers = MAX (2, MIN (g_get_num_processors (), 8));
}

/**
 * concurry_task_executor_new:
 *
 * Creates an executor that runs work on GLib's shared pool of threads.
 *
 * Returns: (transfer full): a new [class@Concurry.TaskExecutor]
 *
 * Since: 0.1
 */
ConcurryExecutor *
concurry_task_executor_new (void)
{
  return g_object_new (CONCURRY_TYPE_TASK_EXECUTOR, NULL);
}
