/* concurry-i18n-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-i18n-private.h"
#endif

#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

const char *_concurry_gettext  (const char *msgid) G_GNUC_FORMAT (1);
const char *_concurry_ngettext (const char *msgid,
                                const char *msgid_plural,
                                gulong      n) G_GNUC_FORMAT (1) G_GNUC_FORMAT (2);

#undef _
#define _(s) _concurry_gettext (s)

G_END_DECLS
