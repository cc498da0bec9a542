/* fuzz-api.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A libFuzzer harness: reads its input as a program of public concurry
 * calls, one operation per byte (its arguments in the bytes after it), on
 * a small set of promises, resolved futures, executors (a thread pool and
 * a main-context executor), task managers over both (their tasks are
 * futures like the others) and combinators (wait, gather, any, race,
 * wait_future, as_completed, chains, timeouts). Calls are always valid:
 * what is fuzzed is the order and the interleaving with completions, on
 * the calling thread and on the pool's. Built with -Dfuzzing=true (clang,
 * ASan); tests/fuzz/corpus/ holds the seeds, which the normal suite
 * replays through fuzz-replay.c.
 *
 * At the end of an input every promise still held is cancelled, the pool
 * shut down and the main context run dry, so that each input leaves
 * nothing behind for the next.
 */

#include <concurry.h>

#include <stdint.h>

#define N_SLOTS 8

typedef struct
{
  const guint8 *data;
  gsize         size;
  gsize         pos;
} Input;

typedef struct
{
  ConcurryFuture   *futures[N_SLOTS];
  ConcurryPromise  *promises[N_SLOTS];
  GPtrArray        *all_promises;   /* every promise made, to end them */
  ConcurryExecutor *pool;
  ConcurryExecutor *main_executor;
  ConcurryTaskManager *managers[2]; /* over the pool, over the main executor */
  GPtrArray        *callback_ids;   /* of CallbackId */
  int               n_pending;      /* callbacks and chain steps due */
} State;

typedef struct
{
  ConcurryFuture *future;
  guint           id;
} CallbackId;

static guint8
next_byte (Input *input)
{
  if (input->pos >= input->size)
    return 0;
  return input->data[input->pos++];
}

static guint
next_below (Input *input,
            guint  n)
{
  return next_byte (input) % n;
}

static void
set_future (State          *state,
            guint           slot,
            ConcurryFuture *future)   /* transfer full, nullable */
{
  g_clear_object (&state->futures[slot]);
  state->futures[slot] = future;
}

static void
set_promise (State           *state,
             guint            slot,
             ConcurryPromise *promise)
{
  g_clear_object (&state->promises[slot]);
  state->promises[slot] = promise;
  g_ptr_array_add (state->all_promises, g_object_ref (promise));
  set_future (state, slot, g_object_ref (concurry_promise_get_future (promise)));
}

/* Up to N_SLOTS non-NULL futures, chosen by a bit mask. */
static guint
pick_futures (State          *state,
              Input          *input,
              ConcurryFuture *out[N_SLOTS])
{
  guint8 mask = next_byte (input);
  guint n = 0;

  for (guint i = 0; i < N_SLOTS; i++)
    if ((mask & (1u << i)) && state->futures[i] != NULL)
      out[n++] = state->futures[i];
  return n;
}

static gint64
small_timeout (Input *input)
{
  static const gint64 timeouts[] = { 0, 0, 1, 50, 500, -1 };

  return timeouts[next_below (input, G_N_ELEMENTS (timeouts))];
}

/* Callbacks */

static void
done_cb (ConcurryFuture *future,
         gpointer        user_data)
{
  g_assert (concurry_future_is_done (future));
}

static void
pending_done (gpointer user_data)
{
  State *state = user_data;

  state->n_pending--;
}

static void
step_value (ConcurryFuture  *future,
            GValue          *result,
            gpointer         user_data,
            GError         **error)
{
  g_value_init (result, G_TYPE_INT);
  g_value_set_int (result, 7);
}

static void
step_error (ConcurryFuture  *future,
            GValue          *result,
            gpointer         user_data,
            GError         **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "fuzz");
}

static void
step_map (const GValue  *value,
          GValue        *result,
          gpointer       user_data,
          GError       **error)
{
  g_value_init (result, G_TYPE_BOOLEAN);
  g_value_set_boolean (result, value != NULL);
}

static void
work_value (GCancellable  *cancellable,
            GValue        *value,
            gpointer       user_data,
            GError       **error)
{
  if (GPOINTER_TO_INT (user_data) % 3 == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "fuzz work");
      return;
    }
  g_value_init (value, G_TYPE_INT);
  g_value_set_int (value, GPOINTER_TO_INT (user_data));
}

static ConcurryExecutor *
get_pool (State *state)
{
  if (state->pool == NULL)
    state->pool = concurry_thread_pool_executor_new (2);
  return state->pool;
}

static ConcurryExecutor *
get_main_executor (State *state)
{
  if (state->main_executor == NULL)
    state->main_executor = concurry_main_context_executor_new (NULL);
  return state->main_executor;
}

/* A task manager over the pool or the main-context executor, made on
 * first use; fail-fast or not as @policy_bit says then. */
