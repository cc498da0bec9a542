# SPDX-License-Identifier: LGPL-2.1-or-later
"""The behaviours CPython's own tests check for
``concurrent.futures.ProcessPoolExecutor`` (Lib/test/test_concurrent_futures),
held by ``Concurry.ProcessPoolExecutor``: written anew here, not copied.
What the executors share (shutdown, cancel, map's window, the failures of a
worker) is in test_scale_out.py, on every executor.

The work is in scale_workload.py, importable by the worker processes."""

import concurrent.futures
import concurrent.futures.process
import gc
import multiprocessing
import operator
import os

import pytest

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402

import scale_workload as work  # noqa: E402
from scale_workload import LONG  # noqa: E402

BrokenProcessPool = concurrent.futures.process.BrokenProcessPool


@pytest.fixture
def executor():
    pool = Concurry.ProcessPoolExecutor(2)
    yield pool
    pool.shutdown(wait=True)


@pytest.mark.parametrize('max_workers', [0, -1])
def test_max_workers_must_be_positive(max_workers):
    with pytest.raises(ValueError):
        Concurry.ProcessPoolExecutor(max_workers)


def test_the_default_is_one_worker_per_cpu():
    with Concurry.ProcessPoolExecutor() as pool:
        assert pool.max_workers == (os.cpu_count() or 1)


def test_it_is_a_concurrent_futures_executor_of_concurry_futures(executor):
    assert isinstance(executor, concurrent.futures.Executor)
    future = executor.submit(pow, 2, 8)
    assert isinstance(future, Concurry.Future)
    assert future.result(timeout=LONG) == 256


def test_submit_passes_keyword_arguments_named_like_its_own(executor):
    future = executor.submit(work.echo, 1, self=2, fn=3)
    assert future.result(timeout=LONG) == ((1,), [('fn', 3), ('self', 2)])


@pytest.mark.parametrize('chunksize', [1, 2, 3, 40])
def test_map_gives_what_the_builtin_map_gives_whatever_the_chunksize(executor, chunksize):
    bases, exponents = range(10), range(10, 20)
    assert list(executor.map(pow, bases, exponents, chunksize=chunksize)) \
        == list(map(pow, bases, exponents))


@pytest.mark.parametrize('chunksize', [0, -1])
def test_map_refuses_a_chunksize_below_one(executor, chunksize):
    with pytest.raises(ValueError):
        executor.map(pow, range(3), range(3), chunksize=chunksize)


def test_map_raises_the_exception_at_its_position(executor):
    results = executor.map(divmod, [1, 1, 1, 1], [2, 3, 0, 5])
    assert next(results) == (0, 1)
    assert next(results) == (0, 1)
    with pytest.raises(ZeroDivisionError):
        next(results)


def test_an_exception_keeps_its_type_args_and_traceback_text(executor):
    exc = executor.submit(work.fail, 123, 'text').exception(timeout=LONG)
    assert type(exc) is ValueError
    assert exc.args == (123, 'text')
    assert type(exc.__cause__).__name__ == '_RemoteTraceback'
    assert 'raise ValueError(*args)' in str(exc.__cause__)


def test_a_child_that_exits_breaks_the_pool(executor):
    future = executor.submit(os._exit, 1)
    with pytest.raises(BrokenProcessPool):
        future.result(timeout=LONG)
    assert executor.is_broken()
    with pytest.raises(BrokenProcessPool):
        executor.submit(pow, 2, 5)


def test_shutdown_waits_for_every_call_submitted(executor):
    futures = [executor.submit(operator.mul, i, 2) for i in range(50)]
    executor.shutdown(wait=True)
    assert [f.result(timeout=0) for f in futures] == [2 * i for i in range(50)]
    with pytest.raises(RuntimeError):
        executor.submit(pow, 2, 5)


