/* test-combinators.c: wait, as_completed, gather, any, race, chains, timeouts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <concurry.h>

/* A timeout that never fires: too long to represent, it is for ever. */
#define FOREVER G_MAXINT64

static ConcurryPromise *
promise (void)
{
  return concurry_promise_new ();
}

static gboolean
has (GPtrArray *set,
     gpointer   item)
{
  return g_ptr_array_find (set, item, NULL);
}

static void
iterate_until_done (ConcurryFuture *future)
{
  while (!concurry_future_is_done (future))
    g_main_context_iteration (NULL, TRUE);
}

/* ---- wait ---- */

static void
test_wait_empty (void)
{
  g_autoptr(GPtrArray) done = NULL, not_done = NULL;

  g_assert_true (concurry_wait (NULL, 0, CONCURRY_WAIT_ALL_COMPLETED, -1, &done, &not_done));
  g_assert_cmpuint (done->len, ==, 0);
  g_assert_cmpuint (not_done->len, ==, 0);
}

static void
test_wait_modes_already_done (void)
{
  g_autoptr(ConcurryPromise) pending = promise ();
  g_autoptr(ConcurryFuture) ok = concurry_resolved_future_new_int (1);
  g_autoptr(ConcurryFuture) failed = concurry_resolved_future_new_error_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  g_autoptr(ConcurryPromise) cancelled = promise ();
  ConcurryFuture *fs[4];

  concurry_future_cancel (CONCURRY_FUTURE (cancelled));
  fs[0] = CONCURRY_FUTURE (pending);
  fs[1] = ok;
  fs[2] = failed;
  fs[3] = CONCURRY_FUTURE (cancelled);

  /* FIRST_COMPLETED returns at once with all the done ones. */
  {
    g_autoptr(GPtrArray) done = NULL, not_done = NULL;
    g_assert_true (concurry_wait (fs, 4, CONCURRY_WAIT_FIRST_COMPLETED, -1, &done, &not_done));
    g_assert_cmpuint (done->len, ==, 3);
    g_assert_true (has (done, ok) && has (done, failed) && has (done, fs[3]));
    g_assert_cmpuint (not_done->len, ==, 1);
    g_assert_true (not_done->pdata[0] == fs[0]);
  }
  /* FIRST_EXCEPTION: one already failed. */
  {
    g_autoptr(GPtrArray) done = NULL, not_done = NULL;
    g_assert_true (concurry_wait (fs, 4, CONCURRY_WAIT_FIRST_EXCEPTION, -1, &done, &not_done));
    g_assert_cmpuint (done->len, ==, 3);
  }
  /* ALL_COMPLETED with a pending one: times out and returns the sets. */
  {
    g_autoptr(GPtrArray) done = NULL, not_done = NULL;
    g_assert_false (concurry_wait (fs, 4, CONCURRY_WAIT_ALL_COMPLETED, 0, &done, &not_done));
    g_assert_cmpuint (done->len, ==, 3);
    g_assert_cmpuint (not_done->len, ==, 1);
  }
  /* Negative timeout waits: resolve first from another place. */
  concurry_promise_resolve_int (pending, 2);
  {
    g_autoptr(GPtrArray) done = NULL, not_done = NULL;
    g_assert_true (concurry_wait (fs, 4, CONCURRY_WAIT_ALL_COMPLETED, -1, &done, &not_done));
    g_assert_cmpuint (done->len, ==, 4);
    g_assert_cmpuint (not_done->len, ==, 0);
  }
  concurry_future_get_error (failed);
}

static void
test_wait_duplicates (void)
{
  g_autoptr(ConcurryFuture) f = concurry_resolved_future_new_int (1);
  ConcurryFuture *fs[] = { f, f, f };
  g_autoptr(GPtrArray) done = NULL, not_done = NULL;

  g_assert_true (concurry_wait (fs, 3, CONCURRY_WAIT_ALL_COMPLETED, -1, &done, &not_done));
  g_assert_cmpuint (done->len, ==, 1);
  g_assert_true (done->pdata[0] == f);
}

static void
test_wait_first_exception_without_failure (void)
{
  /* Behaves as ALL_COMPLETED; a cancellation is not an exception. */
  g_autoptr(ConcurryPromise) a = promise ();
  g_autoptr(ConcurryPromise) b = promise ();
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a), CONCURRY_FUTURE (b) };
  g_autoptr(GPtrArray) done = NULL, not_done = NULL;

  concurry_future_cancel (fs[0]);
  g_assert_false (concurry_wait (fs, 2, CONCURRY_WAIT_FIRST_EXCEPTION, 0, NULL, NULL));
  concurry_promise_resolve_int (b, 1);
  g_assert_true (concurry_wait (fs, 2, CONCURRY_WAIT_FIRST_EXCEPTION, 0, &done, &not_done));
  g_assert_cmpuint (done->len, ==, 2);
}

static void
test_wait_timeout (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a) };
  g_autoptr(GPtrArray) done = NULL, not_done = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_false (concurry_wait (fs, 1, CONCURRY_WAIT_FIRST_COMPLETED, 20000, &done, &not_done));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20000);
  g_assert_cmpuint (not_done->len, ==, 1);
  g_clear_pointer (&not_done, g_ptr_array_unref);
  /* The timed-out wait left nothing behind on the future. */
  g_assert_cmpint (G_OBJECT (a)->ref_count, ==, 1);
}

typedef struct
{
  ConcurryFuture *future;
  gint64          woke_at;
  gboolean        met;
} Waiter;

static gpointer
waiter_thread (gpointer data)
{
  Waiter *w = data;
  ConcurryFuture *fs[] = { w->future };

  w->met = concurry_wait (fs, 1, CONCURRY_WAIT_ALL_COMPLETED, -1, NULL, NULL);
  w->woke_at = g_get_monotonic_time ();
  return NULL;
}

static void
test_wait_cancel_wakes_other_thread (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  Waiter w = { CONCURRY_FUTURE (a), 0, FALSE };
  GThread *thread = g_thread_new ("waiter", waiter_thread, &w);
  gint64 cancelled_at;

  /* Wait until the thread's wait is on the future (it holds it): the
   * cancellation then ends the wait, whether its callback is there yet or
   * the wait finds the future done. */
  while (g_atomic_int_get (&G_OBJECT (a)->ref_count) < 2)
    g_thread_yield ();
  cancelled_at = g_get_monotonic_time ();
  concurry_future_cancel (CONCURRY_FUTURE (a));
  g_thread_join (thread);
  /* The wait has no timeout: only the cancellation ended it. */
  g_assert_true (w.met);
  g_assert_cmpint (w.woke_at, >=, cancelled_at);
}

static void
test_wait_large (void)
{
  guint n = 100000;
  ConcurryFuture **fs = g_new (ConcurryFuture *, n);
  g_autoptr(GPtrArray) done = NULL, not_done = NULL;

  for (guint i = 0; i < n; i++)
    fs[i] = i % 2 ? concurry_resolved_future_new_int (i) : CONCURRY_FUTURE (promise ());
  for (guint i = 0; i < n; i += 2)
    concurry_promise_resolve_int (CONCURRY_PROMISE (fs[i]), i);
  g_assert_true (concurry_wait (fs, n, CONCURRY_WAIT_ALL_COMPLETED, -1, &done, &not_done));
  g_assert_cmpuint (done->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_object_unref (fs[i]);
  g_free (fs);
}

/* ---- as_completed ---- */

static void
test_as_completed_order (void)
{
  g_autoptr(ConcurryPromise) slow = promise ();
  g_autoptr(ConcurryPromise) fast = promise ();
  g_autoptr(ConcurryFuture) done = concurry_resolved_future_new_int (0);
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (slow), done, CONCURRY_FUTURE (fast), done };
  g_autoptr(ConcurryAsCompleted) it = concurry_as_completed (fs, G_N_ELEMENTS (fs), -1);
  g_autoptr(GError) error = NULL;
  ConcurryFuture *f;

  g_assert_cmpuint (concurry_as_completed_get_n_remaining (it), ==, 3);
  /* Already done first. */
  f = concurry_as_completed_next (it, &error);
  g_assert_true (f == done);
  g_object_unref (f);

  concurry_promise_resolve_int (fast, 1);
  concurry_promise_resolve_int (slow, 2);
  f = concurry_as_completed_next (it, &error);
  g_assert_true (f == CONCURRY_FUTURE (fast));
  g_object_unref (f);
  f = concurry_as_completed_next (it, &error);
  g_assert_true (f == CONCURRY_FUTURE (slow));
  g_object_unref (f);
  /* Each distinct future once, then the end. */
  g_assert_null (concurry_as_completed_next (it, &error));
  g_assert_no_error (error);
}

/* Enough inputs that the callbacks fill several blocks: those done first
 * come in the order given, the others as they complete. */
static void
test_as_completed_many_inputs (void)
{
  enum { N = 5000 };
  ConcurryFuture **fs = g_new (ConcurryFuture *, N);
  g_autoptr(ConcurryAsCompleted) it = NULL;
  guint n = 0;

  for (guint i = 0; i < N; i++)
    fs[i] = i % 3 == 0
      ? concurry_resolved_future_new_int ((int)i)
      : CONCURRY_FUTURE (concurry_promise_new ());
  it = concurry_as_completed (fs, N, -1);

  for (guint i = N; i-- > 0;)
    if (i % 3 != 0)
      concurry_promise_resolve_int (CONCURRY_PROMISE (fs[i]), (int)i);

  for (guint i = 0; i < N; i += 3, n++)
    {
      g_autoptr(ConcurryFuture) f = concurry_as_completed_next (it, NULL);
      g_assert_true (f == fs[i]);
    }
  for (guint i = N; i-- > 0;)
    if (i % 3 != 0)
      {
        g_autoptr(ConcurryFuture) f = concurry_as_completed_next (it, NULL);
        g_assert_true (f == fs[i]);
        n++;
      }
  g_assert_cmpuint (n, ==, N);
  g_assert_null (concurry_as_completed_next (it, NULL));

  for (guint i = 0; i < N; i++)
    g_object_unref (fs[i]);
  g_free (fs);
}

