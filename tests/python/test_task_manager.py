# SPDX-License-Identifier: LGPL-2.1-or-later
"""futureproof's API on concurry's C task manager.

The module under test is bindings/python/gi/_concurry/taskmanager.py; the
override will publish its TaskManager as Concurry.TaskManager. Until then
it is loaded here from its file, and the ``TaskManager`` fixture hands out
whichever is available.

Synchronisation uses threading.Event and bounded waits, never sleeps.
"""

import _thread
import concurrent.futures
import functools
import importlib.util
import logging
import os
import threading
import time

import pytest

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry, Gio, GLib  # noqa: E402

LONG = 30   # seconds: a bound that only a hang reaches


def _load_taskmanager():
    path = os.path.join(os.path.dirname(__file__), '..', '..', 'bindings', 'python', 'gi',
                        '_concurry', 'taskmanager.py')
    spec = importlib.util.spec_from_file_location('_concurry_taskmanager', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tm_module = _load_taskmanager()


@pytest.fixture
def TaskManager():
    """Concurry.TaskManager once the override wires it in, else the
    module's own class."""
    cls = getattr(Concurry, 'TaskManager', None)
    if cls is None or not hasattr(cls, 'as_completed'):
        cls = tm_module.TaskManager
    return cls


@pytest.fixture
def executor():
    made = []

    def make(max_workers=2):
        ex = Concurry.ThreadPoolExecutor(max_workers)
        made.append(ex)
        return ex

    yield make
    for ex in made:
        ex.shutdown(wait=True)


def custom_sum(a, b):
    return a + b


def load(name, size):
    """Stands for futureproof's load_url: fails for a made-up name."""
    if 'made-up' in name:
        raise OSError('cannot resolve %s' % name)
    return b'x' * size


URLS = [('foxnews', 248), ('cnn', 991), ('wsj', 970), ('bbc', 338),
        ('some-made-up-domain-that-definitely-does-not-exist', 0)]


# -- the API --

def test_error_policy_accepts_names_in_any_case(TaskManager, executor):
    ex = executor()
    for name in ('raise', 'LOG', 'Ignore', tm_module.ErrorPolicyEnum.RAISE,
                 Concurry.ErrorPolicy.LOG):
        TaskManager(ex, error_policy=name).join()
    with pytest.raises(ValueError, match="'bogus' is not a valid ErrorPolicyEnum"):
        TaskManager(ex, error_policy='bogus')


def test_submit_and_as_completed_give_back_every_task(TaskManager, executor):
    with TaskManager(executor(3)) as tm:
        submitted = {tm.submit(custom_sum, i, b=i + 1) for i in range(10)}
        seen = set()
        for task in tm.as_completed():
            assert task.complete
            assert task.result == task.args[0] + task.kwargs['b']
            seen.add(task)
    assert seen == submitted
    assert len(tm.completed_tasks) == 10
    assert tm.completed_tasks[0] in submitted


def test_map_spreads_tuples_and_reads_lazily(TaskManager, executor):
    release = threading.Event()
    taken = []

    def items():
        for i in range(100):
            taken.append(i)
            yield (i, 1)

    def blocked_sum(a, b):
        assert release.wait(LONG)
        return a + b

    tm = TaskManager(executor(2), max_in_flight=3)
    tm.map(blocked_sum, items())
    # map() reads the first window only; nothing more until tasks finish
    assert taken == [0, 1, 2]
    release.set()
    results = sorted(task.result for task in tm.as_completed())
    assert results == list(range(1, 101))
    assert len(taken) == 100
    tm.join()


def test_submit_and_map_mix(TaskManager, executor):
    with TaskManager(executor()) as tm:
        tm.submit(custom_sum, 100, 1)
        tm.map(functools.partial(custom_sum, b=1), range(5))
        tm.submit(custom_sum, 200, 1)
    assert sorted(t.result for t in tm.completed_tasks) == [1, 2, 3, 4, 5, 101, 201]


# -- error policies --

class Boom(Exception):
    pass


def test_raise_reraises_the_task_exception_from_as_completed(TaskManager, executor):
    release = threading.Event()
    go = threading.Event()
    boom = Boom('first')

    def flaky(i):
        if i == 0:
            assert go.wait(LONG)
            raise boom
        assert release.wait(LONG)
        return i

    tm = TaskManager(executor(1))
    for i in range(10):
        tm.submit(flaky, i)
    go.set()
    with pytest.raises(Boom) as info:
        for _task in tm.as_completed():
            pass
    assert info.value is boom
    release.set()
    tm.shutdown(wait=True)
    # fail fast: the tasks queued behind the failure never ran
    results = [t.result for t in tm.completed_tasks]
    assert boom in results
    assert sum(isinstance(r, concurrent.futures.CancelledError) for r in results) == 9
    with pytest.raises(RuntimeError):
        tm.submit(flaky, 1)


def test_raise_at_the_end_of_the_with_block(TaskManager, executor):
    boom = Boom('late')

    def fail():
        raise boom

    with pytest.raises(Boom) as info:
        with TaskManager(executor()) as tm:
            tm.submit(fail)
    assert info.value is boom


def test_raise_at_the_next_call(TaskManager, executor):
    boom = Boom('next')

    def fail():
        raise boom

    tm = TaskManager(executor())
    task = tm.submit(fail)
    with pytest.raises(GLib.Error):
        tm.manager.wait(-1)     # the C manager stopped
    with pytest.raises(Boom) as info:
        tm.submit(custom_sum, 1, 2)
    assert info.value is boom
    assert task.result is boom
    tm.shutdown(wait=True)


def test_log_logs_each_failure_once_and_goes_on(TaskManager, executor, caplog):
    caplog.set_level(logging.ERROR, logger='concurry')

    def fail(i):
        raise Boom(i)

    with TaskManager(executor(), error_policy='log') as tm:
        for i in range(3):
            tm.submit(fail, i)
        tm.map(custom_sum, [(1, 1), (2, 2)])
    failures = [r for r in caplog.records if 'raised an exception' in r.getMessage()]
    assert len(failures) == 3
    assert all(r.name == 'concurry' and r.exc_info for r in failures)
    results = [t.result for t in tm.completed_tasks]
    assert sorted(r for r in results if isinstance(r, int)) == [2, 4]
    assert sorted(str(r) for r in results if isinstance(r, Boom)) == ['0', '1', '2']


def test_ignore_keeps_exceptions_as_results(TaskManager, executor, caplog):
    caplog.set_level(logging.DEBUG, logger='concurry')

    def fail():
        raise Boom('quiet')

    with TaskManager(executor(), error_policy='ignore', monitor_interval=0) as tm:
        tm.submit(fail)
    assert isinstance(tm.completed_tasks[0].result, Boom)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# -- monitoring --

class _Signal(logging.Handler):
    def __init__(self, needle):
        super().__init__()
        self.needle = needle
        self.event = threading.Event()
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        self.messages.append((record.levelno, message))
        if self.needle in message:
            self.event.set()


def test_monitor_logs_progress_lines(TaskManager, executor):
    handler = _Signal('completed in the last')
    log = logging.getLogger('concurry')
    log.addHandler(handler)
    old_level = log.level
    log.setLevel(logging.INFO)
    release = threading.Event()
    try:
        tm = TaskManager(executor(), monitor_interval=0.01)
        tm.submit(custom_sum, 1, 2)
        tm.submit(release.wait, LONG)
        assert handler.event.wait(LONG)
        release.set()
        tm.join()
    finally:
        release.set()
        log.removeHandler(handler)
        log.setLevel(old_level)
    assert (logging.INFO, 'Starting executor monitor') in handler.messages
    assert any(level == logging.INFO and 'task(s) completed in the last' in m
               for level, m in handler.messages)


def test_monitor_interval_zero_logs_at_debug_only(TaskManager, executor, caplog):
    caplog.set_level(logging.DEBUG, logger='concurry')
    with TaskManager(executor(), monitor_interval=0) as tm:
        tm.submit(custom_sum, 1, 2)
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]


