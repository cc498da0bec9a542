/* test-callbacks.c: done callbacks and their delivery on main contexts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <concurry.h>

typedef struct
{
  GPtrArray *log;      /* of static strings */
  GThread   *thread;   /* where the last callback ran */
  GThread   *destroy_thread;
  guint      n_calls;
  guint      n_destroys;
} Record;

static void
record_init (Record *r)
{
  memset (r, 0, sizeof *r);
  r->log = g_ptr_array_new ();
}

static void
record_clear (Record *r)
{
  g_ptr_array_unref (r->log);
}

typedef struct
{
  Record     *record;
  const char *name;
} Tag;

static Tag *
tag_new (Record     *record,
         const char *name)
{
  Tag *tag = g_new0 (Tag, 1);

  tag->record = record;
  tag->name = name;
  return tag;
}

static void
tag_free (gpointer data)
{
  Tag *tag = data;

  tag->record->n_destroys++;
  tag->record->destroy_thread = g_thread_self ();
  g_free (tag);
}

static void
log_cb (ConcurryFuture *future,
        gpointer        user_data)
{
  Tag *tag = user_data;

  g_assert_true (concurry_future_is_done (future));
  g_ptr_array_add (tag->record->log, (gpointer)tag->name);
  tag->record->n_calls++;
  tag->record->thread = g_thread_self ();
}

static void
iterate_until (GMainContext *context,
               guint        *counter,
               guint         target)
{
  while (*counter < target)
    g_main_context_iteration (context, TRUE);
}

/* Runs every source that is ready, without blocking. */
static void
drain (GMainContext *context)
{
  while (g_main_context_iteration (context, FALSE))
    ;
}

static void
assert_log (Record     *r,
            const char *expected)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < r->log->len; i++)
    g_string_append_printf (s, "%s%s", i ? " " : "", (char *)r->log->pdata[i]);
  g_assert_cmpstr (s->str, ==, expected);
}

static void
test_not_synchronous_when_done (void)
{
  g_autoptr(ConcurryFuture) future = concurry_resolved_future_new_int (1);
  Record r;

  record_init (&r);
  concurry_future_add_done_callback (future, log_cb, tag_new (&r, "a"), tag_free);
  /* Not from inside the call that added it. */
  g_assert_cmpuint (r.n_calls, ==, 0);
  g_assert_cmpuint (r.n_destroys, ==, 0);
  iterate_until (NULL, &r.n_calls, 1);
  g_assert_cmpuint (r.n_destroys, ==, 1);
  drain (NULL);
  g_assert_cmpuint (r.n_calls, ==, 1);
  record_clear (&r);
}

static void
test_not_synchronous_on_completion (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  Record r;

  record_init (&r);
  concurry_future_add_done_callback (CONCURRY_FUTURE (promise), log_cb, tag_new (&r, "a"), tag_free);
  concurry_promise_resolve_int (promise, 1);
  /* Not from inside the call that completed it either. */
  g_assert_cmpuint (r.n_calls, ==, 0);
  iterate_until (NULL, &r.n_calls, 1);
  record_clear (&r);
}

static void
test_order_and_exactly_once (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  ConcurryFuture *future = CONCURRY_FUTURE (promise);
  Record r;

  record_init (&r);
  concurry_future_add_done_callback (future, log_cb, tag_new (&r, "1"), tag_free);
  concurry_future_add_done_callback (future, log_cb, tag_new (&r, "2"), tag_free);
  concurry_future_add_done_callback (future, log_cb, tag_new (&r, "3"), tag_free);
  concurry_promise_resolve_int (promise, 1);
  concurry_future_add_done_callback (future, log_cb, tag_new (&r, "4"), tag_free);
  concurry_future_cancel (future);
  concurry_promise_resolve_int (promise, 2);
  iterate_until (NULL, &r.n_calls, 4);
  drain (NULL);
  assert_log (&r, "1 2 3 4");
  g_assert_cmpuint (r.n_destroys, ==, 4);
  record_clear (&r);
}

