/* concurry-runner.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"
#include "concurry-i18n-private.h"
#include "concurry-platform-private.h"
#include "concurry-runner-private.h"
#include "concurry-work-batch-private.h"

/**
 * ConcurryRunner:
 *
 * A function that runs work items in batches, for language bindings.
 *
 * Submitting a closure of a language binding for every item of work costs
 * a closure, a marshalled `GCancellable` and an out `GValue`, and the
 * interpreter's lock, per item. A runner lets the binding pay that once
 * per batch: the binding creates one runner, and submits plain values to
 * it with [method@Concurry.Executor.submit_to_runner] or maps over them
 * with [method@Concurry.Executor.map_with_runner]. Everything else stays
 * in concurry: the queue, the batching decisions, cancellation, shutdown
 * and the futures. When a worker of a thread-pool or GTask executor takes
 * several consecutive items of the same runner from its queue, it hands
 * them to the runner's function in one [class@Concurry.WorkBatch]; other
 * executors hand over one item at a time.
 *
 * The function runs each item in turn:
 *
 * ```python
 * def run(batch):
 *     for i in range(batch.get_size()):
 *         item = batch.start(i)        # None: cancelled, skip it
 *         if item is None:
 *             continue
 *         fn, args = item
 *         try:
 *             value = fn(*args)
 *         except Exception as e:
 *             batch.return_error(i, GLib.Error(str(e)), None)
 *         else:
 *             batch.return_value(i, value)
 *
 * runner = Concurry.Runner.new(run)
 * future = executor.submit_to_runner(runner, (print, ('hi',)), None)
 * ```
 *
 * A queued item that is cancelled before the runner starts it is never
 * started; an item that the function leaves without an outcome fails with
 * %CONCURRY_ERROR_FAILED, so that nothing is silently dropped.
 *
 * Since: 0.2
 */

