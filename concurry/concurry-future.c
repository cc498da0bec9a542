/* concurry-future.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-dispatch-private.h"
#include "concurry-error.h"
#include "concurry-enum-types.h"
#include "concurry-future-private.h"
#include "concurry-i18n-private.h"
#include "concurry-platform-private.h"

/**
 * ConcurryFuture:
 *
 * A result that may not be known yet.
 *
 * `ConcurryFuture` is the one type that users of concurry hold, whatever
 * produces the result: a [class@Concurry.Promise] resolved by hand, a
 * [class@Concurry.ResolvedFuture] that is done from birth, or work run by
 * an executor. It is the read side only: its state, its value or error,
 * waiting for it, cancelling it and being told when it is done.
 *
 * ## States
 *
 * A future starts `PENDING`, may become `RUNNING` while its work runs, and
 * ends in exactly one terminal state: `DONE` with a value (a `GValue`, of
 * any type), `FAILED` with a `GError`, or `CANCELLED`, which reads as the
 * error `G_IO_ERROR_CANCELLED`. A terminal state never changes again, so
 * everything read from a terminal future stays valid for its lifetime.
 *
 * ## Waiting
 *
 * [method@Concurry.Future.wait] blocks with a timeout and works on any
 * thread without a running main loop. When the calling thread owns its
 * main context (the thread-default one, or the global default context on
 * the main thread) the wait iterates that context while it blocks, so
 * that work which completes through the main loop (a GIO call, an idle
 * callback resolving a promise) can still finish: a blocking wait never
 * deadlocks on its own thread. Code that cannot block uses
 * [method@Concurry.Future.wait_async], which is what `await` uses in
 * GJS (through `Gio._promisify()`) and `yield` in Vala.
 *
 * ## Done callbacks
 *
 * A callback added with [method@Concurry.Future.add_done_callback] runs
 * exactly once, after the future reaches a terminal state, on the
 * `GMainContext` that was thread-default when it was added, in the order
 * the callbacks were added, and never from inside the call that added
 * it, even when the future is already done. Its user data is destroyed
 * on that context too. This is what makes a future safe to hand between a
 * worker thread and a GTK application, a GJS extension (JavaScript must
 * never run on another thread) or a PyGObject script.
 *
 * Deliveries are batched: every context with callbacks to run gets a
 * single source, woken once however many futures complete together.
 *
 * ```c
 * static void
 * on_done (ConcurryFuture *future,
 *          gpointer        user_data)
 * {
 *   g_autoptr(GError) error = NULL;
 *
 *   if (concurry_future_wait (future, 0, &error))
 *     g_print ("%d\n", concurry_future_get_int (future));
 *   else
 *     g_printerr ("%s\n", error->message);
 * }
 *
 * concurry_future_add_done_callback (future, on_done, NULL, NULL);
 * ```
 *
 * ## Errors nobody looked at
 *
 * A future that failed and is finalized while nobody ever retrieved its
 * error (with [method@Concurry.Future.get_error], a wait, or
 * [method@Concurry.Future.wait_finish]) logs a warning with the future's
 * id and the error message through GLib's structured logging (fields
 * `CONCURRY_FUTURE_ID`, `CONCURRY_ERROR_DOMAIN`, `CONCURRY_ERROR_CODE`),
 * so that lost errors are visible. [func@Concurry.set_unobserved_error_warnings]
 * turns that off.
 *
 * ## Thread safety
 *
 * Every function of a future may be called from any thread at any time.
 *
 * ## Implementations
 *
 * `ConcurryFuture` is implemented only inside concurry; every
 * implementation shares one completion core, so that they cannot behave
 * differently, and the interface has no vfuncs to drive another one with.
 * Code with its own source of results wraps it with a
 * [class@Concurry.Promise]. A type implementing `ConcurryFuture` outside
 * concurry is refused by every function, as a programmer error: a critical
 * is logged and the function returns %NULL, %FALSE, 0 or
 * %CONCURRY_FUTURE_STATE_PENDING without touching it.
 *
 * Since: 0.1
 */

G_DEFINE_INTERFACE (ConcurryFuture, concurry_future, G_TYPE_OBJECT)

static void
concurry_future_default_init (ConcurryFutureInterface *iface)
{
}

