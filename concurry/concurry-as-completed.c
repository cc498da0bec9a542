/* concurry-as-completed.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-as-completed.h"
#include "concurry-combinators.h"
#include "concurry-fan-in-private.h"
#include "concurry-i18n-private.h"
#include "concurry-platform-private.h"
#include "concurry-promise.h"
#include "concurry-ptr-set-private.h"

/**
 * ConcurryAsCompleted:
 *
 * The futures of a group, one at a time, in the order they complete.
 *
 * Made with [func@Concurry.as_completed]. Each call of
 * [method@Concurry.AsCompleted.next] (blocking) or
 * [method@Concurry.AsCompleted.next_async] gives the next future to be done,
 * each distinct future once: those already done first, in the order given,
 * then the others as they complete. The deadline is absolute, counted from
 * the creation; once it passes, `next()` fails with `G_IO_ERROR_TIMED_OUT`
 * and a message saying how many futures are unfinished. A future that was
 * given out is no longer referenced by the iterator.
 *
 * ```js
 * Gio._promisify(Concurry.AsCompleted.prototype, 'next_async', 'next_finish');
 * const it = Concurry.as_completed(futures, -1);
 * for (let f; (f = await it.next_async(null)) !== null;)
 *     print(f.get_value());
 * ```
 *
 * Since: 0.1
 */
/* What the inputs' callbacks share with the iterator: one reference
 * counted box rather than a weak reference per input, which would make
 * registering N futures cost N² (GObject keeps weak references in a list).
 * The callbacks are counted in by a ConcurryFanIn, as for the groups of
 * wait and gather: borrowed nodes in blocks of the box, which hold one
 * reference on it together.
 *
 * The futures completed are queued in an array sized once for all: each
 * distinct input is queued once, so queueing one allocates nothing. The
 * threads that complete them append under the lock, then publish the new
 * length (n_completed, atomic). The iterator takes them from the front
 * without the lock: it only takes it to sleep when it has caught up, so a
 * consumer that keeps up with the producers does not contend with them
 * for it once per future.
 *
 * What the producers write and what the iterator writes are in cache
 * lines of their own (PADDING apart), with n_completed, which both use,
 * on a third. When one thread writes a line that another keeps reading,
 * the line goes back and forth between their cores, each time the other
 * one touches it. The iterator's counts used to be in the iterator
 * object, allocated next to this structure, and it read the queue's
 * address from the producers' line: for each future, a producer that
 * the consumer kept up with waited for lines it had just given away, and
 * resolved its promises 3-4 times slower than on its own
 * (bench-combinators as_completed, 10^5 futures). */
#define PADDING 64

typedef struct
{
  /* The producers': written with the lock held. */
  gatomicrefcount   ref_count;
  GMutex            mutex;
  ConcurryFuture  **completed;    /* references, completion order */
  ConcurryPromise  *signal;       /* completed when something is queued */
  gboolean          closed;       /* the iterator is gone */
  ConcurryFanIn     fan_in;       /* one node per input registered on */

  char              padding1[PADDING];
  guint             n_completed;  /* written with the lock, atomic */
  char              padding2[PADDING];

  /* The iterator's (atomic: next() may be called from several threads). */
  ConcurryFuture  **queue;        /* = completed, read here only */
  guint             n_given;      /* the futures given out */
  guint             n_seen;       /* n_completed, as last read */
  guint             spins_per_look;  /* see next_until() */
  char              padding3[PADDING];
} Channel;

struct _ConcurryAsCompleted
{
  GObject  parent_instance;
  Channel *channel;
  guint    n_distinct;
  gint64   deadline;
};

static Channel *
channel_ref (Channel *channel)
{
  g_atomic_ref_count_inc (&channel->ref_count);
  return channel;
}

static void
channel_unref (gpointer data)
{
  Channel *channel = data;

  if (g_atomic_ref_count_dec (&channel->ref_count))
    {
      /* The references left were dropped by the iterator. */
      g_free (channel->completed);
      _concurry_fan_in_clear (&channel->fan_in);
      g_clear_object (&channel->signal);
      g_mutex_clear (&channel->mutex);
      g_free (channel);
    }
}