/* Each future given several times, anywhere in the array, done or not,
 * comes once: those done at the start in the order of their first place,
 * the others as they complete. @spread puts the futures far apart in
 * memory (other allocations between them), as futures made at different
 * times are, rather than one after the other. */
static void
check_as_completed_duplicates (gboolean spread)
{
  enum { N = 300, COPIES = 3 };
  ConcurryFuture *distinct[N];
  ConcurryFuture *fs[N * COPIES];
  gpointer gaps[N];
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(ConcurryAsCompleted) it = NULL;
  gboolean given[N] = { FALSE, };
  guint n_done_first = 0;

  for (guint i = 0; i < N; i++)
    {
      distinct[i] = i % 4 == 0
        ? concurry_resolved_future_new_int ((int)i)
        : CONCURRY_FUTURE (concurry_promise_new ());
      gaps[i] = spread ? g_malloc (4096) : NULL;
    }
  for (guint i = 0; i < N * COPIES; i++)
    fs[i] = distinct[i % N];
  for (guint i = N * COPIES - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, (gint32)i + 1);
      ConcurryFuture *swap = fs[i];

      fs[i] = fs[j];
      fs[j] = swap;
    }

  it = concurry_as_completed (fs, N * COPIES, -1);
  g_assert_cmpuint (concurry_as_completed_get_n_remaining (it), ==, N);

  /* The done ones, in the order of their first place in the array. */
  for (guint i = 0; i < N * COPIES; i++)
    {
      g_autoptr(ConcurryFuture) f = NULL;
      guint k;

      if (!concurry_future_is_done (fs[i]))
        continue;
      k = (guint)concurry_future_get_int (fs[i]);
      if (given[k])
        continue;
      {
        f = concurry_as_completed_next (it, NULL);

        g_assert_true (f == fs[i]);
        given[k] = TRUE;
        n_done_first++;
      }
    }
  g_assert_cmpuint (n_done_first, ==, N / 4);

  for (guint i = 0; i < N; i++)
    if (!concurry_future_is_done (distinct[i]))
      {
        g_autoptr(ConcurryFuture) f = NULL;

        concurry_promise_resolve_int (CONCURRY_PROMISE (distinct[i]), (int)i);
        f = concurry_as_completed_next (it, NULL);
        g_assert_true (f == distinct[i]);
        g_assert_false (given[i]);
        given[i] = TRUE;
      }

  g_assert_null (concurry_as_completed_next (it, NULL));
  g_assert_cmpuint (concurry_as_completed_get_n_remaining (it), ==, 0);
  for (guint i = 0; i < N; i++)
    {
      g_assert_true (given[i]);
      g_object_unref (distinct[i]);
      g_free (gaps[i]);
    }
}

static void
test_as_completed_duplicates_anywhere (void)
{
  check_as_completed_duplicates (FALSE);
}

static void
test_as_completed_duplicates_far_apart (void)
{
  check_as_completed_duplicates (TRUE);
}

/* An input that is not a future, after others that are, is refused as a
 * whole: the call returns NULL with a critical, and leaves the futures as
 * they were (no callback on them, no reference taken). */
static void
test_as_completed_refuses_non_future_after_futures (void)
{
  ConcurryPromise *pending = concurry_promise_new ();
  ConcurryFuture *done = concurry_resolved_future_new_int (1);
  GObject *not_a_future = g_object_new (G_TYPE_OBJECT, NULL);
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (pending), done, (ConcurryFuture *)not_a_future };
  ConcurryAsCompleted *it;

  g_object_add_weak_pointer (G_OBJECT (pending), (gpointer *)&pending);
  g_object_add_weak_pointer (G_OBJECT (done), (gpointer *)&done);

  g_test_expect_message ("Concurry", G_LOG_LEVEL_CRITICAL, "*concurry_as_completed*");
  it = concurry_as_completed (fs, G_N_ELEMENTS (fs), -1);
  g_test_assert_expected_messages ();
  g_assert_null (it);

  /* Completing it afterwards reaches nothing of the refused call. */
  concurry_promise_resolve_int (pending, 2);
  g_object_unref (pending);
  g_object_unref (done);
  g_assert_null (pending);
  g_assert_null (done);
  g_object_unref (not_a_future);
}

/* A group over enough pending inputs that its callbacks fill several
 * blocks. */
static void
test_gather_many_pending_inputs (void)
{
  enum { N = 3000 };
  ConcurryFuture **fs = g_new (ConcurryFuture *, N);
  g_autoptr(ConcurryFuture) all = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *values;

  for (guint i = 0; i < N; i++)
    fs[i] = CONCURRY_FUTURE (concurry_promise_new ());
  all = concurry_gather (fs, N, CONCURRY_GATHER_FLAGS_NONE);
  for (guint i = 0; i < N; i++)
    concurry_promise_resolve_int (CONCURRY_PROMISE (fs[i]), (int)i);

  g_assert_true (concurry_future_wait (all, -1, &error));
  g_assert_no_error (error);
  values = concurry_future_get_boxed (all);
  g_assert_cmpuint (values->len, ==, N);
  g_assert_cmpint (concurry_future_get_int (values->pdata[N - 1]), ==, N - 1);

  for (guint i = 0; i < N; i++)
    g_object_unref (fs[i]);
  g_free (fs);
}

static void
test_as_completed_empty (void)
{
  g_autoptr(ConcurryAsCompleted) it = concurry_as_completed (NULL, 0, 0);
  g_autoptr(GError) error = NULL;

  g_assert_null (concurry_as_completed_next (it, &error));
  g_assert_no_error (error);
}

static void
test_as_completed_timeout (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  g_autoptr(ConcurryPromise) b = promise ();
  g_autoptr(ConcurryFuture) c = concurry_resolved_future_new_int (0);
  g_autoptr(ConcurryFuture) d = concurry_resolved_future_new_int (0);
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a), CONCURRY_FUTURE (b), c, d };
  g_autoptr(GError) error = NULL;

  /* Negative timeout here means none; 0 yields what is done, then fails. */
  for (gint64 timeout = 0; timeout <= 10000; timeout += 10000)
    {
      g_autoptr(ConcurryAsCompleted) it = concurry_as_completed (fs, 4, timeout);
      ConcurryFuture *f;

      for (int i = 0; i < 2; i++)
        {
          f = concurry_as_completed_next (it, &error);
          g_assert_no_error (error);
          g_assert_true (f == c || f == d);
          g_object_unref (f);
        }
      g_assert_null (concurry_as_completed_next (it, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_assert_cmpstr (error->message, ==, "2 (of 4) futures unfinished");
      g_clear_error (&error);
    }
}

static void
test_as_completed_drops_references (void)
{
  ConcurryFuture *f = concurry_resolved_future_new_int (1);
  g_autoptr(ConcurryAsCompleted) it = concurry_as_completed (&f, 1, -1);
  ConcurryFuture *got;
  GWeakRef weak;

  g_weak_ref_init (&weak, f);
  g_object_unref (f);
  got = concurry_as_completed_next (it, NULL);
  g_object_unref (got);
  /* The iterator kept nothing once it gave the future out. */
  g_assert_null (g_weak_ref_get (&weak));
  g_weak_ref_clear (&weak);
}

static void
next_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GPtrArray *got = user_data;
  GError *error = NULL;
  ConcurryFuture *f = concurry_as_completed_next_finish (CONCURRY_AS_COMPLETED (object), result, &error);

  g_assert_no_error (error);
  g_ptr_array_add (got, f ? (gpointer)f : (gpointer)"end");
}

static void
test_as_completed_async (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  g_autoptr(ConcurryPromise) b = promise ();
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a), CONCURRY_FUTURE (b) };
  g_autoptr(ConcurryAsCompleted) it = concurry_as_completed (fs, 2, -1);
  g_autoptr(GPtrArray) got = g_ptr_array_new ();

  for (int i = 0; i < 3; i++)
    {
      guint before = got->len;

      concurry_as_completed_next_async (it, NULL, next_cb, got);
      if (i == 0)
        concurry_promise_resolve_int (b, 1);
      else if (i == 1)
        concurry_promise_resolve_int (a, 1);
      while (got->len == before)
        g_main_context_iteration (NULL, TRUE);
    }
  g_assert_true (got->pdata[0] == CONCURRY_FUTURE (b));
  g_assert_true (got->pdata[1] == CONCURRY_FUTURE (a));
  g_assert_cmpstr (got->pdata[2], ==, "end");
  g_object_unref (got->pdata[0]);
  g_object_unref (got->pdata[1]);
}

/* Consumers that keep up with a producer on another thread: they catch
 * up with it, wait for its next future (spinning, then sleeping) and
 * take what it completed meanwhile, often several at once. Whatever the
 * timing, each input comes exactly once, to one consumer, and each
 * consumer gets the futures in the order they completed. Three consumers
 * call next() at once, the main thread among them (which iterates its
 * main context when it sleeps). The producer completes its promises in
 * bursts of 1 to 64, each once the consumers have taken everything
 * before it, so that they wait between bursts, and long ones stream. */
#define N_STREAMED_DONE 500
#define N_STREAMED      4000

typedef struct
{
  ConcurryAsCompleted  *it;
  ConcurryPromise     **promises;
  guint                 n_given[N_STREAMED];   /* atomic, per input */
  int                   go;
} Streamed;

