/* test-races.c: many threads on the same futures at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Resolvers, cancellers, callback adders (on two main contexts) and
 * waiters all work on the same array of promises without any ordering
 * between them. Whatever the interleaving: exactly one completion wins per
 * promise, every waiter sees that outcome, every callback runs exactly
 * once on its own context, and every promise is finalized.
 */

#include <concurry.h>

/* Lowered under valgrind (CONCURRY_TEST_SLOW), where each step is ~50x slower. */
static guint N_PROMISES = 20000;
static guint N_ROUNDS = 10;
static guint N_LATE = 5000;

typedef struct
{
  ConcurryPromise **promises;
  int              *resolve_wins;       /* per promise, atomic */
  int              *main_calls;         /* per promise, atomic */
  int              *thread_calls;
  int              *wrong_context;
  guint             n_main_calls;       /* main thread only */
  int               n_thread_calls;
  int               n_finalized;
  GMainContext     *thread_context;
  GThread          *main_thread;
  gint              start;
  int               n_ready;
} Race;

static void
wait_for_start (Race *race)
{
  g_atomic_int_inc (&race->n_ready);
  while (!g_atomic_int_get (&race->start))
    g_thread_yield ();
}

static gpointer
resolver_thread (gpointer data)
{
  Race *race = data;

  wait_for_start (race);
  for (guint i = 0; i < N_PROMISES; i++)
    if (concurry_promise_resolve_int (race->promises[i], (int)i))
      g_atomic_int_inc (&race->resolve_wins[i]);

  return NULL;
}

static gpointer
reverse_resolver_thread (gpointer data)
{
  Race *race = data;

  wait_for_start (race);
  for (guint i = N_PROMISES; i-- > 0;)
    if (concurry_promise_resolve_int (race->promises[i], (int)i))
      g_atomic_int_inc (&race->resolve_wins[i]);

  return NULL;
}

static gpointer
canceller_thread (gpointer data)
{
  Race *race = data;

  wait_for_start (race);
  for (guint i = N_PROMISES; i >= 2;)
    {
      i -= 2;
      gboolean cancelled = concurry_future_cancel (CONCURRY_FUTURE (race->promises[i]));
      /* Either we (or nobody else) cancelled it, or it was already done. */
      g_assert_true (cancelled == concurry_future_is_cancelled (CONCURRY_FUTURE (race->promises[i])));
    }

  return NULL;
}

static void
main_cb (ConcurryFuture *future,
         gpointer        user_data)
{
  Race *race = g_object_get_data (G_OBJECT (future), "race");
  guint i = GPOINTER_TO_UINT (user_data);

  if (g_thread_self () != race->main_thread)
    g_atomic_int_inc (&race->wrong_context[i]);
  g_atomic_int_inc (&race->main_calls[i]);
  race->n_main_calls++;
}

static void
thread_cb (ConcurryFuture *future,
           gpointer        user_data)
{
  Race *race = g_object_get_data (G_OBJECT (future), "race");
  guint i = GPOINTER_TO_UINT (user_data);

  if (g_main_context_get_thread_default () != race->thread_context)
    g_atomic_int_inc (&race->wrong_context[i]);
  g_atomic_int_inc (&race->thread_calls[i]);
  g_atomic_int_inc (&race->n_thread_calls);
}

static gpointer
main_adder_thread (gpointer data)
{
  Race *race = data;

  /* No context pushed: the callbacks belong to the global default
   * context, which the main thread iterates. */
  wait_for_start (race);
  for (guint i = 0; i < N_PROMISES; i++)
    {
      concurry_future_add_done_callback (CONCURRY_FUTURE (race->promises[i]), main_cb,
                                         GUINT_TO_POINTER (i), NULL);
      concurry_future_add_done_callback (CONCURRY_FUTURE (race->promises[i]), main_cb,
                                         GUINT_TO_POINTER (i), NULL);
    }

  return NULL;
}

static gpointer
context_adder_thread (gpointer data)
{
  Race *race = data;

  g_main_context_push_thread_default (race->thread_context);
  wait_for_start (race);
  for (guint i = 0; i < N_PROMISES; i++)
    {
      concurry_future_add_done_callback (CONCURRY_FUTURE (race->promises[i]), thread_cb,
                                         GUINT_TO_POINTER (i), NULL);
      /* Deliver while adding, too. */
      if (i % 64 == 0)
        g_main_context_iteration (race->thread_context, FALSE);
    }

  while (g_atomic_int_get (&race->n_thread_calls) < (int)N_PROMISES)
    g_main_context_iteration (race->thread_context, TRUE);
  g_main_context_pop_thread_default (race->thread_context);

  return NULL;
}

