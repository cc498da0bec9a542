/* concurry-i18n.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>

#include "concurry-i18n-private.h"

/*
 * The library binds its own text domain to the LOCALEDIR it was configured
 * with, once, and never touches the process locale or the default domain:
 * those belong to the application.
 *
 * The binding happens when the library is loaded, so that a program (or the
 * test suite, which uses the catalogs of the build tree) can bind the domain
 * elsewhere afterwards with bindtextdomain ("concurry", dir), the usual
 * gettext way; a binding made before the library was loaded is replaced.
 * Compilers without constructors bind on the first message instead.
 */
static void
ensure_domain (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&initialized, 1);
    }
}

#ifdef __GNUC__
__attribute__ ((constructor)) static void
bind_domain_on_load (void)
{
  ensure_domain ();
}
#endif

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
