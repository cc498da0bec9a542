/* concurry-dispatch.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-dispatch-private.h"

/*
 * Callback delivery.
 *
 * Every main context that has done callbacks waiting gets one
 * ConcurryDispatcher: a GSource attached to that context with a FIFO of
 * callbacks ready to run. Completing a future appends its callbacks to the
 * FIFOs of their contexts and wakes each context at most once per batch, so
 * a thousand futures completing together cost one wake-up and one dispatch,
 * not a thousand idle sources.
 *
 * A dispatcher lives while callbacks bound to it exist (@users counts
 * them). The registry maps a context to its live dispatcher; a callback
 * takes a use under the registry lock, and the use that brings the count
 * to zero is dropped under that lock too, so a lookup can never revive a
 * dispatcher that is being destroyed.
 *
 * The dispatcher may recurse: a callback may block in
 * concurry_future_wait(), which iterates the same context, and the
 * callbacks queued behind it must still run, in order. So the batch being
 * run lives in the dispatcher (@running) rather than on the stack; only the
 * thread that owns the context touches it.
 */

struct _ConcurryDispatcher
{
  GSource           source;
  GMainContext     *context;
  GMutex            mutex;
  ConcurryCallback *head;          /* queued, under @mutex */
  ConcurryCallback *tail;
  ConcurryCallback *running;       /* being run, owner thread only */
  ConcurryCallback *running_tail;
  int               users;
};

G_LOCK_DEFINE_STATIC (registry);
static GHashTable *registry;

static guint next_callback_id;

/* Ids of callbacks are never 0, which borrowed nodes have. */
static guint
new_callback_id (void)
{
  guint id;

  do
    id = (guint)g_atomic_int_add (&next_callback_id, 1) + 1;
  while (id == 0);

  return id;
}

static void dispatcher_release (ConcurryDispatcher *self,
                                int                 n);

static gboolean
dispatcher_dispatch (GSource     *source,
                     GSourceFunc  callback,
                     gpointer     user_data)
{
  ConcurryDispatcher *self = (ConcurryDispatcher *)source;
  ConcurryCallback *batch;
  ConcurryCallback *batch_tail;
  gboolean armed = FALSE;
  int n = 0;

  g_mutex_lock (&self->mutex);
  batch = self->head;
  batch_tail = self->tail;
  self->head = self->tail = NULL;
  g_source_set_ready_time (source, -1);
  g_mutex_unlock (&self->mutex);

  if (batch != NULL)
    {
      if (self->running_tail != NULL)
        self->running_tail->next = batch;
      else
        self->running = batch;
      self->running_tail = batch_tail;
    }

  while (self->running != NULL)
    {
      ConcurryCallback *cb = self->running;

      self->running = cb->next;
      if (self->running == NULL)
        self->running_tail = NULL;
      cb->next = NULL;

      /* A callback that blocks in a wait iterates this context: the
       * callbacks queued behind it must stay ready to run in there (one
       * may be what completes the wait). Cleared again by the next
       * dispatch that finds nothing to do; once per batch is enough, as a
       * nested dispatch runs the whole batch. */
      if (self->running != NULL && !armed)
        {
          g_source_set_ready_time (source, 0);
          armed = TRUE;
        }

      cb->func (cb->future, cb->user_data);

      /* Keep our own use alive until the end of the batch. */
      cb->dispatcher = NULL;
      _concurry_callback_free (cb);
      n++;
    }

  if (n > 0)
    dispatcher_release (self, n);

  return G_SOURCE_CONTINUE;
}

static void
dispatcher_finalize (GSource *source)
{
  ConcurryDispatcher *self = (ConcurryDispatcher *)source;

  g_assert (self->head == NULL);
  g_assert (self->running == NULL);

  g_mutex_clear (&self->mutex);
  g_main_context_unref (self->context);
}

static GSourceFuncs dispatcher_funcs = {
  .dispatch = dispatcher_dispatch,
  .finalize = dispatcher_finalize,
};

static ConcurryDispatcher *
dispatcher_acquire (GMainContext *context)
{
  ConcurryDispatcher *self;

  G_LOCK (registry);

  if (registry == NULL)
    registry = g_hash_table_new (NULL, NULL);

  self = g_hash_table_lookup (registry, context);

  if (self != NULL)
    {
      g_atomic_int_inc (&self->users);
    }
  else
    {
      self = (ConcurryDispatcher *)g_source_new (&dispatcher_funcs, sizeof *self);
      self->context = g_main_context_ref (context);
      g_mutex_init (&self->mutex);
      self->users = 1;
      g_source_set_static_name ((GSource *)self, "[concurry] callback delivery");
      g_source_set_priority ((GSource *)self, G_PRIORITY_DEFAULT);
      g_source_set_can_recurse ((GSource *)self, TRUE);
      g_source_set_ready_time ((GSource *)self, -1);
      g_source_attach ((GSource *)self, context);
      g_hash_table_insert (registry, context, self);
    }

  G_UNLOCK (registry);

  return self;
}

