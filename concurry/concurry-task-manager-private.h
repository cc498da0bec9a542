/* concurry-task-manager-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-task-manager-private.h"
#endif

#include "concurry-platform-private.h"
#include "concurry-promise.h"
#include "concurry-task-manager.h"
#include "concurry-task-private.h"
#include "concurry-work-queue-private.h"

G_BEGIN_DECLS

/*
 * The state of a ConcurryTaskManager, shared by concurry-task-manager.c
 * (work in, completion, publication on the main context, monitoring) and
 * concurry-task-manager-waiting.c (the waits). Everything below the mutex
 * belongs to it unless said otherwise.
 */

struct _ConcurryTaskMap
{
  gatomicrefcount    ref_count;
  ConcurryMapFunc    func;
  gpointer           func_data;
  GDestroyNotify     func_destroy;
  ConcurryInputFunc  input;
  gpointer           input_data;
  GDestroyNotify     input_destroy;
  gint64             n_remaining;    /* items not read yet, -1 unknown */
  guint              in_flight;      /* tasks not finished; manager lock */
  gboolean           listed;         /* on the manager's list; manager lock */
  ConcurryTaskMap   *next;           /* the manager's maps still reading */
};

typedef struct
{
  guint64  n_submitted;
  guint64  n_completed;
  guint64  n_failed;
  guint64  n_cancelled;
  gboolean running;
  double   fraction;
} ConcurryTaskProgress;

struct _ConcurryTaskManager
{
  GObject              parent_instance;

  ConcurryExecutor    *executor;
  ConcurryWorkQueue   *queue;                /* the executor's, if one of ours */
  GMainContext        *context;
  ConcurryErrorPolicy  error_policy;
  guint                max_in_flight;
  guint                monitor_interval;
  /* Whole words, not bit-fields: main_context_executor is read without
   * the lock, and a bit-field beside it would share its memory. */
  gboolean             keep_completed;
  gboolean             reading;              /* a thread is reading input */
  gboolean             main_context_executor;  /* set at construction */

  GMutex               mutex;

  /* counters */
  guint64              n_completed;          /* finished, whatever the state */
  guint64              n_withdrawn;          /* numbers given to submissions
                                              * then refused: see register_task() */
  guint64              n_numbered_seen;      /* numbers given, as last read */
  guint64              n_failed;
  guint64              n_cancelled;
  guint                n_busy;               /* threads still at work after
                                              * counting: the hold lasts */
  guint                n_logging;            /* batches whose failures are being logged:
                                              * the manager runs until they are */

  ConcurryTaskChunk   *chunks;               /* the register of unfinished
                                              * tasks (concurry-task-manager.c) */
  ConcurryTaskChunk   *spare_chunks;
  ConcurryTaskMap     *maps;                 /* maps whose input is not exhausted */
  guint                n_maps_unsized;       /* of those, maps of unknown length */

  GPtrArray           *completed;            /* finished tasks, in order */
  guint                cursor;               /* next one for next_completed() */
  guint                n_published;          /* length of the list model */

  GError              *error;                /* the fail-fast error */
  int                  stopping;             /* atomic: no more input, no more starts */
  gboolean             closed;               /* shut down: no more work */
  gboolean             discarding;           /* shut down with cancel_futures */

  ConcurryPromise     *change;               /* resolved on the next change */
  guint                next_waiting;         /* threads waiting in next_completed() */

  /* main context */
  GSource             *publish_source;
  gint64               last_publish;
  /* Owner thread of the context only: publications made, and whether
   * one is being made (its handlers may wait: see
   * concurry-task-manager-waiting.c). */
  guint                n_publications;
  gboolean             publishing;
  ConcurryTaskProgress published;
  GSource             *refill_source;
  GSource             *monitor_source;
  guint64              monitor_completed;
  guint64              monitor_failed;

  /* What a submission writes and reads, without the lock (see
   * register_task()): on cache lines of their own, which the counting
   * threads look at when they catch up with the submissions. All
   * atomic. */
  char                 submit_padding[128];
  CONCURRY_ALIGNED_U64 numbered;             /* twice the numbers given to
                                              * tasks, plus HOLDING while the
                                              * manager holds a reference on
                                              * itself */
  int                  refusing;             /* @error or @closed is set */
  int                  publish_scheduled;    /* written with the lock */
  ConcurryTaskChunk   *current_chunk;        /* written with the lock */

  /* Written by every worker as tasks finish, without the lock: on cache
   * lines of its own, away from what submissions write. */
  char                 inbox_padding[128];
  ConcurryTask        *inbox;                /* atomic, no lock: finished tasks not
                                              * counted yet, newest first */
  char                 end_padding[128 - sizeof (ConcurryTask *)];
};

/* In numbered: the manager holds a reference on itself; and one number. */
#define _CONCURRY_TASK_MANAGER_HOLDING 1
#define _CONCURRY_TASK_MANAGER_ONE_NUMBER 2

/* Whether a task is unfinished: a number was given and not counted (as
 * a finished task, or a refused one). With the lock. Submissions change
 * @numbered without the lock, on every task; the cache line moves only
 * when the count catches up with the numbers last seen. */
static inline gboolean
_concurry_task_manager_has_unfinished_locked (ConcurryTaskManager *self)
{
  guint64 counted = self->n_completed + self->n_withdrawn;

  if (counted < self->n_numbered_seen)
    return TRUE;
  self->n_numbered_seen = _concurry_platform_atomic_get_u64 (&self->numbered) /
                          _CONCURRY_TASK_MANAGER_ONE_NUMBER;
  return counted < self->n_numbered_seen;
}

/* Whether there is work: unfinished tasks or input to read. With the lock. */
static inline gboolean
_concurry_task_manager_is_running_locked (ConcurryTaskManager *self)
{
  return _concurry_task_manager_has_unfinished_locked (self) ||
         self->maps != NULL || self->n_logging > 0;
}

/* The number of tasks submitted. With the lock. */
static inline guint64
_concurry_task_manager_n_submitted_locked (ConcurryTaskManager *self)
{
  return _concurry_platform_atomic_get_u64 (&self->numbered) / _CONCURRY_TASK_MANAGER_ONE_NUMBER -
         self->n_withdrawn;
}

/* No more work accepted (a failure under RAISE, or a shutdown): with the
 * lock held, once @error or @closed is set. See register_task(). */
static inline void
_concurry_task_manager_refuse_work_locked (ConcurryTaskManager *self)
{
  g_atomic_int_set (&self->refusing, TRUE);
}

/* The manager whose task this thread runs (its work, or the drop of its
 * data), or NULL. */
extern CONCURRY_THREAD_LOCAL ConcurryTaskManager *_concurry_task_manager_running_here;

gboolean _concurry_task_manager_refuse_own_wait (ConcurryTaskManager  *self,
                                                 GError              **error);
void     _concurry_task_manager_refill        (ConcurryTaskManager  *self);
gint64   _concurry_task_manager_publication_due (ConcurryTaskManager *self);
void     _concurry_task_manager_task_completed (ConcurryTask        *task);
gboolean _concurry_task_manager_wait_finished (ConcurryTaskManager  *self,
                                               GError              **error);

G_END_DECLS
