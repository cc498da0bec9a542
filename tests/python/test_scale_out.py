# SPDX-License-Identifier: LGPL-2.1-or-later
"""Threads, processes and a Dask cluster behind one executor API and one
future type.

Each test of the first part runs three times: on
``Concurry.ThreadPoolExecutor``, ``Concurry.ProcessPoolExecutor`` and
``Concurry.DaskExecutor`` (a real ``distributed.LocalCluster`` with two
worker processes on 127.0.0.1, started and stopped by this module): one
behaviour.  Then what only a process pool or only a cluster can show.

Work synchronises with the tests through files (scale_workload.py); no
test waits for time to pass.
"""

import asyncio
import concurrent.futures
import os
import pickle
import signal
import threading
import time
import traceback

import pytest

from conftest_scale import (  # noqa: F401 - fixtures
    CAPACITY, concurry_scale, dask_client, executor, executors, gates)
from gi._concurry import dask as dask_module
from gi._concurry import process as process_module
from concurry_testutil import run_child
from scale_workload import LONG
import scale_workload as work


def cancel_reached_the_cluster(future):
    """For a future of Dask work: waits until the scheduler has dropped
    its cancelled task (the cancel travels apart from the submission, and
    Dask retries it until the task arrived), and until no worker holds it
    (a worker may have queued it already, behind busy threads, and would
    run it once they are free).  Nothing to wait for otherwise."""
    task = dask_module.dask_future_of(future)
    if task is None:
        return
    key = str(task.key)

    def dropped(dask_scheduler):
        return key not in dask_scheduler.tasks and bool(dask_scheduler.story(key))

    def released(dask_worker):
        tasks = getattr(getattr(dask_worker, 'state', None), 'tasks', None)
        return key not in (tasks if tasks is not None else dask_worker.tasks)

    deadline = time.monotonic() + LONG
    while not (task.client.run_on_scheduler(dropped) and task.cancelled()
               and all(task.client.run(released).values())):
        assert time.monotonic() < deadline, 'the cancel never reached the scheduler'
        time.sleep(0.01)


def start_blockers(executor, gates):
    """Occupies every worker with work waiting for one gate; returns
    (gate, futures) once all of it started."""
    gate = gates.gate()
    futures = []
    for i in range(CAPACITY):
        started = gates.path('started-%d' % i)
        futures.append(executor.submit(work.block, started, gate, i))
        gates.started(started)
    return gate, futures


# --------------------------------------------------------------------------
# one behaviour on threads, processes and a cluster
# --------------------------------------------------------------------------

def test_submit_returns_a_concurry_future_of_the_value(executor, concurry_scale):
    future = executor.submit(work.square, 7)
    assert isinstance(future, concurry_scale.Future)
    assert future.result(timeout=LONG) == 49
    assert future.done() and not future.running() and not future.cancelled()
    assert future.exception(timeout=0) is None


def test_the_executor_is_a_concurrent_futures_executor(executor):
    assert isinstance(executor, concurrent.futures.Executor)


def test_keyword_arguments_reach_the_function_whatever_their_names(executor):
    future = executor.submit(work.echo, 1, key='k', pure='p', fn='f', self='s', func='u')
    assert future.result(timeout=LONG) == ((1,), [('fn', 'f'), ('func', 'u'), ('key', 'k'),
                                                  ('pure', 'p'), ('self', 's')])


def test_submit_of_something_not_callable_raises_TypeError_at_once(executor):
    with pytest.raises(TypeError):
        executor.submit(42)


def test_an_exception_comes_back_with_its_type_args_and_traceback_text(executor):
    exc = executor.submit(work.fail, 'bad input', 3).exception(timeout=LONG)
    assert type(exc) is ValueError
    assert exc.args == ('bad input', 3)
    text = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    assert 'in fail' in text and 'raise ValueError(*args)' in text


def test_the_result_raises_the_exception(executor):
    future = executor.submit(work.fail, 'no')
    with pytest.raises(ValueError, match='no'):
        future.result(timeout=LONG)


def test_futures_handed_out_are_read_only(executor):
    future = executor.submit(work.square, 2)
    with pytest.raises(NotImplementedError):
        future.set_result(5)
    with pytest.raises(NotImplementedError):
        future.set_exception(ValueError())
    assert future.result(timeout=LONG) == 4