# -- Ctrl-C --

def test_ctrl_c_stops_a_billion_item_map_within_a_second(TaskManager, executor):
    first = threading.Event()
    interrupted = []

    def work(a, b=1):
        first.set()
        return a + b

    def interrupt():
        assert first.wait(LONG)
        interrupted.append(time.monotonic())
        _thread.interrupt_main()

    ex = executor(2)
    tm = TaskManager(ex, monitor_interval=0)
    thread = threading.Thread(target=interrupt)
    thread.start()
    reads = [0]

    def inputs():
        for i in range(1_000_000_000):
            reads[0] += 1
            yield i

    with pytest.raises(KeyboardInterrupt):
        with tm:
            tm.map(work, inputs())
    stopped = time.monotonic()
    thread.join()
    assert stopped - interrupted[0] < 1.0
    c = tm.manager
    ex.shutdown(wait=True)
    # A read in flight on the manager's context when Ctrl-C came ends on
    # its own (its item dropped, or its task refused and counted): the
    # manager settles then. (A task left unfinished would time out here.)
    try:
        c.wait(LONG * 1_000_000)
    except GLib.Error as error:
        assert not error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT)
    # Input stopped being read: what was read became tasks (but for one
    # read in flight when Ctrl-C came), and every task ended once.
    submitted = c.get_n_submitted()
    assert submitted < 1_000_000_000
    assert submitted <= reads[0] <= submitted + 1
    # n-completed counts every finished task, failed and cancelled ones too.
    assert c.get_n_completed() == submitted
    assert c.get_n_failed() + c.get_n_cancelled() <= submitted
    assert not c.get_running()