static void
dispatcher_release (ConcurryDispatcher *self,
                    int                 n)
{
  int old;

  /* Fast path: this is not the last use. */
  for (;;)
    {
      old = g_atomic_int_get (&self->users);
      g_assert (old >= n);
      if (old == n)
        break;
      if (g_atomic_int_compare_and_exchange (&self->users, old, old - n))
        return;
    }

  G_LOCK (registry);
  if (g_atomic_int_add (&self->users, -n) == n)
    {
      g_hash_table_remove (registry, self->context);
      if (g_hash_table_size (registry) == 0)
        g_clear_pointer (&registry, g_hash_table_unref);
    }
  else
    {
      self = NULL;
    }
  G_UNLOCK (registry);

  if (self != NULL)
    {
      g_source_destroy ((GSource *)self);
      g_source_unref ((GSource *)self);
    }
}

static void
dispatcher_push (ConcurryDispatcher *self,
                 ConcurryCallback   *first,
                 ConcurryCallback   *last)
{
  g_mutex_lock (&self->mutex);
  if (self->tail != NULL)
    {
      self->tail->next = first;
    }
  else
    {
      self->head = first;
      g_source_set_ready_time ((GSource *)self, 0);
    }
  self->tail = last;
  g_mutex_unlock (&self->mutex);
}

ConcurryCallback *
_concurry_callback_new (GMainContext           *context,
                        ConcurryFutureCallback  func,
                        gpointer                user_data,
                        GDestroyNotify          destroy)
{
  ConcurryCallback *cb = g_new0 (ConcurryCallback, 1);

  if (context != NULL)
    {
      cb->dispatcher = dispatcher_acquire (context);
    }
  else
    {
      GMainContext *thread_default = g_main_context_ref_thread_default ();
      cb->dispatcher = dispatcher_acquire (thread_default);
      g_main_context_unref (thread_default);
    }

  cb->func = func;
  cb->user_data = user_data;
  cb->destroy = destroy;
  cb->id = new_callback_id ();

  return cb;
}

/* Destroys the user data and frees @cb. Called on the owner context, or on
 * the thread of concurry_future_remove_done_callback(). Does nothing to a
 * borrowed node: its owner keeps its memory. */
void
_concurry_callback_free (ConcurryCallback *cb)
{
  if (cb->borrowed)
    return;
  if (cb->destroy != NULL)
    cb->destroy (cb->user_data);
  g_clear_object (&cb->future);
  if (cb->dispatcher != NULL)
    dispatcher_release (cb->dispatcher, 1);
  g_free (cb);
}

/* An internal callback of concurry's own machinery (combinators): no
 * user code, run at once on the thread that completes the future. */
ConcurryCallback *
_concurry_callback_new_inline (ConcurryFutureCallback func,
                               gpointer               user_data,
                               GDestroyNotify         destroy)
{
  ConcurryCallback *cb = g_new0 (ConcurryCallback, 1);

  cb->func = func;
  cb->user_data = user_data;
  cb->destroy = destroy;
  cb->id = new_callback_id ();

  return cb;
}

/* Makes @cb, in memory of the caller's, an inline node calling @func. */
void
_concurry_callback_init_borrowed (ConcurryCallback       *cb,
                                  ConcurryFutureCallback  func,
                                  gpointer                user_data)
{
  memset (cb, 0, sizeof *cb);
  cb->func = func;
  cb->user_data = user_data;
  cb->borrowed = TRUE;
}

/* Hands the dispatched callbacks of @callbacks (a list in the order they
 * must run) to their dispatchers, each with a reference on @future, and
 * returns the inline ones, in order, for _concurry_callbacks_run_inline().
 * No user code runs here: the completion core calls this with its lock
 * held, so that callbacks added once the future is done cannot overtake
 * the ones it is delivering. The caller holds a reference on @future, so
 * taking more never runs a toggle-reference notification. */
ConcurryCallback *
_concurry_callbacks_dispatch (ConcurryCallback *callbacks,
                              ConcurryFuture   *future)
{
  ConcurryCallback *inline_head = NULL;
  ConcurryCallback **inline_tail = &inline_head;

  while (callbacks != NULL)
    {
      ConcurryCallback *first = callbacks;
      ConcurryCallback *last = first;

      if (first->dispatcher == NULL)
        {
          callbacks = first->next;
          first->next = NULL;
          *inline_tail = first;
          inline_tail = &first->next;
          continue;
        }

      first->future = g_object_ref (future);

      /* Consecutive callbacks for the same context go in one push. */
      while (last->next != NULL && last->next->dispatcher == first->dispatcher)
        {
          last = last->next;
          last->future = g_object_ref (future);
        }

      callbacks = last->next;
      last->next = NULL;
      dispatcher_push (first->dispatcher, first, last);
    }

  return inline_head;
}

/* Runs and frees inline callbacks, with no lock held. */
void
_concurry_callbacks_run_inline (ConcurryCallback *callbacks,
                                ConcurryFuture   *future)
{
  while (callbacks != NULL)
    {
      ConcurryCallback *cb = callbacks;

      callbacks = cb->next;
      cb->next = NULL;
      if (cb->borrowed)
        {
          /* Its owner may free it in there. */
          cb->func (future, cb->user_data);
          continue;
        }
      cb->func (future, cb->user_data);
      _concurry_callback_free (cb);
    }
}
