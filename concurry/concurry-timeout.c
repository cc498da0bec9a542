/* concurry-timeout.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-combinators.h"
#include "concurry-combinator-private.h"
#include "concurry-i18n-private.h"
#include "concurry-platform-private.h"

/* Delays, timeouts and time limits on futures. */

/* Timers run on a context of their own, so that a timeout fires whether
 * or not the application runs a main loop. */
static gpointer
timer_thread (gpointer data)
{
  GMainContext *context = data;

  g_main_context_push_thread_default (context);
  for (;;)
    g_main_context_iteration (context, TRUE);

  return NULL;
}

static GMainContext *
timer_context (void)
{
  static gsize context;

  if (g_once_init_enter (&context))
    {
      GMainContext *new_context = g_main_context_new ();

      g_thread_unref (g_thread_new ("concurry-timers", timer_thread, new_context));
      g_once_init_leave (&context, (gsize)new_context);
    }

  return (GMainContext *)context;
}

typedef struct
{
  ConcurryPromise *promise;
  GError          *error;     /* NULL: resolve */
  GSource         *source;
} Timer;

static void
timer_free (gpointer data)
{
  Timer *timer = data;

  g_clear_error (&timer->error);
  g_object_unref (timer->promise);
  g_free (timer);
}

static gboolean
timer_fired (gpointer data)
{
  Timer *timer = data;

  if (timer->error != NULL)
    concurry_promise_take_error (timer->promise, g_steal_pointer (&timer->error));
  else
    concurry_promise_resolve (timer->promise, NULL);

  return G_SOURCE_REMOVE;
}

static void
destroy_source_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  g_source_destroy (user_data);
}

/* Completes @promise after @delay_usec, with @error or without a value. A
 * cancelled promise drops its timer at once. Returns a reference on the
 * timer's source. */
static GSource *
start_timer (ConcurryPromise *promise,
             gint64           delay_usec,
             GError          *error)
{
  Timer *timer = g_new0 (Timer, 1);
  GSource *source = _concurry_platform_ready_time_source_new ();

  timer->promise = g_object_ref (promise);
  timer->error = error;
  g_source_set_static_name (source, "[concurry] timer");
  /* A delay too long to represent is for ever. */
  g_source_set_ready_time (source, delay_usec > 0
                                   ? _concurry_deadline_from_timeout (delay_usec)
                                   : g_get_monotonic_time ());
  g_source_set_callback (source, timer_fired, timer, timer_free);

  g_signal_connect_data (concurry_promise_get_cancellable (promise), "cancelled",
                         G_CALLBACK (destroy_source_cb), g_source_ref (source),
                         (GClosureNotify)(void (*) (void))g_source_unref, 0);
  g_source_attach (source, timer_context ());

  return source;
}

/**
 * concurry_delay:
 * @delay_usec: the delay in microseconds
 *
 * Creates a future that completes, without a value, once @delay_usec has
 * passed. The clock runs on a thread of concurry's own: no main loop needs
 * to run for it. Cancelling the future drops the timer.
 *
 * Returns: (transfer full): a new future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_delay (gint64 delay_usec)
{
  ConcurryPromise *promise = concurry_promise_new ();

  g_source_unref (start_timer (promise, delay_usec, NULL));

  return CONCURRY_FUTURE (promise);
}

/**
 * concurry_timeout:
 * @delay_usec: the delay in microseconds
 *
 * Creates a future that fails with `G_IO_ERROR_TIMED_OUT` once @delay_usec
 * has passed; race it against other futures to bound them, or use
 * [method@Concurry.Future.with_timeout]. Like [func@Concurry.delay], it
 * needs no main loop. Failing is its purpose: nobody needs to look at its
 * error, and it never warns that nobody did (a future its error reaches,
 * through a chain or a combinator, still does).
 *
 * Returns: (transfer full): a new future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_timeout (gint64 delay_usec)
{
  ConcurryPromise *promise = concurry_promise_new ();

  /* Failing is what it is for: dropped unobserved, it never warns (the
   * futures its error reaches still do). */
  _concurry_core_set_observed (_concurry_future_get_core (CONCURRY_FUTURE (promise)));
  g_source_unref (start_timer (promise, delay_usec,
                               g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                                    _("The operation timed out"))));

  return CONCURRY_FUTURE (promise);
}

typedef struct
{
  ConcurryPromise *promise;
  GSource         *timer;
} WithTimeout;

static void
with_timeout_free (gpointer data)
{
  WithTimeout *wt = data;

  g_object_unref (wt->promise);
  g_source_unref (wt->timer);
  g_free (wt);
}

static void
with_timeout_done (ConcurryFuture *future,
                   gpointer        user_data)
{
  WithTimeout *wt = user_data;

  _concurry_mirror (future, wt->promise);
  g_source_destroy (wt->timer);
}

static void
cancel_future_cb (GCancellable *cancellable,
                  gpointer      user_data)
{
  g_autoptr(ConcurryFuture) target = g_weak_ref_get (user_data);

  if (target != NULL)
    concurry_future_cancel (target);
}

static void
weak_ref_free (gpointer  data,
               GClosure *closure)
{
  g_weak_ref_clear (data);
  g_free (data);
}

/* Cancelling @promise cancels @target, what it waits on. A weak
 * reference: the target holds @promise through its callback, and must
 * not be kept alive by it in return. */
static void
forward_cancel (ConcurryPromise *promise,
                ConcurryFuture  *target)
{
  GWeakRef *weak = g_new0 (GWeakRef, 1);

  g_weak_ref_init (weak, target);
  g_signal_connect_data (concurry_promise_get_cancellable (promise), "cancelled",
                         G_CALLBACK (cancel_future_cb), weak, weak_ref_free, 0);
}

/**
 * concurry_future_with_timeout:
 * @self: a [iface@Concurry.Future]
 * @timeout_usec: the time limit, in microseconds from now
 *
 * Creates a future with the outcome of @self, unless @timeout_usec passes
 * first: then it fails with `G_IO_ERROR_TIMED_OUT`. The limit is a delay
 * from now: 0 or a negative value has passed already, so a future not
 * done yet times out at once. @self itself is not cancelled by the
 * timeout (it may be shared); cancelling the returned future cancels
 * @self.
 *
 * Returns: (transfer full): a new future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_future_with_timeout (ConcurryFuture *self,
                              gint64          timeout_usec)
{
  ConcurryPromise *promise;
  WithTimeout *wt;

  if (_concurry_future_check_core (self, G_STRFUNC) == NULL)
    return NULL;

  promise = concurry_promise_new ();

  /* Already done: no timer could be first. */
  if (concurry_future_is_done (self))
    {
      _concurry_mirror (self, promise);
      return CONCURRY_FUTURE (promise);
    }

  wt = g_new0 (WithTimeout, 1);
  wt->promise = g_object_ref (promise);
  wt->timer = start_timer (promise, timeout_usec,
                           g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                                _("The operation timed out")));
  forward_cancel (promise, self);
  _concurry_add_inline (self, with_timeout_done, wt, with_timeout_free);

  return CONCURRY_FUTURE (promise);
}