/* How long a consumer that caught up spins for the next future before it
 * sleeps, in pauses: NEXT_SPINS, or two looks if that is more, 3-40 µs (a
 * PAUSE takes 10-140 cycles, depending on the processor): room for many
 * producers' items, and less than a sleep and a wake-up. It looks at the
 * producers' count every SPINS_PER_LOOK_MIN to _MAX pauses (see
 * _concurry_platform_spin_until_changed()): as long as the next future
 * comes by the first look, the producer is streaming, and the consumer
 * looks half as often each time, so that it takes more futures at each
 * look, up to 5-20 µs apart; when the first look finds nothing, twice as
 * often again.
 *
 * Once it looks that rarely, the consumer naps for STREAM_NAP_USEC (more,
 * with the kernel's timer slack, 50 µs for most threads) instead of
 * spinning, as long as each nap ends with futures to take, and it starts
 * so after the producer woke it up from a sleep. A consumer that spins
 * while the producer streams burns a core to take each future a few
 * microseconds earlier, and one that sleeps each time it catches up
 * makes the producer wake it up (a system call) for every few futures:
 * a consumer that spun for less than that system call took slept
 * again at once, to be woken for the next single future, thousands of
 * times in a row. Napping, it takes the futures in bunches of hundreds,
 * and the producer runs on alone; the cost is a delay of some tens of
 * microseconds on futures that come in a stream. (A thread that owns its
 * main context does not iterate it during a nap.) */
#define NEXT_SPINS          256
#define SPINS_PER_LOOK_MIN  64
#define SPINS_PER_LOOK_MAX  512
#define STREAM_NAP_USEC     20

G_DEFINE_FINAL_TYPE (ConcurryAsCompleted, concurry_as_completed, G_TYPE_OBJECT)

static void
concurry_as_completed_finalize (GObject *object)
{
  ConcurryAsCompleted *self = (ConcurryAsCompleted *)object;
  Channel *channel = self->channel;
  guint n_completed;

  /* Futures completing later are not collected any more: what is queued
   * stays as it is. */
  g_mutex_lock (&channel->mutex);
  channel->closed = TRUE;
  n_completed = channel->n_completed;
  g_mutex_unlock (&channel->mutex);
  for (guint i = g_atomic_int_get (&channel->n_given); i < n_completed; i++)
    g_object_unref (channel->completed[i]);
  channel_unref (channel);

  G_OBJECT_CLASS (concurry_as_completed_parent_class)->finalize (object);
}

static void
concurry_as_completed_class_init (ConcurryAsCompletedClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = concurry_as_completed_finalize;
}

static void
concurry_as_completed_init (ConcurryAsCompleted *self)
{
  self->channel = g_new0 (Channel, 1);
  g_atomic_ref_count_init (&self->channel->ref_count);
  g_mutex_init (&self->channel->mutex);
  self->channel->spins_per_look = SPINS_PER_LOOK_MIN;
}

/* Inline: on the thread that completed @future. */
static void
input_done (ConcurryFuture *future,
            gpointer        user_data)
{
  Channel *channel = user_data;
  ConcurryPromise *signal = NULL;
  ConcurryFuture *ref;
  gboolean last;

  /* Taken without the lock: an object's second reference may call into a
   * language binding (PyGObject's toggle reference takes Python's lock),
   * whose lock a thread waiting for this one may hold. */
  ref = g_object_ref (future);

  g_mutex_lock (&channel->mutex);
  if (!channel->closed)
    {
      channel->completed[channel->n_completed] = g_steal_pointer (&ref);
      g_atomic_int_set (&channel->n_completed, channel->n_completed + 1);
      signal = g_steal_pointer (&channel->signal);
    }
  last = _concurry_fan_in_count_out_locked (&channel->fan_in, 1);
  g_mutex_unlock (&channel->mutex);

  g_clear_object (&ref);

  if (signal != NULL)
    {
      concurry_promise_resolve (signal, NULL);
      g_object_unref (signal);
    }

  /* The reference of the nodes, this one's included: the last thing. */
  if (last)
    channel_unref (channel);
}

