/* concurry-core.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-dispatch-private.h"
#include "concurry-core-private.h"
#include "concurry-i18n-private.h"
#include "concurry-platform-private.h"

/*
 * The completion core. Every transition happens with @mutex held; nothing
 * foreign (callbacks, destroy notifies, cancellable handlers, unrefs of
 * user objects) ever runs with it held. At completion the callbacks are
 * queued on their contexts' dispatchers under the lock (that runs no user
 * code, and keeps callbacks added later behind them); the combinators'
 * inline callbacks and the cancellable run after it is released.
 */

/* The core lives in a fresh, zeroed GObject instance. A zeroed GMutex and
 * GCond are valid initialized ones (as for static ones: GLib allocates any
 * backing lazily), so there is nothing to call here; _concurry_core_finalize()
 * still clears them. */
void
_concurry_core_init (ConcurryCore *core)
{
  core->state = CONCURRY_FUTURE_STATE_PENDING;
}

/* For futures that are terminal from birth: no other thread can see them
 * yet, so no lock and no atomics. Takes @value and @error. */
void
_concurry_core_init_resolved (ConcurryCore *core,
                              GValue       *value,
                              GError       *error)
{
  if (error != NULL)
    {
      core->outcome.error = error;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        core->state = CONCURRY_FUTURE_STATE_CANCELLED;
      else
        core->state = CONCURRY_FUTURE_STATE_FAILED;
    }
  else
    {
      if (value != NULL)
        core->outcome.value = *value;
      core->state = CONCURRY_FUTURE_STATE_DONE;
    }
}

G_DEFINE_QUARK (concurry-future-id, _concurry_core_id)

/* A new id for @future: its type's prefix and a random UUID. */
char *
_concurry_core_new_id (ConcurryFuture *future)
{
  ConcurryFutureInterface *iface = CONCURRY_FUTURE_GET_IFACE (future);
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strconcat (iface->id_prefix, "-", uuid, NULL);
}

static gboolean unobserved_warnings_disabled;

