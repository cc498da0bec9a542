/* concurry-future-set.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "concurry-combinators.h"
#include "concurry-combinator-private.h"
#include "concurry-error.h"
#include "concurry-fan-in-private.h"
#include "concurry-i18n-private.h"
#include "concurry-platform-private.h"
#include "concurry-ptr-set-private.h"

/* Future sets: wait, wait_future, gather, any and race, over one group
 * that counts its inputs in. */

/*
 * What a group costs per input matters: groups of a million futures are
 * ordinary (see doc/combinators.md). So the inputs are checked, referenced
 * and their state read in one pass; inputs already done are counted under
 * one lock, not one each; a group whose inputs are all done at the start
 * is complete at once, without callbacks; and nothing is done per input
 * once every input is done (no callback is left to remove).
 *
 * The callbacks on the inputs are counted in by a ConcurryFanIn (shared
 * with as_completed): they hold one reference on the group together.
 *
 * A group does not keep its pending inputs alive. Each pending input
 * holds the group through its callback; were the group to hold the input
 * in return, a group over promises that nobody resolves, all dropped,
 * would keep itself alive for ever, and the promises would never be
 * abandoned. So the group holds only the inputs known to be done (@held),
 * and its callback on an input takes a reference when it runs. A pending
 * input is alive all the same while the group is not settled and its lock
 * is held: its callback is still on it, or runs (within the input's
 * completion, its disposal included) and waits for the lock. That is
 * when the group does what it must with them to settle (consume their
 * outcomes), or takes weak references to cancel them: not references,
 * which for an object of a language binding may call into the binding
 * (see group_start()). A promise input dropped by everybody else is abandoned: it
 * fails with CONCURRY_ERROR_ABANDONED, which the group counts like any
 * failure, so the group settles and goes away too.
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
  ConcurryFuture  **inputs;       /* as given, duplicates included; not
                                   * referenced (see above) */
  GPtrArray        *held;         /* references: those of the inputs known
                                   * done; a kept group's: all its inputs,
                                   * in order */
  ConcurryFanIn     fan_in;       /* one node per input registered on;
                                   * ->future is the input */
  gboolean          nodes_taken;  /* by whoever takes them off the inputs */
  guint             n_inputs;     /* duplicates counted */
  guint             n_done;
  guint             n_failed;
} Group;

/* What settling a group takes out of it, under its lock. */
typedef struct
{
  ConcurryPromise *promise;       /* NULL: not settled */
  GPtrArray       *inputs;
  GPtrArray       *held;          /* the group's, let go once settled */
  guint            n_taken_off;   /* nodes taken off their inputs, to count out */
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
      g_free (group->inputs);
      g_clear_pointer (&group->held, g_ptr_array_unref);
      _concurry_fan_in_clear (&group->fan_in);
      g_mutex_clear (&group->mutex);
      g_free (group);
    }
}

/* References on all the inputs, in order: with the lock held and the
 * group not settled (see above), while the group is made (when it holds
 * a reference of its own on each: see group_start()). */
static GPtrArray *
group_ref_inputs_locked (Group *group)
{
  GPtrArray *inputs = g_ptr_array_new_full (group->n_inputs, g_object_unref);

  for (guint i = 0; i < group->n_inputs; i++)
    g_ptr_array_add (inputs, g_object_ref (group->inputs[i]));

  return inputs;
}

/* gather, any and race consume the outcomes of all their inputs: the
 * failures that decided them, those they made irrelevant, whether they
 * came before the group was made, before it was decided or after (the
 * loser of a race against a timeout must not warn about an error nobody
 * looked at; the mark stays on an input still pending). A wait, and a
 * gather with ALL_OUTCOMES, hand the inputs themselves over: their errors
 * are the caller's to look at. */
static gboolean
group_observes (Group *group)
{
  return group->kind != GROUP_WAIT &&
         !(group->kind == GROUP_GATHER && (group->flags & CONCURRY_GATHER_FLAGS_ALL_OUTCOMES));
}

