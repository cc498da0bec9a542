/* test-bad-input.c: no public function crashes on bad input
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every function of the GIR (the cases are generated from it by
 * gen-bad-input-cases.py) is called with each kind of bad input, each
 * case in a subprocess of its own:
 *
 * - null: NULL for every pointer, 0 for every number, a NULL array with
 *   a length of 1;
 * - wrong-type: a plain GObject for every object or interface, arrays of
 *   one plain GObject, NULL callbacks;
 * - foreign: implementations of ConcurryFuture and ConcurryExecutor made
 *   outside concurry (the executor with no vfunc at all), valid callbacks;
 * - extremes: valid instances (done futures, so nothing blocks), the
 *   largest numbers, out-of-range enums (99), GValues never initialized;
 * - extremes-low: the smallest numbers, enums of -1, a NULL array with a
 *   length of G_MAXUINT.
 *
 * A case passes when its subprocess exits normally (criticals are
 * expected: they are made non-fatal there); a crash, an abort, a
 * sanitizer report or a hang fails it. Where the input is certain to be
 * wrong (NULL for an object that is not nullable, an object of the wrong
 * type, a foreign future or vfunc-less executor, an out-of-range enum, a
 * NULL array with a length), the case also fails unless it was refused
 * with a critical, rather than silently accepted.
 */

#include <concurry.h>

typedef struct
{
  const char *function;
  const char *variant;
  void      (*run) (void);
  gboolean    expects_critical;  /* the input is certain to be refused */
} BadInputCase;

/* ---- what the generated cases pass ---- */

static GPtrArray *keep_alive;

static gpointer
keep (gpointer p)
{
  g_ptr_array_add (keep_alive, p);
  return p;
}

G_GNUC_UNUSED static GObject *
wrong_object (void)
{
  return keep (g_object_new (G_TYPE_OBJECT, NULL));
}

G_GNUC_UNUSED static gpointer
out_storage (void)
{
  /* Big enough for any out argument: a GValue, a pointer. */
  return keep (g_malloc0 (64));
}

G_GNUC_UNUSED static GValue *
zeroed_value (void)
{
  return keep (g_malloc0 (sizeof (GValue)));
}

/* A ConcurryFuture implemented outside concurry. */
typedef struct { GObject parent_instance; } ForeignFuture;
typedef struct { GObjectClass parent_class; } ForeignFutureClass;
static GType foreign_future_get_type (void);

static void
foreign_future_iface_init (ConcurryFutureInterface *iface)
{
}

G_DEFINE_TYPE_WITH_CODE (ForeignFuture, foreign_future, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_FUTURE, foreign_future_iface_init))

static void foreign_future_class_init (ForeignFutureClass *klass) { }
static void foreign_future_init (ForeignFuture *self) { }

/* A ConcurryExecutor implemented outside concurry, with no vfunc. */
typedef struct { GObject parent_instance; } ForeignExecutor;
typedef struct { GObjectClass parent_class; } ForeignExecutorClass;
static GType foreign_executor_get_type (void);

static void
foreign_executor_iface_init (ConcurryExecutorInterface *iface)
{
}

G_DEFINE_TYPE_WITH_CODE (ForeignExecutor, foreign_executor, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (CONCURRY_TYPE_EXECUTOR, foreign_executor_iface_init))

static void foreign_executor_class_init (ForeignExecutorClass *klass) { }
static void foreign_executor_init (ForeignExecutor *self) { }

static gboolean
no_input (GValue   *item,
          gpointer  user_data,
          GError  **error)
{
  return FALSE;
}

static void
identity (const GValue  *item,
          GCancellable  *cancellable,
          GValue        *result,
          gpointer       user_data,
          GError       **error)
{
}

static void
gio_finish (GObject         *source_object,
            GAsyncResult    *result,
            ConcurryPromise *promise,
            gpointer         user_data)
{
}

/* A valid instance of @ctype ("Type*"), or NULL for a type we cannot
 * make. Futures are done, so that nothing given one blocks. */
G_GNUC_UNUSED static gpointer
valid_instance (const char *ctype)
{
  if (g_str_equal (ctype, "ConcurryFuture*") || g_str_equal (ctype, "ConcurryResolvedFuture*"))
    return keep (concurry_resolved_future_new_int (1));
  if (g_str_equal (ctype, "ConcurryPromise*"))
    return keep (concurry_promise_new ());
  if (g_str_equal (ctype, "ConcurryExecutor*") ||
      g_str_equal (ctype, "ConcurryThreadPoolExecutor*"))
    return keep (concurry_thread_pool_executor_new (1));
  if (g_str_equal (ctype, "ConcurryTaskExecutor*"))
    return keep (concurry_task_executor_new ());
  if (g_str_equal (ctype, "ConcurryMainContextExecutor*"))
    return keep (concurry_main_context_executor_new (NULL));
  if (g_str_equal (ctype, "ConcurryAsCompleted*"))
    return keep (concurry_as_completed (NULL, 0, 0));
  if (g_str_equal (ctype, "ConcurryCompletionList*"))
    return keep (concurry_completion_list_new (NULL, 0));
  if (g_str_equal (ctype, "ConcurryMapResults*"))
    {
      g_autoptr(ConcurryExecutor) executor =
        CONCURRY_EXECUTOR (concurry_thread_pool_executor_new (1));

      return keep (concurry_executor_map (executor, identity, NULL, NULL, no_input, NULL, NULL,
                                          -1, 1, 0, NULL));
    }
  if (g_str_equal (ctype, "ConcurryGioCall*"))
    return concurry_gio_call_new_full (gio_finish, NULL, NULL);   /* freed by ready() */
  if (g_str_equal (ctype, "GCancellable*"))
    return keep (g_cancellable_new ());
  if (g_str_equal (ctype, "GAsyncResult*") || g_str_equal (ctype, "GTask*"))
    {
      GTask *task = g_task_new (NULL, NULL, NULL, NULL);

      g_task_return_boolean (task, TRUE);
      return keep (task);
    }
  if (g_str_equal (ctype, "GObject*"))
    return wrong_object ();

  return NULL;
}

