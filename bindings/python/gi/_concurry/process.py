# SPDX-License-Identifier: LGPL-2.1-or-later
"""``Concurry.ProcessPoolExecutor``: the thread pool's API over worker
processes, handing out concurry futures.

The processes, their start method, initializer, recycling
(``max_tasks_per_child``) and the detection of a worker that dies are the
standard library's ``concurrent.futures.ProcessPoolExecutor``; this module
only feeds it.  Calls wait in a queue here and go to the worker processes
in batches: a batch is one item of the standard pool, so one pickled
message each way carries many calls.  At most ``2 * max_workers`` batches
are out at a time; a call is *running* (``cancel()`` returns False) from
the moment its batch leaves the queue, as a call in the standard pool is
once it enters the pool's call queue.  Each call is pickled on its own, in
the parent and in the worker, so one call that cannot be pickled (or
whose result cannot) fails alone.
"""

import collections
import concurrent.futures
import functools
import os
import pickle
import threading
import weakref

from gi._concurry import remote

__all__ = ['ProcessPoolExecutor', 'BrokenProcessPool']

# concurrent.futures.process (and multiprocessing) are imported by the
# first pool (or the first look at BrokenProcessPool), not with this
# module: the override imports this one whenever it loads.


def __getattr__(name):
    if name == 'BrokenProcessPool':
        return _standard_pool()[1]
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


def _standard_pool():
    """(concurrent.futures.ProcessPoolExecutor, BrokenProcessPool)."""
    global BrokenProcessPool
    import concurrent.futures.process as standard
    BrokenProcessPool = standard.BrokenProcessPool
    return standard.ProcessPoolExecutor, standard.BrokenProcessPool

_MAX_BATCH = 64          # calls in one batch, at most
_PROTOCOL = pickle.HIGHEST_PROTOCOL

_tls = threading.local()            # .completing: the executor whose promises this thread completes
_live = weakref.WeakSet()           # executors not shut down, for interpreter exit


def _dump_error(exc):
    error = remote.RemoteError(exc)
    try:
        return pickle.dumps((False, error), _PROTOCOL)
    except BaseException as pickling_error:
        note = remote.RemoteError(pickling_error,
                                  '%s\nThe exception above could not be pickled:\n%s'
                                  % (error.tb, remote.format_traceback(pickling_error)))
        try:
            return pickle.dumps((False, note), _PROTOCOL)
        except BaseException:
            return pickle.dumps((False, remote.RemoteError(
                RuntimeError('%s (its exception could not be pickled)' % type(exc).__name__),
                error.tb)), _PROTOCOL)


def _run_batch(payload):
    """In a worker process: runs each pickled (fn, args, kwargs) of payload
    and returns their pickled outcomes, (True, value) or (False, error)."""
    outcomes = []
    for data in payload:
        try:
            fn, args, kwargs = pickle.loads(data)
            value = fn(*args, **kwargs)
        except BaseException as exc:
            outcomes.append(_dump_error(exc))
            continue
        try:
            outcomes.append(pickle.dumps((True, value), _PROTOCOL))
        except BaseException as exc:
            outcomes.append(_dump_error(exc))
        del fn, args, kwargs, value
    return outcomes


def _default_context():
    """'forkserver' where there is one: a process using concurry always runs
    threads (GLib's, the override's), and a child forked from a process
    with threads may inherit a lock another thread held, and hang or abort
    (Python 3.14 made forkserver the default on Linux for this reason)."""
    import multiprocessing
    try:
        return multiprocessing.get_context('forkserver')
    except ValueError:   # pragma: no cover - no forkserver on this platform
        return None


def _default_workers():
    return os.cpu_count() or 1