def test_a_done_callback_runs_once_with_the_future(executor, gates):
    gate = gates.gate()
    future = executor.submit(work.block, gates.path('started'), gate, 'v')
    calls = []
    called = threading.Event()

    def callback(f):
        calls.append(f)
        called.set()

    future.add_done_callback(callback)
    gates.open(gate)
    assert future.result(timeout=LONG) == 'v'
    assert delivered(called)
    assert calls == [future]


def delivered(event):
    """Waits (with a safety net) for a done callback to set event.  Where
    an older override delivers callbacks of the main thread on its main
    context, that context is iterated meanwhile."""
    from gi.repository import GLib
    context = GLib.MainContext.default()
    deadline = time.monotonic() + LONG
    while not event.wait(0.005):
        while context.iteration(False):
            pass
        if time.monotonic() > deadline:
            return False
    return True


def test_map_yields_results_in_input_order_whatever_the_chunksize(executor):
    for chunksize in (1, 3):
        assert list(executor.map(work.add, range(10), range(10, 20), chunksize=chunksize)) \
            == [a + b for a, b in zip(range(10), range(10, 20))]


def test_map_raises_a_failure_at_its_position(executor):
    results = executor.map(work.square, [1, 2, 'x', 4], chunksize=2)
    assert next(results) == 1
    assert next(results) == 4
    with pytest.raises(TypeError):
        next(results)


def test_a_long_map_runs_every_item_whatever_its_length(executor):
    # Inputs travel in groups as the map goes on: none is lost or repeated.
    assert list(executor.map(work.square, range(500))) == [x * x for x in range(500)]


def test_a_map_dropped_inside_the_with_block_still_runs_every_item(executor, gates):
    paths = [gates.path('item-%d' % i) for i in range(40)]
    with executor:
        executor.map(work.mark, paths)
    assert all(os.path.exists(path) for path in paths)


def test_a_task_manager_runs_its_tasks_on_the_executor(executor, concurry_scale):
    with concurry_scale.TaskManager(executor, error_policy='ignore') as manager:
        manager.submit(work.add, 1, 2)
        manager.submit(work.fail, 'no')
        manager.map(work.square, range(5))
        tasks = list(manager.as_completed())
    assert len(tasks) == 7
    assert all(task.complete for task in tasks)
    results = sorted(repr(task.result) for task in tasks)
    assert results == sorted([repr(3), repr(ValueError('no'))] + [repr(x * x) for x in range(5)])


def test_map_raises_TimeoutError_when_its_timeout_passes(executor, gates):
    gate = gates.gate()
    results = executor.map(work.block, [gates.path('started')], [gate], timeout=0.01)
    with pytest.raises(TimeoutError):
        next(results)


def test_work_still_queued_can_be_cancelled_and_never_runs(executor, gates):
    gate, blockers = start_blockers(executor, gates)
    queued = [executor.submit(work.mark, gates.path('ran-%d' % i), i) for i in range(10)]
    last = queued[-1]
    assert last.cancel()
    assert last.cancelled() and last.done()
    cancel_reached_the_cluster(last)
    gates.open(gate)
    done, not_done = work_done(blockers + queued[:-1])
    assert not not_done
    assert not os.path.exists(gates.path('ran-9'))
    with pytest.raises(Exception) as info:
        last.result(timeout=0)
    assert type(info.value).__name__ == 'CancelledError'


def work_done(futures):
    from gi.repository import Concurry
    return Concurry.wait(futures, timeout=LONG)


def test_wait_as_completed_gather_and_await_take_these_futures(executor, concurry_scale):
    futures = [executor.submit(work.square, i) for i in range(5)]
    assert concurry_scale.gather(futures, timeout=LONG) == [0, 1, 4, 9, 16]
    done, not_done = concurry_scale.wait(futures, timeout=LONG)
    assert done == set(futures) and not not_done
    assert set(concurry_scale.as_completed(futures, timeout=LONG)) == set(futures)

    async def main():
        return await executor.submit(work.add, 40, 2)

    assert asyncio.run(main()) == 42


