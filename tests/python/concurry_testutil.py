# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers shared by the Python tests; the shared fixtures are in
conftest.py.

pytest puts this directory on sys.path (its default "prepend" import mode:
tests/python has no __init__.py), so the test modules import this one as
``concurry_testutil``, however pytest is started (meson runs ``python -m
pytest tests/python``).
"""

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import gi

gi.require_version('Concurry', '1')
gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
from gi.repository import Concurry, Gio, GLib  # noqa: E402

IO_ERROR = Gio.io_error_quark()
MS = 1000                   # microseconds
SECOND = 1000 * MS
LONG = 10.0                 # seconds: how long blocked work waits before giving up


# --------------------------------------------------------------------------
# main contexts and threads
# --------------------------------------------------------------------------

def main_context():
    return GLib.MainContext.default()


def on_main_thread():
    return threading.current_thread() is threading.main_thread()


def run_until(cond, timeout=5.0, context=None):
    """Iterates @context (default: the global default one) until cond()
    holds or @timeout seconds passed. A 20 ms guard source makes sure a
    blocking iteration wakes up to look at the deadline. Returns cond()."""
    if context is None:
        context = main_context()
    guard = GLib.timeout_source_new(20)
    guard.set_callback(lambda *args: GLib.SOURCE_CONTINUE)
    guard.attach(context)
    deadline = time.monotonic() + timeout
    try:
        while not cond():
            if time.monotonic() >= deadline:
                return bool(cond())
            context.iteration(True)
        return True
    finally:
        guard.destroy()


def drain(context=None):
    """Dispatches whatever is ready on @context (default: the global default
    one) right now, without blocking."""
    if context is None:
        context = main_context()
    for _ in range(10000):
        if not context.iteration(False):
            return


def start_thread(target, *args, name=None):
    """Runs target(*args) on a new daemon thread; returns the thread."""
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


def join(thread, timeout=LONG):
    thread.join(timeout)
    assert not thread.is_alive(), f'{thread.name} did not finish'


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------

def wait_error(future, timeout_usec=0):
    """future.wait() that must fail; returns the GLib.Error it raised."""
    with pytest.raises(GLib.Error) as info:
        future.wait(timeout_usec)
    return info.value


def assert_error(error, domain, code, message=None):
    assert isinstance(error, GLib.Error), error
    assert error.domain == GLib.quark_to_string(domain), (error.domain, error.code, error.message)
    assert error.code == int(code), (error.domain, error.code, error.message)
    assert error.matches(domain, code)
    if message is not None:
        assert error.message == message


def failed_promise(message='boom', code=Gio.IOErrorEnum.FAILED):
    """A promise rejected (from C's point of view) with a G_IO_ERROR."""
    promise = Concurry.Promise()
    assert promise.reject_literal(IO_ERROR, code, message)
    return promise


def failed_future(exc=None):
    """A promise failed (the Pythonic way) with exc, by default
    ValueError('failed')."""
    promise = Concurry.Promise()
    promise.set_exception(exc if exc is not None else ValueError('failed'))
    return promise


def observe(*futures):
    """Looks at the errors of failed futures, so that none is reported as
    unobserved (the tests run with G_DEBUG=fatal-warnings)."""
    for future in futures:
        future.get_error()


# --------------------------------------------------------------------------
# executors
# --------------------------------------------------------------------------

def shutdown_bounded(executor, timeout=LONG):
    """The raw executor.shutdown(True, False) on a helper thread, so that a
    hang fails the test instead of blocking the run."""
    outcome = []
    thread = start_thread(lambda: outcome.append(executor.shutdown(True, False)),
                          name='shutdown')
    join(thread, timeout)
    assert outcome == [True]


# --------------------------------------------------------------------------
# child interpreters
# --------------------------------------------------------------------------

def child_env(**extra):
    """The test environment for a child interpreter, without fatal
    warnings (what it prints is the point) and in the C locale unless
    @extra says otherwise."""
    env = dict(os.environ)
    env.pop('G_DEBUG', None)
    env.pop('LANGUAGE', None)
    env['LC_ALL'] = 'C.UTF-8'
    env.update(extra)
    return env


def run_child(code, **extra_env):
    """Runs code (dedented) in a fresh interpreter; returns the completed
    process with its text output."""
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          env=child_env(**extra_env),
                          capture_output=True, text=True, timeout=60)
