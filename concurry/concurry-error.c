/* concurry-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"

/* Every error of the domain can carry a payload: a value a language
 * binding attaches to it (the exception object of Python, say), which
 * g_error_copy() copies along, so that it survives every combinator,
 * chain and executor that passes the error on. */
typedef struct
{
  GValue payload;
} ConcurryErrorPrivate;

/* Copied from gerror.h's G_DEFINE_EXTENDED_ERROR(), which would name the
 * domain "ConcurryError" where it has always been "concurry-error-quark". */
static inline ConcurryErrorPrivate *
concurry_error_get_private (const GError *error)
{
  const gsize sa = 2 * sizeof (gsize);
  const gsize as = (sizeof (ConcurryErrorPrivate) + (sa - 1)) & -sa;

  return (ConcurryErrorPrivate *)(((guint8 *)error) - as);
}

static void
concurry_error_private_init (GError *error)
{
  memset (concurry_error_get_private (error), 0, sizeof (ConcurryErrorPrivate));
}

static void
concurry_error_private_copy (const GError *src_error,
                             GError       *dest_error)
{
  const ConcurryErrorPrivate *src = concurry_error_get_private (src_error);
  ConcurryErrorPrivate *dest = concurry_error_get_private (dest_error);

  if (G_IS_VALUE (&src->payload))
    {
      g_value_init (&dest->payload, G_VALUE_TYPE (&src->payload));
      g_value_copy (&src->payload, &dest->payload);
    }
}

static void
concurry_error_private_clear (GError *error)
{
  ConcurryErrorPrivate *priv = concurry_error_get_private (error);

  if (G_IS_VALUE (&priv->payload))
    g_value_unset (&priv->payload);
}

/**
 * concurry_error_quark:
 *
 * Gets the quark of the [error@Concurry.Error] domain.
 *
 * The domain is an extended error domain: an error of it may carry a
 * payload, see [func@Concurry.Error.set_payload].
 *
 * Returns: the error domain of concurry
 *
 * Since: 0.1
 */
GQuark
concurry_error_quark (void)
{
  static gsize quark = 0;

  if (g_once_init_enter (&quark))
    {
      GQuark q = g_error_domain_register_static ("concurry-error-quark",
                                                 sizeof (ConcurryErrorPrivate),
                                                 concurry_error_private_init,
                                                 concurry_error_private_copy,
                                                 concurry_error_private_clear);
      g_once_init_leave (&quark, q);
    }

  return (GQuark)quark;
}

/* Registered when the library is loaded, before any error of the domain
 * can be made by name (g_quark_from_string()), which would lack the
 * private part. */
#if defined (__GNUC__) || defined (__clang__)
__attribute__ ((constructor)) static void
concurry_error_register (void)
{
  (void)concurry_error_quark ();
}
#endif

/**
 * concurry_error_set_payload:
 * @error: an error of the [error@Concurry.Error] domain
 * @payload: (nullable): the value to attach, or %NULL to remove it
 *
 * Attaches a copy of @payload to @error, replacing any previous one.
 *
 * Language bindings use the payload to carry their own exception object
 * with the `GError` that stands for it: copies of @error (every
 * combinator, chain and executor passes errors on with `g_error_copy()`)
 * keep it, so the binding can give its users back the very object that
 * failed the work. C code may attach any value it likes.
 *
 * Since: 0.2
 */
void
concurry_error_set_payload (GError       *error,
                            const GValue *payload)
{
  ConcurryErrorPrivate *priv;

  g_return_if_fail (error != NULL);
  g_return_if_fail (error->domain == CONCURRY_ERROR);
  g_return_if_fail (payload == NULL || G_IS_VALUE (payload));

  priv = concurry_error_get_private (error);
  if (G_IS_VALUE (&priv->payload))
    g_value_unset (&priv->payload);
  if (payload != NULL)
    {
      g_value_init (&priv->payload, G_VALUE_TYPE (payload));
      g_value_copy (payload, &priv->payload);
    }
}

/**
 * concurry_error_get_payload:
 * @error: a `GError`
 *
 * Gets the payload attached to @error with
 * [func@Concurry.Error.set_payload].
 *
 * Returns: (nullable) (transfer none): the payload, or %NULL if @error
 *   has none or is not of the [error@Concurry.Error] domain
 *
 * Since: 0.2
 */
const GValue *
concurry_error_get_payload (const GError *error)
{
  ConcurryErrorPrivate *priv;

  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain != CONCURRY_ERROR)
    return NULL;

  priv = concurry_error_get_private (error);
  return G_IS_VALUE (&priv->payload) ? &priv->payload : NULL;
}