static void
test_each_outcome (void)
{
  Record r;
  g_autoptr(ConcurryPromise) ok = concurry_promise_new ();
  g_autoptr(ConcurryPromise) failed = concurry_promise_new ();
  g_autoptr(ConcurryPromise) cancelled = concurry_promise_new ();

  record_init (&r);
  concurry_future_add_done_callback (CONCURRY_FUTURE (ok), log_cb, tag_new (&r, "ok"), tag_free);
  concurry_future_add_done_callback (CONCURRY_FUTURE (failed), log_cb, tag_new (&r, "failed"), tag_free);
  concurry_future_add_done_callback (CONCURRY_FUTURE (cancelled), log_cb, tag_new (&r, "cancelled"), tag_free);
  concurry_promise_resolve_int (ok, 1);
  concurry_promise_reject_literal (failed, G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  concurry_future_cancel (CONCURRY_FUTURE (cancelled));
  iterate_until (NULL, &r.n_calls, 3);
  /* One context: delivered in completion order. */
  assert_log (&r, "ok failed cancelled");
  g_assert_nonnull (concurry_future_get_error (CONCURRY_FUTURE (failed)));
  record_clear (&r);
}

typedef struct
{
  Record         *record;
  ConcurryFuture *future;
  gboolean        inner_ran_inside;
} Nested;

static void
inner_cb (ConcurryFuture *future,
          gpointer        user_data)
{
  Nested *n = user_data;

  g_ptr_array_add (n->record->log, "inner");
  n->record->n_calls++;
}

static void
outer_cb (ConcurryFuture *future,
          gpointer        user_data)
{
  Nested *n = user_data;
  g_autoptr(GError) error = NULL;
  guint before;

  g_ptr_array_add (n->record->log, "outer-start");
  n->record->n_calls++;

  /* Everything works on the same future from inside its callback: no lock
   * is held. */
  g_assert_false (concurry_future_cancel (future));
  g_assert_true (concurry_future_wait (future, 0, &error));
  g_assert_true (concurry_future_wait (future, -1, &error));
  g_assert_cmpint (concurry_future_get_int (future), ==, 5);
  g_assert_nonnull (concurry_future_get_id (future));

  before = n->record->n_calls;
  concurry_future_add_done_callback (future, inner_cb, n, NULL);
  n->inner_ran_inside = n->record->n_calls != before;

  g_ptr_array_add (n->record->log, "outer-end");
}

static void
test_callback_added_inside_callback (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  Record r;
  Nested n;

  record_init (&r);
  n.record = &r;
  n.future = CONCURRY_FUTURE (promise);
  n.inner_ran_inside = FALSE;

  concurry_future_add_done_callback (CONCURRY_FUTURE (promise), outer_cb, &n, NULL);
  concurry_future_add_done_callback (CONCURRY_FUTURE (promise), log_cb, tag_new (&r, "second"), tag_free);
  concurry_promise_resolve_int (promise, 5);
  iterate_until (NULL, &r.n_calls, 3);
  drain (NULL);

  /* The inner callback is not nested in the outer one, and runs after the
   * callbacks that were added before it. */
  g_assert_false (n.inner_ran_inside);
  assert_log (&r, "outer-start outer-end second inner");
  record_clear (&r);
}

static void
cancel_inside_cb (ConcurryFuture *future,
                  gpointer        user_data)
{
  gboolean *result = user_data;

  *result = concurry_future_cancel (future);
}

static void
test_cancel_inside_callback (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  gboolean result = TRUE;
  guint n = 0;

  concurry_future_add_done_callback (CONCURRY_FUTURE (promise), cancel_inside_cb, &result, NULL);
  concurry_promise_resolve_int (promise, 5);
  while (result)
    {
      g_main_context_iteration (NULL, TRUE);
      n++;
      g_assert_cmpuint (n, <, 1000);
    }
  g_assert_false (result);
  g_assert_cmpint (concurry_future_get_state (CONCURRY_FUTURE (promise)), ==, CONCURRY_FUTURE_STATE_DONE);
  drain (NULL);
}

static void
test_remove_callback (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  Record r;
  guint a, b;

  record_init (&r);
  a = concurry_future_add_done_callback (CONCURRY_FUTURE (promise), log_cb, tag_new (&r, "a"), tag_free);
  b = concurry_future_add_done_callback (CONCURRY_FUTURE (promise), log_cb, tag_new (&r, "b"), tag_free);
  g_assert_cmpuint (a, !=, 0);
  g_assert_cmpuint (a, !=, b);
  g_assert_true (concurry_future_remove_done_callback (CONCURRY_FUTURE (promise), a));
  g_assert_cmpuint (r.n_destroys, ==, 1);
  g_assert_false (concurry_future_remove_done_callback (CONCURRY_FUTURE (promise), a));
  concurry_promise_resolve_int (promise, 1);
  /* Scheduled: too late to remove. */
  g_assert_false (concurry_future_remove_done_callback (CONCURRY_FUTURE (promise), b));
  iterate_until (NULL, &r.n_calls, 1);
  drain (NULL);
  assert_log (&r, "b");
  record_clear (&r);
}

typedef struct
{
  ConcurryPromise *promise;
  GMainContext    *context;
  Record           record;
  GMainContext    *seen_context;
} ThreadCase;

static void
context_cb (ConcurryFuture *future,
            gpointer        user_data)
{
  ThreadCase *tc = user_data;

  tc->seen_context = g_main_context_get_thread_default ();
  tc->record.thread = g_thread_self ();
  tc->record.n_calls++;
}

static gpointer
add_from_thread (gpointer data)
{
  ThreadCase *tc = data;

  /* No context pushed here: the callback belongs to the global default
   * context, iterated by the main thread. */
  concurry_future_add_done_callback (CONCURRY_FUTURE (tc->promise), context_cb, tc, NULL);
  concurry_promise_resolve_int (tc->promise, 1);
  return NULL;
}

static void
test_callback_added_from_other_thread (void)
{
  ThreadCase tc = { 0, };

  tc.promise = concurry_promise_new ();
  g_thread_join (g_thread_new ("adder", add_from_thread, &tc));
  g_assert_cmpuint (tc.record.n_calls, ==, 0);
  iterate_until (NULL, &tc.record.n_calls, 1);
  g_assert_true (tc.record.thread == g_thread_self ());
  g_object_unref (tc.promise);
}

static gpointer
own_context_thread (gpointer data)
{
  ThreadCase *tc = data;

  g_main_context_push_thread_default (tc->context);
  concurry_future_add_done_callback (CONCURRY_FUTURE (tc->promise), context_cb, tc, NULL);
  iterate_until (tc->context, &tc->record.n_calls, 1);
  g_main_context_pop_thread_default (tc->context);
  return NULL;
}

static void
test_callback_on_thread_default_context (void)
{
  ThreadCase tc = { 0, };
  GThread *thread;

  tc.promise = concurry_promise_new ();
  tc.context = g_main_context_new ();
  thread = g_thread_new ("own-context", own_context_thread, &tc);
  /* Resolved here, delivered there, whenever the thread registered. */
  while (!concurry_future_is_done (CONCURRY_FUTURE (tc.promise)))
    concurry_promise_resolve_int (tc.promise, 1);
  g_thread_join (thread);
  g_assert_true (tc.record.thread == thread);
  g_assert_true (tc.seen_context == tc.context);
  g_object_unref (tc.promise);
  g_main_context_unref (tc.context);
}

static void
test_callback_full_context (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(ConcurryFuture) future = concurry_resolved_future_new_int (1);
  Record r;

  record_init (&r);
  concurry_future_add_done_callback_full (future, context, log_cb, tag_new (&r, "x"), tag_free);
  drain (NULL);
  g_assert_cmpuint (r.n_calls, ==, 0);
  iterate_until (context, &r.n_calls, 1);
  record_clear (&r);
}

typedef struct
{
  ConcurryPromise *promise;
  int              value;
} Resolve;

static gpointer
resolve_thread (gpointer data)
{
  ConcurryPromise *promise = data;

  concurry_promise_resolve_int (promise, 7);
  /* Drop the last reference to the future here, on the worker. */
  g_object_unref (promise);
  return NULL;
}

static void
test_user_data_destroyed_on_owner_context (void)
{
  ConcurryPromise *promise = concurry_promise_new ();
  GWeakRef weak;
  Record r;

  record_init (&r);
  g_weak_ref_init (&weak, promise);
  concurry_future_add_done_callback (CONCURRY_FUTURE (promise), log_cb, tag_new (&r, "x"), tag_free);
  g_thread_join (g_thread_new ("resolver", resolve_thread, promise));

  iterate_until (NULL, &r.n_calls, 1);
  g_assert_true (r.thread == g_thread_self ());
  g_assert_cmpuint (r.n_destroys, ==, 1);
  g_assert_true (r.destroy_thread == g_thread_self ());
  /* The delivery held the last reference: it was dropped here too. */
  g_assert_null (g_weak_ref_get (&weak));
  g_weak_ref_clear (&weak);
  record_clear (&r);
}

static void
count_cb (ConcurryFuture *future,
          gpointer        user_data)
{
  guint *n = user_data;

  (*n)++;
}

static void
test_batched_delivery (void)
{
  /* Many futures completing together are delivered in one dispatch: a
   * single iteration runs all of them. */
  ConcurryPromise *promises[1000];
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (promises); i++)
    {
      promises[i] = concurry_promise_new ();
      concurry_future_add_done_callback (CONCURRY_FUTURE (promises[i]), count_cb, &n, NULL);
    }
  for (guint i = 0; i < G_N_ELEMENTS (promises); i++)
    concurry_promise_resolve_int (promises[i], i);
  g_assert_cmpuint (n, ==, 0);
  g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (promises));
  for (guint i = 0; i < G_N_ELEMENTS (promises); i++)
    g_object_unref (promises[i]);
}