G_GNUC_UNUSED static gpointer
foreign_instance (const char *ctype)
{
  if (g_str_equal (ctype, "ConcurryFuture*"))
    return keep (g_object_new (foreign_future_get_type (), NULL));
  if (g_str_equal (ctype, "ConcurryExecutor*"))
    return keep (g_object_new (foreign_executor_get_type (), NULL));

  return valid_instance (ctype);
}

static ConcurryFuture **
future_array (gpointer element)
{
  ConcurryFuture **array = keep (g_new0 (ConcurryFuture *, 2));

  array[0] = element;
  return array;
}

G_GNUC_UNUSED static ConcurryFuture **
wrong_array (void)
{
  return future_array (wrong_object ());
}

G_GNUC_UNUSED static ConcurryFuture **
foreign_future_array (void)
{
  return future_array (foreign_instance ("ConcurryFuture*"));
}

G_GNUC_UNUSED static ConcurryFuture **
valid_future_array (void)
{
  return future_array (valid_instance ("ConcurryFuture*"));
}

G_GNUC_UNUSED static void noop_GAsyncReadyCallback (GObject *s, GAsyncResult *r, gpointer d) { }
G_GNUC_UNUSED static void noop_GDestroyNotify (gpointer data) { }
G_GNUC_UNUSED static void noop_GCallback (void) { }

#include "bad-input-cases.h"

/* ---- running them ---- */

static guint n_cases;
static guint n_crashes;
static guint n_known;

/* Crashes known and being fixed elsewhere: reported as incomplete, not as
 * failures, until they pass. */
static const struct {
  const char *function;
  const char *variant;
  const char *why;
} known_crashes[] = {
  { NULL, NULL, NULL },  /* none left */
};

static const char *
known_crash (const BadInputCase *c)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_crashes); i++)
    if (known_crashes[i].function != NULL &&
        g_str_equal (c->function, known_crashes[i].function) &&
        g_str_equal (c->variant, known_crashes[i].variant))
      return known_crashes[i].why;
  return NULL;
}

static void
run_case (gconstpointer data)
{
  const BadInputCase *c = data;

  if (g_test_subprocess ())
    {
      /* Criticals are the expected answer to bad input: not fatal here. */
      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      concurry_set_unobserved_error_warnings (FALSE);
      keep_alive = g_ptr_array_new ();   /* never freed: the process ends */

      c->run ();

      /* What was scheduled runs too: callbacks on the foreign futures. */
      for (guint i = 0; i < 20 && g_main_context_pending (NULL); i++)
        g_main_context_iteration (NULL, FALSE);
      return;
    }

  n_cases++;
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  if (!g_test_trap_has_passed () && known_crash (c) != NULL)
    {
      n_known++;
      g_test_incomplete (known_crash (c));
      return;
    }
  if (!g_test_trap_has_passed ())
    {
      n_crashes++;
      g_test_message ("%s (%s) did not survive", c->function, c->variant);
    }
  g_test_trap_assert_passed ();
  /* Refused, not silently accepted. */
  if (c->expects_critical)
    g_test_trap_assert_stderr ("*CRITICAL*");
}

static void
test_no_crash (void)
{
  g_test_message ("%u cases, %u crashes, %u known crashes fixed elsewhere",
                  n_cases, n_crashes, n_known);
  g_assert_cmpuint (n_cases, ==, G_N_ELEMENTS (bad_input_cases));
  g_assert_cmpuint (n_crashes, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  const char *asan = g_getenv ("ASAN_OPTIONS");

  /* Objects that bad calls drop on the floor are not what this looks for
   * (valgrind and the other tests look for leaks): no leak report in the
   * subprocesses. */
  if (asan == NULL || strstr (asan, "detect_leaks=0") == NULL)
    {
      g_autofree char *options = g_strconcat (asan != NULL ? asan : "",
                                              asan != NULL && *asan ? ":" : "",
                                              "detect_leaks=0", NULL);

      g_setenv ("ASAN_OPTIONS", options, TRUE);
    }

  g_test_init (&argc, &argv, NULL);
  /* One case failing must not hide the others. */
  g_test_set_nonfatal_assertions ();
  g_test_summary ("Every function of the GIR survives NULL, wrong types, foreign "
                  "implementations and out-of-range numbers and enums");

  for (guint i = 0; i < G_N_ELEMENTS (bad_input_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/Concurry/BadInput/%s/%s",
                                               bad_input_cases[i].function,
                                               bad_input_cases[i].variant);

      g_test_add_data_func (path, &bad_input_cases[i], run_case);
    }
  g_test_add_func ("/Concurry/BadInputSummary/no-crash", test_no_crash);

  return g_test_run ();
}