/*
 * Finding the core of a future is on every call's path, so besides the
 * interface vtable each implementation is recorded in a small table keyed
 * by its (final) type: one pointer comparison per implementation instead of
 * an interface check plus an interface lookup. Entries are only appended,
 * before the type has any instance, and published by the atomic count.
 */
typedef struct
{
  GType type;
  gsize core_offset;
} Implementation;

static Implementation implementations[16];
static guint n_implementations;
G_LOCK_DEFINE_STATIC (implementations);

void
_concurry_future_implement (ConcurryFutureInterface *iface,
                            gsize                    core_offset,
                            const char              *id_prefix)
{
  guint n;

  iface->core_offset = core_offset;
  iface->id_prefix = id_prefix;
  if (iface->completed != NULL)
    _concurry_core_register_hook (((GTypeInterface *)iface)->g_instance_type, iface->completed);

  G_LOCK (implementations);
  n = g_atomic_int_get (&n_implementations);
  if (n < G_N_ELEMENTS (implementations))
    {
      implementations[n].type = ((GTypeInterface *)iface)->g_instance_type;
      implementations[n].core_offset = core_offset;
      g_atomic_int_set (&n_implementations, n + 1);
    }
  G_UNLOCK (implementations);
}

static inline ConcurryCore *
peek_core (gpointer self)
{
  if G_LIKELY (self != NULL && ((GTypeInstance *)self)->g_class != NULL)
    {
      GType type = G_TYPE_FROM_INSTANCE (self);
      guint n = g_atomic_int_get (&n_implementations);

      for (guint i = 0; i < n; i++)
        if (implementations[i].type == type)
          return G_STRUCT_MEMBER_P (self, implementations[i].core_offset);
    }

  return NULL;
}

/* The slow path of _concurry_future_check_core(): anything that is not a
 * future of concurry gets a critical naming @caller. */
ConcurryCore *
_concurry_future_check_core_slow (gconstpointer  self,
                                  const char    *caller)
{
  ConcurryFutureInterface *iface;

  if (!CONCURRY_IS_FUTURE ((gpointer)self))
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, caller, "CONCURRY_IS_FUTURE (future)");
      return NULL;
    }

  iface = CONCURRY_FUTURE_GET_IFACE ((gpointer)self);
  if G_UNLIKELY (iface->core_offset == 0)
    {
      /* See "Implementations" in ConcurryFuture's documentation. */
      /* g_log(), like g_return_val_if_fail(): what tests can expect */
      g_log (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
             "%s: %s implements ConcurryFuture outside concurry, which is not "
             "supported; use a ConcurryPromise instead",
             caller, G_OBJECT_TYPE_NAME (self));
      return NULL;
    }

  return G_STRUCT_MEMBER_P (self, iface->core_offset);
}

ConcurryCore *
_concurry_future_peek_core (gconstpointer self)
{
  return peek_core ((gpointer)self);
}

ConcurryCore *
_concurry_future_get_core (ConcurryFuture *self)
{
  ConcurryCore *core = peek_core (self);

  if G_LIKELY (core != NULL)
    return core;

  return _concurry_future_check_core_slow (self, G_STRFUNC);
}

#define GET_CORE_OR_RETURN(self, val)                                   \
  ConcurryCore *core = _concurry_future_check_core (self, G_STRFUNC);   \
  if G_UNLIKELY (core == NULL)                                          \
    return (val);

/**
 * concurry_future_get_state:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the current state of @self.
 *
 * Returns: the state of @self
 *
 * Since: 0.1
 */
ConcurryFutureState
concurry_future_get_state (ConcurryFuture *self)
{
  GET_CORE_OR_RETURN (self, CONCURRY_FUTURE_STATE_PENDING);

  return _concurry_core_get_state (core);
}

/**
 * concurry_future_is_done:
 * @self: a [iface@Concurry.Future]
 *
 * Checks whether @self has reached a terminal state: done with a value,
 * failed, or cancelled.
 *
 * Returns: %TRUE if @self is done, failed or cancelled
 *
 * Since: 0.1
 */
gboolean
concurry_future_is_done (ConcurryFuture *self)
{
  GET_CORE_OR_RETURN (self, FALSE);

  return CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_core_get_state (core));
}

/**
 * concurry_future_is_running:
 * @self: a [iface@Concurry.Future]
 *
 * Checks whether the work of @self has started and not finished yet. A
 * future whose work is still queued is not running.
 *
 * Returns: %TRUE if @self is in the running state
 *
 * Since: 0.1
 */
