# SPDX-License-Identifier: LGPL-2.1-or-later
"""``ThreadPoolExecutor`` on the C thread pool.

Each executor has one ``Concurry.Runner``: workers hand it the Python items
they take from the C queue in batches, so the interpreter is entered once
per batch, not once per item.  Queueing, batching, cancellation, shutdown,
``map()``'s window and input reading, and the waiting for argument futures
are the C engine's; this module converts values and exceptions, names the
worker threads and runs the initializer.
"""

import collections
import concurrent.futures
import concurrent.futures.thread
import itertools
import os
import sys
import threading
import weakref

from gi.repository import Gio, GLib

from . import bridge, remote
from .futures import FutureMethods, is_future, wrap_future
from .outcomes import (Concurry, CancelledError, FALLBACK, _engine, error_for,
                       pin_exception, pyobject_value, remember, to_gvalue)

BrokenThreadPool = concurrent.futures.thread.BrokenThreadPool

_CONCURRY_DOMAIN = GLib.quark_to_string(Concurry.error_quark())
_SHUT_DOWN = int(Concurry.Error.SHUT_DOWN)
_WRONG_THREAD = int(Concurry.Error.WRONG_THREAD)
_raw_map_with_runner = Concurry.Executor.map_with_runner
_raw_shutdown = Concurry.Executor.shutdown
_raw_submit = Concurry.Executor.submit
_raw_map = Concurry.Executor.map
_counter = itertools.count()
_get_ident = threading.get_ident
_live = weakref.WeakSet()
_exiting = False
_repr = FutureMethods.__repr__

# The per-item calls: through the engine module (holding the GIL) when it
# is built, else through introspection, with the same results.
if _engine is not None:
    _submit_to_runner = _engine.submit_to_runner
    _batch_info = _engine.batch_info
    _batch_start = _engine.batch_start
    _batch_return_value = _engine.batch_return_value
    _batch_return_part = _engine.batch_return_part
    _map_next = _engine.map_next
    _input_hint = _engine.input_hint
    _keep_thread_state = _engine.keep_thread_state
else:
    _submit_to_runner = Concurry.Executor.submit_to_runner
    _input_hint = Concurry.map_input_hint

    def _batch_info(batch):
        return batch.get_size(), batch.get_data()

    def _batch_start(batch, index):
        return batch.start(index)

    def _batch_return_value(batch, index, value):
        return FALLBACK     # the caller makes the introspected call

    def _batch_return_part(batch, index, part):
        batch.return_part(index, pyobject_value(part))

    def _map_next(results, until):
        return results.next_until(until)

    def _keep_thread_state():
        # One more PyGILState_Ensure() (nested: this thread holds the GIL),
        # never given back: without the engine, nothing runs at the end of
        # a GLib thread to do it, and the thread state stays until exit.
        import ctypes
        ctypes.pythonapi.PyGILState_Ensure()


_SEQUENCES = (list, tuple, set, frozenset)


def _contains_future(obj, depth=0):
    if is_future(obj):
        return True
    if depth < 4:
        if type(obj) in _SEQUENCES:
            return any(_contains_future(item, depth + 1) for item in obj)
        if type(obj) is dict:
            return any(_contains_future(item, depth + 1) for item in obj.values())
    return False


def _collect(obj, found, depth=0):
    """Replaces the futures in obj by their wrappers, noting each once."""
    if is_future(obj):
        future = wrap_future(obj)
        found.setdefault(id(future), future)
        return _Slot(future)
    if depth < 4:
        kind = type(obj)
        if kind in _SEQUENCES:
            return kind(_collect(item, found, depth + 1) for item in obj)
        if kind is dict:
            return {key: _collect(value, found, depth + 1) for key, value in obj.items()}
    return obj


class _Slot:
    """Where the value of an argument future goes once it is done."""

    __slots__ = ('future',)

    def __init__(self, future):
        self.future = future


def _fill(obj, depth=0, timeout=0):
    kind = type(obj)
    if kind is _Slot:
        return obj.future.result(timeout)
    if depth < 4:
        if kind in _SEQUENCES:
            return kind(_fill(item, depth + 1, timeout) for item in obj)
        if kind is dict:
            return {key: _fill(value, depth + 1, timeout) for key, value in obj.items()}
    return obj


