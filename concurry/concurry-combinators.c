/* concurry-combinators.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-combinators.h"
#include "concurry-dispatch-private.h"
#include "concurry-error.h"
#include "concurry-future-private.h"
#include "concurry-i18n-private.h"
#include "concurry-promise.h"
#include "concurry-ptr-set-private.h"

/*
 * Combinators complete their future from internal callbacks that run on
 * whichever thread completes an input (they never call user code), so
 * groups of futures work whether or not any main loop runs. Chains call
 * user code, so their steps run on the main context of the code that
 * built them, like any done callback.
 */

static guint
add_inline (ConcurryFuture         *future,
            ConcurryFutureCallback  func,
            gpointer                user_data,
            GDestroyNotify          destroy)
{
  return _concurry_core_add_callback (_concurry_future_get_core (future), future,
                                      _concurry_callback_new_inline (func, user_data, destroy));
}

/* Completes @promise with the outcome of the terminal @from. */
static void
mirror (ConcurryFuture  *from,
        ConcurryPromise *promise)
{
  GError *error = NULL;

  if (_concurry_core_propagate (_concurry_future_get_core (from), &error))
    concurry_promise_resolve (promise, concurry_future_get_value (from));
  else
    concurry_promise_take_error (promise, error);
}

static void
mirror_cb (ConcurryFuture *future,
           gpointer        user_data)
{
  mirror (future, user_data);
}

/* ---- timers ---- */

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

static gboolean
timer_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs timer_funcs = {
  .dispatch = timer_dispatch,
};

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
  GSource *source = g_source_new (&timer_funcs, sizeof (GSource));

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
 * needs no main loop.
 *
 * Returns: (transfer full): a new future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_timeout (gint64 delay_usec)
{
  ConcurryPromise *promise = concurry_promise_new ();

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

  mirror (future, wt->promise);
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

  g_return_val_if_fail (CONCURRY_IS_FUTURE (self), NULL);

  promise = concurry_promise_new ();

  /* Already done: no timer could be first. */
  if (concurry_future_is_done (self))
    {
      mirror (self, promise);
      return CONCURRY_FUTURE (promise);
    }

  wt = g_new0 (WithTimeout, 1);
  wt->promise = g_object_ref (promise);
  wt->timer = start_timer (promise, timeout_usec,
                           g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                                _("The operation timed out")));
  forward_cancel (promise, self);
  add_inline (self, with_timeout_done, wt, with_timeout_free);

  return CONCURRY_FUTURE (promise);
}

/* ---- groups: wait, gather, any, race ---- */

/*
 * What a group costs per input matters: groups of a million futures are
 * ordinary (see doc/combinators.md). So the inputs are checked, referenced
 * and their state read in one pass; inputs already done are counted under
 * one lock, not one each; a group whose inputs are all done at the start
 * is complete at once, without callbacks; and nothing is done per input
 * once every input is done (no callback is left to remove).
 *
 * The callbacks are borrowed nodes, in one array of the group, allocated
 * once: registering on an input allocates nothing, and takes no reference
 * of its own. The nodes hold one reference on the group together, for as
 * long as any of them is on an input (@n_linked) or more may come
 * (@registering). Each node is counted out once: by its own run, or by
 * whoever takes it off its input (_concurry_core_unlink() tells who).
 */

typedef enum
{
  GROUP_WAIT,
  GROUP_GATHER,
  GROUP_ANY,
  GROUP_RACE,
} GroupKind;

typedef struct
{
  gatomicrefcount   ref_count;
  GMutex            mutex;
  GroupKind         kind;
  ConcurryWaitMode  mode;
  guint             flags;
  gboolean          kept;         /* by concurry_wait(): see group_start() */
  ConcurryPromise  *promise;      /* cleared once settled */
  GPtrArray        *inputs;       /* references, as given, duplicates
                                   * included */
  ConcurryCallback *nodes;        /* one per input registered on; ->future
                                   * is the input (the group's reference) */
  guint             n_nodes;      /* used */
  gboolean          nodes_taken;  /* by whoever takes them off the inputs */
  guint             n_linked;     /* nodes not run nor taken off yet */
  gboolean          registering;
  guint             n_inputs;     /* duplicates counted */
  guint             n_done;
  guint             n_failed;
} Group;

/* What settling a group takes out of it, under its lock. */
typedef struct
{
  ConcurryPromise *promise;       /* NULL: not settled */
  GPtrArray       *inputs;
  guint            n_nodes;       /* group->nodes to take off the inputs */
  gboolean         all_done;
} Settlement;

static Group *
group_ref (Group *group)
{
  g_atomic_ref_count_inc (&group->ref_count);
  return group;
}

