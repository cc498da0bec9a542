# SPDX-License-Identifier: LGPL-2.1-or-later
"""``and_then()``, ``map()``, ``catch_error()`` and ``finally_do()`` (C's
``finally_then()``) on the C chains.

Each step is a C chain step whose function returns a future: the outcome
of the Python function, a done future holding its value or the exception
it raised (carried as the error's payload), or the future it returned,
which C waits for (flattening).  Ordering, skipping, cancellation and the
passing down of failures (the same exception object) are the C chain's.

Where a step runs: on the main context that is thread-default where the
chain is built (C's rule; on the main thread the global default context,
which a blocking wait of concurry iterates); on a thread running an asyncio
loop, on that loop; on any other thread that runs no loop, on a private
context thread.  Never inside the call that built the chain.
"""

import concurrent.futures
import inspect

from gi.repository import Gio, GLib

from . import bridge
from .futures import wrap_future, RawFuture, RawPromise
from .outcomes import Concurry, exception_of, failed_future, reject, resolve, typed_future

_raw_and_then = RawFuture.and_then
_raw_map = RawFuture.map
_raw_catch_error = RawFuture.catch_error
_raw_finally_then = RawFuture.finally_then


def _as_future(value):
    """The future a step's return value stands for: a future it returned
    (waited for), or a done future holding the value."""
    if isinstance(value, (RawFuture, concurrent.futures.Future, Gio.Task)) or \
            (not isinstance(value, (int, str, float, bytes, tuple, list, dict)) and
             (inspect.isawaitable(value) or _isfuture(value))):
        return wrap_future(value)
    return typed_future(value)


def _isfuture(value):
    from . import aio
    return aio.isfuture(value)


def _run(fn, args, *head):
    try:
        return _as_future(fn(*head, *args))
    except BaseException as exc:
        return failed_future(exc)


def _on_loop(loop, fn, args, *head):
    """Runs fn on the asyncio loop loop; the step waits for it."""
    promise = RawPromise.new()

    def call():
        try:
            inner = _as_future(fn(*head, *args))
        except BaseException as exc:
            reject(promise, exc)
            return
        inner.add_done_callback(lambda done: _mirror(done, promise))

    try:
        loop.call_soon_threadsafe(call)
    except RuntimeError as exc:  # the loop is closed
        reject(promise, exc)
    return promise


def _mirror(done, promise):
    """Completes promise, the future a step on an asyncio loop stands for,
    like the future its function gave."""
    state = done.get_state()
    if state == Concurry.FutureState.DONE:
        resolve(promise, done.get_value())
    elif state == Concurry.FutureState.CANCELLED:
        promise.cancel()
    else:
        reject(promise, exception_of(done))


def _build(raw, upstream, fn, args, kind):
    if not callable(fn):
        raise TypeError('%r is not callable' % (fn,))
    loop = bridge.running_loop()

    if loop is not None and not isinstance(loop, GLib.MainContext):
        def step(head, *unused):
            return _on_loop(loop, fn, args, *_head(kind, head))
    else:
        def step(head, *unused):
            return _run(fn, args, *_head(kind, head))

    if (loop is None and not bridge.on_main_thread()) or \
            (loop is not None and not isinstance(loop, GLib.MainContext)):
        return bridge.call_on_private(raw, upstream, step)
    return raw(upstream, step)


def _head(kind, head):
    if kind == 'map':
        return (head.result(0),)
    return (head,)


class ChainMethods:
    """Mixed into the override of the ``Concurry.Future`` interface."""

    def and_then(self, fn, *args):
        """Continues this future with ``fn(future, *args)`` once it
        completes with a value, and returns the future of the step.  A
        failure or a cancellation skips fn and goes down the chain
        unchanged (the same exception object).

        What fn returns becomes the value of the returned future; a future
        it returns (concurry, ``concurrent.futures``, asyncio, ``Gio.Task``)
        is waited for and gives its outcome.  An exception it raises fails
        the returned future with that very object.  Cancelling the returned
        future cancels what it waits on.  fn runs on the loop of this
        thread (GLib or asyncio), or on a private thread for a thread that
        runs none; never inside this call.
        """
        return _build(_raw_and_then, self, fn, args, 'and_then')

    def map(self, fn, *args):
        """Like ``and_then()``, but calls ``fn(value, *args)`` with the value
        of this future."""
        return _build(_raw_and_then, self, fn, args, 'map')

    def catch_error(self, fn, *args):
        """Recovers from a failure: once this future fails, ``fn(future,
        *args)`` gives the outcome of the returned future (a value, a
        future, or an exception it raises); ``future.exception()`` is what
        it failed with.  A value and a cancellation go down the chain
        unchanged."""
        return _build(_raw_catch_error, self, fn, args, 'catch_error')

    def finally_do(self, fn, *args):
        """Calls ``fn(future, *args)`` once this future is done, whatever its
        outcome (also when it is cancelled), which the returned future then
        gets unchanged (the same value or exception object, or the
        cancellation); what fn returns is ignored.  An exception raised by
        fn replaces a value or an exception, as in a ``finally`` block (a
        cancellation stays one: the exception is logged).  fn runs where an
        ``and_then()`` step would.  Cancelling the returned future cancels
        this one.  This is C's ``finally_then()``."""
        if not callable(fn):
            raise TypeError('%r is not callable' % (fn,))

        def cleanup(future, *fn_args):
            try:
                fn(future, *fn_args)
            except BaseException as exc:
                if future.cancelled():
                    bridge.logger.error('exception in finally_do() step of a cancelled '
                                        'future %r', future, exc_info=exc)
                    return None
                if future.exception(0) is not None and exc.__context__ is None:
                    superseded = exception_of(future)
                    if exc is not superseded:
                        exc.__context__ = superseded
                raise
            return None

        return _build(_raw_finally_then, self, cleanup, args, 'finally_do')
