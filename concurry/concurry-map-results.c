/* concurry-map-results.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"
#include "concurry-i18n-private.h"
#include "concurry-map-results-private.h"

/**
 * ConcurryMapResults:
 *
 * The results of [method@Concurry.Executor.map], in input order.
 *
 * Call [method@Concurry.MapResults.next] until it returns %FALSE: each call
 * blocks until the next result in input order is ready (or the map's
 * deadline passes), and reads and submits more input to keep the executor
 * busy. An item that failed is reported as the error of `next()` at its
 * position; after an error, a timeout or [method@Concurry.MapResults.close]
 * the results are exhausted and the work not consumed yet is cancelled.
 *
 * Dropping the results closes them.
 *
 * Since: 0.1
 */

/* What the workers share: the map function. */
typedef struct
{
  gatomicrefcount ref_count;
  ConcurryMapFunc func;
  gpointer        data;
  GDestroyNotify  destroy;
} MapFunc;

/* One submitted piece of work: @n items in, a GArray of Outcome out. */
typedef struct
{
  MapFunc *map;
  GValue  *items;
  guint    n;
} Chunk;

typedef struct
{
  GValue  value;
  GError *error;
} Outcome;

struct _ConcurryMapResults
{
  GObject            parent_instance;

  ConcurryExecutor  *executor;
  MapFunc           *map;
  ConcurryInputFunc  input;
  gpointer           input_data;
  GDestroyNotify     input_destroy;
  gint64             deadline;
  guint              chunksize;
  guint              max_in_flight;

  /* @in_flight, @waiting and @finished are shared with close(), which may
   * be called from another thread: under @mutex, which is never held
   * while user code (the input, the executor) runs or while waiting. */
  GMutex             mutex;
  GQueue             in_flight;     /* of ConcurryFuture, input order */
  ConcurryFuture    *waiting;       /* the item next() waits for */
  GArray            *current;       /* of Outcome: the chunk being read */
  guint              position;      /* next Outcome of @current */
  GError            *submit_error;  /* a failed submit, reported in order */
  GError            *input_error;   /* the input failed, reported in order */

  gboolean           input_done;    /* consumer only */
  gboolean           finished;      /* under @mutex */
};

G_DEFINE_FINAL_TYPE (ConcurryMapResults, concurry_map_results, G_TYPE_OBJECT)

static MapFunc *
map_func_ref (MapFunc *map)
{
  g_atomic_ref_count_inc (&map->ref_count);
  return map;
}

static void
map_func_unref (MapFunc *map)
{
  if (g_atomic_ref_count_dec (&map->ref_count))
    {
      if (map->destroy != NULL)
        map->destroy (map->data);
      g_free (map);
    }
}

static void
chunk_free (gpointer data)
{
  Chunk *chunk = data;

  for (guint i = 0; i < chunk->n; i++)
    g_value_unset (&chunk->items[i]);
  g_free (chunk->items);
  map_func_unref (chunk->map);
  g_free (chunk);
}

static void
outcome_clear (gpointer data)
{
  Outcome *outcome = data;

  if (G_IS_VALUE (&outcome->value))
    g_value_unset (&outcome->value);
  g_clear_error (&outcome->error);
}

/* Runs on a worker: the map function over the items of the chunk, until
 * the first failure. */
static void
chunk_work (GCancellable  *cancellable,
            GValue        *result,
            gpointer       user_data,
            GError       **error)
{
  Chunk *chunk = user_data;
  GArray *outcomes = g_array_sized_new (FALSE, TRUE, sizeof (Outcome), chunk->n);

  g_array_set_clear_func (outcomes, outcome_clear);

  for (guint i = 0; i < chunk->n; i++)
    {
      Outcome outcome = { G_VALUE_INIT, NULL };

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          g_array_unref (outcomes);
          return;
        }

      chunk->map->func (&chunk->items[i], cancellable, &outcome.value, chunk->map->data, &outcome.error);
      if (outcome.error != NULL && G_IS_VALUE (&outcome.value))
        g_value_unset (&outcome.value);
      g_array_append_val (outcomes, outcome);
      if (outcome.error != NULL)
        break;
    }

  g_value_init (result, G_TYPE_ARRAY);
  g_value_take_boxed (result, outcomes);
}

/* Reads up to a chunk of input and submits it. FALSE once nothing more
 * can be submitted. */
