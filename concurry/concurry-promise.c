/* concurry-promise.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-future-private.h"
#include "concurry-i18n-private.h"
#include "concurry-error.h"
#include "concurry-promise.h"

/**
 * ConcurryPromise:
 *
 * A future completed by hand: the writer side of a [iface@Concurry.Future].
 *
 * A promise bridges any callback-based API (a GIO `_async` call, a D-Bus
 * reply, a JavaScript or Python callback, a thread of your own) into a
 * future: hand out the promise as a [iface@Concurry.Future] and resolve it
 * with a value ([method@Concurry.Promise.resolve] and its typed variants)
 * or reject it with a `GError` ([method@Concurry.Promise.reject]) when the
 * result is known. Every function may be called from any thread.
 *
 * Only the first completion counts: resolving, rejecting or cancelling a
 * promise that is already done returns %FALSE and changes nothing, which
 * is how a cancellation may legitimately win a race against the result.
 *
 * Work that wants to stop early when the future is cancelled watches
 * [method@Concurry.Promise.get_cancellable], which
 * [method@Concurry.Future.cancel] trips. [method@Concurry.Promise.mark_running]
 * moves the promise from pending to running when the work starts.
 *
 * A promise whose last reference is dropped before it was completed can
 * never complete: it is rejected with %CONCURRY_ERROR_ABANDONED, so that
 * its done callbacks still run. Since the promise itself is going away,
 * they are given another future, failed with the same error, in its place
 * (combinators give that one back among their inputs too).
 *
 * ```python
 * promise = Concurry.Promise()
 * def worker():
 *     promise.resolve_int(42)
 * threading.Thread(target=worker).start()
 * promise.wait(-1)
 * print(promise.get_int())
 * ```
 *
 * Since: 0.1
 */
struct _ConcurryPromise
{
  GObject      parent_instance;
  ConcurryCore core;
};

static void future_iface_init (ConcurryFutureInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConcurryPromise, concurry_promise, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_FUTURE, future_iface_init))

static void
future_iface_init (ConcurryFutureInterface *iface)
{
  _concurry_future_implement (iface, G_STRUCT_OFFSET (ConcurryPromise, core), "promise");
}

static void
concurry_promise_dispose (GObject *object)
{
  ConcurryPromise *self = (ConcurryPromise *)object;

  /* Nobody can resolve it any more: it is rejected. Its callbacks (users'
   * and combinators' alike) are given a stand-in done the same way, which
   * they may keep: a reference taken on us now, and dropped by another
   * thread before g_object_unref() is done with us, would free us under
   * it (GLib before 2.76 thaws the notify queue of an object brought back
   * by its dispose after it gave back its reference). The stand-in's
   * failure is the one to observe, if users' callbacks watch it. */
  if (!CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_core_get_state (&self->core)))
    {
      GError *error = g_error_new_literal (CONCURRY_ERROR, CONCURRY_ERROR_ABANDONED,
                                           _("The promise was dropped before it was resolved"));

      if (_concurry_core_has_callbacks (&self->core, FALSE))
        {
          g_autoptr(ConcurryFuture) stand_in =
            _concurry_future_new_stand_in ((ConcurryFuture *)self, g_error_copy (error));

          if (!_concurry_core_has_callbacks (&self->core, TRUE))
            _concurry_core_set_observed (_concurry_future_get_core (stand_in));
          _concurry_core_complete (&self->core, stand_in, NULL, error);
          _concurry_future_stand_in_done (stand_in);
        }
      else
        {
          _concurry_core_complete (&self->core, (ConcurryFuture *)self, NULL, error);
        }
      _concurry_core_set_observed (&self->core);
    }

  ((GObjectClass *)concurry_promise_parent_class)->dispose (object);
}

static void
concurry_promise_finalize (GObject *object)
{
  ConcurryPromise *self = (ConcurryPromise *)object;

  _concurry_core_finalize (&self->core, (ConcurryFuture *)self);

  ((GObjectClass *)concurry_promise_parent_class)->finalize (object);
}

static void
concurry_promise_class_init (ConcurryPromiseClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = concurry_promise_dispose;
  object_class->finalize = concurry_promise_finalize;
}

