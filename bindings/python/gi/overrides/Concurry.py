# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject override for Concurry: ``concurrent.futures`` and asyncio on GLib.

``from gi.repository import Concurry`` gives the C library with a Pythonic
layer on top:

* every ``Concurry.Future`` (promises, resolved futures, executor work) has
  ``result(timeout=None)``, ``exception(timeout=None)``, ``done()``,
  ``running()``, ``cancelled()``, ``cancel()``, ``add_done_callback(fn)``,
  ``uuid``, a ``concurrent.futures``-like ``repr`` and can be awaited in
  asyncio; its chain methods ``and_then()``, ``map()``, ``catch_error()``
  and ``finally_do()`` keep Python values and exceptions;
* ``Concurry.Promise`` also has ``set_result()``, ``set_exception()`` and
  ``set_running_or_notify_cancel()``;
* ``Concurry.wrap_future()``, ``Concurry.wait()``, ``Concurry.as_completed()``,
  ``Concurry.gather()`` and ``Concurry.gio_call()``;
* ``Concurry.ThreadPoolExecutor(max_workers=None)`` with ``submit()``,
  ``map()``, ``shutdown()`` and ``with`` support.

Design notes (the user documentation is doc/python-quickstart.md):

* Values produced by Python are stored in the C future as the Python object
  itself (a ``PyObject`` GValue), so ``result()`` returns the very object
  and any int fits.  ``None`` is stored as "no value" and GObjects as
  themselves.
* An exception raised by Python work is kept on the future's wrapper and
  the C future fails with a ``GError`` (``Concurry.Error.FAILED``, or the
  domain and code of a ``GLib.Error``), so that C and other bindings see a
  failure and ``result()`` re-raises the very same exception object.
* Chains are built here from a promise and a done callback per step, with
  the C semantics, because the C chains cannot carry Python values and
  exceptions through PyGObject's marshalling (see "chains" below).
* Done callbacks added by the user go through the C library, which runs
  them on the main context that was thread-default when they were added
  (the global default context for plain threads).  Scripts without a
  running main loop get them whenever the thread that owns that context
  blocks in this API, and at the latest at interpreter exit.
* Chain steps follow that rule too, except when built on a thread that has
  nothing to run them (not the main thread, no thread-default context of
  its own, no running asyncio loop): they run on the private context below.
  A chain holds what it waits on weakly, so a dropped upstream promise is
  abandoned.
* Everything this module needs internally (awaiting, wait(), gather(),
  as_completed(), unwrapping of argument futures, wrap_future()) gets its
  notifications on a private ``GLib.MainContext`` iterated by one daemon
  thread, so it never depends on the application's main loop.  Blocking
  calls wait in C (``Concurry.Future.wait_until()``), which iterates the
  calling thread's own main context while it blocks, so they cannot
  deadlock on work that completes through that context.
"""

import asyncio
import atexit
import collections
import concurrent.futures
import functools
import inspect
import os
import sys
import threading
import weakref

from gi.repository import GLib, GObject, Gio

from ..module import get_introspection_module
from ..overrides import override

try:
    from gi._gi import _gvalue_set
except ImportError:  # pragma: no cover - very old or very new PyGObject
    def _gvalue_set(gvalue, value):
        gvalue.set_boxed(value)

Concurry = get_introspection_module('Concurry')

__all__ = []

CancelledError = concurrent.futures.CancelledError
InvalidStateError = concurrent.futures.InvalidStateError
TimeoutError = TimeoutError  # the built-in, which concurrent.futures uses too

FIRST_COMPLETED = concurrent.futures.FIRST_COMPLETED
FIRST_EXCEPTION = concurrent.futures.FIRST_EXCEPTION
ALL_COMPLETED = concurrent.futures.ALL_COMPLETED
_FIRST_FAILURE = '_FIRST_FAILURE'  # gather(): a failure or a cancellation

DoneAndNotDoneFutures = collections.namedtuple('DoneAndNotDoneFutures', 'done not_done')

# The C library's modes are accepted too.
_WaitMode = getattr(Concurry, 'WaitMode', None) or type('_NoWaitMode', (), {})
_WAIT_MODES = {}
if hasattr(Concurry, 'WaitMode'):
    _WAIT_MODES = {int(Concurry.WaitMode.ALL_COMPLETED): ALL_COMPLETED,
                   int(Concurry.WaitMode.FIRST_COMPLETED): FIRST_COMPLETED,
                   int(Concurry.WaitMode.FIRST_EXCEPTION): FIRST_EXCEPTION}

__all__ += ['CancelledError', 'InvalidStateError', 'TimeoutError',
            'FIRST_COMPLETED', 'FIRST_EXCEPTION', 'ALL_COMPLETED',
            'DoneAndNotDoneFutures']

_Future = Concurry.Future
_Promise = Concurry.Promise
_ResolvedFuture = Concurry.ResolvedFuture

_State = Concurry.FutureState
_PENDING = int(_State.PENDING)
_RUNNING = int(_State.RUNNING)
_DONE = int(_State.DONE)
_FAILED = int(_State.FAILED)
_CANCELLED = int(_State.CANCELLED)
_STATE_NAMES = {_PENDING: 'pending', _RUNNING: 'running', _DONE: 'finished',
                _FAILED: 'finished', _CANCELLED: 'cancelled'}

_CONCURRY_ERROR = Concurry.error_quark()
_ERROR_FAILED = int(Concurry.Error.FAILED)

# The raw C methods, before this module puts Pythonic ones in their place.
_raw_add_done_callback = _Future.add_done_callback
_raw_add_done_callback_full = _Future.add_done_callback_full
_raw_remove_done_callback = _Future.remove_done_callback
_raw_submit = Concurry.Executor.submit
_raw_map = Concurry.Executor.map
_raw_shutdown = Concurry.Executor.shutdown

_now = GLib.get_monotonic_time          # microseconds, the clock of wait_until()
_get_ident = threading.get_ident
_main_ident = threading.main_thread().ident
_TYPE_PYOBJECT = GObject.TYPE_PYOBJECT
_TYPE_GVALUE = GObject.Value.__gtype__
_FOREVER = -1
# Types that are never futures nor containers of futures, and never GObjects.
_ATOMIC = frozenset((int, float, str, bytes, bool, type(None), complex, range))
_SLICE = 250_000  # the main thread wakes up this often (µs) to let Ctrl-C through


# --------------------------------------------------------------------------
# time
# --------------------------------------------------------------------------

def _deadline(timeout):
    """An absolute deadline in µs on the monotonic clock, or -1 for none.
    concurrent.futures' convention: None waits for ever, <= 0 polls."""
    if timeout is None:
        return _FOREVER
    now = _now()
    if timeout <= 0:
        return now
    usec = timeout * 1_000_000
    if usec > 2 ** 62:
        return _FOREVER
    return now + int(usec)


def _expired(deadline):
    return deadline >= 0 and _now() >= deadline


# --------------------------------------------------------------------------
# the private main context (internal notifications)
# --------------------------------------------------------------------------

_bridge_lock = threading.Lock()
_bridge = None  # (context, pid)


def _bridge_main(context, ready):
    context.push_thread_default()
    ready.set()
    while True:
        context.iteration(True)


def _bridge_context():
    """The private GMainContext on which internal done callbacks run: one
    daemon thread iterates it, whatever the application does."""
    bridge = _bridge
    if bridge is not None and bridge[1] == os.getpid():
        return bridge[0]
    return _start_bridge()


def _start_bridge():
    global _bridge
    with _bridge_lock:
        if _bridge is None or _bridge[1] != os.getpid():
            context = GLib.MainContext.new()
            ready = threading.Event()
            thread = threading.Thread(target=_bridge_main, args=(context, ready),
                                      name='concurry-bridge', daemon=True)
            thread.start()
            ready.wait()
            _bridge = (context, os.getpid())
        return _bridge[0]


def _watch(future, callback):
    """Calls callback(future) on the private context once future is done.
    Returns the callback id."""
    return _raw_add_done_callback_full(future, _bridge_context(), callback)


class _Signal:
    """A one-shot event whose wait() is a C wait: it iterates the calling
    thread's own main context while it blocks (see _block())."""

    __slots__ = ('_promise',)

    def __init__(self):
        self._promise = _Promise()

    def set(self):
        self._promise.resolve(None)

    def wait(self, deadline):
        _block(self._promise, deadline)
        return self._promise.get_state() >= _DONE


class _Wake:
    """Done callback (private context) of the future _block() waits for:
    completes the promise of the current slice."""

    __slots__ = ('lock', 'current')

    def __init__(self):
        self.lock = threading.Lock()
        self.current = None

    def set(self, promise):
        with self.lock:
            self.current = promise

    def __call__(self, future, *unused):
        with self.lock:
            promise, self.current = self.current, None
        if promise is not None:
            promise.resolve(None)


def _slice_timeout(promise, *unused):
    promise.resolve(None)
    return False


