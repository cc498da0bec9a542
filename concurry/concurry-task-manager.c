/* concurry-task-manager.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-task-manager.h"
#include "concurry-enum-types.h"
#include "concurry-error.h"
#include "concurry-executor-private.h"
#include "concurry-future-private.h"
#include "concurry-i18n-private.h"
#include "concurry-platform-private.h"
#include "concurry-main-context-executor.h"
#include "concurry-promise.h"
#include "concurry-task-manager-private.h"
#include "concurry-task-private.h"
#include "concurry-work-queue-private.h"

/**
 * ConcurryTaskManager:
 *
 * Runs many tasks on an executor and keeps watch over them: progress, an
 * error policy, backpressure for long inputs, and a record of every task.
 *
 * A task manager sits on top of any [iface@Concurry.Executor]. Work goes
 * in through [method@Concurry.TaskManager.submit] (a function),
 * [method@Concurry.TaskManager.submit_input] (a function and its input) or
 * [method@Concurry.TaskManager.map] (a function over a lazily read input);
 * each piece of work becomes a [class@Concurry.Task].
 *
 * ## Backpressure
 *
 * [method@Concurry.TaskManager.map] reads its input only as tasks finish:
 * at most [property@Concurry.TaskManager:max-in-flight] of its tasks are
 * unfinished at any time, so an input of a billion items runs in bounded
 * memory (turn [property@Concurry.TaskManager:keep-completed] off for that,
 * or the finished tasks themselves pile up). The input is read on the
 * thread that calls map(), on the manager's main context, and on threads
 * blocked in [method@Concurry.TaskManager.wait] or
 * [method@Concurry.TaskManager.next_completed]; never on the executor's
 * workers, and never by two threads at once.
 *
 * ## Errors
 *
 * What a failure does is the [enum@Concurry.ErrorPolicy] given at
 * construction. With %CONCURRY_ERROR_POLICY_RAISE the first failure stops
 * everything (fail fast): the tasks that have not started are cancelled,
 * the input is no longer read, and every wait, [method@Concurry.TaskManager.join]
 * and later submission fails at once with the task's error. With
 * %CONCURRY_ERROR_POLICY_LOG each failure is logged once, as a structured
 * record with the fields `CONCURRY_TASK` (the task's number),
 * `CONCURRY_ERROR_DOMAIN`, `CONCURRY_ERROR_CODE` and the message; work
 * goes on. With %CONCURRY_ERROR_POLICY_IGNORE work just goes on.
 *
 * ## Progress and monitoring
 *
 * The properties [property@Concurry.TaskManager:n-submitted],
 * [property@Concurry.TaskManager:n-completed],
 * [property@Concurry.TaskManager:n-failed],
 * [property@Concurry.TaskManager:n-cancelled],
 * [property@Concurry.TaskManager:running] and
 * [property@Concurry.TaskManager:fraction] follow the work. Their
 * notifications are emitted on the manager's main context (the
 * thread-default context of the thread that made it), at most 60 times a
 * second however fast tasks finish, so a progress bar can be bound to the
 * manager directly:
 *
 * ```c
 * g_object_bind_property (manager, "fraction", progress_bar, "fraction", G_BINDING_SYNC_CREATE);
 * ```
 *
 * Every [property@Concurry.TaskManager:monitor-interval] seconds while
 * there is work, the manager logs (at the info level, domain `Concurry`)
 * how many tasks completed and failed in that time.
 *
 * ## Finished tasks
 *
 * The manager is a `GListModel` of its finished tasks, in the order they
 * finished: it grows on its main context (with `items-changed`), so it can
 * feed a `GtkListView`. [method@Concurry.TaskManager.next_completed] and
 * its asynchronous variant hand out the same tasks one by one, as they
 * finish, on any thread.
 *
 * ## Ending
 *
 * [method@Concurry.TaskManager.wait] blocks until all the work given so
 * far is done; [method@Concurry.TaskManager.join] also closes the manager
 * first; [method@Concurry.TaskManager.shutdown] and
 * [method@Concurry.TaskManager.cancel] act as the executor's shutdown and a
 * future's cancel do. Every task ends exactly once, in one of the
 * terminal states of a future. The manager does not shut its executor
 * down: the executor may be shared.
 *
 * A manager with unfinished tasks holds a reference on itself. Drop your
 * last reference after the work is done (after a wait or a join), on the
 * thread that made the manager.
 *
 * Since: 0.2
 */

/* Notifications and items-changed are published at most this often. */
#define PUBLISH_INTERVAL_USEC (G_USEC_PER_SEC / 60)

#define DEFAULT_MONITOR_INTERVAL 2

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConcurryTaskManager, concurry_task_manager, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_EXECUTOR,
  PROP_ERROR_POLICY,
  PROP_MAX_IN_FLIGHT,
  PROP_MONITOR_INTERVAL,
  PROP_KEEP_COMPLETED,
  PROP_N_SUBMITTED,
  PROP_N_COMPLETED,
  PROP_N_FAILED,
  PROP_N_CANCELLED,
  PROP_RUNNING,
  PROP_FRACTION,
  PROP_ITEM_TYPE,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void schedule_publish_locked (ConcurryTaskManager *self);

/* -- maps -- */

static ConcurryTaskMap *
task_map_ref (ConcurryTaskMap *map)
{
  g_atomic_ref_count_inc (&map->ref_count);
  return map;
}

static void
task_map_drop_input (ConcurryTaskMap *map)
{
  GDestroyNotify destroy = map->input_destroy;
  gpointer data = map->input_data;

  map->input = NULL;
  map->input_destroy = NULL;
  map->input_data = NULL;
  if (destroy != NULL)
    destroy (data);
}

void
_concurry_task_map_unref (ConcurryTaskMap *map)
{
  if (!g_atomic_ref_count_dec (&map->ref_count))
    return;

  task_map_drop_input (map);
  if (map->func_destroy != NULL)
    map->func_destroy (map->func_data);
  g_free (map);
}

/* -- progress -- */

static double
fraction_locked (ConcurryTaskManager *self)
{
  guint64 total = _concurry_task_manager_n_submitted_locked (self);

  if (self->n_maps_unsized > 0)
    return 0.0;
  for (ConcurryTaskMap *map = self->maps; map != NULL; map = map->next)
    total += map->n_remaining;
  if (total == 0)
    return 0.0;

  return (double)self->n_completed / (double)total;
}

static void
progress_locked (ConcurryTaskManager  *self,
                 ConcurryTaskProgress *progress)
{
  progress->n_submitted = _concurry_task_manager_n_submitted_locked (self);
  progress->n_completed = self->n_completed;
  progress->n_failed = self->n_failed;
  progress->n_cancelled = self->n_cancelled;
  progress->running = _concurry_task_manager_is_running_locked (self);
  progress->fraction = fraction_locked (self);
}

/* Wakes up whoever waits for a change (blocking or asynchronous waits).
 * Called with the lock held; returns the promise to resolve once it is
 * released. */
static ConcurryPromise *
take_change_locked (ConcurryTaskManager *self)
{
  return g_steal_pointer (&self->change);
}

static void
signal_change (ConcurryPromise *change)
{
  if (change == NULL)
    return;
  concurry_promise_resolve_boolean (change, TRUE);
  g_object_unref (change);
}

/* -- publishing on the main context -- */

/* The sources of a manager find it through a weak reference: the last
 * reference to the manager may be dropped on any thread, while one of
 * them is about to dispatch. */
typedef struct
{
  GSource  source;
  GWeakRef manager;
} ManagerSource;

static void
manager_source_finalize (GSource *source)
{
  g_weak_ref_clear (&((ManagerSource *)source)->manager);
}

static ConcurryTaskManager *
manager_source_get (GSource *source)
{
  return g_weak_ref_get (&((ManagerSource *)source)->manager);
}

static void publish (ConcurryTaskManager *self);

static gboolean
publish_dispatch (GSource     *source,
                  GSourceFunc  callback,
                  gpointer     user_data)
{
  ConcurryTaskManager *self = manager_source_get (source);

  g_source_set_ready_time (source, -1);
  if (self == NULL)
    return G_SOURCE_REMOVE;

  publish (self);
  g_object_unref (self);

  return G_SOURCE_CONTINUE;
}

/* When the publication that is scheduled will run (its ready time), or
 * -1 if none is: see concurry-task-manager-waiting.c. */
gint64
_concurry_task_manager_publication_due (ConcurryTaskManager *self)
{
  gint64 due;

  if (self->publish_source == NULL)
    return -1;
  g_mutex_lock (&self->mutex);
  due = g_atomic_int_get (&self->publish_scheduled)
        ? self->last_publish + PUBLISH_INTERVAL_USEC : -1;
  g_mutex_unlock (&self->mutex);

  return due;
}

/* Emits the changes since the last publication, on the manager's
 * context. */
static void
publish (ConcurryTaskManager *self)
{
  ConcurryTaskProgress now, before;
  guint old_n, new_n;

  g_mutex_lock (&self->mutex);
  /* before the counters are read: see publish_submitted() */
  g_atomic_int_set (&self->publish_scheduled, FALSE);
  self->last_publish = g_get_monotonic_time ();
  progress_locked (self, &now);
  old_n = self->n_published;
  new_n = self->completed->len;
  self->n_published = new_n;
  g_mutex_unlock (&self->mutex);

  before = self->published;
  self->published = now;
  self->n_publications++;
  self->publishing = TRUE;

  if (new_n != old_n)
    g_list_model_items_changed (G_LIST_MODEL (self), old_n, 0, new_n - old_n);

  g_object_freeze_notify (G_OBJECT (self));
  if (new_n != old_n)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_N_ITEMS]);
  if (now.n_submitted != before.n_submitted)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_N_SUBMITTED]);
  if (now.n_completed != before.n_completed)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_N_COMPLETED]);
  if (now.n_failed != before.n_failed)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_N_FAILED]);
  if (now.n_cancelled != before.n_cancelled)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_N_CANCELLED]);
  if (now.running != before.running)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_RUNNING]);
  if (now.fraction != before.fraction)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_FRACTION]);
  g_object_thaw_notify (G_OBJECT (self));
  self->publishing = FALSE;
}

