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
G_DEFINE_QUARK (concurry-error-quark, concurry_error)
