/* test-future.c: states, values, errors, waiting and cancellation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <concurry.h>

/* A thread that completes a promise once the test lets it go. */
typedef struct
{
  ConcurryPromise *promise;
  GMutex           mutex;
  GCond            cond;
  gboolean         go;
  int              action;   /* 0 resolve 42, 1 reject, 2 cancel */
} Completer;

static gpointer
completer_thread (gpointer data)
{
  Completer *c = data;

  g_mutex_lock (&c->mutex);
  while (!c->go)
    g_cond_wait (&c->cond, &c->mutex);
  g_mutex_unlock (&c->mutex);

  switch (c->action)
    {
    case 0:
      concurry_promise_resolve_int (c->promise, 42);
      break;
    case 1:
      concurry_promise_reject_literal (c->promise, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
      break;
    default:
      concurry_future_cancel (CONCURRY_FUTURE (c->promise));
      break;
    }

  return NULL;
}

static GThread *
completer_start (Completer       *c,
                 ConcurryPromise *promise,
                 int              action)
{
  c->promise = promise;
  c->action = action;
  c->go = FALSE;
  g_mutex_init (&c->mutex);
  g_cond_init (&c->cond);
  return g_thread_new ("completer", completer_thread, c);
}

static void
completer_go (Completer *c)
{
  g_mutex_lock (&c->mutex);
  c->go = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->mutex);
}

static void
completer_clear (Completer *c)
{
  g_mutex_clear (&c->mutex);
  g_cond_clear (&c->cond);
}

static void
test_promise_states (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  ConcurryFuture *future = concurry_promise_get_future (promise);

  g_assert_true ((gpointer)future == (gpointer)promise);
  g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_PENDING);
  g_assert_false (concurry_future_is_done (future));
  g_assert_false (concurry_future_is_running (future));
  g_assert_false (concurry_future_is_cancelled (future));
  g_assert_false (concurry_future_is_failed (future));
  g_assert_null (concurry_future_get_value (future));
  g_assert_null (concurry_future_get_error (future));

  g_assert_true (concurry_promise_mark_running (promise));
  g_assert_false (concurry_promise_mark_running (promise));
  g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_RUNNING);
  g_assert_true (concurry_future_is_running (future));
  g_assert_false (concurry_future_is_done (future));

  g_assert_true (concurry_promise_resolve_int (promise, 7));
  g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_DONE);
  g_assert_true (concurry_future_is_done (future));
  g_assert_false (concurry_future_is_running (future));
  g_assert_cmpint (concurry_future_get_int (future), ==, 7);
  g_assert_false (concurry_promise_mark_running (promise));
}

static void
test_first_completion_wins (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  ConcurryFuture *future = CONCURRY_FUTURE (promise);
  g_autoptr(GError) error = NULL;

  g_assert_true (concurry_promise_resolve_string (promise, "first"));
  g_assert_false (concurry_promise_resolve_string (promise, "second"));
  g_assert_false (concurry_promise_reject_literal (promise, G_IO_ERROR, G_IO_ERROR_FAILED, "late"));
  g_assert_false (concurry_future_cancel (future));
  g_assert_cmpstr (concurry_future_get_string (future), ==, "first");
  g_assert_true (concurry_future_wait (future, 0, &error));
  g_assert_no_error (error);

  {
    g_autoptr(ConcurryPromise) failed = concurry_promise_new ();
    const GError *e;

    g_assert_true (concurry_promise_reject_literal (failed, G_IO_ERROR, G_IO_ERROR_EXISTS, "one"));
    g_assert_false (concurry_promise_resolve_int (failed, 1));
    g_assert_false (concurry_promise_take_error (failed, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "two")));
    g_assert_false (concurry_future_cancel (CONCURRY_FUTURE (failed)));
    e = concurry_future_get_error (CONCURRY_FUTURE (failed));
    g_assert_error (e, G_IO_ERROR, G_IO_ERROR_EXISTS);
    g_assert_cmpstr (e->message, ==, "one");
    /* The same error every time. */
    g_assert_true (e == concurry_future_get_error (CONCURRY_FUTURE (failed)));
    g_assert_true (concurry_future_is_failed (CONCURRY_FUTURE (failed)));
  }
}

