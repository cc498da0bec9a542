# SPDX-License-Identifier: LGPL-2.1-or-later
"""``Concurry.ThreadPoolExecutor.shutdown()`` behaves as
``concurrent.futures``' does.

The behaviours that CPython's own tests check for shutdown
(Lib/test/test_concurrent_futures/test_shutdown.py), written anew for
``Concurry.ThreadPoolExecutor``, plus concurry's deliberate difference:
``map()`` is lazy and bounded, yet every item runs unless the iterator is
closed or ``shutdown(cancel_futures=True)`` cancels the rest.

Timing-free: work blocks on events the test sets; timeouts are safety nets.
"""

import concurrent.futures
import gc
import threading

import pytest

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402

from concurry_testutil import run_child  # noqa: E402

SAFETY = 30

CHILD_PREAMBLE = '''
import sys, threading
import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry

def print_when(event, text):
    event.wait(30)
    print(text, flush=True)
'''


def blocked_pool(pools, releases, workers=1):
    """A pool whose workers are all busy with work waiting on an event:
    returns (pool, release, blockers)."""
    pool = pools(workers)
    release = threading.Event()
    releases.append(release)
    started = threading.Semaphore(0)

    def block():
        started.release()
        return release.wait(SAFETY)

    blockers = [pool.submit(block) for _ in range(workers)]
    for _ in range(workers):
        assert started.acquire(timeout=SAFETY)
    return pool, release, blockers


def test_submit_after_shutdown_raises_runtime_error():
    pool = Concurry.ThreadPoolExecutor(2)
    pool.shutdown()
    with pytest.raises(RuntimeError, match='cannot schedule new futures after shutdown'):
        pool.submit(pow, 2, 5)


def test_map_after_shutdown_raises_runtime_error():
    pool = Concurry.ThreadPoolExecutor(2)
    pool.shutdown()
    with pytest.raises(RuntimeError, match='cannot schedule new futures after shutdown'):
        pool.map(abs, [1, 2])


def test_shutting_down_twice_is_harmless():
    pool = Concurry.ThreadPoolExecutor(2)
    future = pool.submit(pow, 2, 3)
    pool.shutdown()
    pool.shutdown()
    pool.shutdown(wait=False)
    assert future.result(timeout=0) == 8


def test_shutdown_with_wait_returns_once_all_submitted_work_is_done():
    pool = Concurry.ThreadPoolExecutor(3)
    go = threading.Event()
    futures = [pool.submit(lambda n=n: (go.wait(SAFETY), n)[1]) for n in range(50)]
    go.set()
    pool.shutdown(wait=True)
    assert all(f.done() for f in futures)
    assert [f.result(timeout=0) for f in futures] == list(range(50))


def test_shutdown_without_wait_returns_and_queued_work_still_completes(pools, releases):
    pool, release, blockers = blocked_pool(pools, releases, workers=2)
    queued = [pool.submit(pow, 2, n) for n in range(10)]
    pool.shutdown(wait=False)            # returns although work is blocked
    assert not any(f.done() for f in blockers)
    release.set()
    assert [f.result(timeout=SAFETY) for f in queued] == [2 ** n for n in range(10)]
    assert all(f.result(timeout=SAFETY) is True for f in blockers)


def test_cancel_futures_cancels_only_the_work_not_started(pools, releases):
    pool, release, blockers = blocked_pool(pools, releases, workers=2)
    ran = []
    queued = [pool.submit(ran.append, n) for n in range(20)]
    pool.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    for future in queued:
        with pytest.raises(concurrent.futures.CancelledError):
            future.result(timeout=0)
    assert not any(f.cancelled() for f in blockers)
    release.set()
    pool.shutdown(wait=True)
    assert all(f.result(timeout=0) is True for f in blockers)
    assert ran == []


def test_cancel_futures_right_after_submit_to_an_idle_pool_never_cancels_started_work():
    """Whatever the race between the worker and shutdown(), a future is
    either cancelled and its work never ran, or its work ran to the end."""
    for _ in range(50):
        pool = Concurry.ThreadPoolExecutor(1)
        ran = []
        future = pool.submit(ran.append, 1)
        pool.shutdown(wait=True, cancel_futures=True)
        if future.cancelled():
            assert ran == []
        else:
            assert future.result(timeout=0) is None
            assert ran == [1]


def test_shutdown_with_wait_after_a_submit_then_cancel_does_not_hang():
    pool = Concurry.ThreadPoolExecutor(1)
    assert pool.submit(int).result(timeout=SAFETY) == 0
    pool.submit(int).cancel()
    done = threading.Event()
    thread = threading.Thread(target=lambda: (pool.shutdown(wait=True), done.set()),
                              daemon=True)
    thread.start()
    assert done.wait(SAFETY)


def test_context_manager_shuts_down_and_waits_on_exit():
    go = threading.Event()
    with Concurry.ThreadPoolExecutor(max_workers=5) as pool:
        assert list(pool.map(abs, range(-5, 5))) == [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]
        futures = [pool.submit(lambda n=n: (go.wait(SAFETY), n)[1]) for n in range(10)]
        go.set()
    assert all(f.done() for f in futures)
    with pytest.raises(RuntimeError):
        pool.submit(pow, 2, 2)


def test_context_manager_returns_the_executor():
    pool = Concurry.ThreadPoolExecutor(1)
    with pool as entered:
        assert entered is pool


