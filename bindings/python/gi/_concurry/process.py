# SPDX-License-Identifier: LGPL-2.1-or-later
"""``Concurry.ProcessPoolExecutor``: the thread pool's API over worker
processes, on the C engine.

The work goes where a thread pool's work goes: into the queue of a C
thread pool, with a ``Concurry.Runner``.  Queueing, batching,
cancellation, shutdown, ``map()``'s window and input reading, and the
waiting for argument futures are the C engine's, exactly as for
``Concurry.ThreadPoolExecutor``.  The threads of that C pool (two per
worker process) are carriers: each hands the runner below a batch of
items taken from the queue; the runner starts them (from then on they are
running and ``cancel()`` returns False, as a call of the standard pool is
once it enters the call queue), sends the whole batch to the worker
processes as one call of the standard library's
``concurrent.futures.ProcessPoolExecutor``, waits for it, and ends each
item with its outcome.  So one pickled message each way carries many
calls, and at most two batches per worker process are out at a time.

The processes, their start method, initializer, recycling
(``max_tasks_per_child``) and the detection of a worker that dies are the
standard pool's.  What runs in the workers is in ``worker.py``.
"""

import os
import pickle
import threading
import weakref

from gi.repository import GLib

from gi._concurry import executors, remote, worker
from gi._concurry.outcomes import (CancelledError, FALLBACK, error_for, pyobject_value,
                                   remember, to_gvalue)

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


_live = weakref.WeakSet()           # executors not shut down, for interpreter exit


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


class _Carrier:
    """The runner of one process pool: carries batches of items from the C
    queue to the worker processes and their outcomes back.  It holds the
    standard pool, not the executor (which holds the runner)."""

    def __init__(self, standard, one_call_per_task):
        self.standard = standard
        # With recycling, each call of the standard pool counts as one
        # task of a worker: then a batch holds one item.
        self.one_call_per_task = one_call_per_task
        self.broken = None          # the message, once a worker died
        self.broken_error = _standard_pool()[1]
        self.cancelling = False     # shut down with cancel_futures

    # -- the runner --

    def run(self, batch, *unused):
        size, data = executors._batch_info(batch)
        members = []        # (index, the call or the group of map inputs)
        for index in range(size):
            item = executors._batch_start(batch, index)
            if item is None:
                continue
            if self.broken is not None:
                self._fail(batch, index, self.broken_error(self.broken))
                continue
            try:
                if data is None:
                    args, kwargs = item[1], item[2]
                    if len(item) == 4:
                        args, kwargs = executors._fill(args), executors._fill(kwargs)
                    members.append((index, (item[0], args, kwargs)))
                else:
                    members.append((index, [executors._fill_input(one) for one in item]))
            except BaseException as exc:
                self._fail_member(batch, index, exc, data)
            item = None
        if not members:
            return
        if data is None:
            self._carry_calls(batch, members)
        else:
            self._carry_map(batch, data, members)

    def _fail_member(self, batch, index, exc, data):
        if data is None:
            self._fail(batch, index, exc)
        else:
            self._end(batch, index, [(executors._FAILED_ITEM, exc)])

    def _pack(self, batch, members, data):
        """(the members that could be pickled, their payload): all of them
        pickled together, or, if that fails, each on its own (one that
        cannot be pickled fails alone)."""
        try:
            return members, pickle.dumps([thing for _, thing in members], worker.PROTOCOL)
        except BaseException:
            pass
        kept, pieces = [], []
        for index, thing in members:
            try:
                pieces.append(pickle.dumps(thing, worker.PROTOCOL))
            except BaseException as exc:
                self._fail_member(batch, index, exc, data)
                continue
            kept.append((index, thing))
        return kept, pieces

    def _carry_calls(self, batch, members):
        step = 1 if self.one_call_per_task else len(members)
        for first in range(0, len(members), step):
            part, payload = self._pack(batch, members[first:first + step], None)
            if not part:
                continue
            outcomes = self._call(batch, part, worker.load_outcomes, worker.run_calls, payload)
            if outcomes is None:
                continue
            for (index, _), (ok, value) in zip(part, outcomes):
                if ok:
                    self._end(batch, index, value)
                else:
                    self._fail(batch, index, value)

    def _carry_map(self, batch, data, members):
        fn, star, control = data
        if control.closed or self.cancelling:
            for index, _ in members:
                self._end(batch, index, [(executors._FAILED_ITEM, CancelledError())])
            return
        try:
            function = pickle.dumps((fn, star), worker.PROTOCOL)
        except BaseException as exc:
            for index, _ in members:
                self._end(batch, index, [(executors._FAILED_ITEM, exc)])
            return
        members, payload = self._pack(batch, members, data)
        if not members:
            return
        results = self._call(batch, members, worker.load_results, worker.run_map,
                             function, payload)
        if results is None:
            return
        failed = executors._FAILED_ITEM
        for (index, _), outcomes in zip(members, results):
            self._end(batch, index, [value if ok else (failed, value) for ok, value in outcomes])

    def _call(self, batch, members, load, fn, *args):
        """One call of the standard pool, waited for, its outcome read by
        load(); None if it failed (the members are then failed with it)."""
        try:
            return load(self.standard.submit(fn, *args).result())
        except BaseException as exc:
            if isinstance(exc, self.broken_error) and self.broken is None:
                self.broken = str(exc) or 'A child process terminated abruptly'
            for index, _ in members:
                self._fail(batch, index, exc)
            return None

    @staticmethod
    def _end(batch, index, value):
        if executors._batch_return_value(batch, index, value) is FALLBACK:
            try:
                batch.return_value(index, to_gvalue(value))
            except (TypeError, ValueError, OverflowError):
                batch.return_value(index, pyobject_value(value))

    @staticmethod
    def _fail(batch, index, exc):
        remember(exc)
        batch.return_error(index, error_for(exc), exc)