gboolean
concurry_future_is_running (ConcurryFuture *self)
{
  GET_CORE_OR_RETURN (self, FALSE);

  return _concurry_core_get_state (core) == CONCURRY_FUTURE_STATE_RUNNING;
}

/**
 * concurry_future_is_cancelled:
 * @self: a [iface@Concurry.Future]
 *
 * Checks whether @self was cancelled.
 *
 * Returns: %TRUE if @self is in the cancelled state
 *
 * Since: 0.1
 */
gboolean
concurry_future_is_cancelled (ConcurryFuture *self)
{
  GET_CORE_OR_RETURN (self, FALSE);

  return _concurry_core_get_state (core) == CONCURRY_FUTURE_STATE_CANCELLED;
}

/**
 * concurry_future_is_failed:
 * @self: a [iface@Concurry.Future]
 *
 * Checks whether @self completed with an error. A cancelled future is not
 * failed.
 *
 * Returns: %TRUE if @self is in the failed state
 *
 * Since: 0.1
 */
gboolean
concurry_future_is_failed (ConcurryFuture *self)
{
  GET_CORE_OR_RETURN (self, FALSE);

  return _concurry_core_get_state (core) == CONCURRY_FUTURE_STATE_FAILED;
}

/**
 * concurry_future_get_id:
 * @self: a [iface@Concurry.Future]
 *
 * Gets a string that identifies @self among all futures of the process,
 * for logs and debugging: the kind of future followed by a random UUID,
 * such as `promise-0b0a4b32-6cd8-4bfa-8d39-6c3a3e1ce1b4`.
 *
 * The id is made the first time it is asked for, and kept as data of the
 * object.
 *
 * Returns: (transfer none): the id of @self
 *
 * Since: 0.1
 */
const char *
concurry_future_get_id (ConcurryFuture *self)
{
  GQuark quark = _concurry_core_id_quark ();
  char *id;

  GET_CORE_OR_RETURN (self, NULL);

  /* Kept as data of the object rather than in every future, as few are
   * ever asked: the first caller sets it, a racing one takes that. */
  id = g_object_get_qdata (G_OBJECT (self), quark);
  if (id != NULL)
    return id;

  id = _concurry_core_new_id (self);
  if (!g_object_replace_qdata (G_OBJECT (self), quark, NULL, id, g_free, NULL))
    {
      g_free (id);
      id = g_object_get_qdata (G_OBJECT (self), quark);
    }

  return id;
}

/**
 * concurry_future_get_value:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value @self completed with.
 *
 * This is %NULL while @self is not done, when it failed or was cancelled,
 * and when it completed without a value (a promise resolved with %NULL).
 * The value never changes once set, so the pointer stays valid as long as
 * @self is alive.
 *
 * Returns: (transfer none) (nullable): the value of @self
 *
 * Since: 0.1
 */
const GValue *
concurry_future_get_value (ConcurryFuture *self)
{
  GET_CORE_OR_RETURN (self, NULL);

  if (_concurry_core_get_state (core) != CONCURRY_FUTURE_STATE_DONE ||
      G_VALUE_TYPE (&core->outcome.value) == G_TYPE_INVALID)
    return NULL;

  return &core->outcome.value;
}

/**
 * concurry_future_dup_value:
 * @self: a [iface@Concurry.Future]
 * @value: (out caller-allocates): an uninitialized `GValue` to copy into
 *
 * Copies the value of @self into @value, if it has one (see
 * [method@Concurry.Future.get_value]).
 *
 * Returns: %TRUE if @value was initialized with a copy of the value
 *
 * Since: 0.1
 */
gboolean
concurry_future_dup_value (ConcurryFuture *self,
                           GValue         *value)
{
  const GValue *v;

  g_return_val_if_fail (value != NULL && G_VALUE_TYPE (value) == G_TYPE_INVALID, FALSE);

  v = concurry_future_get_value (self);
  if (v == NULL)
    return FALSE;

  g_value_init (value, G_VALUE_TYPE (v));
  g_value_copy (v, value);

  return TRUE;
}

/**
 * concurry_future_get_value_type:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the type of the value of @self.
 *
 * Returns: the `GType` of the value, or %G_TYPE_INVALID if there is none
 *
 * Since: 0.1
 */