static void
concurry_promise_init (ConcurryPromise *self)
{
  _concurry_core_init (&self->core);
}

/**
 * concurry_promise_new:
 *
 * Creates a new pending promise.
 *
 * Returns: (transfer full): a new [class@Concurry.Promise]
 *
 * Since: 0.1
 */
ConcurryPromise *
concurry_promise_new (void)
{
  return g_object_new (CONCURRY_TYPE_PROMISE, NULL);
}

/**
 * concurry_promise_get_future:
 * @self: a [class@Concurry.Promise]
 *
 * Gets @self as a [iface@Concurry.Future], the read side to hand out.
 * This is @self itself, typed for C and Vala.
 *
 * Returns: (transfer none): @self, as a future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_promise_get_future (ConcurryPromise *self)
{
  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), NULL);

  return (ConcurryFuture *)self;
}

/**
 * concurry_promise_get_cancellable:
 * @self: a [class@Concurry.Promise]
 *
 * Gets the `GCancellable` that [method@Concurry.Future.cancel] trips. Pass
 * it to the work that produces the result so that it can stop early. It
 * is made on first use, already cancelled if @self is.
 *
 * Returns: (transfer none): the cancellable of @self
 *
 * Since: 0.1
 */
GCancellable *
concurry_promise_get_cancellable (ConcurryPromise *self)
{
  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), NULL);

  return _concurry_core_get_cancellable (&self->core);
}

/**
 * concurry_promise_mark_running:
 * @self: a [class@Concurry.Promise]
 *
 * Moves @self from pending to running, to tell that its work has started.
 *
 * Returns: %TRUE if @self was pending; %FALSE if it was already running,
 *   done, failed or cancelled, in which case a work that has not started
 *   should not start
 *
 * Since: 0.1
 */
gboolean
concurry_promise_mark_running (ConcurryPromise *self)
{
  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);

  return _concurry_core_mark_running (&self->core);
}