static GSourceFuncs publish_funcs = {
  .dispatch = publish_dispatch,
  .finalize = manager_source_finalize,
};

/* With the lock held. The ready time keeps publications PUBLISH_INTERVAL_USEC
 * apart, whatever the rate of changes. */
static void
schedule_publish_locked (ConcurryTaskManager *self)
{
  if (g_atomic_int_get (&self->publish_scheduled))
    return;
  g_atomic_int_set (&self->publish_scheduled, TRUE);

  if (self->publish_source != NULL)
    g_source_set_ready_time (self->publish_source, self->last_publish + PUBLISH_INTERVAL_USEC);
}

static gboolean
refill_dispatch (GSource     *source,
                 GSourceFunc  callback,
                 gpointer     user_data)
{
  ConcurryTaskManager *self = manager_source_get (source);

  g_source_set_ready_time (source, -1);
  if (self == NULL)
    return G_SOURCE_REMOVE;
  _concurry_task_manager_refill (self);
  g_object_unref (self);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs refill_funcs = {
  .dispatch = refill_dispatch,
  .finalize = manager_source_finalize,
};

static GSource *
attach_source (ConcurryTaskManager *self,
               GSourceFuncs        *funcs,
               const char          *name,
               int                  priority)
{
  GSource *source = g_source_new (funcs, sizeof (ManagerSource));

  g_weak_ref_init (&((ManagerSource *)source)->manager, self);
  g_source_set_static_name (source, name);
  g_source_set_priority (source, priority);
  g_source_attach (source, self->context);

  return source;
}

/* -- monitoring -- */

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

static gboolean
monitor_tick (gpointer user_data)
{
  g_autoptr(ConcurryTaskManager) self = g_weak_ref_get (user_data);
  guint64 completed, failed;
  gboolean running;
  char *message;
  char completed_text[24], failed_text[24], interval_text[16];

  if (self == NULL)
    return G_SOURCE_REMOVE;

  g_mutex_lock (&self->mutex);
  completed = self->n_completed - self->monitor_completed;
  failed = self->n_failed - self->monitor_failed;
  self->monitor_completed = self->n_completed;
  self->monitor_failed = self->n_failed;
  running = _concurry_task_manager_is_running_locked (self);
  g_mutex_unlock (&self->mutex);

  if (!running && completed == 0)
    return G_SOURCE_CONTINUE;

  /* Numbers go into the messages as text: gettext cannot extract
   * G_GUINT64_FORMAT. */
  g_snprintf (completed_text, sizeof completed_text, "%" G_GUINT64_FORMAT, completed);
  g_snprintf (failed_text, sizeof failed_text, "%" G_GUINT64_FORMAT, failed);
  g_snprintf (interval_text, sizeof interval_text, "%u", self->monitor_interval);

  /* Translators: the first part of a progress line, for example "12 tasks
   * completed in the last 2 seconds"; %s is a number */
  message = g_strdup_printf (_concurry_ngettext ("%s task completed",
                                                 "%s tasks completed",
                                                 (gulong) MIN (completed, G_MAXULONG)),
                             completed_text);
  if (failed > 0)
    {
      char *with_failures;

      /* Translators: appended to "N tasks completed"; the second %s is a
       * number */
      with_failures = g_strdup_printf (_concurry_ngettext ("%s, %s failed,",
                                                           "%s, %s failed,",
                                                           (gulong) MIN (failed, G_MAXULONG)),
                                       message, failed_text);
      g_free (message);
      message = with_failures;
    }

  /* Values of fields other than MESSAGE are plain strings. */
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
                    "CONCURRY_TASKS_COMPLETED", completed_text,
                    "CONCURRY_TASKS_FAILED", failed_text,
                    "CONCURRY_MONITOR_INTERVAL", interval_text,
                    /* Translators: %s is "N tasks completed", the number
                     * is a count of seconds */
                    "MESSAGE", _concurry_ngettext ("%s in the last %u second",
                                                   "%s in the last %u seconds",
                                                   self->monitor_interval),
                    message, self->monitor_interval);
  g_free (message);

  return G_SOURCE_CONTINUE;
}

static void
restart_monitor (ConcurryTaskManager *self)
{
  if (self->monitor_source != NULL)
    {
      g_source_destroy (self->monitor_source);
      g_clear_pointer (&self->monitor_source, g_source_unref);
    }

  if (self->monitor_interval == 0 || self->context == NULL)
    return;

  GWeakRef *weak = g_new0 (GWeakRef, 1);

  g_weak_ref_init (weak, self);
  self->monitor_source = g_timeout_source_new_seconds (self->monitor_interval);
  g_source_set_callback (self->monitor_source, monitor_tick, weak, weak_ref_free);
  g_source_set_static_name (self->monitor_source, "[concurry] task monitor");
  g_source_attach (self->monitor_source, self->context);
}

static void
log_failure (ConcurryTask *task,
             const GError *error)
{
  char index_text[24], code_text[16];

  g_snprintf (index_text, sizeof index_text, "%" G_GUINT64_FORMAT, task->index);
  g_snprintf (code_text, sizeof code_text, "%d", error->code);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
                    "CONCURRY_TASK", index_text,
                    "CONCURRY_ERROR_DOMAIN", g_quark_to_string (error->domain),
                    "CONCURRY_ERROR_CODE", code_text,
                    /* Translators: the number of a task and its error message */
                    "MESSAGE", _("Task %s failed: %s"),
                    index_text, error->message);
}

/* -- tasks -- */

/*
 * The life of a task costs one GObject, the task, as a bare submit costs
 * one future. On concurry's own executors (those with a work queue) the
 * task is the queued item itself (see ConcurryTask): the executor runs
 * task_run() on it, which calls the user's function, and completes the
 * task with the outcome. On another executor, task_run_elsewhere() is
 * submitted with the task as its data, and completes the task itself.
 *
 * Whatever completes a task, the work ending, a cancel or a refusal, has
 * it counted at once by the thread that completed it (the core calls
 * _concurry_task_manager_task_completed(): no done callback). The user's
 * data is dropped before a task that ran is counted.
 *
 * The manager holds a reference on each unfinished task (given to the
 * counting) and one on itself while it has unfinished tasks: the counting
 * is the last thing a task does with its manager.
 */

/* Frees the data of the work, once: user code, never with a lock. */
static void
task_drop_work (gpointer data)
{
  ConcurryTask *task = data;
  GDestroyNotify destroy = g_steal_pointer (&task->destroy);
  gpointer user_data = g_steal_pointer (&task->user_data);

  if (destroy != NULL)
    destroy (user_data);
}

/* Times the work of a task. Reading the clock costs as much as a fifth of
 * a trivial task on a pool: a task that starts back to back with the last
 * reading on its thread (the end of the task before it, or the start of
 * its batch) starts at that reading, and its end is the reading the next
 * one (or the drainer, for its batch) starts from. See
 * ConcurryWorkQueueClock. */
static void
task_call (ConcurryTask  *task,
           GCancellable  *cancellable,
           GValue        *value,
           GError       **error)
{
  guint64 seq = _concurry_work_queue_item_seq;
  ConcurryTaskMap *map = _concurry_task_get_map (task);

  if (seq != 0 && _concurry_work_queue_clock.seq + 1 == seq)
    task->start_time = _concurry_work_queue_clock.time;
  else
    task->start_time = g_get_monotonic_time ();
  if (map != NULL)
    map->func (task->input, cancellable, value, map->func_data, error);
  else if (task->input != NULL)
    task->func.map (task->input, cancellable, value, task->user_data, error);
  else
    task->func.work (cancellable, value, task->user_data, error);
  task->end_time = g_get_monotonic_time ();
  _concurry_work_queue_clock.time = task->end_time;
  _concurry_work_queue_clock.seq = seq;
}

/* The work of a task on concurry's executors, run by a worker once it
 * marked the task running; the worker then completes the task with
 * @value or @error (and drops nothing: see task_drop_work()). */
CONCURRY_THREAD_LOCAL ConcurryTaskManager *_concurry_task_manager_running_here;

static ConcurryTaskManager *task_get_manager (ConcurryTask *task);

/* A wait for every task of @self, from inside one of them, would wait for
 * itself: it fails at once instead, as an executor's shutdown does from
 * its own work. */
gboolean
_concurry_task_manager_refuse_own_wait (ConcurryTaskManager  *self,
                                        GError              **error)
{
  if G_LIKELY (_concurry_task_manager_running_here != self)
    return FALSE;
  g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_WRONG_THREAD,
                       _("Cannot wait for a task manager to finish from one of its own tasks"));
  return TRUE;
}

static void
task_run (GCancellable  *cancellable,
          GValue        *value,
          gpointer       user_data,
          GError       **error)
{
  ConcurryTask *task = user_data;
  ConcurryTaskManager *outer = _concurry_task_manager_running_here;

  _concurry_task_manager_running_here = task_get_manager (task);
  task_call (task, cancellable, value, error);
  task_drop_work (task);
  _concurry_task_manager_running_here = outer;
}

/* The same on another executor: the task is completed here, and the
 * other executor's future gets nothing. The task's cancel reaches the
 * work through its cancellable while it runs. */
