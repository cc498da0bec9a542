# SPDX-License-Identifier: LGPL-2.1-or-later
"""futureproof's task manager, on concurry's C ``Concurry.TaskManager``.

``TaskManager(executor, error_policy='raise')`` runs ``submit(fn, *args,
**kwargs)`` and ``map(fn, iterable)`` tasks on any concurry executor and
hands them back, as they finish, from ``as_completed()``; it is a context
manager whose exit waits for every task.  The C manager does the work
itself: running, fail fast (cancelling what has not started and no longer
reading the input), the backpressure of ``map`` (the input is read as
tasks finish), the order of completion.  This module converts: a Python
call becomes a C task whose input is a sequence number, a Python exception
is kept as the task's ``result`` (and fails the C task), a C error becomes
the task's own exception again, and blocking waits are sliced so that
Ctrl-C gets through.

Differences from futureproof, each for a reason:

* work starts at ``submit()``/``map()``, not at the first ``as_completed()``:
  the executor is concurry's, and it runs what it is given;
* the task returned by ``submit()`` is the one ``as_completed()`` yields
  (futureproof yields completed copies), so ``task.complete`` becomes true;
* ``'raise'`` cancels the tasks that have not started at the first failure,
  in C, without waiting for the consumer to see it.
"""

import concurrent.futures
import enum
import itertools
import logging
import sys
import threading
import time
import weakref

import gi

gi.require_version('Concurry', '1')
gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
from gi.module import get_introspection_module  # noqa: E402
from gi.repository import Gio, GLib, GObject  # noqa: E402

# The C classes themselves, whatever the override puts in the namespace
# (it may well name this module's TaskManager Concurry.TaskManager).
Concurry = get_introspection_module('Concurry')

__all__ = ['ErrorPolicyEnum', 'Task', 'TaskManager']

logger = logging.getLogger('concurry')

# Blocking C calls wait this long at most before Python looks at signals.
_SLICE_USEC = 100 * 1000


class ErrorPolicyEnum(str, enum.Enum):
    """What a failed task does (futureproof's names)."""

    RAISE = 'raise'
    LOG = 'log'
    IGNORE = 'ignore'


_C_POLICY = {
    # 'log' is IGNORE in C: the failures go to Python's logging instead.
    ErrorPolicyEnum.RAISE: Concurry.ErrorPolicy.RAISE,
    ErrorPolicyEnum.LOG: Concurry.ErrorPolicy.IGNORE,
    ErrorPolicyEnum.IGNORE: Concurry.ErrorPolicy.IGNORE,
}


def _policy(value):
    if isinstance(value, ErrorPolicyEnum):
        return value
    if isinstance(value, Concurry.ErrorPolicy):
        return {Concurry.ErrorPolicy.RAISE: ErrorPolicyEnum.RAISE,
                Concurry.ErrorPolicy.LOG: ErrorPolicyEnum.LOG,
                Concurry.ErrorPolicy.IGNORE: ErrorPolicyEnum.IGNORE}[value]
    if isinstance(value, str):
        try:
            return ErrorPolicyEnum(value.lower())
        except ValueError:
            pass
    raise ValueError('%r is not a valid ErrorPolicyEnum' % (value,))


class Task:
    """One call run by a TaskManager.

    ``fn``, ``args`` and ``kwargs`` are the call as given; ``result`` is its
    return value, or the exception object it raised; ``complete`` says
    whether it finished (a task cancelled before it ran is complete, with
    ``concurrent.futures.CancelledError`` as its result).  Tasks compare
    and hash by identity.
    """

    __slots__ = ('fn', 'args', 'kwargs', 'result', 'complete', 'failed', 'ctask', '__weakref__')

    def __init__(self, fn, args, kwargs):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.result = None
        self.complete = False
        self.failed = False
        self.ctask = None

    def __repr__(self):
        return '<Task fn=%s args=%r kwargs=%r complete=%s result=%r>' % (
            getattr(self.fn, '__qualname__', self.fn), self.args, self.kwargs,
            self.complete, self.result)


# A Ctrl-C that lands in a Python callback called from C (the input of a
# map, read while this thread waits) cannot propagate through C: PyGObject
# prints it with sys.excepthook. While a manager waits, this thread's hook
# keeps it for the manager to raise when the C call returns.
_waiting = threading.local()
_previous_excepthook = None


def _excepthook(exc_type, exc_value, exc_traceback):
    manager = getattr(_waiting, 'manager', None)
    if manager is not None and issubclass(exc_type, KeyboardInterrupt):
        manager._interrupt = exc_value
        return
    _previous_excepthook(exc_type, exc_value, exc_traceback)


def _install_excepthook():
    global _previous_excepthook
    if _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook


class _Waiting:
    """While in a blocking C call: see _excepthook."""

    def __init__(self, manager):
        self.manager = manager

    def __enter__(self):
        _install_excepthook()
        self.outer = getattr(_waiting, 'manager', None)
        _waiting.manager = self.manager

    def __exit__(self, *exc_info):
        _waiting.manager = self.outer
        interrupt, self.manager._interrupt = self.manager._interrupt, None
        if interrupt is not None:
            self.manager._c.cancel()
            raise interrupt
        return False


def _seq_value(seq):
    return GObject.Value(GObject.TYPE_INT64, seq)


class _Monitor(threading.Thread):
    """Logs "N task(s) completed in the last S second(s)" every interval
    while the manager has work (at DEBUG when the interval is 0, as
    futureproof does), reading the C manager's counters.  It ends when
    stopped, or once the manager is shut down and has no work left."""

    def __init__(self, c_manager, interval):
        super().__init__(name='concurry-task-monitor', daemon=True)
        # Not a reference: a manager nobody joins, once dropped, ends it.
        self.c = weakref.ref(c_manager)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self):
        level = logging.INFO if self.interval > 0 else logging.DEBUG
        period = self.interval if self.interval > 0 else 2.0
        c = self.c()
        if c is None:
            return
        logger.log(level, 'Starting executor monitor')
        last_completed = c.get_n_completed()
        last_failed = c.get_n_failed()
        last_time = time.monotonic()
        c = None
        while True:
            stopped = self.stopped.wait(period)
            c = self.c()
            if c is None:
                break
            completed, failed = c.get_n_completed(), c.get_n_failed()
            now = time.monotonic()
            # the last window too, when stopped
            if c.get_running() or completed != last_completed:
                if failed != last_failed:
                    logger.log(level, '%d task(s) completed, %d failed, in the last '
                               '%.2f second(s)', completed - last_completed,
                               failed - last_failed, now - last_time)
                else:
                    logger.log(level, '%d task(s) completed in the last %.2f second(s)',
                               completed - last_completed, now - last_time)
            last_completed, last_failed, last_time = completed, failed, now
            if stopped or (c.is_shutdown() and not c.get_running()):
                break
            c = None
        logger.debug('Shutting down monitor...')

    def stop(self):
        self.stopped.set()