static ConcurryTaskManager *
get_manager (State    *state,
             gboolean  on_pool,
             gboolean  policy_bit)
{
  ConcurryTaskManager **manager = &state->managers[on_pool ? 0 : 1];

  if (*manager == NULL)
    {
      *manager = concurry_task_manager_new (on_pool ? get_pool (state) : get_main_executor (state),
                                            policy_bit ? CONCURRY_ERROR_POLICY_RAISE
                                                       : CONCURRY_ERROR_POLICY_IGNORE);
      concurry_task_manager_set_monitor_interval (*manager, 0);
    }
  return *manager;
}

static void
run_op (State *state,
        Input *input)
{
  guint slot = next_below (input, N_SLOTS);
  ConcurryFuture *some[N_SLOTS];
  guint n;

  switch (next_below (input, 24))
    {
    case 0:
      set_promise (state, slot, concurry_promise_new ());
      break;

    case 1:
      if (state->promises[slot] != NULL)
        concurry_promise_resolve_int (state->promises[slot], next_byte (input));
      break;

    case 2:
      if (state->promises[slot] != NULL)
        concurry_promise_reject_literal (state->promises[slot], G_IO_ERROR,
                                         G_IO_ERROR_FAILED, "fuzz");
      break;

    case 3:
      if (state->futures[slot] != NULL)
        concurry_future_cancel (state->futures[slot]);
      break;

    case 4:
      if (state->promises[slot] != NULL)
        concurry_promise_mark_running (state->promises[slot]);
      break;

    case 5:
      if (next_byte (input) & 1)
        set_future (state, slot, concurry_resolved_future_new_int (next_byte (input)));
      else
        set_future (state, slot, concurry_resolved_future_new_error_literal (G_IO_ERROR,
                                                                            G_IO_ERROR_FAILED,
                                                                            "fuzz"));
      break;

    case 6:
      n = pick_futures (state, input, some);
      set_future (state, slot, concurry_gather (some, n, next_byte (input) & 1
                                                         ? CONCURRY_GATHER_FLAGS_ALL_OUTCOMES
                                                         : CONCURRY_GATHER_FLAGS_NONE));
      break;

    case 7:
      n = pick_futures (state, input, some);
      set_future (state, slot, concurry_any (some, n));
      break;

    case 8:
      n = pick_futures (state, input, some);
      set_future (state, slot, concurry_race (some, n));
      break;

    case 9:
      n = pick_futures (state, input, some);
      set_future (state, slot, concurry_wait_future (some, n, next_below (input, 3)));
      break;

    case 10:
      {
        g_autoptr(GPtrArray) done = NULL;
        g_autoptr(GPtrArray) not_done = NULL;

        n = pick_futures (state, input, some);
        concurry_wait (some, n, next_below (input, 3), next_byte (input) & 1 ? 0 : 10,
                       &done, &not_done);
      }
      break;

    case 11:
      {
        g_autoptr(ConcurryAsCompleted) iter = NULL;
        guint steps = next_below (input, 4);

        n = pick_futures (state, input, some);
        iter = concurry_as_completed (some, n, 0);
        for (guint i = 0; i < steps; i++)
          {
            g_autoptr(GError) error = NULL;
            g_autoptr(ConcurryFuture) next = concurry_as_completed_next (iter, &error);

            if (next == NULL)
              break;
          }
      }
      break;

    case 12:
      if (state->futures[slot] != NULL)
        set_future (state, next_below (input, N_SLOTS),
                    concurry_future_with_timeout (state->futures[slot], small_timeout (input)));
      break;

    case 13:
      if (state->futures[slot] != NULL)
        {
          ConcurryFuture *chained = NULL;

          switch (next_below (input, 4))
            {
            case 0:
              chained = concurry_future_and_then (state->futures[slot],
                                                  next_byte (input) & 1 ? step_value : step_error,
                                                  NULL, NULL);
              break;
            case 1:
              chained = concurry_future_map (state->futures[slot], step_map, NULL, NULL);
              break;
            case 2:
              chained = concurry_future_catch_error (state->futures[slot], step_value, NULL, NULL);
              break;
            default:
              state->n_pending++;
              chained = concurry_future_finally_do (state->futures[slot], done_cb,
                                                    state, pending_done);
              break;
            }
          set_future (state, next_below (input, N_SLOTS), chained);
        }
      break;

    case 14:
    case 15:
      {
        g_autoptr(GError) error = NULL;
        guint8 how = next_byte (input);
        gpointer data = GINT_TO_POINTER (next_byte (input));
        ConcurryFuture *future;

        /* A quarter through a task manager: the task is the future. */
        if ((how & 6) == 6)
          future = (ConcurryFuture *)
            concurry_task_manager_submit (get_manager (state, how & 1, how & 8), work_value,
                                          data, NULL, &error);
        else
          future = concurry_executor_submit (how & 1 ? get_pool (state) : get_main_executor (state),
                                             work_value, data, NULL, &error);

        g_assert (future != NULL || error != NULL);
        if (future != NULL)
          set_future (state, slot, future);
      }
      break;

    case 16:
      {
        g_autoptr(GError) error = NULL;
        gboolean on_pool = next_byte (input) & 1;
        guint8 flags = next_byte (input);
        ConcurryTaskManager *manager = state->managers[on_pool ? 0 : 1];

        /* Waiting for the main-context executor from its own context runs
         * its work meanwhile; for the pool it waits for its threads. The
         * same for a task manager, whose cancel stops running tasks too. */
        if ((flags & 12) == 4 && manager != NULL)
          concurry_task_manager_cancel (manager);
        else if ((flags & 12) == 12 && manager != NULL)
          concurry_task_manager_shutdown (manager, flags & 1, flags & 2, &error);
        else
          concurry_executor_shutdown (on_pool ? get_pool (state) : get_main_executor (state),
                                      flags & 1, flags & 2, &error);
      }
      break;

    case 17:
      g_main_context_iteration (NULL, FALSE);
      break;

    case 18:
      if (state->futures[slot] != NULL)
        {
          CallbackId *callback = g_new (CallbackId, 1);

          callback->future = g_object_ref (state->futures[slot]);
          state->n_pending++;
          callback->id = concurry_future_add_done_callback (callback->future, done_cb,
                                                            state, pending_done);
          g_ptr_array_add (state->callback_ids, callback);
        }
      break;

    case 19:
      if (state->callback_ids->len > 0)
        {
          CallbackId *callback = g_ptr_array_index (state->callback_ids,
                                                    next_below (input, state->callback_ids->len));

          concurry_future_remove_done_callback (callback->future, callback->id);
        }
      break;

    case 20:
      if (state->futures[slot] != NULL)
        {
          g_autoptr(GError) error = NULL;

          /* Never for ever: a promise nobody completes would hang. */
          concurry_future_wait (state->futures[slot], small_timeout (input) & 0x3ff, &error);
        }
      break;

    case 21:
      set_future (state, next_below (input, N_SLOTS),
                  next_byte (input) & 1 ? concurry_delay (small_timeout (input) & 0x3ff)
                                        : concurry_timeout (small_timeout (input) & 0x3ff));
      break;

    case 22:
      set_future (state, slot, NULL);
      break;

    default:
      g_clear_object (&state->promises[slot]);
      break;
    }
}

