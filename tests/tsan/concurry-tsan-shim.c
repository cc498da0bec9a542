/* concurry-tsan-shim.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ThreadSanitizer annotations for the GLib primitives concurry relies on,
 * linked into the test programs of a -Db_sanitize=thread build.
 *
 * Why: the system GLib is not built with TSan. Its GMutex and GCond are
 * futex-based and its reference counts are atomics compiled without
 * instrumentation, so TSan sees none of the happens-before edges they
 * create and reports every access they protect as a race.
 *
 * How: the test executable defines the GLib functions below. A test
 * program that links libconcurry exports them (ld exports an executable's
 * symbols that a shared library it links references), so the calls that
 * libconcurry and the test make resolve here first; each wrapper tells TSan
 * about the edge with __tsan_release()/__tsan_acquire() and calls the real
 * function, found with dlsym (RTLD_NEXT). GLib's own internal calls are
 * bound inside GLib (-Bsymbolic-functions) and are not seen: that is what
 * tests/tsan/glib.supp is for. No LD_PRELOAD, no change to the library.
 *
 * The edges:
 * - GMutex, GRecMutex, GRWLock: unlock releases, lock acquires the lock's
 *   address.
 * - GCond: waiting releases the mutex and acquires it again on wake-up;
 *   signal and broadcast release the condition, a wake-up acquires it.
 * - gatomicrefcount: each decrement releases, the one that reaches zero
 *   acquires, as a reference count with acq_rel ordering does.
 * - GObject: g_object_unref() releases the object. Decrements that do not
 *   reach zero are done here, with an instrumented compare-and-swap; the
 *   last one goes to GLib after acquiring, so that dispose and finalize
 *   see everything done by the other holders before they let go.
 * - g_once_init_leave() releases what it publishes.
 * - GArray, GPtrArray, GBytes, GHashTable, GVariant, GMainContext, GClosure:
 *   each unref releases and acquires (their counts are private).
 * - GThreadPool: a push releases, the worker function acquires.
 * - GSource: attaching, setting the ready time, destroying and dropping a
 *   reference release the source; its dispatch and finalize functions
 *   (for sources made with g_source_new() from here) acquire it. The
 *   callbacks of idle and timeout sources acquire what was released when
 *   they were set; so do those of g_idle_add(), g_timeout_add() and
 *   g_main_context_invoke() and their _full variants.
 *
 * Memory that GLib hands to another thread through its own locks (the
 * queues of GThreadPool, also under g_task_run_in_thread() and
 * g_thread_pool_free()) is allocated with TSan told to ignore the calling
 * thread's accesses meanwhile, so that it is fresh when the other thread
 * frees it; and idle pool threads exit instead of parking in GLib's global
 * queue of unused threads.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/tsan_interface.h>

#include <gio/gio.h>

/* Looks up the next definition of @name: GLib's. */
static gpointer
real_symbol (const char *name)
{
  gpointer sym = dlsym (RTLD_NEXT, name);

  if (sym == NULL)
    abort ();
  return sym;
}

/* Declares real_<name>, GLib's <name>, looked up once (atomically: threads
 * may get here first at the same time). */