static gpointer
waiter_thread (gpointer data)
{
  Race *race = data;

  wait_for_start (race);
  for (guint i = 0; i < N_PROMISES; i++)
    {
      ConcurryFuture *future = CONCURRY_FUTURE (race->promises[i]);
      GError *error = NULL;
      gboolean ok = concurry_future_wait (future, -1, &error);

      if (ok)
        {
          g_assert_no_error (error);
          g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_DONE);
          g_assert_cmpint (concurry_future_get_int (future), ==, (int)i);
        }
      else
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_CANCELLED);
          g_error_free (error);
        }
    }

  return NULL;
}

static gpointer
reader_thread (gpointer data)
{
  Race *race = data;

  wait_for_start (race);
  for (guint i = 0; i < N_PROMISES; i++)
    {
      ConcurryFuture *future = CONCURRY_FUTURE (race->promises[i]);
      ConcurryFutureState state = concurry_future_get_state (future);

      /* States only move forward. */
      if (CONCURRY_FUTURE_STATE_DONE <= state)
        g_assert_true (concurry_future_is_done (future));
      g_assert_nonnull (concurry_future_get_id (future));
    }

  return NULL;
}

static void
finalized_cb (gpointer  data,
              GObject  *where)
{
  Race *race = data;

  g_atomic_int_inc (&race->n_finalized);
}

static void
run_round (void)
{
  Race race = { 0, };
  GThreadFunc funcs[] = {
    resolver_thread, reverse_resolver_thread, canceller_thread,
    main_adder_thread, context_adder_thread, waiter_thread, reader_thread,
  };
  GThread *threads[G_N_ELEMENTS (funcs)];
  guint n_done = 0, n_cancelled = 0;

  race.promises = g_new0 (ConcurryPromise *, N_PROMISES);
  race.resolve_wins = g_new0 (int, N_PROMISES);
  race.main_calls = g_new0 (int, N_PROMISES);
  race.thread_calls = g_new0 (int, N_PROMISES);
  race.wrong_context = g_new0 (int, N_PROMISES);
  race.thread_context = g_main_context_new ();
  race.main_thread = g_thread_self ();

  for (guint i = 0; i < N_PROMISES; i++)
    {
      race.promises[i] = concurry_promise_new ();
      g_object_set_data (G_OBJECT (race.promises[i]), "race", &race);
      g_object_weak_ref (G_OBJECT (race.promises[i]), finalized_cb, &race);
    }

  for (guint i = 0; i < G_N_ELEMENTS (funcs); i++)
    threads[i] = g_thread_new ("racer", funcs[i], &race);
  while (g_atomic_int_get (&race.n_ready) < (int)G_N_ELEMENTS (funcs))
    g_thread_yield ();
  g_atomic_int_set (&race.start, TRUE);

  /* Deliver the main-context callbacks while the others race. */
  while (race.n_main_calls < 2 * N_PROMISES)
    g_main_context_iteration (NULL, TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (funcs); i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < N_PROMISES; i++)
    {
      ConcurryFuture *future = CONCURRY_FUTURE (race.promises[i]);
      ConcurryFutureState state = concurry_future_get_state (future);

      g_assert_cmpint (race.main_calls[i], ==, 2);
      g_assert_cmpint (race.thread_calls[i], ==, 1);
      g_assert_cmpint (race.wrong_context[i], ==, 0);

      if (state == CONCURRY_FUTURE_STATE_DONE)
        {
          g_assert_cmpint (race.resolve_wins[i], ==, 1);
          n_done++;
        }
      else
        {
          g_assert_cmpint (state, ==, CONCURRY_FUTURE_STATE_CANCELLED);
          g_assert_cmpint (race.resolve_wins[i], ==, 0);
          g_assert_true (i % 2 == 0);
          n_cancelled++;
        }
    }
  g_assert_cmpuint (n_done + n_cancelled, ==, N_PROMISES);
  g_test_message ("%u resolved, %u cancelled", n_done, n_cancelled);

  for (guint i = 0; i < N_PROMISES; i++)
    g_object_unref (race.promises[i]);
  /* Nothing else holds them: the deliveries are over. */
  g_assert_cmpint (race.n_finalized, ==, N_PROMISES);

  /* Nothing is left to deliver either. */
  g_assert_false (g_main_context_pending (NULL));
  g_assert_false (g_main_context_pending (race.thread_context));

  g_main_context_unref (race.thread_context);
  g_free (race.promises);
  g_free (race.resolve_wins);
  g_free (race.main_calls);
  g_free (race.thread_calls);
  g_free (race.wrong_context);
}

