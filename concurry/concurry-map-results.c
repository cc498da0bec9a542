/* concurry-map-results.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"
#include "concurry-i18n-private.h"
#include "concurry-executor-private.h"
#include "concurry-map-results-private.h"
#include "concurry-platform-private.h"
#include "concurry-runner-private.h"
#include "concurry-work-queue-private.h"

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
 * Every item of the input runs, unless the map is stopped: dropping the
 * results without closing them lets the rest of the input run (read as
 * the work completes, with at most the same number of chunks in flight,
 * and its results thrown away), and shutting the executor down waits for
 * it, as `concurrent.futures` does. A map whose results are still held
 * when the executor is shut down goes on as they are read, also after the
 * shutdown (which waits for what the map submitted, not for input it has
 * not read yet: that may be endless). Only
 * [method@Concurry.MapResults.close], a failure, the deadline, or
 * shutting the executor down with `cancel_futures` stop a map early. An
 * input written in JavaScript, or an executor that is not one of
 * concurry's, is only read by the thread consuming the results: there,
 * dropping the results closes them.
 *
 * Since: 0.1
 */

/* What the workers share: the map function, or a runner and its data. */
typedef struct
{
  gatomicrefcount ref_count;
  ConcurryMapFunc func;
  gpointer        data;
  GDestroyNotify  destroy;
  ConcurryRunner *runner;
  GValue          runner_data;
  int             input_hint;   /* atomic: see concurry_map_input_hint() */
} MapFunc;

/* A binding's items quicker than this travel together in one input. */
#define QUICK_INPUT_USEC 20
#define MAX_INPUT_HINT   16

/* The runner map whose input function runs on this thread, if any. */
static GPrivate current_input = G_PRIVATE_INIT (NULL);

typedef struct
{
  GValue  value;
  GError *error;
} Outcome;

typedef struct MapState MapState;

/* The outcomes of a submitted chunk, in input order, as its items end
 * (each preceded by the parts its runner handed over, see
 * concurry_work_batch_return_part()): the worker appends them and the
 * consumer takes all those there at once, each under @mutex, so that no
 * result waits for the later items of its chunk, which may wait for
 * somebody reading it. */
typedef struct
{
  gatomicrefcount  ref_count;
  GMutex           mutex;
  GArray          *outcomes;   /* of Outcome, not taken yet */
  gboolean         done;       /* the chunk's future completed */
  ConcurryPromise *wake;       /* resolved on news, if the consumer waits */
  ConcurryFuture  *future;     /* the chunk's: set once it is submitted */
  MapState        *state;      /* held by the chunk's done callback */
} Stream;

/* What a runner gave for an item of its batch before the items ahead of
 * it ended: its parts, then its end. */
typedef struct
{
  GArray  *outcomes;   /* of Outcome */
  gboolean ended;
} Held;

/* One submitted piece of work: @n items in, their outcomes to @stream. */
typedef struct
{
  MapFunc *map;
  Stream  *stream;
  GValue  *items;
  guint    n;
  guint    n_ended;            /* items that ended (parts not counted) */
  gboolean failed;             /* a failure was given: nothing more is */

  /* The runner's batch running now: its outcomes go in the items' order */
  guint    next;               /* the first item of the batch not ended */
  Held    *held;               /* CONCURRY_RUNNER_MAX_BATCH, if needed */
} Chunk;

enum {
  MODE_CONSUMER,           /* input read as results are consumed */
  MODE_OUTLIVES_SHUTDOWN,  /* the same, the executor shut down meanwhile */
  MODE_DETACHED,           /* results dropped: read as work completes */
};

/* The consumer's outcomes, taken from a stream: read without a lock. */
typedef struct
{
  GArray *outcomes;    /* of Outcome */
  guint   position;    /* the next one to give */
} Taken;

/* The state of a map, which outlives the results object while a dropped
 * map still runs. */
struct MapState
{
  gatomicrefcount    ref_count;

  ConcurryExecutor  *executor;
  ConcurryWorkQueue *queue;         /* concurry's executors: for shutdown */
  MapFunc           *map;
  ConcurryInputFunc  input;
  gpointer           input_data;
  GDestroyNotify     input_destroy;
  gint64             deadline;
  guint              chunksize;
  guint              max_in_flight;
  gboolean           can_detach;    /* input may be read on any thread */

  /* Reading the input is serialized by @feeding: whoever sets it reads
   * (@input_done, @input_error, @submit_error are theirs); the others
   * set @feed_again and leave, never waiting with user code running. */
  int                feeding;       /* atomic */
  int                feed_again;    /* atomic */
  int                input_done;    /* atomic */
  GError            *submit_error;
  GError            *input_error;
  int                reserved;      /* atomic: holds a reservation of @queue */
  gboolean           outlives_shutdown; /* may submit after shutdown */
  int                n_unfinished;  /* atomic: submitted chunks not done */

