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

/*
 * ThreadSanitizer cannot see GLib's own atomics (Debian's GLib is not
 * built with it), so the TSan tests link a shim that annotates GLib's
 * primitives (tests/tsan/): its g_object_unref() drops references that
 * are not the last with an atomic compare-and-swap ThreadSanitizer sees.
 * An object's last reference may be dropped inside GLib, though, after
 * its dispose handed a reference to another thread, which dropped it
 * meanwhile through the shim (a group counting an input that was being
 * abandoned): GLib's own load of the count orders that drop before
 * finalization, invisibly. Finalization of concurry's futures loads the
 * count again with acquire semantics, so that ThreadSanitizer sees the
 * order too. Nothing outside a ThreadSanitizer build.
 */
#if defined (__SANITIZE_THREAD__)
# define CONCURRY_TSAN_ENABLED 1
#elif defined (__has_feature)
# if __has_feature (thread_sanitizer)
#  define CONCURRY_TSAN_ENABLED 1
# endif
#endif

#ifdef CONCURRY_TSAN_ENABLED
# define CONCURRY_TSAN_ACQUIRE_REFS(object) \
  ((void) __atomic_load_n ((int *)&((GObject *)(object))->ref_count, __ATOMIC_ACQUIRE))
#else
# define CONCURRY_TSAN_ACQUIRE_REFS(object) ((void)0)
#endif

/*
 * 64-bit counters shared by threads without a lock (a task manager's
 * numbering of its tasks). GLib's atomics are int- or pointer-sized, and
 * a pointer is 32 bits on some of Debian's architectures, where a count
 * of submissions could wrap. GCC and Clang have 64-bit atomics everywhere
 * (through libatomic where the processor lacks them: see meson.build);
 * elsewhere a lock does.
 */
/* A 64-bit integer that is 8-byte aligned even on i386, where the ABI
 * aligns guint64 members of structures to 4 bytes: a 64-bit atomic across
 * two cache lines would be a split lock, and its load not atomic. */
#if defined (__GNUC__) || defined (__clang__)
# define CONCURRY_ALIGNED_U64 guint64 __attribute__ ((aligned (8)))
#else
# define CONCURRY_ALIGNED_U64 guint64
#endif

#if defined (__GNUC__) || defined (__clang__)
static inline void
_concurry_platform_atomic_set_u64 (guint64 *value,
                                   guint64  new_value)
{
  __atomic_store_n (value, new_value, __ATOMIC_SEQ_CST);
}

static inline guint64
_concurry_platform_atomic_get_u64 (const guint64 *value)
{
  return __atomic_load_n (value, __ATOMIC_SEQ_CST);
}

/* Adds @add; returns the value before. */
static inline guint64
_concurry_platform_atomic_add_u64 (guint64 *value,
                                   guint64  add)
{
  return __atomic_fetch_add (value, add, __ATOMIC_SEQ_CST);
}

static inline gboolean
_concurry_platform_atomic_cas_u64 (guint64 *value,
                                   guint64  expected,
                                   guint64  desired)
{
  return __atomic_compare_exchange_n (value, &expected, desired, FALSE,
                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
#else
G_GNUC_INTERNAL
void     _concurry_platform_atomic_set_u64      (guint64  *value,
                                                 guint64   new_value);
G_GNUC_INTERNAL
guint64  _concurry_platform_atomic_get_u64      (const guint64 *value);
G_GNUC_INTERNAL
guint64  _concurry_platform_atomic_add_u64      (guint64  *value,
                                                 guint64   add);
G_GNUC_INTERNAL
gboolean _concurry_platform_atomic_cas_u64      (guint64  *value,
                                                 guint64   expected,
                                                 guint64   desired);
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

G_GNUC_INTERNAL
GSource *_concurry_platform_ready_time_source_new (void);

G_END_DECLS