_PLAIN = remote.ATOMIC


def _fill_input(item):
    """A map input with its futures replaced by their values (waiting for
    them, on the worker)."""
    if type(item) in _PLAIN:
        return item
    if _contains_future(item):
        found = {}
        return _fill(_collect(item, found), timeout=None)
    return item


class _Pool:
    """What the runner of one executor needs (the runner must not hold the
    executor, which holds the runner).  Worker threads are known by their
    OS thread id: PyGObject gives a foreign thread a fresh Python thread
    state for each call into Python, unless the thread keeps one (see
    _keep_thread_state())."""

    broken_error = BrokenThreadPool

    def __init__(self, prefix, initializer, initargs):
        self.prefix = prefix
        self.initializer = initializer
        self.initargs = initargs
        self.broken = None
        self.cancelling = False     # shut down with cancel_futures
        self.names = {}             # thread id -> name
        self.lock = threading.Lock()

    def enter_thread(self, ident):
        """First item of this pool on a worker thread: name it, run the
        initializer (a failure breaks the pool, as in
        ``concurrent.futures``)."""
        thread = threading.current_thread()
        if not isinstance(thread, threading._DummyThread):
            # A thread of Python's own (a main context's): keep its name.
            name = thread.name
        else:
            _keep_thread_state()
            with self.lock:
                name = '%s_%d' % (self.prefix, len(self.names))
            thread.name = name
        with self.lock:
            self.names[ident] = name
        if self.initializer is not None:
            try:
                self.initializer(*self.initargs)
            except BaseException:
                bridge.logger.critical('Exception in initializer:', exc_info=True)
                self.broken = ('A thread initializer failed, the thread pool '
                               'is not usable anymore')

    def run(self, batch, *unused):
        ident = _get_ident()
        name = self.names.get(ident)
        if name is None:
            self.enter_thread(ident)
        else:
            thread = threading.current_thread()
            if thread.name != name:
                thread.name = name
        fail = batch.return_error
        size, data = _batch_info(batch)
        for index in range(size):
            item = _batch_start(batch, index)
            if item is None:
                continue
            if self.broken is not None:
                exc = self.broken_error(self.broken)
                fail(index, error_for(exc), exc)
                continue
            try:
                if data is None:
                    if len(item) == 3:
                        value = item[0](*item[1], **item[2])
                    else:
                        value = item[0](*_fill(item[1]), **_fill(item[2]))
                else:
                    value = _map_group(data[0], data[1], item, self, data[2], batch, index)
            except BaseException as exc:
                remember(exc)
                if isinstance(exc, GLib.Error):
                    pin_exception(batch.get_future(index), exc)
                fail(index, error_for(exc), exc)
                del exc
                continue
            item = None
            # return_outcome(), inlined: once per item
            if _batch_return_value(batch, index, value) is FALLBACK:
                try:
                    batch.return_value(index, to_gvalue(value))
                except (TypeError, ValueError, OverflowError):
                    batch.return_value(index, pyobject_value(value))
            value = None


def return_outcome(batch, index, value):
    """Ends item index of a C work batch with value, kept as itself."""
    if _batch_return_value(batch, index, value) is FALLBACK:
        try:
            batch.return_value(index, to_gvalue(value))
        except (TypeError, ValueError, OverflowError):
            batch.return_value(index, pyobject_value(value))


def return_failure(batch, index, exc):
    """Ends item index of a C work batch with exception exc."""
    remember(exc)
    batch.return_error(index, error_for(exc), exc)


class _Handover:
    """Outcomes of a map's group on their way to its iterator, which takes
    them out: the worker may still hold this for a moment, but no longer
    what the user's function returned (concurrent.futures keeps no
    reference to a result the iterator gave)."""

    __slots__ = ('outcomes',)

    def __init__(self, outcomes):
        self.outcomes = outcomes

    def take(self):
        outcomes, self.outcomes = self.outcomes, ()
        return outcomes