def _block(future, deadline):
    """Blocks until future is done or the deadline (µs, -1: none) passes.

    This is concurry_future_wait_until(): on a thread that owns its main
    context it iterates that context while it blocks.  On the main thread
    it wakes up every _SLICE so that Python can deliver signals
    (KeyboardInterrupt), and never through a timed-out wait_until(): that
    raises a GLib.Error, and a signal handler running while PyGObject
    converts it turns Ctrl-C into "RuntimeError: Converting the GError
    failed".  Each slice waits instead, for ever, on a promise that the
    private context completes when future is done or the slice ends.

    A KeyboardInterrupt or SystemExit raised by a done callback that runs
    while this waits is raised here once the wait returns."""
    _tls.delivering = getattr(_tls, 'delivering', 0) + 1
    try:
        if _get_ident() != _main_ident:
            try:
                future.wait_until(deadline)
            except GLib.Error:
                pass
            return
        wake = _Wake()
        callback_id = _watch(future, wake)
        try:
            while future.get_state() < _DONE and not _expired(deadline):
                step = _now() + _SLICE
                until = step if deadline < 0 or deadline > step else deadline
                promise = _Promise()
                wake.set(promise)
                if future.get_state() >= _DONE:
                    break
                source = GLib.timeout_source_new(max(0, (until - _now() + 999) // 1000))
                source.set_callback(_slice_timeout, promise)
                source.attach(_bridge_context())
                try:
                    promise.wait_until(_FOREVER)
                finally:
                    source.destroy()
                _raise_deferred()
        finally:
            _raw_remove_done_callback(future, callback_id)
    finally:
        _tls.delivering -= 1
    _raise_deferred()


# --------------------------------------------------------------------------
# done callbacks of the user
# --------------------------------------------------------------------------

_tls = threading.local()    # .delivering: depth of our own waits on this thread
                            # .deferred: a BaseException a callback raised meanwhile


def _raise_deferred():
    exc = getattr(_tls, 'deferred', None)
    if exc is not None:
        _tls.deferred = None
        try:
            raise exc
        finally:
            exc = None

class _CallbackCount:
    """How many user callbacks were added and have not run yet: only used to
    skip flushing the main context when there is nothing to deliver."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pending = 0

    def add(self):
        with self.lock:
            self.pending += 1

    def done(self):
        with self.lock:
            if self.pending > 0:
                self.pending -= 1


_callbacks = _CallbackCount()


def _may_deliver():
    """Whether this thread owns a main context that nobody dispatches right
    now and that this module's blocking calls iterate."""
    return GLib.main_depth() == 0 and (
        _get_ident() == _main_ident or GLib.MainContext.get_thread_default() is not None)


def _flush_callbacks():
    """Delivers done callbacks that are ready, when the calling thread owns
    a main context that nobody is dispatching right now: the main thread of
    a script with no running main loop (or a thread that pushed its own
    context).  Inside a running main loop (a GTK application) this does
    nothing: the loop delivers them."""
    if not _callbacks.pending or GLib.main_depth() != 0:
        return
    context = GLib.MainContext.get_thread_default()
    if context is None:
        if _get_ident() != _main_ident:
            return
        context = GLib.MainContext.default()
    _tls.delivering = getattr(_tls, 'delivering', 0) + 1
    try:
        for _ in range(1000):
            if not context.iteration(False):
                break
    finally:
        _tls.delivering -= 1
    _raise_deferred()


def _report_callback_error(fn, future, exc):
    # Like every exception escaping a GLib callback in PyGObject: through
    # sys.excepthook, without stopping the other callbacks.  The default
    # hook prints on stderr; say which future it was about first.
    hook = sys.excepthook
    if hook is sys.__excepthook__:
        try:
            print('exception calling callback for %r' % (future,), file=sys.stderr)
        except Exception:
            pass
    hook(type(exc), exc, exc.__traceback__)


class _UserCallback:
    """A user callback, run on a GLib main context."""

    __slots__ = ('fn', 'entry')

    def __init__(self, fn):
        self.fn = fn
        self.entry = None

    def __call__(self, future, *user_data):
        _callbacks.done()
        _forget_callback(future, self.entry)
        try:
            self.fn(future, *user_data)
        except Exception as exc:
            _report_callback_error(self.fn, future, exc)
        except BaseException as exc:
            # KeyboardInterrupt (Ctrl-C while the callback ran) or
            # SystemExit: raised by the blocking call of this module that
            # is delivering the callback, once the others due ran; from
            # anywhere else (an application's main loop) it propagates.
            if getattr(_tls, 'delivering', 0) and getattr(_tls, 'deferred', None) is None:
                _tls.deferred = exc
            elif not getattr(_tls, 'delivering', 0):
                raise


class _LoopCallback:
    """A user callback added from a thread running an asyncio loop: the
    private context hands it to that loop, like an asyncio future's."""

    __slots__ = ('loop', 'fn', 'user_data', 'entry')

    def __init__(self, loop, fn, user_data):
        self.loop = loop
        self.fn = fn
        self.user_data = user_data
        self.entry = None

    def __call__(self, future, *unused):
        _forget_callback(future, self.entry)
        try:
            self.loop.call_soon_threadsafe(self.run, future)
        except RuntimeError:
            # The loop is closed: deliver it on the default main context
            # instead, so that it still runs exactly once.
            _callbacks.add()
            _raw_add_done_callback_full(future, GLib.MainContext.default(),
                                        _UserCallback(self.fn), *self.user_data)

    def run(self, future):
        try:
            self.fn(future, *self.user_data)
        except Exception as exc:
            _report_callback_error(self.fn, future, exc)


def _remember_callback(future, callback, callback_id, counted):
    # For remove_done_callback(fn), which asyncio.wait() uses.
    entry = (callback_id, callback.fn, counted)
    callback.entry = entry
    future.__dict__.setdefault('_concurry_callbacks', []).append(entry)


def _forget_callback(future, entry):
    entries = getattr(future, '_concurry_callbacks', None)
    if entries is not None and entry is not None:
        try:
            entries.remove(entry)
        except ValueError:
            pass


def _future_add_done_callback(self, fn, *user_data):
    """Calls ``fn(future, *user_data)`` once this future is done.

    Like ``concurrent.futures.Future.add_done_callback``, with one rule of
    its own: the callback always runs on the GLib main context that was
    thread-default when it was added (the global default context for the
    main thread and for plain threads), never on a worker thread and never
    from inside this call, even if the future is already done.

    A GTK or ``GLib.MainLoop`` application therefore gets it on its main
    thread.  A script without a running main loop gets it whenever the main
    thread blocks in this API (``result()``, ``exception()``,
    ``Concurry.wait()``, ``as_completed()``, ``gather()``, ``shutdown()``,
    leaving a ``with`` block), and at the latest at interpreter exit.  A
    callback added from a thread running an asyncio event loop is run by
    that loop instead, like an asyncio future's.

    An exception raised by fn is reported through ``sys.excepthook`` and
    does not stop the other callbacks.  Returns an id for
    ``remove_done_callback()``.
    """
    if not callable(fn):
        raise TypeError('%r is not callable' % (fn,))
    loop = asyncio._get_running_loop()
    if loop is not None:
        callback = _LoopCallback(loop, fn, user_data)
        callback_id = _watch(self, callback)
        _remember_callback(self, callback, callback_id, False)
        return callback_id
    callback = _UserCallback(fn)
    _callbacks.add()
    try:
        callback_id = _raw_add_done_callback(self, callback, *user_data)
    except BaseException:
        _callbacks.done()
        raise
    _remember_callback(self, callback, callback_id, True)
    return callback_id


def _future_add_done_callback_full(self, context, fn, *user_data):
    """Like ``add_done_callback()``, on an explicit ``GLib.MainContext``
    (``None``: the thread-default one)."""
    if not callable(fn):
        raise TypeError('%r is not callable' % (fn,))
    callback = _UserCallback(fn)
    _callbacks.add()
    try:
        callback_id = _raw_add_done_callback_full(self, context, callback, *user_data)
    except BaseException:
        _callbacks.done()
        raise
    _remember_callback(self, callback, callback_id, True)
    return callback_id


def _future_remove_done_callback(self, callback):
    """Withdraws callbacks that have not been scheduled yet (they will then
    never run).  Given an id from ``add_done_callback()``, returns whether
    it was removed; given a function, removes every registration of it and
    returns how many were removed, like asyncio."""
    entries = getattr(self, '_concurry_callbacks', None) or []
    if isinstance(callback, int):
        matches = [entry for entry in entries if entry[0] == callback]
        if not matches:
            return _raw_remove_done_callback(self, callback)
    else:
        matches = [entry for entry in entries if entry[1] == callback]
    removed = 0
    for entry in matches:
        _forget_callback(self, entry)
        if _raw_remove_done_callback(self, entry[0]):
            removed += 1
            if entry[2]:
                _callbacks.done()
    return removed if not isinstance(callback, int) else removed > 0


# --------------------------------------------------------------------------
# values and exceptions
# --------------------------------------------------------------------------

def _pyobject_value(value):
    gvalue = GObject.Value()
    gvalue.init(_TYPE_PYOBJECT)
    _gvalue_set(gvalue, value)
    return gvalue


def _resolve(promise, value, gvalue=None):
    """Resolves promise with the Python object itself; returns whether it
    was still pending."""
    if value is None:
        return promise.resolve(None)
    if type(value) not in _ATOMIC and isinstance(value, GObject.Object):
        return promise.resolve(value)
    if gvalue is None:
        gvalue = _pyobject_value(value)
    else:
        _gvalue_set(gvalue, value)
    return promise.resolve(gvalue)


def _c_text(text):
    """text as a GError message can hold it: valid UTF-8 without NUL.  Lone
    surrogates (os.fsdecode() of a non-UTF-8 file name) are written as
    backslash escapes, like NUL."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        text = text.encode('utf-8', 'backslashreplace').decode('utf-8')
    if '\0' in text:
        text = text.replace('\0', '\\x00')
    return text


def _error_args(exc):
    """(domain quark, code, message) of the GError standing for exc."""
    try:
        if isinstance(exc, GLib.Error):
            return (GLib.quark_from_string(_c_text(exc.domain or 'g-io-error-quark')),
                    exc.code, _c_text(exc.message or ''))
        try:
            text = str(exc)
        except Exception:
            text = ''
        name = type(exc).__qualname__
        return _CONCURRY_ERROR, _ERROR_FAILED, _c_text('%s: %s' % (name, text) if text else name)
    except Exception:   # a str subclass or a domain PyGObject cannot convert
        return _CONCURRY_ERROR, _ERROR_FAILED, _c_text(type(exc).__qualname__)


# Serializes recording the Python exception with the C outcome (set_exception()
# racing another completion must not replace the winner's exception).
_reject_lock = threading.Lock()


def _reject(promise, exc):
    """Fails promise with exc: the exception object is kept on the wrapper
    (result() re-raises it) and the C future fails with a GError.  Returns
    whether the promise was still pending; a promise that is already done
    keeps its outcome and the exception it had."""
    domain, code, message = _error_args(exc)
    missing = object()
    with _reject_lock:
        if promise.get_state() >= _DONE:
            return False
        previous = promise.__dict__.get('_concurry_exception', missing)
        promise._concurry_exception = exc
        try:
            won = promise.reject_literal(domain, code, message)
        except BaseException:
            won = False
            if promise.get_state() < _DONE:
                won = promise.reject_literal(_CONCURRY_ERROR, _ERROR_FAILED,
                                             type(exc).__name__)
        if not won:
            if previous is missing:
                promise.__dict__.pop('_concurry_exception', None)
            else:
                promise._concurry_exception = previous
    return won


def _exception_of(future):
    """The exception of a failed future: the Python exception it failed
    with, or its GLib.Error, always the same object.  Counts as looking at
    the error for the C library's unobserved-error warning."""
    error = future.get_error()
    try:
        return future._concurry_exception
    except AttributeError:
        pass
    with _reject_lock:
        return future.__dict__.setdefault('_concurry_exception', error)


def _outcome(future):
    """The value of a done future, or its exception object (a CancelledError
    instance if it was cancelled)."""
    state = future.get_state()
    if state == _DONE:
        return future.get_value()
    if state == _CANCELLED:
        return CancelledError()
    return _exception_of(future)


# --------------------------------------------------------------------------
# the Pythonic Future API (on the Concurry.Future interface)
# --------------------------------------------------------------------------

def _wait_state(future, timeout):
    """Waits for a future that is not done.  Done callbacks due on this
    thread's context are delivered only when the call really blocks (never
    by result() on a done future, nor by a poll with timeout <= 0), like
    concurrent.futures, which never runs callbacks from result()."""
    deadline = _deadline(timeout)
    if deadline != _FOREVER and deadline <= _now():
        raise TimeoutError()
    _block(future, deadline)
    state = future.get_state()
    _flush_callbacks()
    if state < _DONE:
        raise TimeoutError()
    return state


def _future_result(self, timeout=None):
    """Returns the value of the future, waiting up to timeout seconds (None:
    for ever; 0 or less: do not wait).

    Raises ``concurrent.futures.CancelledError`` if it was cancelled,
    ``TimeoutError`` if it is not done in time (it is not affected), and
    the exception it failed with otherwise: the very exception object that
    Python work raised, or a ``GLib.Error`` for a failure from C.
    """
    state = self.get_state()
    if state < _DONE:
        state = _wait_state(self, timeout)
    if state == _DONE:
        return self.get_value()
    if state == _CANCELLED:
        raise CancelledError()
    exc = _exception_of(self)
    try:
        raise exc
    finally:
        del exc


def _future_exception(self, timeout=None):
    """Returns the exception the future failed with (the same object every
    time), or None if it completed with a value; waits like ``result()``.
    Raises ``CancelledError`` if it was cancelled and ``TimeoutError`` on
    timeout."""
    state = self.get_state()
    if state < _DONE:
        state = _wait_state(self, timeout)
    if state == _DONE:
        return None
    if state == _CANCELLED:
        raise CancelledError()
    return _exception_of(self)


def _future_done(self):
    """Whether the future completed, failed or was cancelled."""
    return self.get_state() >= _DONE


def _future_running(self):
    """Whether its work has started and is not finished (queued work is not
    running)."""
    return self.get_state() == _RUNNING


def _future_cancelled(self):
    """Whether the future was cancelled."""
    return self.get_state() == _CANCELLED


def _future_uuid(self):
    """A string identifying this future in the process, such as
    ``'promise-0b0a4b32-…'`` (the C id)."""
    return self.get_id()


def _type_label(future):
    name = GObject.type_name(future.__gtype__)
    if name.startswith('Concurry') and len(name) > 8:
        name = 'Concurry.' + name[8:]
    return name


def _future_repr(self):
    state = self.get_state()
    text = '<%s at %#x state=%s' % (_type_label(self), id(self), _STATE_NAMES.get(state, state))
    if state == _DONE:
        text += ' returned %s' % type(self.get_value()).__name__
    elif state == _FAILED:
        # Without get_error(): a repr does not count as looking at the error.
        exc = getattr(self, '_concurry_exception', None)
        text += ' raised %s' % (type(exc).__name__ if exc is not None else 'GLib.Error')
    return text + '>'


class _AsyncioWake:
    """Done callback on the private context: wakes an asyncio future from
    its own loop."""

    __slots__ = ('loop', 'waiter')

    def __init__(self, loop, waiter):
        self.loop = loop
        self.waiter = waiter

    def __call__(self, future, *user_data):
        try:
            self.loop.call_soon_threadsafe(_wake_waiter, self.waiter)
        except RuntimeError:
            pass  # the loop was closed: nobody waits any more


def _wake_waiter(waiter):
    if not waiter.done():
        waiter.set_result(None)


def _future_await(self):
    """``await future``: waits without blocking the asyncio loop, then gives
    ``result()``.  Cancelling the awaiting task cancels the future, as for
    an asyncio future (use ``asyncio.shield()`` to prevent that)."""
    if self.get_state() < _DONE:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        _watch(self, _AsyncioWake(loop, waiter))
        try:
            yield from waiter
        except asyncio.CancelledError:
            self.cancel()
            raise
    return self.result()


def _read_only(name):
    def method(self, *args):
        raise NotImplementedError(
            '%s is completed by its producer: only a Concurry.Promise can be set'
            % _type_label(self))
    method.__doc__ = 'Not supported: only a ``Concurry.Promise`` has %s().' % name
    return method


def _patch(cls, **members):
    for name, member in members.items():
        if name != '__repr__':
            member.__name__ = name
            member.__qualname__ = '%s.%s' % (cls.__name__, name)
        setattr(cls, name, member)


_patch(_Future,
       result=_future_result,
       exception=_future_exception,
       done=_future_done,
       running=_future_running,
       cancelled=_future_cancelled,
       add_done_callback=_future_add_done_callback,
       add_done_callback_full=_future_add_done_callback_full,
       remove_done_callback=_future_remove_done_callback,
       set_result=_read_only('set_result'),
       set_exception=_read_only('set_exception'),
       set_running_or_notify_cancel=_read_only('set_running_or_notify_cancel'),
       __await__=_future_await)
_Future.uuid = property(_future_uuid, doc=_future_uuid.__doc__)
# GObject.Object defines __repr__ before the interface in the MRO.
for _cls in (_Future, _Promise, _ResolvedFuture):
    _cls.__repr__ = _future_repr


def _promise_set_result(self, result):
    """Completes the promise with result (stored as the Python object
    itself).  Raises ``InvalidStateError`` if it is already done, failed or
    cancelled; ``resolve()`` returns False instead."""
    if not _resolve(self, result):
        raise InvalidStateError('%s: %r' % (_STATE_NAMES[self.get_state()].upper(), self))


def _promise_set_exception(self, exception):
    """Fails the promise with exception: ``result()`` re-raises that very
    object; C sees a ``GError``.  Raises ``InvalidStateError`` if it is
    already done, failed or cancelled."""
    if isinstance(exception, type) and issubclass(exception, BaseException):
        exception = exception()
    if not isinstance(exception, BaseException):
        raise TypeError('exception must be a BaseException instance, got %s'
                        % type(exception).__name__)
    if not _reject(self, exception):
        raise InvalidStateError('%s: %r' % (_STATE_NAMES[self.get_state()].upper(), self))


def _promise_set_running_or_notify_cancel(self):
    """Marks the promise running: True if it was pending, False if it was
    cancelled (the work must then not run); raises RuntimeError in any
    other state."""
    if self.mark_running():
        return True
    if self.get_state() == _CANCELLED:
        return False
    raise RuntimeError('Future in unexpected state')


_patch(_Promise,
       set_result=_promise_set_result,
       set_exception=_promise_set_exception,
       set_running_or_notify_cancel=_promise_set_running_or_notify_cancel)


# --------------------------------------------------------------------------
# wrap_future
# --------------------------------------------------------------------------

def _resolved(value):
    if value is None:
        return _ResolvedFuture.new(None)
    if isinstance(value, GObject.Object):
        return _ResolvedFuture.new_object(value)
    return _ResolvedFuture.new(_pyobject_value(value))


def _transfer(promise, source, observed=False):
    """Completes promise like source, a done concurrent.futures or asyncio
    future (called from source's own callbacks).  An observed wrapper
    (made for internal use) counts its failure as looked at: the user
    reads it from source."""
    if source.cancelled():
        promise.cancel()
        return
    try:
        exc = source.exception()
    except BaseException:  # cancelled in the meantime
        promise.cancel()
        return
    if exc is not None:
        _reject(promise, exc)
        if observed:
            promise.get_error()
    else:
        _resolve(promise, source.result())


def _observe_failure(future, *unused):
    """Done callback (private context): a failure counts as looked at."""
    if future.get_state() == _FAILED:
        future.get_error()


def _observe(future):
    """Counts the failure of future as looked at, now or once it fails."""
    state = future.get_state()
    if state == _FAILED:
        future.get_error()
    elif state < _DONE:
        _watch(future, _observe_failure)


class _CancelSource:
    """Done callback (private context) of a wrapper: cancelling the wrapper
    cancels what it wraps."""

    __slots__ = ('source', 'loop')

    def __init__(self, source, loop=None):
        self.source = source
        self.loop = loop

    def __call__(self, future, *user_data):
        if future.get_state() != _CANCELLED or self.source.done():
            return
        if self.loop is None:
            self.source.cancel()
        else:
            try:
                self.loop.call_soon_threadsafe(self.source.cancel)
            except RuntimeError:
                pass


def _wrap_concurrent(source, observed):
    promise = _Promise()
    if source.running():
        promise.mark_running()
    source.add_done_callback(functools.partial(_transfer, promise, observed=observed))
    if promise.get_state() < _DONE:
        _watch(promise, _CancelSource(source))
    return promise


def _wrap_asyncio(source, observed):
    loop = source.get_loop()
    promise = _Promise()
    if source.done():
        # A done asyncio future never changes: read it from any thread now,
        # so that the wrapper is done at once too.
        _transfer(promise, source, observed)
        return promise
    transfer = functools.partial(_transfer, promise, observed=observed)
    if asyncio._get_running_loop() is loop:
        source.add_done_callback(transfer)
    else:
        # asyncio futures may only be touched from their loop's thread.
        loop.call_soon_threadsafe(source.add_done_callback, transfer)
    _watch(promise, _CancelSource(source, loop))
    return promise


def wrap_future(obj):
    """Returns a ``Concurry.Future`` standing for obj:

    * a ``Concurry.Future`` is returned as it is;
    * a ``concurrent.futures.Future`` or an asyncio future/task gives a
      promise completed like it, with the same value or exception object
      (from the asyncio future's own loop); cancelling either one cancels
      the other;
    * a ``Gio.Task`` (returning with ``return_value()``) gives a future of
      its result, read when it completes on its main context;
    * a coroutine or other awaitable is scheduled on the running asyncio
      loop of this thread and wrapped; with no running loop it is a
      ``TypeError`` (it could never run);
    * a ``Gio.AsyncResult`` that is not a ``Gio.Task`` is a ``TypeError``:
      only its ``_finish`` function can read it (see ``gio_call()``);
    * anything else, ``None`` and exception instances included, gives a
      future that is already done with obj as its value.
    """
    return _wrap(obj, False)


def _wrap(obj, observed):
    """wrap_future(obj); an observed wrapper (made for internal use: wait(),
    gather(), unwrapping...) counts its failure as looked at, since the
    user reads it from obj, so it never warns as an unobserved error."""
    if isinstance(obj, _Future):
        return obj
    if isinstance(obj, concurrent.futures.Future):
        return _wrap_concurrent(obj, observed)
    if asyncio.isfuture(obj):
        return _wrap_asyncio(obj, observed)
    if isinstance(obj, Gio.Task):
        future = _Future.new_for_task(obj, _TYPE_GVALUE)
        if observed:
            _observe(future)
        return future
    if isinstance(obj, Gio.AsyncResult):
        raise TypeError('cannot wrap %r: only its _finish function can read a GAsyncResult '
                        'that is not a Gio.Task; start the call with Concurry.gio_call()' % (obj,))
    if inspect.isawaitable(obj):
        loop = asyncio._get_running_loop()
        if loop is None:
            raise TypeError('cannot wrap %r: an awaitable needs a running asyncio event loop '
                            'in this thread' % (obj,))
        return _wrap_asyncio(asyncio.ensure_future(obj, loop=loop), observed)
    return _resolved(obj)


__all__.append('wrap_future')


def gio_call(async_func, *args, finish):
    """Starts a GIO asynchronous call and returns its future::

        future = Concurry.gio_call(gfile.load_contents_async,
                                   finish=gfile.load_contents_finish)
        ok, contents, etag = future.result()

    ``async_func(*args, cancellable, callback)`` is called at once; when it
    completes, ``finish(result)`` is called with the ``Gio.AsyncResult``
    and what it returns becomes the value of the future (the Python object
    itself, a tuple for several out values), or the exception it raises
    (a ``GLib.Error``) the exception of the future.  Cancelling the future
    cancels the call.

    As with any GIO call, it completes on the main context that is
    thread-default for the caller: in a script without a main loop,
    ``result()`` on the main thread iterates it while it waits.
    """
    if not callable(finish):
        raise TypeError('finish must be callable, got %r' % (finish,))
    promise = _Promise()

    def ready(source, result, *user_data):
        try:
            value = finish(result)
        except BaseException as exc:
            _reject(promise, exc)
        else:
            _resolve(promise, value)

    async_func(*args, promise.get_cancellable(), ready)
    return promise


__all__.append('gio_call')


# --------------------------------------------------------------------------
# chains: and_then(), map(), catch_error(), finally_do()
# --------------------------------------------------------------------------
#
# The C chains cannot carry Python outcomes: PyGObject prints and drops an
# exception other than GLib.Error raised by a step, takes a returned tuple
# for out arguments and cannot marshal an int beyond 32 bits, and an
# exception object is lost at the first C copy of the GError.  So the
# override builds chains itself from a promise and a done callback, with
# the C semantics: a step runs on the main context of the code that built
# the chain (the callback rule of add_done_callback(), or the private
# context for a thread that has none, see _add_step()), never inside the
# call; a failure or cancellation the step does not handle goes down the
# chain unchanged (the same exception object); a returned future is
# flattened; cancelling the end cancels what it waits on.

_AND_THEN = 'and_then'
_MAP = 'map'
_CATCH = 'catch_error'
_FINALLY = 'finally_do'
_RUNS_ON = {_AND_THEN: _DONE, _MAP: _DONE, _CATCH: _FAILED}  # finally_do: always
_MININT = GLib.MININT
_MAXINT = GLib.MAXINT


def _resolve_step(promise, value):
    """Resolves promise with what a step returned: the Python object itself
    (as _resolve() does), except for the plain values that a C type holds
    without loss, which keep it so that C code and the raw getters
    (get_int(), get_string()...) read them: a str without NUL, a bool, a
    float, an int that fits a gint (exact types, not subclasses).  A
    GObject.Value is stored as it is."""
    kind = type(value)
    if kind is int:
        if _MININT <= value <= _MAXINT:
            return promise.resolve_int(value)
    elif kind is str:
        if '\0' not in value:
            try:
                return promise.resolve_string(value)
            except UnicodeError:    # lone surrogates: not UTF-8
                pass
    elif kind is bool:
        return promise.resolve_boolean(value)
    elif kind is float:
        return promise.resolve_double(value)
    elif isinstance(value, GObject.Value):
        return promise.resolve(value)
    return _resolve(promise, value)


def _copy_value(source, promise):
    """Resolves promise with the value of the done future source, keeping
    its GType, like the C library's copy of the GValue."""
    gtype = source.get_value_type()
    if gtype == GObject.TYPE_INVALID:
        return promise.resolve(None)
    value = source.get_value()
    if gtype == _TYPE_PYOBJECT:
        return promise.resolve(_pyobject_value(value))
    try:
        gvalue = GObject.Value(gtype, value)
    except Exception:   # a type PyGObject cannot set back: keep the object
        return _resolve(promise, value)
    return promise.resolve(gvalue)


def _mirror(source, promise):
    """Completes promise like the done future source: its value, the same
    exception object, or a cancellation."""
    state = source.get_state()
    if state == _DONE:
        _copy_value(source, promise)
    elif state == _CANCELLED:
        promise.cancel()
    else:
        _reject(promise, _exception_of(source))


def _step_future(obj):
    """The future a step's return value stands for, which the chain waits
    for (flattening), or None if it is a plain value.  Futures are what
    wrap_future() takes for one: concurry, concurrent.futures and asyncio
    futures, a Gio.Task, and other awaitables (TypeError without a running
    asyncio loop in this thread)."""
    if obj is None or type(obj) in _ATOMIC:
        return None
    if isinstance(obj, _Future):
        return obj
    if isinstance(obj, (concurrent.futures.Future, Gio.Task)) or asyncio.isfuture(obj):
        return _wrap(obj, True)
    if isinstance(obj, GObject.Object) or not inspect.isawaitable(obj):
        return None
    try:
        return _wrap(obj, True)
    except TypeError:
        if inspect.iscoroutine(obj):
            obj.close()     # it can never run: no "never awaited" warning
        raise


class _ChainLink:
    """What the end of a chain waits on: the upstream future, then the
    future its step returned.  Cancelling the end cancels it.  It is
    connected to the end's cancellable, so it never refers to the end.

    It holds what it waits on weakly (a GObject weak reference): that
    future holds the step, and so this link, through a C done callback,
    a cycle Python's collector cannot see.  A strong reference would keep
    a dropped upstream promise alive for ever, never abandoned; dropped,
    it is rejected with ``Concurry.Error.ABANDONED``, which goes down the
    chain."""

    __slots__ = ('lock', 'current')

    def __init__(self, current):
        self.lock = threading.Lock()
        self.current = current.weak_ref()

    def set(self, current):
        ref = current.weak_ref() if current is not None else None
        with self.lock:
            self.current = ref

    def cancelled(self, cancellable, *unused):
        with self.lock:
            ref = self.current
        current = ref() if ref is not None else None
        if current is not None:
            current.cancel()


class _ChainStep:
    """One step of a chain: a done callback of the upstream future that
    completes the promise at the end of the step."""

    __slots__ = ('kind', 'fn', 'args', 'promise', 'link')

    def __init__(self, kind, fn, args, promise, link):
        self.kind = kind
        self.fn = fn
        self.args = args
        self.promise = promise
        self.link = link

    def run(self, upstream, *unused):
        # Whatever happens, the step lets go of its function once run.
        promise, self.promise = self.promise, None
        fn, self.fn = self.fn, None
        args, self.args = self.args, ()
        link = self.link
        if promise is None:
            return
        if promise.get_state() >= _DONE:
            link.set(None)          # cancelled meanwhile: nothing to run
            return
        state = upstream.get_state()
        kind = self.kind
        if kind is _FINALLY:
            try:
                fn(upstream, *args)
            except BaseException as exc:
                # Like an exception raised in a finally block: it replaces
                # the outcome, and points at the exception it superseded.
                link.set(None)
                if state == _FAILED:
                    superseded = _exception_of(upstream)
                    if exc.__context__ is None and exc is not superseded:
                        exc.__context__ = superseded
                _reject(promise, exc)
                return
            fn = args = None
            link.set(None)
            _mirror(upstream, promise)
            return
        if state != _RUNS_ON[kind]:
            # Not this step's case: the outcome goes down unchanged.
            link.set(None)
            _mirror(upstream, promise)
            return
        try:
            if kind is _MAP:
                result = fn(upstream.get_value(), *args)
            else:
                if kind is _CATCH:
                    upstream.get_error()    # handled: not an unobserved error
                result = fn(upstream, *args)
            fn = args = None
            inner = _step_future(result)
        except BaseException as exc:
            link.set(None)
            _reject(promise, exc)
            return
        if inner is not None:
            _flatten(promise, link, inner)
            return
        link.set(None)
        try:
            _resolve_step(promise, result)
        except Exception as exc:    # a value that cannot be stored
            _reject(promise, exc)


def _flatten(promise, link, inner):
    """The end of a step takes the outcome of the future its function
    returned, which it now waits on."""
    link.set(inner)
    if promise.get_state() == _CANCELLED:
        inner.cancel()              # cancelled while the step ran
    if inner.get_state() >= _DONE:
        link.set(None)
        _mirror(inner, promise)
    else:
        _watch(inner, functools.partial(_flattened_done, promise, link))


def _flattened_done(promise, link, inner, *unused):
    link.set(None)
    _mirror(inner, promise)


class _PrivateStep:
    """A chain step run on the private context: an exception escaping it
    (a bug, or one its value's conversion raised) is reported, never lost
    in a GLib callback."""

    __slots__ = ('run',)

    def __init__(self, run):
        self.run = run

    def __call__(self, future, *unused):
        run, self.run = self.run, None
        try:
            run(future)
        except BaseException as exc:
            _report_internal_error(exc)


def _owns_no_context():
    """Whether this thread has nothing that would ever run a callback it
    adds: a plain thread (not the main one) with no thread-default main
    context of its own and no running asyncio loop.  The global default
    context belongs to the main thread, which may never iterate it."""
    return (_get_ident() != _main_ident
            and GLib.MainContext.get_thread_default() is None)


def _add_step(upstream, run):
    """Schedules run(upstream) for when upstream is done: on the asyncio
    loop running in this thread if there is one; else on the thread-default
    GLib main context of this thread if it has one (the main thread: the
    global default context); else (a plain thread, a pool worker) on the
    private context, so that the chain completes whatever the main thread
    does."""
    loop = asyncio._get_running_loop()
    if loop is not None:
        _watch(upstream, _LoopCallback(loop, run, ()))
        return
    if _owns_no_context():
        _watch(upstream, _PrivateStep(run))
        return
    _callbacks.add()
    try:
        _raw_add_done_callback(upstream, _UserCallback(run))
    except BaseException:
        _callbacks.done()
        raise


def _chain(upstream, kind, fn, args):
    if not callable(fn):
        raise TypeError('%r is not callable' % (fn,))
    promise = _Promise()
    link = _ChainLink(upstream)
    # Gio.Cancellable.connect() is g_cancellable_connect(): the signal is
    # connected through GObject's connect().
    GObject.Object.connect(promise.get_cancellable(), 'cancelled', link.cancelled)
    _add_step(upstream, _ChainStep(kind, fn, args, promise, link).run)
    return promise


_STEP_DOC = """

    fn runs on the asyncio loop running in this thread, if any, else on the
    main context that is thread-default here (the global default one on
    the main thread), and on a plain thread or pool worker that has none
    on the module's private context thread; never inside this call.  What it returns becomes the value of the returned
    future (the Python object itself, like executor results; a ``str``,
    ``bool``, ``float`` or 32-bit ``int`` keeps a C type); a future it
    returns (concurry, ``concurrent.futures``, asyncio, ``Gio.Task``) is
    waited for and gives its outcome.  An exception it raises fails the
    returned future with that very object (C sees a ``GError``).
    Cancelling the returned future cancels what it waits on.
    """


def _future_and_then(self, fn, *args):
    """Continues this future with ``fn(future, *args)`` once it completes
    with a value, and returns the future of the step.  A failure or a
    cancellation skips fn and goes down the chain unchanged (the same
    exception object)."""
    return _chain(self, _AND_THEN, fn, args)


def _future_map(self, fn, *args):
    """Like ``and_then()``, but calls ``fn(value, *args)`` with the value
    of this future."""
    return _chain(self, _MAP, fn, args)


def _future_catch_error(self, fn, *args):
    """Recovers from a failure: once this future fails, ``fn(future,
    *args)`` gives the outcome of the returned future (a value, a future,
    or an exception it raises); ``future.exception()`` is what it failed
    with.  A value and a cancellation go down the chain unchanged."""
    return _chain(self, _CATCH, fn, args)


def _future_finally_do(self, fn, *args):
    """Calls ``fn(future, *args)`` once this future is done, whatever its
    outcome, which the returned future then gets unchanged (the same value
    or exception object, or the cancellation); what fn returns is ignored.
    An exception raised by fn replaces that outcome, as in a ``finally``
    block.  fn runs where an ``and_then()`` step would.  Cancelling the
    returned future cancels this one."""
    return _chain(self, _FINALLY, fn, args)


for _method in (_future_and_then, _future_map, _future_catch_error):
    _method.__doc__ += _STEP_DOC
_patch(_Future,
       and_then=_future_and_then,
       map=_future_map,
       catch_error=_future_catch_error,
       finally_do=_future_finally_do)


# --------------------------------------------------------------------------
# wait / as_completed / gather
# --------------------------------------------------------------------------

class _Waiter:
    """Done callback (private context) shared by the futures waited for."""

    def __init__(self, mode, count):
        self.mode = mode
        self.remaining = count
        self.lock = threading.Lock()
        self.signal = _Signal()
        self.first_failure = None

    def __call__(self, future, *user_data):
        state = future.get_state()
        mode = self.mode
        with self.lock:
            self.remaining -= 1
            trigger = self.remaining <= 0 or mode == FIRST_COMPLETED
            if state == _FAILED and mode != ALL_COMPLETED:
                trigger = True
            if mode == _FIRST_FAILURE and state in (_FAILED, _CANCELLED):
                trigger = True
                if self.first_failure is None:
                    self.first_failure = future
        if trigger:
            self.signal.set()


def _wait_any(futures, mode, deadline):
    """Blocks until mode is satisfied for futures (none of them done yet) or
    the deadline passes.  Returns the waiter."""
    waiter = _Waiter(mode, len(futures))
    ids = []
    try:
        for future in futures:
            ids.append((future, _watch(future, waiter)))
        waiter.signal.wait(deadline)
    finally:
        for future, callback_id in ids:
            _raw_remove_done_callback(future, callback_id)
    return waiter


def _wait_all(futures, deadline):
    for future in futures:
        if future.get_state() < _DONE:
            _block(future, deadline)
            if _expired(deadline):
                return


def _distinct(fs):
    """[(original, future)] for the distinct items of fs."""
    return [(obj, _wrap(obj, True)) for obj in set(fs)]


def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """Waits for the futures in fs, like ``concurrent.futures.wait``.

    Returns a named pair ``(done, not_done)`` of sets holding the very
    objects of fs (duplicates once).  return_when is ``FIRST_COMPLETED``,
    ``FIRST_EXCEPTION`` (which behaves as ``ALL_COMPLETED`` if nothing
    fails; a cancellation is not an exception) or ``ALL_COMPLETED``.  On
    timeout the sets are returned as they are.  Items that are not
    concurry futures are wrapped with ``wrap_future()`` (plain values count
    as done).
    """
    deadline = _deadline(timeout)
    if isinstance(return_when, _WaitMode):
        return_when = _WAIT_MODES.get(int(return_when), return_when)
    items = _distinct(fs)
    pending = [future for _, future in items if future.get_state() < _DONE]
    if pending and len(pending) < len(items):
        if return_when == FIRST_COMPLETED:
            pending = []
        elif return_when == FIRST_EXCEPTION and any(
                future.get_state() == _FAILED for _, future in items):
            pending = []
    if pending:
        if return_when == ALL_COMPLETED:
            _wait_all(pending, deadline)
        elif return_when in (FIRST_COMPLETED, FIRST_EXCEPTION):
            _wait_any(pending, return_when, deadline)
        else:
            raise ValueError('Invalid return condition: %r' % (return_when,))
    _flush_callbacks()
    done = set()
    not_done = set()
    for obj, future in items:
        state = future.get_state()
        if state >= _DONE:
            if state == _FAILED:
                future.get_error()      # a wait counts as looking at it
            done.add(obj)
        else:
            not_done.add(obj)
    return DoneAndNotDoneFutures(done, not_done)


__all__.append('wait')


class _Collector:
    """Done callback (private context) of as_completed(): queues the
    futures in completion order, by id."""

    def __init__(self):
        self.lock = threading.Lock()
        self.keys = collections.deque()
        self.signal = None

    def __call__(self, future, *user_data):
        with self.lock:
            self.keys.append(id(future))
            signal, self.signal = self.signal, None
        if signal is not None:
            signal.set()

    def pop(self, deadline):
        while True:
            with self.lock:
                if self.keys:
                    return self.keys.popleft()
                signal = self.signal = _Signal()
            if not signal.wait(deadline):
                with self.lock:
                    return self.keys.popleft() if self.keys else None


def as_completed(fs, timeout=None):
    """Yields the futures of fs (the very objects, duplicates once) as they
    complete, those already done first, like
    ``concurrent.futures.as_completed``.

    The timeout counts from this call; once it passes, ``next()`` raises
    ``TimeoutError('%d (of %d) futures unfinished')``.  No reference to a
    yielded future is kept.
    """
    deadline = _deadline(timeout)
    items = _distinct(fs)
    total = len(items)
    finished = [obj for obj, future in items if future.get_state() >= _DONE]
    pending = {id(future): (obj, future) for obj, future in items
               if future.get_state() < _DONE}
    del items
    return _as_completed(finished, pending, total, deadline)


def _as_completed(finished, pending, total, deadline):
    collector = _Collector()
    ids = {}
    try:
        while finished:
            yield finished.pop()
        for key, (_, future) in pending.items():
            ids[key] = _watch(future, collector)
        while pending:
            key = collector.pop(deadline)
            if key is None:
                _flush_callbacks()
                raise TimeoutError('%d (of %d) futures unfinished' % (len(pending), total))
            if key not in pending:
                continue
            ids.pop(key, None)
            _flush_callbacks()
            yield pending.pop(key)[0]
    finally:
        for key, callback_id in ids.items():
            entry = pending.get(key)
            if entry is not None:
                _raw_remove_done_callback(entry[1], callback_id)


__all__.append('as_completed')


def gather(fs, timeout=None, return_exceptions=False):
    """Waits for all the futures of fs and returns their values, in the
    order of fs.

    Items that are not concurry futures are wrapped with ``wrap_future()``,
    so plain values stay in place.  Without return_exceptions, the first
    failure to happen (an exception, or a cancellation as
    ``CancelledError``) is raised as soon as it happens; with it, every
    outcome is returned, exceptions (and ``CancelledError`` instances) in
    place.  If the futures are not all done in time, ``TimeoutError`` is
    raised (they are not affected).
    """
    deadline = _deadline(timeout)
    futures = [_wrap(obj, True) for obj in fs]
    distinct = list({id(future): future for future in futures}.values())
    pending = [future for future in distinct if future.get_state() < _DONE]
    if return_exceptions:
        _wait_all(pending, deadline)
    else:
        failed = None
        for future in futures:
            if future.get_state() in (_FAILED, _CANCELLED):
                failed = future
                break
        if failed is None and pending:
            failed = _wait_any(pending, _FIRST_FAILURE, deadline).first_failure
        if failed is not None:
            _flush_callbacks()
            # Like asyncio.gather(), which retrieves the exceptions of its
            # children: the failures of the other inputs, now or later,
            # are taken as looked at (gather() consumed them).
            for future in distinct:
                if future is not failed:
                    _observe(future)
            exc = _outcome(failed)
            try:
                raise exc
            finally:
                del exc
    _flush_callbacks()
    unfinished = sum(1 for future in distinct if future.get_state() < _DONE)
    if unfinished:
        for future in distinct:
            _observe(future)
        raise TimeoutError('%d (of %d) futures unfinished' % (unfinished, len(distinct)))
    return [_outcome(future) for future in futures]


__all__.append('gather')


# --------------------------------------------------------------------------
# automatic unwrapping of argument futures
# --------------------------------------------------------------------------

_SEQUENCES = (list, tuple, set, frozenset)


def _is_future(obj):
    return (isinstance(obj, (_Future, concurrent.futures.Future))
            or asyncio.isfuture(obj))


def _contains_future(obj):
    kind = type(obj)
    if kind in _ATOMIC:
        return False
    if kind in _SEQUENCES:
        for item in obj:
            if _contains_future(item):
                return True
        return False
    if kind is dict:
        for item in obj.values():
            if _contains_future(item):
                return True
        return False
    return _is_future(obj)


def _args_contain_future(args, kwargs):
    for arg in args:
        if type(arg) not in _ATOMIC and _contains_future(arg):
            return True
    if kwargs:
        for arg in kwargs.values():
            if type(arg) not in _ATOMIC and _contains_future(arg):
                return True
    return False


def _collect_futures(obj, found):
    kind = type(obj)
    if kind in _ATOMIC:
        return
    if kind in _SEQUENCES:
        for item in obj:
            _collect_futures(item, found)
    elif kind is dict:
        for item in obj.values():
            _collect_futures(item, found)
    elif _is_future(obj):
        found.setdefault(id(obj), obj)


def _substitute(obj, values):
    kind = type(obj)
    if kind in _ATOMIC:
        return obj
    if kind in _SEQUENCES:
        return kind(_substitute(item, values) for item in obj)
    if kind is dict:
        return {key: _substitute(item, values) for key, item in obj.items()}
    if id(obj) in values and _is_future(obj):
        return values[id(obj)]
    return obj


class _Dependent:
    """Work whose arguments hold futures: it is queued once they are all
    done (their values replacing them), or fails with the first failure
    among them, without ever blocking a worker.  Its own future is a
    promise handed out at once."""

    def __init__(self, pool, promise, fn, args, kwargs, sources):
        self.pool = pool
        self.promise = promise
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.sources = sources          # {id(original): (original, future)}
        self.lock = threading.Lock()
        self.state = 'waiting'          # -> 'queued' | 'dropped'
        self.remaining = 0
        self.ids = []

    def start(self):
        futures = [future for _, future in self.sources.values()]
        waiting = [future for future in futures if future.get_state() < _DONE]
        self.remaining = len(waiting)
        for future in futures:
            if future.get_state() >= _DONE and self._source_done(future, count=False):
                return
        if not waiting:
            self._ready()
            return
        # Cancelling our own promise while we wait drops the work.
        _watch(self.promise, self._promise_done)
        for future in waiting:
            callback_id = _watch(future, self._source_callback)
            with self.lock:
                if self.state == 'waiting':
                    self.ids.append((future, callback_id))
                    continue
            _raw_remove_done_callback(future, callback_id)

    def _source_callback(self, future, *user_data):
        if self._source_done(future, count=True):
            return
        with self.lock:
            ready = self.state == 'waiting' and self.remaining == 0
        if ready:
            self._ready()

    def _source_done(self, future, count):
        """Accounts for a done source; fails the work if it failed.
        Returns True if the work is settled."""
        state = future.get_state()
        with self.lock:
            if count:
                self.remaining -= 1
            if self.state != 'waiting':
                return True
            if state == _DONE:
                return False
            self.state = 'dropped'
        if state == _CANCELLED:
            self.promise.cancel()
        else:
            _reject(self.promise, _exception_of(future))
        self._settle()
        return True

    def _promise_done(self, promise, *user_data):
        with self.lock:
            if self.state != 'waiting':
                return
            self.state = 'dropped'
        self._settle()

    def _settle(self):
        with self.lock:
            ids, self.ids = self.ids, []
        for future, callback_id in ids:
            _raw_remove_done_callback(future, callback_id)
        self.pool.dependent_finished(self)

    def _ready(self):
        with self.lock:
            if self.state != 'waiting':
                return
            self.state = 'queued'
        values = {key: future.get_value() for key, (_, future) in self.sources.items()}
        args = tuple(_substitute(arg, values) for arg in self.args)
        kwargs = {key: _substitute(arg, values) for key, arg in self.kwargs.items()}
        with self.lock:
            self.ids = []
        self.pool.dependent_ready(self, (self.promise, self.fn, args, kwargs))


# --------------------------------------------------------------------------
# ThreadPoolExecutor
# --------------------------------------------------------------------------

def _report_internal_error(exc):
    try:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    except BaseException:   # pragma: no cover - a broken hook
        pass


def _run_call(item, gvalue):
    """Runs one submitted call and completes its promise; the promise is
    always settled, even if storing the outcome fails."""
    promise, fn, args, kwargs = item
    item = None
    if not promise.mark_running():
        return              # cancelled while queued: never runs
    try:
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            _reject(promise, exc)
            return
        try:
            _resolve(promise, result, gvalue)
        except BaseException as exc:    # a value that cannot be stored
            _reject(promise, exc)
    finally:
        if promise.get_state() < _DONE:
            promise.reject_literal(_CONCURRY_ERROR, _ERROR_FAILED,
                                   'the outcome of the work could not be stored')

_worker = threading.local()          # .pool: the _Pool whose work this thread runs
_live_pools = weakref.WeakSet()
_exiting = False


_MAP_WINDOW = 64  # map() keeps at least this many pieces of work ahead of the results
_LINGER = 0.005   # s: how long an idle drainer waits for more work before returning
_IDLE = object()


class _Pool:
    """The Python side of a Pythonic executor.

    Submitted work is a promise plus a Python call in a queue of our own;
    the C executor runs up to max_workers drainers (C work items), each of
    which runs queued calls until none is left, then waits a few
    milliseconds for more before it returns its pool thread.  So a submit
    costs a promise and a queue append, not a C work item and a native
    closure; cancelling a queued promise makes the drainer skip it;
    shutting down waits for every accepted call, dependent ones included.
    """

    def __init__(self, executor, max_workers):
        self.executor = executor
        self.max_workers = max_workers
        self.lock = threading.Lock()
        self.more = threading.Condition(self.lock)   # work queued, or shutdown
        self.queue = collections.deque()
        self.drainers = 0           # running drainers
        self.lingering = 0          # drainers waiting for work
        self.outstanding = 0        # accepted calls not finished yet
        self.waiting = set()        # _Dependent not queued yet
        self.map_holds = 0          # map() iterators that may still submit
        self.shut_down = False
        self.c_shut_down = False
        self.idle = None            # _Signal set when outstanding drops to 0

    # -- submitting --

    def _push(self, item):
        """Queues item; with the lock held.  Returns whether a drainer must
        be started."""
        self.queue.append(item)
        if self.lingering:
            self.more.notify()
            return False
        if self.drainers < self.max_workers:
            self.drainers += 1
            return True
        return False

    def _check_open(self, held):
        """With the lock held: raises unless work may still be accepted.
        A map() started before shutdown() (held) may still submit the rest
        of its input, except once the interpreter exits."""
        if self.shut_down and (not held or _exiting):
            raise RuntimeError('cannot schedule new futures after shutdown')

    def submit(self, fn, args, kwargs, held=False):
        promise = _Promise()
        with self.lock:
            self._check_open(held)
            self.outstanding += 1
            start = self._push((promise, fn, args, kwargs))
        if start:
            self.start_drainer()
        return promise

    def submit_dependent(self, fn, args, kwargs, held=False):
        found = {}
        for arg in args:
            _collect_futures(arg, found)
        for arg in kwargs.values():
            _collect_futures(arg, found)
        sources = {key: (obj, _wrap(obj, True)) for key, obj in found.items()}
        promise = _Promise()
        dependent = _Dependent(self, promise, fn, args, kwargs, sources)
        with self.lock:
            self._check_open(held)
            self.outstanding += 1
            self.waiting.add(dependent)
        dependent.start()
        return promise

    def hold(self):
        """A map() iterator starts: the C executor stays usable for the rest
        of its input until release(), even after shutdown()."""
        with self.lock:
            self._check_open(False)
            self.map_holds += 1

    def release(self):
        with self.lock:
            self.map_holds -= 1
        self.became_idle()

    def submit_chunk(self, chunk):
        with self.lock:
            self._check_open(True)
            self.outstanding += 1
            start = self._push(chunk)
        if start:
            self.start_drainer()

    def dependent_ready(self, dependent, item):
        with self.lock:
            self.waiting.discard(dependent)
            start = self._push(item)
        if start:
            self.start_drainer()

    def dependent_finished(self, dependent):
        with self.lock:
            self.waiting.discard(dependent)
            self.outstanding -= 1
            idle = self.outstanding == 0
        if idle:
            self.became_idle()

    def start_drainer(self):
        try:
            _raw_submit(self.executor, self.drain)
        except GLib.Error as error:
            # The C executor was shut down behind our back (raw API): what
            # is queued can never run.
            with self.lock:
                self.drainers -= 1
                self.shut_down = True
                orphans = list(self.queue) if self.drainers == 0 else []
                if orphans:
                    self.queue.clear()
            for promise, *_ in orphans:
                exc = RuntimeError('cannot schedule new futures after shutdown')
                exc.__cause__ = error
                _reject(promise, exc)
            if orphans:
                with self.lock:
                    self.outstanding -= len(orphans)
                    idle = self.outstanding == 0
                if idle:
                    self.became_idle()

    # -- running --

    def drain(self, cancellable, *user_data):
        """A C work item: runs queued calls until the queue stays empty."""
        _worker.pool = self
        gvalue = GObject.Value()
        gvalue.init(_TYPE_PYOBJECT)
        lock = self.lock
        queue = self.queue
        counted = False
        try:
            while True:
                with lock:
                    item = None
                    if counted:
                        counted = False
                        self.outstanding -= 1
                        if self.outstanding == 0:
                            item = _IDLE
                    if item is None:
                        if not queue and not self.shut_down:
                            self.lingering += 1
                            self.more.wait(_LINGER)
                            self.lingering -= 1
                        if queue:
                            item = queue.popleft()
                        else:
                            self.drainers -= 1
                if item is _IDLE:
                    self.became_idle()
                    continue
                if item is None:
                    return None
                counted = True
                try:
                    if type(item) is _MapChunk:
                        item.run()
                    else:
                        _run_call(item, gvalue)
                except BaseException as exc:
                    # Never lose the accounting (the loop counts the item
                    # as finished above), whatever went wrong.
                    _report_internal_error(exc)
                    del exc
                item = None
        finally:
            _gvalue_set(gvalue, None)
            _worker.pool = None

    # -- shutting down --

    def became_idle(self):
        with self.lock:
            if self.outstanding != 0:
                return
            signal, self.idle = self.idle, None
            finish = self.shut_down and not self.c_shut_down and not self.map_holds
            if finish:
                self.c_shut_down = True
        if finish:
            _raw_shutdown(self.executor, False, False)
        if signal is not None:
            signal.set()

    def shutdown(self, wait, cancel_futures):
        with self.lock:
            self.shut_down = True
            self.more.notify_all()
            if cancel_futures:
                queued = []
                for item in self.queue:
                    if type(item) is _MapChunk:
                        item.cancelled = True
                        item.job.stopped = True
                    else:
                        queued.append(item[0])
                waiting = [dependent.promise for dependent in self.waiting]
            else:
                queued = waiting = ()
        for promise in queued:
            promise.cancel()
        for promise in waiting:
            promise.cancel()
        self.became_idle()
        if not wait:
            return
        if getattr(_worker, 'pool', None) is self:
            # It would wait for the very call making it (concurrent.futures
            # fails the same way, joining the current thread).  The executor
            # stays shut down.
            raise RuntimeError('cannot join current thread: shutdown(wait=True) called '
                               'from one of the executor\'s own workers')
        with self.lock:
            if self.outstanding == 0:
                signal = None
            else:
                signal = self.idle
                if signal is None:
                    signal = self.idle = _Signal()
        if signal is not None:
            signal.wait(_FOREVER)
        # Every call finished; let the drainers return, unless a map()
        # started before may still submit the rest of its input (the C
        # executor is then shut down once the last such map is done).
        with self.lock:
            join = not self.map_holds
            if join:
                self.c_shut_down = True
        if join:
            _raw_shutdown(self.executor, True, False)
        _flush_callbacks()


def _discard(future):
    """Cancels work nobody will read; a failure that already happened is
    counted as seen, so that it is not reported as an unobserved error."""
    if not future.cancel() and future.get_state() == _FAILED:
        future.get_error()


class _MapJob:
    """What the chunks of one map() share: the function and the outcomes,
    by input position, that the consumer has not read yet."""

    __slots__ = ('fn', 'cond', 'outcomes', 'waiting', 'signal', 'cancelled', 'stopped')

    def __init__(self, fn):
        self.fn = fn
        self.cond = threading.Condition(threading.Lock())
        self.outcomes = {}          # position -> (ok, value or exception)
        self.waiting = False        # the consumer sleeps on cond
        self.signal = None          # or on this _Signal, delivering callbacks
        self.cancelled = False      # the rest must not run
        self.stopped = False        # shutdown(cancel_futures=True): read no more input

    def wake(self):
        """With cond held: an outcome arrived."""
        if self.waiting:
            self.cond.notify()
        signal, self.signal = self.signal, None
        if signal is not None:
            signal.set()


class _MapChunk:
    """Queued map work: fn over consecutive inputs, run by a drainer.  No C
    future per item: the outcomes go straight to the job."""

    __slots__ = ('job', 'start', 'inputs', 'cancelled')

    def __init__(self, job, start, inputs):
        self.job = job
        self.start = start
        self.inputs = inputs
        self.cancelled = False      # by shutdown(cancel_futures=True)

    def run(self):
        job = self.job
        fn = job.fn
        position = self.start
        if self.cancelled:
            # Its items were cancelled before they started: next() raises
            # CancelledError at the first of them, as concurrent.futures does.
            with job.cond:
                job.outcomes[position] = (False, CancelledError())
                job.wake()
            return
        for args in self.inputs:
            if job.cancelled:
                return
            try:
                outcome = (True, fn(*args))
            except BaseException as exc:
                outcome = (False, exc)
            with job.cond:
                job.outcomes[position] = outcome
                job.wake()
            if not outcome[0]:
                return      # the iterator ends at this failure
            outcome = None
            position += 1


class _MapResults:
    """The iterator returned by ThreadPoolExecutor.map().

    Inputs are read on the consumer's thread, a window ahead of the results:
    at most `limit` items submitted and not consumed.  An item whose
    arguments hold futures is submitted on its own (with unwrapping) and its
    future takes its place.

    Until its input is exhausted or it is closed, the iterator holds the
    pool open (_Pool.hold()): a map() started before shutdown() still
    submits the rest of its input as it is consumed, like
    concurrent.futures, which submits all of it in map()."""

    _held = False

    def __init__(self, executor, fn, inputs, deadline, chunksize, limit):
        self._executor = executor
        self._pool = executor._pool
        self._pool.hold()
        self._held = True
        self._started = False       # next() was called
        self._job = _MapJob(fn)
        self._inputs = inputs
        self._deadline = deadline
        self._chunksize = chunksize
        self._limit = limit
        self._next = 0              # position of the next result
        self._submitted = 0         # positions handed out so far
        self._futures = {}          # position -> future, for unwrapped items
        self._done = False
        try:
            self._refill()
        except BaseException:
            self._release()
            raise

    def _release(self):
        """Reads no more input and lets the pool shut down."""
        self._inputs = None
        if self._held:
            self._held = False
            self._pool.release()

    def _refill(self):
        job = self._job
        if job.stopped:
            self._release()
        while self._inputs is not None and self._submitted - self._next < self._limit:
            chunk = []
            unwrapped = None
            error = None
            try:
                for args in self._inputs:
                    if _args_contain_future(args, None):
                        unwrapped = args
                        break
                    chunk.append(args)
                    if len(chunk) == self._chunksize:
                        break
                else:
                    self._inputs = None
            except Exception as exc:
                # The input itself failed: raised at its position.
                self._inputs = None
                error = exc
            if chunk:
                self._pool.submit_chunk(_MapChunk(job, self._submitted, chunk))
                self._submitted += len(chunk)
            if unwrapped is not None:
                future = self._pool.submit_dependent(job.fn, unwrapped, {}, held=True)
                self._futures[self._submitted] = future
                self._submitted += 1
            if error is not None:
                with job.cond:
                    job.outcomes[self._submitted] = (False, error)
                self._submitted += 1
                error = None
        if self._inputs is None:
            self._release()

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        self._started = True
        try:
            if self._next == self._submitted:
                self._refill()
                if self._next == self._submitted:
                    raise StopIteration
            ok, value = self._outcome(self._next)
            self._next += 1
            if not ok:
                if isinstance(value, StopIteration):
                    # Like concurrent.futures' generator (PEP 479): fn
                    # raising StopIteration must not end the results early.
                    raise RuntimeError('map() function raised StopIteration') from value
                raise value
            self._refill()
            return value
        except BaseException:
            self.close()
            raise
        finally:
            value = None

    def _outcome(self, position):
        future = self._futures.pop(position, None)
        if future is not None:
            try:
                if self._deadline == _FOREVER:
                    return True, future.result()
                return True, future.result(max(0, self._deadline - _now()) / 1e6)
            except TimeoutError:
                if not future.done():
                    _discard(future)
                    raise TimeoutError() from None
                return False, future.exception()
            except BaseException as exc:
                if future.cancelled():
                    raise
                return False, exc
        job = self._job
        deadline = self._deadline
        with job.cond:
            while position not in job.outcomes:
                if deadline != _FOREVER:
                    remaining = (deadline - _now()) / 1e6
                    if remaining <= 0:
                        raise TimeoutError()
                else:
                    remaining = _SLICE / 1e6   # lets Ctrl-C through
                if _callbacks.pending and _may_deliver():
                    # A thread that owns a main context nobody dispatches
                    # (a script's main thread): deliver its done callbacks
                    # and chain steps while blocking, like result() does,
                    # since the work may wait for them.
                    signal = job.signal = _Signal()
                    job.cond.release()
                    try:
                        signal.wait(_now() + int(remaining * 1e6))
                    finally:
                        job.cond.acquire()
                        job.signal = None
                    continue
                job.waiting = True
                try:
                    job.cond.wait(remaining)
                finally:
                    job.waiting = False
            outcome = job.outcomes.pop(position)
        if _callbacks.pending:
            _flush_callbacks()
        return outcome

    def close(self):
        """Stops early: the work not consumed yet is cancelled (what has
        not started never runs)."""
        if self._done:
            return
        self._done = True
        self._job.cancelled = True
        self._release()
        futures, self._futures = self._futures, {}
        for future in futures.values():
            _discard(future)
        self._job.outcomes.clear()

    def __del__(self):
        # Like concurrent.futures' generator: dropping an iterator that was
        # never started leaves the work map() submitted to run (it only
        # reads no more input); dropping a started one cancels the rest.
        try:
            if self._started:
                self.close()
            else:
                self._release()
        except Exception:   # pragma: no cover - interpreter teardown
            pass


class ThreadPoolExecutor(Concurry.ThreadPoolExecutor):
    """A ``concurrent.futures``-style executor on a concurry thread pool.

    ``Concurry.ThreadPoolExecutor(max_workers=None)`` runs Python callables
    on the C pool's worker threads (``max_workers`` defaults to
    ``min(32, os.cpu_count() + 4)`` like CPython's) and hands out
    ``Concurry.Future`` objects.  It is a real ``Concurry.Executor``: C code
    can use it too.

    Python work holds the GIL while it runs: use the pool for work that
    blocks in C or waits for I/O, not for CPU-bound pure Python.

    An executor made by the C constructor, ``Concurry.ThreadPoolExecutor.new(n)``,
    keeps the raw C methods: ``submit(fn, *user_data)`` calls
    ``fn(cancellable, *user_data)``, ``map()`` and ``shutdown()`` take the
    C arguments.
    """

    _pool = None

    def __init__(self, max_workers=None):
        if max_workers is None:
            max_workers = min(32, (os.cpu_count() or 1) + 4)
        if max_workers <= 0:
            raise ValueError('max_workers must be greater than 0')
        if max_workers > GLib.MAXINT:
            raise ValueError('max_workers must be at most %d' % GLib.MAXINT)
        super().__init__(max_workers=int(max_workers))
        self._pool = _Pool(self, int(max_workers))
        if _exiting:
            self._pool.shut_down = True
        _live_pools.add(self)

    def submit(self, fn, /, *args, **kwargs):
        """Schedules ``fn(*args, **kwargs)`` and returns its future.

        Futures among the arguments (concurry, ``concurrent.futures`` or
        asyncio ones, also inside lists, tuples, sets and dict values) are
        replaced by their values: the call is queued only once they are all
        done, so no worker ever blocks on them.  If one of them fails, the
        returned future fails with the same exception object; if one is
        cancelled, it is cancelled.

        Raises ``RuntimeError`` after ``shutdown()``.
        """
        pool = self._pool
        if pool is None:
            if kwargs:
                raise TypeError('the raw submit() of an executor made by new() takes no '
                                'keyword arguments')
            return _raw_submit(self, fn, *args)
        if (args or kwargs) and _args_contain_future(args, kwargs):
            return pool.submit_dependent(fn, args, kwargs)
        return pool.submit(fn, args, kwargs)

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        """Returns an iterator of ``fn(*args)`` for the items of the
        iterables taken together (like ``zip()``), in input order.

        The input is read lazily, on the consuming thread, at most
        ``max(2 * max_workers, 64) * chunksize`` items ahead of the results,
        so endless iterables work; the first window is submitted by this
        call.  timeout counts from this call: once it passes, ``next()``
        raises ``TimeoutError``.  An exception from fn (or from reading the
        input) is raised at its position and ends the iteration (a
        StopIteration from fn as RuntimeError).  After a timeout, an
        exception, closing the iterator early or dropping a started one,
        the work not consumed yet is cancelled: what has not started never
        runs.  Dropping an iterator never read cancels nothing (the first
        window runs).  A map started before shutdown() still submits the
        rest of its input as it is consumed.  Each
        piece of work runs chunksize items.  Futures among the inputs are
        unwrapped, as for ``submit()``.
        """
        pool = self._pool
        if pool is None:
            return _raw_map(self, fn, *iterables)
        if chunksize < 1:
            raise ValueError('chunksize must be >= 1.')
        deadline = _deadline(timeout)
        limit = max(2 * pool.max_workers, _MAP_WINDOW) * chunksize
        return _MapResults(self, fn, zip(*iterables), deadline, chunksize, limit)

    def shutdown(self, wait=True, cancel_futures=False):
        """Stops accepting work.  Work already submitted still runs unless
        cancel_futures cancels what has not started; with wait, returns
        once all of it is done.  Calling it again is harmless; waiting from
        one of the executor's own workers raises ``RuntimeError``."""
        pool = self._pool
        if pool is None:
            return _raw_shutdown(self, wait, cancel_futures)
        pool.shutdown(wait, cancel_futures)
        return None

    def is_shutdown(self):
        """Whether ``shutdown()`` was called."""
        pool = self._pool
        if pool is None:
            return Concurry.Executor.is_shutdown(self)
        return pool.shut_down

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.shutdown(wait=True)
        return False


ThreadPoolExecutor = override(ThreadPoolExecutor)
__all__.append('ThreadPoolExecutor')


# --------------------------------------------------------------------------
# interpreter exit
# --------------------------------------------------------------------------

def _at_exit():
    """Like concurrent.futures: wait for the work of every executor (no
    Python may run on a pool thread while the interpreter finalizes), then
    deliver the done callbacks still waiting for the main context."""
    global _exiting
    _exiting = True
    for executor in list(_live_pools):
        pool = executor._pool
        if pool is not None:
            try:
                pool.shutdown(True, False)
            except Exception:
                pass
    if _callbacks.pending and _get_ident() == _main_ident and GLib.main_depth() == 0:
        context = GLib.MainContext.default()
        for _ in range(10000):
            if not _callbacks.pending or not context.iteration(False):
                break


def _after_fork_in_child():
    """The child has none of the parent's threads: no bridge thread, no
    pool workers.  Executors inherited from the parent are not waited for
    at exit (their work runs in the parent), and the locks and counters
    start afresh."""
    global _bridge, _reject_lock, _callbacks
    _bridge = None
    _reject_lock = threading.Lock()
    _callbacks = _CallbackCount()
    for executor in list(_live_pools):
        pool = executor._pool
        if pool is not None:
            pool.lock = threading.Lock()
            pool.more = threading.Condition(pool.lock)
            pool.shut_down = pool.c_shut_down = True
            pool.queue.clear()
            pool.outstanding = pool.drainers = pool.lingering = pool.map_holds = 0
            pool.idle = None
    _live_pools.clear()


try:
    threading._register_atexit(_at_exit)
except (AttributeError, RuntimeError):  # pragma: no cover
    atexit.register(_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
