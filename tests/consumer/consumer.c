/* consumer.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "consumer.h"

static gboolean
resolve_cb (gpointer user_data)
{
  ConcurryPromise *promise = user_data;

  concurry_promise_resolve_int (promise, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (promise), "answer")));
  return G_SOURCE_REMOVE;
}

/**
 * consumer_answer_later:
 * @answer: the answer
 *
 * Gives @answer later, from the thread-default main context.
 *
 * Returns: (transfer full): a future of @answer
 */
ConcurryFuture *
consumer_answer_later (int answer)
{
  ConcurryPromise *promise = concurry_promise_new ();

  g_object_set_data (G_OBJECT (promise), "answer", GINT_TO_POINTER (answer));
  g_idle_add_full (G_PRIORITY_DEFAULT, resolve_cb, g_object_ref (promise), g_object_unref);
  return CONCURRY_FUTURE (promise);
}
