/* concurry-work-future.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-i18n-private.h"
#include "concurry-platform-private.h"
#include "concurry-work-future-private.h"

static void future_iface_init (ConcurryFutureInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConcurryWorkFuture, _concurry_work_future, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_FUTURE, future_iface_init))

static void
future_iface_init (ConcurryFutureInterface *iface)
{
  _concurry_future_implement (iface, G_STRUCT_OFFSET (ConcurryWorkFuture, core), "work");
}

static void
_concurry_work_future_dispose (GObject *object)
{
  ConcurryWorkFuture *self = (ConcurryWorkFuture *)object;

  /* Only reachable for work that was never run nor discarded, which the
   * executors do not allow; stay safe anyway. (A spare future has no
   * work, and nothing to cancel.) */
  if (self->func != NULL)
    _concurry_work_future_discard (self);

  ((GObjectClass *)_concurry_work_future_parent_class)->dispose (object);
}

static void
_concurry_work_future_finalize (GObject *object)
{
  ConcurryWorkFuture *self = (ConcurryWorkFuture *)object;

  _concurry_core_finalize (&self->core, (ConcurryFuture *)self);

  ((GObjectClass *)_concurry_work_future_parent_class)->finalize (object);
}

static void
_concurry_work_future_class_init (ConcurryWorkFutureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = _concurry_work_future_dispose;
  object_class->finalize = _concurry_work_future_finalize;
}

static void
_concurry_work_future_init (ConcurryWorkFuture *self)
{
  _concurry_core_init (&self->core);
}

/*
 * Spare futures. Creating and finalizing a GObject costs more than running
 * a trivial work function on a pool (on GLib 2.74 about 250 ns, much of it
 * on cache lines that every thread shares: the class's reference count,
 * GSlice's magazines, the signal lock). A future that only its executor
 * still holds once its work has run is unreachable for everybody else, so
 * instead of finalizing it, the executor clears it and keeps it for the
 * next submit: fire-and-forget work then costs no GObject at all.
 *
 * Only when it is certainly unreachable: the executor's reference is the
 * only one (a done callback waiting for delivery, a waiter, a chain all
 * hold one), and the object has no qdata at all, so no weak reference,
 * weak pointer, toggle reference (a binding's wrapper) or anyone's data.
 * Signal handlers (the future has no signal of its own but notify) are
 * destroyed and the core is finalized, unobserved-failure warning
 * included, exactly as finalization would.
 *
 * Clean futures go on one stack shared by all threads; a thread that needs
 * one takes the whole stack at once (so there is no ABA problem) and keeps
 * the rest for its next submits; those are freed if the thread exits.
 * At most MAX_SPARE_FUTURES are kept, wherever they are: pushers count
 * themselves in, and a thread counts out the spares it used, in bulk.
 *
 * The limit is about the size of the bursts it pays off for: while the
 * submitter runs ahead of the workers, every pending item needs a future
 * of its own, and recycling saves their creation only if the futures of
 * the previous burst were kept. 32768 spares are about 4 MB, the memory
 * that a burst of that size had pending anyway.
 */
#define MAX_SPARE_FUTURES 32768
#define SPARE_COUNT_BATCH 64

/* Written by every worker and every submitter: on a cache line of its own,
 * away from the read-mostly data around it. */
#if defined (__GNUC__) || defined (__clang__)
# define CACHE_LINE_ALIGNED __attribute__ ((aligned (128)))
#else
# define CACHE_LINE_ALIGNED
#endif

static struct
{
  ConcurryWorkFuture *head;
  int                 count;
  char                padding[128 - sizeof (ConcurryWorkFuture *) - sizeof (int)];
} spare_futures CACHE_LINE_ALIGNED;

/*
 * What each thread keeps for itself: its own spare futures (and how many
 * it used since it last counted them out of spare_futures.count), and
 * the cancellable of the work it ran last (see take_cancellable()). Read
 * through a thread-local pointer, for nothing per item; a GPrivate set
 * once per thread frees it when the thread exits.
 */
typedef struct
{
  ConcurryWorkFuture *head;
  int                 used;
  GCancellable       *cancellable;
} ThreadCache;

static CONCURRY_THREAD_LOCAL ThreadCache *thread_cache;

static void
free_thread_cache (gpointer data)
{
  ThreadCache *cache = data;
  ConcurryWorkFuture *item = cache->head;
  int n = cache->used;

  /* Runs on the exiting thread: anything it still does afterwards finds
   * no cache, and makes a new one. */
  if (thread_cache == cache)
    thread_cache = NULL;

  while (item != NULL)
    {
      ConcurryWorkFuture *next = item->next;

      item->next = NULL;
      g_object_unref (item);
      item = next;
      n++;
    }

  g_atomic_int_add (&spare_futures.count, -n);
  g_clear_object (&cache->cancellable);
  g_free (cache);
}