GType
concurry_future_get_value_type (ConcurryFuture *self)
{
  const GValue *v = concurry_future_get_value (self);

  return v != NULL ? G_VALUE_TYPE (v) : G_TYPE_INVALID;
}

/* The typed getters are on the hot path of reading a result: one exact
 * type comparison (the fast path of G_VALUE_HOLDS) and the getter. */
#define DEFINE_TYPED_GETTER(name, ctype, HOLDS, getter, zero)       \
  ctype                                                               \
  concurry_future_get_##name (ConcurryFuture *self)                   \
  {                                                                   \
    const GValue *v;                                                  \
                                                                      \
    GET_CORE_OR_RETURN (self, zero);                                  \
                                                                      \
    if (_concurry_core_get_state (core) != CONCURRY_FUTURE_STATE_DONE) \
      return zero;                                                    \
    v = &core->outcome.value;                                                 \
    if (G_VALUE_TYPE (v) == G_TYPE_INVALID)                           \
      return zero;                                                    \
    g_return_val_if_fail (HOLDS (v), zero);                           \
    return getter (v);                                                \
  }

/**
 * concurry_future_get_boolean:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold a `gboolean`.
 *
 * Returns: the value, or %FALSE if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (boolean, gboolean, G_VALUE_HOLDS_BOOLEAN, g_value_get_boolean, FALSE)

/**
 * concurry_future_get_int:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold an `int`.
 *
 * Returns: the value, or 0 if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (int, int, G_VALUE_HOLDS_INT, g_value_get_int, 0)

/**
 * concurry_future_get_uint:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold a `guint`.
 *
 * Returns: the value, or 0 if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (uint, guint, G_VALUE_HOLDS_UINT, g_value_get_uint, 0)

/**
 * concurry_future_get_int64:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold a `gint64`.
 *
 * Returns: the value, or 0 if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (int64, gint64, G_VALUE_HOLDS_INT64, g_value_get_int64, 0)

/**
 * concurry_future_get_uint64:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold a `guint64`.
 *
 * Returns: the value, or 0 if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (uint64, guint64, G_VALUE_HOLDS_UINT64, g_value_get_uint64, 0)

/**
 * concurry_future_get_double:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold a `double`.
 *
 * Returns: the value, or 0 if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (double, double, G_VALUE_HOLDS_DOUBLE, g_value_get_double, 0.0)

/**
 * concurry_future_get_string:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold a string.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (string, const char *, G_VALUE_HOLDS_STRING, g_value_get_string, NULL)

/**
 * concurry_future_get_object:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold a `GObject`.
 *
 * Returns: (transfer none) (nullable) (type GObject): the value, or %NULL
 *   if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (object, gpointer, G_VALUE_HOLDS_OBJECT, g_value_get_object, NULL)

/**
 * concurry_future_get_pointer:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold a `gpointer`.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (pointer, gpointer, G_VALUE_HOLDS_POINTER, g_value_get_pointer, NULL)

/**
 * concurry_future_get_boxed:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold a boxed type.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (boxed, gpointer, G_VALUE_HOLDS_BOXED, g_value_get_boxed, NULL)

/**
 * concurry_future_get_variant:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the value of @self, which must hold a `GVariant`.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if @self has no value
 *
 * Since: 0.1
 */
DEFINE_TYPED_GETTER (variant, GVariant *, G_VALUE_HOLDS_VARIANT, g_value_get_variant, NULL)

/**
 * concurry_future_get_error:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the error of a failed or cancelled future. A cancelled future
 * reports `G_IO_ERROR_CANCELLED`.
 *
 * Calling this counts as looking at the error: the future will not warn
 * about an unobserved error when it is finalized.
 *
 * Returns: (transfer none) (nullable): the error, or %NULL if @self is not
 *   failed or cancelled
 *
 * Since: 0.1
 */
const GError *
concurry_future_get_error (ConcurryFuture *self)
{
  int state;

  GET_CORE_OR_RETURN (self, NULL);

  state = _concurry_core_get_state (core);
  if (state != CONCURRY_FUTURE_STATE_FAILED && state != CONCURRY_FUTURE_STATE_CANCELLED)
    return NULL;

  _concurry_core_set_observed (core);

  return core->outcome.error;
}

