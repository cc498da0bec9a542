# SPDX-License-Identifier: LGPL-2.1-or-later
"""``Concurry.ThreadPoolExecutor`` behaves as
``concurrent.futures.ThreadPoolExecutor`` does.

The behaviours that CPython's own tests check for executors and the thread
pool (Lib/test/test_concurrent_futures/executor.py, test_thread_pool.py,
test_init.py), written anew, plus concurry's deliberate differences:

* ``map()`` reads its input lazily, a bounded window ahead, yet every item
  runs unless the iterator is closed or ``shutdown(cancel_futures=True)``;
* futures passed as arguments to ``submit()`` are replaced by their values;
* the exception work raised comes back as the very same object.

Timing-free: work blocks on events, barriers and semaphores the test
controls; timeouts are safety nets (one ``map()`` timeout is the behaviour
under test, with work that cannot finish before it).
"""

import concurrent.futures
import contextlib
import contextvars
import itertools
import logging
import os
import re
import threading
import weakref

import pytest

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402

SAFETY = 30


def mul(x, y):
    return x * y


def capture(*args, **kwargs):
    return args, kwargs


class Thing:
    def method(self):
        pass


# --------------------------------------------------------------------------
# the executor type
# --------------------------------------------------------------------------

def test_thread_pool_is_a_concurrent_futures_executor(executor):
    assert isinstance(executor, concurrent.futures.Executor)


def test_max_workers_of_zero_or_less_raises_value_error():
    for number in (0, -1):
        with pytest.raises(ValueError, match='max_workers must be greater than 0'):
            Concurry.ThreadPoolExecutor(max_workers=number)


def test_max_workers_defaults_to_cpu_count_plus_four_at_most_32():
    pool = Concurry.ThreadPoolExecutor()
    try:
        assert pool.get_max_workers() == min(32, (os.cpu_count() or 1) + 4)
    finally:
        pool.shutdown()


# --------------------------------------------------------------------------
# submit()
# --------------------------------------------------------------------------

def test_submit_returns_the_future_of_the_call(executor):
    assert executor.submit(pow, 2, 8).result(timeout=SAFETY) == 256


def test_submit_passes_keyword_arguments_including_fn_and_self(executor):
    assert executor.submit(mul, 2, y=8).result(timeout=SAFETY) == 16
    assert executor.submit(capture, 1, self=2, fn=3).result(timeout=SAFETY) == \
        ((1,), {'self': 2, 'fn': 3})


def test_submit_without_a_positional_callable_raises_type_error(executor):
    with pytest.raises(TypeError):
        executor.submit(fn=capture, arg=1)
    with pytest.raises(TypeError):
        executor.submit(arg=1)


def test_an_exception_fails_its_future_and_the_worker_goes_on(pools):
    pool = pools(1)
    bad = pool.submit(divmod, 1, 0)
    good = pool.submit(divmod, 7, 2)
    with pytest.raises(ZeroDivisionError):
        bad.result(timeout=SAFETY)
    assert good.result(timeout=SAFETY) == (3, 1)


def test_the_same_exception_object_comes_back(executor):
    raised = []

    def work():
        raised.append(LookupError('this one'))
        raise raised[0]

    future = executor.submit(work)
    with pytest.raises(LookupError) as info:
        future.result(timeout=SAFETY)
    assert info.value is raised[0]


def test_the_executor_keeps_no_reference_to_finished_work(executor):
    thing = Thing()
    collected = threading.Event()
    ref = weakref.ref(thing, lambda unused: collected.set())
    done = threading.Event()
    executor.submit(thing.method)            # the future is dropped at once
    executor.submit(done.set)
    del thing
    assert done.wait(SAFETY)
    executor.shutdown(wait=True)
    assert collected.wait(SAFETY), 'the work was kept alive'
    assert ref() is None


def test_futures_among_the_arguments_are_replaced_by_their_values(executor):
    """Deliberate difference: concurrent.futures passes them as they are."""
    promise = Concurry.Promise()
    page = executor.submit(str.upper, 'text')
    words = executor.submit(lambda text, extra: (text, extra), page,
                            extra={'n': [promise, 3]})
    promise.set_result(2)
    assert words.result(timeout=SAFETY) == ('TEXT', {'n': [2, 3]})