static void
task_run_elsewhere (GCancellable  *cancellable,
                    GValue        *value,
                    gpointer       user_data,
                    GError       **error)
{
  ConcurryTask *task = user_data;
  ConcurryCore *core = &task->work.core;
  ConcurryTaskManager *outer;
  GValue outcome = G_VALUE_INIT;
  GError *failure = NULL;

  if (!_concurry_core_mark_running (core))
    return;      /* cancelled first */

  _concurry_core_attach_cancellable (core, cancellable);
  outer = _concurry_task_manager_running_here;
  _concurry_task_manager_running_here = task_get_manager (task);
  task_call (task, cancellable, &outcome, &failure);
  task_drop_work (task);
  _concurry_task_manager_running_here = outer;
  if (failure != NULL && G_IS_VALUE (&outcome))
    g_value_unset (&outcome);
  _concurry_core_complete (core, (ConcurryFuture *)task,
                           G_IS_VALUE (&outcome) ? &outcome : NULL, failure);
  /* once terminal: a cancel can no longer reach it */
  _concurry_core_detach_cancellable (core, cancellable);
}

/* The other executor let go of the work, which ran or not: a task whose
 * work never ran ends cancelled. Drops the submission's reference. */
static void
task_release_elsewhere (gpointer data)
{
  ConcurryTask *task = data;

  task_drop_work (task);
  /* Let go of during submit(): a refusal, which start_task() reports
   * with the executor's error. */
  if (!(g_atomic_int_and ((guint *)&task->flags, ~_CONCURRY_TASK_SUBMITTING) &
        _CONCURRY_TASK_SUBMITTING))
    _concurry_core_cancel (&task->work.core, (ConcurryFuture *)task);
  g_object_unref (task);
}

/*
 * The register of unfinished tasks, for stopping them (cancel, fail-fast,
 * shutdown). Each task has a slot, found from its number, in a chunk of
 * TASK_CHUNK_SIZE consecutive numbers; a chunk is in use until every one
 * of its numbers was given and counted.
 *
 * Why not a list: a submission takes no lock (see register_task()), and
 * linking or unlinking a task touches its neighbours, objects that other
 * threads wrote last. A slot is filled by the submitting thread without
 * the lock (most submissions find their chunk in current_chunk). Counting
 * a task does not empty its slot, which the submitting thread may be
 * writing beside: it sets the number's bit among the chunk's counted
 * ones, on a cache line of their own. A slot whose bit is set is never
 * looked into again (its task may be gone).
 *
 * A submission reads current_chunk without the lock, so chunks are only
 * ever reused, never freed, while the manager lives: a chunk that was
 * current is safe to look at, and one whose base is not the submission's
 * is not its chunk (a chunk is in use for one base at a time, and not
 * given back while a number of its base has not been counted). Spare
 * chunks cost 9 bytes per task at the peak of unfinished tasks, which take
 * twenty times as much themselves.
 */
#define TASK_CHUNK_SIZE 256
#define TASK_CHUNK_UNUSED G_MAXUINT64

struct _ConcurryTaskChunk
{
  guint64              base;      /* atomic: the number, less one, of slots[0];
                                   * TASK_CHUNK_UNUSED while spare */
  ConcurryTaskManager *manager;   /* borrowed, see ConcurryTask */
  /* read by every submission and finished task: away from what counting
   * writes */
  char               padding[64 - sizeof (guint64) - sizeof (gpointer)];
  guint              n_counted;   /* lock */
  ConcurryTaskChunk *prev;        /* the list of chunks in use, newest
                                   * first, or of spare ones (next only);
                                   * lock */
  ConcurryTaskChunk *next;
  guint64            counted[TASK_CHUNK_SIZE / 64];   /* lock */
  /* written by submissions, away from what counting writes */
  char               padding2[64];
  ConcurryTask      *slots[TASK_CHUNK_SIZE];   /* atomic */
};

/* The manager of a registered task. */
static ConcurryTaskManager *
task_get_manager (ConcurryTask *task)
{
  return task->chunk->manager;
}

/* The chunk for the numbers from @base; with the lock held. */
static ConcurryTaskChunk *
find_chunk_locked (ConcurryTaskManager *self,
                   guint64              base)
{
  ConcurryTaskChunk *chunk, *current, *prev = NULL, *next = self->chunks;

  /* newest first: a new chunk is almost always the newest */
  while (next != NULL && next->base > base)
    {
      prev = next;
      next = next->next;
    }
  if (next != NULL && next->base == base)
    {
      chunk = next;
      goto found;
    }

  if (self->spare_chunks != NULL)
    {
      chunk = self->spare_chunks;
      self->spare_chunks = chunk->next;
    }
  else
    chunk = g_new (ConcurryTaskChunk, 1);
  chunk->manager = self;
  memset (chunk->slots, 0, sizeof chunk->slots);
  memset (chunk->counted, 0, sizeof chunk->counted);
  chunk->n_counted = 0;
  chunk->prev = prev;
  chunk->next = next;
  if (prev != NULL)
    prev->next = chunk;
  else
    self->chunks = chunk;
  if (next != NULL)
    next->prev = chunk;
  _concurry_platform_atomic_set_u64 (&chunk->base, base);

found:
  /* the newest, for the next submissions (a chunk made late, for older
   * numbers, does not displace it) */
  current = self->current_chunk;
  if (current == NULL || current->base == TASK_CHUNK_UNUSED || current->base < base)
    g_atomic_pointer_set (&self->current_chunk, chunk);

  return chunk;
}

/* Gives @task its slot, once it has its number; with the lock held if
 * @locked, else without it. */
static void
place_task (ConcurryTaskManager *self,
            ConcurryTask        *task,
            gboolean             locked)
{
  guint64 number = task->index - 1;
  guint64 base = number - number % TASK_CHUNK_SIZE;
  ConcurryTaskChunk *chunk = g_atomic_pointer_get (&self->current_chunk);

  if (chunk == NULL || _concurry_platform_atomic_get_u64 (&chunk->base) != base)
    {
      if (!locked)
        _concurry_platform_mutex_lock_spinning (&self->mutex);
      chunk = find_chunk_locked (self, base);
      if (!locked)
        g_mutex_unlock (&self->mutex);
    }

  task->chunk = chunk;
  g_atomic_pointer_set (&chunk->slots[number - base], task);
}

/* Marks @number counted, in @chunk; with the lock held. */
static void
count_number_locked (ConcurryTaskManager *self,
                     ConcurryTaskChunk   *chunk,
                     guint64              number)
{
  guint64 i = number - 1 - chunk->base;

  chunk->counted[i / 64] |= G_GUINT64_CONSTANT (1) << (i % 64);
  if (++chunk->n_counted < TASK_CHUNK_SIZE)
    return;

  /* every number of the chunk was given and counted: spare */
  if (chunk->prev != NULL)
    chunk->prev->next = chunk->next;
  else
    self->chunks = chunk->next;
  if (chunk->next != NULL)
    chunk->next->prev = chunk->prev;
  _concurry_platform_atomic_set_u64 (&chunk->base, TASK_CHUNK_UNUSED);
  chunk->prev = NULL;
  chunk->next = self->spare_chunks;
  self->spare_chunks = chunk;
}

static void
free_chunks (ConcurryTaskChunk *chunk)
{
  while (chunk != NULL)
    {
      ConcurryTaskChunk *next = chunk->next;

      g_free (chunk);
      chunk = next;
    }
}

/* What stopping leaves to do once the lock is released: the tasks to
 * cancel and the maps to let go of. */
typedef struct
{
  GPtrArray       *tasks;
  gboolean         running_too;
  ConcurryTaskMap *maps;
} Stopped;

/* Takes @map off the list of maps reading input; with the lock held. The
 * list's reference goes to the caller. */
static void
unlist_map_locked (ConcurryTaskManager *self,
                   ConcurryTaskMap     *map)
{
  for (ConcurryTaskMap **p = &self->maps; *p != NULL; p = &(*p)->next)
    if (*p == map)
      {
        *p = map->next;
        break;
      }
  map->next = NULL;
  map->listed = FALSE;
  if (map->n_remaining < 0)
    self->n_maps_unsized--;
  map->n_remaining = 0;
}

/* Collects @task to cancel, if it is unfinished and, unless stopping
 * running tasks too, not started. With the lock held: the manager holds a
 * reference on the task (see start_task()), so the one taken here is never
 * a binding's first. */
static void
stop_task_locked (Stopped      *stopped,
                  ConcurryTask *task)
{
  int state;

  /* a task still being submitted checks the flag itself */
  if (!(g_atomic_int_get (&task->flags) & _CONCURRY_TASK_STARTED))
    return;
  state = _concurry_task_get_state (task);
  if (CONCURRY_FUTURE_STATE_IS_TERMINAL (state))
    return;
  if (stopped->running_too || state == CONCURRY_FUTURE_STATE_PENDING)
    g_ptr_array_add (stopped->tasks, g_object_ref (task));
}

/* Stops reading input and collects the unfinished tasks to
 * cancel (all of them, or those not started). With the lock held; see
 * finish_stop(). */
static Stopped *
stop_locked (ConcurryTaskManager *self,
             gboolean             running_too)
{
  Stopped *stopped = g_new0 (Stopped, 1);

  stopped->tasks = g_ptr_array_new_with_free_func (g_object_unref);
  stopped->running_too = running_too;
  g_atomic_int_set (&self->stopping, TRUE);
  while (self->maps != NULL)
    {
      ConcurryTaskMap *map = self->maps;

      unlist_map_locked (self, map);
      map->next = stopped->maps;
      stopped->maps = map;
    }

  for (ConcurryTaskChunk *chunk = self->chunks; chunk != NULL; chunk = chunk->next)
    for (guint i = 0; i < TASK_CHUNK_SIZE; i++)
      {
        ConcurryTask *task;

        if (chunk->counted[i / 64] & (G_GUINT64_CONSTANT (1) << (i % 64)))
          continue;
        task = g_atomic_pointer_get (&chunk->slots[i]);
        if (task != NULL)
          stop_task_locked (stopped, task);
      }

  return stopped;
}