/**
 * concurry_future_cancel:
 * @self: a [iface@Concurry.Future]
 *
 * Cancels @self.
 *
 * A future that is not done yet becomes cancelled at once: every read
 * reports `CANCELLED` (the error is `G_IO_ERROR_CANCELLED`), waiters wake
 * up and the done callbacks are scheduled. Work that has not started yet
 * never starts; work that is already running sees its `GCancellable`
 * cancelled and its eventual result is dropped.
 *
 * Cancelling is idempotent: cancelling a cancelled future returns %TRUE
 * again and runs nothing twice. A future that already completed with a
 * value or an error cannot be cancelled.
 *
 * Returns: %FALSE if @self had already completed with a value or an
 *   error, %TRUE otherwise
 *
 * Since: 0.1
 */
gboolean
concurry_future_cancel (ConcurryFuture *self)
{
  GET_CORE_OR_RETURN (self, FALSE);

  return _concurry_core_cancel (core, self);
}

/**
 * concurry_future_cancel_pending:
 * @self: a [iface@Concurry.Future]
 *
 * Cancels @self only if its work has not started yet.
 *
 * This is the cancel of Python's `concurrent.futures`: a future that is
 * still pending (queued work, a promise not marked running) becomes
 * cancelled exactly as with [method@Concurry.Future.cancel]; a future
 * whose work is running is left alone, and its work runs to completion.
 * The check and the cancellation are one atomic step, so work that a
 * worker starts at the same moment is either cancelled before it starts
 * or not cancelled at all.
 *
 * Returns: %TRUE if @self is cancelled (now or before), %FALSE if it is
 *   running or already completed with a value or an error
 *
 * Since: 0.2
 */
gboolean
concurry_future_cancel_pending (ConcurryFuture *self)
{
  GET_CORE_OR_RETURN (self, FALSE);

  return _concurry_core_cancel_pending (core, self);
}

/**
 * concurry_future_add_done_callback:
 * @self: a [iface@Concurry.Future]
 * @callback: (scope notified) (closure user_data) (destroy destroy): the
 *   function to call once @self is done
 * @user_data: data for @callback
 * @destroy: (nullable): a function to free @user_data with, or %NULL
 *
 * Calls @callback once @self reaches a terminal state.
 *
 * The callback runs exactly once, on the `GMainContext` that is
 * thread-default for the calling thread (the global default context if
 * none was pushed), after the callbacks added before it, and never from
 * inside this call, even if @self is already done. @destroy is called
 * right after it, on the same context. See
 * [method@Concurry.Future.add_done_callback_full] to choose the context.
 *
 * Returns: an id for [method@Concurry.Future.remove_done_callback], never 0
 *
 * Since: 0.1
 */
guint
concurry_future_add_done_callback (ConcurryFuture         *self,
                                   ConcurryFutureCallback  callback,
                                   gpointer                user_data,
                                   GDestroyNotify          destroy)
{
  return concurry_future_add_done_callback_full (self, NULL, callback, user_data, destroy);
}

/**
 * concurry_future_add_done_callback_full:
 * @self: a [iface@Concurry.Future]
 * @context: (nullable): the `GMainContext` to run @callback on, or %NULL
 *   for the thread-default one
 * @callback: (scope notified) (closure user_data) (destroy destroy): the
 *   function to call once @self is done
 * @user_data: data for @callback
 * @destroy: (nullable): a function to free @user_data with, or %NULL
 *
 * Like [method@Concurry.Future.add_done_callback], on an explicit
 * main context.
 *
 * Returns: an id for [method@Concurry.Future.remove_done_callback], never 0
 *
 * Since: 0.1
 */
guint
concurry_future_add_done_callback_full (ConcurryFuture         *self,
                                        GMainContext           *context,
                                        ConcurryFutureCallback  callback,
                                        gpointer                user_data,
                                        GDestroyNotify          destroy)
{
  GET_CORE_OR_RETURN (self, 0);
  g_return_val_if_fail (callback != NULL, 0);

  return _concurry_core_add_callback (core, self,
                                      _concurry_callback_new (context, callback,
                                                              user_data, destroy));
}

