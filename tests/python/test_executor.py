# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the executors through the raw GObject introspection API.

Concurry.ThreadPoolExecutor, Concurry.TaskExecutor and
Concurry.MainContextExecutor, and Concurry.Executor.map() with its
Concurry.MapResults, exactly as PyGObject exposes the C library: a work
function gets the future's Gio.Cancellable (plus any user data) and returns
its value, or raises GLib.Error to fail the future.

Synchronisation is done with threading.Event/Barrier and bounded waits,
never with sleeps. Work that blocks always waits with a timeout, and every
test releases what it blocked, so a bug shows up as a failure rather than
a hang.

The test environment sets G_DEBUG=fatal-warnings: every failed future made
here has its error looked at (get_error() or a wait) before it is dropped.
"""

import collections
import gc
import threading
import time

import pytest

import gi

gi.require_version('Concurry', '1')
gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
from gi.repository import Concurry, Gio, GLib, GObject  # noqa: E402

import concurry_testutil  # noqa: E402
from concurry_testutil import (  # noqa: E402
    IO_ERROR, LONG, SECOND, assert_error, drain, join, main_context, on_main_thread, run_until,
    shutdown_bounded, start_thread)

State = Concurry.FutureState
CONCURRY_ERROR = Concurry.error_quark()


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def poll_until(cond, timeout=5.0):
    """Wait, without a main loop, until cond() holds (checked every ms)."""
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while not cond():
        if time.monotonic() >= deadline:
            return bool(cond())
        tick.wait(0.001)
    return True


def wait_error(future, timeout_usec=5 * SECOND):
    """future.wait() that must fail (waiting 5 s unless told); returns the
    GLib.Error it raised."""
    return concurry_testutil.wait_error(future, timeout_usec)


def wait_value(future, timeout_usec=5 * SECOND):
    assert future.wait(timeout_usec) is True
    assert future.get_state() == State.DONE
    return future.get_value()


def io_error(code, message):
    return GLib.Error.new_literal(IO_ERROR, message, code)


def counting_input(n, log=None):
    """An input function producing 0 … n-1. Each call is recorded in @log
    as the name of the calling thread."""
    items = iter(range(n))

    def input_func(*user_data):
        if log is not None:
            log.append(threading.current_thread().name)
        try:
            return True, next(items)
        except StopIteration:
            return False, None
    return input_func


def collect(results, limit=100000):
    """Reads @results to the end; returns the list of values."""
    out = []
    for _ in range(limit):
        ok, value = results.next()
        if not ok:
            assert value is None
            return out
        out.append(value)
    raise AssertionError('map results did not end')


class Blocker:
    """Work that occupies one worker until released."""

    def __init__(self, executor, releases):
        self.started = threading.Event()
        self.release = threading.Event()
        releases.append(self.release)
        self.seen_cancelled = None

        def work(cancellable, *user_data):
            self.started.set()
            released = self.release.wait(LONG)
            self.seen_cancelled = cancellable.is_cancelled()
            return 'blocker' if released else 'blocker timed out'

        self.future = executor.submit(work)
        assert self.started.wait(5), 'the blocking work did not start'

    def finish(self):
        self.release.set()
        assert wait_value(self.future) == 'blocker'


@pytest.fixture
def pools(raw_pools):
    """Here: executors made by the C constructor (conftest.py's raw_pools)."""
    return raw_pools


def _new_thread_pool():
    return Concurry.ThreadPoolExecutor.new(2)


def _new_task_executor():
    return Concurry.TaskExecutor.new()


WORKER_EXECUTORS = {
    'thread-pool': _new_thread_pool,
    'task': _new_task_executor,
}


@pytest.fixture(params=sorted(WORKER_EXECUTORS))
def executor(request, releases):
    """Each executor that runs work on worker threads."""
    ex = WORKER_EXECUTORS[request.param]()
    yield ex
    for event in releases:
        event.set()
    shutdown_bounded(ex)


# --------------------------------------------------------------------------
# construction and properties
# --------------------------------------------------------------------------

def test_executors_implement_the_interface():
    pool = Concurry.ThreadPoolExecutor.new(1)
    task = Concurry.TaskExecutor.new()
    loop = Concurry.MainContextExecutor.new(None)
    for ex in (pool, task, loop):
        assert isinstance(ex, Concurry.Executor)
        assert not ex.is_shutdown()
        assert ex.shutdown(True, False) is True
        assert ex.is_shutdown()


def test_max_workers():
    pool = Concurry.ThreadPoolExecutor.new(3)
    assert pool.get_max_workers() == 3
    assert pool.props.max_workers == 3

    default = Concurry.ThreadPoolExecutor.new(0)
    assert default.get_max_workers() == GLib.get_num_processors()
    assert default.props.max_workers == GLib.get_num_processors()

    assert Concurry.TaskExecutor.new().get_max_workers() >= 1
    assert Concurry.MainContextExecutor.new(None).get_max_workers() == 1
    for ex in (pool, default):
        ex.shutdown(True, False)


def test_main_context_executor_context():
    ex = Concurry.MainContextExecutor.new(None)
    assert ex.get_context() == main_context()
    assert ex.props.context == main_context()

    context = GLib.MainContext.new()
    own = Concurry.MainContextExecutor.new(context)
    assert own.get_context() == context
    assert own.get_context() != main_context()


# --------------------------------------------------------------------------
# submit: values, errors, threads
# --------------------------------------------------------------------------

def test_submit_runs_work_on_a_worker_thread(executor):
    seen = {}

    def work(cancellable, *user_data):
        seen['thread'] = threading.current_thread()
        seen['cancellable'] = cancellable
        seen['user_data'] = user_data
        return 6 * 7

    future = executor.submit(work)
    assert isinstance(future, Concurry.Future)
    assert wait_value(future) == 42
    assert future.get_int() == 42
    assert future.get_value_type() == GObject.TYPE_INT
    assert future.get_error() is None
    assert seen['thread'] is not threading.main_thread()
    assert isinstance(seen['cancellable'], Gio.Cancellable)
    assert not seen['cancellable'].is_cancelled()
    assert seen['user_data'] == ()


def test_submit_passes_user_data(executor):
    future = executor.submit(lambda cancellable, *user_data: repr(user_data), 'extra')
    assert wait_value(future) == repr(('extra',))


def test_values_of_several_types(executor):
    action = Gio.SimpleAction.new('concurry-test', None)
    payload = {'key': [1, 2, 3]}
    big = GObject.Value(GObject.TYPE_INT64, 2 ** 40)
    cases = [
        (lambda c: 'text', 'text', GObject.TYPE_STRING),
        (lambda c: 1.5, 1.5, GObject.TYPE_DOUBLE),
        (lambda c: True, True, GObject.TYPE_BOOLEAN),
        (lambda c: -7, -7, GObject.TYPE_INT),
        (lambda c: big, 2 ** 40, GObject.TYPE_INT64),
    ]
    for work, expected, gtype in cases:
        future = executor.submit(work)
        assert wait_value(future) == expected
        assert future.get_value_type() == gtype

    obj = executor.submit(lambda c: action)
    assert wait_value(obj) is action
    assert obj.get_object() is action

    py = executor.submit(lambda c: payload)
    assert wait_value(py) is payload

    nothing = executor.submit(lambda c: None)
    assert nothing.wait(5 * SECOND) is True
    assert nothing.get_state() == State.DONE
    assert nothing.get_value() is None
    assert nothing.get_value_type() == GObject.TYPE_INVALID


def test_glib_error_fails_the_future(executor):
    def work(cancellable):
        raise io_error(Gio.IOErrorEnum.NOT_FOUND, 'no such thing')

    future = executor.submit(work)
    error = wait_error(future)
    assert_error(error, IO_ERROR, Gio.IOErrorEnum.NOT_FOUND, 'no such thing')
    assert future.get_state() == State.FAILED
    assert future.is_failed()
    assert future.get_value() is None
    assert_error(future.get_error(), IO_ERROR, Gio.IOErrorEnum.NOT_FOUND, 'no such thing')


def test_error_of_another_domain_is_kept(executor):
    def work(cancellable):
        raise GLib.Error.new_literal(GLib.file_error_quark(), 'nope',
                                     GLib.FileError.ACCES)

    future = executor.submit(work)
    assert_error(wait_error(future), GLib.file_error_quark(), GLib.FileError.ACCES, 'nope')


def test_cancelled_error_from_work_makes_the_future_cancelled(executor):
    def work(cancellable):
        raise io_error(Gio.IOErrorEnum.CANCELLED, 'gave up')

    future = executor.submit(work)
    assert_error(wait_error(future), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert future.get_state() == State.CANCELLED
    assert future.is_cancelled()
    assert not future.is_failed()


def test_worker_survives_a_failure(pools):
    pool = pools(1)

    def bad(cancellable):
        raise io_error(Gio.IOErrorEnum.FAILED, 'first')

    failed = pool.submit(bad)
    after = [pool.submit(lambda c, i=i: i) for i in range(3)]
    assert_error(wait_error(failed), IO_ERROR, Gio.IOErrorEnum.FAILED, 'first')
    assert [wait_value(f) for f in after] == [0, 1, 2]


def test_results_of_many_items(executor):
    futures = [executor.submit(lambda c, i=i: i * i) for i in range(200)]
    assert [wait_value(f) for f in futures] == [i * i for i in range(200)]


def test_dropped_futures_release_their_results_by_shutdown(pools):
    # Futures dropped at once are only held by the executor: whether it
    # finalizes or reuses them, their results are freed once shutdown has
    # waited, and reused futures are indistinguishable from new ones.
    import weakref

    class Result:
        pass

    pool = pools(2)
    refs = []

    def work(cancellable, i):
        result = Result()
        result.i = i
        refs.append(weakref.ref(result))
        return result

    for i in range(200):
        pool.submit(work, i)
    kept = [pool.submit(lambda c, i=i: 'kept %d' % i) for i in range(200)]
    assert [wait_value(f) for f in kept] == ['kept %d' % i for i in range(200)]
    assert len({f.get_id() for f in kept}) == 200

    pool.shutdown(True, False)
    gc.collect()
    assert len(refs) == 200
    assert [r() for r in refs] == [None] * 200


def test_waiting_on_a_plain_thread_needs_no_main_loop(executor):
    # Nobody iterates the main context while the other thread waits: the
    # futures are completed by the workers themselves.
    futures = [executor.submit(lambda c, i=i: i + 1) for i in range(20)]
    out = []

    def waiter():
        for f in futures:
            f.wait(5 * SECOND)
            out.append(f.get_value())

    join(start_thread(waiter, name='waiter'))
    assert out == list(range(1, 21))


def test_each_thread_pool_has_its_own_workers(pools, releases):
    busy = pools(1)
    other = pools(1)
    blocker = Blocker(busy, releases)
    # The other pool is not starved by the blocked one.
    assert wait_value(other.submit(lambda c: 'free')) == 'free'
    assert blocker.future.get_state() == State.RUNNING
    blocker.finish()


def test_wait_async_on_executor_future(executor):
    release = threading.Event()
    future = executor.submit(lambda c: 'late' if release.wait(LONG) else 'timed out')
    loop = GLib.MainLoop.new(None, False)
    outcome = []

    def finished(source, result, *user_data):
        try:
            outcome.append(('ok', source.wait_finish(result), source.get_value()))
        except GLib.Error as e:
            outcome.append(('error', e))
        loop.quit()

    future.wait_async(None, finished)
    release.set()
    guard = GLib.timeout_add(5000, loop.quit)
    loop.run()
    assert outcome == [('ok', True, 'late')]
    GLib.source_remove(guard)


def test_wait_async_on_failed_executor_future(executor):
    def work(cancellable):
        raise io_error(Gio.IOErrorEnum.PERMISSION_DENIED, 'denied')

    future = executor.submit(work)
    outcome = []

    def finished(source, result, *user_data):
        try:
            source.wait_finish(result)
            outcome.append('resolved')
        except GLib.Error as e:
            outcome.append(e)

    future.wait_async(None, finished)
    assert run_until(lambda: outcome)
    assert_error(outcome[0], IO_ERROR, Gio.IOErrorEnum.PERMISSION_DENIED, 'denied')


def test_done_callbacks_of_executor_futures_run_on_the_main_thread(executor):
    release = threading.Event()
    future = executor.submit(lambda c: 'value' if release.wait(LONG) else None)
    calls = []

    def callback(f, *user_data):
        calls.append((f, on_main_thread(), f.get_value(), user_data))

    future.add_done_callback_full(None, callback, 'data')
    release.set()
    assert future.wait(5 * SECOND)
    assert run_until(lambda: calls)
    drain()
    assert calls == [(future, True, 'value', ('data',))]


# --------------------------------------------------------------------------
# states, cancellation
# --------------------------------------------------------------------------

def test_running_and_queued_states(pools, releases):
    pool = pools(1)
    blocker = Blocker(pool, releases)
    queued = pool.submit(lambda c: 'queued')

    assert blocker.future.get_state() == State.RUNNING
    assert blocker.future.is_running()
    assert not blocker.future.is_done()
    assert queued.get_state() == State.PENDING
    assert not queued.is_running()

    # A timed-out wait does not change either future.
    assert_error(wait_error(queued, 20_000), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert queued.get_state() == State.PENDING
    assert blocker.future.get_state() == State.RUNNING

    blocker.finish()
    assert wait_value(queued) == 'queued'


def test_cancel_queued_work_never_runs(pools, releases):
    pool = pools(1)
    blocker = Blocker(pool, releases)
    ran = []
    futures = [pool.submit(lambda c, i=i: ran.append(i) or i) for i in range(3)]

    assert futures[1].interrupt() is True
    assert futures[1].get_state() == State.CANCELLED
    assert futures[1].interrupt() is True   # idempotent
    blocker.finish()

    assert wait_value(futures[0]) == 0
    assert wait_value(futures[2]) == 2
    assert_error(wait_error(futures[1]), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert futures[1].get_state() == State.CANCELLED
    assert futures[1].get_value() is None
    shutdown_bounded(pool)
    assert ran == [0, 2]


def test_cancel_running_work_trips_its_cancellable(executor):
    started = threading.Event()
    tripped = threading.Event()
    seen = {}

    def work(cancellable):
        handler = cancellable.connect(lambda *args: tripped.set())
        started.set()
        if cancellable.is_cancelled():
            tripped.set()
        seen['tripped'] = tripped.wait(LONG)
        seen['on_main'] = on_main_thread()
        cancellable.disconnect(handler)
        return 'finished anyway'

    future = executor.submit(work)
    assert started.wait(5)
    assert future.is_running()
    assert future.interrupt() is True
    assert future.get_state() == State.CANCELLED
    assert_error(wait_error(future), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    # The work saw the cancellation and finished; its value is not taken.
    assert poll_until(lambda: 'tripped' in seen)
    assert seen == {'tripped': True, 'on_main': False}
    assert future.get_state() == State.CANCELLED
    assert future.get_value() is None


def test_cancel_finished_future_returns_false(executor):
    future = executor.submit(lambda c: 1)
    assert wait_value(future) == 1
    assert future.interrupt() is False
    assert future.get_state() == State.DONE
    assert future.get_int() == 1


def test_thread_pool_runs_at_most_max_workers_at_once(pools):
    pool = pools(2)
    lock = threading.Lock()
    running = [0]
    peak = [0]
    both = threading.Barrier(2, timeout=LONG)

    def work(cancellable, i):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            if i < 2:
                # The first two must run at the same time.
                both.wait()
            else:
                threading.Event().wait(0.002)
        finally:
            with lock:
                running[0] -= 1
        return i

    futures = [pool.submit(work, i) for i in range(8)]
    assert [wait_value(f) for f in futures] == list(range(8))
    assert peak[0] == 2


# --------------------------------------------------------------------------
# shutdown
# --------------------------------------------------------------------------

def test_submit_after_shutdown_fails(executor):
    assert executor.shutdown(False, False) is True
    assert executor.is_shutdown()
    with pytest.raises(GLib.Error) as info:
        executor.submit(lambda c: 1)
    assert_error(info.value, CONCURRY_ERROR, Concurry.Error.SHUT_DOWN)
    # Shutting down again is harmless, in every combination.
    assert executor.shutdown(False, False) is True
    assert executor.shutdown(True, True) is True
    assert executor.shutdown(True, False) is True
    assert executor.is_shutdown()


def test_shutdown_wait_returns_when_all_work_finished(executor, releases):
    release = threading.Event()
    releases.append(release)
    finished = []

    def work(cancellable, i):
        released = release.wait(LONG)
        finished.append(i)
        return released

    futures = [executor.submit(work, i) for i in range(6)]

    # Release the work only once the main thread is inside shutdown().
    def releaser():
        poll_until(executor.is_shutdown)
        release.set()

    thread = start_thread(releaser, name='releaser')
    assert executor.shutdown(True, False) is True
    # Everything submitted is done by the time shutdown() returns.
    assert sorted(finished) == list(range(6))
    assert all(f.get_state() == State.DONE for f in futures)
    assert [f.get_value() for f in futures] == [True] * 6
    join(thread)


def test_shutdown_without_wait_returns_at_once_and_queued_work_completes(pools, releases):
    pool = pools(1)
    blocker = Blocker(pool, releases)
    queued = [pool.submit(lambda c, i=i: i) for i in range(3)]

    outcome = []
    thread = start_thread(lambda: outcome.append(pool.shutdown(False, False)))
    join(thread, 5)   # returned while the worker is still blocked
    assert outcome == [True]
    assert pool.is_shutdown()
    assert all(f.get_state() == State.PENDING for f in queued)

    blocker.finish()
    assert [wait_value(f) for f in queued] == [0, 1, 2]
    assert blocker.seen_cancelled is False


def test_shutdown_cancel_futures_cancels_only_what_has_not_started(pools, releases):
    pool = pools(1)
    blocker = Blocker(pool, releases)
    ran = []
    queued = [pool.submit(lambda c, i=i: ran.append(i) or i) for i in range(4)]

    assert pool.shutdown(False, True) is True
    for f in queued:
        assert f.get_state() == State.CANCELLED
        assert f.is_cancelled()
    assert blocker.future.get_state() == State.RUNNING

    blocker.finish()
    # The running work was not interrupted: its cancellable never tripped.
    assert blocker.seen_cancelled is False
    shutdown_bounded(pool)
    assert ran == []
    for f in queued:
        assert_error(wait_error(f, 0), IO_ERROR, Gio.IOErrorEnum.CANCELLED)


def test_shutdown_cancel_futures_with_wait(pools, releases):
    pool = pools(1)
    blocker = Blocker(pool, releases)
    ran = []
    queued = [pool.submit(lambda c, i=i: ran.append(i) or i) for i in range(3)]

    def releaser():
        poll_until(pool.is_shutdown)
        blocker.release.set()

    thread = start_thread(releaser, name='releaser')
    assert pool.shutdown(True, True) is True
    join(thread)
    assert blocker.future.get_state() == State.DONE
    assert blocker.future.get_value() == 'blocker'
    assert all(f.get_state() == State.CANCELLED for f in queued)
    assert ran == []


def test_cancel_then_shutdown_wait_does_not_hang(executor):
    futures = [executor.submit(lambda c, i=i: i) for i in range(20)]
    for f in futures[::2]:
        f.interrupt()
    shutdown_bounded(executor)
    for i, f in enumerate(futures):
        assert f.get_state() in (State.DONE, State.CANCELLED)
        if i % 2:
            assert f.get_value() == i


def test_shutdown_wait_from_own_work_raises_wrong_thread(executor):
    def work(cancellable):
        try:
            executor.shutdown(True, False)
        except GLib.Error as e:
            return f'{e.domain}:{e.code}'
        return 'no error'

    future = executor.submit(work)
    # No deadlock: the work finishes.
    value = wait_value(future)
    assert value == f'{GLib.quark_to_string(CONCURRY_ERROR)}:{int(Concurry.Error.WRONG_THREAD)}'
    # The executor is shut down anyway.
    assert executor.is_shutdown()
    with pytest.raises(GLib.Error) as info:
        executor.submit(lambda c: 1)
    assert_error(info.value, CONCURRY_ERROR, Concurry.Error.SHUT_DOWN)


def test_shutdown_without_wait_from_own_work_is_fine(executor):
    future = executor.submit(lambda c: executor.shutdown(False, False))
    assert wait_value(future) is True
    assert executor.is_shutdown()


def test_dropping_the_executor_still_completes_queued_work(releases):
    pool = Concurry.ThreadPoolExecutor.new(1)
    blocker = Blocker(pool, releases)
    ran = []
    futures = [pool.submit(lambda c, i=i: ran.append(i) or i) for i in range(5)]
    finalized = threading.Event()
    watch = pool.weak_ref(finalized.set)
    del pool
    gc.collect()
    # The queued work keeps the executor alive.
    assert not finalized.is_set()

    blocker.finish()
    assert [wait_value(f) for f in futures] == list(range(5))
    assert ran == list(range(5))
    # Once its work is done, nothing keeps the executor alive.
    assert finalized.wait(5)
    del watch


def test_dropping_a_task_executor_still_completes_its_work():
    ex = Concurry.TaskExecutor.new()
    release = threading.Event()
    futures = [ex.submit(lambda c, i=i: i if release.wait(LONG) else -1) for i in range(3)]
    del ex
    gc.collect()
    release.set()
    assert [wait_value(f) for f in futures] == [0, 1, 2]


def test_many_threads_submitting_concurrently(executor):
    n_threads, per_thread = 4, 500
    ran = collections.Counter()
    lock = threading.Lock()
    futures = {}
    callbacks = collections.Counter()
    callback_threads = set()
    start = threading.Barrier(n_threads, timeout=LONG)

    def work(cancellable, key):
        with lock:
            ran[key] += 1
        return key

    def on_done(future, key):
        callbacks[key] += 1
        callback_threads.add(threading.current_thread())

    def submitter(t):
        start.wait()
        for i in range(per_thread):
            key = f'{t}-{i}'
            future = executor.submit(work, key)
            future.add_done_callback_full(None, on_done, key)
            futures[key] = future

    threads = [start_thread(submitter, t, name=f'submitter-{t}') for t in range(n_threads)]
    for thread in threads:
        join(thread, 30)

    keys = [f'{t}-{i}' for t in range(n_threads) for i in range(per_thread)]
    assert sorted(futures) == sorted(keys)
    for key in keys:
        assert futures[key].wait(10 * SECOND)
        assert futures[key].get_value() == key
    assert ran == collections.Counter(keys)
    assert all(count == 1 for count in ran.values())

    # The submitting threads had no main context of their own: callbacks
    # run on the main thread, each exactly once.
    assert run_until(lambda: len(callbacks) == len(keys), timeout=20)
    drain()
    assert callbacks == collections.Counter(keys)
    assert callback_threads == {threading.main_thread()}


# --------------------------------------------------------------------------
# the main-context executor
# --------------------------------------------------------------------------

def test_main_context_executor_runs_work_in_order_when_context_iterates():
    ex = Concurry.MainContextExecutor.new(None)
    log = []
    futures = [ex.submit(lambda c, i=i: log.append((i, on_main_thread())) or i * 10)
               for i in range(10)]

    # Nothing runs inside submit(), nor before the context is iterated.
    assert log == []
    assert all(f.get_state() == State.PENDING for f in futures)

    assert run_until(lambda: all(f.is_done() for f in futures))
    assert log == [(i, True) for i in range(10)]
    assert [f.get_value() for f in futures] == [i * 10 for i in range(10)]
    assert ex.shutdown(True, False)


def test_main_context_executor_work_submitted_from_threads_runs_on_main():
    ex = Concurry.MainContextExecutor.new(None)
    threads_seen = []
    futures = []

    def submitter():
        for i in range(20):
            futures.append(ex.submit(
                lambda c, i=i: threads_seen.append(threading.current_thread()) or i))

    join(start_thread(submitter, name='submitter'))
    assert run_until(lambda: len(futures) == 20 and all(f.is_done() for f in futures))
    assert [f.get_value() for f in futures] == list(range(20))
    assert set(threads_seen) == {threading.main_thread()}
    assert ex.shutdown(True, False)


def test_main_context_executor_blocking_wait_on_main_thread_runs_the_work():
    ex = Concurry.MainContextExecutor.new(None)
    future = ex.submit(lambda c: on_main_thread())
    # The wait iterates the main context, which runs the work.
    assert future.wait(5 * SECOND) is True
    assert future.get_value() is True


def test_main_context_executor_shutdown_wait_iterates_until_done():
    ex = Concurry.MainContextExecutor.new(None)
    log = []
    futures = [ex.submit(lambda c, i=i: log.append(i) or i) for i in range(5)]
    assert log == []
    assert ex.shutdown(True, False) is True
    assert log == list(range(5))
    assert all(f.get_state() == State.DONE for f in futures)
    with pytest.raises(GLib.Error) as info:
        ex.submit(lambda c: 1)
    assert_error(info.value, CONCURRY_ERROR, Concurry.Error.SHUT_DOWN)


def test_main_context_executor_shutdown_without_wait_keeps_queued_work():
    ex = Concurry.MainContextExecutor.new(None)
    log = []
    futures = [ex.submit(lambda c, i=i: log.append(i) or i) for i in range(3)]
    assert ex.shutdown(False, False) is True
    assert log == []
    assert run_until(lambda: all(f.is_done() for f in futures))
    assert log == [0, 1, 2]


def test_main_context_executor_cancel_before_it_runs():
    ex = Concurry.MainContextExecutor.new(None)
    log = []
    futures = [ex.submit(lambda c, i=i: log.append(i) or i) for i in range(3)]
    assert futures[1].interrupt() is True
    assert run_until(lambda: futures[0].is_done() and futures[2].is_done())
    drain()
    assert log == [0, 2]
    assert futures[1].get_state() == State.CANCELLED
    assert_error(wait_error(futures[1], 0), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert ex.shutdown(True, False)


def test_main_context_executor_shutdown_cancel_futures():
    ex = Concurry.MainContextExecutor.new(None)
    log = []
    futures = [ex.submit(lambda c, i=i: log.append(i) or i) for i in range(3)]
    assert ex.shutdown(True, True) is True
    drain()
    assert log == []
    assert all(f.get_state() == State.CANCELLED for f in futures)


def test_main_context_executor_cancel_futures_from_running_work():
    ex = Concurry.MainContextExecutor.new(None)
    log = []

    def first(cancellable):
        log.append('first')
        ex.shutdown(False, True)
        # Shutdown does not interrupt the work that runs.
        return cancellable.is_cancelled()

    head = ex.submit(first)
    rest = [ex.submit(lambda c, i=i: log.append(i)) for i in range(3)]
    assert run_until(head.is_done)
    drain()
    assert head.get_state() == State.DONE
    assert head.get_value() is False
    assert log == ['first']
    assert all(f.get_state() == State.CANCELLED for f in rest)


def test_main_context_executor_shutdown_wait_from_own_work_raises_wrong_thread():
    ex = Concurry.MainContextExecutor.new(None)
    later = []

    def work(cancellable):
        try:
            ex.shutdown(True, False)
        except GLib.Error as e:
            assert_error(e, CONCURRY_ERROR, Concurry.Error.WRONG_THREAD)
            return 'refused'
        return 'no error'

    future = ex.submit(work)
    queued = ex.submit(lambda c: later.append(1) or 'later')
    assert wait_value(future) == 'refused'
    assert ex.is_shutdown()
    # Work submitted before the shutdown still runs.
    assert wait_value(queued) == 'later'
    assert later == [1]


def test_main_context_executor_on_a_context_of_another_thread():
    context = GLib.MainContext.new()
    loop = GLib.MainLoop.new(context, False)
    loop_thread = {}

    def run():
        loop_thread['thread'] = threading.current_thread()
        context.push_thread_default()
        try:
            loop.run()
        finally:
            context.pop_thread_default()

    thread = start_thread(run, name='loop')
    ex = Concurry.MainContextExecutor.new(context)
    release = threading.Event()
    seen = []

    def work(cancellable, i):
        seen.append((i, threading.current_thread()))
        if i == 0:
            release.wait(LONG)
        return i

    futures = [ex.submit(work, i) for i in range(4)]
    # The main thread cannot run this context (its loop owns it):
    # shutdown(wait=True) waits for the loop thread to do the work.
    assert poll_until(lambda: len(seen) >= 1)
    shutdown_done = []
    waiter = start_thread(lambda: shutdown_done.append(ex.shutdown(True, False)))
    assert poll_until(ex.is_shutdown)
    assert shutdown_done == []
    release.set()
    join(waiter)
    assert shutdown_done == [True]
    assert [f.get_value() for f in futures] == [0, 1, 2, 3]
    assert [i for i, _ in seen] == [0, 1, 2, 3]
    assert {t for _, t in seen} == {loop_thread['thread']}

    loop.quit()
    join(thread)


# --------------------------------------------------------------------------
# map
# --------------------------------------------------------------------------

def test_map_gives_results_in_input_order_whatever_the_completion_order(pools):
    pool = pools(4)
    done_3 = threading.Event()
    completion = []

    def fn(item, cancellable, *user_data):
        if item == 0:
            # Finishes after item 3 did.
            assert done_3.wait(LONG)
        if item == 3:
            done_3.set()
        completion.append(item)
        return item * 10

    results = pool.map(fn, None, counting_input(8), None, -1, 1, 0)
    assert collect(results) == [i * 10 for i in range(8)]
    assert completion.index(3) < completion.index(0)


@pytest.mark.parametrize('chunksize', [1, 2, 3, 7, 20])
def test_map_chunksize_gives_the_same_results(executor, chunksize):
    results = executor.map(lambda item, c, *ud: item * item, None,
                           counting_input(20), None, -1, chunksize, 0)
    assert collect(results) == [i * i for i in range(20)]


def test_map_of_empty_input(executor):
    calls = []
    results = executor.map(lambda item, c, *ud: calls.append(item), None,
                           counting_input(0), None, -1, 1, 0)
    assert results.next() == (False, None)
    assert results.next() == (False, None)
    assert calls == []


def test_map_functions_get_cancellable_and_user_data(executor):
    seen = []
    input_data = []
    items = iter(range(3))

    def fn(item, cancellable, *user_data):
        seen.append((item, isinstance(cancellable, Gio.Cancellable), user_data,
                     on_main_thread()))
        return item

    def input_func(*user_data):
        input_data.append(user_data)
        try:
            return True, next(items)
        except StopIteration:
            return False, None

    results = executor.map(fn, 'fn-data', input_func, 'input-data', -1, 1, 0)
    assert collect(results) == [0, 1, 2]
    assert sorted(seen) == [(i, True, ('fn-data',), False) for i in range(3)]
    assert set(input_data) == {('input-data',)}


def test_map_input_runs_only_on_the_calling_thread(pools):
    pool = pools(4)
    log = []
    results = pool.map(lambda item, c, *ud: item, None, counting_input(50, log), None,
                       -1, 2, 2)
    assert collect(results) == list(range(50))
    assert set(log) == {threading.current_thread().name}

    # Also from a thread that is not the main one.
    log2 = []
    out = []

    def consumer():
        r = pool.map(lambda item, c, *ud: item + 1, None, counting_input(10, log2), None,
                     -1, 1, 0)
        out.extend(collect(r))

    join(start_thread(consumer, name='consumer'))
    assert out == list(range(1, 11))
    assert set(log2) == {'consumer'}


def test_map_backpressure_bounds_the_inputs_read_ahead(pools, releases):
    pool = pools(1)
    release = threading.Event()
    releases.append(release)
    max_in_flight = 3
    reads = [0]
    next_calls = [0]
    overshoot = []

    def input_func(*user_data):
        if reads[0] == 40:
            return False, None
        reads[0] += 1
        # Never more than max_in_flight items ahead of the calls to next().
        if reads[0] - next_calls[0] > max_in_flight:
            overshoot.append((reads[0], next_calls[0]))
        return True, reads[0] - 1

    results = pool.map(lambda item, c, *ud: item if release.wait(LONG) else None, None,
                       input_func, None, -1, 1, max_in_flight)
    # map() submitted exactly max_in_flight items and read no more, even
    # while the (blocked) worker cannot make progress.
    assert reads[0] == max_in_flight
    drain()
    assert reads[0] == max_in_flight

    release.set()
    out = []
    while True:
        next_calls[0] += 1
        ok, value = results.next()
        if not ok:
            break
        out.append(value)
        assert reads[0] == min(40, len(out) + max_in_flight)
    assert out == list(range(40))
    assert overshoot == []


def test_map_backpressure_in_chunks(pools, releases):
    pool = pools(1)
    release = threading.Event()
    releases.append(release)
    chunksize, max_in_flight, total = 3, 2, 30
    reads = [0]
    bound_violations = []
    next_calls = [0]

    def input_func(*user_data):
        if reads[0] == total:
            return False, None
        reads[0] += 1
        # max_in_flight chunks beyond the chunk being read by next().
        chunks_started = -(-next_calls[0] // chunksize)
        if reads[0] > (chunks_started + max_in_flight) * chunksize:
            bound_violations.append((reads[0], next_calls[0]))
        return True, reads[0] - 1

    results = pool.map(lambda item, c, *ud: item if release.wait(LONG) else None, None,
                       input_func, None, -1, chunksize, max_in_flight)
    assert reads[0] == max_in_flight * chunksize
    release.set()
    out = []
    while True:
        next_calls[0] += 1
        ok, value = results.next()
        if not ok:
            break
        out.append(value)
    assert out == list(range(total))
    assert bound_violations == []


def test_map_default_max_in_flight_is_twice_the_workers(pools, releases):
    pool = pools(2)
    release = threading.Event()
    releases.append(release)
    reads = []
    results = pool.map(lambda item, c, *ud: item if release.wait(LONG) else None, None,
                       counting_input(100, reads), None, -1, 1, 0)
    assert len(reads) == 2 * 2
    release.set()
    assert collect(results) == list(range(100))


def test_map_failure_is_raised_at_its_position_then_exhausted(executor):
    def fn(item, cancellable, *user_data):
        if item == 5:
            raise io_error(Gio.IOErrorEnum.INVALID_DATA, 'bad item 5')
        return item

    results = executor.map(fn, None, counting_input(20), None, -1, 2, 0)
    got = []
    with pytest.raises(GLib.Error) as info:
        for _ in range(100):
            ok, value = results.next()
            assert ok
            got.append(value)
    assert got == [0, 1, 2, 3, 4]
    assert_error(info.value, IO_ERROR, Gio.IOErrorEnum.INVALID_DATA, 'bad item 5')
    assert results.next() == (False, None)
    assert results.next() == (False, None)


def test_map_failure_cancels_the_rest(pools, releases):
    pool = pools(1)
    hold = threading.Event()
    releases.append(hold)
    ran = []
    item_1_saw_cancel = []

    def fn(item, cancellable, *user_data):
        ran.append(item)
        if item == 0:
            raise io_error(Gio.IOErrorEnum.FAILED, 'first item')
        if item == 1:
            # Keeps the single worker busy until next() saw the failure.
            hold.wait(LONG)
            item_1_saw_cancel.append(cancellable.is_cancelled())
        return item

    results = pool.map(fn, None, counting_input(10), None, -1, 1, 4)
    with pytest.raises(GLib.Error) as info:
        results.next()
    assert_error(info.value, IO_ERROR, Gio.IOErrorEnum.FAILED, 'first item')
    hold.set()
    shutdown_bounded(pool)
    # Item 1 may have started before the failure was seen (then its
    # cancellable was tripped); nothing queued behind it ever started.
    assert ran in ([0], [0, 1])
    if ran == [0, 1]:
        assert item_1_saw_cancel == [True]
    assert results.next() == (False, None)


def test_map_timeout_raises_timed_out_then_exhausted(pools, releases):
    pool = pools(1)
    release = threading.Event()
    releases.append(release)

    def fn(item, cancellable, *user_data):
        if item == 1:
            release.wait(LONG)
        return item

    start = time.monotonic()
    results = pool.map(fn, None, counting_input(5), None, 200_000, 1, 0)
    assert results.next() == (True, 0)
    with pytest.raises(GLib.Error) as info:
        results.next()
    elapsed = time.monotonic() - start
    assert_error(info.value, IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert 0.19 <= elapsed < 3.0
    assert results.next() == (False, None)
    release.set()


def test_map_timeout_counts_from_the_map_call(pools, releases):
    pool = pools(1)
    release = threading.Event()
    releases.append(release)
    results = pool.map(lambda item, c, *ud: item if release.wait(LONG) else None, None,
                       counting_input(3), None, 1_000_000, 1, 0)
    deadline = time.monotonic() + 1.0
    # Let the deadline pass before the first next(): it must fail at once
    # rather than wait another second (a bound no busy machine reaches
    # between two lines).
    threading.Event().wait(max(0.0, deadline - time.monotonic()) + 0.05)
    start = time.monotonic()
    with pytest.raises(GLib.Error) as info:
        results.next()
    assert time.monotonic() - start < 1.0
    assert_error(info.value, IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert results.next() == (False, None)


def test_map_results_before_the_deadline_are_delivered(executor):
    results = executor.map(lambda item, c, *ud: item, None, counting_input(10), None,
                           5 * SECOND, 1, 0)
    assert collect(results) == list(range(10))


def test_map_timeout_cancels_queued_items(pools, releases):
    pool = pools(1)
    blocker = Blocker(pool, releases)
    ran = []
    results = pool.map(lambda item, c, *ud: ran.append(item), None,
                       counting_input(6), None, 20_000, 1, 4)
    with pytest.raises(GLib.Error) as info:
        results.next()
    assert_error(info.value, IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    blocker.finish()
    shutdown_bounded(pool)
    # Items after the one next() was waiting for never started.
    assert [i for i in ran if i > 0] == []


def test_map_timeout_cancels_the_item_it_was_waiting_for(pools, releases):
    pool = pools(1)
    blocker = Blocker(pool, releases)
    ran = []
    # Timeout 0: the deadline has passed by the first next(), so no item
    # may ever start (concurrent.futures: test_executor_map_current_future_cancel).
    results = pool.map(lambda item, c, *ud: ran.append(item), None,
                       counting_input(5), None, 0, 1, 0)
    with pytest.raises(GLib.Error) as info:
        results.next()
    assert_error(info.value, IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    blocker.finish()
    shutdown_bounded(pool)
    assert ran == []


def test_map_timeout_trips_the_cancellable_of_running_work(pools, releases):
    pool = pools(1)
    started = threading.Event()
    tripped = threading.Event()
    releases.append(tripped)
    seen = []

    def fn(item, cancellable, *user_data):
        handler = cancellable.connect(lambda *args: tripped.set())
        started.set()
        if cancellable.is_cancelled():
            tripped.set()
        seen.append(tripped.wait(1))
        cancellable.disconnect(handler)
        return item

    results = pool.map(fn, None, counting_input(1), None, 50_000, 1, 0)
    assert started.wait(5)
    with pytest.raises(GLib.Error):
        results.next()
    assert poll_until(lambda: seen, timeout=5)
    assert seen == [True]


def test_map_close_cancels_what_has_not_started(pools, releases):
    pool = pools(1)
    blocker = Blocker(pool, releases)
    ran = []
    results = pool.map(lambda item, c, *ud: ran.append(item) or item, None,
                       counting_input(10), None, -1, 1, 4)
    results.close()
    assert results.next() == (False, None)
    blocker.finish()
    shutdown_bounded(pool)
    assert ran == []
    # Closing twice is harmless.
    results.close()
    assert results.next() == (False, None)


def test_map_close_after_some_results(pools):
    pool = pools(1)
    release = threading.Event()
    ran = []

    def fn(item, cancellable, *user_data):
        ran.append(item)
        if item == 2:
            release.wait(LONG)
        return item

    results = pool.map(fn, None, counting_input(10), None, -1, 1, 2)
    assert results.next() == (True, 0)
    assert results.next() == (True, 1)
    # Item 2 runs (blocked), item 3 is queued: close cancels item 3.
    assert poll_until(lambda: 2 in ran)
    results.close()
    release.set()
    shutdown_bounded(pool)
    assert ran == [0, 1, 2]
    assert results.next() == (False, None)


def test_dropping_the_results_still_runs_every_item(pools, releases):
    # Only close() or shutdown with cancel_futures stop a map: dropped, the
    # rest of its input runs, read as work completes, and shutdown waits.
    pool = pools(1)
    blocker = Blocker(pool, releases)
    ran = []
    results = pool.map(lambda item, c, *ud: ran.append(item), None,
                       counting_input(10), None, -1, 1, 4)
    del results
    gc.collect()
    blocker.finish()
    shutdown_bounded(pool)
    assert ran == list(range(10))


def test_map_on_a_shut_down_executor_fails(executor):
    executor.shutdown(True, False)
    with pytest.raises(GLib.Error) as info:
        executor.map(lambda item, c, *ud: item, None, counting_input(3), None, -1, 1, 0)
    assert_error(info.value, CONCURRY_ERROR, Concurry.Error.SHUT_DOWN)


def test_map_items_still_complete_after_shutdown_without_wait(pools):
    pool = pools(2)
    results = pool.map(lambda item, c, *ud: item + 100, None, counting_input(4), None,
                       -1, 1, 4)
    pool.shutdown(False, False)
    # The four items were submitted before the shutdown: they complete.
    assert collect(results) == [100, 101, 102, 103]


def test_map_on_the_main_context_executor():
    ex = Concurry.MainContextExecutor.new(None)
    threads_seen = set()
    log = []

    def fn(item, cancellable, *user_data):
        threads_seen.add(threading.current_thread())
        return item * 2

    # next() blocks on the main thread by iterating the main context, which
    # is what runs the work.
    results = ex.map(fn, None, counting_input(12, log), None, 5 * SECOND, 2, 0)
    assert collect(results) == [i * 2 for i in range(12)]
    assert threads_seen == {threading.main_thread()}
    assert set(log) == {threading.main_thread().name}
    assert ex.shutdown(True, False)


def test_map_on_the_main_context_executor_with_failure():
    ex = Concurry.MainContextExecutor.new(None)

    def fn(item, cancellable, *user_data):
        if item == 2:
            raise io_error(Gio.IOErrorEnum.NOT_SUPPORTED, 'two')
        return item

    results = ex.map(fn, None, counting_input(6), None, -1, 1, 0)
    assert results.next() == (True, 0)
    assert results.next() == (True, 1)
    with pytest.raises(GLib.Error) as info:
        results.next()
    assert_error(info.value, IO_ERROR, Gio.IOErrorEnum.NOT_SUPPORTED, 'two')
    assert results.next() == (False, None)
    assert ex.shutdown(True, False)