def test_a_future_argument_is_replaced_by_its_value(executor, concurry_scale):
    first = executor.submit(work.square, 3)
    promise = concurry_scale.Promise()
    second = executor.submit(work.add, first, promise)
    promise.set_result(1)
    assert second.result(timeout=LONG) == 10
    nested = executor.submit(work.echo, [first, {'k': first}])
    assert nested.result(timeout=LONG) == (([9, {'k': 9}],), [])


def test_a_failed_argument_fails_the_call_with_the_same_exception(executor, concurry_scale):
    promise = concurry_scale.Promise()
    future = executor.submit(work.add, promise, 1)
    error = KeyError('lost')
    promise.set_exception(error)
    assert future.exception(timeout=LONG) is error


def test_submit_after_shutdown_raises_RuntimeError(executor):
    executor.shutdown(wait=True)
    with pytest.raises(RuntimeError):
        executor.submit(work.square, 1)
    executor.shutdown()      # again: harmless


def test_leaving_the_with_block_waits_for_the_work(executors, request):
    for kind in ('thread', 'process', 'dask'):
        with executors(kind) as executor:
            futures = [executor.submit(work.square, i) for i in range(20)]
        assert all(f.done() for f in futures), kind
        assert [f.result(timeout=0) for f in futures] == [i * i for i in range(20)]


def test_shutdown_with_cancel_futures_cancels_work_not_started(executor, gates):
    gate, blockers = start_blockers(executor, gates)
    queued = [executor.submit(work.mark, gates.path('ran-%d' % i), i) for i in range(10)]
    executor.shutdown(wait=False, cancel_futures=True)
    assert queued[-1].cancelled()
    cancel_reached_the_cluster(queued[-1])
    gates.open(gate)
    done, not_done = work_done(blockers + queued)
    assert not not_done
    assert not os.path.exists(gates.path('ran-9'))


@pytest.mark.parametrize('kind', ['thread', 'process'])
def test_cancel_futures_right_after_a_burst_lets_the_work_started_finish(executors, gates, kind):
    """concurrent.futures' test_cancel_futures: a burst of submissions,
    then shutdown(cancel_futures=True) at once.  The work that the workers
    took before the shutdown runs (here: what started), the rest is
    cancelled and never runs; each future ends one way or the other."""
    executor = executors(kind)
    gate = gates.gate()
    started = [gates.path('started-%d' % i) for i in range(50)]
    futures = [executor.submit(work.block, started[i], gate, i) for i in range(50)]
    # one of them at least started
    gates.started_any(started)
    executor.shutdown(wait=False, cancel_futures=True)
    cancelled = [i for i, f in enumerate(futures) if f.cancelled()]
    assert len(cancelled) > 20
    gates.open(gate)
    executor.shutdown(wait=True)
    others = [i for i, f in enumerate(futures) if not f.cancelled()]
    assert others
    assert [futures[i].result(timeout=0) for i in others] == others
    assert not any(os.path.exists(started[i]) for i in cancelled)


def test_shutdown_without_waiting_still_runs_the_work_submitted(executor, gates):
    gate, blockers = start_blockers(executor, gates)
    queued = [executor.submit(work.square, i) for i in range(10)]
    executor.shutdown(wait=False)
    gates.open(gate)
    assert [f.result(timeout=LONG) for f in queued] == [i * i for i in range(10)]
    assert [f.result(timeout=LONG) for f in blockers] == list(range(CAPACITY))


# --------------------------------------------------------------------------
# threads and processes only: running work cannot be cancelled
# --------------------------------------------------------------------------

@pytest.mark.parametrize('kind', [
    'thread', 'process'])
def test_running_work_cannot_be_cancelled_and_completes(executors, gates, kind, concurry_scale):
    executor = executors(kind)
    gate, blockers = start_blockers(executor, gates)
    assert blockers[0].running()
    assert not blockers[0].cancel()
    gates.open(gate)
    assert blockers[0].result(timeout=LONG) == 0


# --------------------------------------------------------------------------
# what only a process pool shows
# --------------------------------------------------------------------------

def test_work_runs_in_other_processes(executors):
    executor = executors('process')
    pids = set(executor.map(work.process_id, range(CAPACITY * 4)))
    assert os.getpid() not in pids