static void
group_unref (gpointer data)
{
  Group *group = data;

  if (g_atomic_ref_count_dec (&group->ref_count))
    {
      g_clear_object (&group->promise);
      g_clear_pointer (&group->inputs, g_ptr_array_unref);
      g_free (group->nodes);
      g_mutex_clear (&group->mutex);
      g_free (group);
    }
}

/* Counts the outcome of one input, with the lock held and the group not
 * settled yet. If that settles it, @s gets the promise and, unless the
 * group is kept, the inputs: a settled group lets them go, or an input
 * that never completes would keep itself alive through the group's
 * callback. */
static void
group_count_locked (Group               *group,
                    ConcurryFutureState  state,
                    Settlement          *s)
{
  gboolean all_done;
  gboolean settles;

  group->n_done++;
  if (state != CONCURRY_FUTURE_STATE_DONE)
    group->n_failed++;
  all_done = group->n_done == group->n_inputs;

  switch (group->kind)
    {
    case GROUP_WAIT:
      settles = all_done ||
                group->mode == CONCURRY_WAIT_FIRST_COMPLETED ||
                (group->mode == CONCURRY_WAIT_FIRST_EXCEPTION &&
                 state == CONCURRY_FUTURE_STATE_FAILED);
      break;

    case GROUP_GATHER:
      settles = all_done ||
                (!(group->flags & CONCURRY_GATHER_FLAGS_ALL_OUTCOMES) &&
                 state != CONCURRY_FUTURE_STATE_DONE);
      break;

    case GROUP_ANY:
      settles = all_done || state == CONCURRY_FUTURE_STATE_DONE;
      break;

    case GROUP_RACE:
    default:
      settles = TRUE;
      break;
    }

  if (!settles)
    return;

  s->promise = g_steal_pointer (&group->promise);
  s->all_done = all_done;
  if (!group->kept)
    {
      s->inputs = g_steal_pointer (&group->inputs);
      s->n_nodes = group->n_nodes;
      group->nodes_taken = TRUE;
    }
}

/* Counts out @n nodes that were taken off their inputs, or ran; drops
 * the nodes' reference on @group if they were the last. The caller must
 * not touch @group afterwards, unless it holds a reference of its own. */
static void
group_count_out_nodes (Group *group,
                       guint  n)
{
  gboolean last;

  if (n == 0)
    return;

  g_mutex_lock (&group->mutex);
  group->n_linked -= n;
  last = group->n_linked == 0 && !group->registering;
  g_mutex_unlock (&group->mutex);

  if (last)
    group_unref (group);
}

/* Completes the group's promise, now that @future settled it; with no
 * lock held. */
static void
group_settle (Group               *group,
              Settlement          *s,
              ConcurryFuture      *future,
              ConcurryFutureState  state)
{
  /* Nor do its callbacks stay on the inputs still pending: a loop of
   * wait(FIRST_COMPLETED), or races against a long-lived future, would
   * pile them up there. Once all inputs are done, none is pending. gather,
   * any and race consume the outcomes that come too late (the loser of a
   * race against a timeout must not warn about an error nobody looked
   * at); a wait only reports, it leaves them alone. So does a gather
   * without ALL_OUTCOMES that got all its inputs: all but the last
   * succeeded, and the last is consumed below. */
  gboolean leave_inputs = s->all_done &&
                           (group->kind == GROUP_WAIT ||
                            (group->kind == GROUP_GATHER &&
                             !(group->flags & CONCURRY_GATHER_FLAGS_ALL_OUTCOMES)));

  guint n_taken_off = 0;

  if (s->n_nodes > 0 && !leave_inputs)
    {
      for (guint i = 0; i < s->n_nodes; i++)
        {
          ConcurryCallback *node = &group->nodes[i];
          ConcurryCore *core = _concurry_future_get_core (node->future);

          if (!s->all_done)
            n_taken_off += _concurry_core_unlink (core, node);
          if (group->kind != GROUP_WAIT)
            _concurry_core_set_observed (core);
        }
    }

  switch (group->kind)
    {
    case GROUP_WAIT:
      concurry_promise_resolve (s->promise, NULL);
      break;

    case GROUP_GATHER:
      if (state != CONCURRY_FUTURE_STATE_DONE && !(group->flags & CONCURRY_GATHER_FLAGS_ALL_OUTCOMES))
        {
          mirror (future, s->promise);
        }
      else
        {
          GValue value = G_VALUE_INIT;

          g_value_init (&value, G_TYPE_PTR_ARRAY);
          g_value_set_boxed (&value, s->inputs);
          concurry_promise_take_value (s->promise, &value);
        }
      break;

    case GROUP_ANY:
      if (state == CONCURRY_FUTURE_STATE_DONE)
        {
          mirror (future, s->promise);
        }
      else
        {
          GPtrArray *inputs = s->inputs;
          const GError *last = NULL;
          GError *error;

          /* Every input failed: report how many, and the error of the one
           * given first, which is the most predictable to point at. */
          for (guint i = 0; i < inputs->len && last == NULL; i++)
            last = concurry_future_get_error (inputs->pdata[i]);
          for (guint i = 0; i < inputs->len; i++)
            concurry_future_get_error (inputs->pdata[i]);
          /* Translators: %u is a number of futures, %s an error message */
          error = g_error_new (CONCURRY_ERROR, CONCURRY_ERROR_FAILED,
                               _concurry_ngettext ("%u future failed: %s",
                                                   "All %u futures failed; the first one with: %s",
                                                   group->n_inputs),
                               group->n_inputs, last != NULL ? last->message : "");
          concurry_promise_take_error (s->promise, error);
        }
      break;

    case GROUP_RACE:
    default:
      mirror (future, s->promise);
      break;
    }

  g_clear_object (&s->promise);
  g_clear_pointer (&s->inputs, g_ptr_array_unref);

  /* The last use of @group: the caller keeps it alive until here. */
  group_count_out_nodes (group, n_taken_off);
}

