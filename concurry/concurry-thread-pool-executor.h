/* concurry-thread-pool-executor.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include "concurry-executor.h"

G_BEGIN_DECLS

#define CONCURRY_TYPE_THREAD_POOL_EXECUTOR (concurry_thread_pool_executor_get_type ())

CONCURRY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ConcurryThreadPoolExecutor, concurry_thread_pool_executor, CONCURRY, THREAD_POOL_EXECUTOR, GObject)

CONCURRY_AVAILABLE_IN_ALL
ConcurryExecutor *concurry_thread_pool_executor_new (guint max_workers) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
