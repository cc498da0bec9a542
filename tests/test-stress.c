/* test-stress.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Many threads doing everything at once to the same futures, then checking
 * that each future ended exactly once and each callback ran exactly once
 * (or, removed in time, never). Meant to run under ThreadSanitizer too.
 *
 * CONCURRY_STRESS_OPS sets the number of operations over the whole program
 * (default 40000, or 4000 with CONCURRY_TEST_SLOW set, as under valgrind;
 * CI runs 1000000 under TSan). Each run draws its own
 * random sequence: a failure prints the seed to run it again with --seed.
 * No test waits on time: threads meet at barriers and drain their main
 * contexts until what they expect has happened.
 */

#include <concurry.h>

#define N_THREADS 4
#define N_SLOTS   128

static guint64 total_ops;

/* A tiny random generator per thread, seeded from the test's. */
typedef struct
{
  guint64 state;
} Rand;

static void
rand_init (Rand *rand)
{
  rand->state = ((guint64)g_test_rand_int () << 32 | (guint32)g_test_rand_int ()) | 1;
}

static guint
rand_below (Rand  *rand,
            guint  n)
{
  rand->state ^= rand->state << 13;
  rand->state ^= rand->state >> 7;
  rand->state ^= rand->state << 17;
  return (guint)(rand->state % n);
}

/* A reusable barrier for N_THREADS (and maybe the main thread). */
typedef struct
{
  GMutex mutex;
  GCond  cond;
  guint  n_parties;
  guint  n_waiting;
  guint  generation;
} Barrier;

static void
barrier_init (Barrier *barrier,
              guint    n_parties)
{
  g_mutex_init (&barrier->mutex);
  g_cond_init (&barrier->cond);
  barrier->n_parties = n_parties;
  barrier->n_waiting = 0;
  barrier->generation = 0;
}

static void
barrier_clear (Barrier *barrier)
{
  g_mutex_clear (&barrier->mutex);
  g_cond_clear (&barrier->cond);
}

static void
barrier_wait (Barrier *barrier)
{
  guint generation;

  g_mutex_lock (&barrier->mutex);
  generation = barrier->generation;
  if (++barrier->n_waiting == barrier->n_parties)
    {
      barrier->n_waiting = 0;
      barrier->generation++;
      g_cond_broadcast (&barrier->cond);
    }
  else
    {
      while (generation == barrier->generation)
        g_cond_wait (&barrier->cond, &barrier->mutex);
    }
  g_mutex_unlock (&barrier->mutex);
}

/* Drains @context until *@counter reaches 0: what it counts is scheduled
 * there already, so each iteration that blocks is woken by one of them. */
static void
drain_until_zero (GMainContext *context,
                  int          *counter)
{
  while (g_atomic_int_get (counter) > 0)
    g_main_context_iteration (context, TRUE);
}

/* Promises completed, cancelled and waited on by many threads */

typedef struct
{
  ConcurryPromise *promise;
  int              n_resolved;   /* resolve calls that returned TRUE */
  int              n_rejected;   /* reject calls that returned TRUE */
  int              resolved_by;
} Slot;

typedef struct
{
  int      n_called;
  int      n_destroyed;
  gboolean removed;
  guint    id;
  guint    slot;
  int     *pending;          /* the owner's count of callbacks still due */
} Callback;

typedef struct _Round Round;

typedef struct
{
  Round        *round;
  guint         index;
  GThread      *thread;
  Rand          rand;
  GMainContext *context;
  GPtrArray    *callbacks;     /* of Callback, this round */
  int           pending;       /* destroy notifies still due */
  guint64       n_ops;
} Worker;

struct _Round
{
  Slot     slots[N_SLOTS];
  Barrier  barrier;
  Worker   workers[N_THREADS];
  guint    n_rounds;
  guint    ops_per_round;     /* for each worker */
};

static void
callback_run (ConcurryFuture *future,
              gpointer        user_data)
{
  Callback *callback = user_data;

  g_assert_true (concurry_future_is_done (future));
  g_atomic_int_inc (&callback->n_called);
}

static void
callback_destroy (gpointer user_data)
{
  Callback *callback = user_data;

  g_atomic_int_inc (&callback->n_destroyed);
  g_atomic_int_add (callback->pending, -1);
}

