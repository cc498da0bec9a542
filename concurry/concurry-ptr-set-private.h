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

G_END_DECLS
