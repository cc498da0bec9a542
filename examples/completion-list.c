/* completion-list.c: a GListModel of futures in the order they complete
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A ConcurryCompletionList is concurry_as_completed() as a GListModel: it
 * starts empty and appends each future once it is done, emitting
 * items-changed on the main context that made it, whichever thread
 * completed the future. A GTK application hands it to a GtkListView (see
 * doc/combinators.md) to show results as they arrive; this program prints
 * them from the items-changed handler instead.
 *
 * Four downloads are simulated by promises that the main loop resolves in
 * a shuffled order, plus one future that is done from the start. The
 * program checks that the list holds them in completion order.
 */

#include <concurry.h>

static const char *const names[] = { "alpha", "beta", "gamma", "delta" };
static const guint completion_order[] = { 2, 0, 3, 1 };

typedef struct
{
  ConcurryPromise *promises[G_N_ELEMENTS (names)];
  guint            next;
} Downloads;

/* Completes one more promise at each main-loop iteration. */
static gboolean
complete_next (gpointer user_data)
{
  Downloads *downloads = user_data;
  guint i = completion_order[downloads->next++];

  concurry_promise_resolve_string (downloads->promises[i], names[i]);
  return downloads->next < G_N_ELEMENTS (names) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
on_items_changed (GListModel *list,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  GMainLoop *loop = user_data;

  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(ConcurryFuture) future = g_list_model_get_item (list, i);

      g_print ("%u: %s\n", i, concurry_future_get_string (future));
    }

  if (g_list_model_get_n_items (list) == G_N_ELEMENTS (names) + 1)
    g_main_loop_quit (loop);
}

int
main (void)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(ConcurryCompletionList) list = NULL;
  ConcurryFuture *futures[G_N_ELEMENTS (names) + 1];
  Downloads downloads = { { NULL }, 0 };
  const char *expected[] = { "cached", "gamma", "alpha", "delta", "beta" };
  int status = 0;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      downloads.promises[i] = concurry_promise_new ();
      futures[i] = CONCURRY_FUTURE (downloads.promises[i]);
    }
  futures[G_N_ELEMENTS (names)] = concurry_resolved_future_new_string ("cached");

  list = concurry_completion_list_new (futures, G_N_ELEMENTS (futures));
  g_print ("items at first: %u\n", g_list_model_get_n_items (G_LIST_MODEL (list)));
  g_signal_connect (list, "items-changed", G_CALLBACK (on_items_changed), loop);

  g_idle_add (complete_next, &downloads);
  g_main_loop_run (loop);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(ConcurryFuture) future = g_list_model_get_item (G_LIST_MODEL (list), i);

      if (g_strcmp0 (concurry_future_get_string (future), expected[i]) != 0)
        {
          g_printerr ("item %u is %s, expected %s\n", i,
                      concurry_future_get_string (future), expected[i]);
          status = 1;
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    g_object_unref (futures[i]);
  return status;
}
