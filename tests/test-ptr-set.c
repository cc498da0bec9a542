/* test-ptr-set.c: telling duplicates apart in an array of futures
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * concurry-ptr-set.c finds the futures given twice to concurry_wait() and
 * concurry_as_completed() by their addresses alone, without reading them:
 * these tests give it addresses, not futures (nothing is dereferenced),
 * laid out as the futures of real programs are (one after the other, or
 * far apart), with duplicates anywhere, and compare its answers with a
 * plain hash set's.
 */

#include "config.h"

#include <glib.h>

#include "concurry-ptr-set-private.h"

/* An address that is never read: objects are at least 16-byte aligned. */
#define ADDRESS(a) ((ConcurryFuture *)(gpointer)(guintptr)(a))

typedef struct
{
  ConcurryFuture **futures;
  guint            n;
  gboolean        *expected;   /* per index: given before */
  guint            n_distinct;
} Case;

/* @n_distinct futures @spacing bytes apart, each given @copies times in
 * a shuffled order. */
static Case
make_case (guint    n_distinct,
           guint    copies,
           gsize    spacing)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (n_distinct * 31 + copies);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  Case c;

  c.n = n_distinct * copies;
  c.n_distinct = n_distinct;
  c.futures = g_new (ConcurryFuture *, c.n);
  c.expected = g_new0 (gboolean, c.n);
  for (guint i = 0; i < c.n; i++)
    c.futures[i] = ADDRESS (0x5600000000 + (guintptr)(i % n_distinct) * spacing);
  for (guint i = c.n - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, (gint32)i + 1);
      ConcurryFuture *swap = c.futures[i];

      c.futures[i] = c.futures[j];
      c.futures[j] = swap;
    }
  for (guint i = 0; i < c.n; i++)
    c.expected[i] = !g_hash_table_add (seen, c.futures[i]);

  return c;
}

static void
case_clear (Case *c)
{
  g_free (c->futures);
  g_free (c->expected);
}

static void
check_find_duplicates (Case *c)
{
  guint n_distinct = 0;
  g_autofree guint *duplicates = _concurry_find_duplicates (c->futures, c->n, &n_distinct);
  const guint *next = duplicates;

  g_assert_cmpuint (n_distinct, ==, c->n_distinct);
  for (guint i = 0; i < c->n; i++)
    {
      gboolean listed = next != NULL && *next == i;

      g_assert_cmpint (listed, ==, c->expected[i]);
      if (listed)
        next++;
    }
  if (duplicates != NULL)
    g_assert_cmpuint (*next, ==, G_MAXUINT);
  else
    g_assert_cmpuint (c->n_distinct, ==, c->n);
}

static void
check_distinct (Case     *c,
                gboolean  in_one_pass)
{
  ConcurryDistinct distinct;

  _concurry_distinct_init (&distinct, c->futures, c->n);
  /* Close together, nothing is looked for beforehand. */
  g_assert_cmpint (distinct.granules != NULL, ==, in_one_pass);
  for (guint i = 0; i < c->n; i++)
    g_assert_cmpint (_concurry_distinct_seen (&distinct, i, c->futures[i]), ==, c->expected[i]);
  _concurry_distinct_clear (&distinct);
}

/* Futures made one after the other: 80 bytes apart, the smallest there
 * is (a GObject and a core). */
static void
test_close_together (void)
{
  Case c = make_case (10000, 3, 80);

  check_find_duplicates (&c);
  check_distinct (&c, TRUE);
  case_clear (&c);
}

static void
test_close_together_all_distinct (void)
{
  Case c = make_case (10000, 1, 96);

  check_find_duplicates (&c);
  check_distinct (&c, TRUE);
  case_clear (&c);
}

/* Futures further apart than eight granules each: hashed. */
static void
test_far_apart (void)
{
  Case c = make_case (10000, 3, 4096);

  check_find_duplicates (&c);
  check_distinct (&c, FALSE);
  case_clear (&c);
}

static void
test_far_apart_all_distinct (void)
{
  Case c = make_case (10000, 1, 1 << 20);

  check_find_duplicates (&c);
  check_distinct (&c, FALSE);
  case_clear (&c);
}

/* The same future only: one granule. */
static void
test_one_future_many_times (void)
{
  Case c = make_case (1, 50, 80);

  check_find_duplicates (&c);
  check_distinct (&c, TRUE);
  case_clear (&c);
}

static void
test_fewer_than_two (void)
{
  ConcurryFuture *one = ADDRESS (0x5600000000);
  ConcurryDistinct distinct;
  guint n_distinct = 7;

  g_assert_null (_concurry_find_duplicates (NULL, 0, &n_distinct));
  g_assert_cmpuint (n_distinct, ==, 0);
  g_assert_null (_concurry_find_duplicates (&one, 1, &n_distinct));
  g_assert_cmpuint (n_distinct, ==, 1);

  _concurry_distinct_init (&distinct, &one, 1);
  g_assert_false (_concurry_distinct_seen (&distinct, 0, one));
  _concurry_distinct_clear (&distinct);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Concurry/PtrSet/close-together", test_close_together);
  g_test_add_func ("/Concurry/PtrSet/close-together-all-distinct", test_close_together_all_distinct);
  g_test_add_func ("/Concurry/PtrSet/far-apart", test_far_apart);
  g_test_add_func ("/Concurry/PtrSet/far-apart-all-distinct", test_far_apart_all_distinct);
  g_test_add_func ("/Concurry/PtrSet/one-future-many-times", test_one_future_many_times);
  g_test_add_func ("/Concurry/PtrSet/fewer-than-two", test_fewer_than_two);

  return g_test_run ();
}
