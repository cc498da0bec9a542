# SPDX-License-Identifier: LGPL-2.1-or-later
"""asyncio and Concurry futures (PyGObject 3.42 has no GLib/asyncio
integration; the override bridges it through a private main context).

``await future`` must not block the asyncio loop and must not need a GLib
main loop; asyncio.gather/wait_for/shield work over concurry futures;
cancelling the awaiting task returns at once; wrap_future() turns asyncio
futures, tasks and coroutines into concurry futures.

No sleeps: the work awaited is released by the asyncio side itself, so a
blocked loop would show up as a timeout, not as a slow pass.
"""

import asyncio
import concurrent.futures
import threading

import pytest

import gi

gi.require_version('Concurry', '1')
gi.require_version('GLib', '2.0')
from gi.repository import Concurry, GLib  # noqa: E402

from concurry_testutil import LONG  # noqa: E402


def run(coroutine, timeout=LONG):
    """asyncio.run() with a bound: a hang fails the test."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def gated(executor, value='released'):
    """Work waiting for an event set from the asyncio side."""
    gate = threading.Event()
    executor.releases.append(gate)
    return executor.submit(lambda: value if gate.wait(LONG) else 'timed out'), gate


def test_await_does_not_block_the_loop(executor):
    future, gate = gated(executor)

    async def release_soon():
        # Runs only if the loop is free while main() awaits the future.
        await asyncio.sleep(0)
        gate.set()

    async def main():
        helper = asyncio.create_task(release_soon())
        value = await future
        await helper
        return value

    assert run(main()) == 'released'


def test_await_done_future_returns_at_once():
    async def main():
        return await Concurry.wrap_future('ready'), await Concurry.ResolvedFuture.new_int(5)

    assert run(main()) == ('ready', 5)


def test_await_promise_resolved_from_a_thread():
    promise = Concurry.Promise()

    async def main():
        threading.Thread(target=promise.set_result, args=([1, 2],), daemon=True).start()
        return await promise

    assert run(main()) == [1, 2]


def test_await_raises_the_same_exception_object(executor):
    exc = ValueError('from the work')

    def bad():
        raise exc

    future = executor.submit(bad)

    async def main():
        with pytest.raises(ValueError) as info:
            await future
        return info.value

    assert run(main()) is exc


def test_await_c_failure_raises_glib_error():
    future = Concurry.ResolvedFuture.new_error_literal(Concurry.error_quark(),
                                                       Concurry.Error.FAILED, 'c failure')

    async def main():
        with pytest.raises(GLib.Error, match='c failure'):
            await future

    run(main())


def test_await_cancelled_future_raises_concurrent_cancelled_error():
    promise = Concurry.Promise()

    async def main():
        threading.Thread(target=promise.cancel, daemon=True).start()
        with pytest.raises(concurrent.futures.CancelledError):
            await promise

    run(main())


def test_asyncio_gather_over_concurry_futures(executor):
    futures = [executor.submit(pow, 2, i) for i in range(20)]

    async def main():
        return await asyncio.gather(*futures, futures[0])

    assert run(main()) == [2 ** i for i in range(20)] + [1]


def test_asyncio_gather_with_return_exceptions(executor):
    exc = KeyError('k')
    ok = executor.submit(int, '3')
    bad = Concurry.Promise()
    bad.set_exception(exc)

    async def main():
        return await asyncio.gather(ok, bad, return_exceptions=True)

    assert run(main()) == [3, exc]


def test_asyncio_wait_for_times_out_and_cancels_the_future(executor):
    started = threading.Event()
    gate = threading.Event()
    executor.releases.append(gate)
    future = executor.submit(lambda: started.set() or gate.wait(LONG))
    assert started.wait(LONG)       # running: cancel() leaves it alone

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(future, 0.05)

    run(main())
    # Like a concurrent.futures future wrapped for asyncio: running work is
    # not cancelled (cancel() is False for it) and completes.
    assert not future.cancelled()
    gate.set()
    future.result(LONG)


def test_asyncio_wait_for_in_time(executor):
    future = executor.submit(lambda: 'quick')

    async def main():
        return await asyncio.wait_for(future, LONG)

    assert run(main()) == 'quick'


def test_cancelling_the_awaiting_task_does_not_block(executor):
    started = threading.Event()
    gate = threading.Event()
    executor.releases.append(gate)
    future = executor.submit(lambda: started.set() or gate.wait(LONG))
    assert started.wait(LONG)       # running: cancel() leaves it alone

    async def main():
        task = asyncio.create_task(_await(future))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return task.cancelled()

    assert run(main(), timeout=LONG) is True
    assert not future.cancelled()     # it was running: it completes
    gate.set()
    future.result(LONG)


async def _await(future):
    return await future


def test_cancelling_the_awaiting_task_cancels_a_queued_future(executor):
    future, gate = gated(executor)           # keeps one worker busy
    with Concurry.ThreadPoolExecutor(1) as single:
        single.releases = executor.releases
        blocker, blocker_gate = gated(single)
        queued = single.submit(lambda: 'never runs')

        async def main():
            task = asyncio.create_task(_await(queued))
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        run(main())
        assert queued.cancelled()
        blocker_gate.set()
    gate.set()


def test_shield_keeps_the_future_running(executor):
    future, gate = gated(executor, 'shielded')

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(future), 0.05)
        gate.set()
        return await future

    assert run(main()) == 'shielded'
    assert not future.cancelled()


def test_asyncio_as_completed_and_wait(executor):
    futures = [executor.submit(str, i) for i in range(5)]

    async def main():
        got = [await f for f in asyncio.as_completed([_await(f) for f in futures])]
        done, _ = await asyncio.wait([asyncio.ensure_future(f) for f in futures])
        return sorted(got), len(done)

    assert run(main()) == (['0', '1', '2', '3', '4'], 5)


def test_many_awaits():
    promises = [Concurry.Promise() for _ in range(500)]

    async def main():
        def complete():
            for i, promise in enumerate(promises):
                promise.set_result(i)
        threading.Thread(target=complete, daemon=True).start()
        return await asyncio.gather(*promises)

    assert run(main()) == list(range(500))


def test_await_in_a_loop_on_another_thread(executor):
    out = []

    def thread_main():
        async def main():
            future, gate = gated(executor, 'from a thread loop')
            asyncio.get_running_loop().call_soon(gate.set)
            return await future
        out.append(asyncio.run(main()))

    thread = threading.Thread(target=thread_main, daemon=True)
    thread.start()
    thread.join(LONG)
    assert out == ['from a thread loop']


def test_asyncio_run_cleanup_cancels_awaited_futures():
    # asyncio.run() cancels the tasks still pending when main() returns;
    # a concurry future they await is cancelled like an asyncio one.
    promise = Concurry.Promise()

    async def main():
        asyncio.create_task(_await(promise))
        await asyncio.sleep(0)

    run(main())
    assert promise.cancelled()


def test_loop_closed_while_a_future_is_awaited():
    promise = Concurry.Promise()
    loop = asyncio.new_event_loop()

    async def start():
        loop.create_task(_await(promise))
        await asyncio.sleep(0)

    loop.run_until_complete(start())
    loop.close()
    # Completing it after the loop is gone is harmless.
    promise.set_result(1)
    assert Concurry.wait([promise], timeout=LONG).done == {promise}
    assert promise.result() == 1


# --------------------------------------------------------------------------
# wrap_future() of asyncio objects
# --------------------------------------------------------------------------

def test_wrap_asyncio_future_completed_from_its_loop():
    async def main():
        loop = asyncio.get_running_loop()
        source = loop.create_future()
        wrapped = Concurry.wrap_future(source)
        assert isinstance(wrapped, Concurry.Future)
        assert not wrapped.done()
        loop.call_soon(source.set_result, {'v': 1})
        value = await wrapped
        assert value is source.result()
        return wrapped

    wrapped = run(main())
    assert wrapped.result() == {'v': 1}


def test_wrap_asyncio_future_exception_is_the_same_object():
    exc = OSError('async failure')

    async def main():
        source = asyncio.get_running_loop().create_future()
        wrapped = Concurry.wrap_future(source)
        source.set_exception(exc)
        with pytest.raises(OSError) as info:
            await wrapped
        return info.value, wrapped

    got, wrapped = run(main())
    assert got is exc
    assert wrapped.exception() is exc


def test_wrap_asyncio_future_read_from_another_thread():
    async def main():
        loop = asyncio.get_running_loop()
        source = loop.create_future()
        wrapped = Concurry.wrap_future(source)
        reader = loop.run_in_executor(None, wrapped.result, LONG)
        source.set_result('seen from a thread')
        return await reader

    assert run(main()) == 'seen from a thread'


def test_wrap_asyncio_cancellation_maps_both_ways():
    async def main():
        loop = asyncio.get_running_loop()
        source = loop.create_future()
        wrapped = Concurry.wrap_future(source)
        source.cancel()
        with pytest.raises(concurrent.futures.CancelledError):
            await wrapped

        other = loop.create_future()
        wrapped_other = Concurry.wrap_future(other)
        assert wrapped_other.cancel()
        # The asyncio future is cancelled from its own loop, soon.
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(other, LONG)
        return other.cancelled()

    assert run(main()) is True


def test_wrap_asyncio_future_from_another_thread():
    results = []

    async def main():
        loop = asyncio.get_running_loop()
        source = loop.create_future()
        # wrap_future() called off the loop's thread: it must touch the
        # asyncio future only from its loop.
        wrapped = await loop.run_in_executor(None, Concurry.wrap_future, source)
        source.set_result('ok')
        results.append(await wrapped)

    run(main())
    assert results == ['ok']


def test_wrap_task_and_coroutine_with_a_running_loop():
    async def compute(x):
        await asyncio.sleep(0)
        return x * 2

    async def main():
        task = asyncio.ensure_future(compute(2))
        from_task = Concurry.wrap_future(task)
        from_coroutine = Concurry.wrap_future(compute(5))
        return await from_task, await from_coroutine

    assert run(main()) == (4, 10)


def test_submit_unwraps_asyncio_futures(executor):
    async def main():
        loop = asyncio.get_running_loop()
        source = loop.create_future()
        dependent = executor.submit(lambda x: x + 1, source)
        loop.call_soon(source.set_result, 41)
        return await dependent

    assert run(main()) == 42


# --------------------------------------------------------------------------
# done callbacks in asyncio programs
# --------------------------------------------------------------------------

def test_asyncio_wait_over_concurry_futures(executor):
    # asyncio.wait() treats its arguments as futures: add_done_callback(),
    # done(), exception() and remove_done_callback(fn).
    futures = [executor.submit(str, i) for i in range(5)]
    bad = Concurry.Promise()
    bad.set_exception(KeyError())
    pending = Concurry.Promise()

    async def main():
        done, not_done = await asyncio.wait(futures)
        assert done == set(futures) and not not_done
        done, not_done = await asyncio.wait([bad, pending],
                                            return_when=asyncio.FIRST_EXCEPTION)
        assert done == {bad} and not_done == {pending}
        done, not_done = await asyncio.wait([pending], timeout=0.01)
        assert not_done == {pending}

    run(main())
    assert isinstance(bad.exception(), KeyError)
    pending.cancel()


def test_callback_added_in_asyncio_runs_on_the_loop_thread(executor):
    future, gate = gated(executor)
    seen = []

    async def main():
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def callback(f, tag):
            seen.append((f, tag, threading.current_thread() is threading.main_thread(),
                         asyncio.get_running_loop() is loop))
            done.set_result(None)

        future.add_done_callback(callback, 'tag')
        assert seen == []
        gate.set()
        await done

    run(main())
    assert seen == [(future, 'tag', True, True)]


def test_remove_done_callback_by_function_in_asyncio():
    promise = Concurry.Promise()
    calls = []

    def callback(f):
        calls.append(f)

    async def main():
        other_done = asyncio.get_running_loop().create_future()
        promise.add_done_callback(callback)
        promise.add_done_callback(callback)
        other = promise.add_done_callback(
            lambda f: (calls.append('other'), other_done.set_result(None)))
        assert promise.remove_done_callback(callback) == 2
        assert promise.remove_done_callback(callback) == 0
        promise.set_result(1)
        # Callbacks run in the order added: the removed ones would be first.
        await other_done
        return other

    assert run(main()) > 0
    assert calls == ['other']


def test_wrap_done_asyncio_future_is_done_at_once():
    async def main():
        source = asyncio.get_running_loop().create_future()
        source.set_result('already')
        wrapped = Concurry.wrap_future(source)
        # Usable without giving the loop a turn.
        assert wrapped.done()
        return Concurry.gather([wrapped, source], timeout=0)

    assert run(main()) == ['already', 'already']


def test_a_callback_added_in_a_loop_closed_before_the_future_is_done_still_runs_once(executor):
    """asyncio.run() returned: the loop the callback was meant for is
    closed, so it runs on the completing thread, as concurrent.futures
    runs callbacks, rather than never."""
    future, gate = gated(executor)
    ran = []
    called = threading.Event()

    async def main():
        future.add_done_callback(lambda f: (ran.append(threading.get_ident()), called.set()))

    run(main())
    gate.set()
    assert called.wait(LONG)
    assert future.result(timeout=LONG) == 'released'
    assert len(ran) == 1 and ran[0] != threading.get_ident()


# -- what awaiting and done callbacks keep (found by a port of asyncio's tests) --

def test_a_loop_that_awaited_a_pending_future_is_freed_with_its_tasks():
    import gc
    import weakref
    pool = Concurry.ThreadPoolExecutor(2)
    loops = []

    async def main():
        loops.append(weakref.ref(asyncio.get_running_loop()))
        return await pool.submit(sum, [1, 2])   # pending when awaited

    for _ in range(20):
        assert asyncio.run(main()) == 3

    # a task still waiting when its loop is closed is not kept either
    class Frame:
        pass

    loop = asyncio.new_event_loop()
    promise = Concurry.Promise()

    async def waiting(local):
        await promise

    local = Frame()
    local_ref = weakref.ref(local)
    task = loop.create_task(waiting(local))
    del local
    loop.run_until_complete(asyncio.sleep(0))    # the task awaits the promise
    task._log_destroy_pending = False
    del task
    loop.close()
    promise.set_result(1)
    del promise, loop
    gc.collect()
    pool.shutdown()
    assert [ref() for ref in loops] == [None] * 20
    assert local_ref() is None


def test_a_done_callback_that_ran_is_not_kept_by_the_future():
    import gc
    import weakref
    future = Concurry.Promise()
    future.set_result(1)
    loops = []

    async def main():
        loop = asyncio.get_running_loop()
        loops.append(weakref.ref(loop))
        return await asyncio.wrap_future(future)   # a callback added on the loop

    for _ in range(10):
        assert asyncio.run(main()) == 1
    gc.collect()
    assert [ref() for ref in loops] == [None] * 10
    assert not future.__dict__.get('_concurry_callbacks')

    # and removing one still works while it has not run
    pending = Concurry.Promise()
    calls = []
    pending.add_done_callback(calls.append)
    pending.add_done_callback(calls.append)
    assert pending.remove_done_callback(calls.append) == 2
    pending.set_result(2)
    assert calls == []


def test_a_done_callback_delivered_on_a_loop_runs_in_the_adding_codes_context():
    import contextvars
    var = contextvars.ContextVar('var', default='unset')
    pool = Concurry.ThreadPoolExecutor(1)
    started = threading.Event()
    release = threading.Event()

    def work():
        var.set('worker')
        started.set()
        release.wait(LONG)
        return 1

    async def main():
        var.set('task')
        seen = asyncio.get_running_loop().create_future()
        future = pool.submit(work)
        future.add_done_callback(lambda f: seen.set_result(var.get()))
        started.wait(LONG)
        release.set()
        return await seen

    try:
        # as an asyncio future's callbacks: the context of add_done_callback()
        assert asyncio.run(main()) == 'task'
    finally:
        pool.shutdown()
