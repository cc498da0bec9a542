/* consumer-test.c: the consumer's library and concurry, used together
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "consumer.h"

int
main (void)
{
  ConcurryFuture *future = consumer_answer_later (42);
  const GValue *value;

  if (!concurry_check_version (CONCURRY_MAJOR_VERSION, CONCURRY_MINOR_VERSION, 0))
    return 1;

  while (concurry_future_get_state (future) == CONCURRY_FUTURE_STATE_PENDING)
    g_main_context_iteration (NULL, TRUE);

  value = concurry_future_get_value (future);
  if (value == NULL || g_value_get_int (value) != 42)
    return 1;

  g_object_unref (future);
  return 0;
}