static void
test_races (void)
{
  for (guint round = 0; round < N_ROUNDS; round++)
    run_round ();
}

typedef struct
{
  ConcurryFuture *future;
  int             calls;
} Late;

static void
late_cb (ConcurryFuture *future,
         gpointer        user_data)
{
  Late *late = user_data;

  late->calls++;
}

static gpointer
late_resolver (gpointer data)
{
  concurry_promise_resolve_int (data, 1);
  return NULL;
}

/* BEHAVIOR.md item 46: adding a callback while another thread completes
 * the future runs it exactly once, whichever side wins. */
static void
test_add_while_completing (void)
{
  for (guint i = 0; i < N_LATE; i++)
    {
      g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
      Late late = { CONCURRY_FUTURE (promise), 0 };
      GThread *thread = g_thread_new ("late", late_resolver, promise);

      concurry_future_add_done_callback (CONCURRY_FUTURE (promise), late_cb, &late, NULL);
      g_thread_join (thread);
      while (late.calls == 0)
        g_main_context_iteration (NULL, TRUE);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_assert_cmpint (late.calls, ==, 1);
    }
}

typedef struct
{
  int first;
  int second;
  int order;   /* 1 if first ran before second */
  int calls;
} Ordered;

static void
ordered_first_cb (ConcurryFuture *future,
                  gpointer        user_data)
{
  Ordered *o = user_data;

  o->first = ++o->calls;
}

static void
ordered_second_cb (ConcurryFuture *future,
                   gpointer        user_data)
{
  Ordered *o = user_data;

  o->second = ++o->calls;
}

/* A callback added as soon as the future reads as done, while the
 * completing thread may still be delivering the earlier ones, must not
 * overtake them: callbacks run in the order they were added. */
static void
test_added_after_done_keeps_order (void)
{
  for (guint i = 0; i < N_LATE; i++)
    {
      g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
      Ordered o = { 0, 0, 0, 0 };
      GThread *thread;

      concurry_future_add_done_callback (CONCURRY_FUTURE (promise), ordered_first_cb, &o, NULL);
      thread = g_thread_new ("late", late_resolver, promise);
      while (!concurry_future_is_done (CONCURRY_FUTURE (promise)))
        ;
      concurry_future_add_done_callback (CONCURRY_FUTURE (promise), ordered_second_cb, &o, NULL);
      g_thread_join (thread);
      while (o.calls < 2)
        g_main_context_iteration (NULL, TRUE);
      g_assert_cmpint (o.first, ==, 1);
      g_assert_cmpint (o.second, ==, 2);
    }
}

/* A binding's lock (Python's, which its own threads may take again),
 * taken by the notification of a toggle reference: PyGObject's wrapper of
 * an object with an instance dict. */
static GRecMutex binding_lock;

static void
toggle_notify (gpointer  data,
               GObject  *object,
               gboolean  is_last_ref)
{
  g_rec_mutex_lock (&binding_lock);
  g_rec_mutex_unlock (&binding_lock);
}

#define N_TOGGLED 8

typedef struct
{
  ConcurryPromise *promises[N_TOGGLED];
  GMutex           mutex;
  GCond            cond;
  gboolean         ready;
} Toggled;

/* A thread of the binding: completes the inputs with its lock held, as
 * the binding's engine does; the first half before the group is made,
 * the other half while it may be made. */
static gpointer
complete_holding_the_binding_lock (gpointer data)
{
  Toggled *toggled = data;

  /* Held for all of them, as Python's lock often is for a while. */
  g_rec_mutex_lock (&binding_lock);
  for (guint i = 0; i < N_TOGGLED / 2; i++)
    concurry_promise_resolve_int (toggled->promises[i], (int)i);

  g_mutex_lock (&toggled->mutex);
  toggled->ready = TRUE;
  g_cond_signal (&toggled->cond);
  g_mutex_unlock (&toggled->mutex);

  for (guint i = 0; i < 100; i++)
    g_thread_yield ();
  for (guint i = N_TOGGLED / 2; i < N_TOGGLED; i++)
    concurry_promise_resolve_int (toggled->promises[i], (int)i);
  g_rec_mutex_unlock (&binding_lock);
  return NULL;
}

