/* test-version.c: the run-time version functions agree with the headers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <concurry.h>

static void
test_runtime_version_is_compile_time_version (void)
{
  /* The test is built with the library it runs with. */
  g_assert_cmpuint (concurry_get_major_version (), ==, CONCURRY_MAJOR_VERSION);
  g_assert_cmpuint (concurry_get_minor_version (), ==, CONCURRY_MINOR_VERSION);
  g_assert_cmpuint (concurry_get_micro_version (), ==, CONCURRY_MICRO_VERSION);
}

static void
test_version_string_matches_numbers (void)
{
  g_autofree char *numbers = g_strdup_printf ("%u.%u.%u",
                                              concurry_get_major_version (),
                                              concurry_get_minor_version (),
                                              concurry_get_micro_version ());

  g_assert_cmpstr (numbers, ==, CONCURRY_VERSION_S);
}

static void
test_check_version_accepts_this_and_older_versions (void)
{
  guint major = concurry_get_major_version ();
  guint minor = concurry_get_minor_version ();
  guint micro = concurry_get_micro_version ();

  g_assert_true (concurry_check_version (major, minor, micro));
  g_assert_true (concurry_check_version (0, 0, 0));
  if (micro > 0)
    g_assert_true (concurry_check_version (major, minor, micro - 1));
  if (minor > 0)
    g_assert_true (concurry_check_version (major, minor - 1, G_MAXUINT));
  if (major > 0)
    g_assert_true (concurry_check_version (major - 1, G_MAXUINT, G_MAXUINT));
}

static void
test_check_version_refuses_newer_versions (void)
{
  guint major = concurry_get_major_version ();
  guint minor = concurry_get_minor_version ();
  guint micro = concurry_get_micro_version ();

  g_assert_false (concurry_check_version (major, minor, micro + 1));
  g_assert_false (concurry_check_version (major, minor + 1, 0));
  g_assert_false (concurry_check_version (major + 1, 0, 0));
}

static void
test_check_version_agrees_with_the_macro (void)
{
  g_assert_true (CONCURRY_CHECK_VERSION (0, 1, 0) == concurry_check_version (0, 1, 0));
  g_assert_true (CONCURRY_CHECK_VERSION (0, 2, 0) == concurry_check_version (0, 2, 0));
  g_assert_true (CONCURRY_CHECK_VERSION (1, 0, 0) == concurry_check_version (1, 0, 0));
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Concurry/Version/runtime-is-compile-time",
                   test_runtime_version_is_compile_time_version);
  g_test_add_func ("/Concurry/Version/string-matches-numbers",
                   test_version_string_matches_numbers);
  g_test_add_func ("/Concurry/Version/check-accepts-this-and-older",
                   test_check_version_accepts_this_and_older_versions);
  g_test_add_func ("/Concurry/Version/check-refuses-newer",
                   test_check_version_refuses_newer_versions);
  g_test_add_func ("/Concurry/Version/check-agrees-with-macro",
                   test_check_version_agrees_with_the_macro);

  return g_test_run ();
}