def test_a_failed_argument_fails_the_dependent_work_with_the_same_exception(executor):
    exc = OSError('upstream')
    promise = Concurry.Promise()
    ran = []
    dependent = executor.submit(ran.append, promise)
    promise.set_exception(exc)
    assert dependent.exception(timeout=SAFETY) is exc
    assert promise.exception() is exc
    assert ran == []


# --------------------------------------------------------------------------
# map()
# --------------------------------------------------------------------------

def test_map_gives_the_results_of_map_in_order(executor):
    assert list(executor.map(pow, range(10), range(10))) == list(map(pow, range(10), range(10)))
    assert list(executor.map(pow, range(10), range(10), chunksize=3)) == \
        list(map(pow, range(10), range(10)))


def test_map_stops_at_the_shortest_iterable(executor):
    assert list(executor.map(mul, range(10), range(3))) == [0, 1, 4]


def test_map_results_are_in_input_order_whatever_the_completion_order(pools, releases):
    pool = pools(2)
    first_may_finish = threading.Event()
    releases.append(first_may_finish)
    second_done = threading.Event()

    def work(n):
        if n == 0:
            first_may_finish.wait(SAFETY)
        else:
            second_done.set()
        return n

    results = pool.map(work, [0, 1])
    assert second_done.wait(SAFETY)
    first_may_finish.set()
    assert list(results) == [0, 1]


def test_map_raises_the_exception_at_its_position(executor):
    results = executor.map(divmod, [1, 1, 1, 1], [2, 3, 0, 5])
    assert next(results) == (0, 1)
    assert next(results) == (0, 1)
    with pytest.raises(ZeroDivisionError):
        next(results)


def test_map_with_zero_chunksize_raises_value_error(executor):
    with pytest.raises(ValueError):
        executor.map(abs, [1], chunksize=0)


def test_map_turns_stop_iteration_from_the_function_into_runtime_error(executor):
    def stop(n):
        raise StopIteration

    with pytest.raises(RuntimeError):
        list(executor.map(stop, [1]))


def test_map_timeout_raises_timeout_error_after_the_results_in_time(pools, releases):
    pool = pools(3)
    never = threading.Event()
    releases.append(never)

    def work(n):
        if n == 2:
            never.wait(SAFETY)
        return n

    results = []
    with pytest.raises(TimeoutError):
        for value in pool.map(work, [0, 1, 2], timeout=2):
            results.append(value)
    assert results == [0, 1][:len(results)]


def test_map_timeout_cancels_the_work_not_started(pools, releases):
    stop = threading.Event()
    releases.append(stop)
    log = []

    def log_and_wait(ident):
        log.append('%s started' % ident)
        try:
            stop.wait(SAFETY)
        finally:
            log.append('%s stopped' % ident)

    pool = pools(1)
    first = pool.submit(log_and_wait, 'first')
    try:
        with contextlib.closing(pool.map(log_and_wait, ['second', 'third'], timeout=0)) as gen:
            with pytest.raises(TimeoutError):
                next(gen)
    finally:
        stop.set()
    first.result(timeout=SAFETY)
    pool.shutdown(wait=True)
    assert log == ['first started', 'first stopped']


def test_closing_map_cancels_the_work_not_started(pools, releases):
    pool = pools(1)
    release = threading.Event()
    releases.append(release)
    started = threading.Event()
    ran = []

    def work(n):
        ran.append(n)
        if n == 0:
            started.set()
            release.wait(SAFETY)
        return n

    results = pool.map(work, range(10))
    assert started.wait(SAFETY)
    results.close()
    release.set()
    pool.shutdown(wait=True)
    assert ran == [0]


def test_map_reads_its_input_lazily_within_a_bounded_window(executor):
    """Deliberate difference: concurrent.futures reads the whole input at
    the map() call."""
    taken = itertools.count()

    def endless():
        for n in itertools.count():
            next(taken)
            yield n

    results = executor.map(abs, endless())
    assert [next(results) for _ in range(10)] == list(range(10))
    results.close()
    assert next(taken) < 10 + 1000


def test_map_result_iterator_keeps_no_reference_to_the_results(executor):
    for obj in executor.map(lambda n: Thing(), range(10)):
        ref = weakref.ref(obj)
        del obj
        assert ref() is None


def test_map_exceptions_from_the_input_are_raised_at_their_position(executor):
    def source():
        yield 1
        yield 2
        raise KeyError('input')

    results = executor.map(abs, source())
    assert next(results) == 1
    assert next(results) == 2
    with pytest.raises(KeyError):
        next(results)


