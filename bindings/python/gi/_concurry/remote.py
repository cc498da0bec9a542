# SPDX-License-Identifier: LGPL-2.1-or-later
"""What executors whose work runs outside this process share
(``ProcessPoolExecutor`` in process.py, ``DaskExecutor`` in dask.py):

* completing the concurry promises that stand for work elsewhere
  (``DaskExecutor``'s, read-only to users) from their own threads;
* exceptions that cross a process boundary with the text of their
  traceback (``__cause__`` is a ``RemoteTraceback``, as in
  ``concurrent.futures``);
* argument futures that cannot be pickled (``DaskExecutor``): the call
  waits (without blocking anyone, on a C ``gather``) until they are done
  and takes their values.

Their ``map()`` is the C engine's (see carrier.py).

Nothing here imports ``gi.repository`` at import time: the override may
import this module while it is itself being loaded, and worker processes
import it only to run work.
"""

import asyncio
import concurrent.futures
import functools
import threading
import traceback

__all__ = ['RemoteTraceback', 'RemoteError', 'RemoteExecutor']

class _OwnRemoteTraceback(Exception):
    """The text of a traceback from another process."""

    def __init__(self, tb):
        super().__init__(tb)
        self.tb = tb

    def __str__(self):
        return self.tb


def _remote_traceback_class():
    """The class concurrent.futures puts in ``__cause__`` (isinstance()
    checks keep working); imported when first needed: it brings
    multiprocessing along."""
    global RemoteTraceback
    try:
        from concurrent.futures.process import _RemoteTraceback as found
    except ImportError:  # pragma: no cover - every CPython 3 has it
        found = _OwnRemoteTraceback
    RemoteTraceback = found
    return found


def __getattr__(name):
    if name == 'RemoteTraceback':
        return _remote_traceback_class()
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


# --------------------------------------------------------------------------
# the Concurry namespace, read lazily
# --------------------------------------------------------------------------

_concurry = None
_promise_ops = None


def concurry():
    """``gi.repository.Concurry`` (imported on first use)."""
    global _concurry
    if _concurry is None:
        import gi
        gi.require_version('Concurry', '1')
        from gi.repository import Concurry
        _concurry = Concurry
    return _concurry


def _ops():
    """(new, seal, resolve, reject, direct) for the promises handed out.

    With the override's package (``gi._concurry.outcomes``), a promise made
    by the C constructor is read-only to users, and outcomes.resolve() /
    reject() complete it; direct is the C add_done_callback_direct (runs
    the callback on the completing thread).  With an older override,
    ``Concurry.Promise()`` and its class methods do, sealed if
    ``gi._concurry.futures.seal`` exists; direct is None."""
    global _promise_ops
    if _promise_ops is None:
        Concurry = concurry()
        from gi.module import get_introspection_module
        raw = get_introspection_module('Concurry')
        direct = getattr(raw.Future, 'add_done_callback_direct', None)
        try:
            from gi._concurry import outcomes
        except ImportError:
            outcomes = None
        if outcomes is not None and hasattr(outcomes, 'resolve'):
            new = raw.Promise.new
            if getattr(outcomes, '_engine', None) is not None:
                # Made holding the GIL: a call that lets it go costs a
                # thread switch when Dask's threads are busy (~80 us).
                new = functools.partial(outcomes._engine.new_promise, None, False)
            _promise_ops = (new, lambda promise: promise,
                            outcomes.resolve, outcomes.reject, direct)
        else:
            try:
                from gi._concurry import futures as _futures
            except ImportError:
                _futures = None
            seal = getattr(_futures, 'seal', lambda promise: promise)
            promise_class = Concurry.Promise

            def resolve(promise, value, set_result=promise_class.set_result):
                try:
                    set_result(promise, value)
                except concurrent.futures.InvalidStateError:
                    return False
                return True

            def reject(promise, exc, set_exception=promise_class.set_exception):
                try:
                    set_exception(promise, exc)
                except concurrent.futures.InvalidStateError:
                    return False
                return True

            _promise_ops = (promise_class, seal, resolve, reject, direct)
    return _promise_ops


def new_promise():
    """A pending promise, read-only to its users once sealed."""
    return _ops()[0]()


def seal(promise):
    """The promise, read-only to its users from now on."""
    return _ops()[1](promise)


def resolve(promise, value):
    """Completes promise with value; False if it was already finished
    (cancelled by its user, for instance)."""
    return _ops()[2](promise, value)


def reject(promise, exc):
    """Fails promise with exc (that very object); False if it was already
    finished."""
    return _ops()[3](promise, exc)


def _private_context():
    """The package's private GLib main context, iterated by a daemon thread
    (see bridge.private_context())."""
    from . import bridge
    return bridge.private_context()


def watch(future, fn):
    """Calls fn(future) once future is done, never on (nor waiting for) a
    main loop of the application, whatever it runs or does not run: on
    the thread that completes it (C add_done_callback_direct), or else on a
    thread of this module."""
    direct = _ops()[4]
    if direct is not None:
        direct(future, fn)
    else:
        future.add_done_callback_full(_private_context(), fn)


