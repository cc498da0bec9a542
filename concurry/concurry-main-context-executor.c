/* concurry-main-context-executor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-main-context-executor.h"
#include "concurry-work-queue-private.h"

/**
 * ConcurryMainContextExecutor:
 *
 * An executor that runs work on a `GMainContext`, one item after the other
 * in submission order, from the context's own iterations.
 *
 * This is how programs whose code must stay on one thread run their
 * functions through the executor API: a GJS program or extension (where
 * JavaScript can never run on another thread), or a GTK application
 * touching its widgets. Work should be short: it blocks the context while
 * it runs. Slow work belongs on a [class@Concurry.ThreadPoolExecutor], in C,
 * Vala or Python, or in GIO's asynchronous calls.
 *
 * ```js
 * const executor = Concurry.MainContextExecutor.new(null);
 * const future = executor.submit(cancellable => 6 * 7);
 * await future.wait_async(null);
 * print(future.get_value());   // 42
 * ```
 *
 * Since: 0.1
 */
struct _ConcurryMainContextExecutor
{
  GObject            parent_instance;
  ConcurryWorkQueue  queue;
  GMainContext      *context;
  GSource           *source;
};

enum {
  PROP_0,
  PROP_CONTEXT,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void executor_iface_init (ConcurryExecutorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConcurryMainContextExecutor, concurry_main_context_executor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_EXECUTOR, executor_iface_init))

/* The source runs queued work until the queue is empty or it has run for
 * a while, so that a flood of small items does not starve the context:
 * between two slices, events, timers, done callbacks and redraws (all of
 * a higher priority) get their turn. */
#define TIME_SLICE_USEC 5000

typedef struct
{
  GSource                      source;
  ConcurryMainContextExecutor *executor;   /* weak: the executor owns us */
} WorkSource;

