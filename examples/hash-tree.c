/* hash-tree.c: SHA-256 of every file under a directory, one future per file
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: concurry-hash-tree [--cancel-after N] DIRECTORY
 *
 * The main thread walks DIRECTORY and submits one piece of work per
 * regular file to a thread pool executor with a worker per processor. The
 * work streams its file through a GChecksum in chunks, checks the
 * cancellable of its future between chunks, and completes the future with
 * the hex digest, or fails it with the GError of the read.
 *
 * A done callback on each future runs on the main loop, whichever worker
 * finished it: it records the outcome and updates a progress line on
 * stderr. Once every future is done, the digests are printed on stdout
 * sorted by path, in the format of sha256sum (so stdout can be checked
 * with "sha256sum -c" from DIRECTORY); errors and the summary go to
 * stderr. Symbolic links and special files are skipped.
 *
 * A file or directory that cannot be read is reported and makes the exit
 * status 1. With --cancel-after N, every future still unfinished once N
 * files are done is cancelled: queued work never starts, and running work
 * sees its cancellable tripped and stops at its next chunk.
 */

#include <concurry.h>
#include <string.h>

#ifdef G_OS_UNIX
# include <unistd.h>
#endif

#define CHUNK_SIZE (64 * 1024)

typedef struct _HashTree HashTree;

typedef struct
{
  HashTree       *tree;
  char           *path;       /* relative to the root, for output */
  goffset         size;
  ConcurryFuture *future;     /* NULL if nothing was submitted */
  char           *digest;     /* set once hashed */
  GError         *error;      /* set once failed or cancelled */
  gboolean        cancelled;
} Entry;

struct _HashTree
{
  GFile            *root;
  ConcurryExecutor *executor;
  GMainLoop        *loop;
  GPtrArray        *entries;       /* of Entry, files and unreadable directories */
  guint             n_files;
  guint             n_submitted;
  guint             n_done;
  guint             cancel_after;  /* 0 for never */
  gboolean          is_tty;
};

/* The work, on a worker thread. @user_data is the GFile to hash: a
 * reference that the executor drops once the work ran or was dropped. */
static void
hash_file (GCancellable *cancellable,
           GValue       *value,
           gpointer      user_data,
           GError      **error)
{
  GFile *file = user_data;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GChecksum) checksum = NULL;
  g_autofree guchar *buffer = NULL;
  gssize n_read;

  stream = g_file_read (file, cancellable, error);
  if (stream == NULL)
    return;

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  buffer = g_malloc (CHUNK_SIZE);

  do
    {
      /* G_IO_ERROR_CANCELLED makes the future cancelled (it already is:
       * its result would be dropped anyway), so stop as soon as we see it. */
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return;

      n_read = g_input_stream_read (G_INPUT_STREAM (stream), buffer, CHUNK_SIZE,
                                    cancellable, error);
      if (n_read < 0)
        return;
      g_checksum_update (checksum, buffer, n_read);
    }
  while (n_read > 0);

  if (!g_input_stream_close (G_INPUT_STREAM (stream), cancellable, error))
    return;

  g_value_init (value, G_TYPE_STRING);
  g_value_set_string (value, g_checksum_get_string (checksum));
}

static Entry *
entry_new (HashTree *tree,
           GFile    *file)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->tree = tree;
  entry->path = g_file_get_relative_path (tree->root, file);
  if (entry->path == NULL)
    entry->path = g_strdup (".");
  g_ptr_array_add (tree->entries, entry);

  return entry;
}

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_free (entry->path);
  g_clear_object (&entry->future);
  g_free (entry->digest);
  g_clear_error (&entry->error);
  g_free (entry);
}

static int
entry_compare (gconstpointer a,
               gconstpointer b)
{
  const Entry *entry_a = *(Entry * const *)a;
  const Entry *entry_b = *(Entry * const *)b;

  return strcmp (entry_a->path, entry_b->path);
}

static void
show_progress (HashTree *tree)
{
  guint width = 1;

  for (guint n = tree->n_submitted; n >= 10; n /= 10)
    width++;

  if (tree->is_tty)
    {
      /* Redraw one line in place; end it with the last update. */
      g_printerr ("\r[%*u/%u] done", (int)width, tree->n_done, tree->n_submitted);
      if (tree->n_done == tree->n_submitted)
        g_printerr ("\n");
    }
  else if (tree->n_done * 4 / tree->n_submitted != (tree->n_done - 1) * 4 / tree->n_submitted)
    {
      /* Not a terminal (a log, a test): one line per quarter only. */
      g_printerr ("[%*u/%u] done\n", (int)width, tree->n_done, tree->n_submitted);
    }
}

static void
cancel_remaining (HashTree *tree)
{
  guint n_cancelled = 0;

  for (guint i = 0; i < tree->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (tree->entries, i);

      /* Cancelling a future that already completed does nothing, and
       * returns FALSE. Each cancelled future still gets its done callback. */
      if (entry->future != NULL
          && !concurry_future_is_done (entry->future)
          && concurry_future_cancel (entry->future))
        n_cancelled++;
    }

  if (tree->is_tty)
    g_printerr ("\n");
  g_printerr ("%u files done, cancelling the other %u\n", tree->n_done, n_cancelled);
}