  /* Under @mutex, which is never held while user code runs or while
   * waiting. */
  GMutex             mutex;
  int                mode;
  GQueue             in_flight;     /* of Stream, input order */
  Stream            *reading;       /* the chunk next() reads (set by it) */
  gboolean           finished;
  gboolean           stopped;       /* no more input is read */

  /* The consumer's */
  Taken              taken;         /* outcomes of @reading */
  GValue             payload;       /* of the error last reported */
};

struct _ConcurryMapResults
{
  GObject   parent_instance;
  MapState *state;
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
      g_clear_object (&map->runner);
      if (G_IS_VALUE (&map->runner_data))
        g_value_unset (&map->runner_data);
      g_free (map);
    }
}

static void
outcome_clear (gpointer data)
{
  Outcome *outcome = data;

  if (G_IS_VALUE (&outcome->value))
    g_value_unset (&outcome->value);
  g_clear_error (&outcome->error);
}

static Stream *
stream_new (void)
{
  Stream *stream = g_new0 (Stream, 1);

  g_atomic_ref_count_init (&stream->ref_count);
  g_mutex_init (&stream->mutex);
  stream->outcomes = g_array_new (FALSE, FALSE, sizeof (Outcome));
  g_array_set_clear_func (stream->outcomes, outcome_clear);

  return stream;
}

static Stream *
stream_ref (Stream *stream)
{
  g_atomic_ref_count_inc (&stream->ref_count);
  return stream;
}

/* Resolves @wake, taken: the consumer waiting on it looks again. */
static void
wake_up (ConcurryPromise *wake)
{
  if (wake != NULL)
    {
      concurry_promise_resolve (wake, NULL);
      g_object_unref (wake);
    }
}

static void
stream_unref (gpointer data)
{
  Stream *stream = data;

  if (!g_atomic_ref_count_dec (&stream->ref_count))
    return;

  /* Resolved, not abandoned: nobody waits any more. */
  wake_up (g_steal_pointer (&stream->wake));
  g_array_unref (stream->outcomes);
  g_clear_object (&stream->future);
  g_mutex_clear (&stream->mutex);
  g_free (stream);
}

/* Gives the consumer @n outcomes (taken), and with @end the news that
 * the chunk's future completed: no more are read from @stream then. */
static void
stream_give (Stream        *stream,
             const Outcome *outcomes,
             guint          n,
             gboolean       end)
{
  ConcurryPromise *wake;

  g_mutex_lock (&stream->mutex);
  g_array_append_vals (stream->outcomes, outcomes, n);
  if (end)
    stream->done = TRUE;
  wake = g_steal_pointer (&stream->wake);
  g_mutex_unlock (&stream->mutex);

  wake_up (wake);
}

typedef enum {
  TAKE_OUTCOME,
  TAKE_ENDED,     /* all taken, and the chunk's future completed */
  TAKE_TIMED_OUT,
} Take;

/* On the consumer: takes the next outcome of @stream into @outcome (from
 * @taken, refilled with all that are there), waiting until @until (or for
 * ever if negative) for one. The wait is a future's, which iterates the
 * thread's own main context (work of a main-context executor may need
 * it). */
