# SPDX-License-Identifier: LGPL-2.1-or-later
"""concurry executors and futures fit asyncio as ``concurrent.futures``'
do: ``loop.run_in_executor()``, ``asyncio.wrap_future()``, awaiting, and
``Concurry.wrap_future()`` of asyncio futures.

Deliberate difference tested here: a done callback added on a thread that
runs an asyncio loop is delivered on that loop (never inside
``add_done_callback()``), like an asyncio future's.

Timing-free: work blocks on events; timeouts are safety nets.
"""

import asyncio
import concurrent.futures
import threading

import pytest

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402

SAFETY = 30

# While the raw C methods come first in the MRO of Concurry.Promise, its
# add_done_callback() and cancel() are the C ones: asyncio.wrap_future() of
# a promise then never completes (each such test would hang until SAFETY).
PROMISE_RAW_METHODS = Concurry.Promise.add_done_callback is not Concurry.Future.add_done_callback
promise_methods = pytest.mark.xfail(
    PROMISE_RAW_METHODS, run=False, strict=False,
    reason='wing: Concurry.Promise MRO puts the raw gi Concurry.Future before the '
           'override, so cancel()/add_done_callback() are the C methods')


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, SAFETY))


# --------------------------------------------------------------------------
# loop.run_in_executor()
# --------------------------------------------------------------------------

def test_run_in_executor_runs_the_call_on_the_pool():
    pool = Concurry.ThreadPoolExecutor(2, thread_name_prefix='AioPool')

    async def main():
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            pool, lambda x: (x * 2, threading.current_thread().name), 21)

    try:
        value, name = run(main())
    finally:
        pool.shutdown(wait=True)
    assert value == 42
    assert name.startswith('AioPool_')


def test_run_in_executor_raises_the_exception_of_the_call():
    pool = Concurry.ThreadPoolExecutor(1)
    raised = []

    def work():
        raised.append(ValueError('from pool'))
        raise raised[0]

    async def main():
        loop = asyncio.get_running_loop()
        with pytest.raises(ValueError) as info:
            await loop.run_in_executor(pool, work)
        return info.value

    try:
        assert run(main()) is raised[0]
    finally:
        pool.shutdown(wait=True)


# --------------------------------------------------------------------------
# asyncio.wrap_future() of concurry futures, and awaiting them
# --------------------------------------------------------------------------

def test_asyncio_wrap_future_of_work_gives_its_value(executor):
    async def main():
        return await asyncio.wrap_future(executor.submit(pow, 3, 3))

    assert run(main()) == 27


@promise_methods
def test_asyncio_wrap_future_of_a_promise_completed_by_a_thread():
    promise = Concurry.Promise()

    async def main():
        wrapped = asyncio.wrap_future(promise)
        threading.Thread(target=promise.set_result, args=('done',), daemon=True).start()
        return await wrapped

    assert run(main()) == 'done'


@promise_methods
def test_asyncio_wrap_future_of_a_failed_future_raises_its_exception(executor):
    exc = KeyError('failed')
    promise = Concurry.Promise()
    promise.set_exception(exc)

    async def main():
        with pytest.raises(KeyError) as info:
            await asyncio.wrap_future(promise)
        return info.value

    assert run(main()) is exc


def test_asyncio_wrap_future_of_failed_work_raises_the_same_exception(executor):
    raised = []

    def work():
        raised.append(KeyError('failed'))
        raise raised[0]

    async def main():
        with pytest.raises(KeyError) as info:
            await asyncio.wrap_future(executor.submit(work))
        return info.value

    assert run(main()) is raised[0]


def test_cancelling_the_task_awaiting_queued_work_cancels_the_work(pools, releases):
    pool = pools(1)
    started, release = threading.Event(), threading.Event()
    releases.append(release)
    pool.submit(lambda: (started.set(), release.wait(SAFETY)))
    assert started.wait(SAFETY)
    ran = []
    queued = pool.submit(ran.append, 'queued')

    async def main():
        task = asyncio.ensure_future(asyncio.wrap_future(queued))
        for _ in range(3):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert queued.cancelled()
    release.set()
    pool.shutdown(wait=True)
    assert ran == []


def test_asyncio_wait_for_timing_out_cancels_queued_work(pools, releases):
    pool = pools(1)
    started, release = threading.Event(), threading.Event()
    releases.append(release)
    pool.submit(lambda: (started.set(), release.wait(SAFETY)))
    assert started.wait(SAFETY)
    queued = pool.submit(pow, 2, 2)

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(queued, timeout=0.01)   # cannot start: the pool is busy

    run(main())
    assert queued.cancelled()


