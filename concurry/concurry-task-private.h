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

G_BEGIN_DECLS

typedef struct _ConcurryTaskMap ConcurryTaskMap;
typedef struct _ConcurryTaskManager ConcurryTaskManager;

/*
 * Who has the future of a task's work (@claim, atomic):
 *
 * HELD: only the task, and the executor running the work. The work ends
 *   when the executor releases it (the future is terminal by then): the
 *   releasing thread moves the outcome into the task, drops the future,
 *   which the executor can then recycle instead of finalizing, and has
 *   the task counted. No done callback, no second object per task.
 * EXPOSED: somebody else may hold the future too: it was handed out by
 *   concurry_task_get_future(), the manager cancels it, or the executor
 *   is not one of concurry's own. The task keeps it for good, reads its
 *   outcome through it, and is counted by a done callback on it.
 * RELEASED: the work is over and its outcome is in the task; the future,
 *   if there was one, is gone (get_future() makes a done one on demand).
 *
 * HELD moves to EXPOSED or RELEASED once, by compare-and-swap: whoever
 * wins decides how the task is counted, so it is counted exactly once.
 */
typedef enum
{
  TASK_WORK_HELD,
  TASK_WORK_EXPOSED,
  TASK_WORK_RELEASED,
} TaskWorkClaim;

/*
 * ConcurryTask:
 *
 * One piece of work of a task manager: what it was given, how it ended,
 * and when it ran.
 *
 * @manager is borrowed: the manager holds a reference on itself while it
 * has unfinished tasks, and a task only uses it until it is counted.
 * @index is set by the manager, with its lock, before the task is handed
 * out. @map, for a task of a map, is a reference. @prev and @next (the
 * manager's list of unfinished tasks) belong to the manager's lock.
 *
 * @future and its outcome follow @claim (see TaskWorkClaim). @state is
 * the task's own state, for HELD and RELEASED: PENDING, RUNNING (set by
 * the work), then terminal, stored after @value and @error. @start_time
 * and @end_time are written by the thread running the work, before the
 * future completes, and read only once it has.
 */
struct _ConcurryTask
{
  GObject               parent_instance;

  /* What the workers and the counting thread use, in the first two cache
   * lines after the object's header (a task of trivial work costs about
   * as much as the lines that move between cores for it). */
  ConcurryTaskManager  *manager;
  ConcurryFuture       *future;
  int                   claim;
  int                   state;
  ConcurryTask         *inbox_next;    /* the manager's inbox of finished
                                        * tasks not yet counted (see
                                        * task_finished()) */
  ConcurryTask         *prev;
  ConcurryTask         *next;

  /* the work: either a work function or a map function, with its data
   * (for map tasks, shared with the other tasks of the map) */
  ConcurryTaskMap      *map;
  ConcurryWorkFunc      work_func;
  ConcurryMapFunc       map_func;
  gpointer              user_data;
  GDestroyNotify        destroy;
  gint64                start_time;
  gint64                end_time;

  /* the outcome, once RELEASED */
  GValue                value;
  GError               *error;

  guint64               index;
  ConcurryFuture       *done_future;   /* atomic: made by get_future() once RELEASED */
  GValue                input;
};

ConcurryTask        *_concurry_task_new        (ConcurryTaskManager *manager);
void                 _concurry_task_map_unref  (ConcurryTaskMap     *map);
gboolean             _concurry_task_expose     (ConcurryTask        *task);
ConcurryFutureState  _concurry_task_get_state  (ConcurryTask        *task);
const GError        *_concurry_task_get_error  (ConcurryTask        *task);

G_END_DECLS