static Take
stream_take (Stream   *stream,
             Taken    *taken,
             gint64    until,
             Outcome  *outcome,
             gboolean *waited)
{
  for (;;)
    {
      ConcurryPromise *wake;

      if (taken->position < taken->outcomes->len)
        {
          Outcome *next = &g_array_index (taken->outcomes, Outcome, taken->position++);

          /* Moved out: each result is given once. */
          *outcome = *next;
          memset (next, 0, sizeof *next);
          return TAKE_OUTCOME;
        }

      g_mutex_lock (&stream->mutex);
      if (stream->outcomes->len > 0)
        {
          /* All of them, in exchange for the emptied array. */
          GArray *given = stream->outcomes;

          g_array_set_size (taken->outcomes, 0);
          stream->outcomes = taken->outcomes;
          taken->outcomes = given;
          taken->position = 0;
          g_mutex_unlock (&stream->mutex);
          continue;
        }
      if (stream->done)
        {
          g_mutex_unlock (&stream->mutex);
          return TAKE_ENDED;
        }
      if (until >= 0 && g_get_monotonic_time () >= until)
        {
          g_mutex_unlock (&stream->mutex);
          return TAKE_TIMED_OUT;
        }
      if (stream->wake == NULL)
        stream->wake = concurry_promise_new ();
      wake = g_object_ref (stream->wake);
      g_mutex_unlock (&stream->mutex);

      concurry_future_wait_until (CONCURRY_FUTURE (wake), until, NULL);
      g_object_unref (wake);
      *waited = TRUE;
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
  stream_unref (chunk->stream);
  g_free (chunk->held);
  g_free (chunk);
}

/* Gives @outcome (taken: emptied) to the consumer, unless a failure was
 * given. */
static void
chunk_give (Chunk   *chunk,
            Outcome *outcome)
{
  if (chunk->failed)
    {
      outcome_clear (outcome);
      return;
    }
  if (outcome->error != NULL)
    chunk->failed = TRUE;
  stream_give (chunk->stream, outcome, 1, FALSE);
  memset (outcome, 0, sizeof *outcome);
}

/* The sink of a runner's batch: each outcome goes to the consumer as the
 * runner gives it, in the items' order: what an item gives before the
 * items ahead of it ended (a runner may end them in any order) is held
 * until they did. */
static void
chunk_sink (gpointer  data,
            guint     index,
            GValue   *value,
            GError   *error,
            gboolean  part)
{
  Chunk *chunk = data;
  Outcome outcome = { G_VALUE_INIT, error };

  if (value != NULL)
    {
      outcome.value = *value;
      memset (value, 0, sizeof *value);
    }
  if (!part)
    chunk->n_ended++;

  if (index != chunk->next)
    {
      Held *held;

      if (chunk->held == NULL)
        chunk->held = g_new0 (Held, CONCURRY_RUNNER_MAX_BATCH);
      held = &chunk->held[index];
      if (held->outcomes == NULL)
        {
          held->outcomes = g_array_new (FALSE, FALSE, sizeof (Outcome));
          g_array_set_clear_func (held->outcomes, outcome_clear);
        }
      g_array_append_val (held->outcomes, outcome);
      held->ended = !part;
      return;
    }

  chunk_give (chunk, &outcome);
  if (part)
    return;

  /* Then what the items after it gave, up to one still running. */
  for (chunk->next++; chunk->held != NULL && chunk->next < CONCURRY_RUNNER_MAX_BATCH;
       chunk->next++)
    {
      Held *held = &chunk->held[chunk->next];
      gboolean ended = held->ended;

      if (held->outcomes != NULL)
        {
          for (guint i = 0; i < held->outcomes->len; i++)
            chunk_give (chunk, &g_array_index (held->outcomes, Outcome, i));
          g_array_set_size (held->outcomes, 0);   /* emptied: nothing to clear */
        }
      if (!ended)
        break;
      held->ended = FALSE;
    }
}

/* The runner's batch is over: every item of it was given an outcome. */
static void
chunk_end_batch (Chunk *chunk)
{
  if (chunk->held != NULL)
    for (guint i = 0; i < CONCURRY_RUNNER_MAX_BATCH; i++)
      {
        g_clear_pointer (&chunk->held[i].outcomes, g_array_unref);
        chunk->held[i].ended = FALSE;
      }
  chunk->next = 0;
}

/* A runner's part of a chunk: up to CONCURRY_RUNNER_MAX_BATCH items in one
 * call, their outcomes streamed to the consumer. Returns FALSE once an
 * item failed (or was not run). */
static gboolean
run_with_runner (Chunk        *chunk,
                 guint         first,
                 guint         n,
                 GCancellable *cancellable,
                 gint64       *busy_usec)
{
  gint64 busy = 0;

  _concurry_runner_run_values (chunk->map->runner,
                               G_IS_VALUE (&chunk->map->runner_data) ? &chunk->map->runner_data : NULL,
                               &chunk->items[first], n, cancellable, NULL, NULL,
                               chunk_sink, chunk, &busy);
  chunk_end_batch (chunk);
  *busy_usec += busy;

  return !chunk->failed;
}

/* Inputs that ran quickly (for the items they hold) grow the hint, up to
 * MAX_INPUT_HINT; a slow one brings it back to 1, so that slow items run
 * in parallel, one input each. Before the chunk is done: the next input
 * read after a result was consumed sees the new hint. */
static void
update_input_hint (MapFunc *map,
                   gint64   usec_per_input)
{
  int hint = g_atomic_int_get (&map->input_hint);

  if (usec_per_input < (gint64)QUICK_INPUT_USEC * hint)
    g_atomic_int_set (&map->input_hint, MIN (2 * hint, MAX_INPUT_HINT));
  else
    g_atomic_int_set (&map->input_hint, 1);
}

/* A forwarding runner's time says nothing of its items (see
 * ConcurryRunner:forwarding): the hint doubles with each chunk done, so
 * that a short input runs one item per input, in parallel, and a long one
 * travels in inputs of MAX_INPUT_HINT items, as if they were quick. */
static void
grow_input_hint (MapFunc *map)
{
  int hint = g_atomic_int_get (&map->input_hint);

  if (hint < MAX_INPUT_HINT)
    g_atomic_int_set (&map->input_hint, MIN (2 * hint, MAX_INPUT_HINT));
}

/* Runs on a worker: the map function over the items of the chunk, until
 * the first failure. A runner's outcomes go to the consumer as they come
 * (a binding's input may hold several of its items, one of which may wait
 * for somebody reading another); a function's go together at the end of
 * the chunk, as concurrent.futures gives a process pool's chunks: handing
 * quick items over one by one would cost the consumer a wake-up each. */
static void
chunk_work (GCancellable  *cancellable,
            GValue        *result,
            gpointer       user_data,
            GError       **error)
{
  Chunk *chunk = user_data;
  GArray *outcomes;

  /* The outcomes travel by the stream; an executor of a binding may need a
   * value to complete the chunk's future with. */
  g_value_init (result, G_TYPE_POINTER);

  if (chunk->map->runner != NULL)
    {
      gint64 busy = 0;

      for (guint i = 0; i < chunk->n; i += CONCURRY_RUNNER_MAX_BATCH)
        if (!run_with_runner (chunk, i, MIN (CONCURRY_RUNNER_MAX_BATCH, chunk->n - i),
                              cancellable, &busy))
          break;
      /* Measured from the first item started: see
       * _concurry_runner_run_values(). */
      if (_concurry_runner_is_forwarding (chunk->map->runner))
        grow_input_hint (chunk->map);
      else if (chunk->n_ended > 0)
        update_input_hint (chunk->map, busy / chunk->n_ended);
      return;
    }

  outcomes = g_array_sized_new (FALSE, TRUE, sizeof (Outcome), chunk->n);
  g_array_set_clear_func (outcomes, outcome_clear);
  for (guint i = 0; i < chunk->n; i++)
    {
      Outcome outcome = { G_VALUE_INIT, NULL };

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          g_array_unref (outcomes);
          return;
        }

      chunk->map->func (&chunk->items[i], cancellable, &outcome.value, chunk->map->data,
                        &outcome.error);
      if (outcome.error != NULL && G_IS_VALUE (&outcome.value))
        g_value_unset (&outcome.value);
      g_array_append_val (outcomes, outcome);
      if (outcome.error != NULL)
        break;
    }
  stream_give (chunk->stream, (Outcome *)outcomes->data, outcomes->len, FALSE);
  /* moved: not cleared with the array */
  g_array_set_clear_func (outcomes, NULL);
  g_array_unref (outcomes);
}