/* Without the lock: watches, cancels and lets go. Counting the tasks may
 * end the manager's hold on itself: the caller must not use @self after
 * this unless it holds a reference. */
static void
finish_stop (Stopped *stopped)
{
  if (stopped == NULL)
    return;
  /* Counted on this thread, as each becomes cancelled. Not started ones
   * only, unless running ones too: the check and the cancel are one step. */
  for (guint i = 0; i < stopped->tasks->len; i++)
    {
      ConcurryTask *task = g_ptr_array_index (stopped->tasks, i);

      if (stopped->running_too)
        _concurry_core_cancel (&task->work.core, (ConcurryFuture *)task);
      else
        _concurry_core_cancel_pending (&task->work.core, (ConcurryFuture *)task);
    }
  g_ptr_array_unref (stopped->tasks);
  while (stopped->maps != NULL)
    {
      ConcurryTaskMap *map = stopped->maps;

      stopped->maps = map->next;
      map->next = NULL;
      _concurry_task_map_unref (map);    /* the list's reference; tasks keep theirs */
    }
  g_free (stopped);
}

/* Whether the manager's hold on itself ends, with the lock: no unfinished
 * task is left, and no thread still works on the manager after counting
 * some. Nothing else needs the manager alive: a task is counted by the
 * thread that put it into an empty inbox, or by one that emptied the inbox
 * it lay in, and no other thread touches the manager after its task is
 * in. The caller drops the reference once it is done with the manager.
 *
 * The hold and the numbers given to tasks are one atomic integer, which
 * submissions change without the lock: the hold ends only if it is
 * exactly "held, and every number given counted", so a submission taking
 * a number at the same time keeps it (see register_task()). */
static gboolean
let_go_locked (ConcurryTaskManager *self)
{
  guint64 numbered;

  if (self->n_busy > 0 || _concurry_task_manager_has_unfinished_locked (self))
    return FALSE;
  /* Every number given was counted: unless one is given meanwhile. */
  numbered = self->n_numbered_seen * _CONCURRY_TASK_MANAGER_ONE_NUMBER;
  return _concurry_platform_atomic_cas_u64 (&self->numbered,
                                            numbered | _CONCURRY_TASK_MANAGER_HOLDING,
                                            numbered);
}

/* Empties the inbox and counts the finished tasks it held in one hold of
 * the lock, then does what they call for without it. No user code but
 * the log writer. Returns the tasks the manager did not keep, linked by
 * inbox_next, with its reference to drop, and in @let_go whether the
 * manager's hold on itself ends.
 *
 * Once the lock is released, a task the manager kept may be gone (another
 * thread may count the last task and the manager be dropped): whatever is
 * left to do on tasks holds a reference, and on the manager keeps its hold
 * (see let_go_locked()). */
static ConcurryTask *
count_finished (ConcurryTaskManager *self,
                gboolean            *let_go)
{
  ConcurryTask *batch = NULL, *dropped = NULL, *head;
  GPtrArray *failed = NULL;
  Stopped *to_cancel = NULL;
  ConcurryPromise *change;
  gboolean need_refill = FALSE;
  gboolean woken, busy;

  g_mutex_lock (&self->mutex);

  /* newest first: in the order they finished */
  head = g_atomic_pointer_exchange (&self->inbox, NULL);
  while (head != NULL)
    {
      ConcurryTask *next = head->inbox_next;

      head->inbox_next = batch;
      batch = head;
      head = next;
    }

  while (batch != NULL)
    {
      ConcurryTask *task = batch;
      ConcurryFutureState state = task->final_state;
      ConcurryTaskMap *map;

      batch = task->inbox_next;
      task->inbox_next = NULL;

      count_number_locked (self, task->chunk, task->index);
      self->n_completed++;
      if (state == CONCURRY_FUTURE_STATE_FAILED)
        {
          /* read, whatever the policy: the task has seen its error */
          const GError *error = _concurry_task_get_error (task);

          self->n_failed++;
          if (self->error_policy == CONCURRY_ERROR_POLICY_RAISE && self->error == NULL)
            {
              self->error = g_error_copy (error);
              _concurry_task_manager_refuse_work_locked (self);
              to_cancel = stop_locked (self, FALSE);
            }
          if (self->error_policy == CONCURRY_ERROR_POLICY_LOG)
            {
              if (failed == NULL)
                failed = g_ptr_array_new_with_free_func (g_object_unref);
              /* the manager's reference keeps it above 1 */
              g_ptr_array_add (failed, g_object_ref (task));
            }
        }
      else if (state == CONCURRY_FUTURE_STATE_CANCELLED)
        self->n_cancelled++;

      /* The input is read again once half the window is free: one
       * wake-up for a batch of items, not one per item. */
      if ((map = _concurry_task_get_map (task)) != NULL)
        {
          map->in_flight--;
          need_refill = need_refill ||
                        (map->listed && map->in_flight <= self->max_in_flight / 2);
        }

      /* the manager's reference on the task goes there, or back to us */
      if (self->keep_completed)
        {
          g_ptr_array_add (self->completed, task);
        }
      else
        {
          task->inbox_next = dropped;
          dropped = task;
        }
    }

  /* The records of failures are written without the lock (a log writer
   * is user code), but before the manager can be seen finished: a program
   * that waits and exits loses none. */
  if (failed != NULL)
    self->n_logging++;
  schedule_publish_locked (self);
  /* Waiters need waking when there is a task for next_completed(), input
   * to read, or an end. */
  woken = (self->keep_completed && self->next_waiting > 0) || need_refill ||
          to_cancel != NULL || !_concurry_task_manager_is_running_locked (self);
  change = woken ? take_change_locked (self) : NULL;
  /* More to do with the manager after the lock: the hold on itself lasts
   * until that is done (no reference taken here: with the lock held, one
   * could be the first after a binding's toggle reference). */
  busy = need_refill || failed != NULL || to_cancel != NULL;
  if (busy)
    self->n_busy++;
  *let_go = let_go_locked (self);
  g_mutex_unlock (&self->mutex);

  if (need_refill && self->refill_source != NULL)
    g_source_set_ready_time (self->refill_source, 0);
  if (failed != NULL)
    {
      ConcurryPromise *end;

      for (guint i = 0; i < failed->len; i++)
        {
          ConcurryTask *task = g_ptr_array_index (failed, i);

          log_failure (task, _concurry_task_get_error (task));
        }
      g_ptr_array_unref (failed);

      g_mutex_lock (&self->mutex);
      self->n_logging--;
      end = !_concurry_task_manager_is_running_locked (self) ? take_change_locked (self) : NULL;
      schedule_publish_locked (self);
      g_mutex_unlock (&self->mutex);
      signal_change (end);
    }
  /* may count tasks (those cancelled) on this thread */
  finish_stop (to_cancel);
  signal_change (change);
  if (busy)
    {
      g_mutex_lock (&self->mutex);
      self->n_busy--;
      *let_go = let_go_locked (self);
      g_mutex_unlock (&self->mutex);
    }

  return dropped;
}

/* A task is over: it reached its terminal state. No user code but the
 * log writer (see count_finished()); called on the thread that completed
 * it, which holds a reference, and counts with the manager's.
 *
 * The task goes into the manager's inbox without a lock. The thread that
 * finds the inbox empty takes the lock, empties the inbox and counts what
 * it found: under load one thread counts a batch of tasks in one hold of
 * the lock while the others go on, instead of each worker queueing for it
 * once per task. Every task that goes in is counted: it lies on top of a
 * task whose thread is still to empty the inbox, or was already taken by
 * it. And a task that went into an empty inbox is counted by its own
 * thread: the inbox is not empty again before that thread empties it. */
void
_concurry_task_manager_task_completed (ConcurryTask *task)
{
  ConcurryTaskManager *self = task->chunk->manager;
  ConcurryTask *head, *dropped;
  gboolean let_go;

  task->final_state = _concurry_task_get_state (task);
  do
    {
      head = g_atomic_pointer_get (&self->inbox);
      task->inbox_next = head;
    }
  while (!g_atomic_pointer_compare_and_exchange (&self->inbox, head, task));
  if (head != NULL)
    return;      /* counted by the thread that put in the first one */

  dropped = count_finished (self, &let_go);

  while (dropped != NULL)
    {
      ConcurryTask *next = dropped->inbox_next;

      dropped->inbox_next = NULL;
      g_object_unref (dropped);
      dropped = next;
    }

  if (let_go)
    g_object_unref (self);      /* may be the last reference */
}

/* Refuses new work: with the lock held. */
static gboolean
check_accepting_locked (ConcurryTaskManager  *self,
                        GError              **error)
{
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }
  if (self->closed)
    {
      g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN,
                           _("The task manager was shut down and accepts no more work"));
      return FALSE;
    }
  return TRUE;
}

/* Takes the manager's hold on itself for a task just counted in, unless
 * somebody has it: TRUE if the caller must take the reference (before the
 * task starts; until the task is counted, nobody lets the hold go). */
static gboolean
claim_hold (ConcurryTaskManager *self)
{
  guint64 numbered;

  while (!((numbered = _concurry_platform_atomic_get_u64 (&self->numbered)) &
           _CONCURRY_TASK_MANAGER_HOLDING))
    if (_concurry_platform_atomic_cas_u64 (&self->numbered, numbered,
                                           numbered | _CONCURRY_TASK_MANAGER_HOLDING))
      return TRUE;

  return FALSE;
}

