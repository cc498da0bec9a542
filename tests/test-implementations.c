/* test-implementations.c: implementations of the interfaces made outside
 * concurry
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ConcurryExecutor is a public interface with vfuncs: an executor made
 * outside concurry works with everything that takes an executor, and one
 * that leaves a vfunc out gets a critical, not a jump to address 0.
 * ConcurryFuture has no vfuncs (every implementation embeds concurry's
 * completion core): a future made outside concurry is refused by every
 * function with a critical and a safe return value.
 */

#include <concurry.h>

/* ---- an executor of our own: runs the work at once, on the caller ---- */

typedef struct
{
  GObject  parent_instance;
  gboolean shut_down;
  guint    n_submitted;
} InlineExecutor;
typedef struct { GObjectClass parent_class; } InlineExecutorClass;
static GType inline_executor_get_type (void);

static ConcurryFuture *
inline_submit (ConcurryExecutor  *executor,
               ConcurryWorkFunc   func,
               gpointer           user_data,
               GDestroyNotify     destroy,
               GError           **error)
{
  InlineExecutor *self = (InlineExecutor *)executor;
  g_autoptr(ConcurryPromise) promise = NULL;
  GValue value = G_VALUE_INIT;
  GError *work_error = NULL;

  if (self->shut_down)
    {
      if (destroy != NULL)
        destroy (user_data);
      g_set_error_literal (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN, "shut down");
      return NULL;
    }

  self->n_submitted++;
  promise = concurry_promise_new ();
  func (concurry_promise_get_cancellable (promise), &value, user_data, &work_error);
  if (destroy != NULL)
    destroy (user_data);
  if (work_error != NULL)
    concurry_promise_take_error (promise, work_error);
  else if (G_IS_VALUE (&value))
    concurry_promise_take_value (promise, &value);
  else
    concurry_promise_resolve (promise, NULL);

  return g_object_ref (CONCURRY_FUTURE (promise));
}

static gboolean
inline_shutdown (ConcurryExecutor  *executor,
                 gboolean           wait,
                 gboolean           cancel_futures,
                 GError           **error)
{
  ((InlineExecutor *)executor)->shut_down = TRUE;
  return TRUE;
}

static gboolean
inline_is_shutdown (ConcurryExecutor *executor)
{
  return ((InlineExecutor *)executor)->shut_down;
}

static guint
inline_get_max_workers (ConcurryExecutor *executor)
{
  return 1;
}

static void
inline_executor_iface_init (ConcurryExecutorInterface *iface)
{
  iface->submit = inline_submit;
  iface->shutdown = inline_shutdown;
  iface->is_shutdown = inline_is_shutdown;
  iface->get_max_workers = inline_get_max_workers;
}

G_DEFINE_TYPE_WITH_CODE (InlineExecutor, inline_executor, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_EXECUTOR, inline_executor_iface_init))

static void inline_executor_class_init (InlineExecutorClass *klass) { }
static void inline_executor_init (InlineExecutor *self) { }

/* ---- an executor without vfuncs ---- */

typedef struct { GObject parent_instance; } EmptyExecutor;
typedef struct { GObjectClass parent_class; } EmptyExecutorClass;
static GType empty_executor_get_type (void);

static void
empty_executor_iface_init (ConcurryExecutorInterface *iface)
{
}

G_DEFINE_TYPE_WITH_CODE (EmptyExecutor, empty_executor, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_EXECUTOR, empty_executor_iface_init))

static void empty_executor_class_init (EmptyExecutorClass *klass) { }
static void empty_executor_init (EmptyExecutor *self) { }

/* ---- a future made outside concurry ---- */

typedef struct { GObject parent_instance; } OwnFuture;
typedef struct { GObjectClass parent_class; } OwnFutureClass;
static GType own_future_get_type (void);

static void
own_future_iface_init (ConcurryFutureInterface *iface)
{
}

G_DEFINE_TYPE_WITH_CODE (OwnFuture, own_future, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_FUTURE, own_future_iface_init))

static void own_future_class_init (OwnFutureClass *klass) { }
static void own_future_init (OwnFuture *self) { }

/* ---- work ---- */

static void
answer (GCancellable  *cancellable,
        GValue        *value,
        gpointer       user_data,
        GError       **error)
{
  g_value_init (value, G_TYPE_INT);
  g_value_set_int (value, 42);
}

static void
square (const GValue  *item,
        GCancellable  *cancellable,
        GValue        *result,
        gpointer       user_data,
        GError       **error)
{
  g_value_init (result, G_TYPE_INT);
  g_value_set_int (result, g_value_get_int (item) * g_value_get_int (item));
}

static gboolean
count_to_three (GValue    *item,
                gpointer   user_data,
                GError   **error)
{
  int *next = user_data;

  if (*next > 3)
    return FALSE;
  g_value_init (item, G_TYPE_INT);
  g_value_set_int (item, (*next)++);
  return TRUE;
}