G_DEFINE_FINAL_TYPE (ConcurryRunner, concurry_runner, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FORWARDING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
concurry_runner_finalize (GObject *object)
{
  ConcurryRunner *self = (ConcurryRunner *)object;

  if (self->destroy != NULL)
    self->destroy (self->user_data);

  G_OBJECT_CLASS (concurry_runner_parent_class)->finalize (object);
}

static void
concurry_runner_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  ConcurryRunner *self = CONCURRY_RUNNER (object);

  switch (prop_id)
    {
    case PROP_FORWARDING:
      g_value_set_boolean (value, concurry_runner_get_forwarding (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
concurry_runner_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  ConcurryRunner *self = CONCURRY_RUNNER (object);

  switch (prop_id)
    {
    case PROP_FORWARDING:
      concurry_runner_set_forwarding (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
concurry_runner_class_init (ConcurryRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = concurry_runner_finalize;
  object_class->get_property = concurry_runner_get_property;
  object_class->set_property = concurry_runner_set_property;

  /**
   * ConcurryRunner:forwarding: (getter get_forwarding) (setter set_forwarding)
   *
   * Whether the runner's function forwards its items elsewhere (to other
   * processes, to a cluster) and waits for their outcomes, rather than
   * running them itself.
   *
   * The time such a function takes says how far away the work is, not
   * how quick its items are, and one call carries many items as cheaply
   * as one. So the batches of queued items it gets are as large as the
   * queue allows (an even share of what is queued among the executor's
   * workers, up to 64), not grown from quick ones; and the hint of a map
   * with this runner ([func@Concurry.map_input_hint]) doubles with each
   * chunk done, from one item per input up to the most, so that a short
   * input runs item by item in parallel and a long one travels in groups.
   * A worker waits while the items of its batch are away: the number of
   * workers of the executor bounds the batches out at a time.
   *
   * Since: 0.2
   */
  properties[PROP_FORWARDING] =
    g_param_spec_boolean ("forwarding", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
concurry_runner_init (ConcurryRunner *self)
{
}

/**
 * concurry_runner_new:
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function running batches of items
 * @user_data: data for @func
 * @destroy: (nullable): a function to free @user_data with
 *
 * Creates a runner calling @func with batches of items. @func is called
 * on the executors' worker threads: a runner whose function is written in
 * JavaScript can only be used with a [class@Concurry.MainContextExecutor].
 *
 * Returns: (transfer full): a new [class@Concurry.Runner]
 *
 * Since: 0.2
 */
ConcurryRunner *
concurry_runner_new (ConcurryRunnerFunc func,
                     gpointer           user_data,
                     GDestroyNotify     destroy)
{
  ConcurryRunner *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (CONCURRY_TYPE_RUNNER, NULL);
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;

  return self;
}

/**
 * concurry_runner_set_forwarding: (set-property forwarding)
 * @self: a [class@Concurry.Runner]
 * @forwarding: whether the runner's function forwards its items
 *
 * Says whether the function of @self forwards its items elsewhere and
 * waits for them, rather than running them: see
 * [property@Concurry.Runner:forwarding]. Set it before the runner is
 * used.
 *
 * Since: 0.2
 */
void
concurry_runner_set_forwarding (ConcurryRunner *self,
                                gboolean        forwarding)
{
  g_return_if_fail (CONCURRY_IS_RUNNER (self));

  forwarding = !!forwarding;
  if (g_atomic_int_exchange (&self->forwarding, forwarding) != forwarding)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FORWARDING]);
}

/**
 * concurry_runner_get_forwarding: (get-property forwarding)
 * @self: a [class@Concurry.Runner]
 *
 * Gets whether the function of @self forwards its items elsewhere: see
 * [property@Concurry.Runner:forwarding].
 *
 * Returns: %TRUE if it does
 *
 * Since: 0.2
 */
gboolean
concurry_runner_get_forwarding (ConcurryRunner *self)
{
  g_return_val_if_fail (CONCURRY_IS_RUNNER (self), FALSE);

  return _concurry_runner_is_forwarding (self);
}

gboolean
_concurry_runner_is_javascript (ConcurryRunner *runner)
{
  return _concurry_platform_func_is_javascript ((gpointer)runner->func);
}

ConcurryRunnerItem *
_concurry_runner_item_new (ConcurryRunner *runner,
                           const GValue   *item)
{
  ConcurryRunnerItem *self = g_new0 (ConcurryRunnerItem, 1);

  self->runner = g_object_ref (runner);
  if (item != NULL)
    {
      g_value_init (&self->item, G_VALUE_TYPE (item));
      g_value_copy (item, &self->item);
    }
  else
    {
      g_value_init (&self->item, G_TYPE_POINTER);
    }

  return self;
}

void
_concurry_runner_item_free (gpointer data)
{
  ConcurryRunnerItem *self = data;

  g_value_unset (&self->item);
  g_object_unref (self->runner);
  g_free (self);
}

/* The runner of a queued work item, or NULL if it is not a runner's. */
ConcurryRunner *
_concurry_runner_of_item (ConcurryWorkFuture *item)
{
  if (item->func != _concurry_runner_work_func)
    return NULL;
  return ((ConcurryRunnerItem *)item->user_data)->runner;
}

/* The work function of one item run on its own (executors that take
 * their items one by one): a batch of one. */
void
_concurry_runner_work_func (GCancellable  *cancellable,
                            GValue        *value,
                            gpointer       user_data,
                            GError       **error)
{
  ConcurryRunnerItem *item = user_data;

  _concurry_runner_run_values (item->runner, NULL, &item->item, 1, cancellable, value, error,
                               NULL, NULL, NULL);
}

static GError *
no_outcome_error (void)
{
  return g_error_new_literal (CONCURRY_ERROR, CONCURRY_ERROR_FAILED,
                              _("The runner returned without an outcome for the item"));
}

/* Runs queued items (started here, one by one, as the function asks):
 * then gives every item it left without an outcome one. */
void
_concurry_runner_run_queued (ConcurryRunner      *runner,
                             ConcurryWorkFuture **items,
                             guint                n_items,
                             int                 *cancelling)
{
  GCancellable *cancellables[CONCURRY_RUNNER_MAX_BATCH] = { NULL, };
  guint8 states[CONCURRY_RUNNER_MAX_BATCH] = { 0, };
  ConcurryWorkBatch *batch;

  g_assert (n_items <= CONCURRY_RUNNER_MAX_BATCH);

  batch = _concurry_work_batch_new_queued (items, n_items, cancellables, states, cancelling);
  runner->func (batch, runner->user_data);
  _concurry_work_batch_invalidate (batch);
  g_object_unref (batch);

  for (guint i = 0; i < n_items; i++)
    {
      switch (states[i])
        {
        case CONCURRY_BATCH_ITEM_NEW:
          if G_UNLIKELY (g_atomic_int_get (cancelling))
            _concurry_work_future_discard (items[i]);
          else if (_concurry_work_future_begin (items[i], &cancellables[i]))
            _concurry_work_future_end (items[i], cancellables[i], NULL, no_outcome_error ());
          break;

        case CONCURRY_BATCH_ITEM_STARTED:
          _concurry_work_future_end (items[i], cancellables[i], NULL, no_outcome_error ());
          break;

        default:
          break;
        }
    }
}

/* Runs @n_inputs values already taken out of the queue (a map's chunk, or
 * one item): the outcome of item i goes to @outputs[i] or @errors[i], or,
 * if @sink is set, to @sink as it is given (parts included: see
 * concurry_work_batch_return_part()). Once an item fails or @cancellable
 * is cancelled, the later ones are not started; an item the function
 * leaves without an outcome fails.
 * @busy_usec (if not %NULL) gets how long the function ran from the start
 * of its first item: without the time a binding waits for its
 * interpreter's lock before it can start any (workers of a binding
 * contend for it), which says nothing of how quick its items are. */
void
_concurry_runner_run_values (ConcurryRunner    *runner,
                             const GValue      *data,
                             const GValue      *inputs,
                             guint              n_inputs,
                             GCancellable      *cancellable,
                             GValue            *outputs,
                             GError           **errors,
                             ConcurryBatchSink  sink,
                             gpointer           sink_data,
                             gint64            *busy_usec)
{
  ConcurryWorkBatch *batch;
  guint8 states[CONCURRY_RUNNER_MAX_BATCH] = { 0, };
  gint64 first_start;

  g_assert (n_inputs <= CONCURRY_RUNNER_MAX_BATCH);

  batch = _concurry_work_batch_new_values (data, inputs, n_inputs, cancellable,
                                           outputs, errors, states);
  if (sink != NULL)
    _concurry_work_batch_set_sink (batch, sink, sink_data);
  runner->func (batch, runner->user_data);
  first_start = _concurry_work_batch_get_first_start (batch);
  if (busy_usec != NULL)
    *busy_usec = first_start != 0 ? g_get_monotonic_time () - first_start : 0;
  _concurry_work_batch_invalidate (batch);
  g_object_unref (batch);

  for (guint i = 0; i < n_inputs; i++)
    {
      GError *error = NULL;

      if (states[i] == CONCURRY_BATCH_ITEM_DONE)
        {
          if (sink == NULL && errors[i] != NULL)
            break;
          continue;
        }

      /* The first item without an outcome: cancelled, forgotten, or not
       * started after a failure (a sink drops what follows a failure, but
       * an item before it may have been left without an outcome). */
      if (!g_cancellable_set_error_if_cancelled (cancellable, &error))
        error = no_outcome_error ();
      if (sink != NULL)
        {
          sink (sink_data, i, NULL, error, FALSE);
          break;
        }
      if (G_IS_VALUE (&outputs[i]))
        g_value_unset (&outputs[i]);
      errors[i] = error;
      break;
    }
}