/**
 * concurry_future_add_done_callback_direct:
 * @self: a [iface@Concurry.Future]
 * @callback: (scope notified) (closure user_data) (destroy destroy): the
 *   function to call once @self is done
 * @user_data: data for @callback
 * @destroy: (nullable): a function to free @user_data with, or %NULL
 *
 * Calls @callback once @self reaches a terminal state, on the thread that
 * completes it, like `g_cancellable_connect()`.
 *
 * If @self is not done yet, @callback runs on the thread that resolves,
 * rejects or cancels it, right after the state changed and with no lock
 * held; if it is already done, @callback runs at once, inside this call.
 * This is the callback rule of Python's `concurrent.futures`, for code
 * that runs no main loop; language bindings use it for that. @callback
 * may run on a worker thread: it must be thread-safe, and must not be a
 * JavaScript function (refused with a critical, since GJS never runs
 * JavaScript off its main thread). @destroy is called right after
 * @callback, on the same thread.
 *
 * The callback still runs exactly once, and callbacks added this way run
 * in the order they were added; their order relative to callbacks
 * delivered on a main context is not defined.
 *
 * Returns: an id for [method@Concurry.Future.remove_done_callback], or 0
 *   if @callback was refused
 *
 * Since: 0.2
 */
guint
concurry_future_add_done_callback_direct (ConcurryFuture         *self,
                                          ConcurryFutureCallback  callback,
                                          gpointer                user_data,
                                          GDestroyNotify          destroy)
{
  GET_CORE_OR_RETURN (self, 0);
  g_return_val_if_fail (callback != NULL, 0);

  if (_concurry_platform_func_is_javascript ((gpointer)callback))
    {
      g_critical ("%s: a JavaScript callback cannot run on the thread that completes a "
                  "future; use concurry_future_add_done_callback()", G_STRFUNC);
      if (destroy != NULL)
        destroy (user_data);
      return 0;
    }

  return _concurry_core_add_callback (core, self,
                                      _concurry_callback_new_inline (callback, user_data,
                                                                     destroy));
}

/**
 * concurry_future_get_error_payload:
 * @self: a [iface@Concurry.Future]
 *
 * Gets the payload of the error @self failed with: the value a language
 * binding attached to it (see [func@Concurry.Error.set_payload]), which
 * follows the error through every combinator, chain and executor.
 *
 * Like [method@Concurry.Future.get_error], this counts as looking at the
 * error.
 *
 * Returns: (nullable) (transfer none): the payload, or %NULL if @self did
 *   not fail or its error has none
 *
 * Since: 0.2
 */
const GValue *
concurry_future_get_error_payload (ConcurryFuture *self)
{
  const GError *error;

  g_return_val_if_fail (CONCURRY_IS_FUTURE (self), NULL);

  error = concurry_future_get_error (self);
  return error != NULL ? concurry_error_get_payload (error) : NULL;
}

/**
 * concurry_future_remove_done_callback:
 * @self: a [iface@Concurry.Future]
 * @callback_id: an id returned by [method@Concurry.Future.add_done_callback]
 *
 * Removes a done callback that has not been scheduled yet. Its destroy
 * notify is called right away, on the calling thread.
 *
 * Once @self is done its callbacks are already scheduled and can no longer
 * be removed.
 *
 * Returns: %TRUE if the callback was removed and will not run
 *
 * Since: 0.1
 */
gboolean
concurry_future_remove_done_callback (ConcurryFuture *self,
                                      guint           callback_id)
{
  GET_CORE_OR_RETURN (self, FALSE);
  g_return_val_if_fail (callback_id != 0, FALSE);

  return _concurry_core_remove_callback (core, callback_id);
}

/* The context that a blocking wait on this thread should iterate, acquired,
 * or NULL if the thread does not own one: the context pushed as
 * thread-default here, or the global default one on the main thread or on
 * a thread that is iterating it already. Recognizing the main thread is
 * Linux-only: elsewhere a main thread that runs no loop just sleeps. */
GMainContext *
_concurry_acquire_context_to_iterate (void)
{
  GMainContext *context = g_main_context_get_thread_default ();

  if (context == NULL)
    {
      context = g_main_context_default ();
      if (!_concurry_platform_is_main_thread () && !g_main_context_is_owner (context))
        return NULL;
    }

  if (!g_main_context_acquire (context))
    return NULL;

  return context;
}