static GPrivate thread_cache_key = G_PRIVATE_INIT (free_thread_cache);

static ThreadCache *
get_thread_cache (void)
{
  ThreadCache *cache = thread_cache;

  if G_UNLIKELY (cache == NULL)
    {
      cache = g_new0 (ThreadCache, 1);
      g_private_set (&thread_cache_key, cache);
      thread_cache = cache;
    }

  return cache;
}

static ConcurryWorkFuture *
take_spare_future (void)
{
  ThreadCache *local = thread_cache;
  ConcurryWorkFuture *item;

  if G_UNLIKELY (local == NULL)
    {
      if (g_atomic_pointer_get (&spare_futures.head) == NULL)
        return NULL;
      local = get_thread_cache ();
    }

  if (local->head == NULL)
    {
      if (local->used > 0)
        {
          g_atomic_int_add (&spare_futures.count, -local->used);
          local->used = 0;
        }
      if (g_atomic_pointer_get (&spare_futures.head) == NULL)
        return NULL;
      local->head = g_atomic_pointer_exchange (&spare_futures.head, NULL);
      if (local->head == NULL)
        return NULL;
    }

  item = local->head;
  local->head = item->next;
  item->next = NULL;
  if (++local->used == SPARE_COUNT_BATCH)
    {
      g_atomic_int_add (&spare_futures.count, -SPARE_COUNT_BATCH);
      local->used = 0;
    }

#if defined (__GNUC__) || defined (__clang__)
  /* The next one was last written by another thread: start fetching it. */
  if (local->head != NULL)
    __builtin_prefetch (local->head, 1);
#endif

  return item;
}

/* Drops the reference of the executor on @self, which must have run or
 * been discarded: recycles @self if that was the only one. */
void
_concurry_work_future_release (ConcurryWorkFuture *self)
{
  GObject *object = (GObject *)self;
  ConcurryWorkFuture *head;

  g_assert (self->func == NULL);

  /* Not one of ours (a task manager's task is queued as itself), or
   * somebody else holds it. */
  if (G_TYPE_FROM_INSTANCE (self) != CONCURRY_TYPE_WORK_FUTURE ||
      !_concurry_platform_object_is_unshared (object))
    {
      g_object_unref (self);
      return;
    }

  if (g_atomic_int_add (&spare_futures.count, 1) >= MAX_SPARE_FUTURES)
    {
      g_atomic_int_add (&spare_futures.count, -1);
      g_object_unref (self);
      return;
    }

  g_signal_handlers_destroy (self);
  _concurry_core_finalize (&self->core, (ConcurryFuture *)self);
  memset (&self->core, 0, sizeof self->core);
  _concurry_core_init (&self->core);

  do
    {
      head = g_atomic_pointer_get (&spare_futures.head);
      self->next = head;
    }
  while (!g_atomic_pointer_compare_and_exchange (&spare_futures.head, head, self));
}

ConcurryWorkFuture *
_concurry_work_future_new (ConcurryWorkFunc func,
                           gpointer         user_data,
                           GDestroyNotify   destroy)
{
  ConcurryWorkFuture *self = take_spare_future ();

  if (self == NULL)
    self = (ConcurryWorkFuture *)
      g_object_new_with_properties (CONCURRY_TYPE_WORK_FUTURE, 0, NULL, NULL);

  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;

  return self;
}

static void
drop_work (ConcurryWorkFuture *self)
{
  GDestroyNotify destroy = self->destroy;
  gpointer user_data = self->user_data;

  self->func = NULL;
  self->destroy = NULL;
  self->user_data = NULL;

  if (destroy != NULL)
    destroy (user_data);
}

/*
 * A GCancellable for every piece of work would cost as much as the future
 * itself. Each thread keeps the cancellable of the work it ran last and
 * gives it to the next one, but only when nobody else can still see it:
 * it is detached from its future once the future is terminal (so a
 * cancel() from now on cannot reach it), and then nobody but us holds a
 * reference (a cancel() under way holds one). A work function that keeps
 * the cancellable makes the thread take a new one: its cancellable is
 * never shared. Handlers that a work function left on it without keeping
 * it are destroyed before it is given again, just as finalizing it would
 * destroy them: they never see the cancellation of other work.
 *
 * Nor is one kept that carries data (qdata): a language binding that saw
 * it leaves its own there (PyGObject's instance data stays after the
 * wrapper is gone), whose destroy notify calls into the interpreter. A
 * kept cancellable is only freed when its thread exits, which for a
 * pool's thread may be while the interpreter shuts down, when calling
 * into it crashes. One with data is dropped at once, while the binding
 * is sure to be alive.
 */
static GCancellable *
take_cancellable (void)
{
  ThreadCache *cache = thread_cache;
  GCancellable *cancellable;

  if (cache == NULL || cache->cancellable == NULL)
    return g_cancellable_new ();

  cancellable = g_steal_pointer (&cache->cancellable);
  return cancellable;
}