/**
 * concurry_promise_take_value:
 * @self: a [class@Concurry.Promise]
 * @value: (transfer full): an initialized `GValue`, whose content is taken
 *
 * Resolves @self with the content of @value, without copying it. @value is
 * left zeroed (uninitialized) whatever the outcome.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
gboolean
concurry_promise_take_value (ConcurryPromise *self,
                             GValue          *value)
{
  GValue v;

  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);
  g_return_val_if_fail (value != NULL && G_IS_VALUE (value), FALSE);

  v = *value;
  memset (value, 0, sizeof *value);

  return _concurry_core_complete (&self->core, (ConcurryFuture *)self, &v, NULL);
}

/**
 * concurry_promise_resolve:
 * @self: a [class@Concurry.Promise]
 * @value: (nullable): the value, copied, or %NULL to resolve without a value
 *
 * Resolves @self with a copy of @value.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
gboolean
concurry_promise_resolve (ConcurryPromise *self,
                          const GValue    *value)
{
  GValue copy = G_VALUE_INIT;

  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);
  g_return_val_if_fail (value == NULL || G_IS_VALUE (value), FALSE);

  if (value == NULL)
    return _concurry_core_complete (&self->core, (ConcurryFuture *)self, NULL, NULL);

  g_value_init (&copy, G_VALUE_TYPE (value));
  g_value_copy (value, &copy);

  return _concurry_core_complete (&self->core, (ConcurryFuture *)self, &copy, NULL);
}

#define DEFINE_TYPED_RESOLVE(name, ctype, gtype, setter)                   \
  gboolean                                                                   \
  concurry_promise_resolve_##name (ConcurryPromise *self,                    \
                                   ctype            value)                   \
  {                                                                          \
    GValue v = G_VALUE_INIT;                                                 \
                                                                             \
    g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);                \
                                                                             \
    if (CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_core_get_state (&self->core))) \
      return FALSE;                                                          \
                                                                             \
    g_value_init (&v, gtype);                                                \
    setter (&v, value);                                                      \
                                                                             \
    return _concurry_core_complete (&self->core, (ConcurryFuture *)self, &v, NULL); \
  }

/**
 * concurry_promise_resolve_boolean:
 * @self: a [class@Concurry.Promise]
 * @value: the value
 *
 * Resolves @self with a `gboolean`.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
DEFINE_TYPED_RESOLVE (boolean, gboolean, G_TYPE_BOOLEAN, g_value_set_boolean)

/**
 * concurry_promise_resolve_int:
 * @self: a [class@Concurry.Promise]
 * @value: the value
 *
 * Resolves @self with an `int`.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
DEFINE_TYPED_RESOLVE (int, int, G_TYPE_INT, g_value_set_int)

/**
 * concurry_promise_resolve_uint:
 * @self: a [class@Concurry.Promise]
 * @value: the value
 *
 * Resolves @self with a `guint`.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
DEFINE_TYPED_RESOLVE (uint, guint, G_TYPE_UINT, g_value_set_uint)

/**
 * concurry_promise_resolve_int64:
 * @self: a [class@Concurry.Promise]
 * @value: the value
 *
 * Resolves @self with a `gint64`.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
DEFINE_TYPED_RESOLVE (int64, gint64, G_TYPE_INT64, g_value_set_int64)

/**
 * concurry_promise_resolve_uint64:
 * @self: a [class@Concurry.Promise]
 * @value: the value
 *
 * Resolves @self with a `guint64`.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
DEFINE_TYPED_RESOLVE (uint64, guint64, G_TYPE_UINT64, g_value_set_uint64)

/**
 * concurry_promise_resolve_double:
 * @self: a [class@Concurry.Promise]
 * @value: the value
 *
 * Resolves @self with a `double`.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
DEFINE_TYPED_RESOLVE (double, double, G_TYPE_DOUBLE, g_value_set_double)

/**
 * concurry_promise_resolve_string:
 * @self: a [class@Concurry.Promise]
 * @value: (nullable): the string, copied
 *
 * Resolves @self with a string.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
DEFINE_TYPED_RESOLVE (string, const char *, G_TYPE_STRING, g_value_set_string)

/**
 * concurry_promise_resolve_object:
 * @self: a [class@Concurry.Promise]
 * @value: (type GObject) (nullable): the object, which gets a new reference
 *
 * Resolves @self with a `GObject`, held as a value of type `G_TYPE_OBJECT`
 * or of the object's own type.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
gboolean
concurry_promise_resolve_object (ConcurryPromise *self,
                                 gpointer         value)
{
  GValue v = G_VALUE_INIT;

  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);
  g_return_val_if_fail (value == NULL || G_IS_OBJECT (value), FALSE);

  g_value_init (&v, value != NULL ? G_OBJECT_TYPE (value) : G_TYPE_OBJECT);
  g_value_set_object (&v, value);

  return _concurry_core_complete (&self->core, (ConcurryFuture *)self, &v, NULL);
}

/**
 * concurry_promise_resolve_pointer:
 * @self: a [class@Concurry.Promise]
 * @value: (nullable): the pointer, which is not owned
 *
 * Resolves @self with a plain pointer. Nothing frees it: use a boxed type
 * or an object when the value must be freed with the future.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
DEFINE_TYPED_RESOLVE (pointer, gpointer, G_TYPE_POINTER, g_value_set_pointer)

/**
 * concurry_promise_resolve_variant:
 * @self: a [class@Concurry.Promise]
 * @value: (nullable): the variant; a floating reference is sunk
 *
 * Resolves @self with a `GVariant`.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
gboolean
concurry_promise_resolve_variant (ConcurryPromise *self,
                                  GVariant        *value)
{
  GValue v = G_VALUE_INIT;

  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);

  g_value_init (&v, G_TYPE_VARIANT);
  g_value_set_variant (&v, value);

  return _concurry_core_complete (&self->core, (ConcurryFuture *)self, &v, NULL);
}

/**
 * concurry_promise_resolve_boxed:
 * @self: a [class@Concurry.Promise]
 * @boxed_type: a boxed `GType`
 * @value: (nullable): the boxed value, copied with the type's copy function
 *
 * Resolves @self with a boxed value.
 *
 * Returns: %TRUE if @self was resolved, %FALSE if it was already done
 *
 * Since: 0.1
 */