def test_map_called_for_its_side_effects_runs_every_item_before_the_block_ends():
    """Deliberate difference: map() reads its input lazily, a bounded
    window ahead, yet nothing is dropped."""
    seen = []
    lock = threading.Lock()

    def record(n):
        with lock:
            seen.append(n)

    with Concurry.ThreadPoolExecutor(4) as pool:
        pool.map(record, range(1000))
    assert sorted(seen) == list(range(1000))


def test_map_without_iteration_runs_every_item_before_shutdown_returns():
    pool = Concurry.ThreadPoolExecutor(4)
    seen = []
    pool.map(seen.append, range(10))
    pool.shutdown(wait=True)
    assert sorted(seen) == list(range(10))


def test_map_results_are_all_there_after_a_shutdown_without_wait():
    pool = Concurry.ThreadPoolExecutor(5)
    results = pool.map(abs, range(-5, 5))
    pool.shutdown(wait=False)
    assert list(results) == [abs(n) for n in range(-5, 5)]


def test_map_results_are_all_there_after_the_executor_is_dropped():
    pool = Concurry.ThreadPoolExecutor(5)
    results = pool.map(abs, range(-5, 5))
    del pool
    gc.collect()
    assert list(results) == [abs(n) for n in range(-5, 5)]


def test_map_begun_before_shutdown_gives_every_result_after_it():
    with Concurry.ThreadPoolExecutor(2) as pool:
        results = pool.map(abs, range(-300, 300))
    assert list(results) == [abs(n) for n in range(-300, 300)]


def test_cancel_futures_makes_a_map_raise_cancelled_error_at_its_first_cancelled_item(
        pools, releases):
    pool = pools(1)
    release = threading.Event()
    releases.append(release)
    started = threading.Event()

    def work(n):
        if n == 0:
            started.set()
            release.wait(SAFETY)
        return n

    results = pool.map(work, range(10))
    assert started.wait(SAFETY)
    pool.shutdown(wait=False, cancel_futures=True)
    release.set()
    assert next(results) == 0
    with pytest.raises(concurrent.futures.CancelledError):
        next(results)


def test_a_map_for_many_items_and_shutdown_do_not_race():
    pool = Concurry.ThreadPoolExecutor(2)
    pool.map(str, [2] * 3)
    pool.shutdown()


def test_shutdown_with_wait_from_a_worker_raises_runtime_error_in_that_work():
    pool = Concurry.ThreadPoolExecutor(2)
    future = pool.submit(lambda: pool.shutdown(wait=True))
    with pytest.raises(RuntimeError):
        future.result(timeout=SAFETY)
    with pytest.raises(RuntimeError):
        pool.submit(pow, 2, 2)
    pool.shutdown(wait=True)


# --------------------------------------------------------------------------
# interpreter exit
# --------------------------------------------------------------------------

def test_interpreter_exit_waits_for_submitted_work():
    child = run_child(CHILD_PREAMBLE + '''
        go = threading.Event()
        pool = Concurry.ThreadPoolExecutor(5)
        pool.submit(print_when, go, 'apple')
        go.set()
    '''.replace('\n        ', '\n'))
    assert child.stderr == ''
    assert child.stdout.strip() == 'apple'


@pytest.mark.parametrize('pool', ['ThreadPoolExecutor', 'ProcessPoolExecutor'])
def test_interpreter_exit_with_a_started_map_still_held_is_quiet(pool):
    # CPython's test_interpreter_shutdown wants an empty stderr: a map
    # iterator held in a global at exit is not closed while modules go
    child = run_child(CHILD_PREAMBLE + """
        import operator
        pool = Concurry.%s(2)
        results = pool.map(operator.mul, range(100), range(100))
        print(next(results))
        pool.shutdown()
    """.replace('\n        ', '\n') % pool)
    assert child.stderr == ''
    assert child.stdout.strip() == '0'


def test_interpreter_exit_waits_for_work_after_shutdown_without_wait():
    child = run_child(CHILD_PREAMBLE + '''
        go = threading.Event()
        pool = Concurry.ThreadPoolExecutor(3)
        pool.submit(print_when, go, 'apple')
        pool.shutdown(wait=False)
        go.set()
    '''.replace('\n        ', '\n'))
    assert child.stderr == ''
    assert child.stdout.strip() == 'apple'


def test_interpreter_exit_after_shutdown_cancelling_futures_is_clean():
    child = run_child(CHILD_PREAMBLE + '''
        go = threading.Event()
        pool = Concurry.ThreadPoolExecutor(3)
        pool.submit(print_when, go, 'apple')
        pool.shutdown(wait=False, cancel_futures=True)
        go.set()
    '''.replace('\n        ', '\n'))
    assert child.stderr == ''
    assert child.stdout.strip() in ('apple', '')


def test_submit_from_an_exit_handler_raises_runtime_error():
    """The executors are shut down at exit before the exit handlers that
    were registered before them run, as in concurrent.futures."""
    child = run_child('''
        import atexit

        @atexit.register
        def run_last():
            try:
                pool.submit(id, None)
            except RuntimeError:
                print('runtime-error', flush=True)
                raise

        import gi
        gi.require_version('Concurry', '1')
        from gi.repository import Concurry
        pool = Concurry.ThreadPoolExecutor(5)
    ''')
    assert 'RuntimeError: cannot schedule new futures' in child.stderr
    assert child.stdout.strip() == 'runtime-error'
