/* concurry-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-error.h"

/**
 * concurry_error_quark:
 *
 * Gets the quark of the [error@Concurry.Error] domain.
 *
 * Returns: the error domain of concurry
 *
 * Since: 0.1
 */
/* Not G_DEFINE_QUARK: its cache is a plain static that threads failing at
 * once all write, a data race (ThreadSanitizer reports it). The quark is
 * the same whoever stores it; the cache is atomic. */
GQuark
concurry_error_quark (void)
{
  static guint quark;
  guint q = (guint)g_atomic_int_get (&quark);

  if G_UNLIKELY (q == 0)
    {
      q = g_quark_from_static_string ("concurry-error-quark");
      g_atomic_int_set (&quark, q);
    }

  return q;
}