/* Runs on the thread that completed @future, with no lock held, from a
 * node of the group. */
static void
group_input_done (ConcurryFuture *future,
                  gpointer        user_data)
{
  Group *group = user_data;
  GroupKind kind = group->kind;
  ConcurryFutureState state = concurry_future_get_state (future);
  Settlement s = { NULL, };
  gboolean late;
  gboolean last;

  /* This node is counted out at once. Once the lock is let go, the group
   * may be gone unless the nodes' reference was ours to drop (@last), or
   * we take one: settling needs the group. */
  g_mutex_lock (&group->mutex);
  late = group->promise == NULL;
  if (!late)
    group_count_locked (group, state, &s);
  group->n_linked--;
  last = group->n_linked == 0 && !group->registering;
  if (s.promise != NULL && !last)
    group_ref (group);
  g_mutex_unlock (&group->mutex);

  if (s.promise != NULL)
    {
      group_settle (group, &s, future, state);
      group_unref (group);
      return;
    }

  /* Settled already: gather, any and race consumed this outcome (the
   * loser of a race against a timeout must not warn as an unobserved
   * error). A wait only reports, so it leaves it to its caller. */
  if (late && kind != GROUP_WAIT)
    _concurry_core_set_observed (_concurry_future_get_core (future));
  if (last)
    group_unref (group);
}

static void
cancel_inputs_cb (GCancellable *cancellable,
                  gpointer      user_data)
{
  Group *group = user_data;
  g_autoptr(GPtrArray) inputs = NULL;

  /* Only a cancellation from outside reaches the inputs: a group settled
   * by a cancelled input (which makes it cancelled too) leaves the other
   * inputs alone. */
  g_mutex_lock (&group->mutex);
  if (group->promise != NULL)
    inputs = g_ptr_array_ref (group->inputs);
  g_mutex_unlock (&group->mutex);

  if (inputs == NULL)
    return;

  for (guint i = 0; i < inputs->len; i++)
    concurry_future_cancel (inputs->pdata[i]);
}

/* Builds a group over @futures and registers it on each of them (a
 * future given twice counts twice, which changes no outcome), or returns
 * NULL if one of them is not a future. Returns the group's future.
 *
 * With @keep, for concurry_wait(), *@keep gets the group: it does not let
 * its inputs go nor removes its callbacks when it settles, as
 * concurry_wait() closes it with group_close() once it is done waiting. */