/* Counts the outcome of one input, with the lock held and the group not
 * settled yet. If that settles it, @s gets the promise and, unless the
 * group is kept: if all its inputs are done, the references on them, for
 * settling; if not, their outcomes consumed now (see group_observes()),
 * as after that the group does not know which of them are alive. */
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
  if (!group->kept)
    {
      if (all_done)
        {
          /* Every input was counted once, and held once then: the
           * references of @held are those of the inputs, in another
           * order. */
          s->inputs = g_ptr_array_new_full (group->n_inputs, g_object_unref);
          g_ptr_array_set_size (s->inputs, group->n_inputs);
          memcpy (s->inputs->pdata, group->inputs, group->n_inputs * sizeof (gpointer));
          g_ptr_array_set_free_func (group->held, NULL);
        }
      else
        {
          /* Some inputs are pending: alive only while the lock is held
           * (see above), and a reference taken on one now could be the
           * second reference of a binding's object, which calls into the
           * binding with the lock held (see group_start()). So what
           * settling needs of them is done now, without a reference:
           * their outcomes are consumed. */
          if (group_observes (group))
            for (guint i = 0; i < group->n_inputs; i++)
              _concurry_core_set_observed (_concurry_future_get_core (group->inputs[i]));
          /* Nor do its callbacks stay on the inputs still pending: a loop
           * of wait(FIRST_COMPLETED), or races against a long-lived
           * future, would pile them up there. Taken off now, while the
           * inputs are alive (each input's lock is taken inside the
           * group's, as when the callbacks were registered). Once all
           * inputs are done, none is pending. */
          s->n_taken_off = _concurry_fan_in_unlink (&group->fan_in, group->fan_in.n_nodes);
        }
      s->held = g_steal_pointer (&group->held);
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
  if (_concurry_fan_in_count_out (&group->fan_in, &group->mutex, n))
    group_unref (group);
}

/* See group_observes(). */
static void
group_observe_inputs (GPtrArray *inputs)
{
  for (guint i = 0; i < inputs->len; i++)
    _concurry_core_set_observed (_concurry_future_get_core (inputs->pdata[i]));
}

/* Completes the group's promise, now that @future settled it; with no
 * lock held. */