static gboolean
deadline_dispatch (GSource     *source,
                   GSourceFunc  callback,
                   gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs deadline_funcs = {
  .dispatch = deadline_dispatch,
};

static void
wait_iterating (ConcurryCore   *core,
                ConcurryFuture *self,
                GMainContext   *context,
                gint64          deadline)
{
  ConcurryCallback waker;
  GSource *timer = NULL;

  /* Whoever completes the future wakes the context up. */
  if (!_concurry_core_add_waker (core, &waker, context))
    return;

  if (deadline >= 0)
    {
      timer = g_source_new (&deadline_funcs, sizeof (GSource));
      g_source_set_static_name (timer, "[concurry] wait deadline");
      g_source_set_ready_time (timer, deadline);
      g_source_attach (timer, context);
    }

  while (!CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_core_get_state (core)))
    {
      if (deadline >= 0 && g_get_monotonic_time () >= deadline)
        break;
      g_main_context_iteration (context, TRUE);
    }

  if (timer != NULL)
    {
      g_source_destroy (timer);
      g_source_unref (timer);
    }

  _concurry_core_unlink (core, &waker);
}

/**
 * concurry_future_wait_until:
 * @self: a [iface@Concurry.Future]
 * @deadline_usec: an absolute time on the monotonic clock (see
 *   g_get_monotonic_time()), in microseconds, or a negative value to wait
 *   for ever
 * @error: return location for a `GError`
 *
 * Blocks until @self is done or @deadline_usec passes.
 *
 * On a thread that owns its main context (see [iface@Concurry.Future]) the
 * context is iterated while waiting, so sources of that context, done
 * callbacks included, may run during the call. Anywhere else the thread
 * just sleeps.
 *
 * A deadline that has already passed makes this a poll.
 *
 * Returns: %TRUE if @self completed with a value. %FALSE with @error set
 *   to the error of @self if it failed or was cancelled, or to
 *   `G_IO_ERROR_TIMED_OUT` if the deadline passed first; @self is not
 *   changed by a timeout.
 *
 * Since: 0.1
 */
gboolean
concurry_future_wait_until (ConcurryFuture  *self,
                            gint64           deadline_usec,
                            GError         **error)
{
  GET_CORE_OR_RETURN (self, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_core_get_state (core)) &&
      (deadline_usec < 0 || deadline_usec > g_get_monotonic_time ()))
    {
      GMainContext *context = _concurry_acquire_context_to_iterate ();

      if (context != NULL)
        {
          wait_iterating (core, self, context, deadline_usec);
          g_main_context_release (context);
        }
      else
        {
          _concurry_core_wait_blocking (core, deadline_usec);
        }
    }

  if (!CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_core_get_state (core)))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                           _("Timed out waiting for the future"));
      return FALSE;
    }

  return _concurry_core_propagate (core, error);
}

/**
 * concurry_future_wait:
 * @self: a [iface@Concurry.Future]
 * @timeout_usec: how long to wait, in microseconds: 0 only polls, a
 *   negative value waits for ever
 * @error: return location for a `GError`
 *
 * Blocks until @self is done or @timeout_usec has passed; see
 * [method@Concurry.Future.wait_until]. The timeout is turned into an
 * absolute deadline once, at the start of the call.
 *
 * Returns: %TRUE if @self completed with a value. %FALSE with @error set
 *   to the error of @self if it failed or was cancelled, or to
 *   `G_IO_ERROR_TIMED_OUT` on timeout.
 *
 * Since: 0.1
 */
gboolean
concurry_future_wait (ConcurryFuture  *self,
                      gint64           timeout_usec,
                      GError         **error)
{
  return concurry_future_wait_until (self, _concurry_deadline_from_timeout (timeout_usec), error);
}

typedef struct
{
  GSource  *cancel_source;
  guint     callback_id;
  gboolean  returned;
} WaitData;

static void
wait_data_free (gpointer data)
{
  WaitData *wait = data;

  g_assert (wait->cancel_source == NULL);
  g_free (wait);
}