static void
warn_unobserved (ConcurryCore   *core,
                 ConcurryFuture *future)
{
  g_autofree char *code = NULL;
  g_autofree char *message = NULL;
  g_autofree char *new_id = NULL;
  const char *id;

  if (g_atomic_int_get (&unobserved_warnings_disabled))
    return;

  /* An id nobody asked for is made up for the message, not kept: the
   * future may be recycled (see concurry-work-future.c), and ids are
   * never reused. */
  id = g_object_get_qdata (G_OBJECT (future), _concurry_core_id_quark ());
  if (id == NULL)
    id = new_id = _concurry_core_new_id (future);
  code = g_strdup_printf ("%d", core->outcome.error->code);
  /* Translators: the first %s is the id of a future, the second an error message */
  message = g_strdup_printf (_("Future %s failed and its error was never retrieved: %s"),
                             id, core->outcome.error->message);

  {
    const GLogField fields[] = {
      { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
      { "PRIORITY", "4", -1 },   /* syslog's warning, as g_warning() */
      { "MESSAGE", message, -1 },
      { "CONCURRY_FUTURE_ID", id, -1 },
      { "CONCURRY_ERROR_DOMAIN", g_quark_to_string (core->outcome.error->domain), -1 },
      { "CONCURRY_ERROR_CODE", code, -1 },
    };

    g_log_structured_array (G_LOG_LEVEL_WARNING, fields, G_N_ELEMENTS (fields));
  }
}

void
_concurry_core_finalize (ConcurryCore   *core,
                         ConcurryFuture *future)
{
  ConcurryCallback *cb;

  /* See CONCURRY_TSAN_ACQUIRE_REFS(): every unref comes before this. */
  CONCURRY_TSAN_ACQUIRE_REFS (future);

  if G_UNLIKELY (core->state == CONCURRY_FUTURE_STATE_FAILED && !(core->flags & CORE_OBSERVED))
    warn_unobserved (core, future);

  /* Only a future that was never completed can still hold callbacks; the
   * implementations complete it in dispose, so this is a safety net. */
  while G_UNLIKELY ((cb = core->callbacks) != NULL)
    {
      core->callbacks = cb->next;
      _concurry_callback_free (cb);
    }

  if (core->state == CONCURRY_FUTURE_STATE_DONE)
    {
      switch (G_VALUE_TYPE (&core->outcome.value))
        {
        case G_TYPE_INVALID:
        case G_TYPE_BOOLEAN:
        case G_TYPE_INT:
        case G_TYPE_UINT:
        case G_TYPE_INT64:
        case G_TYPE_UINT64:
        case G_TYPE_DOUBLE:
        case G_TYPE_POINTER:
          /* nothing to free: skip the value table lookup of g_value_unset() */
          break;
        default:
          g_value_unset (&core->outcome.value);
          break;
        }
    }
  else if (core->state != CONCURRY_FUTURE_STATE_PENDING &&
           core->state != CONCURRY_FUTURE_STATE_RUNNING)
    {
      g_error_free (core->outcome.error);
    }
  if (core->cancellable != NULL)
    g_object_unref (core->cancellable);
  g_mutex_clear (&core->mutex);
}

/* No lock: every other transition happens under the lock and reads the
 * state there, so a compare-and-swap from PENDING cannot lose against a
 * completion or a cancellation; it just loses the race or wins it. As this
 * write may come while another thread holds the lock, the reads of the
 * state under the lock are atomic too (ThreadSanitizer holds us to it). */
gboolean
_concurry_core_mark_running (ConcurryCore *core)
{
  return g_atomic_int_compare_and_exchange (&core->state,
                                            CONCURRY_FUTURE_STATE_PENDING,
                                            CONCURRY_FUTURE_STATE_RUNNING);
}

static ConcurryCallback *
reverse (ConcurryCallback *list)
{
  ConcurryCallback *out = NULL;

  while (list != NULL)
    {
      ConcurryCallback *next = list->next;
      list->next = out;
      out = list;
      list = next;
    }

  return out;
}

/*
 * The completed hooks of the types whose cores are CORE_HOOKED (see
 * ConcurryFutureInterface.completed), registered with the type, before it
 * has instances; appended only, and published by the atomic count. A
 * lookup is a pointer comparison per hooked type, not an interface
 * lookup.
 */
typedef struct
{
  GType type;
  void (*completed) (ConcurryFuture *future);
} Hook;

static Hook hooks[4];
static guint n_hooks;
G_LOCK_DEFINE_STATIC (hooks);

void
_concurry_core_register_hook (GType   type,
                              void  (*completed) (ConcurryFuture *))
{
  G_LOCK (hooks);
  g_assert (n_hooks < G_N_ELEMENTS (hooks));
  hooks[n_hooks].type = type;
  hooks[n_hooks].completed = completed;
  g_atomic_int_set (&n_hooks, n_hooks + 1);
  G_UNLOCK (hooks);
}

static void
run_hook (ConcurryFuture *future)
{
  GType type = G_TYPE_FROM_INSTANCE (future);
  guint n = g_atomic_int_get (&n_hooks);

  for (guint i = 0; i < n; i++)
    if (hooks[i].type == type)
      {
        hooks[i].completed (future);
        return;
      }
  g_assert_not_reached ();
}

/* Moves @core to the terminal state implied by @error (none: DONE;
 * G_IO_ERROR_CANCELLED: CANCELLED; any other: FAILED), taking @value and
 * @error. Returns FALSE, and frees them, if @core was already terminal.
 * Becoming CANCELLED trips the cancellable of the work, however it
 * happened. */
static gboolean
core_finish (ConcurryCore   *core,
             ConcurryFuture *future,
             GValue         *value,
             GError         *error,
             gboolean        only_pending,
             gboolean        held)
{
  ConcurryCallback *callbacks;
  ConcurryCallback *inline_callbacks = NULL;
  GCancellable *cancellable = NULL;
  int state;

  if (error == NULL)
    state = CONCURRY_FUTURE_STATE_DONE;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    state = CONCURRY_FUTURE_STATE_CANCELLED;
  else
    state = CONCURRY_FUTURE_STATE_FAILED;

  /* Ours, so that the references the deliveries take below, with the
   * lock held, never bring the count from 1 to 2 (which would run a
   * binding's toggle-reference notification under our lock), and that
   * @future outlives its inline callbacks. Not needed if the caller holds
   * a plain reference until we return (@held): then the count is at
   * least 2 whenever a toggle reference is there too. */
  if (!held)
    g_object_ref (future);

  g_mutex_lock (&core->mutex);

  if (CONCURRY_FUTURE_STATE_IS_TERMINAL (g_atomic_int_get (&core->state)) ||
      (only_pending && g_atomic_int_get (&core->state) == CONCURRY_FUTURE_STATE_RUNNING))
    {
      g_mutex_unlock (&core->mutex);
      if (value != NULL && G_IS_VALUE (value))
        g_value_unset (value);
      g_clear_error (&error);
      if (!held)
        g_object_unref (future);
      return FALSE;
    }

  if (error != NULL)
    core->outcome.error = error;
  else if (value != NULL)
    core->outcome.value = *value;
  /* Only from PENDING: a worker marks its work running with a
   * compare-and-swap that takes no lock, so this must be one too. */
  if (only_pending)
    {
      if (!g_atomic_int_compare_and_exchange (&core->state, CONCURRY_FUTURE_STATE_PENDING, state))
        {
          core->outcome.error = NULL;
          g_mutex_unlock (&core->mutex);
          g_clear_error (&error);
          if (!held)
            g_object_unref (future);
          return FALSE;
        }
    }
  else
    {
      g_atomic_int_set (&core->state, state);
    }

  callbacks = core->callbacks;
  core->callbacks = NULL;

  /* Waiters only need waking: their main context, or their condition
   * variable. Their nodes live on their stacks: use them only here, under
   * the lock (the waiter takes it before returning). */
  for (ConcurryCallback **link = &callbacks; *link != NULL;)
    {
      if ((*link)->dispatcher == NULL && (*link)->func == NULL)
        {
          if ((*link)->blocking)
            g_cond_signal ((*link)->user_data);
          else
            g_main_context_wakeup ((*link)->user_data);
          *link = (*link)->next;
        }
      else
        {
          link = &(*link)->next;
        }
    }

  /* Read after the state is set: see _concurry_core_attach_cancellable(). */
  if (state == CONCURRY_FUTURE_STATE_CANCELLED)
    {
      cancellable = g_atomic_pointer_get (&core->cancellable);
      if (cancellable != NULL)
        g_object_ref (cancellable);
    }

  /* Queued before the lock is released: a callback added once the future
   * is done (which takes the lock first) runs after these. */
  if (callbacks != NULL)
    inline_callbacks = _concurry_callbacks_dispatch (reverse (callbacks), future);

  g_mutex_unlock (&core->mutex);

  if (cancellable != NULL)
    {
      g_cancellable_cancel (cancellable);
      g_object_unref (cancellable);
    }

  if G_UNLIKELY (g_atomic_int_get (&core->flags) & CORE_HOOKED)
    run_hook (future);

  _concurry_callbacks_run_inline (inline_callbacks, future);
  if (!held)
    g_object_unref (future);

  return TRUE;
}

gboolean
_concurry_core_complete (ConcurryCore   *core,
                         ConcurryFuture *future,
                         GValue         *value,
                         GError         *error)
{
  return core_finish (core, future, value, error, FALSE, FALSE);
}

/* The same, for a caller that holds a plain reference on @future (not
 * only a binding's toggle reference) until this returns: an executor
 * completing the work it runs. */
gboolean
_concurry_core_complete_held (ConcurryCore   *core,
                              ConcurryFuture *future,
                              GValue         *value,
                              GError         *error)
{
  return core_finish (core, future, value, error, FALSE, TRUE);
}

gboolean
_concurry_core_cancel (ConcurryCore   *core,
                       ConcurryFuture *future)
{
  int state = _concurry_core_get_state (core);

  if (state == CONCURRY_FUTURE_STATE_CANCELLED)
    return TRUE;
  if (CONCURRY_FUTURE_STATE_IS_TERMINAL (state))
    return FALSE;

  core_finish (core, future, NULL,
               g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                    _("The future was cancelled")), FALSE, FALSE);

  /* Whoever won, the outcome is now fixed. */
  return _concurry_core_get_state (core) == CONCURRY_FUTURE_STATE_CANCELLED;
}

