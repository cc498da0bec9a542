/* concurry-work-batch.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"
#include "concurry-runner-private.h"
#include "concurry-work-batch-private.h"

/**
 * ConcurryWorkBatch:
 *
 * The items a [class@Concurry.Runner]'s function runs in one call.
 *
 * A batch is only valid during the call of the runner's function: once
 * it returns, every method reports an empty batch. Its items are run in
 * order, each started with [method@Concurry.WorkBatch.start] and ended
 * with [method@Concurry.WorkBatch.return_value] or
 * [method@Concurry.WorkBatch.return_error], on the thread that called the
 * function.
 *
 * Since: 0.2
 */

struct _ConcurryWorkBatch
{
  GObject              parent_instance;

  guint                n_items;
  guint                queued : 1;
  guint                failed : 1;
  guint8              *states;
  const GValue        *data;
  gint64               first_start;   /* values: when the first item started */

  /* queued items */
  ConcurryWorkFuture **items;
  GCancellable       **cancellables;
  int                 *cancelling;

  /* values (a map's chunk, or one item) */
  const GValue        *inputs;
  GCancellable        *cancellable;
  GValue              *outputs;
  GError             **errors;
  ConcurryBatchSink    sink;          /* if set: instead of the arrays */
  gpointer             sink_data;
};

G_DEFINE_FINAL_TYPE (ConcurryWorkBatch, concurry_work_batch, G_TYPE_OBJECT)

static void
concurry_work_batch_class_init (ConcurryWorkBatchClass *klass)
{
}

static void
concurry_work_batch_init (ConcurryWorkBatch *self)
{
}

ConcurryWorkBatch *
_concurry_work_batch_new_queued (ConcurryWorkFuture **items,
                                 guint                n_items,
                                 GCancellable       **cancellables,
                                 guint8              *states,
                                 int                 *cancelling)
{
  ConcurryWorkBatch *self = g_object_new (CONCURRY_TYPE_WORK_BATCH, NULL);

  self->queued = TRUE;
  self->n_items = n_items;
  self->items = items;
  self->cancellables = cancellables;
  self->states = states;
  self->cancelling = cancelling;

  return self;
}

ConcurryWorkBatch *
_concurry_work_batch_new_values (const GValue  *data,
                                 const GValue  *inputs,
                                 guint          n_inputs,
                                 GCancellable  *cancellable,
                                 GValue        *outputs,
                                 GError       **errors,
                                 guint8        *states)
{
  ConcurryWorkBatch *self = g_object_new (CONCURRY_TYPE_WORK_BATCH, NULL);

  self->n_items = n_inputs;
  self->data = data;
  self->inputs = inputs;
  self->cancellable = cancellable;
  self->outputs = outputs;
  self->errors = errors;
  self->states = states;

  return self;
}

/* From now on, the outcomes of @self (a batch of values) go to @sink as
 * they are given, instead of its arrays; parts of an item's results are
 * only taken by a sink. */
void
_concurry_work_batch_set_sink (ConcurryWorkBatch *self,
                               ConcurryBatchSink  sink,
                               gpointer           sink_data)
{
  g_assert (!self->queued);

  self->sink = sink;
  self->sink_data = sink_data;
}

/* The monotonic time at which the first item of a batch of values was
 * started, 0 if none was: from then on the runner's function runs items
 * (for a binding, with its interpreter's lock taken). */
gint64
_concurry_work_batch_get_first_start (ConcurryWorkBatch *self)
{
  return self->first_start;
}

/* The runner's function returned: the arrays are gone. */
void
_concurry_work_batch_invalidate (ConcurryWorkBatch *self)
{
  self->n_items = 0;
  self->data = NULL;
  self->items = NULL;
  self->cancellables = NULL;
  self->states = NULL;
  self->inputs = NULL;
  self->outputs = NULL;
  self->errors = NULL;
  self->cancellable = NULL;
  self->sink = NULL;
  self->sink_data = NULL;
}

static gboolean
check_index (ConcurryWorkBatch *self,
             guint              index,
             const char        *func)
{
  if G_UNLIKELY (!CONCURRY_IS_WORK_BATCH (self))
    {
      g_critical ("%s: assertion 'CONCURRY_IS_WORK_BATCH (self)' failed", func);
      return FALSE;
    }
  if G_UNLIKELY (index >= self->n_items)
    {
      g_critical ("%s: no item %u in a batch of %u (batches are only valid "
                  "during the runner's call)", func, index, self->n_items);
      return FALSE;
    }
  return TRUE;
}

#define CHECK_INDEX(self, index, val)           \
  G_STMT_START {                                \
    if (!check_index (self, index, G_STRFUNC))  \
      return val;                               \
  } G_STMT_END

