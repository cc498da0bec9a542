# SPDX-License-Identifier: LGPL-2.1-or-later
"""asyncio: ``await`` on any concurry future, and asyncio futures, tasks and
coroutines as concurry futures.

Awaiting registers a C callback that runs on the thread completing the
future and wakes the awaiting task with ``call_soon_threadsafe()``: one
hop, no bridge thread.  A wrapped asyncio future that is done reads as done
at once, on any thread, including its own loop's (which cannot run the
asyncio callbacks while it blocks in ``result()``).
"""

import asyncio
import threading
import weakref

from .outcomes import (Concurry, CancelledError, DONE, FALLBACK, call_when_done, done_future,
                       done_value, failed_future, state_of)
from . import futures

_isfuture = asyncio.isfuture
_raw_direct = futures._raw_direct


def isfuture(obj):
    return _isfuture(obj)


class _Waker:
    """Wakes the awaiting tasks of one loop: the threads completing futures
    queue the waiters, and the loop is woken once for all those queued
    before it runs (one write to its self-pipe, not one per future).  It
    holds its loop weakly: a loop nobody uses any more goes, with it."""

    __slots__ = ('loop', 'lock', 'waiters', 'scheduled', '__weakref__')

    def __init__(self, loop):
        self.loop = weakref.ref(loop)
        self.lock = threading.Lock()
        self.waiters = []
        self.scheduled = False

    def wake(self, waiter):
        with self.lock:
            self.waiters.append(waiter)
            if self.scheduled:
                return
            self.scheduled = True
        loop = self.loop()
        try:
            if loop is None:
                raise RuntimeError('the loop is gone')
            loop.call_soon_threadsafe(self.run)
        except RuntimeError:
            # The loop was closed: nobody waits any more, and the waiters
            # (and the tasks they would wake) are not kept.
            with self.lock:
                self.waiters.clear()
                self.scheduled = False

    def run(self):
        with self.lock:
            waiters, self.waiters = self.waiters, []
            self.scheduled = False
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


_wakers = weakref.WeakKeyDictionary()


def _waker(loop):
    waker = _wakers.get(loop)
    if waker is None:
        waker = _wakers.setdefault(loop, _Waker(loop))
    return waker


def future_await(self):
    """``await future``: waits without blocking the asyncio loop, then gives
    ``result()``.  Cancelling the awaiting task cancels the future, as for an
    asyncio future (use ``asyncio.shield()`` to prevent that)."""
    if state_of(self) < DONE and (self._concurry_source is None or not self.done()):
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        call_when_done(self, _waker(loop).wake, waiter)
        try:
            yield from waiter
        except asyncio.CancelledError:
            self.cancel()
            raise
    value = done_value(self)
    if value is not FALLBACK:
        return value
    return self.result()


class _AsyncioSource:
    """What a wrapper of an asyncio future knows of it."""

    __slots__ = ('source', 'loop')

    def __init__(self, source, loop):
        self.source = source
        self.loop = loop

    def _concurry_poll(self, promise):
        # A done asyncio future never changes: read it from any thread.
        if self.source.done():
            futures._transfer(promise, self.source)

    def _concurry_cancel(self):
        if self.source.done():
            return
        try:
            if asyncio._get_running_loop() is self.loop:
                self.source.cancel()
            else:
                self.loop.call_soon_threadsafe(self.source.cancel)
        except RuntimeError:
            pass


def wrap_asyncio(source):
    """A concurry future completed like the asyncio future source (from its
    loop), the same value or exception object; cancelling either cancels
    the other."""
    if source.done():
        if source.cancelled():
            return failed_future(CancelledError())
        exc = source.exception()
        return failed_future(exc) if exc is not None else done_future(source.result())
    loop = source.get_loop()
    promise = Concurry.Promise.new()
    promise._concurry_source = _AsyncioSource(source, loop)

    def transfer(done, promise=promise):
        futures._transfer(promise, done)

    _raw_direct(promise, _cancelled, promise._concurry_source)
    if asyncio._get_running_loop() is loop:
        source.add_done_callback(transfer)
    else:
        # asyncio futures may only be touched from their loop's thread.
        loop.call_soon_threadsafe(source.add_done_callback, transfer)
    return promise


def _cancelled(promise, source):
    if promise.cancelled():
        source._concurry_cancel()


def wrap_awaitable(obj):
    loop = asyncio._get_running_loop()
    if loop is None:
        raise TypeError('cannot wrap %r: an awaitable needs a running asyncio event loop '
                        'in this thread' % (obj,))
    return wrap_asyncio(asyncio.ensure_future(obj, loop=loop))