/* Like _concurry_core_cancel(), but leaves a RUNNING future alone: the
 * state is checked under the lock that _concurry_core_mark_running()
 * takes, so the work either never starts or is not cancelled. */
gboolean
_concurry_core_cancel_pending (ConcurryCore   *core,
                               ConcurryFuture *future)
{
  int state = _concurry_core_get_state (core);

  if (state == CONCURRY_FUTURE_STATE_CANCELLED)
    return TRUE;
  if (state != CONCURRY_FUTURE_STATE_PENDING)
    return FALSE;

  core_finish (core, future, NULL,
               g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                    _("The future was cancelled")), TRUE, FALSE);

  return _concurry_core_get_state (core) == CONCURRY_FUTURE_STATE_CANCELLED;
}

GCancellable *
_concurry_core_get_cancellable (ConcurryCore *core)
{
  GCancellable *cancellable;
  GCancellable *created;
  gboolean cancelled = FALSE;

  cancellable = g_atomic_pointer_get (&core->cancellable);
  if (cancellable != NULL)
    return cancellable;

  created = g_cancellable_new ();

  g_mutex_lock (&core->mutex);
  if (core->cancellable == NULL)
    {
      g_atomic_pointer_set (&core->cancellable, created);
      cancelled = g_atomic_int_get (&core->state) == CONCURRY_FUTURE_STATE_CANCELLED;
      created = NULL;
    }
  cancellable = core->cancellable;
  g_mutex_unlock (&core->mutex);

  if (created != NULL)
    g_object_unref (created);
  else if (cancelled)
    g_cancellable_cancel (cancellable);

  return cancellable;
}