def _map_group(fn, star, group, pool, control, batch, index):
    """The outcomes of fn over one input of a C map, a group of the user's
    items (as many as C's concurry_map_input_hint() said): values, or
    (_FAILED_ITEM, exception) for an item that raised.  What each item
    returned is handed over to the map's iterator (a part of the group's
    results, concurry_work_batch_return_part()) before the next item
    starts, as concurrent.futures makes every result available as soon as
    its item ends: a later item may wait for somebody reading it.  The
    items after one that raised still run, as concurrent.futures runs every
    submitted item, unless the map is closed or the executor shut down with
    cancel_futures: the items of the group not started yet are then
    cancelled, as queued ones are.  Returns the outcomes not handed over
    yet, the group's last part, in a _Handover."""
    results = []
    for item in group:
        if results:
            # Not held here any more once the iterator took them.
            results, part = [], _Handover(results)
            _batch_return_part(batch, index, part)
            part = None
        if pool.cancelling or control.closed:
            results.append((_FAILED_ITEM, CancelledError()))
            break
        try:
            item = _fill_input(item)
            results.append(fn(*item) if star else fn(item))
        except BaseException as exc:
            remember(exc)
            results.append((_FAILED_ITEM, exc))
    return _Handover(results)


def _pool(executor):
    pool = executor.__dict__.get('_concurry_pool')
    if pool is None:
        pool = executor.__dict__.setdefault(
            '_concurry_pool', _Pool('ThreadPoolExecutor-%d' % next(_counter), None, ()))
    return pool


def _runner(executor):
    runner = executor.__dict__.get('_concurry_runner')
    if runner is None:
        runner = executor.__dict__.setdefault('_concurry_runner',
                                              Concurry.Runner.new(_pool(executor).run))
    return runner


def _c_executor(executor):
    """The C executor doing the work of executor: itself, or the one a
    Python executor such as ``ProcessPoolExecutor`` keeps."""
    return executor.__dict__.get('_concurry_c', executor)


def _raise_submit_error(error):
    if error.domain == _CONCURRY_DOMAIN and error.code == _SHUT_DOWN:
        raise RuntimeError('cannot schedule new futures after shutdown') from None
    raise error


def _raw(executor):
    """An executor made by a C constructor (``new()``) keeps the raw C
    methods: ``submit(fn, *user_data)`` calls ``fn(cancellable,
    *user_data)``, ``map()`` and ``shutdown()`` take the C arguments."""
    return '_concurry_pool' not in executor.__dict__


