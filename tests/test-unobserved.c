/* test-unobserved.c: failed futures nobody looked at are logged
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */


#include <concurry.h>

/* What the structured log writer saw from concurry. */
static GPtrArray *messages;
static GPtrArray *future_ids;

static GLogWriterOutput
writer (GLogLevelFlags   level,
        const GLogField *fields,
        gsize            n_fields,
        gpointer         user_data)
{
  const char *domain = NULL, *message = NULL, *id = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
      else if (g_str_equal (fields[i].key, "CONCURRY_FUTURE_ID"))
        id = fields[i].value;
    }

  if (g_strcmp0 (domain, "Concurry") == 0 && (level & G_LOG_LEVEL_WARNING) != 0)
    {
      /* Workers of an executor may log at the same time. */
      static GMutex lock;

      g_mutex_lock (&lock);
      g_ptr_array_add (messages, g_strdup (message));
      g_ptr_array_add (future_ids, g_strdup (id));
      g_mutex_unlock (&lock);
      return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_default (level, fields, n_fields, user_data);
}

static void
reset (void)
{
  g_ptr_array_set_size (messages, 0);
  g_ptr_array_set_size (future_ids, 0);
}

static void
test_unobserved_is_logged (void)
{
  ConcurryPromise *promise = concurry_promise_new ();
  g_autofree char *id = NULL;

  reset ();
  concurry_promise_reject_literal (promise, G_IO_ERROR, G_IO_ERROR_FAILED, "disk on fire");
  id = g_strdup (concurry_future_get_id (CONCURRY_FUTURE (promise)));
  g_object_unref (promise);

  g_assert_cmpuint (messages->len, ==, 1);
  g_assert_cmpstr (future_ids->pdata[0], ==, id);
  g_assert_nonnull (strstr (messages->pdata[0], id));
  g_assert_nonnull (strstr (messages->pdata[0], "disk on fire"));
}

static void
test_unobserved_resolved_future (void)
{
  ConcurryFuture *future = concurry_resolved_future_new_error_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "lost");

  reset ();
  g_object_unref (future);
  g_assert_cmpuint (messages->len, ==, 1);
  g_assert_nonnull (strstr (messages->pdata[0], "lost"));
}

static void
failing_work (GCancellable  *cancellable,
              GValue        *value,
              gpointer       user_data,
              GError       **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "work failed");
}

/* Fire-and-forget work: the executor holds the last reference, and may
 * reuse the future rather than finalize it; the failure is reported all
 * the same, once, by the time shutdown has waited. */
static void
test_unobserved_work (void)
{
  ConcurryExecutor *executor = concurry_thread_pool_executor_new (2);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  reset ();
  for (guint i = 0; i < 20; i++)
    {
      ConcurryFuture *future = concurry_executor_submit (executor, failing_work, NULL, NULL, &error);

      g_assert_no_error (error);
      g_ptr_array_add (ids, g_strdup (concurry_future_get_id (future)));
      g_object_unref (future);
    }
  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));

  g_assert_cmpuint (messages->len, ==, 20);
  for (guint i = 0; i < ids->len; i++)
    {
      guint index;

      g_assert_true (g_ptr_array_find_with_equal_func (future_ids, ids->pdata[i], g_str_equal, &index));
      g_assert_nonnull (strstr (messages->pdata[index], "work failed"));
    }
  g_object_unref (executor);
}

static void
test_observed_is_quiet (void)
{
  ConcurryPromise *a = concurry_promise_new ();
  ConcurryPromise *b = concurry_promise_new ();
  ConcurryPromise *c = concurry_promise_new ();
  g_autoptr(GError) error = NULL;

  reset ();
  concurry_promise_reject_literal (a, G_IO_ERROR, G_IO_ERROR_FAILED, "a");
  concurry_promise_reject_literal (b, G_IO_ERROR, G_IO_ERROR_FAILED, "b");
  concurry_promise_reject_literal (c, G_IO_ERROR, G_IO_ERROR_FAILED, "c");

  g_assert_nonnull (concurry_future_get_error (CONCURRY_FUTURE (a)));
  g_assert_false (concurry_future_wait (CONCURRY_FUTURE (b), 0, &error));
  g_clear_error (&error);
  g_assert_false (concurry_future_wait_until (CONCURRY_FUTURE (c), -1, &error));

  g_object_unref (a);
  g_object_unref (b);
  g_object_unref (c);
  g_assert_cmpuint (messages->len, ==, 0);
}

static void
set_flag (gpointer  data,
          GObject  *where_the_object_was)
{
  g_atomic_int_set ((int *)data, TRUE);
}

static void
test_timeout_is_quiet (void)
{
  ConcurryFuture *timeout = concurry_timeout (0);
  int finalized = FALSE;

  g_test_summary ("A timeout() fails by design: dropped before anybody looked at its "
                  "error, it never warns");

  reset ();
  g_object_weak_ref (G_OBJECT (timeout), set_flag, &finalized);
  g_object_unref (timeout);
  /* its timer, on concurry's clock thread, fails it and drops it */
  while (!g_atomic_int_get (&finalized))
    g_thread_yield ();
  g_assert_cmpuint (messages->len, ==, 0);
}

static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GError **error = user_data;

  g_assert_false (concurry_future_wait_finish (CONCURRY_FUTURE (object), result, error));
}

static void
test_observed_by_wait_async (void)
{
  ConcurryFuture *future = concurry_resolved_future_new_error_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  GError *error = NULL;

  reset ();
  concurry_future_wait_async (future, NULL, wait_cb, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_clear_error (&error);
  g_object_unref (future);
  g_assert_cmpuint (messages->len, ==, 0);
}

static void
test_cancelled_and_abandoned_are_quiet (void)
{
  ConcurryPromise *cancelled = concurry_promise_new ();
  ConcurryPromise *abandoned = concurry_promise_new ();

  reset ();
  concurry_future_cancel (CONCURRY_FUTURE (cancelled));
  g_object_unref (cancelled);
  g_object_unref (abandoned);
  g_assert_cmpuint (messages->len, ==, 0);
}

static void
test_can_be_turned_off (void)
{
  ConcurryFuture *future = concurry_resolved_future_new_error_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");

  reset ();
  g_assert_true (concurry_get_unobserved_error_warnings ());
  concurry_set_unobserved_error_warnings (FALSE);
  g_assert_false (concurry_get_unobserved_error_warnings ());
  g_object_unref (future);
  concurry_set_unobserved_error_warnings (TRUE);
  g_assert_cmpuint (messages->len, ==, 0);
}

int
main (int argc,
      char *argv[])
{
  messages = g_ptr_array_new_with_free_func (g_free);
  future_ids = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (writer, NULL, NULL);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Concurry/Unobserved/logged", test_unobserved_is_logged);
  g_test_add_func ("/Concurry/Unobserved/resolved-future", test_unobserved_resolved_future);
  g_test_add_func ("/Concurry/Unobserved/work", test_unobserved_work);
  g_test_add_func ("/Concurry/Unobserved/observed-is-quiet", test_observed_is_quiet);
  g_test_add_func ("/Concurry/Unobserved/timeout-is-quiet", test_timeout_is_quiet);
  g_test_add_func ("/Concurry/Unobserved/observed-by-wait-async", test_observed_by_wait_async);
  g_test_add_func ("/Concurry/Unobserved/cancelled-and-abandoned-are-quiet", test_cancelled_and_abandoned_are_quiet);
  g_test_add_func ("/Concurry/Unobserved/can-be-turned-off", test_can_be_turned_off);

  return g_test_run ();
}