static MapState *
state_ref (MapState *state)
{
  g_atomic_ref_count_inc (&state->ref_count);
  return state;
}

static void
state_unref (gpointer data)
{
  MapState *state = data;

  if (!g_atomic_ref_count_dec (&state->ref_count))
    return;

  g_assert (state->in_flight.length == 0);
  g_clear_pointer (&state->reading, stream_unref);
  g_array_unref (state->taken.outcomes);
  if (G_IS_VALUE (&state->payload))
    g_value_unset (&state->payload);
  g_clear_error (&state->submit_error);
  g_clear_error (&state->input_error);
  g_mutex_clear (&state->mutex);
  if (state->input_destroy != NULL)
    state->input_destroy (state->input_data);
  map_func_unref (state->map);
  g_object_unref (state->executor);
  g_free (state);
}

/* Gives back the reservation once nothing more will be submitted: the
 * submitted chunks keep a shutdown waiting by themselves. */
static void
release_reservation (MapState *state)
{
  if (g_atomic_int_compare_and_exchange (&state->reserved, TRUE, FALSE))
    {
      _concurry_work_queue_remove_map (state->queue, state);
      _concurry_work_queue_unreserve (state->queue);
    }
}

static int
get_mode (MapState *state)
{
  int mode;

  g_mutex_lock (&state->mutex);
  mode = state->finished ? -1 : state->mode;
  g_mutex_unlock (&state->mutex);

  return mode;
}

static void feed (MapState *state);
static gboolean is_stopped (MapState *state);

/* A chunk is done (inline, on the thread that completed it). */
static void
chunk_done (ConcurryFuture *future,
            gpointer        data)
{
  Stream *stream = data;
  MapState *state = stream->state;

  stream_give (stream, NULL, 0, TRUE);
  g_atomic_int_add (&state->n_unfinished, -1);
  if (get_mode (state) == MODE_DETACHED)
    feed (state);
}

static void
chunk_done_free (gpointer data)
{
  Stream *stream = data;

  state_unref (stream->state);
  stream_unref (stream);
}

/* Whether one more chunk may be submitted now. */
static gboolean
has_room (MapState *state)
{
  gboolean room;

  g_mutex_lock (&state->mutex);
  if (state->finished || state->stopped)
    room = FALSE;
  else if (state->mode == MODE_DETACHED)
    room = (guint)g_atomic_int_get (&state->n_unfinished) < state->max_in_flight;
  else
    room = state->in_flight.length < state->max_in_flight;
  g_mutex_unlock (&state->mutex);

  return room;
}

/* Calls the input function; a runner map's is told its hint. */
static gboolean
read_input (MapState *state,
            GValue   *item)
{
  gpointer previous;
  gboolean ret;

  if (state->map->runner == NULL)
    return state->input (item, state->input_data, &state->input_error);

  previous = g_private_get (&current_input);
  g_private_set (&current_input, state->map);
  ret = state->input (item, state->input_data, &state->input_error);
  g_private_set (&current_input, previous);

  return ret;
}

/* Reads up to a chunk of input and submits it. FALSE once nothing more
 * can be submitted. Called by the feeder only. */