/* Counts out the number @number of a task that register_task() refused,
 * which nobody can have counted or stopped, and sets @error. A thread
 * counting tasks meanwhile saw the manager busy with it: what it left
 * undone for that (waking the waiters of the end, publishing, letting the
 * hold go) is done here. */
static void
withdraw_task (ConcurryTaskManager  *self,
               guint64               number,
               GError              **error)
{
  ConcurryPromise *change;
  gboolean accepting, let_go;

  g_mutex_lock (&self->mutex);
  self->n_withdrawn++;
  count_number_locked (self, find_chunk_locked (self, (number - 1) - (number - 1) % TASK_CHUNK_SIZE),
                       number);
  accepting = check_accepting_locked (self, error);
  g_assert (!accepting);   /* refusing is never undone */
  let_go = let_go_locked (self);
  change = !_concurry_task_manager_is_running_locked (self) ? take_change_locked (self) : NULL;
  schedule_publish_locked (self);
  g_mutex_unlock (&self->mutex);

  signal_change (change);
  if (let_go)
    g_object_unref (self);      /* never the last: the caller has one */
}

/*
 * Registers a new task, made without the lock, as unfinished; without the
 * lock either. A trivial task on a pool costs a few hundred nanoseconds,
 * and taking the manager's lock, which the threads counting finished
 * tasks take too, cost the submitting thread a third as much again. A
 * registration is an atomic addition and a store, on cache lines that the
 * submitting thread mostly keeps to itself (the counting threads look at
 * them when they catch up with it):
 *
 * - the task takes the next number, which counts it as unfinished until
 *   the number is counted (see _concurry_task_manager_has_unfinished_locked());
 *   the same atomic integer holds the manager's hold on itself (see
 *   let_go_locked());
 * - it gets its slot in the register of unfinished tasks (see
 *   place_task()).
 *
 * With @check, a task is refused if the manager accepts no more work. It
 * takes its number before the check: a shutdown or a failure that refuses
 * work from now on sets refusing before it looks at the numbers given, so
 * either it sees the task unfinished (it waits for it, or stops it: see
 * start_task()), or the task sees refusing set. A refused task returns
 * FALSE with @error set; its number is counted as withdrawn and given to
 * no task (submissions racing a shutdown from several threads may leave
 * such a gap in the numbers).
 *
 * Otherwise @hold tells whether the manager must take a reference on
 * itself (without the lock, before the task starts). @locked: whether the
 * caller holds the lock (never with @check).
 */
static gboolean
register_task (ConcurryTaskManager  *self,
               ConcurryTask         *task,
               gboolean              check,
               gboolean              locked,
               gboolean             *hold,
               GError              **error)
{
  guint64 before = _concurry_platform_atomic_add_u64 (&self->numbered,
                                                      _CONCURRY_TASK_MANAGER_ONE_NUMBER);
  guint64 number = before / _CONCURRY_TASK_MANAGER_ONE_NUMBER + 1;

  if (check && G_UNLIKELY (g_atomic_int_get (&self->refusing)))
    {
      withdraw_task (self, number, error);
      return FALSE;
    }

  *hold = !(before & _CONCURRY_TASK_MANAGER_HOLDING) && claim_hold (self);
  task->index = number;
  place_task (self, task, locked);

  return TRUE;
}

/* A task was registered: n-submitted changed. Without the lock when a
 * publication is scheduled already, which reads the counters after it
 * marks itself done (see publish_dispatch()): this looks at the mark after
 * the count changed, so one of the two sees the other. */
static void
publish_submitted (ConcurryTaskManager *self)
{
  if (g_atomic_int_get (&self->publish_scheduled))
    return;
  _concurry_platform_mutex_lock_spinning (&self->mutex);
  schedule_publish_locked (self);
  g_mutex_unlock (&self->mutex);
}

/* A task that will not run: it ends failed with @error, taken, and is
 * counted. */
static void
task_refuse (ConcurryTask *task,
             GError       *error)
{
  task_drop_work (task);
  _concurry_core_complete (&task->work.core, (ConcurryFuture *)task, NULL, error);
}

/* Hands a registered task to the executor; without the lock (@hold: see
 * register_task()). A task the executor refuses ends at once,
 * failed with the executor's error. Until the task is started (below),
 * nothing but this can complete it, so the manager's references are
 * taken in time. */
static void
start_task (ConcurryTaskManager *self,
            ConcurryTask        *task,
            gboolean             hold)
{
  GError *error = NULL;

  if (hold)
    g_object_ref (self);

  /* The manager's reference on the task, given to the counting. */
  g_object_ref (task);

  if (self->queue != NULL)
    {
      /* Into the work queue of concurry's own executors, as itself. */
      if (!_concurry_work_queue_reserve (self->queue, &error))
        {
          task_refuse (task, error);
          return;
        }
      task->work.func = task_run;
      task->work.user_data = task;
      task->work.destroy = task_drop_work;
      g_atomic_int_or ((guint *)&task->flags, _CONCURRY_TASK_STARTED);
      _concurry_work_queue_push_reserved (self->queue, self->executor, &task->work);
    }
  else
    {
      ConcurryFuture *future;

      g_atomic_int_or ((guint *)&task->flags, _CONCURRY_TASK_STARTED | _CONCURRY_TASK_SUBMITTING);
      future = concurry_executor_submit (self->executor, task_run_elsewhere, g_object_ref (task),
                                         task_release_elsewhere, &error);
      if (future == NULL)
        {
          /* the submission's reference and the work are gone */
          task_refuse (task, error);
          return;
        }
      /* Accepted, but let go of already (without an error): it will not
       * run. */
      if (!(g_atomic_int_and ((guint *)&task->flags, ~_CONCURRY_TASK_SUBMITTING) &
            _CONCURRY_TASK_SUBMITTING))
        _concurry_core_cancel (&task->work.core, (ConcurryFuture *)task);
      g_object_unref (future);
    }

  /* Stopped while we submitted: stop_locked() may have missed it. */
  if G_UNLIKELY (g_atomic_int_get (&self->stopping))
    _concurry_core_cancel_pending (&task->work.core, (ConcurryFuture *)task);
}

static gboolean
refuse_javascript (ConcurryTaskManager  *self,
                   gpointer              func,
                   GError              **error)
{
  /* The manager's trampoline hides @func from the executor's own check. */
  return !self->main_context_executor &&
         _concurry_executor_refuse_javascript (func, error);
}

/* Reads input while there is room; one thread at a time. */
void
_concurry_task_manager_refill (ConcurryTaskManager *self)
{
  g_mutex_lock (&self->mutex);
  if (self->reading)
    {
      g_mutex_unlock (&self->mutex);
      return;
    }
  self->reading = TRUE;

  while (self->maps != NULL && !g_atomic_int_get (&self->stopping))
    {
      ConcurryTaskMap *map = self->maps;
      GValue item = G_VALUE_INIT;
      GError *error = NULL;
      ConcurryTask *task;
      ConcurryPromise *change = NULL;
      gboolean got, hold;

      if (map->in_flight >= self->max_in_flight)
        break;

      task_map_ref (map);
      g_mutex_unlock (&self->mutex);

      got = map->input (&item, map->input_data, &error);
      /* its task, made without the lock (a failed input has one too) */
      task = got || error != NULL ? _concurry_task_new () : NULL;

      g_mutex_lock (&self->mutex);
      if (got && !map->listed)
        {
          /* stopped while we read: the item is dropped */
          g_mutex_unlock (&self->mutex);
          g_object_unref (task);
          g_value_unset (&item);
          _concurry_task_map_unref (map);
          g_mutex_lock (&self->mutex);
          continue;
        }

      if (!got)
        {
          gboolean listed = map->listed;
          ConcurryTask *failed = NULL;

          /* an input may fill the item before it says there is none */
          if (G_IS_VALUE (&item))
            g_value_unset (&item);
          /* exhausted (or failed): off the list of maps */
          if (listed)
            unlist_map_locked (self, map);
          /* An input that fails ends in a task of its own, failed with the
           * input's error and with no input: the error policy applies to
           * it as to any failure (fail fast, a log record, or kept in the
           * task), and nothing is dropped silently. Not for a map stopped
           * while it read: its input no longer matters. */
          if (error != NULL && listed)
            {
              failed = g_steal_pointer (&task);
              register_task (self, failed, FALSE, TRUE, &hold, NULL);
            }
          schedule_publish_locked (self);
          change = take_change_locked (self);
          g_mutex_unlock (&self->mutex);

          g_clear_object (&task);
          if (failed != NULL)
            {
              if (hold)
                g_object_ref (self);
              /* the manager's reference, given to the counting */
              g_object_ref (failed);
              task_refuse (failed, g_steal_pointer (&error));
              g_object_unref (failed);
            }
          g_clear_error (&error);
          task_map_drop_input (map);
          if (listed)
            _concurry_task_map_unref (map);
          _concurry_task_map_unref (map);
          signal_change (change);
          g_mutex_lock (&self->mutex);
          continue;
        }

      if (map->n_remaining > 0)
        map->n_remaining--;
      map->in_flight++;
      task->func.of_map = map;      /* the reference taken above */
      task->flags = _CONCURRY_TASK_OF_MAP;
      task->input = g_new (GValue, 1);
      *task->input = item;
      register_task (self, task, FALSE, TRUE, &hold, NULL);
      schedule_publish_locked (self);
      g_mutex_unlock (&self->mutex);

      start_task (self, task, hold);
      g_object_unref (task);

      g_mutex_lock (&self->mutex);
    }

  self->reading = FALSE;
  g_mutex_unlock (&self->mutex);
}