static void
worker_step (Worker *worker)
{
  Round *round = worker->round;
  guint slot_index = rand_below (&worker->rand, N_SLOTS);
  Slot *slot = &round->slots[slot_index];
  ConcurryFuture *future = concurry_promise_get_future (slot->promise);

  /* Completions are rare enough that most promises are still pending
   * while the other operations come. */
  switch (rand_below (&worker->rand, 40))
    {
    case 0:
      if (concurry_promise_resolve_int (slot->promise, (int)worker->index))
        {
          g_atomic_int_inc (&slot->n_resolved);
          g_atomic_int_set (&slot->resolved_by, (int)worker->index);
        }
      break;

    case 1:
      if (concurry_promise_reject_literal (slot->promise, G_IO_ERROR, G_IO_ERROR_FAILED, "stress"))
        g_atomic_int_inc (&slot->n_rejected);
      break;

    case 2:
      concurry_future_cancel (future);
      break;

    case 3 ... 14:
      {
        Callback *callback = g_new0 (Callback, 1);

        callback->slot = slot_index;
        callback->pending = &worker->pending;
        g_atomic_int_inc (&worker->pending);
        callback->id = concurry_future_add_done_callback (future, callback_run, callback,
                                                          callback_destroy);
        g_assert_cmpuint (callback->id, !=, 0);
        g_ptr_array_add (worker->callbacks, callback);
      }
      break;

    case 15 ... 20:
      if (worker->callbacks->len > 0)
        {
          Callback *callback = g_ptr_array_index (worker->callbacks,
                                                  rand_below (&worker->rand, worker->callbacks->len));

          if (!callback->removed &&
              concurry_future_remove_done_callback (
                concurry_promise_get_future (round->slots[callback->slot].promise), callback->id))
            {
              callback->removed = TRUE;
              /* Its destroy notify ran, right here. */
              g_assert_cmpint (g_atomic_int_get (&callback->n_destroyed), ==, 1);
            }
        }
      break;

    case 21 ... 26:
      {
        g_autoptr(GError) error = NULL;
        gint64 timeout = rand_below (&worker->rand, 3) * 20;   /* 0, 20 or 40 µs */

        /* Done, or a failure, a cancellation, or the time ran out. */
        if (concurry_future_wait (future, timeout, &error))
          g_assert_true (concurry_future_is_done (future));
        else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
          g_assert_true (concurry_future_is_done (future));
      }
      break;

    case 27 ... 29:
      concurry_promise_mark_running (slot->promise);
      break;

    case 30 ... 34:
      g_main_context_iteration (worker->context, FALSE);
      break;

    default:
      if (concurry_future_is_done (future))
        g_assert_true (concurry_future_is_cancelled (future) ||
                       concurry_future_is_failed (future) ||
                       concurry_future_get_value (future) != NULL);
      break;
    }

  worker->n_ops++;
}

static void
worker_check_callbacks (Worker *worker)
{
  for (guint i = 0; i < worker->callbacks->len; i++)
    {
      Callback *callback = g_ptr_array_index (worker->callbacks, i);

      g_assert_cmpint (callback->n_destroyed, ==, 1);
      g_assert_cmpint (callback->n_called, ==, callback->removed ? 0 : 1);
    }
  g_ptr_array_set_size (worker->callbacks, 0);
}

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;
  Round *round = worker->round;

  g_main_context_push_thread_default (worker->context);

  for (guint r = 0; r < round->n_rounds; r++)
    {
      barrier_wait (&round->barrier);                /* slots are ready */
      for (guint i = 0; i < round->ops_per_round; i++)
        worker_step (worker);
      barrier_wait (&round->barrier);                /* everyone stopped */

      /* Whatever is still pending ends now, and every callback that was
       * not removed is due on this thread's context. */
      for (guint s = worker->index; s < N_SLOTS; s += N_THREADS)
        concurry_future_cancel (concurry_promise_get_future (round->slots[s].promise));
      barrier_wait (&round->barrier);
      drain_until_zero (worker->context, &worker->pending);
      worker_check_callbacks (worker);
      barrier_wait (&round->barrier);                /* the main thread checks */
    }

  g_main_context_pop_thread_default (worker->context);

  return NULL;
}

static void
check_slot (Slot *slot)
{
  ConcurryFuture *future = concurry_promise_get_future (slot->promise);

  g_assert_true (concurry_future_is_done (future));
  g_assert_cmpint (slot->n_resolved + slot->n_rejected, <=, 1);

  if (concurry_future_is_cancelled (future))
    {
      g_assert_cmpint (slot->n_resolved + slot->n_rejected, ==, 0);
    }
  else if (concurry_future_is_failed (future))
    {
      g_assert_cmpint (slot->n_rejected, ==, 1);
      g_assert_error ((GError *)concurry_future_get_error (future), G_IO_ERROR, G_IO_ERROR_FAILED);
    }
  else
    {
      g_assert_cmpint (slot->n_resolved, ==, 1);
      g_assert_cmpint (concurry_future_get_int (future), ==, slot->resolved_by);
    }
}