class ExecutorMethods:
    """``concurrent.futures.Executor`` on the concurry executors made from
    Python (``Concurry.ThreadPoolExecutor(...)``), mixed into the overrides
    of the C executors."""

    def submit(self, fn, /, *args, **kwargs):
        """Schedules ``fn(*args, **kwargs)`` and returns its future.

        Futures among the arguments (also inside lists, tuples, sets and
        dicts) are waited for first and replaced by their values; if one of
        them fails, the work does not run and its future fails the same way.
        """
        attributes = self.__dict__
        pool = attributes.get('_concurry_pool')
        if pool is None:
            if kwargs:
                raise TypeError('the raw submit() of an executor made by new() takes no '
                                'keyword arguments')
            return _raw_submit(self, fn, *args)
        if pool.broken is not None:
            raise pool.broken_error(pool.broken)
        if _exiting:
            raise RuntimeError('cannot schedule new futures after interpreter shutdown')
        if not callable(fn):
            raise TypeError('%r is not callable' % (fn,))
        after = None
        if (args and any(_contains_future(arg) for arg in args)) or \
                (kwargs and any(_contains_future(arg) for arg in kwargs.values())):
            found = {}
            args = _collect(args, found)
            kwargs = _collect(kwargs, found)
            after = list(found.values())
            item = (fn, args, kwargs, True)
        else:
            item = (fn, args, kwargs)
        try:
            future = _submit_to_runner(attributes.get('_concurry_c', self),
                                       attributes.get('_concurry_runner') or _runner(self),
                                       item, after)
        except GLib.Error as error:
            _raise_submit_error(error)
        if type(future).__repr__ is not _repr:
            type(future).__repr__ = _repr
        return future

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """Returns an iterator of ``fn(*args)`` for args taken from
        iterables, in order, like ``concurrent.futures``' ``map()``.

        The input is read lazily, as results are consumed (at most
        buffersize pieces of work, default twice the workers, are ahead of
        the results), so an endless input runs in bounded memory.  Every
        item runs, unless the iterator is closed (or dropped after it was
        started, as ``concurrent.futures`` cancels then) or the executor is
        shut down with ``cancel_futures=True``: dropping an iterator that
        was never read lets all of the input run, and ``shutdown()`` waits
        for it.  An item that raised raises from ``__next__()`` at its
        position (the same exception object); ``TimeoutError`` if the
        results are not all there timeout seconds after this call.
        """
        if _raw(self):
            return _raw_map(self, fn, *iterables)
        return map_with_runner(_c_executor(self), _runner(self), _pool(self), fn, iterables,
                               timeout, chunksize, buffersize)

    def shutdown(self, wait=True, cancel_futures=False):
        """Stops accepting work; with cancel_futures, cancels what has not
        started; with wait, returns once everything submitted (and every map
        begun) has finished."""
        if _raw(self):
            return _raw_shutdown(self, wait, cancel_futures)
        if cancel_futures:
            _pool(self).cancelling = True
        try:
            _raw_shutdown(_c_executor(self), wait, cancel_futures)
        except GLib.Error as error:
            if error.domain == _CONCURRY_DOMAIN and error.code == _WRONG_THREAD:
                # concurrent.futures' words, from joining the worker itself
                raise RuntimeError('cannot join current thread: cannot wait for an '
                                   'executor to shut down from one of its own workers') from None
            raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.shutdown(wait=True)
        return False


def map_with_runner(executor, runner, pool, fn, iterables, timeout, chunksize, buffersize):
    """``map()`` of a Python executor: the C map of executor (a C executor)
    with runner, whose function is ``pool.run``; see ``ExecutorMethods.map``."""
    if chunksize < 1:
        raise ValueError('chunksize must be >= 1.')
    if buffersize is not None and buffersize < 1:
        raise ValueError('buffersize must be None or > 0.')
    if not callable(fn):
        raise TypeError('%r is not callable' % (fn,))
    if pool.broken is not None:
        raise pool.broken_error(pool.broken)
    star = len(iterables) != 1
    source = iter(zip(*iterables) if star else iterables[0])
    control = _MapControl()
    # A pool whose workers count their tasks (max_tasks_per_child) gets one
    # item per call: each item is a task, as in concurrent.futures.
    reader = _Input(source, 1 if getattr(pool, 'one_call_per_task', False) else None)
    until = bridge.deadline(timeout)
    try:
        results = _raw_map_with_runner(executor, runner, pyobject_value((fn, star, control)),
                                       reader.next, None, bridge.remaining(until),
                                       chunksize, buffersize or 0)
    except GLib.Error as error:
        _raise_submit_error(error)
    return MapIterator(results, reader, control)


class _Input:
    """The input function of a C map: reads the iterator (on whatever thread
    C reads input) as many items at a time as C's map says
    (``concurry_map_input_hint()``: several while they prove quick, one
    while they are slow), each group one C input, so that the interpreter
    is entered once per group; an exception it raises is kept for the
    consumer, at its position."""

    __slots__ = ('source', 'error', 'group')

    def __init__(self, source, group=None):
        self.source = source
        self.error = None
        self.group = group      # a fixed number of items per input, or None

    def next(self, *unused):
        if self.error is not None:
            return False, None
        items = []
        try:
            for item in itertools.islice(self.source, self.group or _input_hint()):
                items.append(item)
        except BaseException as exc:
            self.error = exc
        if not items:
            return False, None
        # A list: PyGObject stores it as the Python object itself (a
        # GObject.Value returned for an out GValue would not be copied).
        return True, items


_FAILED_ITEM = object()