# --------------------------------------------------------------------------
# workers
# --------------------------------------------------------------------------

def test_the_pool_never_runs_more_than_max_workers_at_once(pools):
    pool = pools(4)
    lock = threading.Lock()
    state = {'now': 0, 'most': 0}
    gate = threading.Semaphore(0)
    four_in = threading.Barrier(5)

    def work(n):
        with lock:
            state['now'] += 1
            state['most'] = max(state['most'], state['now'])
        if n < 4:
            four_in.wait(SAFETY)
        gate.acquire(timeout=SAFETY)
        with lock:
            state['now'] -= 1

    futures = [pool.submit(work, n) for n in range(15 * 4)]
    four_in.wait(SAFETY)            # the first four run together
    for _ in futures:
        gate.release()
    pool.shutdown(wait=True)
    assert all(f.exception() is None for f in futures)
    assert state['most'] == 4


def test_sequential_work_reuses_an_idle_worker(pools):
    # CPython's test_idle_thread_reuse: the idle worker waits for more work
    pool = pools(8)
    idents = {pool.submit(threading.get_ident).result(timeout=SAFETY) for _ in range(3)}
    assert len(idents) == 1


def test_work_submitted_just_before_shutdown_cancelling_futures_runs(pools):
    # CPython's test_cancel_futures_wait_false: the worker that submit()
    # started takes the work before shutdown cancels what is queued
    for _ in range(10):
        pool = pools(2)
        ran = []
        future = pool.submit(ran.append, 'apple')
        pool.shutdown(wait=False, cancel_futures=True)
        assert future.result(timeout=SAFETY) is None
        assert ran == ['apple']


def test_a_worker_keeps_its_name_across_work(pools):
    pool = pools(1)

    def where():
        return threading.get_ident(), threading.current_thread().name

    seen = [pool.submit(where).result(timeout=SAFETY) for _ in range(3)]
    by_thread = {}
    for ident, name in seen:
        by_thread.setdefault(ident, set()).add(name)
    assert all(len(names) == 1 for names in by_thread.values()), seen


def test_workers_carry_the_thread_name_prefix(releases):
    barrier = threading.Barrier(5)
    pool = Concurry.ThreadPoolExecutor(max_workers=5, thread_name_prefix='SpecialPool')
    try:
        names = [pool.submit(lambda: (barrier.wait(SAFETY),
                                      threading.current_thread().name)[1])
                 for _ in range(5)]
        names = [f.result(timeout=SAFETY) for f in names]
    finally:
        pool.shutdown(wait=True)
    assert len(set(names)) == 5
    for name in names:
        assert re.match(r'^SpecialPool_[0-4]$', name), name


def test_workers_have_a_default_name_unique_to_the_pool():
    names = []
    for _ in range(2):
        pool = Concurry.ThreadPoolExecutor(max_workers=2)
        names.append(pool.submit(lambda: threading.current_thread().name).result(
            timeout=SAFETY))
        pool.shutdown(wait=True)
    for name in names:
        assert re.match(r'^ThreadPoolExecutor-\d+_\d+$', name), name
    assert names[0].split('_')[0] != names[1].split('_')[0]


def test_the_worker_is_known_to_threading_under_its_name(executor):
    def where():
        thread = threading.current_thread()
        return thread.name, thread in threading.enumerate()

    name, known = executor.submit(where).result(timeout=SAFETY)
    assert known
    assert not name.startswith('Dummy')


# --------------------------------------------------------------------------
# initializer
# --------------------------------------------------------------------------

def test_initializer_runs_with_initargs_in_every_worker():
    local = threading.local()
    calls = []

    def init(value):
        local.status = value
        calls.append(threading.current_thread().name)

    barrier = threading.Barrier(2)
    pool = Concurry.ThreadPoolExecutor(2, initializer=init, initargs=('initialized',))
    try:
        futures = [pool.submit(lambda: (barrier.wait(SAFETY),
                                        getattr(local, 'status', None))[1])
                   for _ in range(2)]
        assert [f.result(timeout=SAFETY) for f in futures] == ['initialized', 'initialized']
    finally:
        pool.shutdown(wait=True)
    assert len(set(calls)) == 2


