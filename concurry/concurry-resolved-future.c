/* concurry-resolved-future.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"

#include "concurry-future-private.h"
#include "concurry-resolved-future.h"

/**
 * ConcurryResolvedFuture:
 *
 * A [iface@Concurry.Future] that is done from birth, with a value or an
 * error.
 *
 * Resolved futures are the cheapest objects of concurry: use them to
 * return a known result through an API that hands out futures, or to
 * start a pipeline. Creating one takes no lock and allocates nothing but
 * the object; they cannot be cancelled ([method@Concurry.Future.cancel]
 * returns %FALSE, or %TRUE for one made cancelled, like any cancelled
 * future) and their done callbacks are still delivered on the
 * main context, never from inside the call that adds them.
 *
 * ```c
 * g_autoptr(ConcurryFuture) answer = concurry_resolved_future_new_int (42);
 * ```
 *
 * Since: 0.1
 */
struct _ConcurryResolvedFuture
{
  GObject         parent_instance;
  ConcurryCore    core;
  ConcurryFuture *stands_for;   /* atomic: see _concurry_future_get_stood_for() */
};

static void future_iface_init (ConcurryFutureInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConcurryResolvedFuture, concurry_resolved_future, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_FUTURE, future_iface_init))

static void
future_iface_init (ConcurryFutureInterface *iface)
{
  _concurry_future_implement (iface, G_STRUCT_OFFSET (ConcurryResolvedFuture, core), "resolved");
}

static void
concurry_resolved_future_finalize (GObject *object)
{
  /* a plain cast: this runs for every future, and the type is certain */
  ConcurryResolvedFuture *self = (ConcurryResolvedFuture *)object;

  _concurry_core_finalize (&self->core, (ConcurryFuture *)self);

  ((GObjectClass *)concurry_resolved_future_parent_class)->finalize (object);
}

static void
concurry_resolved_future_class_init (ConcurryResolvedFutureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = concurry_resolved_future_finalize;
}

static void
concurry_resolved_future_init (ConcurryResolvedFuture *self)
{
}

static ConcurryFuture *
resolved_new (GValue *value,
              GError *error)
{
  ConcurryResolvedFuture *self = (ConcurryResolvedFuture *)
    g_object_new_with_properties (CONCURRY_TYPE_RESOLVED_FUTURE, 0, NULL, NULL);

  _concurry_core_init_resolved (&self->core, value, error);

  return (ConcurryFuture *)self;
}

/* A future failed with @error (taken) that stands for @original, a
 * future that is being finalized, in the callbacks its completion with
 * @error runs (see concurry_promise_dispose()): they hold references on
 * it, not on @original. It has the id of @original (see
 * concurry_future_get_id()), which a warning that its failure was never
 * observed names. */
ConcurryFuture *
_concurry_future_new_stand_in (ConcurryFuture *original,
                               GError         *error)
{
  ConcurryResolvedFuture *self = (ConcurryResolvedFuture *)resolved_new (NULL, error);

  g_object_set_qdata_full (G_OBJECT (self), _concurry_core_id_quark (),
                           g_strdup (concurry_future_get_id (original)), g_free);
  g_atomic_pointer_set (&self->stands_for, original);

  return (ConcurryFuture *)self;
}

/* Once the callbacks ran: the address of the original may be reused. */
void
_concurry_future_stand_in_done (ConcurryFuture *stand_in)
{
  g_atomic_pointer_set (&((ConcurryResolvedFuture *)stand_in)->stands_for, NULL);
}

/* The future that @future stands for in the callbacks running now, or
 * %NULL if @future stands for itself. Code that kept the address of a
 * future it holds no reference on (a group's inputs) puts @future in its
 * place: the original is gone once they returned. */
ConcurryFuture *
_concurry_future_get_stood_for (ConcurryFuture *future)
{
  if G_LIKELY (G_TYPE_FROM_INSTANCE (future) != CONCURRY_TYPE_RESOLVED_FUTURE)
    return NULL;
  return g_atomic_pointer_get (&((ConcurryResolvedFuture *)future)->stands_for);
}

/**
 * concurry_resolved_future_new:
 * @value: (nullable): the value, copied, or %NULL for a future without a value
 *
 * Creates a future that is done with a copy of @value.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_resolved_future_new (const GValue *value)
{
  GValue copy = G_VALUE_INIT;

  g_return_val_if_fail (value == NULL || G_IS_VALUE (value), NULL);

  if (value == NULL)
    return resolved_new (NULL, NULL);

  g_value_init (&copy, G_VALUE_TYPE (value));
  g_value_copy (value, &copy);

  return resolved_new (&copy, NULL);
}

/**
 * concurry_resolved_future_new_take_value:
 * @value: (transfer full): an initialized `GValue`, whose content is taken
 *
 * Creates a future that is done with the content of @value, without
 * copying it. @value is left zeroed (uninitialized).
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_resolved_future_new_take_value (GValue *value)
{
  GValue v;

  g_return_val_if_fail (value != NULL && G_IS_VALUE (value), NULL);

  v = *value;
  memset (value, 0, sizeof *value);

  return resolved_new (&v, NULL);
}

/* Resolved futures of the plain fundamental types are made without going
 * through g_value_init(): the value tables of these types only zero the
 * data, which the fresh instance already is, so setting the type is the
 * whole initialization. This keeps the cheapest object of the library at
 * the cost of a bare GObject. */
