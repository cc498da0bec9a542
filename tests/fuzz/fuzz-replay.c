/* fuzz-replay.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs the fuzz harness (fuzz-api.c) over files, without libFuzzer: the
 * normal test suite replays tests/fuzz/corpus/ with it, so that every
 * seed, and every crash once fixed and added there, stays a test. Each
 * argument is a file or a directory of files.
 */

#include <glib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *)a, *(const char * const *)b);
}

static guint
replay_path (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  guint n = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      g_assert_no_error (error);
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_build_filename (path, name, NULL));
      /* In a stable order, for a failure that can be found again. */
      g_ptr_array_sort (names, compare_paths);
      for (guint i = 0; i < names->len; i++)
        n += replay_path (g_ptr_array_index (names, i));
      return n;
    }

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  g_print ("# %s\n", path);
  LLVMFuzzerTestOneInput ((const uint8_t *)contents, length);
  return 1;
}

int
main (int    argc,
      char **argv)
{
  guint n = 0;

  for (int i = 1; i < argc; i++)
    n += replay_path (argv[i]);

  g_print ("# replayed %u inputs\n", n);
  return n > 0 ? 0 : 1;
}
