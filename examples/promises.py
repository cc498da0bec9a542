#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Promises resolved by Python threads, callbacks on the GLib main loop.

Run from a build tree with:  meson devenv -C build /usr/bin/python3 ../examples/promises.py
"""

import hashlib
import threading

import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry, GLib  # noqa: E402


def digest_in_thread(promise, data):
    def work():
        if not promise.mark_running():
            return                       # cancelled before it started
        promise.resolve_string(hashlib.sha256(data).hexdigest())
    threading.Thread(target=work).start()


def main():
    loop = GLib.MainLoop()
    inputs = [b'alpha', b'beta', b'gamma', b'delta']
    futures = []
    remaining = [len(inputs)]

    def on_done(future, name):
        # Always called on the main loop's thread, exactly once.
        print(f'{name:>6}: {future.get_string()[:16]}...')
        remaining[0] -= 1
        if remaining[0] == 0:
            loop.quit()

    # The loop does not run yet: name its context, so that the callbacks
    # wait for it (a thread running no loop gets them at once otherwise).
    context = GLib.MainContext.default()
    for data in inputs:
        promise = Concurry.Promise()
        promise.add_done_callback(on_done, data.decode(), main_context=context)
        digest_in_thread(promise, data)
        futures.append(promise)

    loop.run()

    # A blocking wait works without a loop too; failures raise GLib.Error.
    failed = Concurry.ResolvedFuture.new_error_literal(
        GLib.quark_from_string('example-error'), 1, 'this one failed on purpose')
    try:
        failed.wait(-1)
    except GLib.Error as error:
        print('error:', error.message)

    print('all', len(futures), 'digests computed')


if __name__ == '__main__':
    main()
