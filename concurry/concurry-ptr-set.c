/* concurry-ptr-set.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-ptr-set-private.h"

void
_concurry_ptr_set_init (ConcurryPtrSet *set,
                        gsize           n)
{
  gsize size = 8;

  while (size < 2 * n)
    size <<= 1;
  set->slots = g_new0 (gpointer, size);
  set->mask = size - 1;
}

void
_concurry_ptr_set_clear (ConcurryPtrSet *set)
{
  g_clear_pointer (&set->slots, g_free);
}

/* Adds @p (not NULL); FALSE if it was there already. */
gboolean
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

/* Returns the indexes of the futures of @futures that were given before,
 * in order and ending with G_MAXUINT, or NULL if there are none (the
 * usual case); *@n_distinct gets the number of distinct futures. Used by
 * concurry_wait() and concurry_as_completed().
 *
 * Only the array is read, not the futures. A set of every pointer would
 * take 16 bytes per input, touched at random: for a million inputs it
 * falls out of the cache and costs more than the rest of a wait. So a
 * first pass only marks the bucket of each pointer in a bitmap of eight
 * buckets per input, two bits each (2 MB for a million inputs), and only
 * the inputs whose bucket is marked twice, about one in eight, go through
 * an exact set in a second pass. */
guint *
_concurry_find_duplicates (ConcurryFuture **futures,
                           guint            n_futures,
                           guint           *n_distinct)
{
  g_autofree guint64 *buckets = NULL;
  ConcurryPtrSet seen;
  GArray *duplicates = NULL;
  guint end = G_MAXUINT;
  guint bits = 5;
  gsize n_again = 0;

  *n_distinct = n_futures;
  if (n_futures < 2)
    return NULL;

  while ((G_GUINT64_CONSTANT (1) << bits) < (guint64)n_futures * 8)
    bits++;
  buckets = g_new0 (guint64, (G_GUINT64_CONSTANT (1) << bits) / 32);

/* Fibonacci hashing: the high bits of the product. */
#define BUCKET(p) \
  ((gsize)((((guintptr)(p) >> 4) * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) >> (64 - bits)))
#define MARK(b)   (G_GUINT64_CONSTANT (1) << (2 * ((b) % 32)))

  for (guint i = 0; i < n_futures; i++)
    {
      gsize b = BUCKET (futures[i]);
      guint64 *word = &buckets[b / 32];

      if (*word & MARK (b))
        {
          *word |= MARK (b) << 1;
          n_again++;
        }
      else
        {
          *word |= MARK (b);
        }
    }

  if (n_again == 0)
    return NULL;

  _concurry_ptr_set_init (&seen, 2 * n_again);
  for (guint i = 0; i < n_futures; i++)
    {
      gsize b = BUCKET (futures[i]);

      if ((buckets[b / 32] & (MARK (b) << 1)) && !_concurry_ptr_set_add (&seen, futures[i]))
        {
          if (duplicates == NULL)
            duplicates = g_array_new (FALSE, FALSE, sizeof (guint));
          g_array_append_val (duplicates, i);
        }
    }
  _concurry_ptr_set_clear (&seen);

#undef MARK
#undef BUCKET

  if (duplicates == NULL)
    return NULL;

  *n_distinct -= duplicates->len;
  g_array_append_val (duplicates, end);

  return (guint *)(void *)g_array_free (duplicates, FALSE);
}
