# SPDX-License-Identifier: LGPL-2.1-or-later
"""Regression tests for the defects a review found in the override, one
test (or a few) per defect, named after it.

Every failed future made here has its error looked at
(G_DEBUG=fatal-warnings).
"""

import concurrent.futures
import gc
import os
import signal
import sys
import textwrap
import threading
import time

import pytest

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry, GLib  # noqa: E402

from concurry_testutil import LONG, run_child, start_thread, join  # noqa: E402

# A Latin-1 file name as os.listdir() returns it: lone surrogates.
SURROGATE_NAME = os.fsdecode(b'caf\xe9.txt')


# --------------------------------------------------------------------------
# 1. exception messages that are not valid UTF-8
# --------------------------------------------------------------------------

def test_surrogate_message_in_pool_work_fails_the_future(pools):
    executor = pools(2)

    def work():
        raise RuntimeError('cannot process ' + SURROGATE_NAME)

    future = executor.submit(work)
    with pytest.raises(RuntimeError) as info:
        future.result(LONG)
    assert SURROGATE_NAME in str(info.value)
    assert '\\udce9' in future.get_error().message
    # The drainer's accounting survived: shutdown(wait=True) returns.
    thread = start_thread(executor.shutdown)
    join(thread)


def test_surrogate_message_in_set_exception_chain_and_wrap_future():
    exc = RuntimeError(SURROGATE_NAME)
    promise = Concurry.Promise()
    promise.set_exception(exc)
    assert promise.exception() is exc

    source = concurrent.futures.Future()
    wrapper = Concurry.wrap_future(source)
    source.set_exception(RuntimeError(SURROGATE_NAME))
    assert isinstance(wrapper.exception(LONG), RuntimeError)

    def fail(value):
        raise RuntimeError(SURROGATE_NAME)

    end = Concurry.Promise()
    end.set_result(1)
    end = end.map(fail)
    assert str(end.exception(LONG)) == SURROGATE_NAME


def test_surrogate_message_interpreter_exits():
    child = run_child('''
        import os, gi
        gi.require_version('Concurry', '1')
        from gi.repository import Concurry
        name = os.fsdecode(b'caf\\xe9.txt')
        pool = Concurry.ThreadPoolExecutor(2)
        def work():
            raise RuntimeError(name)
        f = pool.submit(work)
        print('leaving', flush=True)
    ''')
    assert child.returncode == 0, child.stderr
    assert 'leaving' in child.stdout


# --------------------------------------------------------------------------
# 6. a losing set_exception() must not replace the winning exception
# --------------------------------------------------------------------------

def test_losing_set_exception_keeps_the_winning_exception():
    promise = Concurry.Promise()
    first = ValueError('first')
    promise.set_exception(first)
    with pytest.raises(concurrent.futures.InvalidStateError):
        promise.set_exception(KeyError('second'))
    assert promise.exception() is first
    with pytest.raises(ValueError) as info:
        promise.result()
    assert info.value is first


def test_losing_set_exception_after_a_value_keeps_no_exception():
    promise = Concurry.Promise()
    promise.set_result(1)
    with pytest.raises(concurrent.futures.InvalidStateError):
        promise.set_exception(KeyError('second'))
    assert promise.exception() is None
    assert '_concurry_exception' not in promise.__dict__


# --------------------------------------------------------------------------
# 2. map() and shutdown()
# --------------------------------------------------------------------------

def test_map_started_before_shutdown_gives_all_results_after_the_with_block():
    with Concurry.ThreadPoolExecutor(4) as executor:
        results = executor.map(str, range(1000))
    assert list(results) == [str(i) for i in range(1000)]
    assert executor.is_shutdown()
    with pytest.raises(RuntimeError, match='after shutdown'):
        executor.map(str, [1])


def test_map_submits_without_iteration_and_shutdown_waits_for_it(pools):
    executor = pools(2)
    finished = []

    def record(n):
        time.sleep(0.001)
        finished.append(n)

    executor.map(record, range(10))
    executor.shutdown(wait=True)
    assert sorted(finished) == list(range(10))


def test_map_started_before_shutdown_with_unwrapped_inputs(pools):
    executor = pools(2)
    source = Concurry.Promise()
    results = executor.map(lambda x: x * 2, [1, source, 3] + list(range(200)))
    executor.shutdown(wait=False)
    source.set_result(10)
    assert list(results)[:3] == [2, 20, 6]


# --------------------------------------------------------------------------
# 10. map(): StopIteration raised by the function
# --------------------------------------------------------------------------

def test_map_function_raising_stopiteration_is_a_runtime_error(pools):
    executor = pools(2)

    def work(x):
        if x == 2:
            raise StopIteration
        return x

    results = executor.map(work, range(5))
    assert next(results) == 0
    assert next(results) == 1
    with pytest.raises(RuntimeError, match='StopIteration'):
        next(results)


# --------------------------------------------------------------------------
# 3. Ctrl-C during a blocking call; KeyboardInterrupt/SystemExit in callbacks
# --------------------------------------------------------------------------

