/* concurry-test-helpers.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A tiny library for the binding tests: things a test in GJS cannot do by
 * itself, such as completing a promise from a worker thread.
 */

#pragma once

#include <concurry.h>

G_BEGIN_DECLS

void     concurry_test_resolve_in_thread (ConcurryPromise *promise,
                                          int              value);
void     concurry_test_reject_in_thread  (ConcurryPromise *promise,
                                          const char      *message);
gboolean concurry_test_is_main_thread    (void);
gboolean concurry_test_last_resolve_off_main_thread (void);
const char *concurry_test_value_type_name (ConcurryFuture *future);

G_END_DECLS
