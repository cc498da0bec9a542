# SPDX-License-Identifier: LGPL-2.1-or-later
"""Work run by test_scale_out.py in threads, worker processes and Dask
workers.  It lives in its own module so that every worker can import it
by name; it imports nothing from gi.

Synchronisation is by files (every worker shares this machine's file
system): a task says it started by creating a file, and waits for a gate
file.  Polling only sets how soon a wait notices the file; ``LONG`` is a
safety net against a hang, never a way to synchronise.
"""

import os
import time

LONG = 60.0


def touch(path, text=''):
    """Creates path atomically, with text in it."""
    tmp = '%s.%d.tmp' % (path, os.getpid())
    with open(tmp, 'w') as f:
        f.write(text)
    os.rename(tmp, path)


def wait_for(path, timeout=LONG):
    """Waits until path exists; False if it still does not after timeout
    seconds (a test that gets False failed; it does not hang)."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def square(x):
    return x * x


def add(a, b):
    return a + b


def fail(*args):
    raise ValueError(*args)


def echo(*args, **kwargs):
    return args, sorted(kwargs.items())


def block(started, gate, value=None):
    """Says it started, then waits for the gate; returns value."""
    touch(started)
    if not wait_for(gate):
        raise TimeoutError('the test never opened its gate')
    return value


def mark(path, value=None):
    """Leaves a trace that it ran; returns value."""
    touch(path)
    return value


def die():
    os._exit(3)


def killed_once(first, pid_file, gate):
    """The first attempt writes its process id and waits (to be killed);
    a later attempt returns 'retried'."""
    if os.path.exists(first):
        return 'retried'
    touch(first)
    touch(pid_file, str(os.getpid()))
    wait_for(gate)
    return 'not killed'


def process_id(*unused):
    return os.getpid()


_tag = None


def set_tag(tag):
    """A worker initializer."""
    global _tag
    _tag = tag


def get_tag(*unused):
    return _tag


def fail_to_start():
    raise RuntimeError('this worker cannot start')


def lock_or_value(x):
    """A result that cannot be pickled for 'lock', else x."""
    import threading
    return threading.Lock() if x == 'lock' else x


class Thing:
    """Picklable work whose method runs in a worker."""

    def method(self):
        return 'method'