class TaskManager:
    """Runs tasks on ``executor`` (any ``Concurry.Executor``, a
    ``Concurry.ProcessPoolExecutor`` or a ``Concurry.DaskExecutor``) and
    watches over them.

    ``error_policy`` is ``'raise'`` (the default: the first task that
    raises stops the manager, and its exception is raised again in the
    thread using the manager, at its next call or at the end of the
    ``with`` block), ``'log'`` (each failure is logged, through the
    ``concurry`` logger, and the work goes on) or ``'ignore'``.  Failed
    tasks keep their exception as ``result`` in every case.

    ``monitor_interval`` (seconds, default 2; 0 logs at DEBUG only) is how
    often the ``concurry`` logger gets a progress line while tasks run.
    ``max_in_flight`` bounds the unfinished tasks of a ``map()`` (default:
    twice the executor's workers).
    """

    def __init__(self, executor, error_policy=ErrorPolicyEnum.RAISE, monitor_interval=2,
                 max_in_flight=0):
        self.error_policy = _policy(error_policy)
        self._executor = executor
        # A process pool or a Dask executor: the tasks are work of its C
        # executor (its carriers), each carried to where the work runs.
        self._forward = None
        if not isinstance(executor, Concurry.Executor):
            carrier = getattr(executor, '__dict__', {}).get('_concurry_pool')
            if carrier is None or not hasattr(carrier, 'call_one'):
                raise TypeError('a TaskManager needs a Concurry executor, not %r' % (executor,))
            from gi._concurry import executors
            self._forward = carrier.call_one
            executor = executors._c_executor(executor)
        self._c = Concurry.TaskManager(executor=executor,
                                       error_policy=_C_POLICY[self.error_policy],
                                       max_in_flight=max_in_flight,
                                       monitor_interval=0)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._pending = {}          # seq -> Task not collected yet
        self._input_failures = []   # Tasks of failed inputs, not collected yet
        self._completed = []        # collected tasks, in completion order
        self._yielded = 0           # how many of them as_completed() gave
        self._first_failure = None  # the first Task that raised
        self._raised = False        # its exception was raised to the user
        self._monitor_interval = monitor_interval
        self._monitor = None
        self._interrupt = None      # a Ctrl-C caught while reading input

    # -- running --

    def _new_task(self, fn, args, kwargs):
        task = Task(fn, args, kwargs)
        seq = next(self._seq)
        with self._lock:
            self._pending[seq] = task
        return seq, task

    def _settle(self, task, cancellable, result, failed):
        """Gives task its outcome, unless it ended already: cancelled while
        it ran (its cancellable says so), or collected. Returns whether it
        took the outcome."""
        with self._lock:
            if task.complete or (cancellable is not None and cancellable.is_cancelled()):
                return False
            task.result = result
            task.failed = failed
            task.complete = True
            if failed and self._first_failure is None:
                self._first_failure = task
            return True

    def _run(self, seq_value, cancellable, *unused):
        """The work of every C task (on the executor's threads)."""
        task = self._pending[seq_value]
        try:
            if self._forward is not None:
                value = self._forward(task.fn, task.args, task.kwargs)
            else:
                value = task.fn(*task.args, **task.kwargs)
        except BaseException as exc:
            if (self._settle(task, cancellable, exc, True) and
                    self.error_policy is ErrorPolicyEnum.LOG):
                logger.error('Task %s raised an exception', task, exc_info=exc)
            raise GLib.Error.new_literal(Concurry.error_quark(),
                                         '%s: %s' % (type(exc).__name__, exc),
                                         int(Concurry.Error.FAILED))
        self._settle(task, cancellable, value, False)
        return None

    def _start_monitor(self):
        if self._monitor is None:
            self._monitor = _Monitor(self._c, self._monitor_interval)
            self._monitor.start()

    def submit(self, fn, /, *args, **kwargs):
        """Runs ``fn(*args, **kwargs)`` as a task and returns the Task."""
        self._raise_pending()
        seq, task = self._new_task(fn, args, kwargs)
        try:
            task.ctask = self._c.submit_input(_seq_value(seq), self._run)
        except GLib.Error as error:
            with self._lock:
                del self._pending[seq]
            self._raise_error(error, RuntimeError)
        self._start_monitor()
        return task

    def map(self, fn, iterable):
        """Runs ``fn`` on every element of ``iterable`` (a tuple element is
        spread into positional arguments), reading ``iterable`` lazily: only
        as tasks finish, so an endless iterable is never read ahead.  Each
        finished task is kept (``completed_tasks``), as futureproof keeps
        them: a few hundred bytes per task.  Returns None; the tasks come
        out of ``as_completed()``.  An iterable that raises is read no
        further, and its exception ends in a failed task of its own (no
        arguments), to which the error policy applies as to any failure."""
        self._raise_pending()
        iterator = iter(iterable)
        manager = self

        def read(*unused):
            try:
                item = next(iterator)
            except StopIteration:
                return False, None
            except KeyboardInterrupt as exc:
                # Raised in a callback, it would be printed and lost: end the
                # input, and let the blocking call raise it.
                manager._interrupt = exc
                return False, None
            except Exception as exc:
                # The C manager ends a failed input in a task of its own
                # (with no input): this is that task, with no arguments.
                failure = Task(fn, (), {})
                failure.result = exc
                failure.failed = True
                with manager._lock:
                    manager._input_failures.append(failure)
                    if manager._first_failure is None:
                        manager._first_failure = failure
                if manager.error_policy is ErrorPolicyEnum.LOG:
                    logger.error('Reading the input of map() failed; it is read no further',
                                 exc_info=exc)
                raise GLib.Error.new_literal(Concurry.error_quark(),
                                             '%s: %s' % (type(exc).__name__, exc),
                                             int(Concurry.Error.FAILED))
            args = item if isinstance(item, tuple) else (item,)
            seq, _task = manager._new_task(fn, args, {})
            return True, _seq_value(seq)

        length = -1
        try:
            length = len(iterable)
        except TypeError:
            pass
        try:
            with _Waiting(self):
                self._c.map(self._run, None, read, None, length)
        except GLib.Error as error:
            self._raise_error(error, RuntimeError)
        self._start_monitor()

    # -- collecting --

    def _collect(self, ctask):
        refused = None
        with self._lock:
            seq = ctask.get_input()
            # a failed input's task has none (see map())
            task = self._pending.pop(seq) if seq is not None else self._input_failures.pop(0)
            task.ctask = ctask
            task.complete = True
            state = ctask.get_state()
            if state == Concurry.FutureState.CANCELLED:
                task.result = concurrent.futures.CancelledError()
            elif state == Concurry.FutureState.FAILED and not task.failed:
                # never ran: the executor refused it (it was shut down)
                task.result = RuntimeError(ctask.get_error().message)
                task.failed = True
                refused = task
            self._completed.append(task)
        if refused is not None and self.error_policy is ErrorPolicyEnum.LOG:
            logger.error('Task %s raised an exception', refused, exc_info=refused.result)
        return task

    def _raise_pending(self):
        """Raises the first failure once, under 'raise'."""
        if self.error_policy is not ErrorPolicyEnum.RAISE or self._raised:
            return
        if self._c.get_error() is None:
            return
        self._raised = True
        failure = self._first_failure
        if failure is not None:
            raise failure.result
        raise RuntimeError(self._c.get_error().message)

    def _raise_error(self, error, default):
        if error.matches(Concurry.error_quark(), Concurry.Error.SHUT_DOWN):
            raise RuntimeError('cannot schedule new tasks after shutdown') from None
        self._raise_pending()
        if self._raised:
            raise RuntimeError('the task manager was stopped by a failed task') from None
        raise default(error.message) from None

    def _sliced(self, call):
        """Runs a blocking C wait in slices, so that Python's signal
        handlers run; on Ctrl-C, stops the work and lets it through."""
        try:
            while True:
                try:
                    with _Waiting(self):
                        return call(_SLICE_USEC)
                except GLib.Error as error:
                    if error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
                        continue    # look at signals, go on
                    raise
        except KeyboardInterrupt:
            self._c.cancel()
            raise

    def as_completed(self):
        """Yields each task as it finishes, until none is left.  Under
        'raise' the first failure's exception is raised here."""
        self._raise_pending()
        while True:
            # what completed_tasks collected first, each task once
            with self._lock:
                task = None
                if self._yielded < len(self._completed):
                    task = self._completed[self._yielded]
                    self._yielded += 1
            if task is None:
                try:
                    ctask = self._sliced(self._c.next_completed)
                except GLib.Error as error:
                    self._raise_error(error, RuntimeError)
                if ctask is None:
                    if not self._c.get_running():
                        self._stop_monitor()
                    return
                self._collect(ctask)
                continue
            # fail fast: the first failure is raised as soon as it is known,
            # even ahead of tasks that finished before it
            self._raise_pending()
            yield task

    def _collect_available(self):
        while True:
            try:
                ctask = self._c.next_completed(0)
            except GLib.Error:
                return
            if ctask is None:
                return
            self._collect(ctask)

    @property
    def completed_tasks(self):
        """The finished tasks, in the order they finished."""
        self._collect_available()
        with self._lock:
            return list(self._completed)

    @property
    def results(self):
        """The results of the finished tasks, in the order they finished."""
        return [task.result for task in self.completed_tasks]

    # -- ending --

    def join(self):
        """Closes the manager and waits for every task; under 'raise'
        raises the first failure's exception (once)."""
        interrupted = False
        try:
            try:
                self._c.shutdown(False, False)
                self._sliced(lambda usec: self._c.wait(usec))
            except GLib.Error as error:
                if not (self._raised and self._c.get_error() is not None):
                    self._raise_error(error, RuntimeError)
                # the failure was raised once already (and handled): wait
                # for the tasks still running, without raising it again
                self._c.shutdown(True, False)
            self._raise_pending()
        except KeyboardInterrupt:
            interrupted = True      # at once: collecting waits for nobody
            raise
        finally:
            if not interrupted:
                self._collect_available()
            self._stop_monitor()

    run = join

    def shutdown(self, wait=True, cancel_futures=False):
        """Stops accepting tasks, as ``Executor.shutdown()`` does: with
        ``cancel_futures`` the tasks not started are cancelled and the input
        of ``map()`` is no longer read; with ``wait``, returns once every
        task has finished (a failure does not end the wait).  The executor
        itself stays up."""
        try:
            self._c.shutdown(wait, cancel_futures)
        finally:
            self._collect_available()
            if wait:
                self._stop_monitor()

    def cancel(self):
        """Cancels every unfinished task and stops reading input."""
        self._c.cancel()

    def _stop_monitor(self):
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            monitor.stop()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is not None:
            self._raised = True   # the user sees an exception already
            try:
                if exc_type is KeyboardInterrupt:
                    self._c.cancel()
                self._c.shutdown(False, False)
                if exc_type is not KeyboardInterrupt:
                    # as an executor's with block: the work submitted
                    # finishes before the exception goes on
                    try:
                        self._sliced(lambda usec: self._c.wait(usec))
                    except GLib.Error:
                        self._c.shutdown(True, False)
            finally:
                self._stop_monitor()
            return False
        self.join()
        return False

    # -- progress, from the C manager --

    @property
    def n_submitted(self):
        return self._c.get_n_submitted()

    @property
    def n_completed(self):
        return self._c.get_n_completed()

    @property
    def n_failed(self):
        return self._c.get_n_failed()

    @property
    def manager(self):
        """The C ``Concurry.TaskManager`` (for property bindings)."""
        return self._c