def is_future(obj):
    """Whether obj is a future whose value a call would take in its
    place: a concurry, ``concurrent.futures`` or asyncio future."""
    return (isinstance(obj, (concurry().Future, concurrent.futures.Future))
            or asyncio.isfuture(obj))


# --------------------------------------------------------------------------
# exceptions crossing a process boundary
# --------------------------------------------------------------------------

def format_traceback(exc):
    return ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _rebuild_exc(exc, tb):
    exc.__cause__ = _remote_traceback_class()('\n"""\n%s"""' % tb)
    return exc


class RemoteError:
    """An exception as it leaves a worker: pickled, it comes back as the
    exception itself (its type and args) whose ``__cause__`` holds the
    text of the traceback it had in the worker."""

    __slots__ = ('exc', 'tb')

    def __init__(self, exc, tb=None):
        self.exc = exc
        self.tb = format_traceback(exc) if tb is None else tb

    def __reduce__(self):
        return _rebuild_exc, (self.exc, self.tb)


# --------------------------------------------------------------------------
# argument futures
# --------------------------------------------------------------------------

ATOMIC = _ATOMIC = frozenset((int, float, str, bytes, bool, type(None), complex))
_SEQUENCES = (list, tuple, set, frozenset)


def collect(obj, found, classify):
    """Walks obj (lists, tuples, sets and dict values, nested) and stores
    in found[id(x)] = (x, kind) every x for which classify(x) gives a kind
    that is not None."""
    kind = type(obj)
    if kind in _ATOMIC:
        return
    if kind in _SEQUENCES:
        for item in obj:
            collect(item, found, classify)
        return
    if kind is dict:
        for item in obj.values():
            collect(item, found, classify)
        return
    what = classify(obj)
    if what is not None:
        found.setdefault(id(obj), (obj, what))


def substitute(obj, values):
    """obj with each object x of id in values replaced by values[id(x)]."""
    kind = type(obj)
    if kind in _ATOMIC:
        return obj
    if kind in _SEQUENCES:
        return kind(substitute(item, values) for item in obj)
    if kind is dict:
        return {key: substitute(item, values) for key, item in obj.items()}
    return values.get(id(obj), obj)


class Dependent:
    """A call whose arguments hold futures: it is started (by ``start(args,
    kwargs)``) once they are all done, their values in their place, or its
    promise fails with the first of their failures (that very exception)
    or is cancelled with them, without blocking any thread.  ``settled()``
    is called once, whatever happens.  The waiting is the C engine's: one
    ``gather`` over the argument futures."""

    def __init__(self, promise, args, kwargs, sources, start, settled):
        self.promise = promise
        self.args = args
        self.kwargs = kwargs
        self.start = start
        self.settled = settled
        self.lock = threading.Lock()
        self.finished = False
        self.group = None
        Concurry = concurry()
        self.sources = {}
        for key, source in sources.items():
            self.sources[key] = (source if isinstance(source, Concurry.Future)
                                 else Concurry.wrap_future(source))

    def begin(self):
        from .outcomes import Concurry as raw
        watch(self.promise, self._promise_done)
        # Fails as soon as one input fails (with its error, which carries
        # the exception) or is cancelled; done once all are.
        self.group = raw.gather(list(self.sources.values()), raw.GatherFlags.NONE)
        watch(self.group, self._group_done)

    def _promise_done(self, promise, *unused):
        # Cancelled by its user while waiting: nothing more to wait for.
        if self._finish():
            self.settled()

    def _finish(self):
        with self.lock:
            if self.finished:
                return False
            self.finished = True
            return True

    def _group_done(self, group, *unused):
        if not self._finish():
            return
        try:
            if group.cancelled():
                self.promise.cancel()
                return
            exc = group.exception()
            if exc is not None:
                reject(self.promise, _first_failure(self.sources.values(), exc))
                return
            if self.promise.done():
                return
            values = {key: future.result() for key, future in self.sources.items()}
            self.start(substitute(self.args, values), substitute(self.kwargs, values))
        except BaseException as exc:
            reject(self.promise, exc)
        finally:
            self.settled()


def _first_failure(sources, exc):
    """The exception of the input the group failed with: its own object
    (the group gives it back through the error's payload; a GLib.Error of
    another domain is found among the failed inputs)."""
    from gi.repository import GLib
    if not isinstance(exc, GLib.Error):
        return exc
    for future in sources:
        if future.done() and not future.cancelled():
            failed = future.exception()
            if isinstance(failed, GLib.Error) and failed.matches(
                    GLib.quark_from_string(exc.domain), exc.code) and failed.message == exc.message:
                return failed
    return exc


# --------------------------------------------------------------------------
# the executor base
# --------------------------------------------------------------------------

class RemoteExecutor(concurrent.futures.Executor):
    """Base of the executors whose work runs elsewhere: a
    ``concurrent.futures.Executor`` handing out concurry futures, and the
    context manager."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, tb):
        self.shutdown(wait=True)
        return False