static ConcurryFuture *
group_start (ConcurryFuture   **futures,
             guint              n_futures,
             GroupKind          kind,
             ConcurryWaitMode   mode,
             guint              flags,
             gboolean           cancel_inputs,
             Group            **keep)
{
  ConcurryPromise *promise;
  GPtrArray *inputs;
  Group *group;
  Settlement s = { NULL, };
  guint n_terminal = 0;
  guint n_succeeded = 0;
  gboolean no_node_left;
  guint i;

  g_return_val_if_fail (n_futures == 0 || futures != NULL, NULL);

  /* One pass over the inputs: check them (before anything is done to
   * them), take the group's references, and count those already done. */
  inputs = g_ptr_array_new_full (n_futures, g_object_unref);
  for (i = 0; i < n_futures; i++)
    {
      int state;

      _concurry_prefetch_input (futures, i + CONCURRY_PREFETCH_DISTANCE, n_futures);

      if G_UNLIKELY (!CONCURRY_IS_FUTURE (futures[i]))
        {
          g_ptr_array_unref (inputs);
          g_return_val_if_fail (CONCURRY_IS_FUTURE (futures[i]), NULL);
          return NULL;
        }
      g_ptr_array_add (inputs, g_object_ref (futures[i]));
      state = _concurry_core_get_state (_concurry_future_get_core (futures[i]));
      n_terminal += CONCURRY_FUTURE_STATE_IS_TERMINAL (state);
      n_succeeded += state == CONCURRY_FUTURE_STATE_DONE;
    }

  promise = concurry_promise_new ();
  group = g_new0 (Group, 1);
  g_atomic_ref_count_init (&group->ref_count);
  g_mutex_init (&group->mutex);
  group->kind = kind;
  group->mode = mode;
  group->flags = flags;
  group->kept = keep != NULL;
  group->inputs = inputs;
  group->n_inputs = n_futures;
  if (keep != NULL)
    *keep = group_ref (group);

  if (n_futures == 0 && (kind == GROUP_ANY || kind == GROUP_RACE))
    {
      concurry_promise_reject_literal (promise, CONCURRY_ERROR, CONCURRY_ERROR_INVALID_STATE,
                                       _("There are no futures to choose from"));
      group_unref (group);
      return CONCURRY_FUTURE (promise);
    }

  /* All done already (a state once terminal stays so): a wait is met, and
   * a gather that nothing failed has its value, with nothing more to do
   * per input. (any and race take the path below: they consume the
   * outcomes they do not pick.) */
  if (n_terminal == n_futures &&
      (kind == GROUP_WAIT ||
       (kind == GROUP_GATHER &&
        (n_succeeded == n_futures || (flags & CONCURRY_GATHER_FLAGS_ALL_OUTCOMES)))))
    {
      group->n_done = n_futures;
      if (kind == GROUP_WAIT)
        {
          concurry_promise_resolve (promise, NULL);
        }
      else
        {
          GValue value = G_VALUE_INIT;

          g_value_init (&value, G_TYPE_PTR_ARRAY);
          g_value_set_boxed (&value, inputs);
          concurry_promise_take_value (promise, &value);
        }
      group_unref (group);
      return CONCURRY_FUTURE (promise);
    }

  group->promise = g_object_ref (promise);
  /* Inputs done at the first pass stay done: at most this many nodes. */
  group->nodes = g_new (ConcurryCallback, n_futures - n_terminal);
  group->registering = TRUE;
  group_ref (group);   /* the nodes' */

  if (cancel_inputs)
    g_signal_connect_data (concurry_promise_get_cancellable (promise), "cancelled",
                           G_CALLBACK (cancel_inputs_cb), group_ref (group),
                           (GClosureNotify)(void (*) (void))group_unref, 0);

  /* Inputs already done settle the group right here, in input order,
   * without a callback, and under one lock for a run of them: the others
   * only take it to count. The lock is let go to register a callback,
   * which runs at once if its input is done meanwhile. Once the group is
   * settled, no more callbacks are registered. */
  g_mutex_lock (&group->mutex);
  for (i = 0; i < n_futures; i++)
    {
      ConcurryCore *core;
      int state;
      ConcurryCallback *node;

      _concurry_prefetch_input (futures, i + CONCURRY_PREFETCH_DISTANCE, n_futures);
      core = _concurry_future_get_core (futures[i]);
      state = _concurry_core_get_state (core);

      if (CONCURRY_FUTURE_STATE_IS_TERMINAL (state))
        {
          group_count_locked (group, state, &s);
          if (s.promise == NULL)
            continue;

          g_mutex_unlock (&group->mutex);
          group_settle (group, &s, futures[i], state);
          break;
        }

      node = &group->nodes[group->n_nodes++];
      _concurry_callback_init_borrowed (node, group_input_done, group);
      node->future = futures[i];
      group->n_linked++;
      g_mutex_unlock (&group->mutex);
      _concurry_core_add_callback (core, futures[i], node);
      g_mutex_lock (&group->mutex);

      if (group->promise != NULL)
        continue;

      /* Settled meanwhile, by another thread: unless that took this node
       * off too, or it ran, take it off. */
      g_mutex_unlock (&group->mutex);
      group_count_out_nodes (group, _concurry_core_unlink (core, node));
      break;
    }

  if (i == n_futures)
    {
      g_mutex_unlock (&group->mutex);
    }
  else if (kind != GROUP_WAIT)
    {
      /* Settled before the end: the outcomes of the inputs left are
       * consumed, as if they had come late, those still pending included
       * (the mark stays until they complete), as group_settle() does for
       * the inputs it had registered on. */
      while (++i < n_futures)
        _concurry_core_set_observed (_concurry_future_get_core (futures[i]));
    }

  /* No more nodes: if none is on an input, their reference goes. */
  g_mutex_lock (&group->mutex);
  group->registering = FALSE;
  no_node_left = group->n_linked == 0;
  g_mutex_unlock (&group->mutex);
  if (no_node_left)
    group_unref (group);

  group_unref (group);

  return CONCURRY_FUTURE (promise);
}