/* Groups made while a binding's thread completes their inputs holding
 * its lock: concurry never takes an input's second reference (which
 * notifies the binding, and takes its lock) with a group's lock held, or
 * the two threads wait for each other for ever. */
static void
test_groups_take_no_reference_with_their_lock (void)
{
  guint n_rounds = g_getenv ("CONCURRY_TEST_SLOW") != NULL ? 200 : 3000;

  for (guint round = 0; round < n_rounds; round++)
    {
      Toggled toggled = { { NULL, }, };
      GThread *thread;
      g_autoptr(ConcurryFuture) group = NULL;
      g_autoptr(ConcurryAsCompleted) completed = NULL;
      ConcurryFuture *inputs[N_TOGGLED];

      g_mutex_init (&toggled.mutex);
      g_cond_init (&toggled.cond);
      for (guint i = 0; i < N_TOGGLED; i++)
        {
          /* As PyGObject holds a wrapper with an instance dict: the
           * toggle reference is the only one. The inputs not done yet
           * come first: the group is on them when it meets a done one. */
          toggled.promises[i] = concurry_promise_new ();
          inputs[(i + N_TOGGLED / 2) % N_TOGGLED] = CONCURRY_FUTURE (toggled.promises[i]);
          g_object_add_toggle_ref (G_OBJECT (toggled.promises[i]), toggle_notify, NULL);
          g_object_unref (toggled.promises[i]);
        }
      thread = g_thread_new ("binding", complete_holding_the_binding_lock, &toggled);

      g_mutex_lock (&toggled.mutex);
      while (!toggled.ready)
        g_cond_wait (&toggled.cond, &toggled.mutex);
      g_mutex_unlock (&toggled.mutex);
      if (round % 2 == 0)
        group = concurry_gather (inputs, N_TOGGLED, CONCURRY_GATHER_FLAGS_NONE);
      else
        completed = concurry_as_completed (inputs, N_TOGGLED, -1);

      g_thread_join (thread);
      if (group != NULL)
        g_assert_true (concurry_future_wait (group, -1, NULL));
      else
        for (guint i = 0; i < N_TOGGLED; i++)
          {
            g_autoptr(ConcurryFuture) next = concurry_as_completed_next (completed, NULL);

            g_assert_nonnull (next);
          }
      g_clear_object (&group);
      g_clear_object (&completed);
      for (guint i = 0; i < N_TOGGLED; i++)
        g_object_remove_toggle_ref (G_OBJECT (inputs[i]), toggle_notify, NULL);
      g_mutex_clear (&toggled.mutex);
      g_cond_clear (&toggled.cond);
    }
}

typedef struct
{
  ConcurryPromise *held;      /* completed holding the binding's lock */
  ConcurryPromise *failing;   /* failed from another thread: settles the group */
  GMutex           mutex;
  GCond            cond;
  gboolean         ready;
  gboolean         cancel;    /* cancel the group instead of failing an input */
  ConcurryFuture  *group;
} EarlySettled;

static gpointer
resolve_holding_the_binding_lock (gpointer data)
{
  EarlySettled *e = data;

  g_rec_mutex_lock (&binding_lock);
  g_mutex_lock (&e->mutex);
  e->ready = TRUE;
  g_cond_signal (&e->cond);
  g_mutex_unlock (&e->mutex);
  for (guint i = 0; i < 50; i++)
    g_thread_yield ();
  concurry_promise_resolve_int (e->held, 1);
  g_rec_mutex_unlock (&binding_lock);
  return NULL;
}

/* A group settled before all its inputs are done (a gather that an input
 * fails), or cancelled from outside, by a thread that does not hold the
 * binding's lock, while a thread holding it completes another input,
 * whose only other reference is the binding's toggle reference: the group
 * takes no reference on that input with its lock held, or both threads
 * wait for each other for ever. */
