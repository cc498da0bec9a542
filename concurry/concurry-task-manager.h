/* concurry-task-manager.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-executor.h"
#include "concurry-task.h"

G_BEGIN_DECLS

/**
 * ConcurryErrorPolicy:
 * @CONCURRY_ERROR_POLICY_RAISE: fail fast: the first failure cancels the
 *   tasks that have not started, stops reading input, and makes
 *   [method@Concurry.TaskManager.wait], [method@Concurry.TaskManager.join]
 *   and the other waits fail with the task's error
 * @CONCURRY_ERROR_POLICY_LOG: log one structured record per failure,
 *   naming the task and its error, and go on
 * @CONCURRY_ERROR_POLICY_IGNORE: keep failures in their tasks and go on
 *
 * What a [class@Concurry.TaskManager] does when a task fails. Whatever the
 * policy, the error stays in the task (see [method@Concurry.Task.get_error]);
 * a cancelled task is not a failure.
 *
 * Since: 0.2
 */
typedef enum
{
  CONCURRY_ERROR_POLICY_RAISE,
  CONCURRY_ERROR_POLICY_LOG,
  CONCURRY_ERROR_POLICY_IGNORE,
} ConcurryErrorPolicy;

#define CONCURRY_TYPE_TASK_MANAGER (concurry_task_manager_get_type ())

CONCURRY_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (ConcurryTaskManager, concurry_task_manager, CONCURRY, TASK_MANAGER, GObject)

CONCURRY_AVAILABLE_IN_0_2
ConcurryTaskManager *concurry_task_manager_new                   (ConcurryExecutor     *executor,
                                                                  ConcurryErrorPolicy   error_policy) G_GNUC_WARN_UNUSED_RESULT;

CONCURRY_AVAILABLE_IN_0_2
ConcurryExecutor    *concurry_task_manager_get_executor          (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
ConcurryErrorPolicy  concurry_task_manager_get_error_policy      (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
guint                concurry_task_manager_get_max_in_flight     (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
void                 concurry_task_manager_set_max_in_flight     (ConcurryTaskManager  *self,
                                                                  guint                 max_in_flight);
CONCURRY_AVAILABLE_IN_0_2
guint                concurry_task_manager_get_monitor_interval  (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
void                 concurry_task_manager_set_monitor_interval  (ConcurryTaskManager  *self,
                                                                  guint                 seconds);
CONCURRY_AVAILABLE_IN_0_2
gboolean             concurry_task_manager_get_keep_completed    (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
void                 concurry_task_manager_set_keep_completed    (ConcurryTaskManager  *self,
                                                                  gboolean              keep_completed);

CONCURRY_AVAILABLE_IN_0_2
ConcurryTask        *concurry_task_manager_submit                (ConcurryTaskManager  *self,
                                                                  ConcurryWorkFunc      func,
                                                                  gpointer              user_data,
                                                                  GDestroyNotify        destroy,
                                                                  GError              **error) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_0_2
ConcurryTask        *concurry_task_manager_submit_input          (ConcurryTaskManager  *self,
                                                                  const GValue         *input,
                                                                  ConcurryMapFunc       func,
                                                                  gpointer              user_data,
                                                                  GDestroyNotify        destroy,
                                                                  GError              **error) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_0_2
gboolean             concurry_task_manager_map                   (ConcurryTaskManager  *self,
                                                                  ConcurryMapFunc       func,
                                                                  gpointer              func_data,
                                                                  GDestroyNotify        func_destroy,
                                                                  ConcurryInputFunc     input,
                                                                  gpointer              input_data,
                                                                  GDestroyNotify        input_destroy,
                                                                  gint64                n_inputs,
                                                                  GError              **error);

CONCURRY_AVAILABLE_IN_0_2
guint64              concurry_task_manager_get_n_submitted       (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
guint64              concurry_task_manager_get_n_completed       (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
guint64              concurry_task_manager_get_n_failed          (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
guint64              concurry_task_manager_get_n_cancelled       (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
gboolean             concurry_task_manager_get_running           (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
double               concurry_task_manager_get_fraction          (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
const GError        *concurry_task_manager_get_error             (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
GListModel          *concurry_task_manager_get_completed_tasks   (ConcurryTaskManager  *self);

CONCURRY_AVAILABLE_IN_0_2
ConcurryTask        *concurry_task_manager_next_completed        (ConcurryTaskManager  *self,
                                                                  gint64                timeout_usec,
                                                                  GError              **error) G_GNUC_WARN_UNUSED_RESULT;
CONCURRY_AVAILABLE_IN_0_2
void                 concurry_task_manager_next_completed_async  (ConcurryTaskManager  *self,
                                                                  GCancellable         *cancellable,
                                                                  GAsyncReadyCallback   callback,
                                                                  gpointer              user_data);
CONCURRY_AVAILABLE_IN_0_2
ConcurryTask        *concurry_task_manager_next_completed_finish (ConcurryTaskManager  *self,
                                                                  GAsyncResult         *result,
                                                                  GError              **error) G_GNUC_WARN_UNUSED_RESULT;

CONCURRY_AVAILABLE_IN_0_2
gboolean             concurry_task_manager_wait                  (ConcurryTaskManager  *self,
                                                                  gint64                timeout_usec,
                                                                  GError              **error);
CONCURRY_AVAILABLE_IN_0_2
void                 concurry_task_manager_wait_async            (ConcurryTaskManager  *self,
                                                                  GCancellable         *cancellable,
                                                                  GAsyncReadyCallback   callback,
                                                                  gpointer              user_data);
CONCURRY_AVAILABLE_IN_0_2
gboolean             concurry_task_manager_wait_finish           (ConcurryTaskManager  *self,
                                                                  GAsyncResult         *result,
                                                                  GError              **error);
CONCURRY_AVAILABLE_IN_0_2
gboolean             concurry_task_manager_join                  (ConcurryTaskManager  *self,
                                                                  GError              **error);
CONCURRY_AVAILABLE_IN_0_2
void                 concurry_task_manager_cancel                (ConcurryTaskManager  *self);
CONCURRY_AVAILABLE_IN_0_2
gboolean             concurry_task_manager_shutdown              (ConcurryTaskManager  *self,
                                                                  gboolean              wait,
                                                                  gboolean              cancel_futures,
                                                                  GError              **error);
CONCURRY_AVAILABLE_IN_0_2
gboolean             concurry_task_manager_is_shutdown           (ConcurryTaskManager  *self);

G_END_DECLS