typedef struct
{
  ConcurryPromise *blocker;
  ConcurryPromise *other;
  Record          *record;
} Blocking;

static gboolean
resolve_idle (gpointer data)
{
  concurry_promise_resolve_boolean (data, TRUE);
  return G_SOURCE_REMOVE;
}

static void
blocking_cb (ConcurryFuture *future,
             gpointer        user_data)
{
  Blocking *b = user_data;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (b->record->log, "blocking-start");
  /* The other promise is resolved from an idle of this very context: the
   * nested wait must iterate it, and the callbacks queued behind this one
   * must still run in order. */
  g_idle_add (resolve_idle, b->other);
  g_assert_true (concurry_future_wait (CONCURRY_FUTURE (b->other), -1, &error));
  g_ptr_array_add (b->record->log, "blocking-end");
  b->record->n_calls++;
}

static void
test_wait_inside_callback (void)
{
  g_autoptr(ConcurryPromise) blocker = concurry_promise_new ();
  g_autoptr(ConcurryPromise) other = concurry_promise_new ();
  Record r;
  Blocking b = { blocker, other, &r };

  record_init (&r);
  concurry_future_add_done_callback (CONCURRY_FUTURE (blocker), blocking_cb, &b, NULL);
  concurry_future_add_done_callback (CONCURRY_FUTURE (blocker), log_cb, tag_new (&r, "after"), tag_free);
  concurry_promise_resolve_int (blocker, 1);
  iterate_until (NULL, &r.n_calls, 2);
  /* The wait iterates the context, and the callbacks queued behind the
   * blocking one run in there, still in the order they were added (one of
   * them could be what the wait needs, see wait-on-callback-queued-behind). */
  assert_log (&r, "blocking-start after blocking-end");
  record_clear (&r);
}

