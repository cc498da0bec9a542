/* concurry-platform-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * The platform-specific tricks of concurry, each in one place with the
 * reason it is needed and what it relies on (see concurry-platform-private.c).
 * Everything else in the library is portable GLib code.
 */

G_GNUC_INTERNAL
gboolean _concurry_platform_is_main_thread      (void);

G_GNUC_INTERNAL
gboolean _concurry_platform_func_is_javascript  (gpointer  func);

G_GNUC_INTERNAL
gboolean _concurry_platform_object_is_unshared  (GObject  *object);

G_GNUC_INTERNAL
void     _concurry_platform_mutex_lock_spinning (GMutex   *mutex);

G_END_DECLS