static gboolean
submit_chunk (ConcurryMapResults *self)
{
  Chunk *chunk;
  ConcurryFuture *future;

  if (self->input_done || self->submit_error != NULL)
    return FALSE;

  g_assert (self->input_error == NULL);

  chunk = g_new0 (Chunk, 1);
  chunk->items = g_new0 (GValue, self->chunksize);
  while (chunk->n < self->chunksize &&
         self->input (&chunk->items[chunk->n], self->input_data, &self->input_error))
    chunk->n++;

  if (chunk->n < self->chunksize)
    {
      self->input_done = TRUE;
      /* A binding may leave a value behind with its error. */
      if (G_IS_VALUE (&chunk->items[chunk->n]))
        g_value_unset (&chunk->items[chunk->n]);
    }

  if (chunk->n == 0)
    {
      g_free (chunk->items);
      g_free (chunk);
      return FALSE;
    }

  chunk->map = map_func_ref (self->map);
  future = concurry_executor_submit (self->executor, chunk_work, chunk, chunk_free,
                                     &self->submit_error);
  if (future == NULL)
    return FALSE;

  g_mutex_lock (&self->mutex);
  if (!self->finished)
    {
      g_queue_push_tail (&self->in_flight, g_steal_pointer (&future));
    }
  g_mutex_unlock (&self->mutex);

  /* Closed meanwhile. */
  if (future != NULL)
    {
      concurry_future_cancel (future);
      g_object_unref (future);
      return FALSE;
    }

  return TRUE;
}

static guint
n_in_flight (ConcurryMapResults *self)
{
  guint n;

  g_mutex_lock (&self->mutex);
  n = self->finished ? G_MAXUINT : self->in_flight.length;
  g_mutex_unlock (&self->mutex);

  return n;
}

static void
fill (ConcurryMapResults *self)
{
  while (n_in_flight (self) < self->max_in_flight && submit_chunk (self))
    ;
}

/* Cancels and drops everything not consumed yet, including the item
 * next() may be waiting for on another thread. */
static void
finish (ConcurryMapResults *self)
{
  GQueue dropped = G_QUEUE_INIT;
  ConcurryFuture *waiting;
  ConcurryFuture *future;

  g_mutex_lock (&self->mutex);
  self->finished = TRUE;
  dropped = self->in_flight;
  g_queue_init (&self->in_flight);
  waiting = self->waiting ? g_object_ref (self->waiting) : NULL;
  g_mutex_unlock (&self->mutex);

  if (waiting != NULL)
    {
      concurry_future_cancel (waiting);
      g_object_unref (waiting);
    }
  while ((future = g_queue_pop_head (&dropped)) != NULL)
    {
      concurry_future_cancel (future);
      g_object_unref (future);
    }
}

static gboolean
is_finished (ConcurryMapResults *self)
{
  gboolean finished;

  g_mutex_lock (&self->mutex);
  finished = self->finished;
  g_mutex_unlock (&self->mutex);

  return finished;
}

static void
concurry_map_results_finalize (GObject *object)
{
  ConcurryMapResults *self = (ConcurryMapResults *)object;

  finish (self);
  g_clear_pointer (&self->current, g_array_unref);
  g_clear_error (&self->submit_error);
  g_clear_error (&self->input_error);
  g_mutex_clear (&self->mutex);
  if (self->input_destroy != NULL)
    self->input_destroy (self->input_data);
  map_func_unref (self->map);
  g_object_unref (self->executor);

  G_OBJECT_CLASS (concurry_map_results_parent_class)->finalize (object);
}

static void
concurry_map_results_class_init (ConcurryMapResultsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = concurry_map_results_finalize;
}

static void
concurry_map_results_init (ConcurryMapResults *self)
{
  g_mutex_init (&self->mutex);
  g_queue_init (&self->in_flight);
}

ConcurryMapResults *
_concurry_map_results_new (ConcurryExecutor   *executor,
                           ConcurryMapFunc     func,
                           gpointer            func_data,
                           GDestroyNotify      func_destroy,
                           ConcurryInputFunc   input,
                           gpointer            input_data,
                           GDestroyNotify      input_destroy,
                           gint64              deadline,
                           guint               chunksize,
                           guint               max_in_flight,
                           GError            **error)
{
  ConcurryMapResults *self;

  if (concurry_executor_is_shutdown (executor))
    {
      g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN,
                           _("The executor was shut down and accepts no more work"));
      if (func_destroy != NULL)
        func_destroy (func_data);
      if (input_destroy != NULL)
        input_destroy (input_data);
      return NULL;
    }

  self = g_object_new (CONCURRY_TYPE_MAP_RESULTS, NULL);
  self->executor = g_object_ref (executor);
  self->map = g_new0 (MapFunc, 1);
  g_atomic_ref_count_init (&self->map->ref_count);
  self->map->func = func;
  self->map->data = func_data;
  self->map->destroy = func_destroy;
  self->input = input;
  self->input_data = input_data;
  self->input_destroy = input_destroy;
  self->deadline = deadline;
  self->chunksize = chunksize;
  self->max_in_flight = max_in_flight;

  /* Submitted at once, like concurrent.futures; the rest follows as the
   * results are consumed. */
  fill (self);

  return self;
}

