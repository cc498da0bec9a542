/* concurry-ptr-set-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

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

static inline void
_concurry_ptr_set_init (ConcurryPtrSet *set,
                        gsize           n)
{
  gsize size = 8;

  while (size < 2 * n)
    size <<= 1;
  set->slots = g_new0 (gpointer, size);
  set->mask = size - 1;
}

static inline void
_concurry_ptr_set_clear (ConcurryPtrSet *set)
{
  g_clear_pointer (&set->slots, g_free);
}

/* Adds @p (not NULL); FALSE if it was there already. */
static inline gboolean
_concurry_ptr_set_add (ConcurryPtrSet *set,
                       gconstpointer   p)
{
  /* Objects are aligned: the low bits carry nothing. */
  gsize i = (((guintptr)p >> 4) * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) & set->mask;

  while (set->slots[i] != NULL)
    {
      if (set->slots[i] == p)
        return FALSE;
      i = (i + 1) & set->mask;
    }
  set->slots[i] = (gpointer)p;

  return TRUE;
}

/* In concurry-combinators.c; used by concurry_wait() and
 * concurry_as_completed(). */
G_GNUC_INTERNAL
guint *_concurry_find_duplicates (ConcurryFuture **futures,
                                  guint            n_futures,
                                  guint           *n_distinct);

G_END_DECLS
