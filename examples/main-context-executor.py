#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Running functions on the main thread with a main-context executor.

A Concurry.MainContextExecutor runs each function it is given from its main
context, one at a time, after submit() returned, and hands out the
function's future. It is how code on other threads gets something done on
the main thread, for example updating a GTK widget.

Here a thread pool hashes four strings; each worker submits a "report"
function to the main-context executor, which prints the digest from the
main thread. Waiting for the reports with result() on the main thread
iterates its main context, which is what runs them.

Run from a build tree with:
  meson devenv -C build /usr/bin/python3 ../examples/main-context-executor.py
"""

import hashlib
import sys
import threading

import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402

TEXTS = ['alpha', 'beta', 'gamma', 'delta']


def main():
    main_executor = Concurry.MainContextExecutor.new(None)   # the default main context

    def report(text, digest):
        print(f'{text:<6} {digest[:16]}...')
        return threading.current_thread() is threading.main_thread()

    def hash_and_report(text):
        # On a worker thread: compute, then hand the result to the main thread.
        digest = hashlib.sha256(text.encode()).hexdigest()
        return main_executor.submit(lambda cancellable: report(text, digest))

    with Concurry.ThreadPoolExecutor(max_workers=2) as pool:
        submitted = [pool.submit(hash_and_report, text) for text in TEXTS]
        reports = [Concurry.wrap_future(f.result(timeout=30)) for f in submitted]
        on_main_thread = [r.result(timeout=30) for r in reports]

    main_executor.shutdown(True, False)
    print(f'{sum(on_main_thread)} of {len(TEXTS)} reports ran on the main thread')
    if not all(on_main_thread):
        sys.exit(1)


if __name__ == '__main__':
    main()