static gboolean
submit_chunk (MapState *state)
{
  Chunk *chunk;
  Stream *stream;
  ConcurryFuture *future;
  guint allocated;
  gboolean keep;

  if (g_atomic_int_get (&state->input_done) || state->submit_error != NULL)
    return FALSE;

  g_assert (state->input_error == NULL);

  /* Grown as items come: a huge chunk size costs nothing up front. */
  allocated = MIN (state->chunksize, 64);
  chunk = g_new0 (Chunk, 1);
  chunk->items = g_new0 (GValue, allocated);
  for (;;)
    {
      if (chunk->n == allocated)
        {
          if (allocated == state->chunksize)
            break;
          allocated = (guint)MIN ((guint64)state->chunksize, 2 * (guint64)allocated);
          chunk->items = g_renew (GValue, chunk->items, allocated);
          memset (&chunk->items[chunk->n], 0, (allocated - chunk->n) * sizeof (GValue));
        }
      if (!read_input (state, &chunk->items[chunk->n]))
        {
          g_atomic_int_set (&state->input_done, TRUE);
          /* A binding may leave a value behind with its error. */
          if (G_IS_VALUE (&chunk->items[chunk->n]))
            g_value_unset (&chunk->items[chunk->n]);
          break;
        }
      chunk->n++;
    }

  if (chunk->n == 0)
    {
      g_free (chunk->items);
      g_free (chunk);
      return FALSE;
    }

  chunk->map = map_func_ref (state->map);
  stream = stream_new ();
  chunk->stream = stream_ref (stream);
  if (state->queue != NULL)
    future = (ConcurryFuture *)_concurry_work_queue_submit (state->queue, state->executor,
                                                            chunk_work, chunk, chunk_free,
                                                            g_atomic_int_get (&state->reserved) ||
                                                            state->outlives_shutdown,
                                                            &state->submit_error);
  else
    future = concurry_executor_submit (state->executor, chunk_work, chunk, chunk_free,
                                       &state->submit_error);
  if (future == NULL)
    {
      stream_unref (stream);
      return FALSE;
    }

  stream->future = future;
  stream->state = state_ref (state);
  g_atomic_int_inc (&state->n_unfinished);
  concurry_future_add_done_callback_direct (future, chunk_done, stream_ref (stream),
                                            chunk_done_free);

  g_mutex_lock (&state->mutex);
  keep = !state->finished && state->mode != MODE_DETACHED;
  if (keep)
    g_queue_push_tail (&state->in_flight, stream);
  g_mutex_unlock (&state->mutex);

  if (keep)
    return TRUE;

  /* Detached: nobody reads the results. Or closed meanwhile. */
  if (get_mode (state) == -1)
    concurry_future_cancel (future);
  stream_unref (stream);
  return get_mode (state) == MODE_DETACHED;
}

/* Reads and submits input while there is room, unless another thread is
 * at it: then that one goes on. */
static void
feed (MapState *state)
{
  state_ref (state);
  g_atomic_int_set (&state->feed_again, TRUE);
  while (g_atomic_int_get (&state->feed_again) &&
         g_atomic_int_compare_and_exchange (&state->feeding, FALSE, TRUE))
    {
      g_atomic_int_set (&state->feed_again, FALSE);
      while (has_room (state) && submit_chunk (state))
        ;
      if (g_atomic_int_get (&state->input_done) || state->submit_error != NULL ||
          get_mode (state) == -1 || is_stopped (state))
        release_reservation (state);
      g_atomic_int_set (&state->feeding, FALSE);
    }
  state_unref (state);
}

/* Cancels and drops everything not consumed yet, including the item
 * next() may be waiting for on another thread. */
static void
finish (MapState *state)
{
  GQueue dropped = G_QUEUE_INIT;
  Stream *reading;
  Stream *stream;

  g_mutex_lock (&state->mutex);
  state->finished = TRUE;
  dropped = state->in_flight;
  g_queue_init (&state->in_flight);
  reading = state->reading ? stream_ref (state->reading) : NULL;
  g_mutex_unlock (&state->mutex);

  /* Its future's completion wakes next() up. */
  if (reading != NULL)
    {
      concurry_future_cancel (reading->future);
      stream_unref (reading);
    }
  while ((stream = g_queue_pop_head (&dropped)) != NULL)
    {
      concurry_future_cancel (stream->future);
      stream_unref (stream);
    }

  /* No more input will be read (a feeder at work gives it back itself). */
  if (g_atomic_int_compare_and_exchange (&state->feeding, FALSE, TRUE))
    {
      release_reservation (state);
      g_atomic_int_set (&state->feeding, FALSE);
    }
}

static gboolean
is_stopped (MapState *state)
{
  gboolean stopped;

  g_mutex_lock (&state->mutex);
  stopped = state->stopped;
  g_mutex_unlock (&state->mutex);

  return stopped;
}

static gboolean
is_finished (MapState *state)
{
  return get_mode (state) == -1;
}

/* No more input is read and the work that has not started is cancelled,
 * as shutdown with cancel_futures does to every queued item; the results
 * read afterwards give what ran, then the first cancelled item's
 * cancellation. */
