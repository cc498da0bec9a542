# SPDX-License-Identifier: LGPL-2.1-or-later
"""The ``concurrent.futures.Future`` API of every concurry future, the
writable ``Promise``, done futures, ``wrap_future()`` and ``gio_call()``.

Every ``Concurry.Future`` is a ``concurrent.futures.Future`` (the override
class of the interface derives from it, and implements all of its methods
on the C future).  Only a ``Concurry.Promise`` made by the user can be
completed from Python: the futures of executors, ``wrap_future()``, chains,
combinators, delays and GIO calls are read-only, as Concurry's immutable
wrappers are.
"""

import concurrent.futures
import contextvars
import functools
import inspect
import sys

from gi.repository import Gio, GLib, GObject

from . import bridge
from .outcomes import (Concurry, CancelledError, InvalidStateError, RUNNING, DONE,
                       FAILED, CANCELLED, STATE_NAMES, check_exception, done_future,
                       exception_of, failed_future, reject, resolve,
                       FALLBACK, _engine, done_value, new_source_promise, source_of,
                       state_of)

RawFuture = Concurry.Future
RawPromise = Concurry.Promise
_raw_cancel = RawFuture.cancel
_raw_cancel_pending = RawFuture.cancel_pending
_raw_remove = RawFuture.remove_done_callback
if _engine is not None:
    # Without a libffi closure per callback, which PyGObject before 3.44
    # never frees (about 110 bytes each).
    def _raw_direct(future, fn, *user_data):
        return _engine.add_done_callback(future, None, fn, *user_data)

    def _raw_full(future, context, fn, *user_data):
        return _engine.add_done_callback(future, context, fn, *user_data)
else:
    _raw_direct = RawFuture.add_done_callback_direct
    _raw_full = RawFuture.add_done_callback_full
_TYPE_GVALUE = GObject.Value.__gtype__


def type_label(future):
    name = GObject.type_name(future.__gtype__)
    if name.startswith('Concurry') and len(name) > 8:
        name = 'Concurry.' + name[8:]
    return name


def _poll_source(future):
    """A future wrapping an asyncio future reads it when asked: the asyncio
    callback that would complete it only runs on its loop, which may be
    the very thread asking."""
    # Attribute reads, not __dict__: touching a PyGObject wrapper's dict
    # makes it (and every future that goes through here) a toggle reference.
    source = future._concurry_source
    poll = getattr(source, '_concurry_poll', None) if source is not None else None
    if poll is not None:
        poll(future)


