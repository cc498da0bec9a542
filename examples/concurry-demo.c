/* concurry-demo.c: promises completed by worker threads, results on the main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Counts the primes below 200000 in eight slices, each on a worker thread
 * that resolves a promise. The main thread never blocks: a done callback
 * prints each slice as it arrives (on the main loop, whatever thread
 * finished it), and the total is printed once every future is done. One
 * slice is cancelled to show what a cancelled future looks like, and one
 * "fails" to show error delivery.
 */

#include <concurry.h>

#define LIMIT    200000
#define N_SLICES 8

typedef struct
{
  ConcurryPromise *promise;
  guint            from;
  guint            to;
} Slice;

static gboolean
is_prime (guint n)
{
  if (n < 2)
    return FALSE;
  for (guint d = 2; d * d <= n; d++)
    if (n % d == 0)
      return FALSE;
  return TRUE;
}

static gpointer
count_primes (gpointer data)
{
  Slice *slice = data;
  GCancellable *cancellable = concurry_promise_get_cancellable (slice->promise);
  guint count = 0;

  if (!concurry_promise_mark_running (slice->promise))
    goto out;   /* cancelled before it started */

  if (slice->from == 0)
    {
      concurry_promise_reject_literal (slice->promise, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                       "the first slice refuses to work, to show an error");
      goto out;
    }

  for (guint n = slice->from; n < slice->to; n++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        goto out;
      count += is_prime (n);
    }

  concurry_promise_resolve_uint (slice->promise, count);

out:
  g_object_unref (slice->promise);
  g_free (slice);
  return NULL;
}

typedef struct
{
  GMainLoop *loop;
  guint      remaining;
  guint      total;
} Demo;

static void
slice_done (ConcurryFuture *future,
            gpointer        user_data)
{
  Demo *demo = user_data;
  const GError *error = concurry_future_get_error (future);
  const char *range = g_object_get_data (G_OBJECT (future), "range");

  if (concurry_future_is_cancelled (future))
    g_print ("  %-16s cancelled\n", range);
  else if (error != NULL)
    g_print ("  %-16s failed: %s\n", range, error->message);
  else
    {
      g_print ("  %-16s %u primes\n", range, concurry_future_get_uint (future));
      demo->total += concurry_future_get_uint (future);
    }

  if (--demo->remaining == 0)
    g_main_loop_quit (demo->loop);
}

int
main (int argc,
      char *argv[])
{
  Demo demo = { g_main_loop_new (NULL, FALSE), N_SLICES, 0 };
  ConcurryFuture *futures[N_SLICES];
  g_autoptr(ConcurryFuture) answer = concurry_resolved_future_new_int (42);

  g_print ("concurry %s demo: counting primes below %u on %u threads\n",
           CONCURRY_VERSION_S, LIMIT, N_SLICES);

  for (guint i = 0; i < N_SLICES; i++)
    {
      ConcurryPromise *promise = concurry_promise_new ();
      Slice *slice = g_new0 (Slice, 1);

      slice->promise = g_object_ref (promise);
      slice->from = i * (LIMIT / N_SLICES);
      slice->to = (i + 1) * (LIMIT / N_SLICES);
      g_object_set_data_full (G_OBJECT (promise), "range",
                              g_strdup_printf ("[%u, %u)", slice->from, slice->to), g_free);

      futures[i] = CONCURRY_FUTURE (promise);
      /* Runs on this thread's main loop, whichever thread resolves. */
      concurry_future_add_done_callback (futures[i], slice_done, &demo, NULL);

      /* The last slice is cancelled before its worker is even started. */
      if (i == N_SLICES - 1)
        concurry_future_cancel (futures[i]);

      g_thread_unref (g_thread_new ("prime-counter", count_primes, slice));
    }

  g_main_loop_run (demo.loop);

  g_print ("total over the slices that succeeded: %u primes\n", demo.total);
  g_print ("a resolved future is ready at once: %d\n", concurry_future_get_int (answer));

  for (guint i = 0; i < N_SLICES; i++)
    g_object_unref (futures[i]);
  g_main_loop_unref (demo.loop);

  return 0;
}