static void
stop (MapState *state)
{
  GPtrArray *pending = g_ptr_array_new_with_free_func (g_object_unref);

  g_mutex_lock (&state->mutex);
  state->stopped = TRUE;
  for (GList *l = state->in_flight.head; l != NULL; l = l->next)
    g_ptr_array_add (pending, g_object_ref (((Stream *)l->data)->future));
  g_mutex_unlock (&state->mutex);

  for (guint i = 0; i < pending->len; i++)
    concurry_future_cancel_pending (pending->pdata[i]);
  g_ptr_array_unref (pending);

  if (g_atomic_int_compare_and_exchange (&state->feeding, FALSE, TRUE))
    {
      release_reservation (state);
      g_atomic_int_set (&state->feeding, FALSE);
    }
}

/* The executor is shut down: with cancel_futures the rest is cancelled.
 * Otherwise a dropped map goes on, and shutdown waits for it; a map whose
 * results are held goes on as they are read (shutdown waits for what it
 * submitted, not for the input it has not read: that may be endless). */
static void
on_shutdown (gpointer data,
             gboolean cancel_futures)
{
  MapState *state = data;

  if (cancel_futures)
    {
      stop (state);
      return;
    }

  g_mutex_lock (&state->mutex);
  if (state->mode == MODE_CONSUMER)
    {
      state->mode = MODE_OUTLIVES_SHUTDOWN;
      state->outlives_shutdown = TRUE;
    }
  g_mutex_unlock (&state->mutex);
  if (get_mode (state) == MODE_OUTLIVES_SHUTDOWN)
    release_reservation (state);
}

/* The results are dropped: the rest of the input still runs, if it can be
 * read from any thread; otherwise the map stops. */
static void
concurry_map_results_dispose (GObject *object)
{
  ConcurryMapResults *self = (ConcurryMapResults *)object;
  MapState *state = self->state;
  GQueue dropped = G_QUEUE_INIT;
  Stream *stream;

  if (state == NULL)
    goto out;

  if (!state->can_detach || is_finished (state))
    {
      finish (state);
      goto out;
    }

  /* The results already computed are dropped, not cancelled. */
  g_mutex_lock (&state->mutex);
  state->mode = MODE_DETACHED;
  dropped = state->in_flight;
  g_queue_init (&state->in_flight);
  stream = g_steal_pointer (&state->reading);
  g_mutex_unlock (&state->mutex);
  if (stream != NULL)
    stream_unref (stream);
  g_array_set_size (state->taken.outcomes, 0);
  while ((stream = g_queue_pop_head (&dropped)) != NULL)
    stream_unref (stream);

  feed (state);

out:
  g_clear_pointer (&self->state, state_unref);
  G_OBJECT_CLASS (concurry_map_results_parent_class)->dispose (object);
}

static void
concurry_map_results_class_init (ConcurryMapResultsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = concurry_map_results_dispose;
}

static void
concurry_map_results_init (ConcurryMapResults *self)
{
}

ConcurryMapResults *
_concurry_map_results_new (ConcurryExecutor   *executor,
                           ConcurryMapFunc     func,
                           gpointer            func_data,
                           GDestroyNotify      func_destroy,
                           ConcurryRunner     *runner,
                           const GValue       *runner_data,
                           ConcurryInputFunc   input,
                           gpointer            input_data,
                           GDestroyNotify      input_destroy,
                           gint64              deadline,
                           guint               chunksize,
                           guint               max_in_flight,
                           GError            **error)
{
  ConcurryMapResults *self;
  ConcurryWorkQueue *queue = _concurry_executor_get_work_queue (executor);
  MapState *state;

  if (queue != NULL ? !_concurry_work_queue_reserve (queue, error)
                    : concurry_executor_is_shutdown (executor))
    {
      if (queue == NULL)
        _concurry_executor_set_shut_down_error (error);
      if (func_destroy != NULL)
        func_destroy (func_data);
      if (input_destroy != NULL)
        input_destroy (input_data);
      return NULL;
    }

  state = g_new0 (MapState, 1);
  g_atomic_ref_count_init (&state->ref_count);
  g_mutex_init (&state->mutex);
  g_queue_init (&state->in_flight);
  state->taken.outcomes = g_array_new (FALSE, FALSE, sizeof (Outcome));
  g_array_set_clear_func (state->taken.outcomes, outcome_clear);
  state->executor = g_object_ref (executor);
  state->queue = queue;
  state->reserved = queue != NULL;
  state->map = g_new0 (MapFunc, 1);
  g_atomic_ref_count_init (&state->map->ref_count);
  state->map->func = func;
  state->map->input_hint = 1;
  state->map->data = func_data;
  state->map->destroy = func_destroy;
  if (runner != NULL)
    {
      state->map->runner = g_object_ref (runner);
      if (runner_data != NULL)
        {
          g_value_init (&state->map->runner_data, G_VALUE_TYPE (runner_data));
          g_value_copy (runner_data, &state->map->runner_data);
        }
    }
  state->input = input;
  state->input_data = input_data;
  state->input_destroy = input_destroy;
  state->deadline = deadline;
  state->chunksize = chunksize;
  state->max_in_flight = max_in_flight;
  state->can_detach = queue != NULL && !_concurry_platform_func_is_javascript ((gpointer)input);

  if (queue != NULL)
    _concurry_work_queue_add_map (queue, state_ref (state), on_shutdown, state_unref);

  self = g_object_new (CONCURRY_TYPE_MAP_RESULTS, NULL);
  self->state = state;

  /* Submitted at once, like concurrent.futures; the rest follows as the
   * results are consumed. */
  feed (state);

  return self;
}