/* -- GListModel -- */

static GType
list_model_get_item_type (GListModel *model)
{
  return CONCURRY_TYPE_TASK;
}

static guint
list_model_get_n_items (GListModel *model)
{
  return CONCURRY_TASK_MANAGER (model)->n_published;
}

static gpointer
list_model_get_item (GListModel *model,
                     guint       position)
{
  ConcurryTaskManager *self = CONCURRY_TASK_MANAGER (model);
  gpointer item = NULL;

  g_mutex_lock (&self->mutex);
  if (position < self->n_published)
    item = g_object_ref (g_ptr_array_index (self->completed, position));
  g_mutex_unlock (&self->mutex);

  return item;
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = list_model_get_item_type;
  iface->get_n_items = list_model_get_n_items;
  iface->get_item = list_model_get_item;
}

/* -- GObject -- */

static void
concurry_task_manager_constructed (GObject *object)
{
  ConcurryTaskManager *self = CONCURRY_TASK_MANAGER (object);

  G_OBJECT_CLASS (concurry_task_manager_parent_class)->constructed (object);

  g_assert (self->executor != NULL);

  self->context = g_main_context_ref_thread_default ();
  self->main_context_executor = CONCURRY_IS_MAIN_CONTEXT_EXECUTOR (self->executor);
  self->queue = _concurry_executor_get_work_queue (self->executor);
  if (self->max_in_flight == 0)
    self->max_in_flight = 2 * MAX (1, concurry_executor_get_max_workers (self->executor));
  /* The default priority, as done callbacks: the ready time limits the
   * rate, and at idle priority work that keeps the context busy (a
   * main-context executor's) would hold the progress back until it ends. */
  self->publish_source = attach_source (self, &publish_funcs, "[concurry] task manager progress",
                                        G_PRIORITY_DEFAULT);
  self->refill_source = attach_source (self, &refill_funcs, "[concurry] task manager input",
                                       G_PRIORITY_DEFAULT);
  restart_monitor (self);
}

static void
destroy_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
concurry_task_manager_dispose (GObject *object)
{
  ConcurryTaskManager *self = CONCURRY_TASK_MANAGER (object);
  Stopped *dropped;

  destroy_source (&self->publish_source);
  destroy_source (&self->refill_source);
  destroy_source (&self->monitor_source);

  /* Unread input goes with the last reference (no task is unfinished, or
   * it would hold one). */
  g_mutex_lock (&self->mutex);
  dropped = stop_locked (self, FALSE);
  g_mutex_unlock (&self->mutex);
  finish_stop (dropped);

  G_OBJECT_CLASS (concurry_task_manager_parent_class)->dispose (object);
}

static void
concurry_task_manager_finalize (GObject *object)
{
  ConcurryTaskManager *self = CONCURRY_TASK_MANAGER (object);

  /* the chunk of the last numbers given, partly used */
  free_chunks (self->chunks);
  free_chunks (self->spare_chunks);

  g_clear_pointer (&self->completed, g_ptr_array_unref);
  g_clear_error (&self->error);
  signal_change (g_steal_pointer (&self->change));
  g_clear_object (&self->executor);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (concurry_task_manager_parent_class)->finalize (object);
}

static void
concurry_task_manager_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  ConcurryTaskManager *self = CONCURRY_TASK_MANAGER (object);

  switch (prop_id)
    {
    case PROP_EXECUTOR:
      g_value_set_object (value, self->executor);
      break;
    case PROP_ERROR_POLICY:
      g_value_set_enum (value, self->error_policy);
      break;
    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, concurry_task_manager_get_max_in_flight (self));
      break;
    case PROP_MONITOR_INTERVAL:
      g_value_set_uint (value, self->monitor_interval);
      break;
    case PROP_KEEP_COMPLETED:
      g_value_set_boolean (value, concurry_task_manager_get_keep_completed (self));
      break;
    case PROP_N_SUBMITTED:
      g_value_set_uint64 (value, concurry_task_manager_get_n_submitted (self));
      break;
    case PROP_N_COMPLETED:
      g_value_set_uint64 (value, concurry_task_manager_get_n_completed (self));
      break;
    case PROP_N_FAILED:
      g_value_set_uint64 (value, concurry_task_manager_get_n_failed (self));
      break;
    case PROP_N_CANCELLED:
      g_value_set_uint64 (value, concurry_task_manager_get_n_cancelled (self));
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, concurry_task_manager_get_running (self));
      break;
    case PROP_FRACTION:
      g_value_set_double (value, concurry_task_manager_get_fraction (self));
      break;
    case PROP_ITEM_TYPE:
      g_value_set_gtype (value, CONCURRY_TYPE_TASK);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->n_published);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
concurry_task_manager_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  ConcurryTaskManager *self = CONCURRY_TASK_MANAGER (object);

  switch (prop_id)
    {
    case PROP_EXECUTOR:
      self->executor = g_value_dup_object (value);
      break;
    case PROP_ERROR_POLICY:
      self->error_policy = g_value_get_enum (value);
      break;
    case PROP_MAX_IN_FLIGHT:
      concurry_task_manager_set_max_in_flight (self, g_value_get_uint (value));
      break;
    case PROP_MONITOR_INTERVAL:
      concurry_task_manager_set_monitor_interval (self, g_value_get_uint (value));
      break;
    case PROP_KEEP_COMPLETED:
      concurry_task_manager_set_keep_completed (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
concurry_task_manager_class_init (ConcurryTaskManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->constructed = concurry_task_manager_constructed;
  object_class->dispose = concurry_task_manager_dispose;
  object_class->finalize = concurry_task_manager_finalize;
  object_class->get_property = concurry_task_manager_get_property;
  object_class->set_property = concurry_task_manager_set_property;

  /**
   * ConcurryTaskManager:executor:
   *
   * The executor that runs the tasks.
   *
   * Since: 0.2
   */
  properties [PROP_EXECUTOR] =
    g_param_spec_object ("executor", NULL, NULL, CONCURRY_TYPE_EXECUTOR,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * ConcurryTaskManager:error-policy:
   *
   * What a failed task does: see [enum@Concurry.ErrorPolicy].
   *
   * Since: 0.2
   */
  properties [PROP_ERROR_POLICY] =
    g_param_spec_enum ("error-policy", NULL, NULL, CONCURRY_TYPE_ERROR_POLICY,
                       CONCURRY_ERROR_POLICY_RAISE,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * ConcurryTaskManager:max-in-flight:
   *
   * How many tasks of one [method@Concurry.TaskManager.map] may be
   * unfinished at once: its input is read only as they finish. 0 at
   * construction means twice the executor's workers.
   *
   * Since: 0.2
   */
  properties [PROP_MAX_IN_FLIGHT] =
    g_param_spec_uint ("max-in-flight", NULL, NULL, 0, G_MAXUINT, 0, rw | G_PARAM_CONSTRUCT);

  /**
   * ConcurryTaskManager:monitor-interval:
   *
   * Every how many seconds the manager logs, while it has work, how many
   * tasks completed (and failed) in that time; 0 turns the log off.
   *
   * Since: 0.2
   */
  properties [PROP_MONITOR_INTERVAL] =
    g_param_spec_uint ("monitor-interval", NULL, NULL, 0, G_MAXUINT / 1000,
                       DEFAULT_MONITOR_INTERVAL, rw | G_PARAM_CONSTRUCT);

  /**
   * ConcurryTaskManager:keep-completed:
   *
   * Whether the manager keeps its finished tasks, for its list model and
   * [method@Concurry.TaskManager.next_completed]. Turn it off for very
   * long inputs, where only the counts matter.
   *
   * Since: 0.2
   */
  properties [PROP_KEEP_COMPLETED] =
    g_param_spec_boolean ("keep-completed", NULL, NULL, TRUE, rw | G_PARAM_CONSTRUCT);

  /**
   * ConcurryTaskManager:n-submitted:
   *
   * How many tasks were made so far. (A submission that a shutdown or a
   * failure refuses while it is being made may be counted for a moment,
   * then no longer.)
   *
   * Since: 0.2
   */
  properties [PROP_N_SUBMITTED] =
    g_param_spec_uint64 ("n-submitted", NULL, NULL, 0, G_MAXUINT64, 0, ro);

  /**
   * ConcurryTaskManager:n-completed:
   *
   * How many tasks finished, whatever their outcome: those that failed
   * and those cancelled included.
   *
   * Since: 0.2
   */
  properties [PROP_N_COMPLETED] =
    g_param_spec_uint64 ("n-completed", NULL, NULL, 0, G_MAXUINT64, 0, ro);

  /**
   * ConcurryTaskManager:n-failed:
   *
   * How many tasks failed with an error (cancelled ones are not failures).
   *
   * Since: 0.2
   */
  properties [PROP_N_FAILED] =
    g_param_spec_uint64 ("n-failed", NULL, NULL, 0, G_MAXUINT64, 0, ro);

  /**
   * ConcurryTaskManager:n-cancelled:
   *
   * How many tasks were cancelled.
   *
   * Since: 0.2
   */
  properties [PROP_N_CANCELLED] =
    g_param_spec_uint64 ("n-cancelled", NULL, NULL, 0, G_MAXUINT64, 0, ro);

  /**
   * ConcurryTaskManager:running:
   *
   * Whether the manager has unfinished tasks or input still to read.
   *
   * Since: 0.2
   */
  properties [PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE, ro);

  /**
   * ConcurryTaskManager:fraction:
   *
   * The part of the work done, from 0 to 1: finished tasks over the tasks
   * made plus the input items still to read. It stays 0 while a
   * [method@Concurry.TaskManager.map] of unknown length reads its input.
   *
   * Since: 0.2
   */
  properties [PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0, ro);

  /**
   * ConcurryTaskManager:item-type:
   *
   * The type of the items of the list model: [class@Concurry.Task].
   *
   * Since: 0.2
   */
  properties [PROP_ITEM_TYPE] =
    g_param_spec_gtype ("item-type", NULL, NULL, G_TYPE_OBJECT,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * ConcurryTaskManager:n-items:
   *
   * The number of finished tasks in the list model.
   *
   * Since: 0.2
   */
  properties [PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
concurry_task_manager_init (ConcurryTaskManager *self)
{
  g_mutex_init (&self->mutex);
  self->completed = g_ptr_array_new_with_free_func (g_object_unref);
  self->error_policy = CONCURRY_ERROR_POLICY_RAISE;
  self->monitor_interval = DEFAULT_MONITOR_INTERVAL;
  self->keep_completed = TRUE;
}

/**
 * concurry_task_manager_new:
 * @executor: the [iface@Concurry.Executor] to run the tasks on
 * @error_policy: what a failed task does
 *
 * Creates a task manager over @executor. Its main context, where its
 * notifications, list model changes and monitoring happen, is the
 * thread-default context of the calling thread.
 *
 * Returns: (transfer full): a new [class@Concurry.TaskManager]
 *
 * Since: 0.2
 */
ConcurryTaskManager *
concurry_task_manager_new (ConcurryExecutor    *executor,
                           ConcurryErrorPolicy  error_policy)
{
  g_return_val_if_fail (CONCURRY_IS_EXECUTOR (executor), NULL);
  g_return_val_if_fail (error_policy >= CONCURRY_ERROR_POLICY_RAISE &&
                        error_policy <= CONCURRY_ERROR_POLICY_IGNORE, NULL);

  return g_object_new (CONCURRY_TYPE_TASK_MANAGER,
                       "executor", executor,
                       "error-policy", error_policy,
                       NULL);
}

/**
 * concurry_task_manager_get_executor:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets the executor that runs the tasks of @self.
 *
 * Returns: (transfer none): the executor
 *
 * Since: 0.2
 */
ConcurryExecutor *
concurry_task_manager_get_executor (ConcurryTaskManager *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), NULL);

  return self->executor;
}

/**
 * concurry_task_manager_get_error_policy:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets what a failed task of @self does.
 *
 * Returns: the error policy
 *
 * Since: 0.2
 */
ConcurryErrorPolicy
concurry_task_manager_get_error_policy (ConcurryTaskManager *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), CONCURRY_ERROR_POLICY_RAISE);

  return self->error_policy;
}

/**
 * concurry_task_manager_get_max_in_flight:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets how many tasks of a map may be unfinished at once.
 *
 * Returns: the bound
 *
 * Since: 0.2
 */
guint
concurry_task_manager_get_max_in_flight (ConcurryTaskManager *self)
{
  guint ret;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), 0);

  g_mutex_lock (&self->mutex);
  ret = self->max_in_flight;
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * concurry_task_manager_set_max_in_flight:
 * @self: a [class@Concurry.TaskManager]
 * @max_in_flight: the bound, at least 1
 *
 * Sets how many tasks of a map may be unfinished at once.
 *
 * Since: 0.2
 */
void
concurry_task_manager_set_max_in_flight (ConcurryTaskManager *self,
                                         guint                max_in_flight)
{
  gboolean changed;

  g_return_if_fail (CONCURRY_IS_TASK_MANAGER (self));

  /* 0 only at construction: the default, computed in constructed() */
  if (max_in_flight == 0 && self->executor != NULL)
    max_in_flight = 2 * MAX (1, concurry_executor_get_max_workers (self->executor));

  g_mutex_lock (&self->mutex);
  changed = self->max_in_flight != max_in_flight;
  self->max_in_flight = max_in_flight;
  g_mutex_unlock (&self->mutex);

  if (changed)
    {
      if (self->refill_source != NULL)
        g_source_set_ready_time (self->refill_source, 0);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MAX_IN_FLIGHT]);
    }
}

