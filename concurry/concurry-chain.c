/* concurry-chain.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-combinators.h"
#include "concurry-error.h"
#include "concurry-combinator-private.h"
#include "concurry-i18n-private.h"

/* Chains: and_then, map, catch_error, finally_do and finally_then. Each
 * step is a done callback on the future before it, run on the main context
 * of the code that built the chain. */

static void
mirror_cb (ConcurryFuture *future,
           gpointer        user_data)
{
  _concurry_mirror (future, user_data);
}

typedef enum
{
  STEP_AND_THEN,
  STEP_MAP,
  STEP_CATCH,
  STEP_FINALLY,
  STEP_FINALLY_THEN,
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

  /* A step that returns the very future it gives would wait for itself
   * for ever (as a JavaScript promise resolved with itself): that fails
   * the chain instead. (Only that future: a step that returns a future
   * further down its chain still waits for ever.) */
  if (error == NULL && G_IS_VALUE (result) && G_VALUE_HOLDS_OBJECT (result) &&
      g_value_get_object (result) == (gpointer)promise)
    {
      g_value_unset (result);
      error = g_error_new_literal (CONCURRY_ERROR, CONCURRY_ERROR_INVALID_STATE,
                                   _("A chain step returned the future of its own chain, "
                                     "which would wait for itself"));
    }

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
      _concurry_add_inline (next, mirror_cb, g_object_ref (promise), g_object_unref);
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

/* What a finally_then() step waits for: the future its function gave. */
typedef struct
{
  Step            *step;
  ConcurryPromise *promise;
  ConcurryFuture  *upstream;
} FinallyWait;

/* An error of a finally_then() function that cannot fail the chain, which
 * was cancelled: reported as an unretrieved error is. */
static void
report_finally_error (const GError *error)
{
  /* g_log(), not the structured g_warning(): g_test_expect_message()
   * sees it. */
  /* Translators: %s is an error message */
  g_log (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, _("A finally step of a cancelled chain failed: %s"),
         error->message);
}

static void
report_cleanup_failure (ConcurryFuture *cleanup,
                        gpointer        user_data)
{
  if (concurry_future_get_state (cleanup) == CONCURRY_FUTURE_STATE_FAILED)
    report_finally_error (concurry_future_get_error (cleanup));
}

/* Ends a finally_then() step: the outcome of @upstream, or @error (taken)
 * instead of a value or a failure. */
static void
finally_settle (Step            *step,
                ConcurryPromise *promise,
                ConcurryFuture  *upstream,
                GError          *error)
{
  if (error != NULL &&
      concurry_future_get_state (upstream) != CONCURRY_FUTURE_STATE_CANCELLED &&
      !concurry_future_is_done (CONCURRY_FUTURE (promise)))
    {
      /* Superseded, as in a finally block: looked at. */
      concurry_future_get_error (upstream);
      concurry_promise_take_error (promise, error);
    }
  else
    {
      if (error != NULL)
        {
          report_finally_error (error);
          g_error_free (error);
        }
      if (!concurry_future_is_done (CONCURRY_FUTURE (promise)))
        _concurry_mirror (upstream, promise);
    }
  step_set_current (step, NULL);
}

static void
finally_waited (ConcurryFuture *cleanup,
                gpointer        user_data)
{
  FinallyWait *wait = user_data;
  GError *error = NULL;

  if (concurry_future_get_state (cleanup) == CONCURRY_FUTURE_STATE_FAILED)
    error = g_error_copy (concurry_future_get_error (cleanup));
  finally_settle (wait->step, wait->promise, wait->upstream, error);
}

static void
finally_wait_free (gpointer data)
{
  FinallyWait *wait = data;

  g_object_unref (wait->promise);
  g_object_unref (wait->upstream);
  step_unref (wait->step);
  g_free (wait);
}

/* Runs a finally_then() function on @upstream, done, and settles the
 * step's promise at once or once the future it gave is done. With
 * @cancelled, the end of the chain was cancelled already: the function
 * runs all the same, and only an error of it is reported. */
static void
finally_then_run (Step           *step,
                  ConcurryFuture *upstream,
                  gboolean        cancelled)
{
  ConcurryPromise *promise = g_steal_pointer (&step->promise);
  GValue result = G_VALUE_INIT;
  GError *error = NULL;

  ConcurryFuture *cleanup = NULL;

  ((ConcurryChainFunc)step->func) (upstream, &result, step->user_data, &error);
  if (!cancelled && error == NULL && G_IS_VALUE (&result) && G_VALUE_HOLDS_OBJECT (&result) &&
      g_value_get_object (&result) == (gpointer)promise)
    {
      /* its own chain's future: see step_settle() */
      g_value_unset (&result);
      error = g_error_new_literal (CONCURRY_ERROR, CONCURRY_ERROR_INVALID_STATE,
                                   _("A chain step returned the future of its own chain, "
                                     "which would wait for itself"));
    }
  if (error == NULL && G_IS_VALUE (&result) && G_VALUE_HOLDS_OBJECT (&result) &&
      CONCURRY_IS_FUTURE (g_value_get_object (&result)))
    cleanup = g_value_get_object (&result);

  if (cleanup != NULL && !cancelled)
    {
      FinallyWait *wait = g_new0 (FinallyWait, 1);

      wait->step = step_ref (step);
      wait->promise = promise;          /* the step's reference */
      wait->upstream = g_object_ref (upstream);
      step_set_current (step, cleanup);
      if (concurry_future_is_cancelled (CONCURRY_FUTURE (promise)))
        concurry_future_cancel (cleanup);
      _concurry_add_inline (cleanup, finally_waited, wait, finally_wait_free);
      g_value_unset (&result);
      return;
    }

  /* Cancelled: nobody waits for the clean-up, but its failure is reported
   * all the same. */
  if (cleanup != NULL)
    _concurry_add_inline (cleanup, report_cleanup_failure, NULL, NULL);
  if (G_IS_VALUE (&result))
    g_value_unset (&result);
  finally_settle (step, promise, upstream, error);
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

  /* Cancelled meanwhile, this step or a later one (which cancels what it
   * waits on, and so on up to here): nothing to compute. A finally step
   * runs all the same: it runs whatever the outcome. */
  if (concurry_future_is_done (CONCURRY_FUTURE (step->promise)))
    {
      if (step->kind == STEP_FINALLY)
        ((ConcurryFutureCallback)step->func) (upstream, step->user_data);
      else if (step->kind == STEP_FINALLY_THEN)
        {
          finally_then_run (step, upstream, TRUE);
          return;
        }
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

    case STEP_FINALLY_THEN:
      finally_then_run (step, upstream, FALSE);
      return;

    case STEP_FINALLY:
    default:
      ((ConcurryFutureCallback)step->func) (upstream, step->user_data);
      break;
    }

  /* Not this step's case: the outcome goes down the chain unchanged. */
  {
    ConcurryPromise *promise = g_steal_pointer (&step->promise);

    _concurry_mirror (upstream, promise);
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

/* Every public entry point: checks its arguments (a critical naming
 * @caller and NULL on a bad one), then adds the step. */
static ConcurryFuture *
chain (ConcurryFuture *self,
       StepKind        kind,
       gpointer        func,
       gpointer        user_data,
       GDestroyNotify  destroy,
       const char     *caller)
{
  ConcurryPromise *promise;
  Step *step;

  if (_concurry_future_check_core (self, caller) == NULL)
    return NULL;
  if (func == NULL)
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, caller, "func != NULL");
      return NULL;
    }

  promise = concurry_promise_new ();
  step = g_new0 (Step, 1);

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
  return chain (self, STEP_AND_THEN, func, user_data, destroy, G_STRFUNC);
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
  return chain (self, STEP_MAP, func, user_data, destroy, G_STRFUNC);
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
  return chain (self, STEP_CATCH, func, user_data, destroy, G_STRFUNC);
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
 * @func runs exactly once on every outcome: a value, a failure, a
 * cancellation of @self, and also a cancellation of the returned future or
 * of any later step of the chain, which cancels up the chain to @self:
 * @func then gets @self cancelled (or with the outcome it had, if it was
 * done already), and the returned future stays cancelled.
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
  return chain (self, STEP_FINALLY, func, user_data, destroy, G_STRFUNC);
}

/**
 * concurry_future_finally_then:
 * @self: a [iface@Concurry.Future]
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   clean-up to run whatever the outcome
 * @user_data: data for @func
 * @destroy: (nullable): a function to free @user_data with
 *
 * Like [method@Concurry.Future.finally_do], but the clean-up can fail or
 * take time, as in a `finally` block or JavaScript's
 * `Promise.prototype.finally()`.
 *
 * @func runs once @self is done, whatever its outcome, exactly once (also
 * when the returned future or a later step is cancelled, see
 * [method@Concurry.Future.finally_do]). It gets @self; a value it stores
 * in @result is ignored, except a [iface@Concurry.Future], which the chain
 * waits for. The returned future then gets the outcome of @self,
 * unchanged, unless @func set @error or the future it returned failed:
 * that error replaces a value or a failure (whose error counts as looked
 * at). A cancellation stays a cancellation; an error of @func is then
 * reported with a warning, as a failure nobody looked at is.
 *
 * Cancelling the returned future while the chain waits for the clean-up
 * future cancels that future.
 *
 * Returns: (transfer full): the future at the end of the chain
 *
 * Since: 0.2
 */
ConcurryFuture *
concurry_future_finally_then (ConcurryFuture    *self,
                              ConcurryChainFunc  func,
                              gpointer           user_data,
                              GDestroyNotify     destroy)
{
  return chain (self, STEP_FINALLY_THEN, func, user_data, destroy, G_STRFUNC);
}