/* A done callback, on the main loop. */
static void
file_done (ConcurryFuture *future,
           gpointer        user_data)
{
  Entry *entry = user_data;
  HashTree *tree = entry->tree;
  const GError *error = concurry_future_get_error (future);

  if (error != NULL)
    {
      entry->error = g_error_copy (error);
      entry->cancelled = concurry_future_is_cancelled (future);
    }
  else
    entry->digest = g_strdup (concurry_future_get_string (future));

  tree->n_done++;
  show_progress (tree);

  if (tree->n_done == tree->cancel_after)
    cancel_remaining (tree);

  if (tree->n_done == tree->n_submitted)
    g_main_loop_quit (tree->loop);
}

static void
submit_file (HashTree *tree,
             GFile    *file,
             goffset   size)
{
  Entry *entry = entry_new (tree, file);
  g_autoptr(GError) error = NULL;

  tree->n_files++;
  entry->size = size;
  entry->future = concurry_executor_submit (tree->executor, hash_file,
                                            g_object_ref (file), g_object_unref,
                                            &error);
  if (entry->future == NULL)
    {
      entry->error = g_steal_pointer (&error);
      return;
    }

  tree->n_submitted++;
  /* Never runs from inside this call, even if the work is already done:
   * only once the main loop runs. */
  concurry_future_add_done_callback (entry->future, file_done, entry, NULL);
}

/* Walks @dir synchronously, submitting every regular file under it. */
static void
walk (HashTree *tree,
      GFile    *dir)
{
  g_autoptr(GFileEnumerator) enumerator = NULL;
  GError *error = NULL;

  enumerator = g_file_enumerate_children (dir,
                                          G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                          G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                                          G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                          G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                          NULL, &error);

  while (error == NULL)
    {
      GFileInfo *info;
      GFile *child;

      /* info and child belong to the enumerator, until the next iteration. */
      if (!g_file_enumerator_iterate (enumerator, &info, &child, NULL, &error) || info == NULL)
        break;

      switch (g_file_info_get_file_type (info))
        {
        case G_FILE_TYPE_DIRECTORY:
          walk (tree, child);
          break;
        case G_FILE_TYPE_REGULAR:
          submit_file (tree, child, g_file_info_get_size (info));
          break;
        default:
          break;   /* symbolic links, devices, sockets, FIFOs */
        }
    }

  /* A directory that cannot be listed is an error like a file that cannot
   * be read. */
  if (error != NULL)
    entry_new (tree, dir)->error = error;
}

int
main (int argc,
      char *argv[])
{
  int cancel_after = 0;
  const GOptionEntry options[] = {
    { "cancel-after", 0, 0, G_OPTION_ARG_INT, &cancel_after,
      "Cancel the unfinished work once N files are done", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInfo) root_info = NULL;
  HashTree tree = { 0 };
  guint64 n_bytes = 0;
  guint n_errors = 0, n_cancelled = 0;
  gint64 start;

  context = g_option_context_new ("DIRECTORY");
  g_option_context_set_summary (context,
                                "Prints the SHA-256 of every file under DIRECTORY, hashed in parallel.");
  g_option_context_add_main_entries (context, options, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return 1;
    }
  if (argc != 2 || cancel_after < 0)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      return 1;
    }

  tree.root = g_file_new_for_commandline_arg (argv[1]);
  root_info = g_file_query_info (tree.root, G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                 G_FILE_QUERY_INFO_NONE, NULL, &error);
  if (root_info == NULL || g_file_info_get_file_type (root_info) != G_FILE_TYPE_DIRECTORY)
    {
      g_printerr ("%s: %s: %s\n", g_get_prgname (), argv[1],
                  error != NULL ? error->message : "Not a directory");
      g_object_unref (tree.root);
      return 1;
    }

#ifdef G_OS_UNIX
  tree.is_tty = isatty (STDERR_FILENO);
#endif
  tree.cancel_after = (guint)cancel_after;
  tree.entries = g_ptr_array_new_with_free_func (entry_free);
  tree.loop = g_main_loop_new (NULL, FALSE);
  tree.executor = concurry_thread_pool_executor_new (0);   /* a worker per processor */

  start = g_get_monotonic_time ();

  /* Work starts as soon as it is submitted, while the walk goes on; the
   * done callbacks wait for the main loop. */
  walk (&tree, tree.root);
  if (tree.n_submitted > 0)
    g_main_loop_run (tree.loop);

  g_ptr_array_sort (tree.entries, entry_compare);
  for (guint i = 0; i < tree.entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (tree.entries, i);

      if (entry->digest != NULL)
        {
          g_print ("%s  %s\n", entry->digest, entry->path);
          n_bytes += (guint64)entry->size;
        }
      else if (entry->cancelled)
        n_cancelled++;
      else
        {
          g_printerr ("%s: %s: %s\n", g_get_prgname (), entry->path, entry->error->message);
          n_errors++;
        }
    }

  g_printerr ("%u files, %" G_GUINT64_FORMAT " bytes hashed, %u errors",
              tree.n_files, n_bytes, n_errors);
  if (n_cancelled > 0)
    g_printerr (", %u cancelled", n_cancelled);
  g_printerr (" in %" G_GINT64_FORMAT " ms (%u workers)\n",
              (g_get_monotonic_time () - start) / 1000,
              concurry_executor_get_max_workers (tree.executor));

  /* Every future is done, but cancelled work may still be running until
   * its next chunk: wait for it before leaving. */
  if (!concurry_executor_shutdown (tree.executor, TRUE, FALSE, &error))
    g_printerr ("%s: %s\n", g_get_prgname (), error->message);

  g_object_unref (tree.executor);
  g_main_loop_unref (tree.loop);
  g_ptr_array_unref (tree.entries);
  g_object_unref (tree.root);

  return n_errors > 0 ? 1 : 0;
}