static void
test_values (void)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(ConcurryFuture) b = concurry_resolved_future_new_boolean (TRUE);
  g_autoptr(ConcurryFuture) i = concurry_resolved_future_new_int (-5);
  g_autoptr(ConcurryFuture) u = concurry_resolved_future_new_uint (5);
  g_autoptr(ConcurryFuture) i64 = concurry_resolved_future_new_int64 (G_MININT64);
  g_autoptr(ConcurryFuture) u64 = concurry_resolved_future_new_uint64 (G_MAXUINT64);
  g_autoptr(ConcurryFuture) d = concurry_resolved_future_new_double (2.5);
  g_autoptr(ConcurryFuture) s = concurry_resolved_future_new_string ("hello");
  g_autoptr(ConcurryFuture) o = concurry_resolved_future_new_object (object);
  g_autoptr(ConcurryFuture) p = concurry_resolved_future_new_pointer (&object);
  g_autoptr(ConcurryFuture) v = concurry_resolved_future_new_variant (g_variant_new_string ("var"));
  g_autoptr(ConcurryFuture) none = concurry_resolved_future_new (NULL);
  g_auto(GValue) copy = G_VALUE_INIT;
  g_auto(GValue) strv = G_VALUE_INIT;
  const char * const words[] = { "a", "b", NULL };
  g_autoptr(ConcurryFuture) boxed = NULL;
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();

  g_assert_true (concurry_future_get_boolean (b));
  g_assert_cmpint (concurry_future_get_int (i), ==, -5);
  g_assert_cmpuint (concurry_future_get_uint (u), ==, 5);
  g_assert_cmpint (concurry_future_get_int64 (i64), ==, G_MININT64);
  g_assert_cmpuint (concurry_future_get_uint64 (u64), ==, G_MAXUINT64);
  g_assert_cmpfloat (concurry_future_get_double (d), ==, 2.5);
  g_assert_cmpstr (concurry_future_get_string (s), ==, "hello");
  g_assert_true (concurry_future_get_object (o) == object);
  g_assert_true (concurry_future_get_pointer (p) == &object);
  g_assert_cmpstr (g_variant_get_string (concurry_future_get_variant (v), NULL), ==, "var");
  g_assert_cmpint (concurry_future_get_value_type (s), ==, G_TYPE_STRING);
  g_assert_cmpint (concurry_future_get_value_type (o), ==, G_TYPE_OBJECT);

  /* Done, but without a value. */
  g_assert_true (concurry_future_is_done (none));
  g_assert_null (concurry_future_get_value (none));
  g_assert_cmpint (concurry_future_get_value_type (none), ==, G_TYPE_INVALID);
  g_assert_false (concurry_future_dup_value (none, &copy));

  g_assert_true (concurry_future_dup_value (s, &copy));
  g_assert_cmpstr (g_value_get_string (&copy), ==, "hello");

  g_value_init (&strv, G_TYPE_STRV);
  g_value_set_boxed (&strv, words);
  boxed = concurry_resolved_future_new (&strv);
  g_assert_cmpstrv (concurry_future_get_boxed (boxed), words);
  g_assert_true (concurry_future_get_boxed (boxed) != (gpointer)words);

  /* The object is held by the future. */
  g_assert_true (concurry_promise_resolve_object (promise, object));
  g_clear_object (&o);
  g_assert_true (concurry_future_get_object (CONCURRY_FUTURE (promise)) == object);
  g_assert_cmpint (object->ref_count, ==, 2);

  /* Typed getters of a pending future give zero. */
  {
    g_autoptr(ConcurryPromise) pending = concurry_promise_new ();
    g_assert_cmpint (concurry_future_get_int (CONCURRY_FUTURE (pending)), ==, 0);
    g_assert_null (concurry_future_get_string (CONCURRY_FUTURE (pending)));
  }
}