static void
test_early_settled_groups_take_no_reference_with_their_lock (void)
{
  guint n_rounds = g_getenv ("CONCURRY_TEST_SLOW") != NULL ? 200 : 3000;

  for (guint round = 0; round < n_rounds; round++)
    {
      EarlySettled e = { NULL, };
      ConcurryFuture *inputs[2];
      GThread *thread;

      g_mutex_init (&e.mutex);
      g_cond_init (&e.cond);
      e.cancel = round % 2 == 1;
      e.held = concurry_promise_new ();
      e.failing = concurry_promise_new ();
      inputs[0] = CONCURRY_FUTURE (e.held);
      inputs[1] = CONCURRY_FUTURE (e.failing);
      /* As PyGObject holds a wrapper with an instance dict. */
      g_object_add_toggle_ref (G_OBJECT (e.held), toggle_notify, NULL);
      g_object_unref (e.held);
      e.group = concurry_gather (inputs, 2, CONCURRY_GATHER_FLAGS_NONE);

      thread = g_thread_new ("binding", resolve_holding_the_binding_lock, &e);
      g_mutex_lock (&e.mutex);
      while (!e.ready)
        g_cond_wait (&e.cond, &e.mutex);
      g_mutex_unlock (&e.mutex);
      if (e.cancel)
        concurry_future_cancel (e.group);
      else
        concurry_promise_reject_literal (e.failing, G_IO_ERROR, G_IO_ERROR_FAILED, "failed");
      g_thread_join (thread);

      g_assert_false (concurry_future_wait (e.group, -1, NULL));
      g_assert_cmpint (concurry_future_get_state (e.group), ==,
                       e.cancel ? CONCURRY_FUTURE_STATE_CANCELLED : CONCURRY_FUTURE_STATE_FAILED);
      g_clear_object (&e.group);
      if (e.cancel)
        g_assert_cmpint (concurry_future_get_state (CONCURRY_FUTURE (e.failing)), ==,
                         CONCURRY_FUTURE_STATE_CANCELLED);
      g_object_remove_toggle_ref (G_OBJECT (e.held), toggle_notify, NULL);
      g_object_unref (e.failing);
      g_mutex_clear (&e.mutex);
      g_cond_clear (&e.cond);
    }
}

typedef struct
{
  ConcurryPromise *winner;
  gint             go;
} DropRace;

static gpointer
resolve_when_told (gpointer data)
{
  DropRace *r = data;

  while (!g_atomic_int_get (&r->go))
    ;
  concurry_promise_resolve_int (r->winner, 1);
  return NULL;
}

/* A group settled before all its inputs are done (an any() that an input
 * wins) takes its callbacks off the inputs still pending, while another
 * thread drops the last reference to them (which abandons them: a
 * failure, which does not settle an any()): the group never touches an
 * input once it may be gone. (Under AddressSanitizer, as CI runs the C
 * tests, a use after free is an error.) */
static void
test_group_settling_while_inputs_are_dropped (void)
{
  guint n_rounds = g_getenv ("CONCURRY_TEST_SLOW") != NULL ? 100 : 1000;

  for (guint round = 0; round < n_rounds; round++)
    {
      DropRace r = { NULL, 0 };
      ConcurryPromise *dropped[64];
      ConcurryFuture *inputs[65];
      g_autoptr(ConcurryFuture) group = NULL;
      GThread *thread;

      r.winner = concurry_promise_new ();
      inputs[0] = CONCURRY_FUTURE (r.winner);
      for (guint i = 0; i < G_N_ELEMENTS (dropped); i++)
        {
          dropped[i] = concurry_promise_new ();
          inputs[i + 1] = CONCURRY_FUTURE (dropped[i]);
        }
      group = concurry_any (inputs, G_N_ELEMENTS (inputs));

      thread = g_thread_new ("winner", resolve_when_told, &r);
      g_atomic_int_set (&r.go, 1);
      /* from the last, so that this thread and the group taking its
       * callbacks off the inputs in order meet somewhere in the middle */
      for (guint i = G_N_ELEMENTS (dropped); i > 0; i--)
        g_object_unref (dropped[i - 1]);
      g_thread_join (thread);

      g_assert_true (concurry_future_wait (group, -1, NULL));
      g_assert_cmpint (concurry_future_get_int (group), ==, 1);
      g_object_unref (r.winner);
    }
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("CONCURRY_TEST_SLOW") != NULL)
    {
      N_PROMISES = 2000;
      N_ROUNDS = 2;
      N_LATE = 500;
    }

  g_test_add_func ("/Concurry/Races/everything-at-once", test_races);
  g_test_add_func ("/Concurry/Races/add-while-completing", test_add_while_completing);
  g_test_add_func ("/Concurry/Races/added-after-done-keeps-order", test_added_after_done_keeps_order);
  g_test_add_func ("/Concurry/Races/groups-take-no-reference-with-their-lock", test_groups_take_no_reference_with_their_lock);
  g_test_add_func ("/Concurry/Races/early-settled-groups-take-no-reference-with-their-lock",
                   test_early_settled_groups_take_no_reference_with_their_lock);
  g_test_add_func ("/Concurry/Races/group-settling-while-inputs-are-dropped",
                   test_group_settling_while_inputs_are_dropped);

  return g_test_run ();
}