static gpointer
produce_streamed (gpointer data)
{
  Streamed *s = data;
  guint i = 0;

  while (!g_atomic_int_get (&s->go))
    g_thread_yield ();
  for (guint burst = 1; i < N_STREAMED - N_STREAMED_DONE; burst = burst % 64 + 1)
    {
      /* Everything before this burst was taken: the consumers wait. */
      while (concurry_as_completed_get_n_remaining (s->it) > N_STREAMED - N_STREAMED_DONE - i)
        g_thread_yield ();
      for (guint end = MIN (i + burst, N_STREAMED - N_STREAMED_DONE); i < end; i++)
        concurry_promise_resolve_int (s->promises[i], (int)(N_STREAMED_DONE + i));
    }

  return NULL;
}

static gpointer
consume_streamed (gpointer data)
{
  Streamed *s = data;
  ConcurryFuture *f;
  int last = -1;
  guint n = 0;

  while ((f = concurry_as_completed_next (s->it, NULL)) != NULL)
    {
      int value = concurry_future_get_int (f);

      /* In completion order: the values grow. */
      g_assert_cmpint (value, >, last);
      last = value;
      g_atomic_int_inc ((gint *)&s->n_given[value]);
      g_object_unref (f);
      n++;
    }

  return GUINT_TO_POINTER (n);
}

static void
test_as_completed_consumers_keeping_up (void)
{
  guint n_rounds = g_getenv ("CONCURRY_TEST_SLOW") != NULL ? 2 : 10;

  for (guint round = 0; round < n_rounds; round++)
    {
      ConcurryFuture **fs = g_new (ConcurryFuture *, N_STREAMED);
      Streamed *s = g_new0 (Streamed, 1);
      GThread *producer, *consumers[2];
      guint n;

      for (guint i = 0; i < N_STREAMED_DONE; i++)
        fs[i] = concurry_resolved_future_new_int ((int)i);
      s->promises = (ConcurryPromise **)fs + N_STREAMED_DONE;
      for (guint i = 0; i < N_STREAMED - N_STREAMED_DONE; i++)
        s->promises[i] = concurry_promise_new ();
      s->it = concurry_as_completed (fs, N_STREAMED, -1);

      producer = g_thread_new ("producer", produce_streamed, s);
      for (guint c = 0; c < G_N_ELEMENTS (consumers); c++)
        consumers[c] = g_thread_new ("consumer", consume_streamed, s);
      g_atomic_int_set (&s->go, 1);
      n = GPOINTER_TO_UINT (consume_streamed (s));
      for (guint c = 0; c < G_N_ELEMENTS (consumers); c++)
        n += GPOINTER_TO_UINT (g_thread_join (consumers[c]));
      g_thread_join (producer);

      g_assert_cmpuint (n, ==, N_STREAMED);
      for (guint i = 0; i < N_STREAMED; i++)
        g_assert_cmpuint (s->n_given[i], ==, 1);
      g_assert_cmpuint (concurry_as_completed_get_n_remaining (s->it), ==, 0);
      g_assert_null (concurry_as_completed_next (s->it, NULL));

      g_object_unref (s->it);
      for (guint i = 0; i < N_STREAMED; i++)
        g_object_unref (fs[i]);
      g_free (fs);
      g_free (s);
    }
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  GThread **thread = user_data;

  *thread = g_thread_self ();
}

static gpointer
resolve_later (gpointer data)
{
  concurry_promise_resolve_int (data, 7);
  return NULL;
}

static void
test_completion_list (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  g_autoptr(ConcurryPromise) b = promise ();
  g_autoptr(ConcurryFuture) c = concurry_resolved_future_new_int (0);
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a), CONCURRY_FUTURE (b), c, c };
  g_autoptr(ConcurryCompletionList) list = concurry_completion_list_new (fs, 4);
  GListModel *model = G_LIST_MODEL (list);
  GThread *changed_on = NULL;
  g_autoptr(GObject) item = NULL;

  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), &changed_on);
  g_assert_cmpint (g_list_model_get_item_type (model), ==, CONCURRY_TYPE_FUTURE);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  while (g_list_model_get_n_items (model) < 1)
    g_main_context_iteration (NULL, TRUE);

  /* Completed from a worker: appended on this thread's context. */
  g_thread_join (g_thread_new ("resolver", resolve_later, b));
  concurry_promise_resolve_int (a, 1);
  while (g_list_model_get_n_items (model) < 3)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (changed_on == g_thread_self ());

  item = g_list_model_get_item (model, 0);
  g_assert_true (item == (GObject *)c);
  g_clear_object (&item);
  item = g_list_model_get_item (model, 1);
  g_assert_true (item == (GObject *)b);
  g_clear_object (&item);
  item = g_list_model_get_item (model, 2);
  g_assert_true (item == (GObject *)a);
  g_assert_null (g_list_model_get_item (model, 3));
}

/* ---- gather, any, race ---- */

static void
test_gather_order (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  g_autoptr(ConcurryPromise) b = promise ();
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a), CONCURRY_FUTURE (b), CONCURRY_FUTURE (a) };
  g_autoptr(ConcurryFuture) all = concurry_gather (fs, 3, CONCURRY_GATHER_FLAGS_NONE);
  GPtrArray *results;

  concurry_promise_resolve_int (b, 2);
  g_assert_false (concurry_future_is_done (all));
  concurry_promise_resolve_int (a, 1);
  g_assert_true (concurry_future_wait (all, 0, NULL));
  results = concurry_future_get_boxed (all);
  /* Input order, duplicates kept in place. */
  g_assert_cmpuint (results->len, ==, 3);
  g_assert_cmpint (concurry_future_get_int (results->pdata[0]), ==, 1);
  g_assert_cmpint (concurry_future_get_int (results->pdata[1]), ==, 2);
  g_assert_true (results->pdata[2] == CONCURRY_FUTURE (a));
}

static void
test_gather_first_failure (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  g_autoptr(ConcurryPromise) b = promise ();
  g_autoptr(ConcurryPromise) c = promise ();
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a), CONCURRY_FUTURE (b), CONCURRY_FUTURE (c) };
  g_autoptr(ConcurryFuture) all = concurry_gather (fs, 3, CONCURRY_GATHER_FLAGS_NONE);
  g_autoptr(GError) error = NULL;

  /* The first failure to happen, not the first in input order. */
  concurry_promise_reject_literal (c, G_IO_ERROR, G_IO_ERROR_BUSY, "c failed");
  g_assert_false (concurry_future_wait (all, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);
  /* The others are left alone... */
  g_assert_false (concurry_future_is_done (CONCURRY_FUTURE (a)));
  concurry_promise_reject_literal (a, G_IO_ERROR, G_IO_ERROR_FAILED, "a failed");
  concurry_future_get_error (CONCURRY_FUTURE (a));
  g_assert_error (concurry_future_get_error (all), G_IO_ERROR, G_IO_ERROR_BUSY);
  concurry_future_cancel (CONCURRY_FUTURE (b));
}

static void
test_gather_cancelled_input (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  g_autoptr(ConcurryFuture) ok = concurry_resolved_future_new_int (1);
  ConcurryFuture *fs[] = { ok, CONCURRY_FUTURE (a) };
  g_autoptr(ConcurryFuture) all = concurry_gather (fs, 2, CONCURRY_GATHER_FLAGS_NONE);
  g_autoptr(ConcurryFuture) outcomes = concurry_gather (fs, 2, CONCURRY_GATHER_FLAGS_ALL_OUTCOMES);

  concurry_future_cancel (fs[1]);
  g_assert_error (concurry_future_get_error (all), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Every outcome, in input order. */
  g_assert_true (concurry_future_wait (outcomes, 0, NULL));
  g_assert_true (concurry_future_is_cancelled (((GPtrArray *)concurry_future_get_boxed (outcomes))->pdata[1]));
}

static void
test_cancelled_input_leaves_others_alone (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  g_autoptr(ConcurryPromise) b = promise ();
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a), CONCURRY_FUTURE (b) };
  g_autoptr(ConcurryFuture) all = concurry_gather (fs, 2, CONCURRY_GATHER_FLAGS_NONE);
  g_autoptr(ConcurryFuture) first = concurry_race (fs, 2);

  /* The group is settled by the cancelled input (and so is cancelled
   * itself), but only a cancel() from outside reaches the other inputs. */
  concurry_future_cancel (fs[0]);
  g_assert_true (concurry_future_is_cancelled (all));
  g_assert_true (concurry_future_is_cancelled (first));
  g_assert_false (concurry_future_is_done (fs[1]));
  concurry_promise_resolve_int (b, 1);
}

static void
test_gather_empty_and_cancel (void)
{
  g_autoptr(ConcurryFuture) empty = concurry_gather (NULL, 0, CONCURRY_GATHER_FLAGS_NONE);
  g_autoptr(ConcurryPromise) a = promise ();
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a) };
  g_autoptr(ConcurryFuture) all = concurry_gather (fs, 1, CONCURRY_GATHER_FLAGS_NONE);

  g_assert_true (concurry_future_wait (empty, 0, NULL));
  g_assert_cmpuint (((GPtrArray *)concurry_future_get_boxed (empty))->len, ==, 0);
  /* Cancelling the gather cancels its inputs. */
  concurry_future_cancel (all);
  g_assert_true (concurry_future_is_cancelled (CONCURRY_FUTURE (a)));
}