static gboolean
work_source_dispatch (GSource     *source,
                      GSourceFunc  callback,
                      gpointer     user_data)
{
  ConcurryMainContextExecutor *self = ((WorkSource *)source)->executor;
  gint64 end = g_get_monotonic_time () + TIME_SLICE_USEC;
  ConcurryWorkFuture *item;

  g_source_set_ready_time (source, -1);

  /* Each item holds the executor alive while it runs (the queue's
   * reference); take our own so the end of the loop is safe. */
  g_object_ref (self);
  while (g_get_monotonic_time () < end &&
         (item = _concurry_work_queue_pop (&self->queue)) != NULL)
    {
      /* Work that waits for work queued behind it iterates this context:
       * the source must be ready to run in there. */
      if (!_concurry_work_queue_is_empty (&self->queue))
        g_source_set_ready_time (source, 0);

      _concurry_work_queue_run (&self->queue, CONCURRY_EXECUTOR (self), item);
    }

  /* More to do: come back on the next iteration. */
  if (!_concurry_work_queue_is_empty (&self->queue))
    g_source_set_ready_time (source, 0);
  g_object_unref (self);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs work_source_funcs = {
  .dispatch = work_source_dispatch,
};

static ConcurryFuture *
concurry_main_context_executor_submit (ConcurryExecutor  *executor,
                                       ConcurryWorkFunc   func,
                                       gpointer           user_data,
                                       GDestroyNotify     destroy,
                                       GError           **error)
{
  ConcurryMainContextExecutor *self = CONCURRY_MAIN_CONTEXT_EXECUTOR (executor);

  return (ConcurryFuture *)_concurry_work_queue_submit (&self->queue, executor, func, user_data,
                                                        destroy, FALSE, error);
}

static void
kick (ConcurryExecutor *executor,
      gboolean          start_drainer)
{
  g_source_set_ready_time (((ConcurryMainContextExecutor *)executor)->source, 0);
}

ConcurryWorkQueue *
_concurry_main_context_executor_get_queue (ConcurryExecutor *executor)
{
  return &((ConcurryMainContextExecutor *)executor)->queue;
}

static gboolean
concurry_main_context_executor_shutdown (ConcurryExecutor  *executor,
                                         gboolean           wait,
                                         gboolean           cancel_futures,
                                         GError           **error)
{
  ConcurryMainContextExecutor *self = CONCURRY_MAIN_CONTEXT_EXECUTOR (executor);

  return _concurry_work_queue_shutdown (&self->queue, executor, wait, cancel_futures, error);
}

static gboolean
concurry_main_context_executor_is_shutdown (ConcurryExecutor *executor)
{
  return _concurry_work_queue_is_shut_down (&CONCURRY_MAIN_CONTEXT_EXECUTOR (executor)->queue);
}

static guint
concurry_main_context_executor_get_max_workers (ConcurryExecutor *executor)
{
  return 1;
}

static void
executor_iface_init (ConcurryExecutorInterface *iface)
{
  iface->submit = concurry_main_context_executor_submit;
  iface->shutdown = concurry_main_context_executor_shutdown;
  iface->is_shutdown = concurry_main_context_executor_is_shutdown;
  iface->get_max_workers = concurry_main_context_executor_get_max_workers;
}

static void
concurry_main_context_executor_constructed (GObject *object)
{
  ConcurryMainContextExecutor *self = (ConcurryMainContextExecutor *)object;

  G_OBJECT_CLASS (concurry_main_context_executor_parent_class)->constructed (object);

  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();

  self->source = g_source_new (&work_source_funcs, sizeof (WorkSource));
  ((WorkSource *)self->source)->executor = self;
  g_source_set_static_name (self->source, "[concurry] ConcurryMainContextExecutor");
  /* Work is background work, as g_idle_add() runs it: while items are
   * queued the source stays ready, and at the default priority it would
   * hold back everything of a lower one (a toolkit's redraws, idle
   * handlers, a task manager's progress) until the queue is empty. */
  g_source_set_priority (self->source, G_PRIORITY_DEFAULT_IDLE);
  /* Work may wait for other work of the same executor: that wait iterates
   * this context, and the source must run in there. */
  g_source_set_can_recurse (self->source, TRUE);
  g_source_set_ready_time (self->source, -1);
  g_source_attach (self->source, self->context);
}

static void
concurry_main_context_executor_finalize (GObject *object)
{
  ConcurryMainContextExecutor *self = (ConcurryMainContextExecutor *)object;

  g_source_destroy (self->source);
  g_source_unref (self->source);
  g_main_context_unref (self->context);
  _concurry_work_queue_clear (&self->queue);

  G_OBJECT_CLASS (concurry_main_context_executor_parent_class)->finalize (object);
}

static void
concurry_main_context_executor_get_property (GObject    *object,
                                             guint       prop_id,
                                             GValue     *value,
                                             GParamSpec *pspec)
{
  ConcurryMainContextExecutor *self = CONCURRY_MAIN_CONTEXT_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
concurry_main_context_executor_set_property (GObject      *object,
                                             guint         prop_id,
                                             const GValue *value,
                                             GParamSpec   *pspec)
{
  ConcurryMainContextExecutor *self = CONCURRY_MAIN_CONTEXT_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_boxed (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
concurry_main_context_executor_class_init (ConcurryMainContextExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = concurry_main_context_executor_constructed;
  object_class->finalize = concurry_main_context_executor_finalize;
  object_class->get_property = concurry_main_context_executor_get_property;
  object_class->set_property = concurry_main_context_executor_set_property;

  /**
   * ConcurryMainContextExecutor:context:
   *
   * The main context the work runs on. %NULL at construction means the
   * thread-default context of the constructing thread.
   *
   * Since: 0.1
   */
  properties [PROP_CONTEXT] =
    g_param_spec_boxed ("context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
concurry_main_context_executor_init (ConcurryMainContextExecutor *self)
{
  _concurry_work_queue_init (&self->queue);
  self->queue.kick = kick;
}

/**
 * concurry_main_context_executor_new:
 * @context: (nullable): the main context to run work on, or %NULL for the
 *   thread-default one of the calling thread
 *
 * Creates an executor that runs work on @context.
 *
 * Returns: (transfer full): a new [class@Concurry.MainContextExecutor]
 *
 * Since: 0.1
 */
ConcurryExecutor *
concurry_main_context_executor_new (GMainContext *context)
{
  return g_object_new (CONCURRY_TYPE_MAIN_CONTEXT_EXECUTOR,
                       "context", context,
                       NULL);
}

/**
 * concurry_main_context_executor_get_context:
 * @self: a [class@Concurry.MainContextExecutor]
 *
 * Gets the main context the work of @self runs on.
 *
 * Returns: (transfer none): the context
 *
 * Since: 0.1
 */
GMainContext *
concurry_main_context_executor_get_context (ConcurryMainContextExecutor *self)
{
  g_return_val_if_fail (CONCURRY_IS_MAIN_CONTEXT_EXECUTOR (self), NULL);

  return self->context;
}