/* Ends a kept group, once concurry_wait() is done waiting: whatever
 * completes later is not counted any more, and the group's callbacks are
 * removed from its inputs. Returns the inputs, with their references, and
 * sets *@all_done if every one was done by then. */
static GPtrArray *
group_close (Group    *group,
             gboolean *all_done)
{
  g_autoptr(ConcurryPromise) unsettled = NULL;
  GPtrArray *inputs;
  guint n_nodes = 0;
  guint n_taken_off = 0;

  g_mutex_lock (&group->mutex);
  unsettled = g_steal_pointer (&group->promise);
  inputs = g_steal_pointer (&group->inputs);
  if (!group->nodes_taken)
    {
      n_nodes = group->n_nodes;
      group->nodes_taken = TRUE;
    }
  *all_done = group->n_done == group->n_inputs;
  g_mutex_unlock (&group->mutex);

  /* Once all inputs are done, none still holds a callback of ours. We
   * hold the group (the reference of @keep) while we take them off. */
  if (!*all_done)
    for (guint i = 0; i < n_nodes; i++)
      n_taken_off += _concurry_core_unlink (_concurry_future_get_core (group->nodes[i].future),
                                            &group->nodes[i]);
  group_count_out_nodes (group, n_taken_off);

  group_unref (group);

  return inputs;
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

/**
 * concurry_wait_future:
 * @futures: (array length=n_futures): the futures
 * @n_futures: the number of futures
 * @mode: when to complete
 *
 * Creates a future that completes, without a value, once @futures meet
 * @mode; the non-blocking counterpart of [func@Concurry.wait]. Inspect the
 * futures to see which are done. With no futures it is done at once.
 *
 * Returns: (transfer full): a new future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_wait_future (ConcurryFuture   **futures,
                      guint              n_futures,
                      ConcurryWaitMode   mode)
{
  return group_start (futures, n_futures, GROUP_WAIT, mode, 0, FALSE, NULL);
}

/**
 * concurry_wait:
 * @futures: (array length=n_futures): the futures
 * @n_futures: the number of futures
 * @mode: when to return
 * @timeout_usec: how long to wait at most, in microseconds: 0 polls, a
 *   negative value waits for ever
 * @done: (out) (optional) (transfer container) (element-type ConcurryFuture):
 *   the futures that are done, each once, as given
 * @not_done: (out) (optional) (transfer container) (element-type ConcurryFuture):
 *   the futures that are not done, each once, as given
 *
 * Blocks until @futures meet @mode or @timeout_usec passes, like
 * `concurrent.futures.wait()`: a timeout is not an error, it just returns
 * with futures in @not_done. %CONCURRY_WAIT_FIRST_EXCEPTION with no failure
 * waits for all; cancelled futures count as done, not as failures.
 *
 * The sets hold the same instances that were given, duplicates merged, in
 * the order they were given. Waiting follows [method@Concurry.Future.wait]:
 * on a thread that owns its main context, the context runs meanwhile.
 *
 * Returns: %TRUE if @mode was met, %FALSE on timeout; when the sets are
 *   asked for, it agrees with them (an input completing while they are
 *   made counts)
 *
 * Since: 0.1
 */
gboolean
concurry_wait (ConcurryFuture   **futures,
               guint              n_futures,
               ConcurryWaitMode   mode,
               gint64             timeout_usec,
               GPtrArray        **done,
               GPtrArray        **not_done)
{
  gint64 deadline = _concurry_deadline_from_timeout (timeout_usec);
  g_autoptr(ConcurryFuture) waited = NULL;
  g_autoptr(GPtrArray) inputs = NULL;
  g_autofree guint *duplicates = NULL;
  const guint *next_duplicate;
  Group *group;
  guint n_distinct;
  guint n_done_seen = 0;
  guint n_failed_seen = 0;
  gboolean met;
  gboolean all_done;

  g_return_val_if_fail (mode <= CONCURRY_WAIT_FIRST_EXCEPTION, FALSE);

  waited = group_start (futures, n_futures, GROUP_WAIT, mode, 0, FALSE, &group);
  if (waited == NULL)
    return FALSE;

  met = concurry_future_wait_until (waited, deadline, NULL);
  inputs = group_close (group, &all_done);

  if (done == NULL && not_done == NULL)
    return met;

  /* The sets take the group's references, each once. */
  duplicates = _concurry_find_duplicates (futures, n_futures, &n_distinct);
  if (all_done && duplicates == NULL)
    {
      /* All done, all distinct: that is the group's array. */
      if (done != NULL)
        *done = g_steal_pointer (&inputs);
      if (not_done != NULL)
        *not_done = g_ptr_array_new_with_free_func (g_object_unref);
      return TRUE;
    }

  if (done != NULL)
    *done = g_ptr_array_new_full (all_done ? n_distinct : 0, g_object_unref);
  if (not_done != NULL)
    *not_done = g_ptr_array_new_with_free_func (g_object_unref);

  g_ptr_array_set_free_func (inputs, NULL);
  next_duplicate = duplicates;
  for (guint i = 0; i < n_futures; i++)
    {
      ConcurryFuture *future = inputs->pdata[i];
      GPtrArray *set;

      if (!all_done)
        _concurry_prefetch_input ((ConcurryFuture **)inputs->pdata,
                                  i + CONCURRY_PREFETCH_DISTANCE, n_futures);
      if (next_duplicate != NULL && i == *next_duplicate)
        {
          next_duplicate++;
          set = NULL;
        }
      /* Once all were done, their states need no reading. */
      else if (all_done || concurry_future_is_done (future))
        {
          set = done != NULL ? *done : NULL;
          n_done_seen++;
          if (!all_done && mode == CONCURRY_WAIT_FIRST_EXCEPTION)
            n_failed_seen += concurry_future_is_failed (future);
        }
      else
        {
          set = not_done != NULL ? *not_done : NULL;
        }

      if (set != NULL)
        g_ptr_array_add (set, future);
      else
        g_object_unref (future);
    }

  /* The sets are the later picture: inputs may have completed since the
   * wait returned, and the answer must agree with them. */
  switch (mode)
    {
    case CONCURRY_WAIT_FIRST_COMPLETED:
      met = met || n_done_seen > 0;
      break;
    case CONCURRY_WAIT_FIRST_EXCEPTION:
      met = met || n_failed_seen > 0;
      break;
    case CONCURRY_WAIT_ALL_COMPLETED:
    default:
      break;
    }

  return met || n_done_seen == n_distinct;
}

/**
 * concurry_gather:
 * @futures: (array length=n_futures): the futures
 * @n_futures: the number of futures
 * @flags: how to treat failures
 *
 * Creates a future that completes once all @futures succeeded, with a
 * `GPtrArray` of @futures in the order given (read each value from its
 * future); like `Promise.all`, it fails as soon as any input fails or is
 * cancelled, with that input's error. With
 * %CONCURRY_GATHER_FLAGS_ALL_OUTCOMES it waits for every input and
 * succeeds whatever their outcomes.
 *
 * Cancelling the returned future cancels the inputs (an input that is
 * cancelled makes the gather end cancelled too, but leaves the others
 * alone). Failures
 * that come after the gather failed count as handled: they do not warn as
 * unobserved errors. No futures: done at once with an empty array.
 *
 * Bindings cannot read the `GPtrArray` value (it has no element type
 * there): keep the list of inputs and read each one's value, which is
 * what the array holds anyway.
 *
 * Returns: (transfer full): a new future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_gather (ConcurryFuture      **futures,
                 guint                 n_futures,
                 ConcurryGatherFlags   flags)
{
  return group_start (futures, n_futures, GROUP_GATHER, 0, flags, TRUE, NULL);
}

/**
 * concurry_any:
 * @futures: (array length=n_futures): the futures
 * @n_futures: the number of futures
 *
 * Creates a future with the value of the first of @futures to succeed,
 * like `Promise.any`. If none succeeds it fails with
 * %CONCURRY_ERROR_FAILED, naming the error of the first input given. No
 * futures: it fails at once with %CONCURRY_ERROR_INVALID_STATE.
 *
 * Cancelling the returned future cancels the inputs.
 *
 * Returns: (transfer full): a new future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_any (ConcurryFuture **futures,
              guint            n_futures)
{
  return group_start (futures, n_futures, GROUP_ANY, 0, 0, TRUE, NULL);
}

/**
 * concurry_race:
 * @futures: (array length=n_futures): the futures
 * @n_futures: the number of futures
 *
 * Creates a future with the outcome of the first of @futures to finish,
 * whether it succeeded, failed or was cancelled, like `Promise.race`. No
 * futures: it fails at once with %CONCURRY_ERROR_INVALID_STATE.
 *
 * Cancelling the returned future cancels the inputs. The outcomes of the
 * losers count as handled: racing against [func@Concurry.timeout] does not
 * leave an unobserved error behind.
 *
 * Returns: (transfer full): a new future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_race (ConcurryFuture **futures,
               guint            n_futures)
{
  return group_start (futures, n_futures, GROUP_RACE, 0, 0, TRUE, NULL);
}

/* ---- chains ---- */

typedef enum
{
  STEP_AND_THEN,
  STEP_MAP,
  STEP_CATCH,
  STEP_FINALLY,
} StepKind;

typedef struct
{
  gatomicrefcount  ref_count;
  StepKind         kind;
  ConcurryPromise *promise;
  gpointer         func;
  gpointer         user_data;
  GDestroyNotify   destroy;
  GWeakRef         current;   /* what the step waits on, for cancel */
} Step;

static Step *
step_ref (Step *step)
{
  g_atomic_ref_count_inc (&step->ref_count);
  return step;
}

static void
step_unref (gpointer data)
{
  Step *step = data;

  if (g_atomic_ref_count_dec (&step->ref_count))
    {
      g_assert (step->promise == NULL);
      g_weak_ref_clear (&step->current);
      g_free (step);
    }
}

/* Weak: the future a step waits on holds the step through its callback,
 * so a strong reference back would keep an abandoned upstream alive. */
static void
step_set_current (Step           *step,
                  ConcurryFuture *current)
{
  g_weak_ref_set (&step->current, current);
}

static void
step_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  Step *step = user_data;
  ConcurryFuture *current = g_weak_ref_get (&step->current);

  if (current != NULL)
    {
      concurry_future_cancel (current);
      g_object_unref (current);
    }
}