# -- futureproof's README, with a local function for the URLs --

def test_readme_fail_fast(TaskManager, executor):
    printed = []
    with pytest.raises(OSError, match='cannot resolve'):
        with TaskManager(executor(5)) as tm:
            for url in URLS:
                tm.submit(load, *url)
            for task in tm.as_completed():
                printed.append('%r page is %d bytes' % (task.args[0], len(task.result)))
    assert all('made-up' not in line for line in printed)


def test_readme_log_policy(TaskManager, executor, caplog):
    caplog.set_level(logging.INFO, logger='concurry')
    printed = []
    with TaskManager(executor(5), error_policy='log') as tm:
        for url in URLS:
            tm.submit(load, *url)
        for task in tm.as_completed():
            if not isinstance(task.result, Exception):
                printed.append('%r page is %d bytes' % (task.args[0], len(task.result)))
    assert len(printed) == 4
    assert "'cnn' page is 991 bytes" in printed
    assert len([r for r in caplog.records if 'raised an exception' in r.getMessage()]) == 1


def test_readme_completed_tasks_without_as_completed(TaskManager, executor):
    printed = []
    with TaskManager(executor(5), error_policy='ignore') as tm:
        for url in URLS:
            tm.submit(load, *url)
    for task in tm.completed_tasks:
        if isinstance(task.result, Exception):
            printed.append('%r generated an exception: %s' % (task.args[0], task.result))
        else:
            printed.append('%r page is %d bytes' % (task.args[0], len(task.result)))
    assert len(printed) == 5
    assert sum('generated an exception' in line for line in printed) == 1