/* Lends @core the cancellable of work about to run (the caller keeps its
 * reference until after _concurry_core_detach_cancellable()), and cancels
 * it if @core is cancelled already.
 *
 * No lock: cancelling sets the state, then reads the cancellable; this
 * stores the cancellable, then reads the state (both sequentially
 * consistent), so at least one of them sees the other and cancels it.
 * Cancelling it twice is harmless. */
void
_concurry_core_attach_cancellable (ConcurryCore *core,
                                   GCancellable *cancellable)
{
  g_assert (core->cancellable == NULL);

  g_atomic_pointer_set (&core->cancellable, cancellable);
  if (_concurry_core_get_state (core) == CONCURRY_FUTURE_STATE_CANCELLED)
    g_cancellable_cancel (cancellable);
}

/* Takes it back once the work returned and @core is terminal. No lock:
 * only the transition to CANCELLED reads the cancellable, under the lock
 * and before taking a reference of its own; that transition cannot happen
 * any more, and one that did has released the lock before @core became
 * terminal for the caller. */
void
_concurry_core_detach_cancellable (ConcurryCore *core,
                                   GCancellable *cancellable)
{
  g_assert (CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_core_get_state (core)));
  g_assert (core->cancellable == cancellable);

  g_atomic_pointer_set (&core->cancellable, NULL);
}

/* Whether callbacks will be called with @core's future: if @users_only,
 * done callbacks of users, not the internal ones of concurry's
 * combinators; otherwise any, but the waiters that only need waking. */
gboolean
_concurry_core_has_callbacks (ConcurryCore *core,
                              gboolean      users_only)
{
  gboolean ret = FALSE;

  g_mutex_lock (&core->mutex);
  for (ConcurryCallback *cb = core->callbacks; cb != NULL && !ret; cb = cb->next)
    ret = cb->dispatcher != NULL || (!users_only && cb->func != NULL);
  g_mutex_unlock (&core->mutex);

  return ret;
}

guint
_concurry_core_add_callback (ConcurryCore     *core,
                             ConcurryFuture   *future,
                             ConcurryCallback *cb)
{
  guint id = cb->id;

  /* The lock also orders us after the callbacks that the completion is
   * delivering, even when the state already reads as done. */
  g_mutex_lock (&core->mutex);
  if (!CONCURRY_FUTURE_STATE_IS_TERMINAL (g_atomic_int_get (&core->state)))
    {
      cb->next = core->callbacks;
      core->callbacks = cb;
      g_mutex_unlock (&core->mutex);
      return id;
    }
  g_mutex_unlock (&core->mutex);

  _concurry_callbacks_run_inline (_concurry_callbacks_dispatch (cb, future), future);

  return id;
}

/* Adds @cb unless @core is terminal, and never runs it: returns FALSE,
 * with @cb not added, if @core is done already. For a combinator that
 * registers while holding the lock its callback takes. */
gboolean
_concurry_core_try_add_callback (ConcurryCore     *core,
                                 ConcurryCallback *cb)
{
  gboolean added = FALSE;

  g_mutex_lock (&core->mutex);
  if (!CONCURRY_FUTURE_STATE_IS_TERMINAL (g_atomic_int_get (&core->state)))
    {
      cb->next = core->callbacks;
      core->callbacks = cb;
      added = TRUE;
    }
  g_mutex_unlock (&core->mutex);

  return added;
}

