/* concurry-version.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-version-macros.h"

/*
 * The CONCURRY_*_VERSION macros say which concurry a program was compiled
 * against; these functions say which one it runs with, which differs once
 * the shared library is upgraded, and are the only way to ask from a
 * binding.
 */

/**
 * concurry_get_major_version:
 *
 * Gets the major version of the concurry library the program runs with.
 *
 * Compare [const@Concurry.MAJOR_VERSION], the major version it was compiled
 * against.
 *
 * Returns: the major version of the running concurry, such as 0 for 0.2.1
 *
 * Since: 0.2
 */
guint
concurry_get_major_version (void)
{
  return CONCURRY_MAJOR_VERSION;
}

/**
 * concurry_get_minor_version:
 *
 * Gets the minor version of the concurry library the program runs with.
 *
 * Returns: the minor version of the running concurry, such as 2 for 0.2.1
 *
 * Since: 0.2
 */
guint
concurry_get_minor_version (void)
{
  return CONCURRY_MINOR_VERSION;
}

/**
 * concurry_get_micro_version:
 *
 * Gets the micro version of the concurry library the program runs with.
 *
 * Returns: the micro version of the running concurry, such as 1 for 0.2.1
 *
 * Since: 0.2
 */
guint
concurry_get_micro_version (void)
{
  return CONCURRY_MICRO_VERSION;
}

/**
 * concurry_check_version:
 * @major: the required major version
 * @minor: the required minor version
 * @micro: the required micro version
 *
 * Checks that the concurry library the program runs with is at least
 * version @major.@minor.@micro.
 *
 * This is the run-time counterpart of [func@Concurry.CHECK_VERSION], for
 * programs that may run with a newer library than the one they were
 * compiled against, and for bindings.
 *
 * Returns: %TRUE if the running concurry is the given version or newer
 *
 * Since: 0.2
 */
gboolean
concurry_check_version (guint major,
                        guint minor,
                        guint micro)
{
  /* Variables, not the macros: comparing an unsigned number with the
   * literal 0 draws -Wtype-limits. */
  guint running_major = concurry_get_major_version ();
  guint running_minor = concurry_get_minor_version ();
  guint running_micro = concurry_get_micro_version ();

  if (running_major != major)
    return running_major > major;
  if (running_minor != minor)
    return running_minor > minor;
  return running_micro >= micro;
}