/**
 * concurry_as_completed:
 * @futures: (array length=n_futures): the futures
 * @n_futures: the number of futures
 * @timeout_usec: a time limit for the whole iteration, in microseconds
 *   from now: 0 gives only the futures already done, a negative value
 *   means none
 *
 * Starts iterating over @futures in completion order; see
 * [class@Concurry.AsCompleted].
 *
 * Returns: (transfer full): the iterator
 *
 * Since: 0.1
 */
ConcurryAsCompleted *
concurry_as_completed (ConcurryFuture **futures,
                       guint            n_futures,
                       gint64           timeout_usec)
{
  ConcurryAsCompleted *self;
  ConcurryDistinct distinct;
  Channel *channel;
  gboolean refused = FALSE;
  guint n_taken;

  g_return_val_if_fail (n_futures == 0 || futures != NULL, NULL);

  self = g_object_new (CONCURRY_TYPE_AS_COMPLETED, NULL);
  self->deadline = _concurry_deadline_from_timeout (timeout_usec);
  /* Reads the array only, not the futures: safe before they are checked.
   * The duplicates are mostly told apart in the pass below. */
  _concurry_distinct_init (&distinct, futures, n_futures);
  channel = self->channel;
  /* (Room for every input: duplicates are rare.) */
  channel->completed = g_new (ConcurryFuture *, n_futures);
  channel->queue = channel->completed;
  _concurry_fan_in_init (&channel->fan_in, n_futures);
  channel_ref (channel);

  /* One pass over the inputs, which checks them too: for a million of
   * them, each pass is a cache miss per input. Those already done are
   * queued right here, in the order given. The others get a node, added
   * with the lock held (a node is only added to an input not done yet,
   * and runs once the lock is let go); the lock is let go every
   * REGISTER_BATCH inputs anyway, so that the threads completing inputs
   * meanwhile are not kept waiting for the whole registration. */
#define REGISTER_BATCH 256
  g_mutex_lock (&channel->mutex);
  for (guint i = 0; i < n_futures; i++)
    {
      ConcurryCore *core;

      /* Both lines of the object header and the core: the list of
       * callbacks is often on the second one. */
      _concurry_prefetch_input (futures, i + CONCURRY_PREFETCH_DISTANCE, n_futures);
#if defined (__GNUC__) || defined (__clang__)
      if (i + CONCURRY_PREFETCH_DISTANCE < n_futures)
        __builtin_prefetch ((const char *)futures[i + CONCURRY_PREFETCH_DISTANCE] + 64, 1);
#endif
      core = _concurry_future_check_core (futures[i], "concurry_as_completed");
      if G_UNLIKELY (core == NULL)
        {
          refused = TRUE;
          break;
        }
      if (_concurry_distinct_seen (&distinct, i, futures[i]))
        continue;
      self->n_distinct++;
      if ((i + 1) % REGISTER_BATCH == 0)
        {
          g_mutex_unlock (&channel->mutex);
          g_mutex_lock (&channel->mutex);
        }
      if (!CONCURRY_FUTURE_STATE_IS_TERMINAL (_concurry_core_get_state (core)) &&
          _concurry_fan_in_try_register_locked (&channel->fan_in, futures[i], core,
                                                input_done, channel))
        continue;

      /* (Only callbacks, with the lock, read it before we return.) The
       * reference is taken without the lock: see input_done(). */
      g_mutex_unlock (&channel->mutex);
      g_object_ref (futures[i]);
      g_mutex_lock (&channel->mutex);
      channel->completed[channel->n_completed] = futures[i];
      g_atomic_int_set (&channel->n_completed, channel->n_completed + 1);
    }
#undef REGISTER_BATCH
  _concurry_distinct_clear (&distinct);

  if G_UNLIKELY (refused)
    {
      /* Not a future (a critical was logged): undo. Nodes that run from
       * now on queue nothing; the iterator's finalization drops what was
       * queued. */
      channel->closed = TRUE;
      g_mutex_unlock (&channel->mutex);
      n_taken = _concurry_fan_in_unlink (&channel->fan_in, channel->fan_in.n_nodes);
      if (_concurry_fan_in_count_out (&channel->fan_in, &channel->mutex, n_taken))
        channel_unref (channel);
      if (_concurry_fan_in_end_registering (&channel->fan_in, &channel->mutex))
        channel_unref (channel);
      g_object_unref (self);
      return NULL;
    }
  g_mutex_unlock (&channel->mutex);

  if (_concurry_fan_in_end_registering (&channel->fan_in, &channel->mutex))
    channel_unref (channel);

  return self;
}