def test_readme_backpressure_map(TaskManager, executor):
    """The billion-task map of the README, stopped by closing its input
    after a bounded prefix (the Ctrl-C test stops it the other way)."""
    fn = functools.partial(custom_sum, b=1)
    tm = TaskManager(executor(2), error_policy=tm_module.ErrorPolicyEnum.RAISE)
    tm.map(fn, range(1_000_000_000))
    c = tm.manager
    results = []
    for task in tm.as_completed():
        results.append(task.result)
        # the input is read only as tasks finish
        submitted = c.get_n_submitted()
        assert submitted - c.get_n_completed() <= c.get_max_in_flight()
        if len(results) == 1000:
            tm.cancel()
            break
    tm.shutdown(wait=True)
    assert c.get_n_submitted() < 1_000_000
    assert len(tm.completed_tasks) == tm.manager.get_n_submitted()


def test_a_task_the_executor_refuses_ends_failed(TaskManager, executor):
    ex = executor()
    ex.shutdown(wait=True)
    with TaskManager(ex, error_policy='ignore') as tm:
        task = tm.submit(custom_sum, 1, 2)
    assert tm.completed_tasks == [task]
    assert task.complete
    assert isinstance(task.result, RuntimeError)


def test_the_c_task_of_a_task_is_a_concurry_future(TaskManager, executor):
    """A C task is a Concurry.Future (and so a concurrent.futures.Future):
    its future is itself, Concurry.wait() takes it, it answers done()."""
    assert issubclass(Concurry.Task, Concurry.Future)
    gate = threading.Event()
    with TaskManager(executor(1), error_policy='ignore') as tm:
        first = tm.submit(gate.wait, LONG)
        second = tm.submit(custom_sum, 1, 2)
        manager = tm.manager
        gate.set()
        done = list(tm.as_completed())
    # the C tasks, as handed out by the C manager once finished
    ctasks = [task.ctask for task in done]
    assert {task.result for task in done} == {True, 3}
    assert all(isinstance(ctask, Concurry.Future) for ctask in ctasks)
    assert all(isinstance(ctask, concurrent.futures.Future) for ctask in ctasks)
    assert all(ctask.get_future() is ctask for ctask in ctasks)
    finished, not_finished = Concurry.wait(ctasks, timeout=LONG)
    assert set(finished) == set(ctasks) and not not_finished
    assert all(ctask.done() and not ctask.cancelled() for ctask in ctasks)
    assert manager.get_n_completed() == 2
    assert first.complete and second.complete


# --------------------------------------------------------------------------
# looking at progress, cancelled work, handled failures, the with block
# --------------------------------------------------------------------------

def test_completed_tasks_does_not_take_tasks_away_from_as_completed(TaskManager, executor):
    gate = threading.Event()
    tm = TaskManager(executor(2), error_policy='ignore', monitor_interval=0)
    quick = [tm.submit(int, i) for i in range(3)]
    slow = tm.submit(gate.wait, LONG)
    for task in quick:
        assert task.ctask.wait(LONG * 1000000)
    # a look at the progress collects the finished ones (a task is counted
    # just after it is done)
    deadline = time.monotonic() + LONG
    while len(tm.completed_tasks) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    gate.set()
    yielded = list(tm.as_completed())
    assert set(yielded) == set(quick) | {slow}
    assert len(yielded) == 4
    tm.join()


def test_a_task_cancelled_while_it_runs_stays_cancelled_and_is_no_failure(
        TaskManager, executor, caplog):
    started, release = threading.Event(), threading.Event()

    def work():
        started.set()
        release.wait(LONG)
        raise ValueError('raised after the cancel')

    tm = TaskManager(executor(1), error_policy='log', monitor_interval=0)
    task = tm.submit(work)
    assert started.wait(LONG)
    assert task.ctask.interrupt()
    yielded = list(tm.as_completed())
    assert yielded == [task]
    assert isinstance(task.result, concurrent.futures.CancelledError)
    release.set()
    tm.manager.get_executor().shutdown(True, False)     # the work returned
    tm.join()
    assert isinstance(task.result, concurrent.futures.CancelledError)
    assert tm.n_failed == 0
    assert not [r for r in caplog.records if r.name == 'concurry' and
                r.levelno >= logging.ERROR]


