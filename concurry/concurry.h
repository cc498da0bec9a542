/* concurry.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#define CONCURRY_INSIDE
# include "concurry-version.h"
# include "concurry-version-macros.h"
# include "concurry-enum-types.h"
# include "concurry-error.h"
# include "concurry-combinators.h"
# include "concurry-as-completed.h"
# include "concurry-completion-list.h"
# include "concurry-future.h"
# include "concurry-executor.h"
# include "concurry-gio.h"
# include "concurry-main-context-executor.h"
# include "concurry-map-results.h"
# include "concurry-promise.h"
# include "concurry-resolved-future.h"
# include "concurry-runner.h"
# include "concurry-task.h"
# include "concurry-task-executor.h"
# include "concurry-task-manager.h"
# include "concurry-thread-pool-executor.h"
# include "concurry-work-batch.h"
#undef CONCURRY_INSIDE