gboolean
_concurry_core_remove_callback (ConcurryCore *core,
                                guint         id)
{
  ConcurryCallback **link;
  ConcurryCallback *found = NULL;

  g_mutex_lock (&core->mutex);
  for (link = &core->callbacks; *link != NULL; link = &(*link)->next)
    {
      if ((*link)->id == id)
        {
          found = *link;
          *link = found->next;
          found->next = NULL;
          break;
        }
    }
  g_mutex_unlock (&core->mutex);

  if (found == NULL)
    return FALSE;

  _concurry_callback_free (found);

  return TRUE;
}

/* A waiter iterating @context while it waits for @core: @waker lives on
 * the waiter's stack. Returns FALSE if @core is already terminal. */
gboolean
_concurry_core_add_waker (ConcurryCore     *core,
                          ConcurryCallback *waker,
                          GMainContext     *context)
{
  gboolean added = FALSE;

  memset (waker, 0, sizeof *waker);
  waker->user_data = context;

  g_mutex_lock (&core->mutex);
  if (!CONCURRY_FUTURE_STATE_IS_TERMINAL (g_atomic_int_get (&core->state)))
    {
      waker->next = core->callbacks;
      core->callbacks = waker;
      added = TRUE;
    }
  g_mutex_unlock (&core->mutex);

  return added;
}

/* Blocks the calling thread until @core is terminal or @deadline (on the
 * monotonic clock; negative: none) passed. The thread's own condition
 * variable goes on @core as a waker node, signalled by the completion. */
void
_concurry_core_wait_blocking (ConcurryCore *core,
                              gint64        deadline)
{
  ConcurryCallback waiter;
  GCond cond;

  g_mutex_lock (&core->mutex);
  if (CONCURRY_FUTURE_STATE_IS_TERMINAL (g_atomic_int_get (&core->state)))
    {
      g_mutex_unlock (&core->mutex);
      return;
    }

  g_cond_init (&cond);
  memset (&waiter, 0, sizeof waiter);
  waiter.user_data = &cond;
  waiter.blocking = TRUE;
  waiter.next = core->callbacks;
  core->callbacks = &waiter;

  /* Loops over spurious wake-ups; the deadline is absolute. */
  while (!CONCURRY_FUTURE_STATE_IS_TERMINAL (g_atomic_int_get (&core->state)))
    {
      if (deadline < 0)
        g_cond_wait (&cond, &core->mutex);
      else if (!g_cond_wait_until (&cond, &core->mutex, deadline))
        break;
    }

  /* Timed out: still on the list. (Completed: the completion took it.) */
  if (!CONCURRY_FUTURE_STATE_IS_TERMINAL (g_atomic_int_get (&core->state)))
    for (ConcurryCallback **link = &core->callbacks; *link != NULL; link = &(*link)->next)
      if (*link == &waiter)
        {
          *link = waiter.next;
          break;
        }

  g_mutex_unlock (&core->mutex);
  g_cond_clear (&cond);
}

/* Takes @node (a waker, or a borrowed node) off @core, if it is still
 * on it: returns FALSE if the completion took it already, which then runs
 * it (or ran it). After this, whoever completes @core no longer touches
 * @node. */
gboolean
_concurry_core_unlink (ConcurryCore     *core,
                       ConcurryCallback *node)
{
  gboolean found = FALSE;

  g_mutex_lock (&core->mutex);
  for (ConcurryCallback **link = &core->callbacks; *link != NULL; link = &(*link)->next)
    {
      if (*link == node)
        {
          *link = node->next;
          node->next = NULL;
          found = TRUE;
          break;
        }
    }
  g_mutex_unlock (&core->mutex);

  return found;
}

/* Sets @error to the outcome of a terminal @core (nothing on DONE) and
 * counts as looking at the error. */
gboolean
_concurry_core_propagate (ConcurryCore  *core,
                          GError       **error)
{
  int state = _concurry_core_get_state (core);

  g_assert (CONCURRY_FUTURE_STATE_IS_TERMINAL (state));

  if (state == CONCURRY_FUTURE_STATE_DONE)
    return TRUE;

  _concurry_core_set_observed (core);
  if (error != NULL)
    *error = g_error_copy (core->outcome.error);

  return FALSE;
}

void
_concurry_set_unobserved_warnings (gboolean enabled)
{
  g_atomic_int_set (&unobserved_warnings_disabled, !enabled);
}

gboolean
_concurry_get_unobserved_warnings (void)
{
  return !g_atomic_int_get (&unobserved_warnings_disabled);
}