/* Settles the step's promise with what its function produced: an error, a
 * future to continue with (flattened), a value, or nothing. */
static void
step_settle (Step    *step,
             GValue  *result,
             GError  *error)
{
  ConcurryPromise *promise = g_steal_pointer (&step->promise);

  if (error != NULL)
    {
      if (G_IS_VALUE (result))
        g_value_unset (result);
      concurry_promise_take_error (promise, error);
      step_set_current (step, NULL);
    }
  else if (G_IS_VALUE (result) && G_VALUE_HOLDS_OBJECT (result) &&
           CONCURRY_IS_FUTURE (g_value_get_object (result)))
    {
      ConcurryFuture *next = g_value_get_object (result);

      /* Flattened: the chain goes on with the future it returned. */
      step_set_current (step, next);
      if (concurry_future_is_cancelled (CONCURRY_FUTURE (promise)))
        concurry_future_cancel (next);
      add_inline (next, mirror_cb, g_object_ref (promise), g_object_unref);
      g_value_unset (result);
    }
  else if (G_IS_VALUE (result))
    {
      concurry_promise_take_value (promise, result);
      step_set_current (step, NULL);
    }
  else
    {
      concurry_promise_resolve (promise, NULL);
      step_set_current (step, NULL);
    }

  g_object_unref (promise);
}