/**
 * concurry_as_completed_get_n_remaining:
 * @self: a [class@Concurry.AsCompleted]
 *
 * Gets how many futures have not been given out yet.
 *
 * Returns: the number of futures still to come
 *
 * Since: 0.1
 */
guint
concurry_as_completed_get_n_remaining (ConcurryAsCompleted *self)
{
  g_return_val_if_fail (CONCURRY_IS_AS_COMPLETED (self), 0);

  return self->n_distinct - (guint)g_atomic_int_get (&self->channel->n_given);
}

/* The next future queued, if any. */
static ConcurryFuture *
take_completed (ConcurryAsCompleted *self)
{
  Channel *channel = self->channel;
  guint given;

  do
    {
      given = (guint)g_atomic_int_get (&channel->n_given);
      /* The producers' count is only read once those seen are given. */
      if (given >= (guint)g_atomic_int_get (&channel->n_seen))
        {
          guint n_completed = (guint)g_atomic_int_get (&channel->n_completed);

          if (given >= n_completed)
            return NULL;
          g_atomic_int_set (&channel->n_seen, n_completed);
        }
    }
  while (!g_atomic_int_compare_and_exchange ((gint *)&channel->n_given, (gint)given, (gint)given + 1));

  /* The caller is about to touch the future (to drop it, at least), and
   * a while after it was queued, it is cold: start fetching the one it
   * gets a few calls from now. */
  _concurry_prefetch_input (channel->queue, given + CONCURRY_PREFETCH_DISTANCE,
                            (guint)g_atomic_int_get (&channel->n_seen));

  return channel->queue[given];
}

/* The next future if one is ready (and sets *@exhausted when none will
 * ever come); otherwise a reference on the signal to wait on. */
static ConcurryFuture *
try_next (ConcurryAsCompleted  *self,
          gboolean             *exhausted,
          ConcurryPromise     **signal)
{
  Channel *channel = self->channel;
  ConcurryFuture *future;

  *exhausted = FALSE;
  *signal = NULL;

  future = take_completed (self);
  if (future != NULL)
    return future;

  /* Caught up: look again with the lock, which orders us with the
   * producers, before waiting for the next one. */
  g_mutex_lock (&channel->mutex);
  future = take_completed (self);
  if (future == NULL)
    {
      if ((guint)g_atomic_int_get (&channel->n_given) == self->n_distinct)
        *exhausted = TRUE;
      else
        {
          if (channel->signal == NULL)
            channel->signal = concurry_promise_new ();
          *signal = g_object_ref (channel->signal);
        }
    }
  g_mutex_unlock (&channel->mutex);

  return future;
}

static void
set_timed_out (ConcurryAsCompleted  *self,
               GError              **error)
{
  guint remaining = concurry_as_completed_get_n_remaining (self);

  /* Translators: like concurrent.futures: "2 (of 4) futures unfinished" */
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
               _("%u (of %u) futures unfinished"), remaining, self->n_distinct);
}

/* Waits a little for the next future without the lock, as a consumer
 * that caught up does (see NEXT_SPINS): napping while the producers
 * stream, spinning otherwise. Returns TRUE if one came (or may have). */