def test_asyncio_wait_takes_concurry_futures(pools, releases):
    pool = pools(2)
    release = threading.Event()
    releases.append(release)
    slow = pool.submit(release.wait, SAFETY)
    fast = pool.submit(pow, 2, 5)

    async def main():
        done, pending = await asyncio.wait([slow, fast], return_when=asyncio.FIRST_COMPLETED)
        release.set()
        return done, pending

    done, pending = run(main())
    assert done == {fast} and pending == {slow}
    assert slow.result(timeout=SAFETY) is True


def test_awaiting_a_concurry_future_gives_its_value(executor):
    async def main():
        return await executor.submit(pow, 2, 10)

    assert run(main()) == 1024


def test_asyncio_gather_accepts_concurry_futures(executor):
    async def main():
        return await asyncio.gather(*(executor.submit(pow, 2, n) for n in range(4)))

    assert run(main()) == [1, 2, 4, 8]


@promise_methods
def test_cancelling_the_awaiting_task_cancels_the_future():
    promise = Concurry.Promise()

    async def main():
        task = asyncio.ensure_future(asyncio.wrap_future(promise))
        for _ in range(3):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert promise.cancelled()


# --------------------------------------------------------------------------
# Concurry.wrap_future() of asyncio futures
# --------------------------------------------------------------------------

def test_a_done_asyncio_future_wrapped_reads_as_done_at_once_on_its_loop():
    async def main():
        af = asyncio.get_running_loop().create_future()
        af.set_result(42)
        wrapped = Concurry.wrap_future(af)
        return wrapped.done(), wrapped.result(timeout=5)

    assert run(main()) == (True, 42)


def test_an_asyncio_future_set_after_wrapping_reads_as_done_on_its_loop():
    async def main():
        af = asyncio.get_running_loop().create_future()
        wrapped = Concurry.wrap_future(af)
        af.set_result(42)
        return wrapped.result(timeout=5)

    assert run(main()) == 42


def test_a_wrapped_failed_asyncio_future_gives_the_same_exception():
    exc = OSError('asyncio failure')

    async def main():
        af = asyncio.get_running_loop().create_future()
        af.set_exception(exc)
        return Concurry.wrap_future(af).exception(timeout=5)

    assert run(main()) is exc


def test_a_wrapped_cancelled_asyncio_future_raises_concurrent_futures_cancelled_error():
    async def main():
        af = asyncio.get_running_loop().create_future()
        af.cancel()
        wrapped = Concurry.wrap_future(af)
        with pytest.raises(concurrent.futures.CancelledError):
            wrapped.result(timeout=5)
        return wrapped.cancelled()

    assert run(main()) is True


def test_an_asyncio_future_completed_on_its_loop_completes_a_wrapper_waited_elsewhere():
    outcome = []

    async def main():
        af = asyncio.get_running_loop().create_future()
        wrapped = Concurry.wrap_future(af)
        waiter = threading.Thread(target=lambda: outcome.append(wrapped.result(timeout=SAFETY)),
                                  daemon=True)
        waiter.start()
        af.set_result('on the loop')
        await asyncio.get_running_loop().run_in_executor(None, waiter.join, SAFETY)

    run(main())
    assert outcome == ['on the loop']


# --------------------------------------------------------------------------
# done callbacks on a thread running an asyncio loop (deliberate difference)
# --------------------------------------------------------------------------

def test_callback_added_on_an_asyncio_loop_runs_on_that_loop_not_at_once():
    future = Concurry.SyncFuture(result_value=1)

    async def main():
        loop = asyncio.get_running_loop()
        called = loop.create_future()
        record = {}

        def callback(f):
            record['loop'] = asyncio.get_running_loop() if asyncio._get_running_loop() else None
            record['thread'] = threading.get_ident()
            called.set_result(f)

        future.add_done_callback(callback)
        record['synchronous'] = 'thread' in record
        assert await called is future
        return record, loop, threading.get_ident()

    record, loop, ident = run(main())
    assert record == {'synchronous': False, 'loop': loop, 'thread': ident}


def test_callback_added_on_an_asyncio_loop_for_work_runs_on_that_loop(pools, releases):
    pool = pools(1)
    release = threading.Event()
    releases.append(release)

    async def main():
        loop = asyncio.get_running_loop()
        called = loop.create_future()
        future = pool.submit(lambda: (release.wait(SAFETY), 'value')[1])
        future.add_done_callback(
            lambda f: called.set_result((threading.get_ident(), f.result(timeout=0))))
        release.set()
        return await called, threading.get_ident()

    (callback_thread, value), loop_thread = run(main())
    assert value == 'value'
    assert callback_thread == loop_thread