static void
test_promises_many_threads (void)
{
  Round round = { 0 };
  guint64 ops = total_ops / 2;
  guint64 done_ops = 0;

  g_test_summary ("Four threads resolving, rejecting, cancelling, adding and removing "
                  "callbacks and waiting on the same promises: each ends exactly once, "
                  "by the one completion that won, and each callback runs exactly once "
                  "unless it was removed in time.");

  round.ops_per_round = 500;
  round.n_rounds = MAX (1, ops / (N_THREADS * round.ops_per_round));
  barrier_init (&round.barrier, N_THREADS + 1);

  for (guint i = 0; i < N_THREADS; i++)
    {
      Worker *worker = &round.workers[i];

      worker->round = &round;
      worker->index = i;
      rand_init (&worker->rand);
      worker->context = g_main_context_new ();
      worker->callbacks = g_ptr_array_new_with_free_func (g_free);
      worker->thread = g_thread_new ("stress", worker_thread, worker);
    }

  for (guint r = 0; r < round.n_rounds; r++)
    {
      for (guint s = 0; s < N_SLOTS; s++)
        round.slots[s] = (Slot) { .promise = concurry_promise_new (), .resolved_by = -1 };

      barrier_wait (&round.barrier);   /* go */
      barrier_wait (&round.barrier);   /* stopped */
      barrier_wait (&round.barrier);   /* all terminal */
      barrier_wait (&round.barrier);   /* callbacks checked */

      for (guint s = 0; s < N_SLOTS; s++)
        {
          check_slot (&round.slots[s]);
          g_clear_object (&round.slots[s].promise);
        }
    }

  for (guint i = 0; i < N_THREADS; i++)
    {
      Worker *worker = &round.workers[i];

      g_thread_join (worker->thread);
      done_ops += worker->n_ops;
      g_ptr_array_unref (worker->callbacks);
      g_main_context_unref (worker->context);
    }
  barrier_clear (&round.barrier);

  g_test_message ("%" G_GUINT64_FORMAT " operations on promises", done_ops);
}

/* A thread-pool executor shut down with cancel_futures in mid-stream */

/* Holds the items that start while it is closed. */
typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean open;
} Gate;

static Gate gate;

static void
gate_pass (void)
{
  g_mutex_lock (&gate.mutex);
  while (!gate.open)
    g_cond_wait (&gate.cond, &gate.mutex);
  g_mutex_unlock (&gate.mutex);
}

static void
gate_set (gboolean open)
{
  g_mutex_lock (&gate.mutex);
  gate.open = open;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.mutex);
}

typedef struct
{
  int n_runs;
} Item;

static void
item_run (GCancellable  *cancellable,
          GValue        *value,
          gpointer       user_data,
          GError       **error)
{
  Item *item = user_data;

  gate_pass ();
  g_atomic_int_inc (&item->n_runs);
  g_value_init (value, G_TYPE_INT);
  g_value_set_int (value, 1);
}

typedef struct
{
  ConcurryExecutor *executor;
  Barrier          *start;
  GPtrArray        *futures;   /* of ConcurryFuture, parallel to items */
  GPtrArray        *items;     /* of Item */
  guint             max_items;
  int              *n_submitted;
  guint             shutdown_after;
  gboolean          refused;
} Submitter;

static gpointer
submitter_thread (gpointer data)
{
  Submitter *submitter = data;

  barrier_wait (submitter->start);

  for (guint i = 0; i < submitter->max_items; i++)
    {
      g_autoptr(GError) error = NULL;
      Item *item = g_new0 (Item, 1);
      ConcurryFuture *future;

      future = concurry_executor_submit (submitter->executor, item_run, item, NULL, &error);
      if (future == NULL)
        {
          g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
          g_free (item);
          submitter->refused = TRUE;
          break;
        }
      g_ptr_array_add (submitter->futures, future);
      g_ptr_array_add (submitter->items, item);
      g_atomic_int_inc (submitter->n_submitted);
    }

  return NULL;
}