#define DEFINE_TYPED_NEW(name, ctype, gtype, setter)                     \
  ConcurryFuture *                                                         \
  concurry_resolved_future_new_##name (ctype value)                        \
  {                                                                        \
    ConcurryResolvedFuture *self = (ConcurryResolvedFuture *)              \
      g_object_new_with_properties (CONCURRY_TYPE_RESOLVED_FUTURE, 0, NULL, NULL); \
                                                                           \
    self->core.state = CONCURRY_FUTURE_STATE_DONE;                         \
    self->core.outcome.value.g_type = gtype;                                       \
    setter (&self->core.outcome.value, value);                                     \
                                                                           \
    return (ConcurryFuture *)self;                                         \
  }

/**
 * concurry_resolved_future_new_boolean:
 * @value: the value
 *
 * Creates a future that is done with a `gboolean`.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
DEFINE_TYPED_NEW (boolean, gboolean, G_TYPE_BOOLEAN, g_value_set_boolean)

/**
 * concurry_resolved_future_new_int:
 * @value: the value
 *
 * Creates a future that is done with an `int`.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
DEFINE_TYPED_NEW (int, int, G_TYPE_INT, g_value_set_int)

/**
 * concurry_resolved_future_new_uint:
 * @value: the value
 *
 * Creates a future that is done with a `guint`.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
DEFINE_TYPED_NEW (uint, guint, G_TYPE_UINT, g_value_set_uint)

/**
 * concurry_resolved_future_new_int64:
 * @value: the value
 *
 * Creates a future that is done with a `gint64`.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
DEFINE_TYPED_NEW (int64, gint64, G_TYPE_INT64, g_value_set_int64)

/**
 * concurry_resolved_future_new_uint64:
 * @value: the value
 *
 * Creates a future that is done with a `guint64`.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
DEFINE_TYPED_NEW (uint64, guint64, G_TYPE_UINT64, g_value_set_uint64)

/**
 * concurry_resolved_future_new_double:
 * @value: the value
 *
 * Creates a future that is done with a `double`.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
DEFINE_TYPED_NEW (double, double, G_TYPE_DOUBLE, g_value_set_double)

/**
 * concurry_resolved_future_new_string:
 * @value: (nullable): the string, copied
 *
 * Creates a future that is done with a string.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
DEFINE_TYPED_NEW (string, const char *, G_TYPE_STRING, g_value_set_string)

/**
 * concurry_resolved_future_new_pointer:
 * @value: (nullable): the pointer, which is not owned
 *
 * Creates a future that is done with a plain pointer.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
DEFINE_TYPED_NEW (pointer, gpointer, G_TYPE_POINTER, g_value_set_pointer)

/**
 * concurry_resolved_future_new_variant:
 * @value: (nullable): the variant; a floating reference is sunk
 *
 * Creates a future that is done with a `GVariant`.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
DEFINE_TYPED_NEW (variant, GVariant *, G_TYPE_VARIANT, g_value_set_variant)

/**
 * concurry_resolved_future_new_object:
 * @value: (type GObject) (nullable): the object, which gets a new reference
 *
 * Creates a future that is done with a `GObject`.
 *
 * Returns: (transfer full): a new done [iface@Concurry.Future]
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_resolved_future_new_object (gpointer value)
{
  GValue v = G_VALUE_INIT;

  g_return_val_if_fail (value == NULL || G_IS_OBJECT (value), NULL);

  g_value_init (&v, value != NULL ? G_OBJECT_TYPE (value) : G_TYPE_OBJECT);
  g_value_set_object (&v, value);

  return resolved_new (&v, NULL);
}

/**
 * concurry_resolved_future_new_error:
 * @error: the error, copied
 *
 * Creates a future that failed with a copy of @error. An error of
 * `G_IO_ERROR_CANCELLED` makes a cancelled future.
 *
 * Returns: (transfer full): a new failed [iface@Concurry.Future]
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_resolved_future_new_error (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  return resolved_new (NULL, g_error_copy (error));
}

/**
 * concurry_resolved_future_new_error_with_payload:
 * @error: the error, copied
 * @payload: (nullable): a value to attach to the copy of @error
 *
 * Creates a future that failed with a copy of @error carrying a copy of
 * @payload (see [func@Concurry.Error.set_payload]); @payload is ignored
 * unless @error is of the [error@Concurry.Error] domain.
 *
 * Returns: (transfer full): a new failed [iface@Concurry.Future]
 *
 * Since: 0.2
 */
ConcurryFuture *
concurry_resolved_future_new_error_with_payload (const GError *error,
                                                 const GValue *payload)
{
  GError *copy;

  g_return_val_if_fail (error != NULL, NULL);
  g_return_val_if_fail (payload == NULL || G_IS_VALUE (payload), NULL);

  copy = g_error_copy (error);
  if (payload != NULL && copy->domain == CONCURRY_ERROR)
    concurry_error_set_payload (copy, payload);

  return resolved_new (NULL, copy);
}

/**
 * concurry_resolved_future_new_take_error:
 * @error: (transfer full): the error, which is taken
 *
 * Creates a future that failed with @error, without copying it.
 *
 * Returns: (transfer full): a new failed [iface@Concurry.Future]
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_resolved_future_new_take_error (GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  return resolved_new (NULL, error);
}

/**
 * concurry_resolved_future_new_error_literal:
 * @domain: the error domain
 * @code: the error code
 * @message: the error message
 *
 * Creates a future that failed with a new error made of @domain, @code and
 * @message.
 *
 * Returns: (transfer full): a new failed [iface@Concurry.Future]
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_resolved_future_new_error_literal (GQuark      domain,
                                            int         code,
                                            const char *message)
{
  g_return_val_if_fail (domain != 0, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  return resolved_new (NULL, g_error_new_literal (domain, code, message));
}
