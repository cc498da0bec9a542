#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""GIO asynchronous calls as futures.

Concurry.gio_call() starts a GIO call and returns its future: the value is
what the _finish function returns (a tuple for several out values), its
GLib.Error the future's exception, and cancelling the future cancels the
call. Three calls run at once here: a query of this file's size, a read of
its contents, and a read of a file that does not exist. gather() waits for
all of them; on the main thread it iterates the main context meanwhile,
which is where GIO completes the calls.

Run from a build tree with:
  meson devenv -C build /usr/bin/python3 ../examples/gio-call.py
"""

import sys

import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry, Gio, GLib  # noqa: E402


def main():
    here = Gio.File.new_for_path(__file__)
    missing = Gio.File.new_for_path(__file__ + '.does-not-exist')

    info = Concurry.gio_call(here.query_info_async, Gio.FILE_ATTRIBUTE_STANDARD_SIZE,
                             Gio.FileQueryInfoFlags.NONE, GLib.PRIORITY_DEFAULT,
                             finish=here.query_info_finish)
    contents = Concurry.gio_call(here.load_contents_async, finish=here.load_contents_finish)
    nothing = Concurry.gio_call(missing.load_contents_async, finish=missing.load_contents_finish)

    info, (ok, data, etag), error = Concurry.gather([info, contents, nothing], timeout=30,
                                                    return_exceptions=True)
    print(f'queried: {info.get_size()} bytes')
    print(f'read:    {len(data)} bytes')
    print(f'missing: {error.message}')

    if info.get_size() != len(data):
        sys.exit('the sizes differ')
    if not error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND):
        sys.exit(f'expected G_IO_ERROR_NOT_FOUND, got {error!r}')


if __name__ == '__main__':
    main()