class ProcessPoolExecutor(remote.RemoteExecutor):
    """An executor running Python callables in worker processes and
    handing out ``Concurry.Future`` objects.

    ``ProcessPoolExecutor(max_workers=None, mp_context=None,
    initializer=None, initargs=(), max_tasks_per_child=None)`` takes the
    arguments of ``concurrent.futures.ProcessPoolExecutor`` with their
    meaning, except that workers start by default with the 'forkserver'
    method (never 'fork': this process runs threads), as from Python
    3.14 on.  The callable, its arguments and its result cross the process
    boundary pickled: a function must be importable by its module and
    name in the workers.  An exception raised in a worker comes back with
    its type and args, its ``__cause__`` holding the text of its traceback
    in the worker.  A worker that dies breaks the pool: its futures and
    all the work waiting fail with ``BrokenProcessPool``, ``is_broken()``
    returns True and ``submit()`` raises ``BrokenProcessPool``.
    """

    def __init__(self, max_workers=None, mp_context=None, initializer=None,
                 initargs=(), max_tasks_per_child=None):
        if max_workers is None:
            max_workers = _default_workers()
        elif max_workers <= 0:
            raise ValueError('max_workers must be greater than 0')
        pool_class, _ = _standard_pool()
        if mp_context is None and max_tasks_per_child is None:
            mp_context = _default_context()
        self._pool = pool_class(
            max_workers, mp_context, initializer, initargs,
            max_tasks_per_child=max_tasks_per_child)
        self._max_workers = max_workers
        self._map_window = max(2 * max_workers, 64)
        # With recycling, each batch counts as one task of a worker.
        self._batch_cap = 1 if max_tasks_per_child is not None else _MAX_BATCH
        self._limit = 2 * max_workers       # batches out at a time
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue = collections.deque()   # (promise, fn, args, kwargs)
        self._out = 0          # batches taken from the queue, not finished
        self._completing = 0   # batches back whose promises are being completed
        self._waiting = set()  # calls waiting for argument futures (Dependent)
        self._shutdown = False
        self._closed = False   # the standard pool was shut down
        self._broken = None    # the message, once broken
        _live.add(self)

    @property
    def max_workers(self):
        """The number of worker processes."""
        return self._max_workers

    # ------------------------------------------------------------------
    # submitting

    def submit(self, fn, /, *args, **kwargs):
        """Schedules ``fn(*args, **kwargs)`` in a worker process and returns
        its future.

        Futures among the arguments (concurry, ``concurrent.futures`` or
        asyncio ones, also inside lists, tuples, sets and dict values) are
        replaced by their values: the call is queued once they are all
        done; if one fails, the returned future fails with the same
        exception object; if one is cancelled, it is cancelled.

        Raises ``RuntimeError`` after ``shutdown()`` and
        ``BrokenProcessPool`` once the pool is broken.
        """
        with self._lock:
            if self._broken is not None:
                raise BrokenProcessPool(self._broken)
            if self._shutdown:
                raise RuntimeError('cannot schedule new futures after shutdown')
        promise = remote.new_promise()
        if args or kwargs:
            sources = {}
            remote.collect((args, kwargs), sources,
                           lambda obj: True if remote.is_future(obj) else None)
            if sources:
                self._submit_dependent(promise, fn, args, kwargs, sources)
                return remote.seal(promise)
        self._enqueue((promise, fn, args, kwargs))
        return remote.seal(promise)

    def _submit_dependent(self, promise, fn, args, kwargs, sources):
        dependent = remote.Dependent(
            promise, args, kwargs, {key: obj for key, (obj, _) in sources.items()},
            lambda args, kwargs: self._enqueue((promise, fn, args, kwargs)),
            lambda: self._dependent_settled(dependent))
        with self._lock:
            self._waiting.add(dependent)
        dependent.begin()

    def _dependent_settled(self, dependent):
        with self._lock:
            self._waiting.discard(dependent)
            self._idle.notify_all()
        self._maybe_close()

    def _enqueue(self, item):
        with self._lock:
            if self._broken is not None:
                broken = self._broken
            else:
                broken = None
                self._queue.append(item)
                batches = self._take()
        if broken is not None:
            remote.reject(item[0], BrokenProcessPool(broken))
            return
        for batch in batches:
            self._dispatch(batch)

    def _take(self):
        """With the lock held: the batches that may go out now."""
        batches = []
        queue = self._queue
        while queue and (self._out < self._limit or self._shutdown):
            size = min(self._batch_cap, max(1, -(-len(queue) // self._limit)))
            batches.append([queue.popleft() for _ in range(min(size, len(queue)))])
            self._out += 1
        return batches

    def _dispatch(self, batch):
        """Hands one batch to the standard pool (no lock held)."""
        members = []
        payload = []
        for promise, fn, args, kwargs in batch:
            if not remote.mark_running(promise):
                continue
            try:
                payload.append(pickle.dumps((fn, args, kwargs), _PROTOCOL))
            except BaseException as exc:
                remote.reject(promise, exc)
                continue
            members.append(promise)
        if not members:
            self._batch_finished()
            return
        try:
            future = self._pool.submit(_run_batch, payload)
        except BrokenProcessPool as exc:
            self._break(exc, members)
            self._batch_finished()
            return
        except BaseException as exc:   # interpreter shutting down
            for promise in members:
                remote.reject(promise, exc)
            self._batch_finished()
            return
        future.add_done_callback(functools.partial(self._batch_done, members))

    def _batch_finished(self, completing=False):
        """A batch is back (or never left): the next ones may go out.
        With completing, its promises are about to be completed:
        shutdown(wait=True) waits for complete_done()."""
        with self._lock:
            self._out -= 1
            if completing:
                self._completing += 1
            batches = self._take()
            if self._out == 0:
                self._idle.notify_all()
        for batch in batches:
            self._dispatch(batch)
        self._maybe_close()

    def _completed(self):
        with self._lock:
            self._completing -= 1
            if self._completing == 0:
                self._idle.notify_all()

    def _batch_done(self, members, future):
        """Done callback of a batch (on the standard pool's thread)."""
        try:
            exc = future.exception()
        except BaseException as cancelled:    # never cancelled, but be total
            exc = cancelled
        if exc is not None:
            if isinstance(exc, BrokenProcessPool):
                self._break(exc, members)
            else:
                for promise in members:
                    remote.reject(promise, exc)
            self._batch_finished()
            return
        outcomes = future.result()
        # Keep the workers busy first, then complete.
        self._batch_finished(completing=True)
        _tls.completing = self
        try:
            for promise, data in zip(members, outcomes):
                try:
                    ok, value = pickle.loads(data)
                except BaseException as exc:
                    remote.reject(promise, exc)
                    continue
                if ok:
                    remote.resolve(promise, value)
                else:
                    remote.reject(promise, value)
        finally:
            _tls.completing = None
            self._completed()

    def _break(self, exc, members):
        with self._lock:
            if self._broken is None:
                self._broken = str(exc) or 'A child process terminated abruptly'
            waiting = list(self._queue)
            self._queue.clear()
        for promise in members:
            remote.reject(promise, exc)
        for item in waiting:
            remote.reject(item[0], exc)

    # ------------------------------------------------------------------
    # state and shutdown

    def is_broken(self):
        """Whether a worker died, so that the pool can run nothing more."""
        return self._broken is not None

    def is_shutdown(self):
        """Whether ``shutdown()`` was called."""
        return self._shutdown

    def _maybe_close(self, wait=False):
        """Shuts the standard pool down once shutdown() was called and
        nothing more can go to it."""
        with self._lock:
            if (self._closed or not self._shutdown or self._waiting
                    or self._queue or (wait and (self._out or self._completing))):
                return
            self._closed = True
        self._pool.shutdown(wait=wait)

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Stops accepting work.  Work already submitted still runs unless
        cancel_futures cancels what has not started; with wait, returns
        once all of it is done and the worker processes have exited.
        Calling it again is harmless; waiting from a done callback that
        this pool's completion runs raises ``RuntimeError``."""
        if wait and getattr(_tls, 'completing', None) is self:
            raise RuntimeError('cannot wait for a process pool from a done callback '
                               'its own completion runs')
        _live.discard(self)
        with self._lock:
            self._shutdown = True
            cancelled = []
            if cancel_futures:
                cancelled = [item[0] for item in self._queue]
                cancelled.extend(dependent.promise for dependent in self._waiting)
                self._queue.clear()
            batches = self._take()     # no window after shutdown
        for promise in cancelled:
            promise.cancel()
        for batch in batches:
            self._dispatch(batch)
        if wait:
            with self._lock:
                while self._waiting or self._queue or self._out or self._completing:
                    self._idle.wait()
        self._maybe_close(wait)


_parent = os.getpid()


def _at_exit():
    """Like concurrent.futures (whose own exit handler runs after this
    one): the work submitted still runs before the interpreter exits.
    Not in a worker process, which inherits this handler and the set of
    executors of its parent when it is forked."""
    if os.getpid() != _parent:
        return
    for executor in list(_live):
        try:
            executor.shutdown(wait=True)
        except Exception:  # pragma: no cover - interpreter teardown
            pass


os.register_at_fork(after_in_child=_live.clear)
try:
    threading._register_atexit(_at_exit)
except (AttributeError, RuntimeError):  # pragma: no cover
    import atexit
    atexit.register(_at_exit)
