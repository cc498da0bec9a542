# SPDX-License-Identifier: LGPL-2.1-or-later
"""``Concurry.ProcessPoolExecutor``: the thread pool's API over worker
processes, on the C engine.

Its work goes where a thread pool's work goes: into the queue of a C
thread pool, so that queueing, batching, cancellation, shutdown,
``map()`` and the waiting for argument futures are the very code of
``Concurry.ThreadPoolExecutor`` (``executors.ExecutorMethods``).  The
threads of that pool, two per worker process, carry batches of calls to
the worker processes (carrier.py) through the standard library's
``concurrent.futures.ProcessPoolExecutor``: its processes, start method,
initializer, recycling (``max_tasks_per_child``) and detection of a worker
that dies are the standard pool's.  What runs in the workers is in
worker.py.
"""

import os
import threading
import weakref

from gi.repository import GLib

from gi._concurry import carrier, executors, remote

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
    _register_at_exit()
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


class _ProcessCarrier(carrier.Carrier):
    """Carries batches to the standard pool's worker processes."""

    def __init__(self, standard, one_call_per_task):
        super().__init__(_standard_pool()[1], one_call_per_task)
        self.standard = standard

    def call(self, fn, *args):
        return self.standard.submit(fn, *args).result()


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
        self._closing_lock = threading.RLock()
        self._standard_lock = threading.Lock()
        self._maps = 0                  # map() iterators still held
        self._close_when_unmapped = False
        pool = _ProcessCarrier(standard, max_tasks_per_child is not None)
        self.__dict__['_concurry_pool'] = pool
        self.__dict__['_concurry_runner'] = pool.runner()
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

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """The thread pool's ``map()`` (see ``Concurry.ThreadPoolExecutor``).
        An iterator still held when the pool is shut down goes on as it is
        read, and keeps the worker processes until it is dropped."""
        results = executors.ExecutorMethods.map(self, fn, *iterables, timeout=timeout,
                                                chunksize=chunksize, buffersize=buffersize)
        with self._closing_lock:
            self._maps += 1
        # (Not at exit: _exit() ends the processes then.)
        weakref.finalize(results, self._map_dropped).atexit = False
        return results

    def _map_dropped(self):
        with self._closing_lock:
            self._maps -= 1
            close = self._maps == 0 and self._close_when_unmapped
            self._close_when_unmapped = False
        if close:
            # Maybe in the collector, on any thread: never wait there; a
            # shutdown(wait=True) from now on waits for this thread.
            closing = threading.Thread(target=self._close_standard,
                                       name='concurry-process-close', daemon=True)
            # started before it is seen: a shutdown(wait=True) joins it
            closing.start()
            with self._closing_lock:
                self._closing = closing

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Stops accepting work.  Work already submitted still runs unless
        cancel_futures cancels what has not started; with wait, returns
        once all of it is done.  The worker processes exit then, or, while
        an iterator of ``map()`` is held (it goes on as it is read), once
        the last one is dropped.  Calling it again is harmless; waiting
        from a done callback of this pool's futures raises
        ``RuntimeError``."""
        executors.ExecutorMethods.shutdown(self, wait, cancel_futures)
        # The work still queued needs the worker processes: one thread
        # shuts them down once it is done, which a wait waits for.
        # The lock is reentrant and no thread is made or started with it
        # held: the collector may run a dropped map's finalizer
        # (_map_dropped(), which takes it) on this thread at any
        # allocation.
        with self._closing_lock:
            closing = self._closing
        if closing is None:
            made = threading.Thread(target=self._close, name='concurry-process-close',
                                    daemon=True)
            with self._closing_lock:
                if self._closing is None:
                    self._closing = made
                closing = self._closing
            if closing is made:
                made.start()
        if wait:
            closing.join()
            # _map_dropped() may have started another closing thread
            # meanwhile, for the processes kept for a held map.
            with self._closing_lock:
                closing = self._closing
            closing.join()

    def _close(self):
        try:
            executors._raw_shutdown(self._concurry_c, True, False)
        except GLib.Error:   # pragma: no cover - never a worker of its own
            pass
        with self._closing_lock:
            if self._maps:
                self._close_when_unmapped = True
                return
        self._close_standard()

    def _close_standard(self):
        # Never twice at a time (the standard pool's shutdown closes its
        # queues); calling it again afterwards is harmless.
        with self._standard_lock:
            self._standard.shutdown(wait=True)
        # Until now, interpreter exit waits for it.
        _live.discard(self)

    def _exit(self):
        """At interpreter exit: the work submitted (and the maps dropped
        while running) still runs; then the worker processes end, maps
        held or not."""
        self.shutdown(wait=True)
        self._close_standard()


_parent = os.getpid()
_registered = False


def _at_exit():
    """Like concurrent.futures: the work submitted still runs before the
    interpreter exits.  Not in a worker process, which inherits this
    handler and the set of executors of its parent when it is forked."""
    if os.getpid() != _parent:
        return
    for executor in list(_live):
        try:
            executor._exit()
        except Exception:  # pragma: no cover - interpreter teardown
            pass


def _register_at_exit():
    """Registers _at_exit() once concurrent.futures.process is imported:
    the exit handlers run last registered first, and the work still
    queued needs the standard pool, which refuses new calls once its own
    handler ran."""
    global _registered
    if _registered:
        return
    _registered = True
    try:
        threading._register_atexit(_at_exit)
    except (AttributeError, RuntimeError):  # pragma: no cover
        import atexit
        atexit.register(_at_exit)


os.register_at_fork(after_in_child=_live.clear)