static void
test_take_value (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  GValue value = G_VALUE_INIT;
  g_autoptr(ConcurryFuture) resolved = NULL;
  char *str = g_strdup ("taken");

  g_value_init (&value, G_TYPE_STRING);
  g_value_take_string (&value, str);
  g_assert_true (concurry_promise_take_value (promise, &value));
  g_assert_false (G_IS_VALUE (&value));
  g_assert_true (concurry_future_get_string (CONCURRY_FUTURE (promise)) == str);

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 3);
  resolved = concurry_resolved_future_new_take_value (&value);
  g_assert_false (G_IS_VALUE (&value));
  g_assert_cmpint (concurry_future_get_int (resolved), ==, 3);
}

static void
test_resolved_errors (void)
{
  g_autoptr(GError) source = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "no");
  g_autoptr(ConcurryFuture) failed = concurry_resolved_future_new_error (source);
  g_autoptr(ConcurryFuture) cancelled = concurry_resolved_future_new_error_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "stop");
  g_autoptr(ConcurryFuture) taken = concurry_resolved_future_new_take_error (g_error_new_literal (CONCURRY_ERROR, CONCURRY_ERROR_FAILED, "x"));
  g_autoptr(GError) error = NULL;

  g_assert_true (concurry_future_is_failed (failed));
  g_assert_true (concurry_future_get_error (failed) != source);
  g_assert_error (concurry_future_get_error (failed), G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_false (concurry_future_cancel (failed));
  g_assert_false (concurry_future_wait (failed, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  g_assert_true (concurry_future_is_cancelled (cancelled));
  g_assert_true (concurry_future_cancel (cancelled));
  g_assert_false (concurry_future_wait (cancelled, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  g_assert_error (concurry_future_get_error (taken), CONCURRY_ERROR, CONCURRY_ERROR_FAILED);
}

static void
test_resolved_cannot_be_cancelled (void)
{
  g_autoptr(ConcurryFuture) future = concurry_resolved_future_new_int (1);

  g_assert_true (concurry_future_is_done (future));
  g_assert_false (concurry_future_is_running (future));
  g_assert_false (concurry_future_is_cancelled (future));
  g_assert_false (concurry_future_cancel (future));
  g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_DONE);
}

static void
test_ids (void)
{
  g_autoptr(ConcurryPromise) a = concurry_promise_new ();
  g_autoptr(ConcurryFuture) b = concurry_resolved_future_new_int (1);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  const char *id = concurry_future_get_id (CONCURRY_FUTURE (a));
  ConcurryFuture *many[100];

  g_assert_true (g_str_has_prefix (id, "promise-"));
  g_assert_true (g_uuid_string_is_valid (id + strlen ("promise-")));
  g_assert_true (id == concurry_future_get_id (CONCURRY_FUTURE (a)));
  g_assert_true (g_str_has_prefix (concurry_future_get_id (b), "resolved-"));

  for (guint i = 0; i < G_N_ELEMENTS (many); i++)
    {
      many[i] = CONCURRY_FUTURE (concurry_promise_new ());
      g_assert_true (g_hash_table_add (seen, (gpointer)concurry_future_get_id (many[i])));
    }
  for (guint i = 0; i < G_N_ELEMENTS (many); i++)
    {
      concurry_future_cancel (many[i]);
      g_object_unref (many[i]);
    }
}

static void
test_cancel_pending (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  ConcurryFuture *future = CONCURRY_FUTURE (promise);
  GCancellable *cancellable = concurry_promise_get_cancellable (promise);
  g_autoptr(GError) error = NULL;

  g_assert_false (g_cancellable_is_cancelled (cancellable));
  g_assert_true (concurry_future_cancel (future));
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_true (concurry_future_is_cancelled (future));
  g_assert_true (concurry_future_is_done (future));
  g_assert_false (concurry_future_is_running (future));
  g_assert_false (concurry_future_is_failed (future));
  g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_CANCELLED);
  g_assert_error (concurry_future_get_error (future), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (concurry_future_get_value (future));

  /* Idempotent, and nothing can complete it any more. */
  g_assert_true (concurry_future_cancel (future));
  g_assert_false (concurry_promise_resolve_int (promise, 1));
  g_assert_false (concurry_promise_mark_running (promise));
  g_assert_false (concurry_future_wait (future, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_cancel_running (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  ConcurryFuture *future = CONCURRY_FUTURE (promise);
  GCancellable *cancellable;

  g_assert_true (concurry_promise_mark_running (promise));
  cancellable = concurry_promise_get_cancellable (promise);
  g_assert_true (concurry_future_cancel (future));
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_true (concurry_future_is_cancelled (future));
  /* The work finishing afterwards is dropped. */
  g_assert_false (concurry_promise_resolve_int (promise, 1));
  g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_CANCELLED);
}

static void
test_cancellable_made_after_cancel (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();

  g_assert_true (concurry_future_cancel (CONCURRY_FUTURE (promise)));
  g_assert_true (g_cancellable_is_cancelled (concurry_promise_get_cancellable (promise)));
}

static void
test_reject_with_cancelled_error (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();

  concurry_promise_reject_literal (promise, G_IO_ERROR, G_IO_ERROR_CANCELLED, "work gave up");
  g_assert_true (concurry_future_is_cancelled (CONCURRY_FUTURE (promise)));
  g_assert_false (concurry_future_is_failed (CONCURRY_FUTURE (promise)));
}

static void
test_wait_poll (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  ConcurryFuture *future = CONCURRY_FUTURE (promise);
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_false (concurry_future_wait (future, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* A deadline in the past is a poll too. */
  g_assert_false (concurry_future_wait_until (future, start - G_USEC_PER_SEC, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_false (concurry_future_wait_until (future, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* The timeouts did not touch the future. */
  g_assert_cmpint (concurry_future_get_state (future), ==, CONCURRY_FUTURE_STATE_PENDING);
  concurry_promise_resolve_int (promise, 3);
  g_assert_true (concurry_future_wait (future, 0, &error));
  g_assert_no_error (error);
}

static void
test_wait_timeout_elapses (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_false (concurry_future_wait (CONCURRY_FUTURE (promise), 20000, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* The full timeout passed, however the wait was woken in between. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20000);
  g_assert_false (concurry_future_is_done (CONCURRY_FUTURE (promise)));
}

static gboolean
poke_cb (gpointer data)
{
  g_main_context_wakeup (data);
  return G_SOURCE_CONTINUE;
}

static void
test_wait_spurious_wakeups (void)
{
  /* A context that keeps waking the waiting thread must not end the wait
   * before its deadline or before the future is done. */
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  g_autoptr(GError) error = NULL;
  GSource *poke = g_timeout_source_new (1);
  gint64 start;

  g_main_context_push_thread_default (context);
  g_source_set_callback (poke, poke_cb, context, NULL);
  g_source_attach (poke, context);

  start = g_get_monotonic_time ();
  g_assert_false (concurry_future_wait (CONCURRY_FUTURE (promise), 30000, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 30000);

  g_source_destroy (poke);
  g_source_unref (poke);
  g_main_context_pop_thread_default (context);
}

static void
wait_from_other_thread (int action)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  g_autoptr(GError) error = NULL;
  Completer c;
  GThread *thread = completer_start (&c, promise, action);
  gboolean ok;

  /* Let the completer go only once we are about to block: whichever
   * comes first, the wait must see the outcome. */
  completer_go (&c);
  ok = concurry_future_wait (CONCURRY_FUTURE (promise), -1, &error);
  g_thread_join (thread);
  completer_clear (&c);

  switch (action)
    {
    case 0:
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpint (concurry_future_get_int (CONCURRY_FUTURE (promise)), ==, 42);
      break;
    case 1:
      g_assert_false (ok);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      break;
    default:
      g_assert_false (ok);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      break;
    }
}

static void
test_wait_forever_resolved (void)
{
  wait_from_other_thread (0);
}

static void
test_wait_forever_rejected (void)
{
  wait_from_other_thread (1);
}

static void
test_wait_forever_cancelled (void)
{
  wait_from_other_thread (2);
}

/* A waiter on a thread without its own main context sleeps on the
 * condition variable; cancel() must wake it. */
static gpointer
plain_waiter_thread (gpointer data)
{
  GError *error = NULL;

  g_assert_false (concurry_future_wait (data, -1, &error));
  return error;
}

static gpointer
short_waiter_thread (gpointer data)
{
  GError *error = NULL;

  g_assert_false (concurry_future_wait (data, 20000, &error));
  return error;
}

static gpointer
long_waiter_thread (gpointer data)
{
  return GINT_TO_POINTER (concurry_future_wait (data, -1, NULL));
}

/* Each blocked waiter hangs a node of its own stack on the future: those
 * that time out take theirs off, the others are woken by the completion. */
static void
test_waiters_time_out_alone (void)
{
  for (guint round = 0; round < 20; round++)
    {
      g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
      GThread *short_waiters[3], *long_waiters[3];

      for (guint i = 0; i < 3; i++)
        {
          short_waiters[i] = g_thread_new ("short", short_waiter_thread, promise);
          long_waiters[i] = g_thread_new ("long", long_waiter_thread, promise);
        }
      for (guint i = 0; i < 3; i++)
        {
          g_autoptr(GError) error = g_thread_join (short_waiters[i]);
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        }
      concurry_promise_resolve_int (promise, 1);
      for (guint i = 0; i < 3; i++)
        g_assert_true (GPOINTER_TO_INT (g_thread_join (long_waiters[i])));
    }
}

static void
test_cancel_wakes_waiters (void)
{
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("waiter", plain_waiter_thread, promise);

  concurry_future_cancel (CONCURRY_FUTURE (promise));

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_autoptr(GError) error = g_thread_join (threads[i]);
      /* Woken: the waits have no timeout. */
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
}

static gboolean
resolve_in_idle (gpointer data)
{
  concurry_promise_resolve_int (data, 99);
  return G_SOURCE_REMOVE;
}

static void
test_wait_on_owner_thread_iterates (void)
{
  /* The completion needs the main context of this very thread, which is
   * not running: the wait must iterate it instead of hanging. */
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  g_autoptr(GError) error = NULL;

  g_idle_add_full (G_PRIORITY_DEFAULT, resolve_in_idle, g_object_ref (promise), g_object_unref);
  g_assert_true (concurry_future_wait (CONCURRY_FUTURE (promise), -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (concurry_future_get_int (CONCURRY_FUTURE (promise)), ==, 99);
}

static gpointer
pushed_context_thread (gpointer data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(ConcurryPromise) promise = concurry_promise_new ();
  GError *error = NULL;
  GSource *idle = g_idle_source_new ();

  g_main_context_push_thread_default (context);
  g_source_set_callback (idle, resolve_in_idle, g_object_ref (promise), g_object_unref);
  g_source_attach (idle, context);
  g_source_unref (idle);

  concurry_future_wait (CONCURRY_FUTURE (promise), -1, &error);
  g_main_context_pop_thread_default (context);

  return error;
}

static void
test_wait_on_pushed_context_iterates (void)
{
  GError *error = g_thread_join (g_thread_new ("pushed", pushed_context_thread, NULL));

  g_assert_no_error (error);
}

static void
wait_async_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GError **error = user_data;
  gboolean ok = concurry_future_wait_finish (CONCURRY_FUTURE (object), result, error);

  g_assert_true (ok == (*error == NULL));
  if (*error == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NONE, "ok");
}

static GError *
wait_async_and_run (ConcurryFuture *future,
                    GCancellable   *cancellable,
                    gboolean        cancel_first)
{
  GError *error = NULL;

  concurry_future_wait_async (future, cancellable, wait_async_cb, &error);
  /* Never completes inside the call. */
  g_assert_null (error);
  if (cancel_first)
    g_cancellable_cancel (cancellable);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);

  return error;
}

static void
test_wait_async (void)
{
  g_autoptr(ConcurryFuture) done = concurry_resolved_future_new_int (1);
  g_autoptr(ConcurryFuture) failed = concurry_resolved_future_new_error_literal (G_IO_ERROR, G_IO_ERROR_BUSY, "busy");
  g_autoptr(ConcurryPromise) later = concurry_promise_new ();
  g_autoptr(ConcurryPromise) pending = concurry_promise_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GError *error;

  error = wait_async_and_run (done, NULL, FALSE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NONE);
  g_clear_error (&error);

  error = wait_async_and_run (failed, NULL, FALSE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);

  g_idle_add_full (G_PRIORITY_DEFAULT, resolve_in_idle, g_object_ref (later), g_object_unref);
  error = wait_async_and_run (CONCURRY_FUTURE (later), NULL, FALSE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NONE);
  g_clear_error (&error);

  /* Cancelling the wait does not cancel the future, and lets it go. */
  error = wait_async_and_run (CONCURRY_FUTURE (pending), cancellable, TRUE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (concurry_future_get_state (CONCURRY_FUTURE (pending)), ==, CONCURRY_FUTURE_STATE_PENDING);
  g_assert_cmpint (G_OBJECT (pending)->ref_count, ==, 1);
}

static void
test_abandoned_promise (void)
{
  ConcurryPromise *promise = concurry_promise_new ();
  GWeakRef weak;

  /* Nobody watches: it just goes away, silently. */
  g_weak_ref_init (&weak, promise);
  g_object_unref (promise);
  g_assert_null (g_weak_ref_get (&weak));
  g_weak_ref_clear (&weak);
}

static void
abandoned_cb (ConcurryFuture *future,
              gpointer        user_data)
{
  GError **error = user_data;

  *error = g_error_copy (concurry_future_get_error (future));
}

static void
test_abandoned_promise_with_callback (void)
{
  ConcurryPromise *promise = concurry_promise_new ();
  GError *error = NULL;

  concurry_future_add_done_callback (CONCURRY_FUTURE (promise), abandoned_cb, &error, NULL);
  g_object_unref (promise);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_ABANDONED);
  g_clear_error (&error);
}

static void
abandoned_id_cb (ConcurryFuture *future,
                 gpointer        user_data)
{
  char **id = user_data;

  g_assert_error (concurry_future_get_error (future), CONCURRY_ERROR, CONCURRY_ERROR_ABANDONED);
  *id = g_strdup (concurry_future_get_id (future));
}

/* The callbacks of a promise dropped unresolved are given another future
 * (the promise is being freed), failed the same way, with its id. */
static void
test_abandoned_promise_callback_gets_its_id (void)
{
  ConcurryPromise *promise = concurry_promise_new ();
  g_autofree char *expected = g_strdup (concurry_future_get_id (CONCURRY_FUTURE (promise)));
  g_autofree char *id = NULL;

  concurry_future_add_done_callback (CONCURRY_FUTURE (promise), abandoned_id_cb, &id, NULL);
  g_object_unref (promise);
  while (id == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (id, ==, expected);
}

static void
test_bad_input (void)
{
  if (g_test_subprocess ())
    {
      g_assert_false (concurry_future_is_done (NULL));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*CONCURRY_IS_FUTURE*");
}

static void
test_not_a_future (void)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);

  g_test_expect_message ("Concurry", G_LOG_LEVEL_CRITICAL, "*CONCURRY_IS_FUTURE*");
  g_assert_cmpint (concurry_future_get_state ((ConcurryFuture *)object), ==, CONCURRY_FUTURE_STATE_PENDING);
  g_test_assert_expected_messages ();
}

static void
test_error_domain (void)
{
  GEnumClass *klass = g_type_class_ref (CONCURRY_TYPE_ERROR);

  g_assert_cmpstr (g_quark_to_string (CONCURRY_ERROR), ==, "concurry-error-quark");
  g_assert_nonnull (g_enum_get_value (klass, CONCURRY_ERROR_SHUT_DOWN));
  g_type_class_unref (klass);
  g_assert_true (G_TYPE_IS_ENUM (CONCURRY_TYPE_FUTURE_STATE));
  g_assert_cmpint (CONCURRY_MAJOR_VERSION, ==, 0);
  g_assert_true (CONCURRY_CHECK_VERSION (0, 1, 0));
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Concurry/Future/promise-states", test_promise_states);
  g_test_add_func ("/Concurry/Future/first-completion-wins", test_first_completion_wins);
  g_test_add_func ("/Concurry/Future/values", test_values);
  g_test_add_func ("/Concurry/Future/take-value", test_take_value);
  g_test_add_func ("/Concurry/Future/resolved-errors", test_resolved_errors);
  g_test_add_func ("/Concurry/Future/resolved-cannot-be-cancelled", test_resolved_cannot_be_cancelled);
  g_test_add_func ("/Concurry/Future/ids", test_ids);
  g_test_add_func ("/Concurry/Future/cancel-pending", test_cancel_pending);
  g_test_add_func ("/Concurry/Future/cancel-running", test_cancel_running);
  g_test_add_func ("/Concurry/Future/cancellable-made-after-cancel", test_cancellable_made_after_cancel);
  g_test_add_func ("/Concurry/Future/reject-with-cancelled-error", test_reject_with_cancelled_error);
  g_test_add_func ("/Concurry/Future/wait-poll", test_wait_poll);
  g_test_add_func ("/Concurry/Future/wait-timeout-elapses", test_wait_timeout_elapses);
  g_test_add_func ("/Concurry/Future/wait-spurious-wakeups", test_wait_spurious_wakeups);
  g_test_add_func ("/Concurry/Future/wait-forever-resolved", test_wait_forever_resolved);
  g_test_add_func ("/Concurry/Future/wait-forever-rejected", test_wait_forever_rejected);
  g_test_add_func ("/Concurry/Future/wait-forever-cancelled", test_wait_forever_cancelled);
  g_test_add_func ("/Concurry/Future/cancel-wakes-waiters", test_cancel_wakes_waiters);
  g_test_add_func ("/Concurry/Future/waiters-time-out-alone", test_waiters_time_out_alone);
  g_test_add_func ("/Concurry/Future/wait-on-owner-thread-iterates", test_wait_on_owner_thread_iterates);
  g_test_add_func ("/Concurry/Future/wait-on-pushed-context-iterates", test_wait_on_pushed_context_iterates);
  g_test_add_func ("/Concurry/Future/wait-async", test_wait_async);
  g_test_add_func ("/Concurry/Future/abandoned-promise", test_abandoned_promise);
  g_test_add_func ("/Concurry/Future/abandoned-promise-with-callback", test_abandoned_promise_with_callback);
  g_test_add_func ("/Concurry/Future/abandoned-promise-callback-gets-its-id", test_abandoned_promise_callback_gets_its_id);
  g_test_add_func ("/Concurry/Future/bad-input", test_bad_input);
  g_test_add_func ("/Concurry/Future/not-a-future", test_not_a_future);
  g_test_add_func ("/Concurry/Future/error-domain", test_error_domain);

  return g_test_run ();
}