SIGINT_CHILD = '''
    import os, signal, sys, threading, time, gi
    gi.require_version('Concurry', '1')
    from gi.repository import Concurry
    pool = Concurry.ThreadPoolExecutor(2)
    which = sys.argv[1] if len(sys.argv) > 1 else %r
    calls = {
        'result': lambda: pool.submit(time.sleep, 3).result(),
        'timeout': lambda: pool.submit(time.sleep, 3).result(timeout=10),
        'wait': lambda: Concurry.wait([pool.submit(time.sleep, 3)]),
        'gather': lambda: Concurry.gather([pool.submit(time.sleep, 3)]),
        'as_completed': lambda: list(Concurry.as_completed([pool.submit(time.sleep, 3)])),
        'shutdown': lambda: pool.submit(time.sleep, 3) and pool.shutdown(),
        'callback': lambda: (pool.submit(int).add_done_callback(lambda f: time.sleep(2)),
                             pool.submit(time.sleep, 3).result()),
    }
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        calls[which]()
        print('returned')
    except BaseException as e:
        print(type(e).__name__)
    os._exit(0)
'''


# wait(), gather() and as_completed() block the same way as result().
@pytest.mark.parametrize('which', ['result', 'timeout', 'gather', 'shutdown', 'callback'])
def test_ctrl_c_during_blocking_call_raises_keyboard_interrupt(which):
    child = run_child(SIGINT_CHILD % which)
    assert child.stdout.strip() == 'KeyboardInterrupt', child.stderr


# --------------------------------------------------------------------------
# 4. chains built where nothing runs the thread-default context
# --------------------------------------------------------------------------

def test_chain_built_on_a_plain_thread_completes_while_main_thread_only_joins(pools):
    executor = pools(2)
    out = []

    def worker():
        try:
            end = executor.submit(pow, 2, 10).map(
                lambda v: (str(v), threading.current_thread().name))
            out.append(end.result(timeout=LONG))
        except BaseException as exc:   # pragma: no cover - the bug
            out.append(type(exc).__name__)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    thread.join(LONG)       # a plain join: the main context is not iterated
    assert out == [('1024', 'concurry-bridge')]


def test_chain_built_in_pool_work_completes_while_main_thread_runs_asyncio(pools):
    import asyncio
    executor = pools(4)

    def job():
        return executor.submit(pow, 3, 3).map(lambda v: v + 1).result(timeout=LONG)

    async def main():
        return await asyncio.wait_for(executor.submit(job), LONG)

    assert asyncio.run(main()) == 28


def test_chain_step_added_on_thread_with_own_context_runs_there():
    context = GLib.MainContext.new()
    seen = []

    def worker():
        context.push_thread_default()
        try:
            upstream = Concurry.Promise()
            end = upstream.map(lambda v: seen.append(threading.current_thread().name) or v)
            upstream.set_result(1)
            assert end.result(LONG) == 1    # iterates this thread's context
        finally:
            context.pop_thread_default()

    join(start_thread(worker, name='own-context'))
    assert seen == ['own-context']


def test_map_iteration_on_main_thread_runs_steps_the_work_waits_for(pools):
    executor = pools(2)
    end = executor.submit(pow, 2, 6).map(str)    # steps on the main context
    results = executor.map(lambda _: end.result(timeout=LONG), range(2))
    assert list(results) == ['64', '64']


# --------------------------------------------------------------------------
# 7. internal wrappers and gather() never leave unobserved errors
# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# 9. a chain does not keep its upstream alive
# --------------------------------------------------------------------------

def test_dropping_the_upstream_of_a_chain_abandons_it_and_the_chain_fails():
    import weakref

    class Payload:
        pass

    upstream = Concurry.Promise()
    payload = Payload()
    upstream_ref = weakref.ref(upstream)
    payload_ref = weakref.ref(payload)
    end = upstream.map(lambda v, payload=payload: v)
    del upstream, payload
    gc.collect()
    assert upstream_ref() is None
    error = end.exception(LONG)
    assert isinstance(error, GLib.Error)
    assert error.matches(Concurry.error_quark(), Concurry.Error.ABANDONED)
    gc.collect()
    assert payload_ref() is None        # the step let go of its function


def test_cancelling_the_end_still_cancels_a_live_upstream():
    upstream = Concurry.Promise()
    end = upstream.map(str).map(len)
    gc.collect()
    assert end.cancel()
    assert upstream.cancelled()


# --------------------------------------------------------------------------
# 5. result() of a done future never runs callbacks
# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# 8. os.fork() with work in flight: the child exits
# --------------------------------------------------------------------------

def test_fork_child_with_work_in_flight_exits():
    child = run_child('''
        import os, sys, time, gi
        gi.require_version('Concurry', '1')
        from gi.repository import Concurry
        pool = Concurry.ThreadPoolExecutor(2)
        f = pool.submit(time.sleep, 0.3)
        time.sleep(0.05)
        pid = os.fork()
        if pid == 0:
            sys.exit(0)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            r, status = os.waitpid(pid, os.WNOHANG)
            if r:
                break
            time.sleep(0.02)
        else:
            os.kill(pid, 9)
            r = 0
        print('child exited' if r else 'child hung')
        pool.shutdown()
    ''')
    assert child.stdout.strip() == 'child exited', child.stderr