static gboolean
wait_briefly (Channel *channel,
              gint64   deadline)
{
  guint per_look = (guint)g_atomic_int_get (&channel->spins_per_look);
  guint looks;

  if (per_look == SPINS_PER_LOOK_MAX &&
      (deadline < 0 || g_get_monotonic_time () + STREAM_NAP_USEC < deadline))
    {
      int seen = g_atomic_int_get (&channel->n_given);

      g_usleep (STREAM_NAP_USEC);
      if (g_atomic_int_get (&channel->n_completed) != seen)
        return TRUE;
      per_look /= 2;
    }

  looks = _concurry_platform_spin_until_changed ((const int *)&channel->n_completed,
                                                 (int)g_atomic_int_get (&channel->n_given),
                                                 MAX (NEXT_SPINS, 2 * per_look), per_look);
  if (looks == 1)
    per_look = MIN (2 * per_look, SPINS_PER_LOOK_MAX);
  else
    per_look = MAX (per_look / 2, SPINS_PER_LOOK_MIN);
  /* (Several threads may iterate: this is only a hint.) */
  g_atomic_int_set (&channel->spins_per_look, per_look);

  return looks > 0;
}

/* concurry_as_completed_next_until() without the checks of the
 * arguments: for each future given, next() does not pay for them twice. */
static ConcurryFuture *
next_until (ConcurryAsCompleted  *self,
            gint64                deadline_usec,
            GError              **error)
{
  Channel *channel = self->channel;
  gint64 deadline;

  if (deadline_usec < 0 || (self->deadline >= 0 && self->deadline <= deadline_usec))
    deadline = self->deadline;
  else
    deadline = deadline_usec;

  for (;;)
    {
      g_autoptr(ConcurryPromise) signal = NULL;
      ConcurryFuture *future;
      gboolean exhausted;

      /* Without the lock first, and for a moment before sleeping: when
       * the inputs come quickly, one after the other, the lock and the
       * signal are left to the producers alone (a consumer that keeps up
       * with them would otherwise take the lock they take, and make
       * them a signal to complete, for each input), and they are spared
       * a wake-up for each. */
      future = take_completed (self);
      if (future != NULL)
        return future;
      if ((guint)g_atomic_int_get (&channel->n_given) == self->n_distinct)
        return NULL;
      if (wait_briefly (channel, deadline))
        continue;

      future = try_next (self, &exhausted, &signal);
      if (future != NULL || exhausted)
        return future;

      if (concurry_future_wait_until (CONCURRY_FUTURE (signal), deadline, NULL))
        {
          /* Woken by a producer, which paid a system call for it and may
           * be in it still: nap, the next time, rather than spin for less
           * than that and sleep again, to be woken for each future. */
          g_atomic_int_set (&channel->spins_per_look, SPINS_PER_LOOK_MAX);
        }
      else
        {
          /* Last chance: something may have come with the deadline. */
          g_clear_object (&signal);
          future = try_next (self, &exhausted, &signal);
          if (future != NULL || exhausted)
            return future;
          if (deadline == self->deadline)
            set_timed_out (self, error);
          return NULL;
        }
    }
}

/**
 * concurry_as_completed_next:
 * @self: a [class@Concurry.AsCompleted]
 * @error: return location for a `GError`
 *
 * Blocks until another future is done and gives it. Waiting follows
 * [method@Concurry.Future.wait]: a thread that owns its main context keeps
 * it running meanwhile.
 *
 * Returns: (transfer full) (nullable): the next future to complete, or
 *   %NULL when all were given (no error) or the deadline passed
 *   (`G_IO_ERROR_TIMED_OUT`)
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_as_completed_next (ConcurryAsCompleted  *self,
                            GError              **error)
{
  g_return_val_if_fail (CONCURRY_IS_AS_COMPLETED (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return next_until (self, -1, error);
}

/**
 * concurry_as_completed_next_until:
 * @self: a [class@Concurry.AsCompleted]
 * @deadline_usec: when to stop waiting, in the monotonic time of
 *   `g_get_monotonic_time()`, or a negative value for no other limit than
 *   the deadline of @self
 * @error: return location for a `GError`
 *
 * Like [method@Concurry.AsCompleted.next], but waits at most until
 * @deadline_usec as well. When that deadline passes first, this call
 * returns %NULL with no error and @self is not affected:
 * [method@Concurry.AsCompleted.get_n_remaining] is still above 0, and the
 * next call goes on where this one left off. (When the deadline of @self
 * passes, @self is exhausted with `G_IO_ERROR_TIMED_OUT`, as with
 * [method@Concurry.AsCompleted.next].)
 *
 * Language bindings wait in slices like this, to let their own
 * interruptions through without an error to convert.
 *
 * Returns: (transfer full) (nullable): the next input to complete, or
 *   %NULL when all were given, a deadline passed (then with
 *   `G_IO_ERROR_TIMED_OUT` for the deadline of @self)
 *
 * Since: 0.2
 */