/* Keeps @cancellable for the next work on this thread, if it is ours
 * alone. Handlers left connected on it are destroyed, as finalizing it
 * would (the work that connected them holds no reference on it, or it
 * would not be ours alone); that is cheaper than looking for them, and
 * makes a cancellable that had one reusable all the same. */
static void
give_back_cancellable (GCancellable *cancellable)
{
  ThreadCache *cache;

  if (!_concurry_platform_object_is_unshared ((GObject *)cancellable))
    {
      g_object_unref (cancellable);
      return;
    }

  cache = get_thread_cache ();
  if (cache->cancellable != NULL)
    {
      g_object_unref (cancellable);
      return;
    }

  g_signal_handlers_destroy (cancellable);
  /* reset takes a lock shared by all cancellables: only if needed */
  if (g_cancellable_is_cancelled (cancellable))
    g_cancellable_reset (cancellable);
  cache->cancellable = cancellable;
}

/* Starts the work: marks the future running and lends it a cancellable,
 * returned in @cancellable for _concurry_work_future_end(). Returns FALSE,
 * with the work dropped, if the future was cancelled first. */
gboolean
_concurry_work_future_begin (ConcurryWorkFuture  *self,
                             GCancellable       **cancellable)
{
  if (self->func == NULL || !_concurry_core_mark_running (&self->core))
    {
      drop_work (self);
      return FALSE;
    }

  *cancellable = take_cancellable ();
  _concurry_core_attach_cancellable (&self->core, *cancellable);

  return TRUE;
}

/* The one item whose completion the calling thread wants to hear of
 * first: see _concurry_work_future_set_completion_hook(). */
typedef struct
{
  ConcurryWorkFuture *item;
  GFunc               func;
  gpointer            data;
} CompletionHook;

static CONCURRY_THREAD_LOCAL CompletionHook completion_hook;

/* Until it is called, or set again: @func is called with @item and @data
 * when @item is about to complete on this thread, once its work has
 * returned and before anybody waiting for it can see it done (a drainer
 * that will be idle once its last item is done says so then). An @item
 * of NULL clears it. */
void
_concurry_work_future_set_completion_hook (ConcurryWorkFuture *item,
                                           GFunc               func,
                                           gpointer            data)
{
  completion_hook.item = item;
  completion_hook.func = func;
  completion_hook.data = data;
}

/* Completes started work with its outcome (@error if set, else @value if
 * it holds one; both are taken), frees the work's data and takes back the
 * cancellable. @held: the caller holds a plain reference on @self until
 * this returns (see _concurry_core_complete_held()). */
static void
end_work (ConcurryWorkFuture *self,
          GCancellable       *cancellable,
          GValue             *value,
          GError             *error,
          gboolean            held)
{
  gboolean (*complete) (ConcurryCore *, ConcurryFuture *, GValue *, GError *) =
    held ? _concurry_core_complete_held : _concurry_core_complete;

  if G_UNLIKELY (completion_hook.item == self)
    {
      completion_hook.item = NULL;
      completion_hook.func (self, completion_hook.data);
    }

  if (error != NULL)
    {
      if (value != NULL && G_VALUE_TYPE (value) != G_TYPE_INVALID)
        g_value_unset (value);
      complete (&self->core, (ConcurryFuture *)self, NULL, error);
    }
  else
    {
      complete (&self->core, (ConcurryFuture *)self,
                value != NULL && G_VALUE_TYPE (value) != G_TYPE_INVALID ? value : NULL,
                NULL);
    }

  drop_work (self);

  _concurry_core_detach_cancellable (&self->core, cancellable);
  give_back_cancellable (cancellable);
}

/* Completes started work with its outcome (@error if set, else @value if
 * it holds one; both are taken), frees the work's data and takes back the
 * cancellable. */
void
_concurry_work_future_end (ConcurryWorkFuture *self,
                           GCancellable       *cancellable,
                           GValue             *value,
                           GError             *error)
{
  end_work (self, cancellable, value, error, FALSE);
}

/* Runs the work on the calling thread unless the future was cancelled
 * first, completes the future with its outcome and frees the work's data.
 * Returns FALSE if the work was skipped. The caller holds a reference on
 * @self until this returns (the queue's, which it gives up later). */
gboolean
_concurry_work_future_run (ConcurryWorkFuture *self)
{
  GValue value = G_VALUE_INIT;
  GError *error = NULL;
  GCancellable *cancellable;

  if (!_concurry_work_future_begin (self, &cancellable))
    return FALSE;

  self->func (cancellable, &value, self->user_data, &error);
  end_work (self, cancellable, &value, error, TRUE);

  return TRUE;
}

/* The work will never run: cancels the future and frees the work. */
void
_concurry_work_future_discard (ConcurryWorkFuture *self)
{
  _concurry_core_cancel (&self->core, (ConcurryFuture *)self);
  drop_work (self);
}