#define REAL(ret, name, params)                                             \
  static ret (*cached_##name) params;                                       \
  ret (*real_##name) params = __atomic_load_n (&cached_##name, __ATOMIC_ACQUIRE); \
  if (real_##name == NULL)                                                  \
    {                                                                       \
      real_##name = (ret (*) params)real_symbol (#name);                    \
      __atomic_store_n (&cached_##name, real_##name, __ATOMIC_RELEASE);     \
    }

#define ACQUIRE(p) __tsan_acquire ((void *)(p))
#define RELEASE(p) __tsan_release ((void *)(p))

/* From TSan's dynamic annotations: the accesses the calling thread makes
 * meanwhile, memory allocation included, are not recorded. Used around a
 * GLib call that hands memory to another thread through locks TSan does
 * not see (the queue of a GThreadPool): the memory is then fresh to TSan
 * when the other thread frees it. */
void AnnotateIgnoreReadsBegin (const char *file, int line);
void AnnotateIgnoreReadsEnd (const char *file, int line);
void AnnotateIgnoreWritesBegin (const char *file, int line);
void AnnotateIgnoreWritesEnd (const char *file, int line);

#define IGNORE_BEGIN() \
  (AnnotateIgnoreReadsBegin (__FILE__, __LINE__), AnnotateIgnoreWritesBegin (__FILE__, __LINE__))
#define IGNORE_END() \
  (AnnotateIgnoreWritesEnd (__FILE__, __LINE__), AnnotateIgnoreReadsEnd (__FILE__, __LINE__))

/* GMutex */

void
g_mutex_lock (GMutex *mutex)
{
  REAL (void, g_mutex_lock, (GMutex *));
  real_g_mutex_lock (mutex);
  ACQUIRE (mutex);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  REAL (gboolean, g_mutex_trylock, (GMutex *));
  if (!real_g_mutex_trylock (mutex))
    return FALSE;
  ACQUIRE (mutex);
  return TRUE;
}

void
g_mutex_unlock (GMutex *mutex)
{
  REAL (void, g_mutex_unlock, (GMutex *));
  RELEASE (mutex);
  real_g_mutex_unlock (mutex);
}

/* GRecMutex */

void
g_rec_mutex_lock (GRecMutex *mutex)
{
  REAL (void, g_rec_mutex_lock, (GRecMutex *));
  real_g_rec_mutex_lock (mutex);
  ACQUIRE (mutex);
}

gboolean
g_rec_mutex_trylock (GRecMutex *mutex)
{
  REAL (gboolean, g_rec_mutex_trylock, (GRecMutex *));
  if (!real_g_rec_mutex_trylock (mutex))
    return FALSE;
  ACQUIRE (mutex);
  return TRUE;
}

void
g_rec_mutex_unlock (GRecMutex *mutex)
{
  REAL (void, g_rec_mutex_unlock, (GRecMutex *));
  RELEASE (mutex);
  real_g_rec_mutex_unlock (mutex);
}

/* GRWLock: readers release too, so that a writer that comes after them
 * is ordered after what they read. */

void
g_rw_lock_writer_lock (GRWLock *lock)
{
  REAL (void, g_rw_lock_writer_lock, (GRWLock *));
  real_g_rw_lock_writer_lock (lock);
  ACQUIRE (lock);
}

gboolean
g_rw_lock_writer_trylock (GRWLock *lock)
{
  REAL (gboolean, g_rw_lock_writer_trylock, (GRWLock *));
  if (!real_g_rw_lock_writer_trylock (lock))
    return FALSE;
  ACQUIRE (lock);
  return TRUE;
}

void
g_rw_lock_writer_unlock (GRWLock *lock)
{
  REAL (void, g_rw_lock_writer_unlock, (GRWLock *));
  RELEASE (lock);
  real_g_rw_lock_writer_unlock (lock);
}

void
g_rw_lock_reader_lock (GRWLock *lock)
{
  REAL (void, g_rw_lock_reader_lock, (GRWLock *));
  real_g_rw_lock_reader_lock (lock);
  ACQUIRE (lock);
}

gboolean
g_rw_lock_reader_trylock (GRWLock *lock)
{
  REAL (gboolean, g_rw_lock_reader_trylock, (GRWLock *));
  if (!real_g_rw_lock_reader_trylock (lock))
    return FALSE;
  ACQUIRE (lock);
  return TRUE;
}

void
g_rw_lock_reader_unlock (GRWLock *lock)
{
  REAL (void, g_rw_lock_reader_unlock, (GRWLock *));
  RELEASE (lock);
  real_g_rw_lock_reader_unlock (lock);
}

/* GCond */

void
g_cond_wait (GCond  *cond,
             GMutex *mutex)
{
  REAL (void, g_cond_wait, (GCond *, GMutex *));
  RELEASE (mutex);
  real_g_cond_wait (cond, mutex);
  ACQUIRE (mutex);
  ACQUIRE (cond);
}

gboolean
g_cond_wait_until (GCond  *cond,
                   GMutex *mutex,
                   gint64  end_time)
{
  gboolean signalled;

  REAL (gboolean, g_cond_wait_until, (GCond *, GMutex *, gint64));
  RELEASE (mutex);
  signalled = real_g_cond_wait_until (cond, mutex, end_time);
  ACQUIRE (mutex);
  ACQUIRE (cond);
  return signalled;
}

void
g_cond_signal (GCond *cond)
{
  REAL (void, g_cond_signal, (GCond *));
  RELEASE (cond);
  real_g_cond_signal (cond);
}

void
g_cond_broadcast (GCond *cond)
{
  REAL (void, g_cond_broadcast, (GCond *));
  RELEASE (cond);
  real_g_cond_broadcast (cond);
}

/* gatomicrefcount */

gboolean
g_atomic_ref_count_dec (gatomicrefcount *arc)
{
  REAL (gboolean, g_atomic_ref_count_dec, (gatomicrefcount *));
  RELEASE (arc);
  if (!real_g_atomic_ref_count_dec (arc))
    return FALSE;
  ACQUIRE (arc);
  return TRUE;
}

/* g_once_init_enter()'s fast path is an inline atomic load, which TSan
 * sees; the store that publishes the value is in GLib, which it does not. */
void
(g_once_init_leave) (volatile void *location,
                     gsize          result)
{
  REAL (void, g_once_init_leave, (volatile void *, gsize));
  RELEASE (location);
  real_g_once_init_leave (location, result);
}

gboolean
(g_once_init_enter) (volatile void *location)
{
  gboolean enter;

  REAL (gboolean, g_once_init_enter, (volatile void *));
  enter = real_g_once_init_enter (location);
  ACQUIRE (location);
  return enter;
}

/* GObject */

/* GObject keeps "has a toggle reference" in the low bit of qdata; a
 * decrement from 2 to 1 must then notify, which GLib does. */
#define OBJECT_HAS_TOGGLE_REF_FLAG 0x1

void
g_object_unref (gpointer object)
{
  GObject *gobject = object;
  int old;

  REAL (void, g_object_unref, (gpointer));

  if (!G_IS_OBJECT (gobject))
    {
      real_g_object_unref (object);   /* the critical is GLib's to emit */
      return;
    }

  RELEASE (gobject);
  old = __atomic_load_n ((int *)&gobject->ref_count, __ATOMIC_ACQUIRE);
  while (old > 1 &&
         !(old == 2 && (g_datalist_get_flags (&gobject->qdata) & OBJECT_HAS_TOGGLE_REF_FLAG)))
    {
      if (__atomic_compare_exchange_n ((int *)&gobject->ref_count, &old, old - 1, FALSE,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    }

  /* Maybe the last reference: GLib disposes and finalizes. */
  ACQUIRE (gobject);
  real_g_object_unref (object);
}

/* GThreadPool: the pool gets a trampoline as its function, which knows
 * the real one. */

typedef struct
{
  GFunc    func;
  gpointer user_data;
} PoolFunc;

static void
pool_trampoline (gpointer data,
                 gpointer user_data)
{
  PoolFunc *pool_func = user_data;

  ACQUIRE (pool_func);
  ACQUIRE (data);
  pool_func->func (data, pool_func->user_data);
}

/* The PoolFunc lives as long as the process: g_thread_pool_free() without
 * waiting lets queued work run after it returns. One per pool. */
GThreadPool *
g_thread_pool_new (GFunc     func,
                   gpointer  user_data,
                   gint      max_threads,
                   gboolean  exclusive,
                   GError  **error)
{
  PoolFunc *pool_func = malloc (sizeof *pool_func);

  REAL (GThreadPool *, g_thread_pool_new, (GFunc, gpointer, gint, gboolean, GError **));
  pool_func->func = func;
  pool_func->user_data = user_data;
  RELEASE (pool_func);
  return real_g_thread_pool_new (pool_trampoline, pool_func, max_threads, exclusive, error);
}

gboolean
g_thread_pool_push (GThreadPool  *pool,
                    gpointer      data,
                    GError      **error)
{
  gboolean pushed;

  REAL (gboolean, g_thread_pool_push, (GThreadPool *, gpointer, GError **));
  RELEASE (data);
  /* GLib frees the pool, on whichever thread stops last. */
  IGNORE_BEGIN ();
  RELEASE (pool->user_data);
  pushed = real_g_thread_pool_push (pool, data, error);
  IGNORE_END ();
  return pushed;
}

/* Stopping a pool queues wake-ups for its threads, in memory that they
 * free. */
void
g_thread_pool_free (GThreadPool *pool,
                    gboolean     immediate,
                    gboolean     wait_)
{
  REAL (void, g_thread_pool_free, (GThreadPool *, gboolean, gboolean));
  IGNORE_BEGIN ();
  real_g_thread_pool_free (pool, immediate, wait_);
  IGNORE_END ();
}

/* A pool thread with nothing to do parks in a queue of GLib's, where
 * another pool may pick it up: a hand-over inside GLib, from which TSan
 * sees only the allocation on one side and the free on the other. Idle
 * threads exit instead (every pool thread starts with pthread_create(),
 * which TSan knows). */
__attribute__((constructor)) static void
shim_init (void)
{
  g_thread_pool_set_max_unused_threads (0);
}

/* GTask: g_task_run_in_thread() queues the task on GLib's own pool, whose
 * queue memory is handed over inside GLib (see g_thread_pool_push()). The
 * work the task runs synchronises through the primitives above. */
void
g_task_run_in_thread (GTask           *task,
                      GTaskThreadFunc  task_func)
{
  REAL (void, g_task_run_in_thread, (GTask *, GTaskThreadFunc));
  RELEASE (task);
  IGNORE_BEGIN ();
  real_g_task_run_in_thread (task, task_func);
  IGNORE_END ();
}

/* GSource */

/* A copy of a source's functions, with dispatch and finalize replaced. */
typedef struct
{
  GSourceFuncs  funcs;
  GSourceFuncs *real;
} SourceFuncs;

static gboolean
source_dispatch_trampoline (GSource     *source,
                            GSourceFunc  callback,
                            gpointer     user_data)
{
  SourceFuncs *funcs;

  ACQUIRE (source);
  funcs = (SourceFuncs *)source->source_funcs;
  return funcs->real->dispatch (source, callback, user_data);
}

static void
source_finalize_trampoline (GSource *source)
{
  SourceFuncs *funcs;

  /* Before the callback's destroy notify, which comes after this. */
  ACQUIRE (source);
  funcs = (SourceFuncs *)source->source_funcs;
  if (funcs->real->finalize != NULL)
    funcs->real->finalize (source);
}

static pthread_mutex_t source_funcs_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *source_funcs_table;   /* real GSourceFuncs → SourceFuncs */

static GSourceFuncs *
wrap_source_funcs (GSourceFuncs *real)
{
  SourceFuncs *funcs;

  pthread_mutex_lock (&source_funcs_lock);
  if (source_funcs_table == NULL)
    source_funcs_table = g_hash_table_new (NULL, NULL);
  funcs = g_hash_table_lookup (source_funcs_table, real);
  if (funcs == NULL)
    {
      funcs = calloc (1, sizeof *funcs);
      funcs->funcs = *real;
      funcs->real = real;
      if (real->dispatch != NULL)
        funcs->funcs.dispatch = source_dispatch_trampoline;
      funcs->funcs.finalize = source_finalize_trampoline;
      g_hash_table_insert (source_funcs_table, real, funcs);
    }
  pthread_mutex_unlock (&source_funcs_lock);

  return &funcs->funcs;
}

GSource *
g_source_new (GSourceFuncs *source_funcs,
              guint         struct_size)
{
  REAL (GSource *, g_source_new, (GSourceFuncs *, guint));
  return real_g_source_new (wrap_source_funcs (source_funcs), struct_size);
}

/* Attaching may add a list to the context for the source's priority,
 * which GLib removes and frees once its last source is gone, on whichever
 * thread drops that source, under the context's lock (which TSan does not
 * see): GIO's GTask pool attaches the idle source of a task that returns
 * on one worker, and the owner of the context or another worker frees the
 * list. So that memory is made fresh (see IGNORE_BEGIN()). The callback of
 * an idle or timeout source acquires what was released here. */
guint
g_source_attach (GSource      *source,
                 GMainContext *context)
{
  guint id;

  REAL (guint, g_source_attach, (GSource *, GMainContext *));
  RELEASE (source);
  IGNORE_BEGIN ();
  id = real_g_source_attach (source, context);
  IGNORE_END ();
  return id;
}

void
g_source_set_ready_time (GSource *source,
                         gint64   ready_time)
{
  REAL (void, g_source_set_ready_time, (GSource *, gint64));
  RELEASE (source);
  real_g_source_set_ready_time (source, ready_time);
}

void
g_source_destroy (GSource *source)
{
  REAL (void, g_source_destroy, (GSource *));
  RELEASE (source);
  ACQUIRE (source);
  real_g_source_destroy (source);
}

void
g_source_unref (GSource *source)
{
  REAL (void, g_source_unref, (GSource *));
  RELEASE (source);
  ACQUIRE (source);
  real_g_source_unref (source);
}

/* GLib's reference-counted containers: their counts are private, so every
 * unref both releases and acquires (the one that frees is then ordered
 * after all the others; two that do not free are ordered too, which may
 * hide a race between them, never report a false one). The boxed types'
 * free functions point here as well: GObject takes their addresses. */
#define UNREF_WRAPPER(type, name)                 \
  void                                            \
  name (type *object)                             \
  {                                               \
    REAL (void, name, (type *));                  \
    RELEASE (object);                             \
    ACQUIRE (object);                             \
    real_##name (object);                         \
  }

UNREF_WRAPPER (GArray, g_array_unref)
UNREF_WRAPPER (GPtrArray, g_ptr_array_unref)
UNREF_WRAPPER (GByteArray, g_byte_array_unref)
UNREF_WRAPPER (GBytes, g_bytes_unref)
UNREF_WRAPPER (GHashTable, g_hash_table_unref)
UNREF_WRAPPER (GVariant, g_variant_unref)
UNREF_WRAPPER (GMainContext, g_main_context_unref)
UNREF_WRAPPER (GClosure, g_closure_unref)

/* The callback of an idle or a timeout source (a GSourceFunc: other kinds
 * of source call theirs with other arguments) goes through a trampoline. */
typedef struct
{
  GSourceFunc    func;
  gpointer       data;
  GDestroyNotify notify;
  GSource       *source;   /* set with g_source_set_callback(), or NULL */
} SourceCallback;

static gboolean
source_callback_trampoline (gpointer user_data)
{
  SourceCallback *callback = user_data;

  ACQUIRE (callback);
  if (callback->source != NULL)
    ACQUIRE (callback->source);
  return callback->func (callback->data);
}

static void
source_callback_free (gpointer user_data)
{
  SourceCallback *callback = user_data;

  ACQUIRE (callback);
  if (callback->source != NULL)
    ACQUIRE (callback->source);
  if (callback->notify != NULL)
    callback->notify (callback->data);
  free (callback);
}

void
g_source_set_callback (GSource        *source,
                       GSourceFunc     func,
                       gpointer        data,
                       GDestroyNotify  notify)
{
  SourceCallback *callback;

  REAL (void, g_source_set_callback, (GSource *, GSourceFunc, gpointer, GDestroyNotify));

  RELEASE (data);
  if (func == NULL ||
      (source->source_funcs != &g_idle_funcs && source->source_funcs != &g_timeout_funcs))
    {
      real_g_source_set_callback (source, func, data, notify);
      return;
    }

  callback = malloc (sizeof *callback);
  callback->func = func;
  callback->data = data;
  callback->notify = notify;
  /* what is done to the source until it is attached (GTask names it after
   * setting its callback, say) is released when it is (see
   * g_source_attach()) */
  callback->source = source;
  RELEASE (callback);
  real_g_source_set_callback (source, source_callback_trampoline, callback, source_callback_free);
}

/* The shorthands that make and attach a source inside GLib. */

static SourceCallback *
source_callback_new (GSourceFunc    func,
                     gpointer       data,
                     GDestroyNotify notify)
{
  SourceCallback *callback = malloc (sizeof *callback);

  callback->func = func;
  callback->data = data;
  callback->notify = notify;
  callback->source = NULL;
  RELEASE (data);
  RELEASE (callback);
  return callback;
}

guint
g_idle_add_full (gint           priority,
                 GSourceFunc    function,
                 gpointer       data,
                 GDestroyNotify notify)
{
  REAL (guint, g_idle_add_full, (gint, GSourceFunc, gpointer, GDestroyNotify));
  return real_g_idle_add_full (priority, source_callback_trampoline,
                               source_callback_new (function, data, notify),
                               source_callback_free);
}

guint
g_idle_add (GSourceFunc function,
            gpointer    data)
{
  return g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, function, data, NULL);
}

guint
g_timeout_add_full (gint           priority,
                    guint          interval,
                    GSourceFunc    function,
                    gpointer       data,
                    GDestroyNotify notify)
{
  REAL (guint, g_timeout_add_full, (gint, guint, GSourceFunc, gpointer, GDestroyNotify));
  return real_g_timeout_add_full (priority, interval, source_callback_trampoline,
                                  source_callback_new (function, data, notify),
                                  source_callback_free);
}

guint
g_timeout_add (guint       interval,
               GSourceFunc function,
               gpointer    data)
{
  return g_timeout_add_full (G_PRIORITY_DEFAULT, interval, function, data, NULL);
}

void
g_main_context_invoke_full (GMainContext   *context,
                            gint            priority,
                            GSourceFunc     function,
                            gpointer        data,
                            GDestroyNotify  notify)
{
  REAL (void, g_main_context_invoke_full, (GMainContext *, gint, GSourceFunc, gpointer, GDestroyNotify));
  real_g_main_context_invoke_full (context, priority, source_callback_trampoline,
                                   source_callback_new (function, data, notify),
                                   source_callback_free);
}

void
g_main_context_invoke (GMainContext *context,
                       GSourceFunc   function,
                       gpointer      data)
{
  g_main_context_invoke_full (context, G_PRIORITY_DEFAULT, function, data, NULL);
}