def test_initializer_runs_once_per_worker_thread():
    calls = []
    pool = Concurry.ThreadPoolExecutor(
        1, initializer=lambda: calls.append(threading.get_ident()))
    try:
        for n in range(5):
            assert pool.submit(pow, 2, n).result(timeout=SAFETY) == 2 ** n
    finally:
        pool.shutdown(wait=True)
    assert len(calls) == len(set(calls))


def test_what_the_initializer_keeps_in_threading_local_lasts_for_every_item():
    """A worker keeps its thread's state from one item to the next, as a
    concurrent.futures worker does: the initializer's threading.local
    (a connection per thread, say) and context variables set by work."""
    local = threading.local()
    var = contextvars.ContextVar('var', default='default')

    def init(name):
        local.name = name

    def look():
        seen = (threading.get_ident(), getattr(local, 'name', None), var.get())
        var.set('set by work')
        return seen

    pool = Concurry.ThreadPoolExecutor(1, initializer=init, initargs=('db',))
    try:
        seen = [pool.submit(look).result(timeout=SAFETY) for _ in range(5)]
    finally:
        pool.shutdown(wait=True)
    assert len({ident for ident, _, _ in seen}) == 1
    assert [name for _, name, _ in seen] == ['db'] * 5
    assert [value for _, _, value in seen] == ['default'] + ['set by work'] * 4


@pytest.mark.skipif(os.environ.get('CONCURRY_PYTHON_ENGINE') == '0',
                    reason='without the engine, a worker thread state stays until exit')
def test_a_worker_thread_that_ends_lets_go_of_its_threading_local():
    from gi.repository import GLib
    local = threading.local()
    released = threading.Event()

    class Connection:
        def __del__(self):
            released.set()

    def init():
        local.connection = Connection()

    pool = Concurry.ThreadPoolExecutor(1, initializer=init)
    assert pool.submit(lambda: type(local.connection).__name__).result(timeout=SAFETY) == \
        'Connection'
    pool.shutdown(wait=True)
    # the thread ends once GLib stops its unused threads
    for _ in range(int(SAFETY / 0.05)):
        GLib.ThreadPool.stop_unused_threads()
        if released.wait(0.05):
            break
    assert released.is_set()


@pytest.mark.parametrize('use', ['threading.local', 'asyncio.run'])
def test_a_worker_thread_ends_cleanly_under_python_debug_checks(use):
    """Python's debug allocator (-X dev) checks that whoever frees memory
    holds the GIL, through Python's own link from the thread to its state,
    which the thread's end may clear before concurry lets go of the state
    it kept: the thread-local data (asyncio's loop policy, a plain
    threading.local) is freed with the GIL held all the same."""
    import subprocess
    import sys
    script = """
import asyncio, os, sys, threading
import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry, GLib

local = threading.local()

async def inner():
    return 42

def work():
    if sys.argv[1] == 'asyncio.run':
        return asyncio.run(inner())
    local.value = object()
    return 42

pool = Concurry.ThreadPoolExecutor(1)
assert pool.submit(work).result() == 42
pool.shutdown(wait=True)
# the worker ends once GLib stops its unused threads
GLib.ThreadPool.set_max_unused_threads(0)
while len(os.listdir('/proc/self/task')) > 1:
    GLib.ThreadPool.stop_unused_threads()
    threading.Event().wait(0.01)
print('ended')
"""
    done = subprocess.run([sys.executable, '-X', 'dev', '-c', script, use],
                          capture_output=True, text=True, timeout=SAFETY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'ended'


def test_initializer_must_be_callable():
    with pytest.raises(TypeError):
        Concurry.ThreadPoolExecutor(1, initializer='not callable')


def test_a_failing_initializer_breaks_the_pool(caplog):
    def init_fail():
        raise ValueError('error in initializer')

    pool = Concurry.ThreadPoolExecutor(2, initializer=init_fail)
    try:
        with caplog.at_level(logging.CRITICAL):
            future = pool.submit(pow, 2, 2)
            with pytest.raises(concurrent.futures.BrokenExecutor):
                future.result(timeout=SAFETY)
        assert isinstance(future.exception(), concurrent.futures.thread.BrokenThreadPool)
        with pytest.raises(concurrent.futures.BrokenExecutor):
            pool.submit(pow, 2, 2)
        assert 'ValueError: error in initializer' in caplog.text
    finally:
        pool.shutdown(wait=True)
