/* concurry-thread-pool-executor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"
#include "concurry-executor-private.h"
#include "concurry-i18n-private.h"
#include "concurry-thread-pool-executor.h"
#include "concurry-work-queue-private.h"

/**
 * ConcurryThreadPoolExecutor:
 *
 * An executor that owns a `GThreadPool` of at most `max-workers` threads.
 *
 * Work runs in submission order on the pool's threads. A future cancelled
 * while its work is queued never runs it; work that already runs sees its
 * cancellable cancelled. Each executor has its own pool, so work blocked
 * in one executor never starves another, nor GLib's shared pool.
 *
 * Work functions run on worker threads, so they must be written in C,
 * Vala or Python (Python work holds the GIL while it runs: use it for work
 * that blocks in C or waits on I/O). A JavaScript function is refused with
 * %CONCURRY_ERROR_WRONG_THREAD: GJS programs use a
 * [class@Concurry.MainContextExecutor].
 *
 * ```python
 * pool = Concurry.ThreadPoolExecutor.new(4)
 * future = pool.submit(lambda cancellable: 6 * 7)
 * future.wait(-1)
 * print(future.get_value())
 * ```
 *
 * Since: 0.1
 */
struct _ConcurryThreadPoolExecutor
{
  GObject            parent_instance;
  ConcurryWorkQueue  queue;
  GThreadPool       *pool;
  guint              max_workers;
};

enum {
  PROP_0,
  PROP_MAX_WORKERS,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void executor_iface_init (ConcurryExecutorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConcurryThreadPoolExecutor, concurry_thread_pool_executor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_EXECUTOR, executor_iface_init))

/* The pool runs drainers, at most max-workers at once: each runs queued
 * items until none are left. The queue is ours, not the pool's, so that
 * shutdown can cancel what has not started. */
static void
drainer (gpointer token,
         gpointer user_data)
{
  ConcurryThreadPoolExecutor *self = user_data;

  _concurry_work_queue_drain (&self->queue, (ConcurryExecutor *)self);
}

/* Also called directly by concurry_executor_submit(): see there. */
ConcurryFuture *
_concurry_thread_pool_executor_submit (ConcurryExecutor  *executor,
                                       ConcurryWorkFunc   func,
                                       gpointer           user_data,
                                       GDestroyNotify     destroy,
                                       GError           **error)
{
  /* A plain cast: this is our own vfunc, on the path of every submit. */
  ConcurryThreadPoolExecutor *self = (ConcurryThreadPoolExecutor *)executor;

  return (ConcurryFuture *)_concurry_work_queue_submit (&self->queue, executor, func, user_data,
                                                        destroy, FALSE, error);
}

static void
kick (ConcurryExecutor *executor,
      gboolean          start_drainer)
{
  if (start_drainer)
    g_thread_pool_push (((ConcurryThreadPoolExecutor *)executor)->pool, GINT_TO_POINTER (1), NULL);
}

ConcurryWorkQueue *
_concurry_thread_pool_executor_get_queue (ConcurryExecutor *executor)
{
  return &((ConcurryThreadPoolExecutor *)executor)->queue;
}

static gboolean
concurry_thread_pool_executor_shutdown (ConcurryExecutor  *executor,
                                        gboolean           wait,
                                        gboolean           cancel_futures,
                                        GError           **error)
{
  ConcurryThreadPoolExecutor *self = CONCURRY_THREAD_POOL_EXECUTOR (executor);

  return _concurry_work_queue_shutdown (&self->queue, executor, wait, cancel_futures, error);
}

static gboolean
concurry_thread_pool_executor_is_shutdown (ConcurryExecutor *executor)
{
  ConcurryThreadPoolExecutor *self = CONCURRY_THREAD_POOL_EXECUTOR (executor);

  return _concurry_work_queue_is_shut_down (&self->queue);
}

