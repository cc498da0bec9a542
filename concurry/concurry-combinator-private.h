/* concurry-combinator-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-combinator-private.h"
#endif

#include "concurry-dispatch-private.h"
#include "concurry-future-private.h"
#include "concurry-promise.h"

G_BEGIN_DECLS

/*
 * What timeouts, future sets and chains share.
 *
 * Combinators complete their future from internal callbacks that run on
 * whichever thread completes an input (they never call user code), so
 * groups of futures work whether or not any main loop runs. Chains call
 * user code, so their steps run on the main context of the code that
 * built them, like any done callback.
 */

/* Adds an inline callback to @future: run by the completing thread. */
static inline guint
_concurry_add_inline (ConcurryFuture         *future,
                      ConcurryFutureCallback  func,
                      gpointer                user_data,
                      GDestroyNotify          destroy)
{
  return _concurry_core_add_callback (_concurry_future_get_core (future), future,
                                      _concurry_callback_new_inline (func, user_data, destroy));
}

/* Completes @promise with the outcome of the terminal @from. */
static inline void
_concurry_mirror (ConcurryFuture  *from,
                  ConcurryPromise *promise)
{
  GError *error = NULL;

  if (_concurry_core_propagate (_concurry_future_get_core (from), &error))
    concurry_promise_resolve (promise, concurry_future_get_value (from));
  else
    concurry_promise_take_error (promise, error);
}

G_END_DECLS