def test_the_traceback_text_is_the_cause_like_concurrent_futures(executors):
    exc = executors('process').submit(work.fail, 1).exception(timeout=LONG)
    assert type(exc.__cause__).__name__ == '_RemoteTraceback'
    assert 'in fail' in str(exc.__cause__)


def test_an_argument_that_cannot_be_pickled_fails_only_its_call(executors):
    executor = executors('process')
    lock = threading.Lock()
    futures = [executor.submit(work.square, 2), executor.submit(work.echo, lock),
               executor.submit(work.square, 3)]
    assert futures[0].result(timeout=LONG) == 4
    assert isinstance(futures[1].exception(timeout=LONG), (TypeError, pickle.PicklingError))
    assert futures[2].result(timeout=LONG) == 9


def test_a_result_that_cannot_be_pickled_fails_only_its_call(executors):
    executor = executors('process')
    futures = executor.map(work.echo, [1, lambda: None, 3], chunksize=1)
    assert next(futures) == ((1,), [])
    with pytest.raises((TypeError, AttributeError, pickle.PicklingError)):
        next(futures)


def test_results_that_cannot_be_pickled_fail_alone_in_a_batch(executors):
    executor = executors('process')
    # Sent together (a batch, one map chunk): only the lock fails.
    futures = [executor.submit(work.lock_or_value, x) for x in (1, 'lock', 3)]
    assert futures[0].result(timeout=LONG) == 1
    assert isinstance(futures[1].exception(timeout=LONG), (TypeError, pickle.PicklingError))
    assert futures[2].result(timeout=LONG) == 3
    results = executor.map(work.lock_or_value, [1, 2, 'lock', 4], chunksize=4)
    assert [next(results), next(results)] == [1, 2]
    with pytest.raises((TypeError, pickle.PicklingError)):
        next(results)


def test_an_argument_that_cannot_be_pickled_fails_at_its_position_in_a_map_chunk(executors):
    executor = executors('process')
    # One chunk: the lock fails before the items ahead of it ran, and is
    # still reported after their results, at its own position.
    results = executor.map(work.square, [2, 3, threading.Lock(), 4], chunksize=4)
    assert [next(results), next(results)] == [4, 9]
    with pytest.raises((TypeError, pickle.PicklingError)):
        next(results)


@pytest.mark.parametrize('how', ['submit', 'map', 'shutdown-without-wait'])
def test_interpreter_exit_waits_for_the_work_of_a_process_pool(tmp_path, how):
    # The standard pool refuses new calls once its own exit handler ran:
    # concurry's must run first, with work still queued.
    child = run_child('''
        import sys
        sys.path.insert(0, %r)
        import gi
        gi.require_version('Concurry', '1')
        from gi.repository import Concurry
        import scale_workload as work

        paths = [%r + '/done-%%d' %% i for i in range(20)]
        pool = Concurry.ProcessPoolExecutor(2)
        if %r == 'map':
            pool.map(work.mark, paths)
        else:
            for path in paths:
                pool.submit(work.mark, path)
        if %r == 'shutdown-without-wait':
            pool.shutdown(wait=False)
    ''' % (os.path.dirname(work.__file__), str(tmp_path), how, how))
    assert child.returncode == 0, child.stderr
    assert 'failed' not in child.stderr
    assert sorted(os.listdir(tmp_path)) == sorted('done-%d' % i for i in range(20))


def test_the_initializer_runs_in_each_worker_with_its_arguments(concurry_scale):
    with concurry_scale.ProcessPoolExecutor(CAPACITY, initializer=work.set_tag,
                                            initargs=('ready',)) as executor:
        assert set(executor.map(work.get_tag, range(8))) == {'ready'}


def test_a_failing_initializer_breaks_the_pool(concurry_scale):
    with concurry_scale.ProcessPoolExecutor(1, initializer=work.fail_to_start) as executor:
        with pytest.raises(process_module.BrokenProcessPool):
            executor.submit(work.square, 2).result(timeout=LONG)
        assert executor.is_broken()


