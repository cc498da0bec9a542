/* consumer.h: a library that uses concurry in its API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <concurry.h>

G_BEGIN_DECLS

ConcurryFuture *consumer_answer_later (int answer);

G_END_DECLS
