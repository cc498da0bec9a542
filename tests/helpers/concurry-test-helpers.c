/* concurry-test-helpers.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/syscall.h>
#include <unistd.h>

#include "concurry-test-helpers.h"

static int last_resolve_off_main;

typedef struct
{
  ConcurryPromise *promise;
  int              value;
  char            *message;
} Job;

static gpointer
job_thread (gpointer data)
{
  Job *job = data;

  g_atomic_int_set (&last_resolve_off_main, !concurry_test_is_main_thread ());

  if (job->message != NULL)
    concurry_promise_reject_literal (job->promise, G_IO_ERROR, G_IO_ERROR_FAILED, job->message);
  else
    concurry_promise_resolve_int (job->promise, job->value);

  g_object_unref (job->promise);
  g_free (job->message);
  g_free (job);

  return NULL;
}

static void
start (ConcurryPromise *promise,
       int              value,
       const char      *message)
{
  Job *job = g_new0 (Job, 1);

  job->promise = g_object_ref (promise);
  job->value = value;
  job->message = g_strdup (message);
  g_thread_unref (g_thread_new ("concurry-test-worker", job_thread, job));
}

/**
 * concurry_test_resolve_in_thread:
 * @promise: a promise
 * @value: the value
 *
 * Resolves @promise with @value from a new thread.
 */
void
concurry_test_resolve_in_thread (ConcurryPromise *promise,
                                 int              value)
{
  start (promise, value, NULL);
}

/**
 * concurry_test_reject_in_thread:
 * @promise: a promise
 * @message: the message of the error (G_IO_ERROR_FAILED)
 *
 * Rejects @promise from a new thread.
 */
void
concurry_test_reject_in_thread (ConcurryPromise *promise,
                                const char      *message)
{
  start (promise, 0, message);
}

/**
 * concurry_test_is_main_thread:
 *
 * Returns: whether the caller runs on the main thread of the process
 */
gboolean
concurry_test_is_main_thread (void)
{
  return syscall (SYS_gettid) == getpid ();
}

/**
 * concurry_test_last_resolve_off_main_thread:
 *
 * Returns: whether the last promise completed by this library was
 *   completed on a thread other than the main one
 */
gboolean
concurry_test_last_resolve_off_main_thread (void)
{
  return g_atomic_int_get (&last_resolve_off_main);
}

/**
 * concurry_test_value_type_name:
 * @future: a future done with a value
 *
 * Returns: the name of the type of @future's value ("invalid" for none),
 *   so that a binding test can check what C reads
 */
const char *
concurry_test_value_type_name (ConcurryFuture *future)
{
  const GValue *value = concurry_future_get_value (future);

  if (value == NULL || !G_IS_VALUE (value))
    return "invalid";
  return G_VALUE_TYPE_NAME (value);
}