/**
 * concurry_task_manager_get_monitor_interval:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets every how many seconds @self logs its progress.
 *
 * Returns: the interval in seconds, 0 if the log is off
 *
 * Since: 0.2
 */
guint
concurry_task_manager_get_monitor_interval (ConcurryTaskManager *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), 0);

  return self->monitor_interval;
}

/**
 * concurry_task_manager_set_monitor_interval:
 * @self: a [class@Concurry.TaskManager]
 * @seconds: the interval in seconds, or 0 to turn the log off
 *
 * Sets every how many seconds @self logs its progress. Call it on the
 * thread of the manager's main context.
 *
 * Since: 0.2
 */
void
concurry_task_manager_set_monitor_interval (ConcurryTaskManager *self,
                                            guint                seconds)
{
  g_return_if_fail (CONCURRY_IS_TASK_MANAGER (self));

  if (self->monitor_interval == seconds)
    return;
  self->monitor_interval = seconds;
  restart_monitor (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MONITOR_INTERVAL]);
}

/**
 * concurry_task_manager_get_keep_completed:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets whether @self keeps its finished tasks.
 *
 * Returns: %TRUE if finished tasks are kept
 *
 * Since: 0.2
 */
gboolean
concurry_task_manager_get_keep_completed (ConcurryTaskManager *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), FALSE);

  return self->keep_completed;
}

/**
 * concurry_task_manager_set_keep_completed:
 * @self: a [class@Concurry.TaskManager]
 * @keep_completed: whether to keep the finished tasks
 *
 * Sets whether @self keeps the tasks that finish from now on, for its
 * list model and [method@Concurry.TaskManager.next_completed].
 *
 * Since: 0.2
 */
void
concurry_task_manager_set_keep_completed (ConcurryTaskManager *self,
                                          gboolean             keep_completed)
{
  gboolean changed;

  g_return_if_fail (CONCURRY_IS_TASK_MANAGER (self));

  g_mutex_lock (&self->mutex);
  changed = self->keep_completed != !!keep_completed;
  self->keep_completed = !!keep_completed;
  g_mutex_unlock (&self->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_KEEP_COMPLETED]);
}

/**
 * concurry_task_manager_submit:
 * @self: a [class@Concurry.TaskManager]
 * @func: (scope notified) (closure user_data) (destroy destroy): the work
 * @user_data: data for @func
 * @destroy: (nullable): a function to free @user_data with, once the work
 *   ran or was dropped
 * @error: return location for a `GError`
 *
 * Runs @func as a new task on the manager's executor.
 *
 * In bindings @func is a closure of the language: a JavaScript function
 * needs a [class@Concurry.MainContextExecutor], since JavaScript never
 * runs on other threads.
 *
 * Submitting fails with %CONCURRY_ERROR_SHUT_DOWN once @self was shut
 * down or joined, and with the task's error once a task failed under
 * %CONCURRY_ERROR_POLICY_RAISE. A task the executor refuses (it was shut
 * down) is returned failed with the executor's error.
 *
 * Returns: (transfer full): the new task, or %NULL on error
 *
 * Since: 0.2
 */
ConcurryTask *
concurry_task_manager_submit (ConcurryTaskManager  *self,
                              ConcurryWorkFunc      func,
                              gpointer              user_data,
                              GDestroyNotify        destroy,
                              GError              **error)
{
  ConcurryTask *task;
  gboolean hold;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (refuse_javascript (self, func, error))
    goto refused;
  task = _concurry_task_new ();
  task->func.work = func;
  task->user_data = user_data;
  if (!register_task (self, task, TRUE, FALSE, &hold, error))
    {
      g_object_unref (task);
      goto refused;
    }
  publish_submitted (self);
  task->destroy = destroy;

  start_task (self, task, hold);

  return task;

refused:
  if (destroy != NULL)
    destroy (user_data);
  return NULL;
}

/**
 * concurry_task_manager_submit_input:
 * @self: a [class@Concurry.TaskManager]
 * @input: the input of the work, kept in the task
 * @func: (scope notified) (closure user_data) (destroy destroy): the work,
 *   called with @input
 * @user_data: data for @func
 * @destroy: (nullable): a function to free @user_data with, once the work
 *   ran or was dropped
 * @error: return location for a `GError`
 *
 * Like [method@Concurry.TaskManager.submit], for work on one input: the
 * task keeps a copy of @input (see [method@Concurry.Task.get_input]) and
 * @func gets it.
 *
 * Returns: (transfer full): the new task, or %NULL on error
 *
 * Since: 0.2
 */
ConcurryTask *
concurry_task_manager_submit_input (ConcurryTaskManager  *self,
                                    const GValue         *input,
                                    ConcurryMapFunc       func,
                                    gpointer              user_data,
                                    GDestroyNotify        destroy,
                                    GError              **error)
{
  ConcurryTask *task;
  gboolean hold;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), NULL);
  g_return_val_if_fail (G_IS_VALUE (input), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (refuse_javascript (self, func, error))
    goto refused;
  task = _concurry_task_new ();
  /* copied without the lock: it may be an object or a boxed type */
  task->input = g_new0 (GValue, 1);
  g_value_init (task->input, G_VALUE_TYPE (input));
  g_value_copy (input, task->input);
  task->func.map = func;
  task->user_data = user_data;
  if (!register_task (self, task, TRUE, FALSE, &hold, error))
    {
      g_object_unref (task);
      goto refused;
    }
  publish_submitted (self);
  task->destroy = destroy;

  start_task (self, task, hold);

  return task;

refused:
  if (destroy != NULL)
    destroy (user_data);
  return NULL;
}