static void
test_any (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  g_autoptr(ConcurryPromise) b = promise ();
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a), CONCURRY_FUTURE (b) };
  g_autoptr(ConcurryFuture) first = concurry_any (fs, 2);
  g_autoptr(ConcurryFuture) none = concurry_any (NULL, 0);
  g_autoptr(ConcurryFuture) failing = NULL;
  g_autoptr(ConcurryPromise) c = promise ();
  g_autoptr(ConcurryPromise) d = promise ();
  ConcurryFuture *gs[] = { CONCURRY_FUTURE (c), CONCURRY_FUTURE (d) };

  concurry_promise_reject_literal (a, G_IO_ERROR, G_IO_ERROR_FAILED, "a");
  g_assert_false (concurry_future_is_done (first));
  concurry_promise_resolve_string (b, "b");
  g_assert_cmpstr (concurry_future_get_string (first), ==, "b");
  concurry_future_get_error (CONCURRY_FUTURE (a));

  g_assert_error (concurry_future_get_error (none), CONCURRY_ERROR, CONCURRY_ERROR_INVALID_STATE);

  failing = concurry_any (gs, 2);
  concurry_promise_reject_literal (d, G_IO_ERROR, G_IO_ERROR_FAILED, "d");
  concurry_promise_reject_literal (c, G_IO_ERROR, G_IO_ERROR_FAILED, "c");
  g_assert_error (concurry_future_get_error (failing), CONCURRY_ERROR, CONCURRY_ERROR_FAILED);
  g_assert_nonnull (strstr (concurry_future_get_error (failing)->message, "2"));
}