static void
callback_id_free (gpointer data)
{
  CallbackId *callback = data;

  g_object_unref (callback->future);
  g_free (callback);
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* GLib's pool threads stay once idle, rather than exit: a thread that
 * exits frees its thread-local data (GSlice's, concurry's spare futures
 * and cancellable) in pthread key destructors, after glibc cleared the
 * keys, and LeakSanitizer, checking for leaks after an input while such a
 * thread exits, finds the data unreachable and reports it. Kept threads
 * are reused by the next inputs. */
int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_thread_pool_set_max_unused_threads (-1);
  g_thread_pool_set_max_idle_time (0);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Input input = { data, size, 0 };
  State state = { 0 };
  static gboolean initialized;

  if (!initialized)
    {
      /* Rejections nobody looks at are expected here, not a mistake. */
      concurry_set_unobserved_error_warnings (FALSE);
      initialized = TRUE;
    }

  state.all_promises = g_ptr_array_new_with_free_func (g_object_unref);
  state.callback_ids = g_ptr_array_new_with_free_func (callback_id_free);

  /* At most 256 operations an input: long inputs add little. */
  for (guint i = 0; i < 256 && input.pos < input.size; i++)
    run_op (&state, &input);

  /* End everything. */
  for (guint i = 0; i < state.all_promises->len; i++)
    concurry_future_cancel (g_ptr_array_index (state.all_promises, i));
  if (state.pool != NULL)
    concurry_executor_shutdown (state.pool, TRUE, TRUE, NULL);
  if (state.main_executor != NULL)
    concurry_executor_shutdown (state.main_executor, TRUE, FALSE, NULL);
  /* Their tasks all ended with the executors' work. */
  for (guint i = 0; i < G_N_ELEMENTS (state.managers); i++)
    if (state.managers[i] != NULL)
      {
        g_assert_false (concurry_task_manager_get_running (state.managers[i]));
        g_clear_object (&state.managers[i]);
      }
  for (guint i = 0; i < N_SLOTS; i++)
    {
      g_clear_object (&state.futures[i]);
      g_clear_object (&state.promises[i]);
    }
  g_ptr_array_unref (state.callback_ids);
  g_ptr_array_unref (state.all_promises);
  g_clear_object (&state.pool);
  g_clear_object (&state.main_executor);

  /* Callbacks and finally steps were due on this context: all run. */
  while (state.n_pending > 0)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  return 0;
}