/**
 * concurry_map_results_next:
 * @self: a [class@Concurry.MapResults]
 * @value: (out caller-allocates): an uninitialized `GValue` for the result
 * @error: return location for a `GError`
 *
 * Gets the next result, in input order, blocking until it is ready.
 *
 * Returns: %TRUE with @value set to the next result; %FALSE when the
 *   results are exhausted (@value then holds a %NULL pointer), with @error
 *   set if the item at this position failed, was cancelled, or the map's
 *   deadline passed (`G_IO_ERROR_TIMED_OUT`). After an error, the results
 *   are exhausted.
 *
 * Since: 0.1
 */
static gboolean
next_result (ConcurryMapResults  *self,
             GValue              *value,
             GError             **error)
{
  while (!is_finished (self))
    {
      g_autoptr(ConcurryFuture) head = NULL;
      GError *local_error = NULL;
      GArray *outcomes;
      gboolean closed;

      if (self->current != NULL && self->position < self->current->len)
        {
          Outcome *outcome = &g_array_index (self->current, Outcome, self->position++);

          if (outcome->error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&outcome->error));
              finish (self);
              g_clear_pointer (&self->current, g_array_unref);
              return FALSE;
            }

          /* Moved out: each result is given once. */
          *value = outcome->value;
          memset (&outcome->value, 0, sizeof outcome->value);
          if (G_VALUE_TYPE (value) == G_TYPE_INVALID)
            {
              /* The function returned no value: give a NULL pointer. */
              g_value_init (value, G_TYPE_POINTER);
            }
          return TRUE;
        }

      g_clear_pointer (&self->current, g_array_unref);

      g_mutex_lock (&self->mutex);
      head = g_queue_pop_head (&self->in_flight);
      if (head == NULL)
        self->finished = TRUE;
      else
        self->waiting = g_object_ref (head);
      g_mutex_unlock (&self->mutex);

      if (head == NULL)
        {
          if (self->input_error != NULL)
            g_propagate_error (error, g_steal_pointer (&self->input_error));
          else if (self->submit_error != NULL)
            g_propagate_error (error, g_steal_pointer (&self->submit_error));
          return FALSE;
        }

      /* Keep the executor busy while we wait: replace what we consume. */
      fill (self);

      concurry_future_wait_until (head, self->deadline, &local_error);

      g_mutex_lock (&self->mutex);
      g_clear_object (&self->waiting);
      closed = self->finished;
      g_mutex_unlock (&self->mutex);

      /* Closed from another thread while we waited. */
      if (closed)
        {
          g_clear_error (&local_error);
          return FALSE;
        }

      if (local_error != NULL)
        {
          /* Timed out (or the item failed): this item too is cancelled. */
          concurry_future_cancel (head);
          g_propagate_error (error, local_error);
          finish (self);
          return FALSE;
        }

      outcomes = concurry_future_get_boxed (head);
      self->current = g_array_ref (outcomes);
      self->position = 0;
    }

  return FALSE;
}

gboolean
concurry_map_results_next (ConcurryMapResults  *self,
                           GValue              *value,
                           GError             **error)
{
  g_return_val_if_fail (CONCURRY_IS_MAP_RESULTS (self), FALSE);
  g_return_val_if_fail (value != NULL && G_VALUE_TYPE (value) == G_TYPE_INVALID, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (next_result (self, value, error))
    return TRUE;

  /* Bindings read @value whatever the outcome: leave a valid one. */
  g_value_init (value, G_TYPE_POINTER);
  return FALSE;
}

/**
 * concurry_map_results_close:
 * @self: a [class@Concurry.MapResults]
 *
 * Stops the map early: the work not consumed yet is cancelled (what has
 * not started never starts) and the results are exhausted. It may be
 * called from any thread, also while another one waits in
 * [method@Concurry.MapResults.next], which then returns %FALSE. The
 * other functions are for the one thread consuming the results.
 *
 * Since: 0.1
 */
void
concurry_map_results_close (ConcurryMapResults *self)
{
  g_return_if_fail (CONCURRY_IS_MAP_RESULTS (self));

  finish (self);
}

/**
 * concurry_map_results_next_value:
 * @self: a [class@Concurry.MapResults]
 * @error: return location for a `GError`
 *
 * Returns the next result like [method@Concurry.MapResults.next], in a
 * newly allocated `GValue`. This is the shape of the iterator protocols of
 * some languages: Vala's `foreach (var v in results)` calls it.
 *
 * Returns: (transfer full) (nullable): the next result, to free with
 *   `g_boxed_free (G_TYPE_VALUE, value)`, or %NULL once the results are
 *   exhausted, closed or failed (then @error is set)
 *
 * Since: 0.2
 */
GValue *
concurry_map_results_next_value (ConcurryMapResults  *self,
                                 GError             **error)
{
  GValue *value;

  g_return_val_if_fail (CONCURRY_IS_MAP_RESULTS (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  value = g_new0 (GValue, 1);
  if (next_result (self, value, error))
    return value;

  g_free (value);
  return NULL;
}
