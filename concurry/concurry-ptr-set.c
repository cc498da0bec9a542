/* concurry-ptr-set.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-ptr-set-private.h"

#include "concurry-core-private.h"

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

/* Distinct futures are at least a granule apart: every instance holds a
 * GObject header and a ConcurryCore. */
G_STATIC_ASSERT (sizeof (GObject) + sizeof (ConcurryCore) >= (1 << CONCURRY_FUTURE_GRANULE_SHIFT));
#define FUTURE_GRANULE_SHIFT CONCURRY_FUTURE_GRANULE_SHIFT

/* The lowest and the highest address of @futures (at least one): two
 * minimums and maximums side by side, for a loop bound by the reading of
 * the array rather than by one chain of comparisons. */
static void
span_of (ConcurryFuture **futures,
         guint            n_futures,
         guintptr        *lowest,
         guintptr        *highest)
{
  guintptr lo0 = (guintptr)futures[0], hi0 = lo0;
  guintptr lo1 = lo0, hi1 = lo0;
  guint i;

  for (i = 1; i + 2 <= n_futures; i += 2)
    {
      guintptr p0 = (guintptr)futures[i], p1 = (guintptr)futures[i + 1];

      lo0 = MIN (lo0, p0);
      hi0 = MAX (hi0, p0);
      lo1 = MIN (lo1, p1);
      hi1 = MAX (hi1, p1);
    }
  if (i < n_futures)
    {
      lo0 = MIN (lo0, (guintptr)futures[i]);
      hi0 = MAX (hi0, (guintptr)futures[i]);
    }
  *lowest = MIN (lo0, lo1);
  *highest = MAX (hi0, hi1);
}

/* Returns the indexes of the futures of @futures that were given before,
 * in order and ending with G_MAXUINT, or NULL if there are none (the
 * usual case); *@n_distinct gets the number of distinct futures. Used by
 * concurry_wait() and concurry_as_completed().
 *
 * Only the array is read, not the futures. A set of every pointer would
 * take 16 bytes per input, touched at random: for a million inputs it
 * falls out of the cache and costs more than the rest of a wait. So a
 * first pass only marks the bucket of each pointer in a bitmap, two bits
 * per bucket, and only the inputs whose bucket is marked twice go through
 * an exact set in a second pass.
 *
 * The buckets are, when the futures lie close together (as futures made
 * one after the other do, in the same heap), the 64-byte granules of the
 * span of addresses they occupy: two distinct futures never share one, so
 * only true duplicates are marked twice, and a second pass is only made
 * when there are some. The bitmap is then small (well under a byte per
 * input, for futures a few hundred bytes apart) and, for futures given
 * in the order they were made, written in order rather than at random:
 * for a million inputs, that is the difference between a bitmap in the
 * cache and a miss per input. Futures spread wider are hashed into eight
 * buckets per input, and about one in eight, marked twice by chance, goes
 * through the exact set. */
guint *
_concurry_find_duplicates (ConcurryFuture **futures,
                           guint            n_futures,
                           guint           *n_distinct)
{
  g_autofree guint64 *buckets = NULL;
  ConcurryPtrSet seen;
  GArray *duplicates = NULL;
  guint end = G_MAXUINT;
  guintptr lowest, highest;
  guint64 n_buckets;
  guint bits = 0;
  gsize n_again = 0;

  *n_distinct = n_futures;
  if (n_futures < 2)
    return NULL;

  span_of (futures, n_futures, &lowest, &highest);

  n_buckets = (guint64)((highest - lowest) >> FUTURE_GRANULE_SHIFT) + 1;
  if (n_buckets > (guint64)n_futures * 8)
    {
      /* Spread wide: hashed, eight buckets per input. */
      bits = 5;
      while ((G_GUINT64_CONSTANT (1) << bits) < (guint64)n_futures * 8)
        bits++;
      n_buckets = G_GUINT64_CONSTANT (1) << bits;
    }
  buckets = g_new0 (guint64, n_buckets / 32 + 1);

/* The granule, or with @bits, Fibonacci hashing: the high bits of the
 * product. */
#define BUCKET(p)                                                               \
  (bits == 0                                                                    \
   ? (gsize)(((guintptr)(p) - lowest) >> FUTURE_GRANULE_SHIFT)                  \
   : (gsize)((((guintptr)(p) >> 4) * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) >> (64 - bits)))
#define MARK(b)   (G_GUINT64_CONSTANT (1) << (2 * ((b) % 32)))

  /* The word being marked is kept in a register while the inputs fall in
   * it: futures given in the order they were made fall in the same word
   * in turn, and reading it back from memory each time would chain every
   * input to the store of the one before. */
  {
    gsize current = 0;
    guint64 word = buckets[0];

    for (guint i = 0; i < n_futures; i++)
      {
        gsize b = BUCKET (futures[i]);

        if G_UNLIKELY (b / 32 != current)
          {
            buckets[current] = word;
            current = b / 32;
            word = buckets[current];
          }
        if (word & MARK (b))
          {
            n_again += !(word & (MARK (b) << 1));
            word |= MARK (b) << 1;
          }
        word |= MARK (b);
      }
    buckets[current] = word;
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

/* Futures given out of the order they were made, or spread wide: the
 * duplicates are found beforehand. */
static void
distinct_init_found (ConcurryDistinct  *distinct,
                     ConcurryFuture   **futures,
                     guint              n_futures)
{
  guint n_distinct;

  distinct->duplicates = _concurry_find_duplicates (futures, n_futures, &n_distinct);
  distinct->next_duplicate = distinct->duplicates;
}

/* Sets up the de-duplication of @futures, which the caller then looks at
 * in order with _concurry_distinct_seen(). When the futures lie close
 * together, nothing is looked for beforehand: the caller's own pass
 * marks their granules (see _concurry_find_duplicates()), one bit each,
 * and a granule marked already is that of a future seen before. That
 * spares a pass over the array, and over its million futures (each
 * pass is a read of 8 MB from memory). */
void
_concurry_distinct_init (ConcurryDistinct  *distinct,
                         ConcurryFuture   **futures,
                         guint              n_futures)
{
  guintptr lowest, highest;
  guint64 n_granules;

  distinct->granules = NULL;
  distinct->duplicates = NULL;
  distinct->next_duplicate = NULL;
  if (n_futures < 2)
    return;

  span_of (futures, n_futures, &lowest, &highest);
  n_granules = (guint64)((highest - lowest) >> FUTURE_GRANULE_SHIFT) + 1;
  if (n_granules > (guint64)n_futures * 8)
    {
      distinct_init_found (distinct, futures, n_futures);
      return;
    }

  distinct->lowest = lowest;
  distinct->granules = g_new0 (guint64, n_granules / 64 + 1);
}

void
_concurry_distinct_clear (ConcurryDistinct *distinct)
{
  g_clear_pointer (&distinct->granules, g_free);
  g_clear_pointer (&distinct->duplicates, g_free);
  distinct->next_duplicate = NULL;
}