/* The chunk being read is read (or dropped): on to the next one. */
static void
drop_reading (MapState *state)
{
  Stream *stream;

  g_mutex_lock (&state->mutex);
  stream = g_steal_pointer (&state->reading);
  g_mutex_unlock (&state->mutex);

  if (stream != NULL)
    stream_unref (stream);
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
next_result (MapState  *state,
             gint64     until,
             GValue    *value,
             gboolean  *timed_out,
             GError   **error)
{
  while (!is_finished (state))
    {
      Stream *stream = state->reading;
      Outcome outcome = { G_VALUE_INIT, NULL };
      GError *local_error = NULL;
      gboolean waited = FALSE;
      gint64 wait_until;

      if (stream == NULL)
        {
          g_mutex_lock (&state->mutex);
          stream = g_queue_pop_head (&state->in_flight);
          state->reading = stream;
          g_mutex_unlock (&state->mutex);

          if (stream == NULL)
            {
              /* Input still to read: read it, or let the thread reading
               * it (the executor is shutting down) get on with it. */
              if (!g_atomic_int_get (&state->input_done) && state->submit_error == NULL &&
                  !is_stopped (state))
                {
                  feed (state);
                  if (g_atomic_int_get (&state->feeding))
                    {
                      /* A poll does not wait for the other reader (a
                       * binding may hold a lock its input needs). */
                      if (until >= 0 && g_get_monotonic_time () >= until)
                        {
                          *timed_out = TRUE;
                          return FALSE;
                        }
                      g_thread_yield ();
                    }
                  continue;
                }

              g_mutex_lock (&state->mutex);
              state->finished = TRUE;
              g_mutex_unlock (&state->mutex);
              /* Stopped by shutdown with cancel_futures before the input
               * ran out: the rest was cancelled, say so. */
              if (!g_atomic_int_get (&state->input_done) && state->submit_error == NULL &&
                  state->input_error == NULL && is_stopped (state))
                {
                  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                       _("The map was cancelled by shutting its executor down"));
                  return FALSE;
                }
              if (state->input_error != NULL)
                g_propagate_error (error, g_steal_pointer (&state->input_error));
              else if (state->submit_error != NULL)
                g_propagate_error (error, g_steal_pointer (&state->submit_error));
              return FALSE;
            }

          /* Keep the executor busy while we wait: replace what we
           * consume. */
          feed (state);
        }

      wait_until = state->deadline;
      if (until >= 0 && (wait_until < 0 || until < wait_until))
        wait_until = until;

      switch (stream_take (stream, &state->taken, wait_until, &outcome, &waited))
        {
        case TAKE_OUTCOME:
          /* Closed from another thread while we waited. */
          if (waited && is_finished (state))
            {
              outcome_clear (&outcome);
              return FALSE;
            }
          if (outcome.error != NULL)
            {
              g_propagate_error (error, outcome.error);
              finish (state);
              drop_reading (state);
              return FALSE;
            }
          *value = outcome.value;
          if (G_VALUE_TYPE (value) == G_TYPE_INVALID)
            {
              /* The function returned no value: give a NULL pointer. */
              g_value_init (value, G_TYPE_POINTER);
            }
          return TRUE;

        case TAKE_ENDED:
          if (is_finished (state))
            return FALSE;
          /* Cancelled (by shutdown with cancel_futures) before it ran
           * its items, or failed as a whole. */
          if (!concurry_future_wait_until (stream->future, 0, &local_error))
            {
              g_propagate_error (error, local_error);
              finish (state);
              drop_reading (state);
              return FALSE;
            }
          drop_reading (state);
          break;

        case TAKE_TIMED_OUT:
        default:
          if (is_finished (state))
            return FALSE;
          if (until >= 0 && (state->deadline < 0 || until < state->deadline))
            {
              /* The caller's slice: the item stays first in line. */
              *timed_out = TRUE;
              return FALSE;
            }
          /* The map's deadline: this item too is cancelled. */
          concurry_future_cancel (stream->future);
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("Timed out waiting for the future"));
          finish (state);
          drop_reading (state);
          return FALSE;
        }
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

  return concurry_map_results_next_until (self, -1, value, NULL, error);
}

