/* concurry-platform-private.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE
#include "config.h"

#include "concurry-platform-private.h"

#ifdef __linux__
# include <sys/syscall.h>
# include <unistd.h>
#endif
#ifdef G_OS_UNIX
# include <dlfcn.h>
#endif

/*
 * Is the calling thread the process's main thread?
 *
 * Why: a blocking wait on the main thread iterates the global default
 * main context (so that completions delivered there cannot deadlock the
 * wait), even when no loop runs and nobody acquired that context yet.
 * GLib has no "main thread" notion of its own.
 *
 * How: on Linux the main thread is the one whose thread id is the process
 * id. Elsewhere this says FALSE, and a main thread that runs no loop just
 * sleeps in its wait.
 */
gboolean
_concurry_platform_is_main_thread (void)
{
#ifdef __linux__
  return syscall (SYS_gettid) == getpid ();
#else
  return FALSE;
#endif
}

/*
 * Is @func, a work function, written in JavaScript?
 *
 * Why: a JavaScript function must never be called on a worker thread:
 * GJS refuses it with a critical and the call silently returns nothing,
 * so the executor refuses such work up front with a clear error.
 *
 * How: bindings hand C a trampoline that lives in memory of their own,
 * outside every loaded object, while C functions always belong to a
 * loaded object; so a function that is in no object (dladdr() finds
 * none), in a process where GJS is loaded (dlsym() finds its API), is a
 * JavaScript one. Python's trampolines are in no object either, but
 * Python and GJS do not share a process in practice, and Python callables
 * are fine on worker threads. Without dlfcn this says FALSE.
 */
gboolean
_concurry_platform_func_is_javascript (gpointer func)
{
#if defined (G_OS_UNIX) && defined (RTLD_DEFAULT)
  static gsize gjs_loaded = 0;
  Dl_info info;

  if (g_once_init_enter (&gjs_loaded))
    {
      gboolean loaded = dlsym (RTLD_DEFAULT, "gjs_context_get_current") != NULL;
      g_once_init_leave (&gjs_loaded, loaded ? 2 : 1);
    }

  if (gjs_loaded != 2)
    return FALSE;

  return dladdr (func, &info) == 0;
#else
  return FALSE;
#endif
}

/*
 * Is the caller's reference on @object the only way to reach it?
 *
 * Why: recycling. Creating and finalizing a GObject costs more than a
 * trivial piece of work (see concurry-work-future.c), so an executor
 * reuses a work future, or a worker thread its GCancellable, that nobody
 * else can see any more, instead of finalizing it.
 *
 * How: GLib has no public call for this, so it reads two fields of the
 * public GObject structure: @ref_count (1: ours is the only reference; a
 * done callback waiting for delivery, a waiter, a chain all hold one) and
 * @qdata (NULL: no weak reference, weak pointer, toggle reference (a
 * binding's wrapper), nor anyone's data). What it relies on, that a
 * reference, a weak reference, a weak pointer, a toggle reference and
 * object data each show in these fields, is checked by
 * tests/test-platform.c, which fails if a GLib release changes it.
 */
gboolean
_concurry_platform_object_is_unshared (GObject *object)
{
  return g_atomic_int_get (&object->ref_count) == 1 &&
         g_atomic_pointer_get (&object->qdata) == NULL;
}

/* The x86 PAUSE hint: tells the core that this is a spin loop. */
static inline void
cpu_relax (void)
{
#if defined (__GNUC__) && (defined (__x86_64__) || defined (__i386__))
  __builtin_ia32_pause ();
#endif
}

/* See concurry-platform-private.h: without GCC's or Clang's atomics. */
#if !defined (__GNUC__) && !defined (__clang__)
static GMutex u64_mutex;

void
_concurry_platform_atomic_set_u64 (guint64 *value,
                                   guint64  new_value)
{
  g_mutex_lock (&u64_mutex);
  *value = new_value;
  g_mutex_unlock (&u64_mutex);
}

guint64
_concurry_platform_atomic_add_u64 (guint64 *value,
                                   guint64  add)
{
  guint64 ret;

  g_mutex_lock (&u64_mutex);
  ret = *value;
  *value += add;
  g_mutex_unlock (&u64_mutex);

  return ret;
}

guint64
_concurry_platform_atomic_get_u64 (const guint64 *value)
{
  /* adding nothing writes nothing */
  return _concurry_platform_atomic_add_u64 ((guint64 *)value, 0);
}

gboolean
_concurry_platform_atomic_cas_u64 (guint64 *value,
                                   guint64  expected,
                                   guint64  desired)
{
  gboolean ret;

  g_mutex_lock (&u64_mutex);
  ret = *value == expected;
  if (ret)
    *value = desired;
  g_mutex_unlock (&u64_mutex);

  return ret;
}
#endif

/*
 * Locks @mutex, spinning briefly first.
 *
 * Why: the lock that takes items off a work queue is held for a few
 * instructions per item, by drainers on every worker; a GMutex that is
 * held puts the caller to sleep in the kernel at once, which costs far
 * more than waiting for those few instructions.
 *
 * How: up to 100 tries, with the x86 PAUSE hint between them (it tells
 * the core this is a spin loop); then an ordinary lock.
 */
void
_concurry_platform_mutex_lock_spinning (GMutex *mutex)
{
  for (guint i = 0; i < 100; i++)
    {
      if (g_mutex_trylock (mutex))
        return;
      cpu_relax ();
    }
  g_mutex_lock (mutex);
}

/*
 * Spins until the integer at @value (read with atomics) is no longer
 * @seen, for about @max_spins pauses, looking at it once every
 * @spins_per_look of them. Returns how many looks it took to see it
 * changed (1: at the first one), or 0 if it did not change.
 *
 * Why: a consumer that has caught up with a producer on another thread
 * would otherwise go to sleep, and the producer pay a wake-up (a system
 * call) for its next item; when items come every few hundred
 * nanoseconds, waiting that long for the next one is far cheaper.
 *
 * Why not look at every pause: the producer writes @value for each item.
 * Each look by the consumer takes the cache line to its core, so the
 * producer's next write has to take it back, and a producer the consumer
 * has caught up with waits for that on every item (it ran 3-4 times
 * slower than alone, measured with bench-combinators). Looking less often
 * lets the producer write several items in a row, and the consumer then
 * takes them in a bunch, a few cache lines at once; the caller chooses
 * how often from what it has seen (see as_completed's next()).
 *
 * How: a bounded loop with the PAUSE hint, as above.
 */
guint
_concurry_platform_spin_until_changed (const int *value,
                                       int        seen,
                                       guint      max_spins,
                                       guint      spins_per_look)
{
  guint looks = 0;

  spins_per_look = MAX (spins_per_look, 1);

  for (guint i = 0; i < max_spins; i += spins_per_look)
    {
      for (guint j = 0; j < spins_per_look; j++)
        cpu_relax ();
      looks++;
      if (g_atomic_int_get (value) != seen)
        return looks;
    }
  return g_atomic_int_get (value) != seen ? looks + 1 : 0;
}

static gboolean
ready_time_dispatch (GSource     *source,
                     GSourceFunc  callback,
                     gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs ready_time_funcs = {
  .dispatch = ready_time_dispatch,
};

/* A source that calls its callback when its ready time comes (see
 * g_source_set_ready_time()): a timer to the microsecond, on any context. */
GSource *
_concurry_platform_ready_time_source_new (void)
{
  return g_source_new (&ready_time_funcs, sizeof (GSource));
}
