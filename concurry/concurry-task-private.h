/* concurry-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-task-private.h"
#endif

#include "concurry-dispatch-private.h"
#include "concurry-executor.h"
#include "concurry-task.h"

G_BEGIN_DECLS

typedef struct _ConcurryTaskMap ConcurryTaskMap;
typedef struct _ConcurryTaskManager ConcurryTaskManager;

/*
 * ConcurryTask:
 *
 * One piece of work of a task manager: what it was given, the future the
 * executor handed out for it, and when it ran.
 *
 * @manager is borrowed: the task holds a reference on it until the
 * future is done and counted and the executor has released the work, the
 * only times it is used. @index is set by the manager, with its lock,
 * before the task is handed out. @map, for a task of a map, is a reference. @future, @prev and
 * @next (the manager's list of unfinished tasks) belong to the manager's
 * lock. @start_time and @end_time are written by the thread running the
 * work, before the future completes, and read only once it has.
 */
struct _ConcurryTask
{
  GObject               parent_instance;

  ConcurryTaskManager  *manager;
  ConcurryFuture       *future;
  GValue                input;
  guint64               index;
  gint64                start_time;
  gint64                end_time;

  /* the work: either a work function or a map function, with its data
   * (for map tasks, shared with the other tasks of the map) */
  ConcurryWorkFunc      work_func;
  ConcurryMapFunc       map_func;
  gpointer              user_data;
  GDestroyNotify        destroy;
  ConcurryTaskMap      *map;

  ConcurryTask         *prev;
  ConcurryTask         *next;

  /* The manager's done callback on @future, and the executor's release of
   * the work: one reference on the task and one on the manager serve both,
   * dropped by whichever of the two comes last (@pending counts them). */
  ConcurryCallback      done_node;
  int                   pending;
  gboolean              kept;      /* that reference went to the manager's
                                    * finished tasks: set before the done
                                    * side settles */

  /* the manager's inbox of finished tasks not yet counted (see
   * task_done()) */
  ConcurryTask         *inbox_next;
};

ConcurryTask *_concurry_task_new        (ConcurryTaskManager *manager);
void          _concurry_task_map_unref  (ConcurryTaskMap     *map);

G_END_DECLS