/**
 * concurry_work_batch_get_size:
 * @self: a [class@Concurry.WorkBatch]
 *
 * Gets the number of items of @self.
 *
 * Returns: the number of items, 0 once the runner's function returned
 *
 * Since: 0.2
 */
guint
concurry_work_batch_get_size (ConcurryWorkBatch *self)
{
  g_return_val_if_fail (CONCURRY_IS_WORK_BATCH (self), 0);

  return self->n_items;
}

/**
 * concurry_work_batch_get_data:
 * @self: a [class@Concurry.WorkBatch]
 *
 * Gets the data shared by all the items of @self: the @data given to
 * [method@Concurry.Executor.map_with_runner] when @self holds inputs of a
 * map, %NULL for items submitted one by one.
 *
 * Returns: (nullable) (transfer none): the shared data, or %NULL
 *
 * Since: 0.2
 */
const GValue *
concurry_work_batch_get_data (ConcurryWorkBatch *self)
{
  g_return_val_if_fail (CONCURRY_IS_WORK_BATCH (self), NULL);

  return self->data;
}

/**
 * concurry_work_batch_start:
 * @self: a [class@Concurry.WorkBatch]
 * @index: the position of the item, below [method@Concurry.WorkBatch.get_size]
 *
 * Starts the item at @index: its future becomes running (it can no
 * longer be cancelled before it starts), and its cancellable is armed.
 * Returns %NULL instead when the item must not run: it was cancelled
 * while queued, its executor was shut down with `cancel_futures` before
 * the batch left the queue, or (for the inputs of a map) an earlier item
 * of the batch failed. Each item is started at most once.
 *
 * Returns: (nullable) (transfer none): the item's value (the item given
 *   to [method@Concurry.Executor.submit_to_runner], or the input of a
 *   map), or %NULL if the item must be skipped
 *
 * Since: 0.2
 */
const GValue *
concurry_work_batch_start (ConcurryWorkBatch *self,
                           guint              index)
{
  CHECK_INDEX (self, index, NULL);

  if (self->states[index] != CONCURRY_BATCH_ITEM_NEW)
    {
      g_critical ("%s: item %u was already started", G_STRFUNC, index);
      return NULL;
    }

  if (self->queued)
    {
      ConcurryWorkFuture *item = self->items[index];
      ConcurryRunnerItem *runner_item = item->user_data;

      if G_UNLIKELY (g_atomic_int_get (self->cancelling))
        {
          _concurry_work_future_discard (item);
          self->states[index] = CONCURRY_BATCH_ITEM_SKIPPED;
          return NULL;
        }

      if (!_concurry_work_future_begin (item, &self->cancellables[index]))
        {
          self->states[index] = CONCURRY_BATCH_ITEM_SKIPPED;
          return NULL;
        }

      self->states[index] = CONCURRY_BATCH_ITEM_STARTED;
      return &runner_item->item;
    }

  if (self->failed || g_cancellable_is_cancelled (self->cancellable))
    {
      self->states[index] = CONCURRY_BATCH_ITEM_SKIPPED;
      return NULL;
    }

  self->states[index] = CONCURRY_BATCH_ITEM_STARTED;
  if (self->first_start == 0)
    self->first_start = g_get_monotonic_time ();
  return &self->inputs[index];
}

/**
 * concurry_work_batch_get_cancellable:
 * @self: a [class@Concurry.WorkBatch]
 * @index: the position of the item
 *
 * Gets the cancellable of a started item: it is cancelled when the item's
 * future is cancelled while the item runs.
 *
 * Returns: (nullable) (transfer none): the cancellable, or %NULL if the
 *   item is not running
 *
 * Since: 0.2
 */
GCancellable *
concurry_work_batch_get_cancellable (ConcurryWorkBatch *self,
                                     guint              index)
{
  CHECK_INDEX (self, index, NULL);

  if (self->states[index] != CONCURRY_BATCH_ITEM_STARTED)
    return NULL;

  return self->queued ? self->cancellables[index] : self->cancellable;
}

/**
 * concurry_work_batch_get_future:
 * @self: a [class@Concurry.WorkBatch]
 * @index: the position of the item
 *
 * Gets the future of an item submitted with
 * [method@Concurry.Executor.submit_to_runner] and taken from a queue in a
 * batch. Items run one by one and the inputs of a map have no future of
 * their own.
 *
 * Returns: (nullable) (transfer none): the item's future, or %NULL
 *
 * Since: 0.2
 */
ConcurryFuture *
concurry_work_batch_get_future (ConcurryWorkBatch *self,
                                guint              index)
{
  CHECK_INDEX (self, index, NULL);

  return self->queued ? (ConcurryFuture *)self->items[index] : NULL;
}

static gboolean
check_started (ConcurryWorkBatch *self,
               guint              index,
               const char        *func)
{
  if (self->states[index] != CONCURRY_BATCH_ITEM_STARTED)
    {
      g_critical ("%s: item %u is not running (start it first, and end it once)", func, index);
      return FALSE;
    }
  return TRUE;
}