static void
test_own_executor_submits (void)
{
  g_autoptr(ConcurryExecutor) executor = g_object_new (inline_executor_get_type (), NULL);
  g_autoptr(ConcurryFuture) future = NULL;
  g_autoptr(GError) error = NULL;

  future = concurry_executor_submit (executor, answer, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (concurry_future_wait (future, -1, &error));
  g_assert_cmpint (concurry_future_get_int (future), ==, 42);
  g_assert_cmpuint (concurry_executor_get_max_workers (executor), ==, 1);

  g_assert_true (concurry_executor_shutdown (executor, TRUE, FALSE, &error));
  g_assert_true (concurry_executor_is_shutdown (executor));
  g_assert_null (concurry_executor_submit (executor, answer, NULL, NULL, &error));
  g_assert_error (error, CONCURRY_ERROR, CONCURRY_ERROR_SHUT_DOWN);
}

static void
test_own_executor_maps (void)
{
  g_autoptr(ConcurryExecutor) executor = g_object_new (inline_executor_get_type (), NULL);
  g_autoptr(ConcurryMapResults) results = NULL;
  g_autoptr(GError) error = NULL;
  int next = 1;
  int expected = 1;
  GValue value = G_VALUE_INIT;

  results = concurry_executor_map (executor, square, NULL, NULL, count_to_three, &next, NULL,
                                   -1, 1, 0, &error);
  g_assert_no_error (error);
  while (concurry_map_results_next (results, &value, &error))
    {
      g_assert_cmpint (g_value_get_int (&value), ==, expected * expected);
      g_value_unset (&value);
      expected++;
    }
  g_assert_no_error (error);
  g_assert_cmpint (expected, ==, 4);
  g_assert_cmpuint (((InlineExecutor *)executor)->n_submitted, >, 0);
}

static void
test_executor_without_vfuncs_gets_criticals (void)
{
  g_autoptr(ConcurryExecutor) executor = g_object_new (empty_executor_get_type (), NULL);

  g_test_expect_message ("Concurry", G_LOG_LEVEL_CRITICAL, "*does not implement ConcurryExecutor.submit*");
  g_assert_null (concurry_executor_submit (executor, answer, NULL, NULL, NULL));
  g_test_expect_message ("Concurry", G_LOG_LEVEL_CRITICAL, "*does not implement ConcurryExecutor.shutdown*");
  g_assert_false (concurry_executor_shutdown (executor, TRUE, FALSE, NULL));
  g_test_expect_message ("Concurry", G_LOG_LEVEL_CRITICAL, "*does not implement ConcurryExecutor.is_shutdown*");
  g_assert_false (concurry_executor_is_shutdown (executor));
  g_test_expect_message ("Concurry", G_LOG_LEVEL_CRITICAL, "*does not implement ConcurryExecutor.get_max_workers*");
  g_assert_cmpuint (concurry_executor_get_max_workers (executor), ==, 0);
  g_test_assert_expected_messages ();
}

static void
nothing (ConcurryFuture *future,
         gpointer        user_data)
{
}

#define EXPECT_REFUSED() \
  g_test_expect_message ("Concurry", G_LOG_LEVEL_CRITICAL, "*outside concurry*")

static void
test_own_future_is_refused (void)
{
  g_autoptr(ConcurryFuture) own = g_object_new (own_future_get_type (), NULL);
  ConcurryFuture *futures[] = { own };

  EXPECT_REFUSED ();
  g_assert_cmpint (concurry_future_get_state (own), ==, CONCURRY_FUTURE_STATE_PENDING);
  EXPECT_REFUSED ();
  g_assert_false (concurry_future_wait (own, 0, NULL));
  EXPECT_REFUSED ();
  concurry_future_wait_async (own, NULL, NULL, NULL);
  EXPECT_REFUSED ();
  g_assert_null (concurry_future_with_timeout (own, 0));
  EXPECT_REFUSED ();
  g_assert_null (concurry_future_finally_do (own, nothing, NULL, NULL));
  EXPECT_REFUSED ();
  g_assert_null (concurry_gather (futures, 1, CONCURRY_GATHER_FLAGS_NONE));
  EXPECT_REFUSED ();
  g_assert_null (concurry_any (futures, 1));
  EXPECT_REFUSED ();
  g_assert_null (concurry_race (futures, 1));
  EXPECT_REFUSED ();
  g_assert_null (concurry_wait_future (futures, 1, CONCURRY_WAIT_ALL_COMPLETED));
  EXPECT_REFUSED ();
  g_assert_false (concurry_wait (futures, 1, CONCURRY_WAIT_ALL_COMPLETED, 0, NULL, NULL));
  EXPECT_REFUSED ();
  g_assert_null (concurry_as_completed (futures, 1, 0));
  EXPECT_REFUSED ();
  g_assert_null (concurry_completion_list_new (futures, 1));
  g_test_assert_expected_messages ();
}

static void
test_wait_future_refuses_unknown_mode (void)
{
  g_autoptr(ConcurryFuture) done = concurry_resolved_future_new_int (1);
  ConcurryFuture *futures[] = { done };

  g_test_expect_message ("Concurry", G_LOG_LEVEL_CRITICAL, "*mode*");
  g_assert_null (concurry_wait_future (futures, 1, (ConcurryWaitMode)99));
  g_test_expect_message ("Concurry", G_LOG_LEVEL_CRITICAL, "*mode*");
  g_assert_false (concurry_wait (futures, 1, (ConcurryWaitMode)99, 0, NULL, NULL));
  g_test_expect_message ("Concurry", G_LOG_LEVEL_CRITICAL, "*flags*");
  g_assert_null (concurry_gather (futures, 1, (ConcurryGatherFlags)0x100));
  g_test_assert_expected_messages ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Executors made outside concurry work through their vfuncs; futures made "
                  "outside concurry are refused with a critical");

  g_test_add_func ("/Concurry/OwnExecutor/submits-through-its-vfuncs", test_own_executor_submits);
  g_test_add_func ("/Concurry/OwnExecutor/maps-through-its-vfuncs", test_own_executor_maps);
  g_test_add_func ("/Concurry/OwnExecutor/missing-vfuncs-get-criticals",
                   test_executor_without_vfuncs_gets_criticals);
  g_test_add_func ("/Concurry/OwnFuture/refused-with-critical", test_own_future_is_refused);
  g_test_add_func ("/Concurry/Wait/future-refuses-unknown-mode",
                   test_wait_future_refuses_unknown_mode);

  return g_test_run ();
}
