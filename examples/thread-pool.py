#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A thread pool the concurrent.futures way, on concurry.

Hashes the files next to this script on a Concurry.ThreadPoolExecutor:
submit(), as_completed(), map(), errors, timeouts, done callbacks and
futures passed as arguments.  If you know concurrent.futures, you know this.

Run from a build tree with:
    meson devenv -C build /usr/bin/python3 ../examples/thread-pool.py
"""

import hashlib
import os
import sys
import threading

import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402


def sha256_of(path):
    """Blocking work: reads a file and hashes it.  hashlib and file reads
    release the GIL, so several of these really run at once (pure-Python
    CPU work would not: see the GIL note in the Python quick start)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(65536), b''):
            digest.update(block)
    return digest.hexdigest()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    paths = sorted(os.path.join(here, name) for name in os.listdir(here)
                   if os.path.isfile(os.path.join(here, name)))

    # The executor is a context manager: leaving the block waits for all
    # the work (shutdown(wait=True)).
    with Concurry.ThreadPoolExecutor(max_workers=4) as pool:

        # 1. submit() returns a future at once; as_completed() yields the
        #    futures as they finish.
        futures = {pool.submit(sha256_of, path): path for path in paths}
        for future in Concurry.as_completed(futures, timeout=30):
            print(f'{future.result()[:16]}  {os.path.basename(futures[future])}')

        # 2. map() gives the results in input order.
        sizes = list(pool.map(os.path.getsize, paths))
        print(f'{len(paths)} files, {sum(sizes)} bytes')

        # 3. An exception raised by the work comes back from result(): the
        #    very same exception object, with its traceback.
        missing = pool.submit(sha256_of, os.path.join(here, 'no-such-file'))
        try:
            missing.result()
        except FileNotFoundError as error:
            print('failed as expected:', error.strerror)

        # 4. Timeouts are in seconds, like concurrent.futures; the future
        #    is not affected by a timeout.
        gate = threading.Event()
        slow = pool.submit(gate.wait, 30)
        try:
            slow.result(timeout=0.01)
        except TimeoutError:
            print('not finished after 10 ms; still running:', slow.running())
        gate.set()
        print('then finished:', slow.result())

        # 5. Done callbacks run on the main thread: in a GTK or GLib.MainLoop
        #    application through its main loop; in a script like this one
        #    whenever the main thread blocks in concurry (here: leaving the
        #    `with` block), and at the latest when the interpreter exits.
        def report(future):
            on_main = threading.current_thread() is threading.main_thread()
            print(f'callback: {future.result()} (main thread: {on_main})')

        pool.submit(sum, range(101)).add_done_callback(report)

        # 6. A future passed as an argument is replaced by its value: the
        #    second call is queued once the first one is done, without
        #    blocking a worker.
        first = pool.submit(sha256_of, paths[0])
        short = pool.submit(lambda digest: digest[:8], first)
        print('chained:', short.result())

        # wait() and gather() work on any mix of futures.
        done, not_done = Concurry.wait(list(futures), timeout=30)
        print(f'wait: {len(done)} done, {len(not_done)} not done')
        print('gather:', Concurry.gather([pool.submit(len, paths), 42]))

    print('all work finished')
    return 0


if __name__ == '__main__':
    sys.exit(main())
