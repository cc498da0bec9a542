/* test-gio.c: GIO calls and GTasks as futures
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>

#include <concurry.h>

static void
wait_done (ConcurryFuture *future)
{
  while (!concurry_future_is_done (future))
    g_main_context_iteration (NULL, TRUE);
}

static void
test_file_read (void)
{
  g_autoptr(GFile) file = g_file_new_for_path (g_test_get_filename (G_TEST_DIST, "test-gio.c", NULL));
  g_autoptr(GFile) missing = g_file_new_for_path ("/nonexistent/concurry");
  g_autoptr(ConcurryFuture) future = NULL;
  g_autoptr(ConcurryFuture) failed = NULL;
  g_autoptr(GError) error = NULL;

  future = CONCURRY_GIO_CALL (G_TYPE_FILE_INPUT_STREAM, g_file_read_finish,
                              g_file_read_async, file, G_PRIORITY_DEFAULT);
  failed = CONCURRY_GIO_CALL (G_TYPE_FILE_INPUT_STREAM, g_file_read_finish,
                              g_file_read_async, missing, G_PRIORITY_DEFAULT);
  /* Completes on this thread's main context, which the wait iterates. */
  g_assert_true (concurry_future_wait (future, -1, &error));
  g_assert_no_error (error);
  g_assert_true (G_IS_FILE_INPUT_STREAM (concurry_future_get_object (future)));

  g_assert_false (concurry_future_wait (failed, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_subprocess (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) ok = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "true", NULL);
  g_autoptr(GSubprocess) bad = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "false", NULL);
  g_autoptr(ConcurryFuture) ok_future = NULL;
  g_autoptr(ConcurryFuture) bad_future = NULL;

  g_assert_no_error (error);
  ok_future = CONCURRY_GIO_CALL (G_TYPE_BOOLEAN, g_subprocess_wait_check_finish,
                                 g_subprocess_wait_check_async, ok);
  bad_future = CONCURRY_GIO_CALL (G_TYPE_BOOLEAN, g_subprocess_wait_check_finish,
                                  g_subprocess_wait_check_async, bad);
  wait_done (ok_future);
  wait_done (bad_future);
  g_assert_true (concurry_future_get_boolean (ok_future));
  g_assert_true (concurry_future_is_failed (bad_future));
  g_assert_error (concurry_future_get_error (bad_future), G_SPAWN_EXIT_ERROR, 1);
}

static void
test_cancel_reaches_call (void)
{
  /* `cat` waits for ever on its stdin; cancelling the future cancels the
   * wait_check call through the cancellable. */
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) cat = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE, &error, "cat", NULL);
  g_autoptr(ConcurryFuture) future = NULL;
  g_autoptr(ConcurryFuture) ended = NULL;

  g_assert_no_error (error);
  future = CONCURRY_GIO_CALL (G_TYPE_BOOLEAN, g_subprocess_wait_check_finish,
                              g_subprocess_wait_check_async, cat);
  g_assert_true (concurry_future_cancel (future));
  g_assert_true (concurry_future_is_cancelled (future));

  /* The GIO call itself ended (with G_IO_ERROR_CANCELLED) and freed its
   * glue: a second wait still sees the process running. */
  ended = CONCURRY_GIO_CALL (G_TYPE_BOOLEAN, g_subprocess_wait_check_finish,
                             g_subprocess_wait_check_async, cat);
  g_subprocess_force_exit (cat);
  wait_done (ended);
  g_assert_true (concurry_future_is_failed (ended));
  g_assert_nonnull (concurry_future_get_error (ended));
}

static void
finish_contents (GObject         *source,
                 GAsyncResult    *result,
                 ConcurryPromise *promise,
                 gpointer         user_data)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  GError *error = NULL;

  if (g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    concurry_promise_resolve_uint64 (promise, length);
  else
    concurry_promise_take_error (promise, error);
}

static void
test_custom_finish (void)
{
  g_autoptr(GFile) file = g_file_new_for_path (g_test_get_filename (G_TEST_DIST, "test-gio.c", NULL));
  ConcurryGioCall *call = concurry_gio_call_new_full (finish_contents, NULL, NULL);
  g_autoptr(ConcurryFuture) future = concurry_gio_call_dup_future (call);
  g_autoptr(GError) error = NULL;
  struct stat st;

  g_file_load_contents_async (file, concurry_gio_call_get_cancellable (call),
                              concurry_gio_call_ready, call);
  g_assert_true (concurry_future_wait (future, -1, &error));
  g_assert_cmpint (g_stat (g_file_peek_path (file), &st), ==, 0);
  g_assert_cmpuint (concurry_future_get_uint64 (future), ==, (guint64)st.st_size);
}

static void
task_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_static_string (&value, "from a task");
  g_task_return_value (task, &value);
  g_value_unset (&value);
}

static void
test_task (void)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);
  g_autoptr(GTask) boolean = g_task_new (NULL, NULL, NULL, NULL);
  g_autoptr(GTask) failing = g_task_new (NULL, NULL, NULL, NULL);
  g_autoptr(ConcurryFuture) future = concurry_future_new_for_task (task, G_TYPE_VALUE);
  g_autoptr(ConcurryFuture) bool_future = concurry_future_new_for_task (boolean, G_TYPE_BOOLEAN);
  g_autoptr(ConcurryFuture) failing_future = concurry_future_new_for_task (failing, G_TYPE_BOOLEAN);
  g_autoptr(GError) error = NULL;

  g_task_run_in_thread (task, task_thread);
  g_task_return_boolean (boolean, TRUE);
  g_task_return_new_error (failing, G_IO_ERROR, G_IO_ERROR_BUSY, "busy");

  g_assert_true (concurry_future_wait (future, -1, &error));
  g_assert_cmpstr (concurry_future_get_string (future), ==, "from a task");
  g_assert_true (concurry_future_wait (bool_future, -1, &error));
  g_assert_true (concurry_future_get_boolean (bool_future));
  g_assert_false (concurry_future_wait (failing_future, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
}

static void
test_task_cancel (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, NULL, NULL);
  g_autoptr(ConcurryFuture) future = concurry_future_new_for_task (task, G_TYPE_BOOLEAN);

  g_assert_true (concurry_future_cancel (future));
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_task_return_error_if_cancelled (task);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Concurry/Gio/file-read", test_file_read);
  g_test_add_func ("/Concurry/Gio/wait-check", test_subprocess);
  g_test_add_func ("/Concurry/Gio/cancel-reaches-call", test_cancel_reaches_call);
  g_test_add_func ("/Concurry/Gio/custom-finish", test_custom_finish);
  g_test_add_func ("/Concurry/Gio/task", test_task);
  g_test_add_func ("/Concurry/Gio/task-cancel", test_task_cancel);

  return g_test_run ();
}