/* Copies @value, if set, into @copy (unset). */
static void
copy_value (const GValue *value,
            GValue       *copy)
{
  if (value != NULL)
    {
      g_value_init (copy, G_VALUE_TYPE (value));
      g_value_copy (value, copy);
    }
}

/**
 * concurry_work_batch_return_value:
 * @self: a [class@Concurry.WorkBatch]
 * @index: the position of a started item
 * @value: (nullable): the item's result, copied, or %NULL for none
 *
 * Ends the item at @index with a result.
 *
 * Since: 0.2
 */
void
concurry_work_batch_return_value (ConcurryWorkBatch *self,
                                  guint              index,
                                  const GValue      *value)
{
  GValue copy = G_VALUE_INIT;

  CHECK_INDEX (self, index, );
  g_return_if_fail (value == NULL || G_IS_VALUE (value));

  if (!check_started (self, index, G_STRFUNC))
    return;

  self->states[index] = CONCURRY_BATCH_ITEM_DONE;

  if (!self->queued && self->sink == NULL)
    {
      copy_value (value, &self->outputs[index]);
      return;
    }

  copy_value (value, &copy);
  if (!self->queued)
    {
      self->sink (self->sink_data, index, &copy, NULL, FALSE);
      return;
    }

  _concurry_work_future_end (self->items[index], self->cancellables[index], &copy, NULL);
  self->cancellables[index] = NULL;
}

/**
 * concurry_work_batch_return_part:
 * @self: a [class@Concurry.WorkBatch]
 * @index: the position of a started item
 * @value: (nullable): a part of the item's results, copied, or %NULL for
 *   no value
 *
 * Hands over a part of the results of a started item ahead of its end,
 * for a binding whose map inputs each hold several of its own items (see
 * [func@Concurry.map_input_hint]): [method@Concurry.MapResults.next]
 * gives each part as a result of its own, in order, as soon as it is
 * given (and the items ahead of it in the map ended), and then the value
 * the item ends with. A binding hands over what
 * each of its items returned before it starts the next one, so that no
 * result waits for a later item, which may itself wait for somebody
 * reading that result.
 *
 * The item keeps running: end it with
 * [method@Concurry.WorkBatch.return_value] (its last part) or
 * [method@Concurry.WorkBatch.return_error]. Only the inputs of a map have
 * parts: items submitted with [method@Concurry.Executor.submit_to_runner]
 * have one outcome each, and a part given to them is a programming error.
 *
 * Since: 0.2
 */
void
concurry_work_batch_return_part (ConcurryWorkBatch *self,
                                 guint              index,
                                 const GValue      *value)
{
  GValue copy = G_VALUE_INIT;

  CHECK_INDEX (self, index, );
  g_return_if_fail (value == NULL || G_IS_VALUE (value));

  if (!check_started (self, index, G_STRFUNC))
    return;

  if (self->sink == NULL)
    {
      /* Not g_critical(): structured, it would escape g_test_expect_message(). */
      g_log (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
             "%s: item %u is not the input of a map: it has no parts", G_STRFUNC, index);
      return;
    }

  copy_value (value, &copy);
  self->sink (self->sink_data, index, &copy, NULL, TRUE);
}

/**
 * concurry_work_batch_return_error:
 * @self: a [class@Concurry.WorkBatch]
 * @index: the position of a started item
 * @error: the error the item failed with, copied
 * @payload: (nullable): a value to attach to the copy of @error, see
 *   [func@Concurry.Error.set_payload]
 *
 * Ends the item at @index with a failure. An error of
 * `G_IO_ERROR_CANCELLED` makes its future cancelled. For the inputs of a
 * map, the later items of the batch are not started.
 *
 * Since: 0.2
 */
void
concurry_work_batch_return_error (ConcurryWorkBatch *self,
                                  guint              index,
                                  const GError      *error,
                                  const GValue      *payload)
{
  GError *copy;

  CHECK_INDEX (self, index, );
  g_return_if_fail (error != NULL);
  g_return_if_fail (payload == NULL || G_IS_VALUE (payload));

  if (!check_started (self, index, G_STRFUNC))
    return;

  self->states[index] = CONCURRY_BATCH_ITEM_DONE;

  copy = g_error_copy (error);
  if (payload != NULL && copy->domain == CONCURRY_ERROR)
    concurry_error_set_payload (copy, payload);

  if (!self->queued)
    {
      self->failed = TRUE;
      if (self->sink != NULL)
        self->sink (self->sink_data, index, NULL, copy, FALSE);
      else
        self->errors[index] = copy;
      return;
    }

  _concurry_work_future_end (self->items[index], self->cancellables[index], NULL, copy);
  self->cancellables[index] = NULL;
}