gboolean
concurry_promise_resolve_boxed (ConcurryPromise *self,
                                GType            boxed_type,
                                gconstpointer    value)
{
  GValue v = G_VALUE_INIT;

  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);
  g_return_val_if_fail (G_TYPE_FUNDAMENTAL (boxed_type) == G_TYPE_BOXED, FALSE);

  g_value_init (&v, boxed_type);
  g_value_set_boxed (&v, value);

  return _concurry_core_complete (&self->core, (ConcurryFuture *)self, &v, NULL);
}

/**
 * concurry_promise_take_error:
 * @self: a [class@Concurry.Promise]
 * @error: (transfer full): the error, which is taken
 *
 * Rejects @self with @error, without copying it. An error of
 * `G_IO_ERROR_CANCELLED` makes @self cancelled rather than failed.
 *
 * Returns: %TRUE if @self was rejected, %FALSE if it was already done
 *
 * Since: 0.1
 */
gboolean
concurry_promise_take_error (ConcurryPromise *self,
                             GError          *error)
{
  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);
  g_return_val_if_fail (error != NULL, FALSE);

  return _concurry_core_complete (&self->core, (ConcurryFuture *)self, NULL, error);
}

/**
 * concurry_promise_reject:
 * @self: a [class@Concurry.Promise]
 * @error: the error, copied
 *
 * Rejects @self with a copy of @error. An error of `G_IO_ERROR_CANCELLED`
 * makes @self cancelled rather than failed.
 *
 * Returns: %TRUE if @self was rejected, %FALSE if it was already done
 *
 * Since: 0.1
 */
gboolean
concurry_promise_reject (ConcurryPromise *self,
                         const GError    *error)
{
  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);
  g_return_val_if_fail (error != NULL, FALSE);

  return _concurry_core_complete (&self->core, (ConcurryFuture *)self, NULL,
                                  g_error_copy (error));
}

/**
 * concurry_promise_reject_with_payload:
 * @self: a [class@Concurry.Promise]
 * @error: the error, copied
 * @payload: (nullable): a value to attach to the copy of @error
 *
 * Rejects @self with a copy of @error that carries a copy of @payload
 * (see [func@Concurry.Error.set_payload]). Only errors of the
 * [error@Concurry.Error] domain can carry a payload: for others @payload
 * is ignored.
 *
 * Language bindings reject with their exception object as payload, so
 * that it comes back from every future the error reaches.
 *
 * Returns: %TRUE if @self was rejected, %FALSE if it was already done
 *
 * Since: 0.2
 */
gboolean
concurry_promise_reject_with_payload (ConcurryPromise *self,
                                      const GError    *error,
                                      const GValue    *payload)
{
  GError *copy;

  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);
  g_return_val_if_fail (error != NULL, FALSE);
  g_return_val_if_fail (payload == NULL || G_IS_VALUE (payload), FALSE);

  if (CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_core_get_state (&self->core)))
    return FALSE;

  copy = g_error_copy (error);
  if (payload != NULL && copy->domain == CONCURRY_ERROR)
    concurry_error_set_payload (copy, payload);

  return _concurry_core_complete (&self->core, (ConcurryFuture *)self, NULL, copy);
}

/**
 * concurry_promise_reject_literal:
 * @self: a [class@Concurry.Promise]
 * @domain: the error domain
 * @code: the error code
 * @message: the error message
 *
 * Rejects @self with a new error made of @domain, @code and @message.
 *
 * Returns: %TRUE if @self was rejected, %FALSE if it was already done
 *
 * Since: 0.1
 */
gboolean
concurry_promise_reject_literal (ConcurryPromise *self,
                                 GQuark           domain,
                                 int              code,
                                 const char      *message)
{
  g_return_val_if_fail (CONCURRY_IS_PROMISE (self), FALSE);
  g_return_val_if_fail (domain != 0, FALSE);
  g_return_val_if_fail (message != NULL, FALSE);

  return _concurry_core_complete (&self->core, (ConcurryFuture *)self, NULL,
                                  g_error_new_literal (domain, code, message));
}