def running(pid):
    """Whether process pid runs (a zombie has ended: its parent, the fork
    server, may not have reaped it yet)."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            state = stat.read().rsplit(')', 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ('Z', 'X')


def test_shutdown_ends_the_worker_processes():
    pool = Concurry.ProcessPoolExecutor(2)
    pids = set(pool.map(work.process_id, range(20)))
    assert all(running(pid) for pid in pids)
    pool.shutdown(wait=True)
    assert not any(running(pid) for pid in pids)


def test_a_context_of_multiprocessing_starts_the_workers():
    context = multiprocessing.get_context('spawn')
    with Concurry.ProcessPoolExecutor(1, mp_context=context) as pool:
        assert pool.submit(work.process_id).result(timeout=LONG) != os.getpid()


def test_max_tasks_per_child_replaces_a_worker_after_that_many_calls():
    with Concurry.ProcessPoolExecutor(1, max_tasks_per_child=3) as pool:
        pids = [pool.submit(work.process_id).result(timeout=LONG) for _ in range(6)]
    assert pids[0] == pids[1] == pids[2]
    assert pids[3] == pids[4] == pids[5]
    assert pids[0] != pids[3]


def test_max_tasks_per_child_is_refused_with_fork():
    with pytest.raises(ValueError):
        Concurry.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('fork'),
                                     max_tasks_per_child=3)


def test_the_executor_keeps_no_reference_to_finished_work(executor):
    import weakref

    thing = work.Thing()
    ref = weakref.ref(thing)
    assert executor.submit(thing.method).result(timeout=LONG) == 'method'
    executor.submit(pow, 2, 2).result(timeout=LONG)
    del thing
    gc.collect()
    assert ref() is None


def test_a_map_held_across_shutdown_still_gives_every_result():
    # concurrent.futures submits all of a map at once; concurry reads it
    # as it goes, so the worker processes stay until the map is dropped.
    pool = Concurry.ProcessPoolExecutor(2)
    results = pool.map(work.process_id, range(300))
    pool.shutdown(wait=True)
    pids = set(results)
    assert len(pids) >= 1 and os.getpid() not in pids
    del results
    gc.collect()
    pool.shutdown(wait=True)
    assert not any(running(pid) for pid in pids)


def test_a_pool_dropped_with_calls_pending_still_runs_them():
    # CPython's test_del_shutdown: the pool's last reference goes while its
    # calls are pending; every result still comes (the runner that carries
    # them stays alive while it fails or runs them)
    pool = Concurry.ProcessPoolExecutor(2)
    futures = [pool.submit(operator.pow, 2, i) for i in range(6)]
    del pool
    gc.collect()
    assert [f.result(timeout=LONG) for f in futures] == [2 ** i for i in range(6)]


def test_shutdown_while_the_collector_closes_dropped_maps_never_hangs():
    # The collector may finalize a dropped map iterator of the pool at any
    # allocation, also inside shutdown(), on its own thread: that finalizer
    # takes the lock shutdown holds (found by CPython's test_map_timeout).
    import threading
    threshold = gc.get_threshold()
    gc.set_threshold(5)
    try:
        for _ in range(200):
            pool = Concurry.ProcessPoolExecutor(1)
            iterators = [pool.map(abs, []) for _ in range(30)]
            for it in iterators:
                list(it)     # started: dropping one closes it

            def drop():
                while iterators:
                    cycle = [iterators.pop()]
                    cycle.append(cycle)
                    del cycle

            dropper = threading.Thread(target=drop)
            dropper.start()
            pool.shutdown(wait=True)
            dropper.join()
    finally:
        gc.set_threshold(*threshold)


def test_max_tasks_per_child_counts_each_map_item_as_a_task():
    # as concurrent.futures does with chunksize=1: a worker process runs
    # one item, then the next item gets a new one
    pool = Concurry.ProcessPoolExecutor(1, max_tasks_per_child=1)
    try:
        pids = list(pool.map(work.process_id, range(6)))
    finally:
        pool.shutdown(wait=True)
    assert len(set(pids)) == 6