/* A done callback: runs on the main context of the code that built the
 * chain. */
static void
step_run (ConcurryFuture *upstream,
          gpointer        user_data)
{
  Step *step = user_data;
  ConcurryFutureState state = concurry_future_get_state (upstream);
  GValue result = G_VALUE_INIT;
  GError *error = NULL;

  /* Cancelled meanwhile: nothing to run. */
  if (concurry_future_is_done (CONCURRY_FUTURE (step->promise)))
    {
      g_clear_object (&step->promise);
      step_set_current (step, NULL);
      return;
    }

  switch (step->kind)
    {
    case STEP_AND_THEN:
      if (state != CONCURRY_FUTURE_STATE_DONE)
        break;
      ((ConcurryChainFunc)step->func) (upstream, &result, step->user_data, &error);
      step_settle (step, &result, error);
      return;

    case STEP_MAP:
      if (state != CONCURRY_FUTURE_STATE_DONE)
        break;
      ((ConcurryValueFunc)step->func) (concurry_future_get_value (upstream), &result,
                                       step->user_data, &error);
      step_settle (step, &result, error);
      return;

    case STEP_CATCH:
      if (state != CONCURRY_FUTURE_STATE_FAILED)
        break;
      ((ConcurryChainFunc)step->func) (upstream, &result, step->user_data, &error);
      /* The error was handled by the step. */
      concurry_future_get_error (upstream);
      step_settle (step, &result, error);
      return;

    case STEP_FINALLY:
    default:
      ((ConcurryFutureCallback)step->func) (upstream, step->user_data);
      break;
    }

  /* Not this step's case: the outcome goes down the chain unchanged. */
  {
    ConcurryPromise *promise = g_steal_pointer (&step->promise);

    mirror (upstream, promise);
    step_set_current (step, NULL);
    g_object_unref (promise);
  }
}

static void
step_free_func (gpointer data)
{
  Step *step = data;

  if (step->destroy != NULL)
    step->destroy (step->user_data);
  step->destroy = NULL;
  /* Only if the step never ran (the future was dropped unfinished). */
  g_clear_object (&step->promise);
  step_unref (step);
}

