/* test-translations.c: messages come from the catalog of the user's language
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <libintl.h>

#include <concurry.h>

/* The library reads its catalogs from the LOCALEDIR it was configured with.
 * These tests bind the domain to the build tree's catalogs instead, as any
 * program may once the library is loaded, and look at each language in a
 * subprocess of its own, since glibc keeps the translations it found for
 * the locale it runs in. */

typedef struct
{
  const char *language;
  const char *cancelled;
} Catalog;

static const Catalog catalogs[] = {
  { "de", "Das Future wurde abgebrochen" },
  { "fr", "Le future a été annulé" },
  { "es", "El future se canceló" },
  /* No catalog: the English text. */
  { "xx", "The future was cancelled" },
};

static char *initial_binding;

static void
test_domain_is_bound_to_configured_localedir (void)
{
  /* Read in main(), before any test rebinds it: the library bound it on
   * load, to the directory it was configured with. */
  g_assert_cmpstr (initial_binding, ==, CONFIGURED_LOCALEDIR);
}

static void
test_language_uses_its_catalog (gconstpointer data)
{
  const Catalog *catalog = data;

  if (g_test_subprocess ())
    {
      g_autoptr(ConcurryPromise) promise = concurry_promise_new ();

      bindtextdomain (GETTEXT_PACKAGE, TEST_LOCALEDIR);
      /* glibc ignores LANGUAGE in the C locale. */
      g_assert_nonnull (setlocale (LC_ALL, "C.UTF-8"));

      concurry_future_cancel (CONCURRY_FUTURE (promise));
      g_assert_cmpstr (concurry_future_get_error (CONCURRY_FUTURE (promise))->message, ==,
                       catalog->cancelled);
      return;
    }

  g_setenv ("LANGUAGE", catalog->language, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("LANGUAGE");
  g_test_trap_assert_passed ();
}

int
main (int argc,
      char *argv[])
{
  int ret;

  initial_binding = g_strdup (bindtextdomain (GETTEXT_PACKAGE, NULL));
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Concurry/Translations/domain-bound-to-configured-localedir",
                   test_domain_is_bound_to_configured_localedir);
  for (gsize i = 0; i < G_N_ELEMENTS (catalogs); i++)
    {
      g_autofree char *path = g_strdup_printf ("/Concurry/Translations/catalog/%s",
                                               catalogs[i].language);

      g_test_add_data_func (path, &catalogs[i], test_language_uses_its_catalog);
    }

  ret = g_test_run ();
  g_free (initial_binding);
  return ret;
}