static void
group_settle (Group               *group,
              Settlement          *s,
              ConcurryFuture      *future,
              ConcurryFutureState  state)
{
  /* (Not all done: consumed already, by group_count_locked().) */
  if (s->inputs != NULL && group_observes (group))
    group_observe_inputs (s->inputs);

  /* A result that nobody else holds nor watches can never be looked at:
   * like an abandoned promise, it does not warn if it fails. (Nobody can
   * take a reference on it meanwhile: nobody has one to give.) */
  {
    ConcurryCore *result = _concurry_future_get_core (CONCURRY_FUTURE (s->promise));

    if (_concurry_platform_object_is_unshared (G_OBJECT (s->promise)) &&
        !_concurry_core_has_callbacks (result, TRUE))
      _concurry_core_set_observed (result);
  }

  switch (group->kind)
    {
    case GROUP_WAIT:
      concurry_promise_resolve (s->promise, NULL);
      break;

    case GROUP_GATHER:
      if (state != CONCURRY_FUTURE_STATE_DONE && !(group->flags & CONCURRY_GATHER_FLAGS_ALL_OUTCOMES))
        {
          _concurry_mirror (future, s->promise);
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
          _concurry_mirror (future, s->promise);
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
      _concurry_mirror (future, s->promise);
      break;
    }

  g_clear_object (&s->promise);
  g_clear_pointer (&s->inputs, g_ptr_array_unref);
  g_clear_pointer (&s->held, g_ptr_array_unref);

  /* The last use of @group: the caller keeps it alive until here. */
  group_count_out_nodes (group, s->n_taken_off);
}

/* An input was dropped unresolved: @stand_in, which the group holds
 * from now on, takes its place in @inputs and on the nodes, where the
 * input's address would soon be that of nothing (see
 * _concurry_future_get_stood_for()). */
static void
group_take_stand_in_locked (Group          *group,
                            ConcurryFuture *stand_in)
{
  ConcurryFuture *original = _concurry_future_get_stood_for (stand_in);

  for (guint i = 0; i < group->n_inputs; i++)
    if (group->inputs[i] == original)
      group->inputs[i] = stand_in;
  _concurry_fan_in_replace_locked (&group->fan_in, original, stand_in);
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
  ConcurryFuture *ref;
  gboolean late;
  gboolean last;

  /* Taken without the lock (see group_start()'s note on
   * references): the group's, if it keeps this input. */
  ref = g_object_ref (future);

  /* This node is counted out at once. Once the lock is let go, the group
   * may be gone unless the nodes' reference was ours to drop (@last), or
   * we take one: settling needs the group. */
  g_mutex_lock (&group->mutex);
  if G_UNLIKELY (_concurry_future_get_stood_for (future) != NULL)
    group_take_stand_in_locked (group, future);
  late = group->promise == NULL;
  if (!late)
    {
      /* Done: the group may hold it now (a kept group holds all). */
      if (!group->kept)
        g_ptr_array_add (group->held, g_steal_pointer (&ref));
      group_count_locked (group, state, &s);
    }
  last = _concurry_fan_in_count_out_locked (&group->fan_in, 1);
  if (s.promise != NULL && !last)
    group_ref (group);
  g_mutex_unlock (&group->mutex);

  g_clear_object (&ref);

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
  GWeakRef *inputs = NULL;
  guint n_inputs = 0;

  /* Only a cancellation from outside reaches the inputs: a group settled
   * by a cancelled input (which makes it cancelled too) leaves the other
   * inputs alone. The pending inputs are alive while the lock is held,
   * but a reference taken on one then could be a binding's object's
   * second, which calls into the binding with the lock held (see
   * group_start()): weak references are taken instead, and made strong
   * once the lock is let go (an input gone meanwhile has nothing left to
   * cancel). */
  g_mutex_lock (&group->mutex);
  if (group->promise != NULL)
    {
      n_inputs = group->n_inputs;
      inputs = g_new (GWeakRef, n_inputs);
      for (guint i = 0; i < n_inputs; i++)
        g_weak_ref_init (&inputs[i], group->inputs[i]);
    }
  g_mutex_unlock (&group->mutex);

  for (guint i = 0; i < n_inputs; i++)
    {
      ConcurryFuture *input = g_weak_ref_get (&inputs[i]);

      g_weak_ref_clear (&inputs[i]);
      if (input != NULL)
        {
          concurry_future_cancel (input);
          g_object_unref (input);
        }
    }
  g_free (inputs);
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
             Group            **keep,
             const char        *caller)
{
  ConcurryPromise *promise;
  Group *group;
  Settlement s = { NULL, };
  guint n_terminal = 0;
  guint n_succeeded = 0;
  guint i;

  if G_UNLIKELY (n_futures > 0 && futures == NULL)
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, caller, "n_futures == 0 || futures != NULL");
      return NULL;
    }

  /* One pass over the inputs: check them (before anything is done to
   * them), and count those already done. */
  for (i = 0; i < n_futures; i++)
    {
      ConcurryCore *core;
      int state;

      _concurry_prefetch_input (futures, i + CONCURRY_PREFETCH_DISTANCE, n_futures);

      core = _concurry_future_check_core (futures[i], caller);
      if G_UNLIKELY (core == NULL)
        return NULL;
      state = _concurry_core_get_state (core);
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
          /* group_close() gives concurry_wait() the inputs. */
          if (group->kept)
            {
              group->held = g_ptr_array_new_full (n_futures, g_object_unref);
              for (i = 0; i < n_futures; i++)
                g_ptr_array_add (group->held, g_object_ref (futures[i]));
            }
          concurry_promise_resolve (promise, NULL);
        }
      else
        {
          GValue value = G_VALUE_INIT;
          GPtrArray *inputs = g_ptr_array_new_full (n_futures, g_object_unref);

          for (i = 0; i < n_futures; i++)
            g_ptr_array_add (inputs, g_object_ref (futures[i]));
          g_value_init (&value, G_TYPE_PTR_ARRAY);
          g_value_take_boxed (&value, inputs);
          concurry_promise_take_value (promise, &value);
        }
      group_unref (group);
      return CONCURRY_FUTURE (promise);
    }

  group->inputs = g_memdup2 (futures, n_futures * sizeof (ConcurryFuture *));
  if (group->kept)
    {
      /* The caller of concurry_wait() holds the inputs anyway. */
      group->held = group_ref_inputs_locked (group);
    }
  else
    {
      group->held = g_ptr_array_new_full (n_terminal, g_object_unref);
    }
  group->promise = g_object_ref (promise);
  /* Inputs done at the first pass stay done: at most this many nodes. */
  _concurry_fan_in_init (&group->fan_in, n_futures - n_terminal);
  group_ref (group);   /* the nodes' */

  if (cancel_inputs)
    g_signal_connect_data (concurry_promise_get_cancellable (promise), "cancelled",
                           G_CALLBACK (cancel_inputs_cb), group_ref (group),
                           (GClosureNotify)(void (*) (void))group_unref, 0);

  /* A reference on every input while the group is made, taken without
   * the lock: the references taken below, with the lock, are then never
   * an object's second one. For an object of a language binding, the
   * second reference calls into the binding (PyGObject's toggle
   * reference takes Python's lock), and a thread holding that lock may
   * be waiting for this group's lock, to count an input it completed. */
  for (i = 0; i < n_futures; i++)
    g_object_ref (futures[i]);

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
          if (!group->kept)
            g_ptr_array_add (group->held, g_object_ref (futures[i]));
          group_count_locked (group, state, &s);
          if (s.promise == NULL)
            continue;

          g_mutex_unlock (&group->mutex);
          group_settle (group, &s, futures[i], state);
          break;
        }

      node = _concurry_fan_in_register_locked (&group->fan_in, &group->mutex, futures[i], core,
                                               group_input_done, group);

      if (group->promise != NULL)
        continue;

      /* Settled meanwhile, by another thread: unless that took this node
       * off too, or it ran, take it off. */
      g_mutex_unlock (&group->mutex);
      group_count_out_nodes (group, _concurry_core_unlink (core, node));
      break;
    }

  /* (Settled before the end: group_settle() consumed the outcomes of the
   * inputs left too.) */
  if (i == n_futures)
    g_mutex_unlock (&group->mutex);

  /* No more nodes: if none is on an input, their reference goes. */
  if (_concurry_fan_in_end_registering (&group->fan_in, &group->mutex))
    group_unref (group);

  group_unref (group);

  for (i = 0; i < n_futures; i++)
    g_object_unref (futures[i]);

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
  inputs = g_steal_pointer (&group->held);
  if (!group->nodes_taken)
    {
      n_nodes = group->fan_in.n_nodes;
      group->nodes_taken = TRUE;
    }
  *all_done = group->n_done == group->n_inputs;
  g_mutex_unlock (&group->mutex);

  /* Once all inputs are done, none still holds a callback of ours. We
   * hold the group (the reference of @keep) while we take them off. */
  if (!*all_done)
    n_taken_off = _concurry_fan_in_unlink (&group->fan_in, n_nodes);
  group_count_out_nodes (group, n_taken_off);

  group_unref (group);

  return inputs;
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
  g_return_val_if_fail ((guint) mode <= CONCURRY_WAIT_FIRST_EXCEPTION, NULL);

  return group_start (futures, n_futures, GROUP_WAIT, mode, 0, FALSE, NULL,
                      G_STRFUNC);
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

  g_return_val_if_fail ((guint) mode <= CONCURRY_WAIT_FIRST_EXCEPTION, FALSE);

  waited = group_start (futures, n_futures, GROUP_WAIT, mode, 0, FALSE, &group,
                      G_STRFUNC);
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
 * Like [func@Concurry.wait_future], [func@Concurry.any] and
 * [func@Concurry.race], it does not keep pending inputs alive: a promise
 * input that everybody else dropped is abandoned, and fails it with
 * %CONCURRY_ERROR_ABANDONED.
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
  g_return_val_if_fail ((flags & ~CONCURRY_GATHER_FLAGS_ALL_OUTCOMES) == 0, NULL);

  return group_start (futures, n_futures, GROUP_GATHER, 0, flags, TRUE, NULL,
                      G_STRFUNC);
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
 * Cancelling the returned future cancels the inputs. The failures it
 * skips count as handled, whenever they happened (before this call, before
 * the winner or after it): they do not warn as unobserved errors.
 *
 * Returns: (transfer full): a new future
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_any (ConcurryFuture **futures,
              guint            n_futures)
{
  return group_start (futures, n_futures, GROUP_ANY, 0, 0, TRUE, NULL,
                      G_STRFUNC);
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
  return group_start (futures, n_futures, GROUP_RACE, 0, 0, TRUE, NULL,
                      G_STRFUNC);
}