class FutureMethods:
    """Mixed into the override of the ``Concurry.Future`` interface."""

    # Defaults of what some futures carry in their instance dict.
    _concurry_source = None         # what a wrapper stands for
    _concurry_exception = None      # the exception it failed with, once read
    _concurry_writable = False      # a Promise made by the user

    def result(self, timeout=None):
        """Returns the value of the future, waiting up to timeout seconds
        (None: for ever; 0 or less: do not wait).

        Raises ``concurrent.futures.CancelledError`` if it was cancelled,
        ``TimeoutError`` if it is not done in time (it is not affected), and
        the exception it failed with otherwise: the very exception object
        that Python work raised, or a ``GLib.Error`` for a failure from C.
        """
        value = done_value(self)
        if value is not FALLBACK:
            return value
        state = state_of(self)
        if state < DONE:
            state = _wait(self, timeout)
        if state == DONE:
            return self.get_value()
        if state == CANCELLED:
            raise CancelledError()
        exc = exception_of(self)
        try:
            raise exc
        finally:
            del exc

    def exception(self, timeout=None):
        """Returns the exception the future failed with (the same object
        every time), or None if it completed with a value; waits like
        ``result()``."""
        state = state_of(self)
        if state < DONE:
            state = _wait(self, timeout)
        if state == DONE:
            return None
        if state == CANCELLED:
            raise CancelledError()
        return exception_of(self)

    def done(self):
        """Whether the future completed, failed or was cancelled."""
        if state_of(self) >= DONE:
            return True
        _poll_source(self)
        return state_of(self) >= DONE

    def running(self):
        """Whether its work is running (queued work is not)."""
        return state_of(self) == RUNNING

    def cancelled(self):
        """Whether the future was cancelled."""
        return state_of(self) == CANCELLED

    def cancel(self):
        """Cancels the future if its work has not started, as
        ``concurrent.futures`` does: returns True if it is cancelled (now or
        before), False if it is running (its work goes on to completion) or
        done.  ``interrupt()`` also cancels running work."""
        bridge.calling()
        cancelled = _raw_cancel_pending(self)
        bridge.raise_deferred()
        if cancelled:
            _cancel_source(self)
        return cancelled

    def interrupt(self):
        """Cancels the future even if its work is running: the work's
        ``Gio.Cancellable`` is cancelled (cooperative work stops early) and
        the future reports cancelled at once; its eventual result is
        dropped.  Returns False only if it was already done with a value or
        an exception.  This is the C library's ``cancel()``."""
        if _raw_cancel(self):
            _cancel_source(self)
            return True
        return False

    def add_done_callback(self, fn, *user_data, main_context=None):
        """Calls ``fn(future, *user_data)`` once the future is done, exactly
        once.

        On a thread that runs a GLib main loop (inside one of its
        callbacks, or with a thread-default context pushed) or a running
        asyncio loop, fn runs on that loop, never inside this call.  On a
        thread that runs neither, it behaves as in ``concurrent.futures``:
        fn runs at once if the future is done, otherwise on the thread that
        completes it.  main_context names the ``GLib.MainContext`` to run
        fn on, for code that adds callbacks before its loop runs.

        An exception raised by fn is logged (logger ``concurry``) and the
        other callbacks still run.  Returns an id for
        ``remove_done_callback()``.
        """
        if not callable(fn):
            raise TypeError('%r is not callable' % (fn,))
        loop = bridge.running_loop() if main_context is None else main_context
        if loop is None and self.get_state() >= DONE:
            # At once, from Python: a KeyboardInterrupt or SystemExit it
            # raises reaches the caller, as in concurrent.futures.
            bridge.call_logged(fn, self, *user_data)
            return 0
        # Listed (for remove_done_callback(fn)) until it runs, not longer:
        # an insertion-ordered dict, so that forgetting one is O(1).
        entry = _Registration(fn)
        self.__dict__.setdefault('_concurry_callbacks', {})[entry] = None
        if loop is None:
            bridge.calling()
            callback_id = _raw_direct(self, _call_direct, fn, (entry, user_data))
            bridge.raise_deferred()    # it ran at once, and raised beyond Exception
        elif isinstance(loop, GLib.MainContext):
            callback_id = _raw_full(self, loop, _call_direct, fn, (entry, user_data))
        else:
            # As an asyncio future's callback: in the context of the code
            # that added it (contextvars), not the completing thread's.
            callback_id = _raw_direct(self, _call_soon, fn, (entry, user_data), loop,
                                      contextvars.copy_context())
        entry.callback_id = callback_id
        if not callback_id:
            _forget(self, entry)
        return callback_id

    def remove_done_callback(self, fn):
        """Removes every registration of fn (or the C callback id fn) that
        has not run yet; returns how many were removed (asyncio's rule)."""
        if isinstance(fn, int):
            return _raw_remove(self, fn)
        entries = getattr(self, '_concurry_callbacks', None) or {}
        removed = 0
        for entry in list(entries):
            if entry.fn == fn:
                _forget(self, entry)
                if entry.callback_id and _raw_remove(self, entry.callback_id):
                    removed += 1
        return removed

    @property
    def uuid(self):
        """A string identifying this future in the process (the C id)."""
        return self.get_id()

    def set_result(self, result):
        """Not supported: the future is completed by its producer (it is
        immutable); only a ``Concurry.Promise`` made by the user can be set."""
        raise NotImplementedError('%s is immutable: only a Concurry.Promise made by the '
                                  'user can be set' % type_label(self))

    def set_exception(self, exception):
        """Not supported: see ``set_result()``."""
        raise NotImplementedError('%s is immutable: only a Concurry.Promise made by the '
                                  'user can be set' % type_label(self))

    def set_running_or_notify_cancel(self):
        """Not supported: the producer of the future manages state internally."""
        raise NotImplementedError('%s manages state internally: only a Concurry.Promise made '
                                  'by the user can be marked running' % type_label(self))

    def __repr__(self):
        state = self.get_state()
        text = '<%s at %#x state=%s' % (type_label(self), id(self), STATE_NAMES.get(state, state))
        if state == DONE:
            text += ' returned %s' % type(self.get_value()).__name__
        elif state == FAILED:
            # Without get_error(): a repr does not look at the error.
            exc = self._concurry_exception
            if exc is None:
                exc = exception_of(self)
            text += ' raised %s' % ('GLib.Error' if isinstance(exc, GLib.Error)
                                    else type(exc).__name__)
        return text + '>'