static ConcurryFuture *
chain (ConcurryFuture *self,
       StepKind        kind,
       gpointer        func,
       gpointer        user_data,
       GDestroyNotify  destroy)
{
  ConcurryPromise *promise = concurry_promise_new ();
  Step *step = g_new0 (Step, 1);

  g_atomic_ref_count_init (&step->ref_count);
  step->kind = kind;
  step->promise = g_object_ref (promise);
  step->func = func;
  step->user_data = user_data;
  step->destroy = destroy;
  g_weak_ref_init (&step->current, self);

  /* Cancelling the end of the chain cancels what it waits on. */
  g_signal_connect_data (concurry_promise_get_cancellable (promise), "cancelled",
                         G_CALLBACK (step_cancelled_cb), step_ref (step),
                         (GClosureNotify)(void (*) (void))step_unref, 0);

  concurry_future_add_done_callback (self, step_run, step, step_free_func);

  return CONCURRY_FUTURE (promise);
}

/**
 * concurry_future_and_then:
 * @self: a [iface@Concurry.Future]
 * @func: (scope notified) (closure user_data) (destroy destroy): the next step
 * @user_data: data for @func
 * @destroy: (nullable): a function to free @user_data with
 *
 * Continues @self with @func once it succeeds: the returned future gets
 * what @func produces. If @func produces a future, the chain waits for it
 * and takes its outcome (it is flattened), so steps that start more work
 * chain without glue. A failure or cancellation of @self skips @func and
 * goes down the chain unchanged, with its original error.
 *
 * @func runs on the main context that is thread-default here, like a done
 * callback: that context must run for the chain to progress. A blocking
 * wait on the end of the chain runs it when the waiting thread owns it
 * (see [method@Concurry.Future.wait]); a thread that does not, waiting on
 * a chain built on the main thread of a program whose main loop does not
 * run, waits until its timeout. Cancelling the returned future cancels
 * what it waits on: @self, or the future @func returned.
 *
 * (Not named `then`: in JavaScript an object with a `then` method is
 * awaited as a promise.)
 *
 * Returns: (transfer full): the future at the end of the chain
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_future_and_then (ConcurryFuture    *self,
                          ConcurryChainFunc  func,
                          gpointer           user_data,
                          GDestroyNotify     destroy)
{
  g_return_val_if_fail (CONCURRY_IS_FUTURE (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return chain (self, STEP_AND_THEN, func, user_data, destroy);
}

/**
 * concurry_future_map:
 * @self: a [iface@Concurry.Future]
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   transformation
 * @user_data: data for @func
 * @destroy: (nullable): a function to free @user_data with
 *
 * Like [method@Concurry.Future.and_then], but @func gets the value of
 * @self rather than the future.
 *
 * Returns: (transfer full): the future at the end of the chain
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_future_map (ConcurryFuture    *self,
                     ConcurryValueFunc  func,
                     gpointer           user_data,
                     GDestroyNotify     destroy)
{
  g_return_val_if_fail (CONCURRY_IS_FUTURE (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return chain (self, STEP_MAP, func, user_data, destroy);
}

/**
 * concurry_future_catch_error:
 * @self: a [iface@Concurry.Future]
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   recovery
 * @user_data: data for @func
 * @destroy: (nullable): a function to free @user_data with
 *
 * Recovers from a failure of @self: when @self fails, @func gets it and
 * produces a value, a future (flattened) or another error for the
 * returned future. Success goes down the chain unchanged, and so does
 * cancellation, which is not a failure.
 *
 * Returns: (transfer full): the future at the end of the chain
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_future_catch_error (ConcurryFuture    *self,
                             ConcurryChainFunc  func,
                             gpointer           user_data,
                             GDestroyNotify     destroy)
{
  g_return_val_if_fail (CONCURRY_IS_FUTURE (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return chain (self, STEP_CATCH, func, user_data, destroy);
}

/**
 * concurry_future_finally_do:
 * @self: a [iface@Concurry.Future]
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function to run whatever the outcome
 * @user_data: data for @func
 * @destroy: (nullable): a function to free @user_data with
 *
 * Runs @func once @self is done, whatever its outcome, then passes that
 * outcome down the chain unchanged.
 *
 * Returns: (transfer full): the future at the end of the chain
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_future_finally_do (ConcurryFuture         *self,
                            ConcurryFutureCallback  func,
                            gpointer                user_data,
                            GDestroyNotify          destroy)
{
  g_return_val_if_fail (CONCURRY_IS_FUTURE (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return chain (self, STEP_FINALLY, func, user_data, destroy);
}