/**
 * concurry_map_results_next_until:
 * @self: a [class@Concurry.MapResults]
 * @deadline_usec: when to stop waiting, in the monotonic time of
 *   `g_get_monotonic_time()`, or a negative value for no other limit than
 *   the map's deadline
 * @value: (out caller-allocates): an uninitialized `GValue` for the result
 * @timed_out: (out) (optional): set to whether @deadline_usec passed
 * @error: return location for a `GError`
 *
 * Like [method@Concurry.MapResults.next], but waits at most until
 * @deadline_usec as well. When that deadline passes first, this returns
 * %FALSE with no error and @timed_out set, and the map goes on: the next
 * call gives the same item. Language bindings wait in slices like this,
 * to let their own interruptions through.
 *
 * Returns: %TRUE with @value set to the next result, %FALSE otherwise
 *
 * Since: 0.2
 */
gboolean
concurry_map_results_next_until (ConcurryMapResults  *self,
                                 gint64               deadline_usec,
                                 GValue              *value,
                                 gboolean            *timed_out,
                                 GError             **error)
{
  gboolean local_timed_out = FALSE;
  GError *local_error = NULL;

  g_return_val_if_fail (CONCURRY_IS_MAP_RESULTS (self), FALSE);
  g_return_val_if_fail (value != NULL && G_VALUE_TYPE (value) == G_TYPE_INVALID, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (timed_out != NULL)
    *timed_out = FALSE;

  if (self->state == NULL)
    goto exhausted;

  if (next_result (self->state, deadline_usec, value, &local_timed_out, &local_error))
    return TRUE;

  if (local_error != NULL)
    {
      const GValue *payload = concurry_error_get_payload (local_error);

      if (G_IS_VALUE (&self->state->payload))
        g_value_unset (&self->state->payload);
      if (payload != NULL)
        {
          g_value_init (&self->state->payload, G_VALUE_TYPE (payload));
          g_value_copy (payload, &self->state->payload);
        }
      g_propagate_error (error, local_error);
    }

  if (timed_out != NULL)
    *timed_out = local_timed_out;

exhausted:
  /* Bindings read @value whatever the outcome: leave a valid one. */
  g_value_init (value, G_TYPE_POINTER);
  return FALSE;
}

/**
 * concurry_map_results_close:
 * @self: a [class@Concurry.MapResults]
 *
 * Stops the map early: the work not consumed yet is cancelled (what has
 * not started never starts), no more input is read, and the results are
 * exhausted. It may be called from any thread, also while another one
 * waits in [method@Concurry.MapResults.next], which then returns %FALSE.
 * The other functions are for the one thread consuming the results.
 *
 * Since: 0.1
 */
void
concurry_map_results_close (ConcurryMapResults *self)
{
  g_return_if_fail (CONCURRY_IS_MAP_RESULTS (self));

  finish (self->state);
}

/**
 * concurry_map_results_get_error_payload:
 * @self: a [class@Concurry.MapResults]
 *
 * Gets the payload of the error that [method@Concurry.MapResults.next]
 * last reported (see [func@Concurry.Error.set_payload]): a language
 * binding's exception object, which the binding's own conversion of the
 * error cannot carry.
 *
 * Returns: (nullable) (transfer none): the payload, or %NULL
 *
 * Since: 0.2
 */
const GValue *
concurry_map_results_get_error_payload (ConcurryMapResults *self)
{
  g_return_val_if_fail (CONCURRY_IS_MAP_RESULTS (self), NULL);

  if (self->state == NULL || !G_IS_VALUE (&self->state->payload))
    return NULL;
  return &self->state->payload;
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
  if (concurry_map_results_next_until (self, -1, value, NULL, error))
    return value;

  g_value_unset (value);
  g_free (value);
  return NULL;
}

/**
 * concurry_map_input_hint:
 *
 * Gets how many of its own items a language binding should put in the
 * input it is reading, when called from the input function of a map made
 * with [method@Concurry.Executor.map_with_runner].
 *
 * A binding whose input function costs an entry into its interpreter per
 * call reads several of its items into one input (a list, say) and its
 * runner runs them in turn, handing over what each returned with
 * [method@Concurry.WorkBatch.return_part] before it starts the next one
 * (so that no result waits for the rest of its input). How many is the
 * map's decision, made from how
 * long the runner took per input, counted from the start of its first
 * item (the wait for the interpreter's lock before it, long when several
 * workers share one interpreter, says nothing of the items): items
 * quicker than about 20 µs travel together, up to 16 in one input, so
 * that the interpreter is entered once for all of them; slower ones go
 * one per input, so that they run in parallel. The hint starts at 1 and
 * follows the items as they change; for a runner that forwards its items
 * (see [property@Concurry.Runner:forwarding]) it doubles with each chunk
 * done instead.
 *
 * Returns: the number of items to read into this input, at least 1; 1
 *   outside the input function of a map with a runner
 *
 * Since: 0.2
 */
guint
concurry_map_input_hint (void)
{
  MapFunc *map = g_private_get (&current_input);

  if (map == NULL)
    return 1;
  return (guint)MAX (1, g_atomic_int_get (&map->input_hint));
}