static void
test_pool_shutdown_cancels_midstream (void)
{
  guint64 ops = total_ops / 4;
  guint rounds = MAX (1, ops / 2000);
  guint64 n_items = 0, n_ran = 0, n_cancelled = 0;

  g_test_summary ("A pool shut down with cancel_futures while three threads submit: "
                  "each accepted item either ran exactly once and is done, or never "
                  "ran and is cancelled; submitting after the shutdown is refused.");

  for (guint r = 0; r < rounds; r++)
    {
      g_autoptr(ConcurryExecutor) executor = concurry_thread_pool_executor_new (4);
      g_autoptr(GError) error = NULL;
      Submitter submitters[3];
      Barrier start;
      int n_submitted = 0;

      gate_set (r % 2 != 0);
      barrier_init (&start, G_N_ELEMENTS (submitters) + 1);
      for (guint i = 0; i < G_N_ELEMENTS (submitters); i++)
        {
          submitters[i] = (Submitter) {
            .executor = executor,
            .start = &start,
            .futures = g_ptr_array_new_with_free_func (g_object_unref),
            .items = g_ptr_array_new_with_free_func (g_free),
            .max_items = 1000,
            .n_submitted = &n_submitted,
          };
        }

      {
        GThread *threads[G_N_ELEMENTS (submitters)];
        guint shutdown_after = 1 + g_test_rand_int_range (0, 1000);

        for (guint i = 0; i < G_N_ELEMENTS (submitters); i++)
          threads[i] = g_thread_new ("submitter", submitter_thread, &submitters[i]);
        barrier_wait (&start);

        /* Mid-stream: once some items are in, whatever the timing. In
         * every other round the workers are held at a gate meanwhile, so
         * that items are still queued for the shutdown to cancel. */
        while ((guint)g_atomic_int_get (&n_submitted) < shutdown_after)
          g_thread_yield ();
        if (r % 2 == 0)
          {
            g_assert_true (concurry_executor_shutdown (executor, FALSE, TRUE, &error));
            g_assert_no_error (error);
            gate_set (TRUE);
          }
        g_assert_true (concurry_executor_shutdown (executor, TRUE, TRUE, &error));
        g_assert_no_error (error);

        for (guint i = 0; i < G_N_ELEMENTS (submitters); i++)
          g_thread_join (threads[i]);
      }

      for (guint i = 0; i < G_N_ELEMENTS (submitters); i++)
        {
          Submitter *submitter = &submitters[i];

          for (guint j = 0; j < submitter->futures->len; j++)
            {
              ConcurryFuture *future = g_ptr_array_index (submitter->futures, j);
              Item *item = g_ptr_array_index (submitter->items, j);

              /* shutdown (wait = TRUE) returned: everything accepted ended. */
              g_assert_true (concurry_future_is_done (future));
              if (concurry_future_is_cancelled (future))
                {
                  g_assert_cmpint (item->n_runs, ==, 0);
                  n_cancelled++;
                }
              else
                {
                  g_assert_cmpint (item->n_runs, ==, 1);
                  g_assert_cmpint (concurry_future_get_int (future), ==, 1);
                  n_ran++;
                }
              n_items++;
            }
          g_ptr_array_unref (submitter->futures);
          g_ptr_array_unref (submitter->items);
        }
      barrier_clear (&start);
    }

  g_test_message ("%" G_GUINT64_FORMAT " items: %" G_GUINT64_FORMAT " ran, %"
                  G_GUINT64_FORMAT " cancelled", n_items, n_ran, n_cancelled);
}

/* Groups dropped while their inputs complete */

typedef struct
{
  ConcurryPromise *inputs[8];
  Barrier         *start;
  Rand             rand;
} Completer;

static gpointer
completer_thread (gpointer data)
{
  Completer *completer = data;

  barrier_wait (completer->start);
  for (guint i = 0; i < G_N_ELEMENTS (completer->inputs); i++)
    {
      ConcurryPromise *promise = completer->inputs[i];

      switch (rand_below (&completer->rand, 3))
        {
        case 0:
          concurry_promise_resolve_int (promise, (int)i);
          break;
        case 1:
          concurry_promise_reject_literal (promise, G_IO_ERROR, G_IO_ERROR_FAILED, "stress");
          break;
        default:
          concurry_future_cancel (concurry_promise_get_future (promise));
          break;
        }
    }
  return NULL;
}

typedef struct
{
  int n_called;
  int pending;
} GroupCallbacks;