class _MapControl:
    """Shared by a map's workers and its iterator: whether it was closed
    (the items of a group not started yet are then cancelled)."""

    __slots__ = ('closed',)

    def __init__(self):
        self.closed = False


class MapIterator:
    """The results of ``map()``, in input order."""

    def __init__(self, results, reader, control):
        self._results = results
        self._reader = reader
        self._control = control
        self._started = False
        self._group = collections.deque()

    def __iter__(self):
        return self

    def __next__(self):
        group = self._group
        if group:
            return self._give(group.popleft())
        results = self._results
        if results is None:
            raise StopIteration
        self._started = True
        got = []

        def step(usec):
            until = -1 if usec < 0 else bridge.now() + usec
            ok, value, timed_out = _map_next(results, until)
            if ok:
                got.append(value)
                return True
            return not timed_out

        while True:
            try:
                # A result that is there is taken at once (see map_next()).
                ok, value, timed_out = _map_next(results, 0)
                if ok:
                    got.append(value)
                elif timed_out:
                    bridge.wait_slices(step, -1)
            except GLib.Error as error:
                self._results = None
                payload = results.get_error_payload()
                if isinstance(payload, BaseException):
                    raise payload from None
                if error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
                    raise TimeoutError() from None
                if error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
                    raise CancelledError() from None
                raise
            if not got:
                break
            # A group's results (from a process, a list), or a part of
            # them, which may be empty: then read on.
            outcomes = got.pop()
            if type(outcomes) is _Handover:
                outcomes = outcomes.take()
            if outcomes:
                group.extend(outcomes)
                outcomes = None
                return self._give(group.popleft())
        self._results = None
        if self._reader.error is not None:
            error, self._reader.error = self._reader.error, None
            raise error
        raise StopIteration

    def _give(self, value):
        if type(value) is tuple and len(value) == 2 and value[0] is _FAILED_ITEM:
            exc = value[1]
            self.close()
            if isinstance(exc, StopIteration):
                raise RuntimeError('map function raised StopIteration') from exc
            raise exc
        return value

    def close(self):
        """Stops the map: the work not started is cancelled and no more input
        is read."""
        self._group.clear()
        self._control.closed = True
        results, self._results = self._results, None
        if results is not None:
            results.close()

    def __del__(self):
        # Like the generator of concurrent.futures: dropping it once it was
        # read cancels the rest; never read, it lets the input run. Not
        # while the interpreter tears down (its modules are going, and
        # exit already waited for the executors' work).
        if self._started and not sys.is_finalizing():
            self.close()


def thread_pool_init(self, max_workers=None, thread_name_prefix='', initializer=None,
                     initargs=()):
    if max_workers is None:
        max_workers = min(32, (os.cpu_count() or 1) + 4)
    if max_workers <= 0:
        raise ValueError('max_workers must be greater than 0')
    if initializer is not None and not callable(initializer):
        raise TypeError('initializer must be a callable')
    python_init(self, thread_name_prefix, initializer, initargs)
    Concurry.ThreadPoolExecutor.__init__(self, max_workers=max_workers)


def python_init(executor, prefix, initializer=None, initargs=()):
    """Makes executor a Python executor (not a raw C one); like
    ``concurrent.futures``, the interpreter waits for its work at exit."""
    _live.add(executor)
    if initializer is not None and not callable(initializer):
        raise TypeError('initializer must be a callable')
    executor.__dict__['_concurry_pool'] = _Pool(
        prefix or '%s-%d' % (type(executor).__name__, next(_counter)), initializer, initargs)


def _at_exit():
    """Like concurrent.futures: no Python may run on a worker thread while
    the interpreter finalizes, so exit waits for the work of every executor
    made from Python, and refuses new work."""
    global _exiting
    _exiting = True
    for executor in list(_live):
        try:
            _raw_shutdown(executor, True, False)
        except Exception:
            pass


def _after_fork_in_child():
    """The child has none of the parent's worker threads: the executors it
    inherited are not waited for at exit (their work runs in the parent)."""
    _live.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)

try:
    threading._register_atexit(_at_exit)
except (AttributeError, RuntimeError):  # pragma: no cover
    import atexit
    atexit.register(_at_exit)