/**
 * concurry_task_manager_map:
 * @self: a [class@Concurry.TaskManager]
 * @func: (scope notified) (closure func_data) (destroy func_destroy): the
 *   work to run on each item
 * @func_data: data for @func
 * @func_destroy: (nullable): a function to free @func_data with
 * @input: (scope notified) (closure input_data) (destroy input_destroy):
 *   the function producing the items
 * @input_data: data for @input
 * @input_destroy: (nullable): a function to free @input_data with, once
 *   the input is exhausted or dropped
 * @n_inputs: how many items @input will produce, or -1 if unknown (only
 *   used for [property@Concurry.TaskManager:fraction])
 * @error: return location for a `GError`
 *
 * Makes a task of each item that @input produces, running @func on it.
 *
 * The input is read lazily: at most
 * [property@Concurry.TaskManager:max-in-flight] tasks of this map are
 * unfinished at any time, and the next item is read as one finishes (see
 * the class documentation for the threads it is read on). The first
 * items are read by this call. An error from @input ends the input, in a
 * task of its own: failed with that error, with no input, and handled by
 * the error policy as any failed task (under %CONCURRY_ERROR_POLICY_RAISE
 * it stops the manager). An item that @input filled before it returned
 * %FALSE is freed.
 *
 * Returns: %TRUE if the map started; %FALSE if @self accepts no more work
 *
 * Since: 0.2
 */
gboolean
concurry_task_manager_map (ConcurryTaskManager  *self,
                           ConcurryMapFunc       func,
                           gpointer              func_data,
                           GDestroyNotify        func_destroy,
                           ConcurryInputFunc     input,
                           gpointer              input_data,
                           GDestroyNotify        input_destroy,
                           gint64                n_inputs,
                           GError              **error)
{
  ConcurryTaskMap *map, **tail;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (input != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&self->mutex);
  if (!check_accepting_locked (self, error) || refuse_javascript (self, func, error))
    {
      g_mutex_unlock (&self->mutex);
      if (func_destroy != NULL)
        func_destroy (func_data);
      if (input_destroy != NULL)
        input_destroy (input_data);
      return FALSE;
    }

  map = g_new0 (ConcurryTaskMap, 1);
  g_atomic_ref_count_init (&map->ref_count);
  map->func = func;
  map->func_data = func_data;
  map->func_destroy = func_destroy;
  map->input = input;
  map->input_data = input_data;
  map->input_destroy = input_destroy;
  map->n_remaining = n_inputs < 0 ? -1 : n_inputs;
  map->listed = TRUE;
  if (map->n_remaining < 0)
    self->n_maps_unsized++;

  /* maps are read in the order they were given */
  for (tail = &self->maps; *tail != NULL; tail = &(*tail)->next)
    ;
  *tail = map;
  schedule_publish_locked (self);
  g_mutex_unlock (&self->mutex);

  _concurry_task_manager_refill (self);

  return TRUE;
}

/**
 * concurry_task_manager_get_n_submitted:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets how many tasks @self made so far.
 *
 * Returns: the number of tasks
 *
 * Since: 0.2
 */
guint64
concurry_task_manager_get_n_submitted (ConcurryTaskManager *self)
{
  guint64 ret;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), 0);

  g_mutex_lock (&self->mutex);
  ret = _concurry_task_manager_n_submitted_locked (self);
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * concurry_task_manager_get_n_completed:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets how many tasks of @self finished, whatever their outcome.
 *
 * Returns: the number of finished tasks
 *
 * Since: 0.2
 */
guint64
concurry_task_manager_get_n_completed (ConcurryTaskManager *self)
{
  guint64 ret;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), 0);

  g_mutex_lock (&self->mutex);
  ret = self->n_completed;
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * concurry_task_manager_get_n_failed:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets how many tasks of @self failed with an error.
 *
 * Returns: the number of failed tasks
 *
 * Since: 0.2
 */
guint64
concurry_task_manager_get_n_failed (ConcurryTaskManager *self)
{
  guint64 ret;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), 0);

  g_mutex_lock (&self->mutex);
  ret = self->n_failed;
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * concurry_task_manager_get_n_cancelled:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets how many tasks of @self were cancelled.
 *
 * Returns: the number of cancelled tasks
 *
 * Since: 0.2
 */
guint64
concurry_task_manager_get_n_cancelled (ConcurryTaskManager *self)
{
  guint64 ret;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), 0);

  g_mutex_lock (&self->mutex);
  ret = self->n_cancelled;
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * concurry_task_manager_get_running:
 * @self: a [class@Concurry.TaskManager]
 *
 * Checks whether @self has unfinished tasks or input still to read.
 *
 * Returns: %TRUE while there is work
 *
 * Since: 0.2
 */
gboolean
concurry_task_manager_get_running (ConcurryTaskManager *self)
{
  gboolean ret;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), FALSE);

  g_mutex_lock (&self->mutex);
  ret = _concurry_task_manager_is_running_locked (self);
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * concurry_task_manager_get_fraction:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets the part of the work done; see
 * [property@Concurry.TaskManager:fraction].
 *
 * Returns: a number from 0 to 1
 *
 * Since: 0.2
 */
double
concurry_task_manager_get_fraction (ConcurryTaskManager *self)
{
  double ret;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), 0.0);

  g_mutex_lock (&self->mutex);
  ret = fraction_locked (self);
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * concurry_task_manager_get_error:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets the error that stopped @self: the error of its first failed task
 * under %CONCURRY_ERROR_POLICY_RAISE.
 *
 * Returns: (nullable) (transfer none): the error, or %NULL
 *
 * Since: 0.2
 */
const GError *
concurry_task_manager_get_error (ConcurryTaskManager *self)
{
  const GError *ret;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), NULL);

  /* once set, never changed nor freed before finalize */
  g_mutex_lock (&self->mutex);
  ret = self->error;
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * concurry_task_manager_get_completed_tasks:
 * @self: a [class@Concurry.TaskManager]
 *
 * Gets the finished tasks of @self as a list model, in the order they
 * finished: that is @self itself. It changes only on the manager's main
 * context.
 *
 * Returns: (transfer none): the list model of [class@Concurry.Task]s
 *
 * Since: 0.2
 */
GListModel *
concurry_task_manager_get_completed_tasks (ConcurryTaskManager *self)
{
  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), NULL);

  return G_LIST_MODEL (self);
}

/**
 * concurry_task_manager_cancel:
 * @self: a [class@Concurry.TaskManager]
 *
 * Stops all the work of @self: no more input is read, and every unfinished
 * task is cancelled, as [method@Concurry.Future.cancel] does (a queued
 * task never starts; a running one becomes cancelled and sees its
 * `GCancellable` cancelled). @self still accepts new work.
 *
 * Since: 0.2
 */
void
concurry_task_manager_cancel (ConcurryTaskManager *self)
{
  Stopped *to_cancel;
  ConcurryPromise *change;

  g_return_if_fail (CONCURRY_IS_TASK_MANAGER (self));

  g_mutex_lock (&self->mutex);
  to_cancel = stop_locked (self, TRUE);
  schedule_publish_locked (self);
  change = take_change_locked (self);
  g_mutex_unlock (&self->mutex);

  finish_stop (to_cancel);
  signal_change (change);

  /* New work is welcome again; the tasks above stop all the same. */
  g_mutex_lock (&self->mutex);
  g_atomic_int_set (&self->stopping, self->error != NULL || self->discarding);
  g_mutex_unlock (&self->mutex);
}

/**
 * concurry_task_manager_shutdown:
 * @self: a [class@Concurry.TaskManager]
 * @wait: whether to block until all the work given so far is done
 * @cancel_futures: whether to cancel the tasks that have not started and
 *   stop reading input
 * @error: return location for a `GError`
 *
 * Stops accepting work, as [method@Concurry.Executor.shutdown] does: any
 * later submit or map fails with %CONCURRY_ERROR_SHUT_DOWN. Work already
 * given still runs (the input of a map is still read) unless
 * @cancel_futures cancels what has not started. With @wait, returns only
 * once every task is finished; from one of the tasks of @self it shuts
 * down without waiting and fails with %CONCURRY_ERROR_WRONG_THREAD.
 *
 * The executor itself is not shut down. Shutting down again is harmless.
 *
 * Returns: %TRUE; %FALSE if @wait timed out or was refused
 *
 * Since: 0.2
 */
gboolean
concurry_task_manager_shutdown (ConcurryTaskManager  *self,
                                gboolean              wait,
                                gboolean              cancel_futures,
                                GError              **error)
{
  Stopped *to_cancel = NULL;
  ConcurryPromise *change;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&self->mutex);
  self->closed = TRUE;
  _concurry_task_manager_refuse_work_locked (self);
  if (cancel_futures)
    {
      self->discarding = TRUE;
      to_cancel = stop_locked (self, FALSE);
    }
  schedule_publish_locked (self);
  change = take_change_locked (self);
  g_mutex_unlock (&self->mutex);

  finish_stop (to_cancel);
  signal_change (change);

  if (!wait)
    return TRUE;
  if (_concurry_task_manager_refuse_own_wait (self, error))
    return FALSE;

  /* Wait for the tasks themselves, even after a failure. */
  return _concurry_task_manager_wait_finished (self, error);
}

/**
 * concurry_task_manager_is_shutdown:
 * @self: a [class@Concurry.TaskManager]
 *
 * Checks whether @self was shut down or joined.
 *
 * Returns: %TRUE if @self accepts no more work
 *
 * Since: 0.2
 */
gboolean
concurry_task_manager_is_shutdown (ConcurryTaskManager *self)
{
  gboolean ret;

  g_return_val_if_fail (CONCURRY_IS_TASK_MANAGER (self), FALSE);

  g_mutex_lock (&self->mutex);
  ret = self->closed;
  g_mutex_unlock (&self->mutex);

  return ret;
}
