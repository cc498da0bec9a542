/* concurry-ptr-set-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-ptr-set-private.h"
#endif

#include "concurry-future.h"

G_BEGIN_DECLS

/*
 * A set of pointers for de-duplicating the inputs of one call: a single
 * flat array sized once for @n entries, with linear probing. For the
 * million-input calls of the combinators it touches far less memory than
 * a GHashTable (three arrays, grown step by step).
 */
typedef struct
{
  gpointer *slots;
  gsize     mask;
} ConcurryPtrSet;

void     _concurry_ptr_set_init  (ConcurryPtrSet *set,
                                  gsize           n);
void     _concurry_ptr_set_clear (ConcurryPtrSet *set);
gboolean _concurry_ptr_set_add   (ConcurryPtrSet *set,
                                  gconstpointer   p);

/* Used by concurry_wait() and concurry_as_completed(). */
guint   *_concurry_find_duplicates (ConcurryFuture **futures,
                                    guint            n_futures,
                                    guint           *n_distinct);

/* log2 of a granule: no two distinct futures start in the same one. */
#define CONCURRY_FUTURE_GRANULE_SHIFT 6

/*
 * ConcurryDistinct:
 *
 * Tells, along one pass over an array of futures, which ones were given
 * earlier in it, without a pass of its own when it can (see
 * _concurry_distinct_init()).
 */
typedef struct
{
  guint64     *granules;        /* one bit per 64-byte granule, or NULL */
  guintptr     lowest;          /* the address of granule 0 */
  guint       *duplicates;      /* otherwise, found beforehand, or NULL */
  const guint *next_duplicate;
} ConcurryDistinct;

void _concurry_distinct_init  (ConcurryDistinct  *distinct,
                               ConcurryFuture   **futures,
                               guint              n_futures);
void _concurry_distinct_clear (ConcurryDistinct  *distinct);

/* Whether @future, at index @i, was given before: to be called for each
 * index in order, and only with a future (checked: a granule is only
 * ever shared by the same future given twice, as distinct futures are
 * too large to share one). */
static inline gboolean
_concurry_distinct_seen (ConcurryDistinct *distinct,
                         guint             i,
                         ConcurryFuture   *future)
{
  if (distinct->granules != NULL)
    {
      gsize g = ((guintptr)future - distinct->lowest) >> CONCURRY_FUTURE_GRANULE_SHIFT;
      guint64 *word = &distinct->granules[g / 64];
      guint64 bit = G_GUINT64_CONSTANT (1) << (g % 64);
      gboolean seen = (*word & bit) != 0;

      *word |= bit;
      return seen;
    }

  if (distinct->next_duplicate != NULL && i == *distinct->next_duplicate)
    {
      distinct->next_duplicate++;
      return TRUE;
    }

  return FALSE;
}

G_END_DECLS
