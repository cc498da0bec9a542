/* concurry-map-results-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-map-results-private.h"
#endif

#include "concurry-executor.h"

G_BEGIN_DECLS

ConcurryMapResults *_concurry_map_results_new (ConcurryExecutor   *executor,
                                               ConcurryMapFunc     func,
                                               gpointer            func_data,
                                               GDestroyNotify      func_destroy,
                                               ConcurryRunner     *runner,
                                               const GValue       *runner_data,
                                               ConcurryInputFunc   input,
                                               gpointer            input_data,
                                               GDestroyNotify      input_destroy,
                                               gint64              deadline,
                                               guint               chunksize,
                                               guint               max_in_flight,
                                               GError            **error);

G_END_DECLS