static void
wait_async_return (GTask  *task,
                   GError *error)
{
  WaitData *wait = g_task_get_task_data (task);

  wait->returned = TRUE;
  if (wait->cancel_source != NULL)
    {
      g_source_destroy (wait->cancel_source);
      g_clear_pointer (&wait->cancel_source, g_source_unref);
    }

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
wait_async_done_cb (ConcurryFuture *future,
                    gpointer        user_data)
{
  GTask *task = user_data;
  WaitData *wait = g_task_get_task_data (task);
  GError *error = NULL;

  if (wait->returned)
    return;

  _concurry_core_propagate (_concurry_future_get_core (future), &error);
  wait_async_return (task, error);
}

static gboolean
wait_async_cancelled_cb (GCancellable *cancellable,
                         gpointer      user_data)
{
  GTask *task = g_object_ref (user_data);
  WaitData *wait = g_task_get_task_data (task);
  ConcurryFuture *future = g_task_get_source_object (task);

  if (!wait->returned)
    {
      GError *error = NULL;

      /* The future is not done (or its callback is about to run): stop
       * waiting, and drop our callback so that it does not keep the task
       * and the future alive. */
      concurry_future_remove_done_callback (future, wait->callback_id);
      g_cancellable_set_error_if_cancelled (cancellable, &error);
      wait_async_return (task, error);
    }

  g_object_unref (task);

  return G_SOURCE_REMOVE;
}

/**
 * concurry_future_wait_async:
 * @self: a [iface@Concurry.Future]
 * @cancellable: (nullable): a `GCancellable` to stop waiting with, or %NULL
 * @callback: (scope async) (closure user_data): the function to call when
 *   @self is done
 * @user_data: data for @callback
 *
 * Waits for @self without blocking: @callback runs on the thread-default
 * main context of the caller once @self is done, and gets the outcome
 * with [method@Concurry.Future.wait_finish].
 *
 * Cancelling @cancellable stops the wait (the result is then
 * `G_IO_ERROR_CANCELLED`) but does not cancel @self; use
 * [method@Concurry.Future.cancel] for that.
 *
 * This pair is what bindings await on:
 *
 * ```js
 * Gio._promisify(Concurry.Future.prototype, 'wait_async', 'wait_finish');
 * await future.wait_async(null);
 * print(future.get_value());
 * ```
 *
 * ```vala
 * yield future.wait_async (null);
 * ```
 *
 * Since: 0.1
 */
void
concurry_future_wait_async (ConcurryFuture      *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ConcurryCallback *done_cb;
  WaitData *wait;

  ConcurryCore *core = _concurry_future_check_core (self, G_STRFUNC);

  if (core == NULL)
    return;
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, concurry_future_wait_async);
  g_task_set_name (task, "[concurry] concurry_future_wait_async");

  wait = g_new0 (WaitData, 1);
  g_task_set_task_data (task, wait, wait_data_free);

  /* The id is known before anything can run on the task's context (which
   * another thread may be iterating): the cancellation needs it. */
  done_cb = _concurry_callback_new (g_task_get_context (task), wait_async_done_cb,
                                    g_object_ref (task), g_object_unref);
  wait->callback_id = done_cb->id;

  if (cancellable != NULL)
    {
      wait->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (wait->cancel_source, "[concurry] wait cancelled");
      g_source_set_callback (wait->cancel_source,
                             G_SOURCE_FUNC (wait_async_cancelled_cb),
                             g_object_ref (task), g_object_unref);
      g_source_attach (wait->cancel_source, g_task_get_context (task));
    }

  _concurry_core_add_callback (core, self, done_cb);
}

/**
 * concurry_future_wait_finish:
 * @self: a [iface@Concurry.Future]
 * @result: the `GAsyncResult` given to the callback
 * @error: return location for a `GError`
 *
 * Finishes [method@Concurry.Future.wait_async].
 *
 * Returns: %TRUE if @self completed with a value (read it with
 *   [method@Concurry.Future.get_value]); %FALSE with @error set to the
 *   error of @self if it failed or was cancelled, or to
 *   `G_IO_ERROR_CANCELLED` if the wait was cancelled
 *
 * Since: 0.1
 */
gboolean
concurry_future_wait_finish (ConcurryFuture  *self,
                             GAsyncResult    *result,
                             GError         **error)
{
  g_return_val_if_fail (CONCURRY_IS_FUTURE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == concurry_future_wait_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * concurry_set_unobserved_error_warnings:
 * @enabled: whether to warn
 *
 * Sets whether a future that failed and is finalized while nobody ever
 * retrieved its error logs a warning (the default), for the whole
 * process.
 *
 * Since: 0.1
 */
void
concurry_set_unobserved_error_warnings (gboolean enabled)
{
  _concurry_set_unobserved_warnings (enabled);
}

/**
 * concurry_get_unobserved_error_warnings:
 *
 * Gets whether unobserved errors are logged; see
 * [func@Concurry.set_unobserved_error_warnings].
 *
 * Returns: %TRUE if they are
 *
 * Since: 0.1
 */
gboolean
concurry_get_unobserved_error_warnings (void)
{
  return _concurry_get_unobserved_warnings ();
}