def _wait(future, timeout):
    until = bridge.deadline(timeout)
    _poll_source(future)
    if future.get_state() < DONE:
        if until != bridge.FOREVER and until <= bridge.now():
            raise TimeoutError()
        bridge.block(future, until)
    state = future.get_state()
    if state < DONE:
        raise TimeoutError()
    return state


class _Registration:
    """A done callback added from Python, until it runs or is removed."""

    __slots__ = ('fn', 'callback_id')

    def __init__(self, fn):
        self.fn = fn
        self.callback_id = 0


def _forget(future, entry):
    entries = future.__dict__.get('_concurry_callbacks')
    if entries:
        entries.pop(entry, None)


def _call_direct(future, fn, registration):
    entry, user_data = registration
    _forget(future, entry)
    bridge.call_logged(fn, future, *user_data)


def _call_soon(future, fn, registration, loop, context):
    entry, user_data = registration
    _forget(future, entry)
    try:
        loop.call_soon_threadsafe(bridge.call_logged, fn, future, *user_data, context=context)
    except RuntimeError:
        # The loop is closed (asyncio.run() returned before the future was
        # done): nothing runs there any more. The callback still runs
        # once, here on the completing thread, as concurrent.futures runs
        # its callbacks.
        context.run(bridge.call_logged, fn, future, *user_data)


def _cancel_source(future):
    source = source_of(future)
    if source is not None and not isinstance(source, bool):
        cancel = getattr(source, '_concurry_cancel', None)
        if cancel is not None:
            cancel()
        elif hasattr(source, 'cancel'):
            source.cancel()


# -- promises -------------------------------------------------------------------

def _writable(promise):
    """Only a promise made by the user (``Concurry.Promise()``) is
    writable; the promises that concurry makes (executors, wrap_future,
    chains, combinators, delays, GIO calls) are read-only."""
    if not promise._concurry_writable:
        raise NotImplementedError('%s is immutable: it was made by concurry, and only a '
                                  'Concurry.Promise made by the user can be set'
                                  % type_label(promise))


class PromiseMethods:
    """Mixed into the override of ``Concurry.Promise``."""

    def set_result(self, result):
        """Completes the promise with result (stored as the Python object
        itself).  Raises ``InvalidStateError`` if it is already done, failed
        or cancelled; ``resolve()`` returns False instead."""
        _writable(self)
        bridge.calling()
        resolved = resolve(self, result)
        bridge.raise_deferred()
        if not resolved:
            raise InvalidStateError('%s: %r' % (STATE_NAMES[self.get_state()].upper(), self))

    def set_exception(self, exception):
        """Fails the promise with exception: ``result()`` re-raises that
        very object; C sees a ``GError``.  Raises ``InvalidStateError`` if it
        is already done, failed or cancelled."""
        _writable(self)
        exception = check_exception(exception)
        if not reject(self, exception):
            raise InvalidStateError('%s: %r' % (STATE_NAMES[self.get_state()].upper(), self))

    def set_running_or_notify_cancel(self):
        """Marks the promise running: True if it was pending, False if it
        was cancelled (the work must then not run); raises RuntimeError in
        any other state."""
        _writable(self)
        if self.mark_running():
            return True
        if self.get_state() == CANCELLED:
            return False
        raise RuntimeError('Future in unexpected state')


_new_resolved = Concurry.ResolvedFuture.new
# Types PyGObject stores in a GValue as the Python object itself.
_STORED_AS_IS = frozenset((tuple, list, dict, set, frozenset, bytes, bytearray, type(None)))


