/* concurry-executor-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-executor-private.h"
#endif

#include "concurry-executor.h"

G_BEGIN_DECLS

/* The executor whose work runs on the calling thread right now, if any:
 * lets shutdown (wait = TRUE) refuse to wait for itself. */
ConcurryExecutor *_concurry_executor_get_current (void);
void              _concurry_executor_set_current (ConcurryExecutor *executor);

void              _concurry_executor_set_shut_down_error (GError **error);
ConcurryFuture   *_concurry_thread_pool_executor_submit (ConcurryExecutor  *executor,
                                                        ConcurryWorkFunc   func,
                                                        gpointer           user_data,
                                                        GDestroyNotify     destroy,
                                                        GError           **error);
gboolean          _concurry_executor_refuse_javascript   (gpointer  func,
                                                          GError  **error);

G_END_DECLS
