/* concurry-future-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-future-private.h"
#endif

#include "concurry-core-private.h"

G_BEGIN_DECLS

void           _concurry_future_implement        (ConcurryFutureInterface *iface,
                                                  gsize                    core_offset,
                                                  const char              *id_prefix);
ConcurryCore  *_concurry_future_get_core         (ConcurryFuture          *self);
ConcurryCore  *_concurry_future_peek_core        (gconstpointer            self);
ConcurryCore  *_concurry_future_check_core_slow  (gconstpointer            self,
                                                  const char              *caller);

/* The core of @self, or NULL, with a critical naming @caller, if @self is
 * not a future, or one implemented outside concurry (which is refused:
 * the interface has no vfunc to drive one with). For entry points. */
static inline ConcurryCore *
_concurry_future_check_core (gconstpointer  self,
                             const char    *caller)
{
  ConcurryCore *core = _concurry_future_peek_core (self);

  if G_LIKELY (core != NULL)
    return core;

  return _concurry_future_check_core_slow (self, caller);
}

/* The absolute deadline of a relative timeout: -1 (none) for a negative
 * one, and no overflow for a huge one. */
static inline gint64
_concurry_deadline_from_timeout (gint64 timeout_usec)
{
  gint64 now;

  if (timeout_usec < 0)
    return -1;
  now = g_get_monotonic_time ();
  if (timeout_usec > G_MAXINT64 - now)
    return -1;
  return now + timeout_usec;
}

/* How far ahead loops over many inputs ask for the input they will reach:
 * a group of a million futures does not fit in the caches, and each input
 * would otherwise wait for memory in turn. */
#define CONCURRY_PREFETCH_DISTANCE 8

/* Starts fetching the first cache line of @futures[@i] (object header and
 * the start of the core), for writing (its references), if @i < @n. */
static inline void
_concurry_prefetch_input (ConcurryFuture * const *futures,
                          guint                   i,
                          guint                   n)
{
#if defined (__GNUC__) || defined (__clang__)
  if (i < n)
    __builtin_prefetch (futures[i], 1);
#endif
}

ConcurryFuture *_concurry_future_new_stand_in  (ConcurryFuture *original,
                                               GError         *error);
void            _concurry_future_stand_in_done (ConcurryFuture *stand_in);
ConcurryFuture *_concurry_future_get_stood_for (ConcurryFuture *future);

/* The context a blocking wait on this thread iterates, acquired (release
 * it), or NULL: see concurry-future.c. */
GMainContext *_concurry_acquire_context_to_iterate (void);

G_END_DECLS