def SyncFuture(result_value=None, exception_value=None):
    """A future that is already done: failed with exception_value if it is
    given (an exception instance or class; anything else is a TypeError),
    otherwise done with result_value (None by default).  The cheapest
    future there is, like Concurry's ``SyncFuture``."""
    if exception_value is None:
        if type(result_value) in _STORED_AS_IS:
            return _new_resolved(result_value)
        return done_future(result_value)
    return failed_future(check_exception(exception_value))


# -- wrap_future ----------------------------------------------------------------

def _transfer(promise, source):
    """Completes promise like the done concurrent.futures or asyncio future
    source (from source's own callbacks)."""
    if source.cancelled():
        _raw_cancel(promise)
        return
    try:
        exc = source.exception()
    except BaseException:  # cancelled in the meantime
        _raw_cancel(promise)
        return
    if exc is not None:
        reject(promise, exc)
    else:
        resolve(promise, source.result())


_CFFuture = concurrent.futures.Future


def _wrap_concurrent(source, _new=new_source_promise, _partial=functools.partial):
    promise = _new(source)
    # Completes it at once if source is done.
    source.add_done_callback(_partial(_transfer, promise))
    return promise


def wrap_future(obj):
    """Returns a ``Concurry.Future`` standing for obj:

    * a ``Concurry.Future`` is returned as it is;
    * a ``concurrent.futures.Future``, an asyncio future or task, or a Dask
      ``distributed.Future`` gives a future completed like it, with the same
      value or exception object; cancelling the wrapper cancels it;
    * a ``Gio.Task`` gives a future of its result;
    * a coroutine or other awaitable is scheduled on the running asyncio
      loop of this thread (a ``TypeError`` without one);
    * a ``Gio.AsyncResult`` that is not a ``Gio.Task`` is a ``TypeError``:
      only its ``_finish`` function can read it (see ``gio_call()``);
    * anything else, ``None`` and exception instances included, gives a
      future already done with obj as its value (``SyncFuture()`` makes a
      failed one).
    """
    if isinstance(obj, RawFuture):
        return obj
    if isinstance(obj, _CFFuture):
        return _wrap_concurrent(obj)
    from . import aio
    if aio.isfuture(obj):
        return aio.wrap_asyncio(obj)
    if isinstance(obj, Gio.Task):
        return RawFuture.new_for_task(obj, _TYPE_GVALUE)
    if isinstance(obj, Gio.AsyncResult):
        raise TypeError('cannot wrap %r: only its _finish function can read a GAsyncResult '
                        'that is not a Gio.Task; start the call with Concurry.gio_call()' % (obj,))
    if 'distributed' in sys.modules:
        from . import dask
        if dask.is_dask_future(obj):
            return dask.wrap_dask_future(obj)
    if inspect.isawaitable(obj):
        return aio.wrap_awaitable(obj)
    return done_future(obj)


def is_future(obj):
    """Whether wrap_future() takes obj for a future (not a plain value)."""
    if isinstance(obj, (RawFuture, concurrent.futures.Future)):
        return True
    from . import aio
    if aio.isfuture(obj):
        return True
    if 'distributed' in sys.modules:
        from . import dask
        if dask.is_dask_future(obj):
            return True
    return False


def gio_call(async_func, *args, finish):
    """Starts a GIO asynchronous call and returns its future::

        future = Concurry.gio_call(gfile.load_contents_async,
                                   finish=gfile.load_contents_finish)
        ok, contents, etag = future.result()

    ``async_func(*args, cancellable, callback)`` is called at once; when it
    completes, ``finish(result)`` is called with the ``Gio.AsyncResult``
    and what it returns becomes the value of the future (a tuple for
    several out values), or the exception it raises the exception of the
    future.  Cancelling the future cancels the call.

    As with any GIO call, it completes on the main context that is
    thread-default for the caller: in a script without a main loop,
    ``result()`` on the main thread iterates it while it waits.
    """
    if not callable(finish):
        raise TypeError('finish must be callable, got %r' % (finish,))
    promise = RawPromise.new()

    def ready(source, result, *user_data):
        try:
            value = finish(result)
        except BaseException as exc:
            reject(promise, exc)
        else:
            resolve(promise, value)

    async_func(*args, promise.get_cancellable(), ready)
    return promise
