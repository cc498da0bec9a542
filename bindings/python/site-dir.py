# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prints the site directory of this Python that lies under PREFIX.

Usage: site-dir.py PREFIX. Prints the first of the interpreter's site
directories (system ones, then the user one) whose path relative to PREFIX
starts with lib (lib/, lib64/, lib/<triplet>/, ...), relative to PREFIX, or
nothing if there is none. The "lib" rule keeps /usr/local/lib/... out of
the answer for PREFIX=/usr.
"""

import os
import site
import sys


def main(prefix):
    prefix = os.path.abspath(prefix)
    candidates = list(site.getsitepackages())
    if site.ENABLE_USER_SITE is not False:
        candidates.append(site.getusersitepackages())
    for directory in candidates:
        directory = os.path.abspath(directory)
        if os.path.commonpath([directory, prefix]) != prefix:
            continue
        relative = os.path.relpath(directory, prefix)
        if relative.split(os.sep)[0].startswith('lib'):
            print(relative)
            return


main(sys.argv[1])