static guint
concurry_thread_pool_executor_get_max_workers (ConcurryExecutor *executor)
{
  return CONCURRY_THREAD_POOL_EXECUTOR (executor)->max_workers;
}

static void
executor_iface_init (ConcurryExecutorInterface *iface)
{
  iface->submit = _concurry_thread_pool_executor_submit;
  iface->shutdown = concurry_thread_pool_executor_shutdown;
  iface->is_shutdown = concurry_thread_pool_executor_is_shutdown;
  iface->get_max_workers = concurry_thread_pool_executor_get_max_workers;
}

static void
concurry_thread_pool_executor_constructed (GObject *object)
{
  ConcurryThreadPoolExecutor *self = (ConcurryThreadPoolExecutor *)object;

  G_OBJECT_CLASS (concurry_thread_pool_executor_parent_class)->constructed (object);

  if (self->max_workers == 0)
    self->max_workers = g_get_num_processors ();

  /* Non-exclusive: threads are started on demand and shared with GLib's
   * pool of unused threads when idle; never more than max_workers run. */
  self->queue.max_drainers = self->max_workers;
  self->pool = g_thread_pool_new (drainer, self, (int)self->max_workers, FALSE, NULL);
}

static void
concurry_thread_pool_executor_finalize (GObject *object)
{
  ConcurryThreadPoolExecutor *self = (ConcurryThreadPoolExecutor *)object;

  /* No work is outstanding (it would hold a reference), but this may run
   * on one of our own threads, after its last item: never wait here. */
  g_thread_pool_free (self->pool, FALSE, FALSE);
  _concurry_work_queue_clear (&self->queue);

  G_OBJECT_CLASS (concurry_thread_pool_executor_parent_class)->finalize (object);
}

static void
concurry_thread_pool_executor_get_property (GObject    *object,
                                            guint       prop_id,
                                            GValue     *value,
                                            GParamSpec *pspec)
{
  ConcurryThreadPoolExecutor *self = CONCURRY_THREAD_POOL_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_MAX_WORKERS:
      g_value_set_uint (value, self->max_workers);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
concurry_thread_pool_executor_set_property (GObject      *object,
                                            guint         prop_id,
                                            const GValue *value,
                                            GParamSpec   *pspec)
{
  ConcurryThreadPoolExecutor *self = CONCURRY_THREAD_POOL_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_MAX_WORKERS:
      self->max_workers = g_value_get_uint (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
concurry_thread_pool_executor_class_init (ConcurryThreadPoolExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = concurry_thread_pool_executor_constructed;
  object_class->finalize = concurry_thread_pool_executor_finalize;
  object_class->get_property = concurry_thread_pool_executor_get_property;
  object_class->set_property = concurry_thread_pool_executor_set_property;

  /**
   * ConcurryThreadPoolExecutor:max-workers:
   *
   * The number of threads of the pool: how many work functions run at
   * once. 0 at construction means the number of processors.
   *
   * Since: 0.1
   */
  properties [PROP_MAX_WORKERS] =
    g_param_spec_uint ("max-workers", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
concurry_thread_pool_executor_init (ConcurryThreadPoolExecutor *self)
{
  _concurry_work_queue_init (&self->queue);
  self->queue.on_worker_threads = TRUE;
  /* its threads are its own: an idle one waits a while for more work */
  self->queue.park_idle_drainers = TRUE;
  self->queue.kick = kick;
}

/**
 * concurry_thread_pool_executor_new:
 * @max_workers: the number of worker threads, or 0 for the number of
 *   processors
 *
 * Creates an executor with its own pool of @max_workers threads.
 *
 * Returns: (transfer full): a new [class@Concurry.ThreadPoolExecutor]
 *
 * Since: 0.1
 */
ConcurryExecutor *
concurry_thread_pool_executor_new (guint max_workers)
{
  return g_object_new (CONCURRY_TYPE_THREAD_POOL_EXECUTOR,
                       "max-workers", max_workers,
                       NULL);
}
