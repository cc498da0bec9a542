/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <concurry.h>

int
main (int argc, char *argv[])
{
  return 0;
}
