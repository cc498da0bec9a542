/* concurry-i18n.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>

#include "concurry-i18n-private.h"

/*
 * The library binds its own text domain once and never touches the
 * process locale or the default domain: that belongs to the application.
 * CONCURRY_LOCALEDIR lets the test suite use the catalogs of the build tree.
 */
static void
ensure_domain (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      const char *dir = g_getenv ("CONCURRY_LOCALEDIR");

      bindtextdomain (GETTEXT_PACKAGE, dir != NULL ? dir : LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&initialized, 1);
    }
}

const char *
_concurry_gettext (const char *msgid)
{
  ensure_domain ();
  return g_dgettext (GETTEXT_PACKAGE, msgid);
}

const char *
_concurry_ngettext (const char *msgid,
                    const char *msgid_plural,
                    gulong      n)
{
  ensure_domain ();
  return g_dngettext (GETTEXT_PACKAGE, msgid, msgid_plural, n);
}
