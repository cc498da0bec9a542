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
const char *
_concurry_gettext (const char *msgid)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      const char *dir = g_getenv ("CONCURRY_LOCALEDIR");

      bindtextdomain (GETTEXT_PACKAGE, dir != NULL ? dir : LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&initialized, 1);
    }

  return g_dgettext (GETTEXT_PACKAGE, msgid);
}
