/* concurry-error.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include <glib.h>

#include <glib-object.h>

#include "concurry-version-macros.h"

G_BEGIN_DECLS

/**
 * CONCURRY_ERROR:
 *
 * The error domain of concurry-specific failures.
 *
 * Cancellation is reported as `G_IO_ERROR_CANCELLED` and a timed-out wait
 * as `G_IO_ERROR_TIMED_OUT`, so that existing GIO error handling keeps
 * working; this domain only carries conditions that GIO has no code for.
 *
 * Since: 0.1
 */
#define CONCURRY_ERROR (concurry_error_quark ())

/**
 * ConcurryError:
 * @CONCURRY_ERROR_FAILED: a generic failure, for example an unexpected
 *   exception in a binding's work function
 * @CONCURRY_ERROR_ABANDONED: the last reference to a [class@Concurry.Promise]
 *   was dropped before it was resolved, so it can never complete
 * @CONCURRY_ERROR_SHUT_DOWN: the executor was shut down and accepts no more work
 * @CONCURRY_ERROR_WRONG_THREAD: the operation would run code of a binding on
 *   a thread that must never run it, or block the only thread that could
 *   complete it
 * @CONCURRY_ERROR_INVALID_STATE: the future is in a state in which the
 *   operation makes no sense
 *
 * Error codes of the [error@Concurry.Error] domain.
 *
 * Since: 0.1
 */
typedef enum
{
  CONCURRY_ERROR_FAILED,
  CONCURRY_ERROR_ABANDONED,
  CONCURRY_ERROR_SHUT_DOWN,
  CONCURRY_ERROR_WRONG_THREAD,
  CONCURRY_ERROR_INVALID_STATE,
} ConcurryError;

CONCURRY_AVAILABLE_IN_ALL
GQuark        concurry_error_quark            (void);
CONCURRY_AVAILABLE_IN_0_2
void          concurry_error_set_payload      (GError        *error,
                                               const GValue  *payload);
CONCURRY_AVAILABLE_IN_0_2
const GValue *concurry_error_get_payload      (const GError  *error);

G_END_DECLS