ConcurryFuture *
concurry_as_completed_next_until (ConcurryAsCompleted  *self,
                                  gint64                deadline_usec,
                                  GError              **error)
{
  g_return_val_if_fail (CONCURRY_IS_AS_COMPLETED (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return next_until (self, deadline_usec, error);
}

static void next_async_step (GTask *task);

static void
signal_ready_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!concurry_future_wait_finish (CONCURRY_FUTURE (object), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_error (task, error);
  else
    {
      g_clear_error (&error);
      next_async_step (task);
    }

  g_object_unref (task);
}

static void
next_async_step (GTask *task)
{
  ConcurryAsCompleted *self = g_task_get_source_object (task);
  g_autoptr(ConcurryPromise) signal = NULL;
  g_autoptr(ConcurryFuture) timed = NULL;
  ConcurryFuture *future;
  gboolean exhausted;

  future = try_next (self, &exhausted, &signal);
  if (future != NULL || exhausted)
    {
      g_task_return_pointer (task, future, g_object_unref);
      return;
    }

  if (self->deadline >= 0 && g_get_monotonic_time () >= self->deadline)
    {
      GError *error = NULL;

      set_timed_out (self, &error);
      g_task_return_error (task, error);
      return;
    }

  /* Wait for the signal, bounded by the deadline. */
  timed = self->deadline < 0
    ? g_object_ref (CONCURRY_FUTURE (signal))
    : concurry_future_with_timeout (CONCURRY_FUTURE (signal), self->deadline - g_get_monotonic_time ());
  concurry_future_wait_async (timed, g_task_get_cancellable (task), signal_ready_cb, g_object_ref (task));
}

/**
 * concurry_as_completed_next_async:
 * @self: a [class@Concurry.AsCompleted]
 * @cancellable: (nullable): a `GCancellable` to stop waiting with
 * @callback: (scope async) (closure user_data): called with the next future
 * @user_data: data for @callback
 *
 * Waits without blocking for the next future to complete; get it with
 * [method@Concurry.AsCompleted.next_finish].
 *
 * Since: 0.1
 */
void
concurry_as_completed_next_async (ConcurryAsCompleted *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONCURRY_IS_AS_COMPLETED (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, concurry_as_completed_next_async);
  /* A future taken from the queue must be given, even if the cancellable
   * fires meanwhile: otherwise it would be lost. */
  g_task_set_check_cancellable (task, FALSE);
  next_async_step (task);
}

/**
 * concurry_as_completed_next_finish:
 * @self: a [class@Concurry.AsCompleted]
 * @result: the `GAsyncResult` given to the callback
 * @error: return location for a `GError`
 *
 * Finishes [method@Concurry.AsCompleted.next_async].
 *
 * Returns: (transfer full) (nullable): the next future, or %NULL when all
 *   were given (no error), the deadline passed (`G_IO_ERROR_TIMED_OUT`) or
 *   the wait was cancelled
 *
 * Since: 0.1
 */
ConcurryFuture *
concurry_as_completed_next_finish (ConcurryAsCompleted  *self,
                                   GAsyncResult         *result,
                                   GError              **error)
{
  g_return_val_if_fail (CONCURRY_IS_AS_COMPLETED (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == concurry_as_completed_next_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
