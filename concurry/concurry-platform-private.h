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

/*
 * Thread-local storage without a call: a GPrivate costs a function call
 * and a pthread_getspecific() for every access, which counts on paths
 * that run once per work item. A thread-local variable is read in a
 * couple of instructions. It has no destructor, so data that must be
 * freed when its thread exits is also registered once per thread with a
 * GPrivate (see concurry-work-future.c). GCC and Clang spell it __thread,
 * MSVC __declspec(thread), C11 _Thread_local.
 */
#if defined (__GNUC__) || defined (__clang__)
# define CONCURRY_THREAD_LOCAL __thread
#elif defined (_MSC_VER)
# define CONCURRY_THREAD_LOCAL __declspec(thread)
#else
# define CONCURRY_THREAD_LOCAL _Thread_local
#endif

G_GNUC_INTERNAL
gboolean _concurry_platform_is_main_thread      (void);

G_GNUC_INTERNAL
gboolean _concurry_platform_func_is_javascript  (gpointer  func);

G_GNUC_INTERNAL
gboolean _concurry_platform_object_is_unshared  (GObject  *object);

G_GNUC_INTERNAL
void     _concurry_platform_mutex_lock_spinning (GMutex   *mutex);

G_GNUC_INTERNAL
guint    _concurry_platform_spin_until_changed  (const int *value,
                                                 int        seen,
                                                 guint      max_spins,
                                                 guint      spins_per_look);

G_END_DECLS