static void
test_race_loser_does_not_warn (void)
{
  /* The test runs with fatal warnings: the input that lost must count as
   * handled when it fails later. (A promise stands for a timeout here, so
   * that it fails only once the race is settled, however slow the
   * machine.) */
  g_autoptr(ConcurryPromise) work = promise ();
  ConcurryPromise *loser = promise ();
  ConcurryFuture *fs[2];
  g_autoptr(ConcurryFuture) first = NULL;

  fs[0] = CONCURRY_FUTURE (work);
  fs[1] = CONCURRY_FUTURE (loser);
  first = concurry_race (fs, 2);
  concurry_promise_resolve_int (work, 1);
  g_assert_cmpint (concurry_future_get_int (first), ==, 1);
  /* Fail it without looking at its error, then drop it: it would warn if
   * the race had not handled it. */
  concurry_promise_reject_literal (loser, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out");
  g_assert_true (concurry_future_is_failed (CONCURRY_FUTURE (loser)));
  g_object_unref (loser);
}

/* A group settled while it is being built (by an input done already)
 * consumes the outcomes of the inputs after that one too, even those that
 * fail only later. Fatal warnings catch one that would warn. */
static void
test_settled_at_start_consumes_later_inputs (void)
{
  g_autoptr(ConcurryPromise) done = promise ();
  g_autoptr(ConcurryPromise) failed = promise ();
  g_autoptr(ConcurryPromise) late_race = promise ();
  g_autoptr(ConcurryPromise) late_any = promise ();
  g_autoptr(ConcurryPromise) late_gather = promise ();
  g_autoptr(ConcurryFuture) won = NULL, found = NULL, gathered = NULL;
  ConcurryFuture *fs[2];

  concurry_promise_resolve_int (done, 1);
  concurry_promise_reject_literal (failed, G_IO_ERROR, G_IO_ERROR_FAILED, "failed first");

  fs[0] = CONCURRY_FUTURE (done);
  fs[1] = CONCURRY_FUTURE (late_race);
  won = concurry_race (fs, 2);
  fs[1] = CONCURRY_FUTURE (late_any);
  found = concurry_any (fs, 2);
  fs[0] = CONCURRY_FUTURE (failed);
  fs[1] = CONCURRY_FUTURE (late_gather);
  gathered = concurry_gather (fs, 2, CONCURRY_GATHER_FLAGS_NONE);

  g_assert_cmpint (concurry_future_get_int (won), ==, 1);
  g_assert_cmpint (concurry_future_get_int (found), ==, 1);
  g_assert_error (concurry_future_get_error (gathered), G_IO_ERROR, G_IO_ERROR_FAILED);

  /* They fail later, and nobody looks: dropping them must not warn. */
  concurry_promise_reject_literal (late_race, G_IO_ERROR, G_IO_ERROR_FAILED, "late");
  concurry_promise_reject_literal (late_any, G_IO_ERROR, G_IO_ERROR_FAILED, "late");
  concurry_promise_reject_literal (late_gather, G_IO_ERROR, G_IO_ERROR_FAILED, "late");
  g_clear_object (&late_race);
  g_clear_object (&late_any);
  g_clear_object (&late_gather);
}

static void
test_settled_group_lets_inputs_go (void)
{
  /* A race won by a done input must not keep a pending input alive: the
   * pending one would hold the group through its callback, and the group
   * it, for ever. */
  ConcurryFuture *pending = CONCURRY_FUTURE (promise ());
  g_autoptr(ConcurryFuture) done = concurry_resolved_future_new_int (1);
  ConcurryFuture *fs[] = { pending, done };
  g_autoptr(ConcurryFuture) first = concurry_race (fs, 2);
  g_autoptr(ConcurryFuture) all = concurry_gather (fs, 2, CONCURRY_GATHER_FLAGS_NONE);
  GWeakRef weak;

  g_assert_cmpint (concurry_future_get_int (first), ==, 1);
  g_weak_ref_init (&weak, pending);
  concurry_future_cancel (all);
  g_object_unref (pending);
  g_assert_null (g_weak_ref_get (&weak));
  g_weak_ref_clear (&weak);
}

static void
test_race (void)
{
  g_autoptr(ConcurryPromise) a = promise ();
  g_autoptr(ConcurryPromise) b = promise ();
  ConcurryFuture *fs[] = { CONCURRY_FUTURE (a), CONCURRY_FUTURE (b) };
  g_autoptr(ConcurryFuture) first = concurry_race (fs, 2);

  concurry_promise_reject_literal (b, G_IO_ERROR, G_IO_ERROR_EXISTS, "b");
  g_assert_error (concurry_future_get_error (first), G_IO_ERROR, G_IO_ERROR_EXISTS);
  concurry_promise_resolve_int (a, 1);
  g_assert_true (concurry_future_is_failed (first));
}

/* ---- chains ---- */

static void
add_one (ConcurryFuture  *future,
         GValue          *result,
         gpointer         user_data,
         GError         **error)
{
  g_value_init (result, G_TYPE_INT);
  g_value_set_int (result, concurry_future_get_int (future) + 1);
}

static gboolean
resolve_idle (gpointer data)
{
  concurry_promise_resolve_int (data, 100);
  return G_SOURCE_REMOVE;
}

static void
start_more_work (const GValue  *value,
                 GValue        *result,
                 gpointer       user_data,
                 GError       **error)
{
  ConcurryPromise *later = concurry_promise_new ();

  g_idle_add_full (G_PRIORITY_DEFAULT, resolve_idle, later, g_object_unref);
  g_value_init (result, CONCURRY_TYPE_FUTURE);
  g_value_set_object (result, later);
}

static void
times_ten (const GValue  *value,
           GValue        *result,
           gpointer       user_data,
           GError       **error)
{
  g_value_init (result, G_TYPE_INT);
  g_value_set_int (result, g_value_get_int (value) * 10);
}

static void
test_chain_flattens (void)
{
  g_autoptr(ConcurryPromise) start = promise ();
  g_autoptr(ConcurryFuture) a = concurry_future_and_then (CONCURRY_FUTURE (start), add_one, NULL, NULL);
  g_autoptr(ConcurryFuture) b = concurry_future_map (a, start_more_work, NULL, NULL);
  g_autoptr(ConcurryFuture) c = concurry_future_map (b, times_ten, NULL, NULL);

  concurry_promise_resolve_int (start, 1);
  /* Never synchronous: steps run on this context. */
  g_assert_false (concurry_future_is_done (a));
  g_assert_true (concurry_future_wait (c, -1, NULL));
  g_assert_cmpint (concurry_future_get_int (a), ==, 2);
  g_assert_cmpint (concurry_future_get_int (b), ==, 100);
  g_assert_cmpint (concurry_future_get_int (c), ==, 1000);
}

static void
must_not_run (ConcurryFuture  *future,
              GValue          *result,
              gpointer         user_data,
              GError         **error)
{
  g_assert_not_reached ();
}

static void
recover (ConcurryFuture  *future,
         GValue          *result,
         gpointer         user_data,
         GError         **error)
{
  g_assert_error (concurry_future_get_error (future), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_value_init (result, G_TYPE_STRING);
  g_value_set_string (result, "recovered");
}

static void
count_finally (ConcurryFuture *future,
               gpointer        user_data)
{
  (*(int *)user_data)++;
}

static void
test_chain_errors_propagate (void)
{
  int finally_runs = 0;
  g_autoptr(ConcurryPromise) start = promise ();
  g_autoptr(ConcurryFuture) a = concurry_future_and_then (CONCURRY_FUTURE (start), must_not_run, NULL, NULL);
  g_autoptr(ConcurryFuture) b = concurry_future_finally_do (a, count_finally, &finally_runs, NULL);
  g_autoptr(ConcurryFuture) c = concurry_future_catch_error (b, recover, NULL, NULL);
  g_autoptr(ConcurryFuture) d = concurry_future_catch_error (c, must_not_run, NULL, NULL);
  g_autoptr(GError) error = NULL;

  concurry_promise_reject_literal (start, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "missing");
  g_assert_true (concurry_future_wait (d, -1, &error));
  /* The original error, unchanged, down to the step that handled it. */
  g_assert_error (concurry_future_get_error (a), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_error (concurry_future_get_error (b), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (concurry_future_get_string (c), ==, "recovered");
  g_assert_cmpstr (concurry_future_get_string (d), ==, "recovered");
  g_assert_cmpint (finally_runs, ==, 1);
}

static void
test_chain_cancel_end_cancels_upstream (void)
{
  g_autoptr(ConcurryPromise) start = promise ();
  g_autoptr(ConcurryFuture) a = concurry_future_and_then (CONCURRY_FUTURE (start), add_one, NULL, NULL);
  g_autoptr(ConcurryFuture) b = concurry_future_and_then (a, add_one, NULL, NULL);

  g_assert_true (concurry_future_cancel (b));
  g_assert_true (concurry_future_is_cancelled (a));
  g_assert_true (concurry_future_is_cancelled (CONCURRY_FUTURE (start)));

  /* Cancellation goes down too. */
  {
    g_autoptr(ConcurryPromise) s2 = promise ();
    g_autoptr(ConcurryFuture) x = concurry_future_and_then (CONCURRY_FUTURE (s2), must_not_run, NULL, NULL);
    concurry_future_cancel (CONCURRY_FUTURE (s2));
    iterate_until_done (x);
    g_assert_true (concurry_future_is_cancelled (x));
  }
}

static void
destroy_count (gpointer data)
{
  (*(int *)data)++;
}

static void
test_chain_upstream_abandoned (void)
{
  /* The chain does not keep its upstream alive: a dropped promise is
   * abandoned, and the chain fails with that. */
  ConcurryPromise *start = promise ();
  g_autoptr(ConcurryFuture) end = concurry_future_and_then (CONCURRY_FUTURE (start), must_not_run, NULL, NULL);
  g_autoptr(ConcurryFuture) bounded = concurry_future_with_timeout (end, FOREVER);

  g_object_unref (start);
  iterate_until_done (end);
  g_assert_error (concurry_future_get_error (end), CONCURRY_ERROR, CONCURRY_ERROR_ABANDONED);
  g_assert_error (concurry_future_get_error (bounded), CONCURRY_ERROR, CONCURRY_ERROR_ABANDONED);
}

static void
test_chain_user_data_destroyed (void)
{
  g_autoptr(ConcurryPromise) start = promise ();
  int destroyed = 0;
  g_autoptr(ConcurryFuture) a = concurry_future_and_then (CONCURRY_FUTURE (start), add_one,
                                                          &destroyed, destroy_count);

  concurry_promise_resolve_int (start, 1);
  iterate_until_done (a);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpint (destroyed, ==, 1);
}

/* ---- timers ---- */

static void
test_delay_and_timeout (void)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(ConcurryFuture) delay = concurry_delay (20000);
  g_autoptr(ConcurryFuture) timeout = concurry_timeout (20000);
  g_autoptr(GError) error = NULL;

  /* No main loop needed: wait from this thread without iterating helps
   * nothing here, the timers have their own thread. */
  g_assert_true (concurry_future_wait (delay, -1, &error));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20000);
  g_assert_false (concurry_future_wait (timeout, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

static void
test_with_timeout (void)
{
  g_autoptr(ConcurryPromise) slow = promise ();
  g_autoptr(ConcurryPromise) fast = promise ();
  g_autoptr(ConcurryFuture) slow_t = concurry_future_with_timeout (CONCURRY_FUTURE (slow), 10000);
  g_autoptr(ConcurryFuture) fast_t = concurry_future_with_timeout (CONCURRY_FUTURE (fast), FOREVER);
  g_autoptr(ConcurryFuture) zero = NULL;
  g_autoptr(GError) error = NULL;

  concurry_promise_resolve_int (fast, 5);
  g_assert_cmpint (concurry_future_get_int (fast_t), ==, 5);
  g_assert_false (concurry_future_wait (slow_t, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  /* The source is not cancelled by the timeout. */
  g_assert_false (concurry_future_is_done (CONCURRY_FUTURE (slow)));

  /* A future already done gives its outcome, even with no time at all:
   * the timer never gets a chance to be first. */
  for (guint i = 0; i < 2000; i++)
    {
      g_autoptr(ConcurryFuture) done = concurry_resolved_future_new_int (i);
      g_autoptr(ConcurryFuture) bounded = concurry_future_with_timeout (done, 0);

      g_assert_cmpint (concurry_future_get_state (bounded), ==, CONCURRY_FUTURE_STATE_DONE);
    }

  /* 0 and negative time out at once. */
  zero = concurry_future_with_timeout (CONCURRY_FUTURE (slow), -5);
  g_assert_false (concurry_future_wait (zero, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);

  /* Cancelling the bounded future cancels the source. */
  concurry_future_cancel (slow_t);
  g_assert_false (concurry_future_is_cancelled (CONCURRY_FUTURE (slow)));
  {
    g_autoptr(ConcurryFuture) bounded = concurry_future_with_timeout (CONCURRY_FUTURE (slow), FOREVER);
    concurry_future_cancel (bounded);
    g_assert_true (concurry_future_is_cancelled (CONCURRY_FUTURE (slow)));
  }
}

/* Groups register on inputs while another thread completes them, and
 * are dropped while inputs are pending: their callbacks live in one array
 * of the group, which must outlive every callback still on an input and
 * go with the last one (ASan and valgrind run this too). */
#define N_RACING 48

typedef struct
{
  ConcurryPromise *inputs[N_RACING];
  int              go;
} Racing;

static gpointer
complete_racing (gpointer data)
{
  Racing *r = data;

  while (!g_atomic_int_get (&r->go))
    g_thread_yield ();
  for (guint i = 0; i < N_RACING; i++)
    {
      if (i % 5 == 3)
        concurry_promise_reject_literal (r->inputs[i], G_IO_ERROR, G_IO_ERROR_FAILED, "racing");
      else if (i % 7 == 6)
        concurry_future_cancel (CONCURRY_FUTURE (r->inputs[i]));
      else
        concurry_promise_resolve_int (r->inputs[i], (int)i);
    }

  return NULL;
}

static void
test_register_while_completing (void)
{
  guint n_rounds = g_getenv ("CONCURRY_TEST_SLOW") != NULL ? 40 : 4000;

  for (guint round = 0; round < n_rounds; round++)
    {
      ConcurryFuture **fs = g_new (ConcurryFuture *, N_RACING);
      g_autoptr(ConcurryFuture) won = NULL, found = NULL, gathered = NULL, all = NULL;
      g_autoptr(ConcurryAsCompleted) it = NULL;
      g_autoptr(GPtrArray) done = NULL, not_done = NULL;
      ConcurryFuture *f;
      Racing r = { { NULL, }, 0 };
      GThread *thread;
      guint n_given = 0;
      gboolean met;

      for (guint i = 0; i < N_RACING; i++)
        {
          r.inputs[i] = promise ();
          fs[i] = CONCURRY_FUTURE (r.inputs[i]);
        }
      thread = g_thread_new ("completer", complete_racing, &r);
      /* Let go at different points of the registrations. */
      if (round % 3 == 0)
        g_atomic_int_set (&r.go, 1);

      won = concurry_race (fs, N_RACING);
      /* Dropped while its inputs may be pending: its callbacks stay. */
      g_object_unref (concurry_any (fs, N_RACING));
      if (round % 3 == 1)
        g_atomic_int_set (&r.go, 1);
      found = concurry_any (fs, N_RACING);
      gathered = concurry_gather (fs, N_RACING, CONCURRY_GATHER_FLAGS_NONE);
      all = concurry_gather (fs, N_RACING, CONCURRY_GATHER_FLAGS_ALL_OUTCOMES);
      it = concurry_as_completed (fs, N_RACING, -1);
      /* Met or not, depending on how far the other thread got. */
      met = concurry_wait (fs, N_RACING, CONCURRY_WAIT_FIRST_COMPLETED, 0, &done, &not_done);
      g_assert_cmpuint (done->len + not_done->len, ==, N_RACING);
      g_assert_true (met == (done->len > 0));
      g_atomic_int_set (&r.go, 1);

      while ((f = concurry_as_completed_next (it, NULL)) != NULL)
        {
          n_given++;
          g_object_unref (f);
        }
      g_assert_cmpuint (n_given, ==, N_RACING);
      g_thread_join (thread);

      /* The first input succeeded, and it was completed first. */
      g_assert_cmpint (concurry_future_get_int (won), ==, 0);
      g_assert_cmpint (concurry_future_get_int (found), ==, 0);
      g_assert_error (concurry_future_get_error (gathered), G_IO_ERROR, G_IO_ERROR_FAILED);
      g_assert_true (concurry_future_wait (all, -1, NULL));

      for (guint i = 0; i < N_RACING; i++)
        {
          concurry_future_get_error (fs[i]);
          g_object_unref (fs[i]);
        }
      g_free (fs);
    }
}

/* Groups dropped while their inputs are pending stay registered on them
 * (their callbacks live in the group) and go once the inputs complete. */
static void
test_dropped_with_pending_inputs (void)
{
  ConcurryPromise *ps[3];
  ConcurryFuture *fs[3];
  ConcurryFuture *groups[4];
  GWeakRef weak[4];

  for (guint i = 0; i < G_N_ELEMENTS (fs); i++)
    {
      ps[i] = promise ();
      fs[i] = CONCURRY_FUTURE (ps[i]);
    }
  groups[0] = concurry_race (fs, 3);
  groups[1] = concurry_gather (fs, 3, CONCURRY_GATHER_FLAGS_ALL_OUTCOMES);
  groups[2] = concurry_any (fs, 3);
  groups[3] = concurry_wait_future (fs, 3, CONCURRY_WAIT_ALL_COMPLETED);
  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      g_weak_ref_init (&weak[i], groups[i]);
      g_object_unref (groups[i]);
    }
  g_object_unref (concurry_as_completed (fs, 3, -1));

  /* Still there: the inputs' callbacks hold the groups. */
  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      ConcurryFuture *alive = g_weak_ref_get (&weak[i]);

      g_assert_nonnull (alive);
      g_assert_false (concurry_future_is_done (alive));
      g_object_unref (alive);
    }

  for (guint i = 0; i < G_N_ELEMENTS (ps); i++)
    concurry_promise_resolve_int (ps[i], (int)i);
  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      g_assert_null (g_weak_ref_get (&weak[i]));
      g_weak_ref_clear (&weak[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (fs); i++)
    g_object_unref (fs[i]);
}

/* ---- finally_do, whatever the outcome ---- */

static void
drain_default_context (void)
{
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
}

static void
record_finally_state (ConcurryFuture *future,
                      gpointer        user_data)
{
  *(ConcurryFutureState *)user_data = concurry_future_get_state (future);
}

static void
iterate_until_state_known (ConcurryFutureState *state)
{
  while (*state == CONCURRY_FUTURE_STATE_PENDING)
    g_main_context_iteration (NULL, TRUE);
}

/* The end of the chain is the finally step's own future. */
static void
test_finally_runs_when_end_cancelled (void)
{
  g_autoptr(ConcurryPromise) start = promise ();
  ConcurryFutureState seen = CONCURRY_FUTURE_STATE_PENDING;
  g_autoptr(ConcurryFuture) end = concurry_future_finally_do (CONCURRY_FUTURE (start),
                                                              record_finally_state, &seen, NULL);

  g_assert_true (concurry_future_cancel (end));
  iterate_until_state_known (&seen);
  g_assert_cmpint (seen, ==, CONCURRY_FUTURE_STATE_CANCELLED);
  g_assert_true (concurry_future_is_cancelled (end));
}

/* finally_do in the middle: cancelling a later step reaches it. */
static void
test_finally_runs_when_later_step_cancelled (void)
{
  g_autoptr(ConcurryPromise) start = promise ();
  ConcurryFutureState seen = CONCURRY_FUTURE_STATE_PENDING;
  g_autoptr(ConcurryFuture) middle = concurry_future_finally_do (CONCURRY_FUTURE (start),
                                                                 record_finally_state, &seen, NULL);
  g_autoptr(ConcurryFuture) next = concurry_future_and_then (middle, add_one, NULL, NULL);
  g_autoptr(ConcurryFuture) end = concurry_future_and_then (next, add_one, NULL, NULL);

  g_assert_true (concurry_future_cancel (end));
  iterate_until_state_known (&seen);
  g_assert_cmpint (seen, ==, CONCURRY_FUTURE_STATE_CANCELLED);
}

/* Cancelled after its upstream completed, before the step was delivered:
 * it runs with that outcome. */
static void
test_finally_runs_when_cancelled_before_delivery (void)
{
  g_autoptr(ConcurryPromise) start = promise ();
  ConcurryFutureState seen = CONCURRY_FUTURE_STATE_PENDING;
  g_autoptr(ConcurryFuture) end = concurry_future_finally_do (CONCURRY_FUTURE (start),
                                                              record_finally_state, &seen, NULL);

  concurry_promise_resolve_int (start, 1);
  g_assert_true (concurry_future_cancel (end));
  iterate_until_state_known (&seen);
  g_assert_cmpint (seen, ==, CONCURRY_FUTURE_STATE_DONE);
  g_assert_true (concurry_future_is_cancelled (end));
}

/* And on every other outcome, once each. */
static void
test_finally_runs_on_every_outcome (void)
{
  for (int outcome = 0; outcome < 3; outcome++)
    {
      g_autoptr(ConcurryPromise) start = promise ();
      int runs = 0;
      g_autoptr(ConcurryFuture) end = concurry_future_finally_do (CONCURRY_FUTURE (start),
                                                                  count_finally, &runs, NULL);

      if (outcome == 0)
        concurry_promise_resolve_int (start, 1);
      else if (outcome == 1)
        concurry_promise_reject_literal (start, G_IO_ERROR, G_IO_ERROR_FAILED, "failed");
      else
        concurry_future_cancel (CONCURRY_FUTURE (start));
      while (runs == 0)
        g_main_context_iteration (NULL, TRUE);
      drain_default_context ();
      g_assert_cmpint (runs, ==, 1);
      if (outcome == 1)
        g_assert_error (concurry_future_get_error (end), G_IO_ERROR, G_IO_ERROR_FAILED);
    }
}

/* ---- finally_then: a clean-up that can fail or take time ---- */

typedef struct
{
  int              runs;
  ConcurryFutureState seen;
  const char      *fail;      /* fail with this message, if set */
  ConcurryFuture  *wait_for;  /* give this future to wait for, if set */
} Cleanup;

static void
cleanup_step (ConcurryFuture  *future,
              GValue          *result,
              gpointer         user_data,
              GError         **error)
{
  Cleanup *cleanup = user_data;

  cleanup->runs++;
  cleanup->seen = concurry_future_get_state (future);
  if (cleanup->fail != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, cleanup->fail);
      return;
    }
  if (cleanup->wait_for != NULL)
    {
      g_value_init (result, CONCURRY_TYPE_FUTURE);
      g_value_set_object (result, cleanup->wait_for);
      return;
    }
  /* a plain value is ignored */
  g_value_init (result, G_TYPE_INT);
  g_value_set_int (result, 99);
}

static void
test_finally_then_passes_the_outcome_through (void)
{
  for (int outcome = 0; outcome < 3; outcome++)
    {
      g_autoptr(ConcurryPromise) start = promise ();
      Cleanup cleanup = { 0, };
      g_autoptr(ConcurryFuture) end = concurry_future_finally_then (CONCURRY_FUTURE (start),
                                                                    cleanup_step, &cleanup, NULL);

      if (outcome == 0)
        concurry_promise_resolve_int (start, 7);
      else if (outcome == 1)
        concurry_promise_reject_literal (start, G_IO_ERROR, G_IO_ERROR_FAILED, "failed");
      else
        concurry_future_cancel (CONCURRY_FUTURE (start));
      iterate_until_done (end);
      drain_default_context ();
      g_assert_cmpint (cleanup.runs, ==, 1);
      if (outcome == 0)
        g_assert_cmpint (g_value_get_int (concurry_future_get_value (end)), ==, 7);
      else if (outcome == 1)
        g_assert_error (concurry_future_get_error (end), G_IO_ERROR, G_IO_ERROR_FAILED);
      else
        g_assert_true (concurry_future_is_cancelled (end));
    }
}

static void
test_finally_then_error_replaces_a_value_or_a_failure (void)
{
  for (int outcome = 0; outcome < 2; outcome++)
    {
      g_autoptr(ConcurryPromise) start = promise ();
      Cleanup cleanup = { 0, CONCURRY_FUTURE_STATE_PENDING, "cleanup failed", NULL };
      g_autoptr(ConcurryFuture) end = concurry_future_finally_then (CONCURRY_FUTURE (start),
                                                                    cleanup_step, &cleanup, NULL);

      if (outcome == 0)
        concurry_promise_resolve_int (start, 7);
      else
        concurry_promise_reject_literal (start, G_IO_ERROR, G_IO_ERROR_FAILED, "failed");
      iterate_until_done (end);
      g_assert_cmpint (cleanup.runs, ==, 1);
      g_assert_error (concurry_future_get_error (end), G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      g_assert_cmpstr (concurry_future_get_error (end)->message, ==, "cleanup failed");
    }
}

static void
test_finally_then_waits_for_the_future_it_gives (void)
{
  for (int cleanup_fails = 0; cleanup_fails < 2; cleanup_fails++)
    {
      g_autoptr(ConcurryPromise) start = promise ();
      g_autoptr(ConcurryPromise) later = promise ();
      Cleanup cleanup = { 0, CONCURRY_FUTURE_STATE_PENDING, NULL, CONCURRY_FUTURE (later) };
      g_autoptr(ConcurryFuture) end = concurry_future_finally_then (CONCURRY_FUTURE (start),
                                                                    cleanup_step, &cleanup, NULL);

      concurry_promise_resolve_int (start, 7);
      while (cleanup.runs == 0)
        g_main_context_iteration (NULL, TRUE);
      drain_default_context ();
      g_assert_false (concurry_future_is_done (end));

      if (cleanup_fails)
        concurry_promise_reject_literal (later, G_IO_ERROR, G_IO_ERROR_CLOSED, "closing failed");
      else
        concurry_promise_resolve_int (later, 1);
      iterate_until_done (end);
      if (cleanup_fails)
        g_assert_error (concurry_future_get_error (end), G_IO_ERROR, G_IO_ERROR_CLOSED);
      else
        g_assert_cmpint (g_value_get_int (concurry_future_get_value (end)), ==, 7);
    }
}

static void
test_finally_then_cancel_while_waiting_cancels_the_cleanup (void)
{
  g_autoptr(ConcurryPromise) start = promise ();
  g_autoptr(ConcurryPromise) later = promise ();
  Cleanup cleanup = { 0, CONCURRY_FUTURE_STATE_PENDING, NULL, CONCURRY_FUTURE (later) };
  g_autoptr(ConcurryFuture) end = concurry_future_finally_then (CONCURRY_FUTURE (start),
                                                                cleanup_step, &cleanup, NULL);

  concurry_promise_resolve_int (start, 7);
  while (cleanup.runs == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (concurry_future_cancel (end));
  g_assert_true (concurry_future_is_cancelled (CONCURRY_FUTURE (later)));
  drain_default_context ();
  g_assert_true (concurry_future_is_cancelled (end));
  g_assert_cmpint (cleanup.runs, ==, 1);
}

/* Cancelled at the end: the clean-up runs, the chain stays cancelled, and
 * its error is reported. */
static void
test_finally_then_on_a_cancelled_chain_reports_its_error (void)
{
  g_autoptr(ConcurryPromise) start = promise ();
  Cleanup cleanup = { 0, CONCURRY_FUTURE_STATE_PENDING, "cleanup failed", NULL };
  g_autoptr(ConcurryFuture) middle = concurry_future_finally_then (CONCURRY_FUTURE (start),
                                                                   cleanup_step, &cleanup, NULL);
  g_autoptr(ConcurryFuture) end = concurry_future_and_then (middle, add_one, NULL, NULL);

  g_test_expect_message ("Concurry", G_LOG_LEVEL_WARNING,
                         "A finally step of a cancelled chain failed: cleanup failed");
  g_assert_true (concurry_future_cancel (end));
  iterate_until_state_known (&cleanup.seen);
  drain_default_context ();
  g_test_assert_expected_messages ();
  g_assert_cmpint (cleanup.runs, ==, 1);
  g_assert_cmpint (cleanup.seen, ==, CONCURRY_FUTURE_STATE_CANCELLED);
  g_assert_true (concurry_future_is_cancelled (middle));
}

/* The same for a clean-up future that fails later, nobody waiting for it. */
static void
test_finally_then_on_a_cancelled_chain_reports_its_future_failing (void)
{
  g_autoptr(ConcurryPromise) start = promise ();
  g_autoptr(ConcurryPromise) later = promise ();
  Cleanup cleanup = { 0, CONCURRY_FUTURE_STATE_PENDING, NULL, CONCURRY_FUTURE (later) };
  g_autoptr(ConcurryFuture) end = concurry_future_finally_then (CONCURRY_FUTURE (start),
                                                                cleanup_step, &cleanup, NULL);

  concurry_promise_resolve_int (start, 1);
  g_assert_true (concurry_future_cancel (end));
  iterate_until_state_known (&cleanup.seen);
  drain_default_context ();
  g_assert_cmpint (cleanup.seen, ==, CONCURRY_FUTURE_STATE_DONE);
  g_assert_false (concurry_future_is_done (CONCURRY_FUTURE (later)));
  g_test_expect_message ("Concurry", G_LOG_LEVEL_WARNING,
                         "A finally step of a cancelled chain failed: late failure");
  concurry_promise_reject_literal (later, G_IO_ERROR, G_IO_ERROR_FAILED, "late failure");
  g_test_assert_expected_messages ();
  g_assert_true (concurry_future_is_cancelled (end));
}

/* ---- any(): every failure it skipped counts as looked at ---- */

static ConcurryFuture *
failed (const char *message)
{
  return concurry_resolved_future_new_error_literal (G_IO_ERROR, G_IO_ERROR_FAILED, message);
}

/* Whether the failures were done before any() was called, before its
 * winner or after it, any() consumed them: dropping them never warns. */
static void
test_any_consumes_every_failure (void)
{
  if (g_test_subprocess ())
    {
      /* failed before any(), before the winner given first */
      {
        g_autoptr(ConcurryFuture) f = failed ("before");
        g_autoptr(ConcurryFuture) ok = concurry_resolved_future_new_int (1);
        ConcurryFuture *in[] = { f, ok };
        g_autoptr(ConcurryFuture) first = concurry_any (in, 2);

        g_assert_cmpint (concurry_future_get_int (first), ==, 1);
      }
      /* failed before any(), given after the winner */
      {
        g_autoptr(ConcurryFuture) ok = concurry_resolved_future_new_int (1);
        g_autoptr(ConcurryFuture) f = failed ("after the winner");
        ConcurryFuture *in[] = { ok, f };
        g_autoptr(ConcurryFuture) first = concurry_any (in, 2);

        g_assert_cmpint (concurry_future_get_int (first), ==, 1);
      }
      /* failed before any(), the winner completing later */
      {
        g_autoptr(ConcurryPromise) later = promise ();
        g_autoptr(ConcurryFuture) f = failed ("before a later winner");
        ConcurryFuture *in[] = { CONCURRY_FUTURE (later), f };
        g_autoptr(ConcurryFuture) first = concurry_any (in, 2);

        concurry_promise_resolve_int (later, 1);
        g_assert_cmpint (concurry_future_get_int (first), ==, 1);
      }
      /* failing after any(), before the winner; and after it */
      {
        g_autoptr(ConcurryPromise) fails_first = promise ();
        g_autoptr(ConcurryPromise) wins = promise ();
        g_autoptr(ConcurryPromise) fails_last = promise ();
        ConcurryFuture *in[] = { CONCURRY_FUTURE (fails_first), CONCURRY_FUTURE (wins),
                                 CONCURRY_FUTURE (fails_last) };
        g_autoptr(ConcurryFuture) first = concurry_any (in, 3);

        concurry_promise_reject_literal (fails_first, G_IO_ERROR, G_IO_ERROR_FAILED, "first");
        concurry_promise_resolve_int (wins, 1);
        concurry_promise_reject_literal (fails_last, G_IO_ERROR, G_IO_ERROR_FAILED, "last");
        g_assert_cmpint (concurry_future_get_int (first), ==, 1);
      }
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr_unmatched ("*never retrieved*");
}

/* ---- groups whose inputs never complete ---- */

typedef ConcurryFuture *(*GroupFunc) (ConcurryFuture **futures,
                                      guint            n_futures);

static ConcurryFuture *
make_gather (ConcurryFuture **futures,
             guint            n_futures)
{
  return concurry_gather (futures, n_futures, CONCURRY_GATHER_FLAGS_NONE);
}

static ConcurryFuture *
make_wait_future (ConcurryFuture **futures,
                  guint            n_futures)
{
  return concurry_wait_future (futures, n_futures, CONCURRY_WAIT_ALL_COMPLETED);
}

static ConcurryFuture *
make_any (ConcurryFuture **futures,
          guint            n_futures)
{
  return concurry_any (futures, n_futures);
}

static ConcurryFuture *
make_race (ConcurryFuture **futures,
           guint            n_futures)
{
  return concurry_race (futures, n_futures);
}

static void
record_error_cb (ConcurryFuture *future,
                 gpointer        user_data)
{
  GError **error = user_data;

  *error = g_error_copy (concurry_future_get_error (future));
}

/* Everything dropped: the group, its result and its inputs are freed, and
 * the promises nobody can resolve any more are abandoned, which their
 * callbacks see. */
static void
test_unreachable_group_is_freed (gconstpointer data)
{
  GroupFunc make = (GroupFunc)data;
  ConcurryFuture *watched = CONCURRY_FUTURE (promise ());
  ConcurryFuture *unwatched = CONCURRY_FUTURE (promise ());
  g_autoptr(ConcurryFuture) done = concurry_resolved_future_new_int (1);
  ConcurryFuture *inputs[] = { watched, unwatched };
  ConcurryFuture *inputs_one_done[] = { unwatched, done };
  ConcurryFuture *result;
  ConcurryFuture *result_one_done;
  g_autoptr(GError) error = NULL;
  GWeakRef weak[4];

  /* Weak references count as a way to look at an error later: the
   * results would warn when they fail unobserved. */
  concurry_set_unobserved_error_warnings (FALSE);
  result = make (inputs, G_N_ELEMENTS (inputs));
  /* race() is decided at once by a done input: not this case's point. */
  result_one_done = make == make_race ? make (inputs, 1) : make (inputs_one_done, 2);
  concurry_future_add_done_callback (watched, record_error_cb, &error, NULL);
  g_weak_ref_init (&weak[0], watched);
  g_weak_ref_init (&weak[1], unwatched);
  g_weak_ref_init (&weak[2], result);
  g_weak_ref_init (&weak[3], result_one_done);

  g_object_unref (result);
  g_object_unref (result_one_done);
  g_object_unref (watched);
  g_object_unref (unwatched);

  drain_default_context ();
  g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_ABANDONED);
  for (guint i = 0; i < G_N_ELEMENTS (weak); i++)
    {
      g_assert_null (g_weak_ref_get (&weak[i]));
      g_weak_ref_clear (&weak[i]);
    }
  concurry_set_unobserved_error_warnings (TRUE);
}

/* Nobody holds the result of a group that fails: nobody can look at its
 * error, which does not warn (the tests run with fatal warnings). */
static void
test_unreachable_group_does_not_warn (gconstpointer data)
{
  GroupFunc make = (GroupFunc)data;
  ConcurryFuture *input = CONCURRY_FUTURE (promise ());

  g_object_unref (make (&input, 1));
  g_object_unref (input);
  drain_default_context ();
}

/* The inputs dropped, the result kept: it is decided by their abandonment
 * (a gather fails with it). */
static void
test_gather_fails_when_inputs_abandoned (void)
{
  ConcurryFuture *input = CONCURRY_FUTURE (promise ());
  g_autoptr(ConcurryFuture) all = concurry_gather (&input, 1, CONCURRY_GATHER_FLAGS_NONE);
  g_autoptr(GError) error = NULL;

  g_object_unref (input);
  g_assert_false (concurry_future_wait (all, 0, &error));
  g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_ABANDONED);
}

/* An input dropped unresolved is gone once its abandonment ran: among
 * the inputs a group gives back, a future failed the same way stands in
 * its place. (AddressSanitizer, in CI, would see the input's address
 * given back.) */
static void
test_gather_gives_a_stand_in_for_an_abandoned_input (void)
{
  g_autoptr(ConcurryPromise) kept = promise ();
  ConcurryFuture *inputs[2] = { CONCURRY_FUTURE (kept), CONCURRY_FUTURE (promise ()) };
  g_autoptr(ConcurryFuture) all = concurry_gather (inputs, 2, CONCURRY_GATHER_FLAGS_ALL_OUTCOMES);
  gpointer dropped = inputs[1];
  GPtrArray *outcomes;

  g_object_unref (inputs[1]);
  concurry_promise_resolve_int (kept, 7);
  g_assert_true (concurry_future_wait (all, 0, NULL));

  outcomes = concurry_future_get_boxed (all);
  g_assert_cmpuint (outcomes->len, ==, 2);
  g_assert_true (outcomes->pdata[0] == (gpointer)kept);
  /* Not the dropped input, brought back: another future (allocated while
   * the input still lived, so at another address). */
  g_assert_true (outcomes->pdata[1] != dropped);
  g_assert_true (concurry_future_is_failed (outcomes->pdata[1]));
  g_assert_error (concurry_future_get_error (outcomes->pdata[1]), CONCURRY_ERROR,
                  CONCURRY_ERROR_ABANDONED);
}

/* The result dropped, the inputs kept: the inputs still complete, and
 * that lets the group go. */
static void
test_dropped_group_result_goes_once_inputs_complete (void)
{
  g_autoptr(ConcurryPromise) input = promise ();
  ConcurryFuture *all = concurry_gather ((ConcurryFuture **)&input, 1, CONCURRY_GATHER_FLAGS_NONE);
  GWeakRef weak;

  g_weak_ref_init (&weak, all);
  g_object_unref (all);
  concurry_promise_resolve_int (input, 1);
  g_assert_null (g_weak_ref_get (&weak));
  g_weak_ref_clear (&weak);
}

/* A step that returns its own chain's future (held in *data). */
static void
return_own_end (ConcurryFuture  *upstream,
                GValue          *result,
                gpointer         data,
                GError         **error)
{
  ConcurryFuture **end = data;

  g_value_init (result, CONCURRY_TYPE_FUTURE);
  g_value_set_object (result, *end);
}

static void
test_chain_step_returning_its_own_end_fails (void)
{
  g_test_summary ("A step (and_then, catch_error, finally_then) that returns the "
                  "future of its own chain fails it with INVALID_STATE instead of "
                  "waiting for itself for ever");

  for (int kind = 0; kind < 3; kind++)
    {
      g_autoptr(ConcurryPromise) start = concurry_promise_new ();
      g_autoptr(GError) error = NULL;
      ConcurryFuture *end;

      if (kind == 0)
        end = concurry_future_and_then (CONCURRY_FUTURE (start), return_own_end, &end, NULL);
      else if (kind == 1)
        end = concurry_future_catch_error (CONCURRY_FUTURE (start), return_own_end, &end, NULL);
      else
        end = concurry_future_finally_then (CONCURRY_FUTURE (start), return_own_end, &end, NULL);
      if (kind == 1)
        concurry_promise_reject_literal (start, G_IO_ERROR, G_IO_ERROR_FAILED, "failed");
      else
        concurry_promise_resolve_int (start, 1);
      iterate_until_done (end);
      g_assert_false (concurry_future_wait (end, 0, &error));
      g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_INVALID_STATE);
      g_object_unref (end);
    }
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Concurry/Wait/empty", test_wait_empty);
  g_test_add_func ("/Concurry/Wait/modes-already-done", test_wait_modes_already_done);
  g_test_add_func ("/Concurry/Wait/duplicates", test_wait_duplicates);
  g_test_add_func ("/Concurry/Wait/first-exception-without-failure", test_wait_first_exception_without_failure);
  g_test_add_func ("/Concurry/Wait/timeout", test_wait_timeout);
  g_test_add_func ("/Concurry/Wait/cancel-wakes-other-thread", test_wait_cancel_wakes_other_thread);
  g_test_add_func ("/Concurry/Wait/large", test_wait_large);
  g_test_add_func ("/Concurry/AsCompleted/order", test_as_completed_order);
  g_test_add_func ("/Concurry/AsCompleted/empty", test_as_completed_empty);
  g_test_add_func ("/Concurry/AsCompleted/many-inputs", test_as_completed_many_inputs);
  g_test_add_func ("/Concurry/AsCompleted/duplicates-anywhere", test_as_completed_duplicates_anywhere);
  g_test_add_func ("/Concurry/AsCompleted/duplicates-far-apart", test_as_completed_duplicates_far_apart);
  g_test_add_func ("/Concurry/AsCompleted/refuses-non-future-after-futures",
                   test_as_completed_refuses_non_future_after_futures);
  g_test_add_func ("/Concurry/Gather/many-pending-inputs", test_gather_many_pending_inputs);
  g_test_add_func ("/Concurry/AsCompleted/timeout", test_as_completed_timeout);
  g_test_add_func ("/Concurry/AsCompleted/drops-references", test_as_completed_drops_references);
  g_test_add_func ("/Concurry/AsCompleted/async", test_as_completed_async);
  g_test_add_func ("/Concurry/AsCompleted/consumers-keeping-up", test_as_completed_consumers_keeping_up);
  g_test_add_func ("/Concurry/AsCompleted/completion-list", test_completion_list);
  g_test_add_func ("/Concurry/Gather/order", test_gather_order);
  g_test_add_func ("/Concurry/Gather/first-failure", test_gather_first_failure);
  g_test_add_func ("/Concurry/Gather/cancelled-input", test_gather_cancelled_input);
  g_test_add_func ("/Concurry/Gather/empty-and-cancel", test_gather_empty_and_cancel);
  g_test_add_func ("/Concurry/Gather/cancelled-input-leaves-others-alone", test_cancelled_input_leaves_others_alone);
  g_test_add_func ("/Concurry/Any/basic", test_any);
  g_test_add_func ("/Concurry/Race/basic", test_race);
  g_test_add_func ("/Concurry/Race/settled-group-lets-inputs-go", test_settled_group_lets_inputs_go);
  g_test_add_func ("/Concurry/Chain/step-returning-its-own-end-fails",
                   test_chain_step_returning_its_own_end_fails);
  g_test_add_func ("/Concurry/Chain/finally-runs-when-end-cancelled",
                   test_finally_runs_when_end_cancelled);
  g_test_add_func ("/Concurry/Chain/finally-runs-when-later-step-cancelled",
                   test_finally_runs_when_later_step_cancelled);
  g_test_add_func ("/Concurry/Chain/finally-runs-when-cancelled-before-delivery",
                   test_finally_runs_when_cancelled_before_delivery);
  g_test_add_func ("/Concurry/Chain/finally-runs-on-every-outcome",
                   test_finally_runs_on_every_outcome);
  g_test_add_func ("/Concurry/Chain/finally-then-passes-the-outcome-through",
                   test_finally_then_passes_the_outcome_through);
  g_test_add_func ("/Concurry/Chain/finally-then-error-replaces-a-value-or-a-failure",
                   test_finally_then_error_replaces_a_value_or_a_failure);
  g_test_add_func ("/Concurry/Chain/finally-then-waits-for-the-future-it-gives",
                   test_finally_then_waits_for_the_future_it_gives);
  g_test_add_func ("/Concurry/Chain/finally-then-cancel-while-waiting-cancels-the-cleanup",
                   test_finally_then_cancel_while_waiting_cancels_the_cleanup);
  g_test_add_func ("/Concurry/Chain/finally-then-on-a-cancelled-chain-reports-its-error",
                   test_finally_then_on_a_cancelled_chain_reports_its_error);
  g_test_add_func ("/Concurry/Chain/finally-then-on-a-cancelled-chain-reports-its-future-failing",
                   test_finally_then_on_a_cancelled_chain_reports_its_future_failing);
  g_test_add_func ("/Concurry/Any/consumes-every-failure", test_any_consumes_every_failure);
  g_test_add_data_func ("/Concurry/Gather/unreachable-group-is-freed",
                        make_gather, test_unreachable_group_is_freed);
  g_test_add_data_func ("/Concurry/WaitFuture/unreachable-group-is-freed",
                        make_wait_future, test_unreachable_group_is_freed);
  g_test_add_data_func ("/Concurry/Any/unreachable-group-is-freed",
                        make_any, test_unreachable_group_is_freed);
  g_test_add_data_func ("/Concurry/Race/unreachable-group-is-freed",
                        make_race, test_unreachable_group_is_freed);
  g_test_add_data_func ("/Concurry/Gather/unreachable-group-does-not-warn",
                        make_gather, test_unreachable_group_does_not_warn);
  g_test_add_data_func ("/Concurry/Any/unreachable-group-does-not-warn",
                        make_any, test_unreachable_group_does_not_warn);
  g_test_add_data_func ("/Concurry/Race/unreachable-group-does-not-warn",
                        make_race, test_unreachable_group_does_not_warn);
  g_test_add_func ("/Concurry/Gather/fails-when-inputs-abandoned",
                   test_gather_fails_when_inputs_abandoned);
  g_test_add_func ("/Concurry/Gather/gives-a-stand-in-for-an-abandoned-input",
                   test_gather_gives_a_stand_in_for_an_abandoned_input);
  g_test_add_func ("/Concurry/Gather/dropped-result-goes-once-inputs-complete",
                   test_dropped_group_result_goes_once_inputs_complete);
  g_test_add_func ("/Concurry/Race/loser-does-not-warn", test_race_loser_does_not_warn);
  g_test_add_func ("/Concurry/Group/register-while-completing", test_register_while_completing);
  g_test_add_func ("/Concurry/Group/dropped-with-pending-inputs", test_dropped_with_pending_inputs);
  g_test_add_func ("/Concurry/Group/settled-at-start-consumes-later-inputs",
                   test_settled_at_start_consumes_later_inputs);
  g_test_add_func ("/Concurry/Chain/flattens", test_chain_flattens);
  g_test_add_func ("/Concurry/Chain/errors-propagate", test_chain_errors_propagate);
  g_test_add_func ("/Concurry/Chain/cancel-end-cancels-upstream", test_chain_cancel_end_cancels_upstream);
  g_test_add_func ("/Concurry/Chain/user-data-destroyed", test_chain_user_data_destroyed);
  g_test_add_func ("/Concurry/Chain/upstream-abandoned", test_chain_upstream_abandoned);
  g_test_add_func ("/Concurry/Timer/delay-and-timeout", test_delay_and_timeout);
  g_test_add_func ("/Concurry/Timer/with-timeout", test_with_timeout);

  return g_test_run ();
}
