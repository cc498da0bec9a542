# SPDX-License-Identifier: LGPL-2.1-or-later
"""The calling thread's loop, blocking waits and Ctrl-C.

* Which loop a thread runs decides where a done callback goes: a running
  asyncio loop, or a GLib main context being iterated (or pushed as
  thread-default) on this thread, gets it on that loop, the GNOME way; a
  thread that runs neither gets ``concurrent.futures``' rule (at once if
  done, else on the completing thread), which the C engine provides.
* Blocking waits are C waits (a thread that owns its main context keeps
  it running meanwhile).  On the main thread they wait in slices of at
  most ``SLICE``, with no error to convert at the end of a slice, so that
  Ctrl-C gets through within a fraction of a second.
* A private main context iterated by one daemon thread runs the chain
  steps built on threads that run no loop.
"""

import asyncio
import logging
import os
import threading

from gi.repository import GLib

from .outcomes import Concurry, DONE

logger = logging.getLogger('concurry')

SLICE = 100_000        # µs: the main thread wakes up this often to let Ctrl-C in
FOREVER = -1
now = GLib.get_monotonic_time
_get_ident = threading.get_ident
_main_ident = threading.main_thread().ident
_raw_wait = Concurry.wait
_ALL = Concurry.WaitMode.ALL_COMPLETED
_get_running_loop = asyncio._get_running_loop
_main_depth = GLib.main_depth
_thread_default = GLib.MainContext.get_thread_default
_default = GLib.MainContext.default


def deadline(timeout):
    """An absolute deadline in µs on the monotonic clock, or FOREVER.
    ``concurrent.futures``' convention: None waits for ever, <= 0 polls."""
    if timeout is None:
        return FOREVER
    current = now()
    if timeout <= 0:
        return current
    usec = timeout * 1_000_000
    if usec > 2 ** 62:
        return FOREVER
    return current + int(usec)


def expired(when):
    return when >= 0 and now() >= when


def remaining(when):
    """The C timeout (µs, -1 for ever) until the deadline when."""
    if when < 0:
        return -1
    return max(0, when - now())


def on_main_thread():
    return _get_ident() == _main_ident


def running_loop():
    """The loop the calling thread runs: its running asyncio loop, or the
    GLib main context it iterates or pushed as thread-default; None for a
    thread that runs neither."""
    loop = _get_running_loop()
    if loop is not None:
        return loop
    context = _thread_default()
    if context is not None:
        return context
    if _main_depth() > 0:
        return _default()
    return None


def wait_slices(step, until):
    """Calls step(timeout_usec) until it returns True or the deadline until
    (µs, FOREVER) passes; on the main thread in slices of at most SLICE."""
    if not on_main_thread():
        return step(remaining(until))
    while True:
        left = remaining(until)
        if left == 0:
            return step(0)
        if step(SLICE if left < 0 or left > SLICE else left):
            return True
        if expired(until):
            return False


def block(future, until):
    """Blocks until future is done or the deadline until passes."""
    if future.get_state() >= DONE:
        return
    wait_slices(lambda usec: _raw_wait([future], _ALL, usec)[0], until)


_tls = threading.local()


def call_logged(fn, future, *user_data):
    """Calls a user's done callback: an Exception is logged (logger
    'concurry') and the other callbacks still run.  A KeyboardInterrupt or
    SystemExit raised while C runs the callback inside a call of this
    thread (PyGObject would print and drop it) is kept, and raised by that
    call once it returns (raise_deferred())."""
    try:
        fn(future, *user_data)
    except Exception:
        logger.exception('exception calling callback for %r', future)
    except BaseException as exc:
        if getattr(_tls, 'calling', False) and getattr(_tls, 'deferred', None) is None:
            _tls.deferred = exc
        raise


def calling():
    """Marks the start of a C call that may run callbacks on this thread."""
    _tls.calling = True


def raise_deferred():
    """Ends what calling() started: raises what a callback run by C inside
    that call raised beyond Exception (see call_logged())."""
    _tls.calling = False
    exc = getattr(_tls, 'deferred', None)
    if exc is not None:
        _tls.deferred = None
        raise exc


# -- the private context ------------------------------------------------------

_lock = threading.Lock()
_private = None  # (context, pid)


def _private_main(context, ready):
    context.push_thread_default()
    ready.set()
    while True:
        context.iteration(True)


def private_context():
    """A GLib main context that one daemon thread iterates, whatever the
    application does."""
    global _private
    private = _private
    if private is not None and private[1] == os.getpid():
        return private[0]
    with _lock:
        if _private is None or _private[1] != os.getpid():
            context = GLib.MainContext.new()
            ready = threading.Event()
            threading.Thread(target=_private_main, args=(context, ready),
                             name='concurry-bridge', daemon=True).start()
            ready.wait()
            _private = (context, os.getpid())
        return _private[0]


def call_on_private(fn, *args):
    """Calls fn(*args) on the private context's thread (where the C library
    then captures that context as thread-default) and returns its result."""
    context = private_context()
    if context.is_owner():
        return fn(*args)
    done = threading.Event()
    outcome = []

    def run(*unused):
        try:
            outcome.append((True, fn(*args)))
        except BaseException as exc:
            outcome.append((False, exc))
        done.set()
        return False

    source = GLib.idle_source_new()
    source.set_callback(run)
    source.attach(context)
    done.wait()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _after_fork_in_child():
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