typedef struct
{
  ConcurryPromise *other;
  gboolean         waited;
  int              calls;
} Behind;

static void
wait_for_other_cb (ConcurryFuture *future,
                   gpointer        user_data)
{
  Behind *b = user_data;

  b->waited = concurry_future_wait (CONCURRY_FUTURE (b->other), -1, NULL);
  b->calls++;
}

static void
resolve_other_cb (ConcurryFuture *future,
                  gpointer        user_data)
{
  Behind *b = user_data;

  concurry_promise_resolve_int (b->other, 1);
  b->calls++;
}

/* The callback that completes the wait of an earlier one is queued behind
 * it, in the same batch: the nested iteration must run it. */
static void
test_wait_on_callback_queued_behind (void)
{
  g_autoptr(ConcurryPromise) trigger = concurry_promise_new ();
  g_autoptr(ConcurryPromise) other = concurry_promise_new ();
  Behind b = { other, FALSE, 0 };

  concurry_future_add_done_callback (CONCURRY_FUTURE (trigger), wait_for_other_cb, &b, NULL);
  concurry_future_add_done_callback (CONCURRY_FUTURE (trigger), resolve_other_cb, &b, NULL);
  concurry_promise_resolve_int (trigger, 1);
  while (b.calls < 2)
    g_main_context_iteration (NULL, TRUE);
  /* Had the nested iteration not run the second callback, the wait in the
   * first would never have ended. */
  g_assert_true (b.waited);
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Concurry/Callbacks/not-synchronous-when-done", test_not_synchronous_when_done);
  g_test_add_func ("/Concurry/Callbacks/not-synchronous-on-completion", test_not_synchronous_on_completion);
  g_test_add_func ("/Concurry/Callbacks/order-and-exactly-once", test_order_and_exactly_once);
  g_test_add_func ("/Concurry/Callbacks/each-outcome", test_each_outcome);
  g_test_add_func ("/Concurry/Callbacks/added-inside-callback", test_callback_added_inside_callback);
  g_test_add_func ("/Concurry/Callbacks/cancel-inside-callback", test_cancel_inside_callback);
  g_test_add_func ("/Concurry/Callbacks/wait-inside-callback", test_wait_inside_callback);
  g_test_add_func ("/Concurry/Callbacks/wait-on-callback-queued-behind", test_wait_on_callback_queued_behind);
  g_test_add_func ("/Concurry/Callbacks/remove", test_remove_callback);
  g_test_add_func ("/Concurry/Callbacks/added-from-other-thread", test_callback_added_from_other_thread);
  g_test_add_func ("/Concurry/Callbacks/thread-default-context", test_callback_on_thread_default_context);
  g_test_add_func ("/Concurry/Callbacks/full-context", test_callback_full_context);
  g_test_add_func ("/Concurry/Callbacks/user-data-destroyed-on-owner-context", test_user_data_destroyed_on_owner_context);
  g_test_add_func ("/Concurry/Callbacks/batched-delivery", test_batched_delivery);

  return g_test_run ();
}