class ProcessPoolExecutor(executors.ExecutorMethods, remote.RemoteExecutor):
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

    ``submit()``, ``map()`` and ``shutdown()`` are the thread pool's (see
    ``Concurry.ThreadPoolExecutor``), with its behaviour.
    """

    def __init__(self, max_workers=None, mp_context=None, initializer=None,
                 initargs=(), max_tasks_per_child=None):
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        elif max_workers <= 0:
            raise ValueError('max_workers must be greater than 0')
        pool_class, _ = _standard_pool()
        if mp_context is None and max_tasks_per_child is None:
            mp_context = _default_context()
        standard = pool_class(max_workers, mp_context, initializer, initargs,
                              max_tasks_per_child=max_tasks_per_child)
        self._max_workers = max_workers
        self._standard = standard
        self._closing = None
        carrier = _Carrier(standard, max_tasks_per_child is not None)
        self.__dict__['_concurry_pool'] = carrier
        runner = executors.Concurry.Runner.new(carrier.run)
        runner.set_forwarding(True)
        self.__dict__['_concurry_runner'] = runner
        self.__dict__['_concurry_c'] = executors.Concurry.ThreadPoolExecutor.new(2 * max_workers)
        _live.add(self)

    @property
    def max_workers(self):
        """The number of worker processes."""
        return self._max_workers

    def is_broken(self):
        """Whether a worker died, so that the pool can run nothing more."""
        return self._concurry_pool.broken is not None

    def is_shutdown(self):
        """Whether ``shutdown()`` was called."""
        return self._concurry_c.is_shutdown()

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Stops accepting work.  Work already submitted still runs unless
        cancel_futures cancels what has not started; with wait, returns
        once all of it is done and the worker processes have exited.
        Calling it again is harmless; waiting from a done callback of this
        pool's futures raises ``RuntimeError``."""
        executors.ExecutorMethods.shutdown(self, wait, cancel_futures)
        _live.discard(self)
        if wait:
            self._standard.shutdown(wait=True)
        elif self._closing is None:
            # The work still queued needs the worker processes: they are
            # shut down once it is done.
            self._closing = threading.Thread(target=self._close, name='concurry-process-close',
                                             daemon=True)
            self._closing.start()

    def _close(self):
        try:
            executors._raw_shutdown(self._concurry_c, True, False)
        except GLib.Error:   # pragma: no cover - never a worker of its own
            pass
        self._standard.shutdown(wait=True)


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
