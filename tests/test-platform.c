/* test-platform.c: what concurry's platform tricks rely on
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * concurry-platform-private.c reads fields of GObject to tell whether an
 * object is reachable by anybody but the caller (to recycle it). These
 * tests fail if a GLib release stops showing, in those fields, any of the
 * ways an object can be reached.
 */

#include "config.h"

#include <gio/gio.h>

#include "concurry-platform-private.h"

static void
test_fresh_object_is_unshared (void)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  g_assert_true (_concurry_platform_object_is_unshared (object));
  g_assert_true (_concurry_platform_object_is_unshared (G_OBJECT (cancellable)));
}

static void
test_second_reference_shares (void)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);

  g_object_ref (object);
  g_assert_false (_concurry_platform_object_is_unshared (object));
  g_object_unref (object);
  g_assert_true (_concurry_platform_object_is_unshared (object));
}

static void
test_weak_reference_shares (void)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  GWeakRef weak;

  g_weak_ref_init (&weak, object);
  g_assert_false (_concurry_platform_object_is_unshared (object));
  g_weak_ref_clear (&weak);
}

static void
weak_notify (gpointer  data,
             GObject  *where_the_object_was)
{
}

static void
test_weak_notify_shares (void)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  gpointer pointer = object;

  g_object_weak_ref (object, weak_notify, NULL);
  g_assert_false (_concurry_platform_object_is_unshared (object));
  g_object_weak_unref (object, weak_notify, NULL);

  g_object_add_weak_pointer (object, &pointer);
  g_assert_false (_concurry_platform_object_is_unshared (object));
  g_object_remove_weak_pointer (object, &pointer);
}

static void
toggle_notify (gpointer  data,
               GObject  *object,
               gboolean  is_last_ref)
{
}

static void
test_toggle_reference_shares (void)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);

  /* A binding's wrapper: a toggle reference, then the creator's goes. */
  g_object_add_toggle_ref (object, toggle_notify, NULL);
  g_object_unref (object);
  g_assert_false (_concurry_platform_object_is_unshared (object));
  g_object_remove_toggle_ref (object, toggle_notify, NULL);
}

static void
test_object_data_shares (void)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);

  g_object_set_data (object, "somebody's", GINT_TO_POINTER (1));
  g_assert_false (_concurry_platform_object_is_unshared (object));

  g_object_set_qdata_full (object, g_quark_from_static_string ("binding"), g_strdup ("x"),
                           g_free);
  g_assert_false (_concurry_platform_object_is_unshared (object));
}

static void
test_spinning_lock_locks (void)
{
  GMutex mutex;

  g_mutex_init (&mutex);
  _concurry_platform_mutex_lock_spinning (&mutex);
  g_assert_false (g_mutex_trylock (&mutex));
  g_mutex_unlock (&mutex);
  g_mutex_clear (&mutex);
}

/* The spin gives up once its pauses are spent if the value stays as it
 * was, and tells a changed value at once, however rarely it looks. */
static void
test_spin_sees_a_change (void)
{
  int value = 1;

  g_assert_false (_concurry_platform_spin_until_changed (&value, 1, 0, 64));
  g_assert_false (_concurry_platform_spin_until_changed (&value, 1, 256, 64));
  g_assert_false (_concurry_platform_spin_until_changed (&value, 1, 10, 0));
  g_assert_true (_concurry_platform_spin_until_changed (&value, 0, 0, 64));
  g_assert_true (_concurry_platform_spin_until_changed (&value, 0, 256, 1000));
}

static gpointer
is_main_thread_func (gpointer data)
{
  return GINT_TO_POINTER (_concurry_platform_is_main_thread ());
}

static void
test_main_thread_is_recognized (void)
{
  GThread *thread = g_thread_new ("other", is_main_thread_func, NULL);

  g_assert_false (GPOINTER_TO_INT (g_thread_join (thread)));
#ifdef __linux__
  g_assert_true (_concurry_platform_is_main_thread ());
#endif
}

static void
test_c_function_is_not_javascript (void)
{
  g_assert_false (_concurry_platform_func_is_javascript (test_c_function_is_not_javascript));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("The GLib behaviour that concurry's platform tricks rely on");

  g_test_add_func ("/Concurry/Platform/fresh-object-is-unshared", test_fresh_object_is_unshared);
  g_test_add_func ("/Concurry/Platform/second-reference-shares", test_second_reference_shares);
  g_test_add_func ("/Concurry/Platform/weak-reference-shares", test_weak_reference_shares);
  g_test_add_func ("/Concurry/Platform/weak-notify-and-pointer-share", test_weak_notify_shares);
  g_test_add_func ("/Concurry/Platform/toggle-reference-shares", test_toggle_reference_shares);
  g_test_add_func ("/Concurry/Platform/object-data-shares", test_object_data_shares);
  g_test_add_func ("/Concurry/Platform/spinning-lock-locks", test_spinning_lock_locks);
  g_test_add_func ("/Concurry/Platform/spin-sees-a-change", test_spin_sees_a_change);
  g_test_add_func ("/Concurry/Platform/main-thread-is-recognized", test_main_thread_is_recognized);
  g_test_add_func ("/Concurry/Platform/c-function-is-not-javascript",
                   test_c_function_is_not_javascript);

  return g_test_run ();
}
