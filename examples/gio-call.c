/* gio-call.c: GIO asynchronous calls as futures
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: concurry-gio-call FILE
 *
 * Starts three GIO calls at once and handles them as futures:
 *
 * - g_file_query_info_async(), whose _finish function has the plain
 *   (source, result, error) shape: CONCURRY_GIO_CALL() turns it into a
 *   future in one line;
 * - g_file_load_contents_async(), whose _finish function has out
 *   parameters: a ConcurryGioFinishFunc resolves the promise with a GBytes;
 * - the same load on a file that does not exist, whose future fails with
 *   G_IO_ERROR_NOT_FOUND.
 *
 * Cancelling one of these futures would cancel its call. The program waits
 * for all three with concurry_gather() and a done callback on the main
 * loop, then checks that the size read matches the size queried.
 */

#include <concurry.h>

static void
finish_load_contents (GObject         *source_object,
                      GAsyncResult    *result,
                      ConcurryPromise *promise,
                      gpointer         user_data)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (source_object), result,
                                    &contents, &length, NULL, &error))
    {
      concurry_promise_reject (promise, error);
      return;
    }

  /* The bytes take the buffer. */
  g_autoptr(GBytes) bytes = g_bytes_new_take (contents, length);
  concurry_promise_resolve_boxed (promise, G_TYPE_BYTES, bytes);
}

/* One line per GIO call with out parameters, like CONCURRY_GIO_CALL(). */
static ConcurryFuture *
load_contents (GFile *file)
{
  ConcurryGioCall *call = concurry_gio_call_new_full (finish_load_contents, NULL, NULL);
  ConcurryFuture *future = concurry_gio_call_dup_future (call);

  g_file_load_contents_async (file, concurry_gio_call_get_cancellable (call),
                              concurry_gio_call_ready, call);
  return future;
}

static void
quit_loop (ConcurryFuture *future,
           gpointer        user_data)
{
  g_main_loop_quit (user_data);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFile) missing = NULL;
  g_autofree char *missing_path = NULL;
  ConcurryFuture *calls[3];
  g_autoptr(ConcurryFuture) all = NULL;
  GBytes *bytes;
  GFileInfo *info;
  const GError *error;
  int status = 0;

  if (argc != 2)
    {
      g_printerr ("usage: %s FILE\n", argv[0]);
      return 2;
    }
  file = g_file_new_for_commandline_arg (argv[1]);
  missing_path = g_strconcat (argv[1], ".does-not-exist", NULL);
  missing = g_file_new_for_commandline_arg (missing_path);

  calls[0] = CONCURRY_GIO_CALL (G_TYPE_FILE_INFO, g_file_query_info_finish,
                                g_file_query_info_async, file,
                                G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE,
                                G_PRIORITY_DEFAULT);
  calls[1] = load_contents (file);
  calls[2] = load_contents (missing);

  /* ALL_OUTCOMES: wait for every call, failed or not. */
  all = concurry_gather (calls, G_N_ELEMENTS (calls), CONCURRY_GATHER_FLAGS_ALL_OUTCOMES);
  concurry_future_add_done_callback (all, quit_loop, g_main_loop_ref (loop),
                                     (GDestroyNotify) g_main_loop_unref);
  g_main_loop_run (loop);

  info = concurry_future_get_object (calls[0]);
  bytes = concurry_future_get_boxed (calls[1]);
  error = concurry_future_get_error (calls[2]);

  g_print ("queried: %" G_GINT64_FORMAT " bytes\n", g_file_info_get_size (info));
  g_print ("read:    %" G_GSIZE_FORMAT " bytes\n", g_bytes_get_size (bytes));
  g_print ("missing: %s\n", error->message);

  if ((gsize) g_file_info_get_size (info) != g_bytes_get_size (bytes))
    {
      g_printerr ("the sizes differ\n");
      status = 1;
    }
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    {
      g_printerr ("expected G_IO_ERROR_NOT_FOUND\n");
      status = 1;
    }

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    g_object_unref (calls[i]);
  return status;
}