static void
group_done (ConcurryFuture *future,
            gpointer        user_data)
{
  GroupCallbacks *callbacks = user_data;

  g_assert_true (concurry_future_is_done (future));
  callbacks->n_called++;
  callbacks->pending--;
}

static void
test_groups_dropped_while_inputs_complete (void)
{
  guint64 ops = total_ops / 4;
  guint rounds = MAX (1, ops / 40);
  GMainContext *context = g_main_context_ref_thread_default ();
  GroupCallbacks callbacks = { 0 };
  guint n_kept = 0;

  g_test_summary ("gather, any, race, wait_future and as_completed over promises that "
                  "another thread completes meanwhile, the groups dropped at once or "
                  "kept: no crash, and each group kept ends exactly once.");

  for (guint r = 0; r < rounds; r++)
    {
      Completer completer;
      ConcurryFuture *inputs[G_N_ELEMENTS (completer.inputs)];
      ConcurryFuture *groups[5];
      g_autoptr(ConcurryAsCompleted) as_completed = NULL;
      Barrier start;
      GThread *thread;
      guint keep;

      barrier_init (&start, 2);
      completer.start = &start;
      rand_init (&completer.rand);
      for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
        {
          completer.inputs[i] = concurry_promise_new ();
          inputs[i] = concurry_promise_get_future (completer.inputs[i]);
        }
      thread = g_thread_new ("completer", completer_thread, &completer);

      barrier_wait (&start);
      groups[0] = concurry_gather (inputs, G_N_ELEMENTS (inputs), CONCURRY_GATHER_FLAGS_NONE);
      groups[1] = concurry_any (inputs, G_N_ELEMENTS (inputs));
      groups[2] = concurry_race (inputs, G_N_ELEMENTS (inputs));
      groups[3] = concurry_wait_future (inputs, G_N_ELEMENTS (inputs), CONCURRY_WAIT_FIRST_COMPLETED);
      groups[4] = concurry_gather (inputs, G_N_ELEMENTS (inputs), CONCURRY_GATHER_FLAGS_ALL_OUTCOMES);
      if (r % 2 == 0)
        as_completed = concurry_as_completed (inputs, G_N_ELEMENTS (inputs), -1);

      /* Keep one group (with a callback), drop the others now. */
      keep = r % G_N_ELEMENTS (groups);
      callbacks.pending++;
      concurry_future_add_done_callback (groups[keep], group_done, &callbacks, NULL);
      for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
        if (i != keep)
          g_clear_object (&groups[i]);

      g_thread_join (thread);

      if (as_completed != NULL)
        {
          for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
            {
              g_autoptr(GError) error = NULL;
              g_autoptr(ConcurryFuture) next = concurry_as_completed_next (as_completed, &error);

              g_assert_no_error (error);
              g_assert_nonnull (next);
              g_assert_true (concurry_future_is_done (next));
            }
          g_assert_cmpuint (concurry_as_completed_get_n_remaining (as_completed), ==, 0);
        }

      /* Every input is done: the group kept ends, and its callback runs. */
      while (callbacks.pending > 0)
        g_main_context_iteration (context, TRUE);
      g_assert_true (concurry_future_is_done (groups[keep]));
      g_clear_object (&groups[keep]);
      n_kept++;

      for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
        g_object_unref (completer.inputs[i]);
      barrier_clear (&start);
    }

  g_assert_cmpint (callbacks.n_called, ==, (int)n_kept);
  g_main_context_unref (context);
}

int
main (int    argc,
      char **argv)
{
  const char *ops = g_getenv ("CONCURRY_STRESS_OPS");

  g_test_init (&argc, &argv, NULL);

  total_ops = ops != NULL ? g_ascii_strtoull (ops, NULL, 10) : 0;
  if (total_ops == 0)   /* under valgrind (meson test --setup valgrind), fewer */
    total_ops = g_getenv ("CONCURRY_TEST_SLOW") != NULL ? 4000 : 40000;

  /* Rejected promises nobody looks at are the point here, not a mistake. */
  concurry_set_unobserved_error_warnings (FALSE);

  g_test_add_func ("/Concurry/Stress/promises-end-once-under-four-threads", test_promises_many_threads);
  g_test_add_func ("/Concurry/Stress/pool-shutdown-cancels-midstream", test_pool_shutdown_cancels_midstream);
  g_test_add_func ("/Concurry/Stress/groups-dropped-while-inputs-complete", test_groups_dropped_while_inputs_complete);

  return g_test_run ();
}
