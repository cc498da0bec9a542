/* concurry-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-task-private.h"
#endif

#include "concurry-executor.h"
#include "concurry-task.h"
#include "concurry-work-future-private.h"

G_BEGIN_DECLS

typedef struct _ConcurryTaskMap ConcurryTaskMap;
typedef struct _ConcurryTaskManager ConcurryTaskManager;
typedef struct _ConcurryTaskChunk ConcurryTaskChunk;

/*
 * ConcurryTask:
 *
 * One piece of work of a task manager: what it was given, how it ended,
 * and when it ran.
 *
 * A task is its own future, and on concurry's own executors it is also the
 * queued item itself: it begins with the layout of a ConcurryWorkFuture
 * (@work: the GObject header, the completion core, the item's function,
 * data and queue link), so the executor queues, runs, cancels and
 * releases it as it does its own futures, and a submission costs one
 * object, as a bare submit does. (The executor never recycles a task: it
 * only recycles objects of its own type.) @work.func is task_run(), with
 * the task as its data; the user's function and data are in @func and
 * @user_data (a map's task runs its map's).
 *
 * On another executor, the task is submitted as a function of its own and
 * completed by it; the other executor's future is not kept.
 *
 * The core is CORE_HOOKED: whatever completes the task (the worker, a
 * cancel, a refusal) has it counted by its manager at once, exactly once
 * (the core completes once).
 *
 * @index (the task's number) and @chunk (where the manager's register of
 * unfinished tasks has its slot) are set by the thread submitting it
 * before the task is handed out. The manager is found through @chunk,
 * borrowed: the manager holds a reference on itself while it has
 * unfinished tasks, and a task only uses it until it is counted.
 * @final_state is written by the thread that completed the task before it
 * goes into the manager's inbox. @input is the task's own.
 * %_CONCURRY_TASK_STARTED is set in @flags once the task went to its
 * executor: only then may the manager cancel it (see start_task()).
 * @start_time and @end_time are written by the thread running the work
 * before the task completes, and read once it has.
 */
struct _ConcurryTask
{
  ConcurryWorkFuture    work;

  /* What the worker running the task uses, next to the work's own
   * fields: a task touches as few cache lines as it can (when many are
   * queued, each line is a miss). */
  union
  {
    ConcurryWorkFunc    work;          /* submit() */
    ConcurryMapFunc     map;           /* submit_input() */
    ConcurryTaskMap    *of_map;        /* a map's task (_CONCURRY_TASK_OF_MAP):
                                        * its map, a reference, whose
                                        * function and data it runs */
  } func;
  gpointer              user_data;
  GDestroyNotify        destroy;
  GValue               *input;         /* NULL without an input */
  gint64                start_time;
  gint64                end_time;

  /* What the thread counting finished tasks reads, together: it reads
   * them on tasks that other threads finished. */
  /* the manager's inbox of finished tasks not yet counted (see
   * _concurry_task_manager_task_completed()) */
  ConcurryTask         *inbox_next;
  ConcurryTaskChunk    *chunk;         /* which also leads to the manager */
  guint64               index;
  int                   final_state;   /* written before it goes in */
  int                   flags;         /* atomic */
};

/* A task went to its executor (see start_task()); is being submitted to
 * another executor (see task_release_elsewhere()); is a map's (set
 * before the task is shared). */
#define _CONCURRY_TASK_STARTED    1
#define _CONCURRY_TASK_SUBMITTING 2
#define _CONCURRY_TASK_OF_MAP     4

/* The map of a map's task, or NULL. */
static inline ConcurryTaskMap *
_concurry_task_get_map (ConcurryTask *task)
{
  return (g_atomic_int_get (&task->flags) & _CONCURRY_TASK_OF_MAP) ? task->func.of_map : NULL;
}

ConcurryTask        *_concurry_task_new        (void);
void                 _concurry_task_map_unref  (ConcurryTaskMap     *map);
ConcurryFutureState  _concurry_task_get_state  (ConcurryTask        *task);
const GError        *_concurry_task_get_error  (ConcurryTask        *task);

G_END_DECLS