def test_max_tasks_per_child_counts_every_call(concurry_scale):
    with concurry_scale.ProcessPoolExecutor(1, max_tasks_per_child=1) as executor:
        pids = [f.result(timeout=LONG) for f in [executor.submit(work.process_id)
                                                 for _ in range(3)]]
    assert len(set(pids)) == 3


def test_a_worker_that_dies_breaks_the_pool_and_nothing_hangs(executors, gates):
    executor = executors('process')
    gate, blockers = start_blockers(executor, gates)
    queued = [executor.submit(work.square, i) for i in range(20)]
    dying = executor.submit(work.die)
    gates.open(gate)
    with pytest.raises(process_module.BrokenProcessPool):
        dying.result(timeout=LONG)
    assert executor.is_broken()
    with pytest.raises(process_module.BrokenProcessPool):
        executor.submit(work.square, 1)
    done, not_done = work_done(blockers + queued)
    assert not not_done


# --------------------------------------------------------------------------
# what only a cluster shows
# --------------------------------------------------------------------------

def dependencies_on_scheduler(client, key):
    """The keys the task key depends on, once the scheduler has it (a
    submission travels apart from this query)."""
    key = str(key)

    def read(dask_scheduler):
        task = dask_scheduler.tasks.get(key)
        return None if task is None else sorted(str(d.key) for d in task.dependencies)

    deadline = time.monotonic() + LONG
    while (keys := client.run_on_scheduler(read)) is None:
        assert time.monotonic() < deadline, 'the task never reached the scheduler'
        time.sleep(0.01)
    return keys


def test_a_future_of_the_cluster_passed_to_its_work_stays_a_dask_future(
        executors, gates, dask_client):
    executor = executors('dask')
    gate = gates.gate()
    first = executor.submit(work.block, gates.path('started'), gate, 20)
    second = executor.submit(work.add, first, 1)
    # Handed to Dask at once, depending on first's data on the cluster.
    first_task = dask_module.dask_future_of(first)
    second_task = dask_module.dask_future_of(second)
    assert first_task is not None and second_task is not None
    assert dependencies_on_scheduler(dask_client, second_task.key) == [str(first_task.key)]
    gates.open(gate)
    assert second.result(timeout=LONG) == 21


def test_a_future_of_the_cluster_passed_to_a_local_pool_gives_its_value(
        executors, concurry_scale):
    on_cluster = executors('dask').submit(work.square, 5)
    local = executors('thread').submit(work.add, on_cluster, 1)
    assert local.result(timeout=LONG) == 26


def test_wrap_dask_future_gives_a_concurry_future(dask_client, concurry_scale):
    good = dask_module.wrap_dask_future(dask_client.submit(work.square, 6, pure=False))
    bad = dask_module.wrap_dask_future(dask_client.submit(work.fail, 'x', pure=False))
    assert dask_module.is_dask_future(dask_module.dask_future_of(good))
    assert not dask_module.is_dask_future(good)
    assert isinstance(good, concurry_scale.Future)
    assert good.result(timeout=LONG) == 36
    assert type(bad.exception(timeout=LONG)) is ValueError


def test_cancelling_a_future_cancels_the_dask_task(executors, gates):
    executor = executors('dask')
    gate, blockers = start_blockers(executor, gates)
    queued = executor.submit(work.mark, gates.path('ran'), 1)
    assert queued.cancel()
    cancel_reached_the_cluster(queued)
    assert dask_module.dask_future_of(queued).cancelled()
    gates.open(gate)
    done, not_done = work_done(blockers)
    assert not not_done
    assert not os.path.exists(gates.path('ran'))


def test_a_worker_killed_mid_task_fails_or_retries_and_nothing_hangs(
        executors, gates, concurry_scale):
    executor = executors('dask')
    pid_file = gates.path('pid')
    future = executor.submit(work.killed_once, gates.path('first'), pid_file, gates.gate())
    gates.started(pid_file)
    with open(pid_file) as f:
        os.kill(int(f.read()), signal.SIGKILL)
    done, not_done = concurry_scale.wait([future], timeout=LONG)
    assert future in done
    if future.exception() is None:
        assert future.result() == 'retried'
    else:
        assert type(future.exception()).__name__ == 'KilledWorker'