def test_raise_raises_the_failure_not_the_exception_of_a_task_cancelled_while_running(
        TaskManager, executor):
    started, release = threading.Event(), threading.Event()

    def cancelled_then_raises():
        started.set()
        release.wait(LONG)
        raise ValueError('of the cancelled task')

    def fails():
        raise KeyError('the failure')

    tm = TaskManager(executor(2), error_policy='raise', monitor_interval=0)
    first = tm.submit(cancelled_then_raises)
    assert started.wait(LONG)
    assert first.ctask.interrupt()
    release.set()
    second = tm.submit(fails)
    with pytest.raises(KeyError, match='the failure'):
        tm.join()
    assert isinstance(first.result, concurrent.futures.CancelledError)
    assert isinstance(second.result, KeyError)


def test_a_failure_handled_in_as_completed_is_not_raised_again_at_the_end(
        TaskManager, executor):
    class Boom(Exception):
        pass

    def boom():
        raise Boom('x')

    handled = []
    with TaskManager(executor(2), monitor_interval=0) as tm:
        tm.submit(boom)
        try:
            for _ in tm.as_completed():
                pass
        except Boom as exc:
            handled.append(exc)
    assert len(handled) == 1


def test_log_logs_a_map_input_that_fails_and_a_task_the_executor_refuses(
        TaskManager, executor, caplog):
    def items():
        yield 1
        raise OSError('the input broke')

    caplog.set_level(logging.ERROR, logger='concurry')
    with TaskManager(executor(2), error_policy='log', monitor_interval=0) as tm:
        tm.map(int, items())
    assert any('input of map() failed' in r.getMessage() and r.exc_info and
               isinstance(r.exc_info[1], OSError) for r in caplog.records)

    caplog.clear()
    closed = executor(1)
    closed.shutdown(wait=True)
    with TaskManager(closed, error_policy='log', monitor_interval=0) as tm:
        refused = tm.submit(sum, [1, 2])
    assert refused.complete and isinstance(refused.result, RuntimeError)
    assert any(r.exc_info and r.exc_info[1] is refused.result for r in caplog.records)


def test_an_input_that_raises_ends_in_a_failed_task_of_its_own(TaskManager, executor):
    broke = OSError('the input broke')

    def items():
        yield 1
        yield 2
        raise broke

    with TaskManager(executor(2), error_policy='ignore', monitor_interval=0) as tm:
        tm.map(abs, items())
        tasks = list(tm.as_completed())
    assert len(tasks) == 3
    failed = [t for t in tasks if t.result is broke]
    assert len(failed) == 1 and failed[0].complete and failed[0].args == ()
    assert sorted(t.result for t in tasks if t is not failed[0]) == [1, 2]


def test_an_exception_in_the_with_block_waits_for_the_tasks_submitted(TaskManager, executor):
    release = threading.Event()
    tasks = []
    with pytest.raises(ZeroDivisionError):
        with TaskManager(executor(2), error_policy='ignore', monitor_interval=0) as tm:
            tasks = [tm.submit(release.wait, LONG) for _ in range(2)]
            threading.Timer(0, release.set).start()
            1 / 0
    assert all(task.ctask.is_done() for task in tasks)


def test_a_manager_never_joined_leaves_no_monitor_thread_once_dropped(TaskManager, executor):
    def monitors():
        return [t for t in threading.enumerate() if t.name == 'concurry-task-monitor']

    pool = executor(2)
    before = set(monitors())
    for _ in range(20):
        tm = TaskManager(pool, monitor_interval=0.01)
        tm.submit(int, 1)
        assert [t.result for t in tm.as_completed()] == [1]
        del tm
    started = set(monitors()) - before
    deadline = time.monotonic() + LONG
    for thread in started:
        thread.join(max(0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in started)
