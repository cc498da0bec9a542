# SPDX-License-Identifier: LGPL-2.1-or-later
"""Concurry.ThreadPoolExecutor from Python, item by item
(/work/shared/BEHAVIOR.md section 8, "Executor", and section 14, automatic
unwrapping), in the style of CPython's concurrent.futures executor tests.

No sleeps: work that must stay busy waits on a threading.Event with a
bounded timeout, and every test releases what it blocked.  Every failed
future made here has its error looked at (G_DEBUG=fatal-warnings).
"""

import concurrent.futures
import gc
import itertools
import os
import threading
import time

import pytest

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402

from concurry_testutil import LONG, on_main_thread  # noqa: E402


class Blocker:
    """Occupies one worker until released."""

    def __init__(self, executor, releases):
        self.started = threading.Event()
        self.release = threading.Event()
        releases.append(self.release)

        def work():
            self.started.set()
            return 'blocker' if self.release.wait(LONG) else 'timed out'

        self.future = executor.submit(work)
        assert self.started.wait(LONG)

    def finish(self):
        self.release.set()
        assert self.future.result(LONG) == 'blocker'


# --------------------------------------------------------------------------
# the executor object
# --------------------------------------------------------------------------

def test_executor_is_a_concurry_executor(pools):
    executor = pools(3)
    assert isinstance(executor, Concurry.Executor)
    assert isinstance(executor, Concurry.ThreadPoolExecutor)
    assert executor.get_max_workers() == 3
    assert executor.props.max_workers == 3
    assert not executor.is_shutdown()


def test_work_runs_on_pool_threads(pools):
    executor = pools(2)
    futures = [executor.submit(on_main_thread) for _ in range(10)]
    assert [f.result(LONG) for f in futures] == [False] * 10


def test_raw_constructor_keeps_the_c_api():
    raw = Concurry.ThreadPoolExecutor.new(2)
    future = raw.submit(lambda cancellable, extra: [type(cancellable).__name__, extra], 'x')
    assert future.wait(LONG * 1_000_000)
    assert future.get_value() == ['Cancellable', 'x']
    # The Pythonic future API works on its futures too.
    assert future.result() == ['Cancellable', 'x']
    assert raw.shutdown(True, False) is True


# --------------------------------------------------------------------------
# 8. submit / map / shutdown
# --------------------------------------------------------------------------

def test_i84_submit_passes_arguments_and_keywords(pools):
    executor = pools()
    assert executor.submit(pow, 2, 8).result(LONG) == 256
    assert executor.submit(lambda a, b=0: a - b, 10, b=3).result(LONG) == 7


def test_i84_keywords_named_fn_and_self_pass_through(pools):
    executor = pools()

    def capture(*args, **kwargs):
        return args, kwargs

    future = executor.submit(capture, 1, 2, self=3, fn=4)
    assert future.result(LONG) == ((1, 2), {'self': 3, 'fn': 4})
    with pytest.raises(TypeError):
        executor.submit(fn=capture)


def test_i85_exception_is_stored_and_the_worker_survives(pools):
    executor = pools(1)
    exc = ArithmeticError('bad')

    def bad():
        raise exc

    failed = executor.submit(bad)
    later = [executor.submit(lambda i=i: i) for i in range(3)]
    assert failed.exception(LONG) is exc
    assert [f.result(LONG) for f in later] == [0, 1, 2]


def test_i86_submit_after_shutdown_raises_and_shutdown_again_is_harmless(pools):
    executor = pools()
    executor.shutdown()
    with pytest.raises(RuntimeError, match='^cannot schedule new futures after shutdown$'):
        executor.submit(pow, 2, 2)
    executor.shutdown()
    executor.shutdown(wait=False)
    assert executor.is_shutdown()


def test_i87_shutdown_wait_returns_once_all_work_is_done(pools):
    executor = pools(2)
    futures = [executor.submit(lambda i=i: i * i) for i in range(50)]
    executor.shutdown(wait=True)
    assert all(f.done() for f in futures)
    assert [f.result(0) for f in futures] == [i * i for i in range(50)]


def test_i87_context_manager_shuts_down_and_waits():
    with Concurry.ThreadPoolExecutor(2) as executor:
        futures = [executor.submit(pow, 2, i) for i in range(10)]
    assert executor.is_shutdown()
    assert [f.result(0) for f in futures] == [2 ** i for i in range(10)]
    with pytest.raises(RuntimeError):
        executor.submit(pow, 1, 1)


def test_i87_context_manager_does_not_swallow_exceptions():
    with pytest.raises(KeyError):
        with Concurry.ThreadPoolExecutor(1) as executor:
            future = executor.submit(int, '5')
            raise KeyError('inside')
    assert future.result(0) == 5


def test_i88_shutdown_without_wait_still_runs_queued_work(pools, releases):
    executor = pools(1)
    blocker = Blocker(executor, releases)
    queued = [executor.submit(lambda i=i: i) for i in range(3)]
    start = time.monotonic()
    executor.shutdown(wait=False)
    assert time.monotonic() - start < LONG / 2
    assert executor.is_shutdown()
    assert not any(f.done() for f in queued)
    blocker.finish()
    assert [f.result(LONG) for f in queued] == [0, 1, 2]


def test_i89_cancel_futures_cancels_what_has_not_started(pools, releases):
    executor = pools(1)
    blocker = Blocker(executor, releases)
    ran = []
    queued = [executor.submit(ran.append, i) for i in range(4)]
    executor.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    blocker.finish()
    executor.shutdown(wait=True)
    assert ran == []
    for future in queued:
        with pytest.raises(concurrent.futures.CancelledError):
            future.result()


def test_i89_cancel_futures_with_wait(pools, releases):
    executor = pools(1)
    blocker = Blocker(executor, releases)
    queued = executor.submit(lambda: 'never')
    # Released once shutdown() cancelled the queued work, while it waits.
    threading.Thread(target=lambda: (Concurry.wait([queued], LONG), blocker.release.set()),
                     daemon=True).start()
    executor.shutdown(wait=True, cancel_futures=True)
    assert blocker.future.result(0) == 'blocker'
    assert queued.cancelled()


def test_i89_submit_cancel_shutdown_does_not_hang(pools, releases):
    executor = pools(1)
    blocker = Blocker(executor, releases)
    queued = executor.submit(lambda: 'never')
    assert queued.cancel()
    blocker.release.set()
    executor.shutdown(wait=True)
    assert queued.cancelled()


def test_i89_cancelled_queued_work_never_runs(pools, releases):
    executor = pools(1)
    blocker = Blocker(executor, releases)
    ran = []
    futures = [executor.submit(ran.append, i) for i in range(5)]
    assert futures[1].cancel() and futures[3].cancel()
    blocker.finish()
    executor.shutdown(wait=True)
    assert ran == [0, 2, 4]


def test_i90_decision_shutdown_wait_from_a_worker_raises_runtime_error(pools):
    executor = pools(2)
    future = executor.submit(lambda: executor.shutdown(wait=True))
    with pytest.raises(RuntimeError, match='cannot join current thread'):
        future.result(LONG)
    # The executor is shut down all the same, and nothing deadlocked.
    with pytest.raises(RuntimeError, match='after shutdown'):
        executor.submit(int)
    # Without wait it is fine from a worker.
    other = pools(1)
    assert other.submit(lambda: other.shutdown(wait=False)).result(LONG) is None
    with pytest.raises(RuntimeError):
        other.submit(int)


@pytest.mark.parametrize('bad', [0, -1])
def test_i91_max_workers_must_be_positive(bad):
    with pytest.raises(ValueError, match='max_workers must be greater than 0'):
        Concurry.ThreadPoolExecutor(bad)


def test_i91_default_max_workers_like_cpython():
    executor = Concurry.ThreadPoolExecutor()
    try:
        assert executor.get_max_workers() == min(32, (os.cpu_count() or 1) + 4)
    finally:
        executor.shutdown()


def test_i91_never_more_than_max_workers_at_once(pools, releases):
    executor = pools(3)
    lock = threading.Lock()
    running = [0]
    peak = [0]
    release = threading.Event()
    releases.append(release)
    all_started = threading.Barrier(4)

    def work(i):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        if i < 3:
            all_started.wait(LONG)
        release.wait(LONG)
        with lock:
            running[0] -= 1

    futures = [executor.submit(work, i) for i in range(12)]
    all_started.wait(LONG)
    assert peak[0] == 3
    release.set()
    executor.shutdown(wait=True)
    assert peak[0] == 3
    assert all(f.exception() is None for f in futures)


def test_i93_map_zips_to_the_shortest_and_keeps_input_order(pools):
    executor = pools(4)
    releases = [threading.Event() for _ in range(4)]

    def fn(i, letter):
        if i == 0:
            assert releases[0].wait(LONG)     # finishes last
        else:
            releases[0].set()
        return '%d%s' % (i, letter)

    assert list(executor.map(fn, range(10), 'abcd')) == ['0a', '1b', '2c', '3d']
    assert list(executor.map(pow, [2, 3], [2, 2], [100, 100])) == [4, 9]
    assert list(executor.map(abs, [])) == []


def test_i94_map_work_starts_without_iteration(pools):
    executor = pools(2)
    started = threading.Event()
    results = executor.map(lambda x: started.set(), [1])
    assert started.wait(LONG)
    assert list(results) == [None]


def test_i95_map_timeout_counts_from_the_call_and_cancels_the_rest(pools, releases):
    executor = pools(1)
    blocker = Blocker(executor, releases)
    ran = []
    results = executor.map(ran.append, range(6), timeout=1.0)
    # Let the deadline pass before the first next(): it must fail at once
    # rather than wait another second (a bound no busy machine reaches
    # between two lines).
    threading.Event().wait(1.05)     # waiting out the deadline is the point here
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        next(results)
    assert time.monotonic() - start < 1.0
    with pytest.raises(StopIteration):
        next(results)
    blocker.finish()
    executor.shutdown(wait=True)
    assert ran == []


def test_i95_map_timeout_zero_never_starts_queued_work(pools, releases):
    executor = pools(1)
    blocker = Blocker(executor, releases)
    ran = []
    results = executor.map(ran.append, range(3), timeout=0)
    with pytest.raises(TimeoutError):
        next(results)
    blocker.finish()
    executor.shutdown(wait=True)
    assert ran == []


def test_i95_map_results_before_the_deadline_arrive(pools):
    executor = pools(2)
    assert list(executor.map(str, range(5), timeout=LONG)) == ['0', '1', '2', '3', '4']


def test_map_result_is_given_before_the_later_items_end(pools, releases):
    """As in concurrent.futures, a result is there as soon as its item
    ended, whatever follows it: here item 50 waits for somebody to read
    item 49 (the quick items before it travel together through the engine,
    concurry_map_input_hint())."""
    executor = pools(1)
    seen = threading.Event()
    releases.append(seen)

    def fn(i):
        if i == 50 and not seen.wait(LONG):
            raise AssertionError('item 49 was not given while item 50 ran')
        return i

    results = executor.map(fn, range(60))
    for i in range(50):
        assert next(results) == i
    seen.set()
    assert list(results) == list(range(50, 60))


def test_map_exception_is_given_before_the_later_items_end(pools, releases):
    executor = pools(1)
    seen = threading.Event()
    releases.append(seen)

    def fn(i):
        if i == 20:
            raise ValueError('item 20')
        if i == 21 and not seen.wait(LONG):
            raise AssertionError('the failure of item 20 was not given while item 21 ran')
        return i

    results = executor.map(fn, range(30))
    assert [next(results) for _ in range(20)] == list(range(20))
    with pytest.raises(ValueError, match='item 20'):
        next(results)
    seen.set()


def test_i96_map_exception_at_its_position_then_the_iterator_ends(pools, releases):
    executor = pools(1)
    release = threading.Event()
    releases.append(release)
    ran = []

    def fn(i):
        ran.append(i)
        if i == 2:
            raise ValueError('item 2')
        if i == 3:
            release.wait(LONG)
        return i

    results = executor.map(fn, range(10))
    assert next(results) == 0
    assert next(results) == 1
    with pytest.raises(ValueError, match='item 2'):
        next(results)
    with pytest.raises(StopIteration):
        next(results)
    release.set()
    executor.shutdown(wait=True)
    # Item 3 may have started before the failure was seen; nothing after.
    assert ran in ([0, 1, 2], [0, 1, 2, 3])


def test_i96_timeout_error_from_fn_is_just_an_exception(pools):
    executor = pools(2)
    exc = TimeoutError('raised by fn')

    def fn(i):
        if i == 1:
            raise exc
        return i

    results = executor.map(fn, range(3), timeout=LONG)
    assert next(results) == 0
    with pytest.raises(TimeoutError) as info:
        next(results)
    assert info.value is exc


@pytest.mark.parametrize('chunksize', [1, 2, 3, 7, 50])
def test_i97_chunksize_gives_the_same_results(pools, chunksize):
    executor = pools(3)
    assert list(executor.map(pow, range(20), itertools.repeat(2), chunksize=chunksize)) == \
        [i ** 2 for i in range(20)]


def test_i97_chunksize_failure_at_its_position(pools):
    executor = pools(2)

    def fn(i):
        if i == 4:
            raise KeyError(i)
        return i

    results = executor.map(fn, range(10), chunksize=3)
    assert [next(results) for _ in range(4)] == [0, 1, 2, 3]
    with pytest.raises(KeyError):
        next(results)
    with pytest.raises(StopIteration):
        next(results)


def test_i97_chunksize_below_one_is_rejected(pools):
    with pytest.raises(ValueError, match='chunksize must be >= 1'):
        pools().map(abs, [1], chunksize=0)


def test_i98_closing_map_early_cancels_what_has_not_started(pools, releases):
    executor = pools(1)
    blocker = Blocker(executor, releases)
    ran = []
    results = executor.map(ran.append, range(10))
    results.close()
    blocker.finish()
    executor.shutdown(wait=True)
    assert ran == []


def test_i98_dropping_started_map_results_cancels_too(pools, releases):
    # Like concurrent.futures' generator, closed when it is collected.
    executor = pools(1)
    ran = []
    second = threading.Event()
    gate = threading.Event()
    releases.append(gate)

    def work(x):
        if x == 1:
            second.set()
            gate.wait(LONG)
        ran.append(x)

    results = executor.map(work, range(10))
    assert next(results) is None
    assert second.wait(LONG)
    del results
    gc.collect()
    gate.set()
    executor.shutdown(wait=True)
    assert ran == [0, 1]


def test_i98_dropping_unstarted_map_results_lets_the_window_run(pools, releases):
    # CPython's test_map_submits_without_iteration: an iterator never read
    # does not cancel what map() submitted.
    executor = pools(1)
    blocker = Blocker(executor, releases)
    ran = []
    results = executor.map(ran.append, range(10))
    del results
    gc.collect()
    blocker.finish()
    executor.shutdown(wait=True)
    assert sorted(ran) == list(range(10))


def test_map_failure_nobody_read_is_not_reported(pools, releases):
    # Closing the iterator after an item failed that was never consumed:
    # the failure must not be reported as an unobserved error (which is
    # fatal in this test environment).
    executor = pools(2)
    failed = threading.Event()

    def fn(i):
        if i == 1:
            failed.set()
            raise ValueError('nobody reads this')
        return i

    results = executor.map(fn, range(2))
    assert failed.wait(LONG)
    executor.shutdown(wait=True)
    assert next(results) == 0
    results.close()


def test_map_after_shutdown_raises(pools):
    executor = pools()
    executor.shutdown()
    with pytest.raises(RuntimeError, match='after shutdown'):
        executor.map(abs, [1, 2])


# --------------------------------------------------------------------------
# 14. automatic unwrapping
# --------------------------------------------------------------------------

def test_i119_future_argument_is_replaced_by_its_value(pools):
    executor = pools()
    a = executor.submit(pow, 2, 3)
    b = executor.submit(pow, 3, 2)
    future = executor.submit(lambda x, y, z: (x, y, z), a, b, 'plain')
    assert future.result(LONG) == (8, 9, 'plain')
    assert executor.submit(lambda x=None: x, x=a).result(LONG) == 8


def test_i119_promise_and_concurrent_future_arguments(pools):
    executor = pools()
    promise = Concurry.Promise()
    raw = concurrent.futures.Future()
    dependent = executor.submit(lambda p, r: p + r, promise, raw)
    assert not dependent.done()
    promise.set_result(40)
    raw.set_result(2)
    assert dependent.result(LONG) == 42


def test_i120_unwrapping_recurses_into_containers(pools):
    executor = pools()
    f = Concurry.wrap_future('v')
    g = executor.submit(lambda: 'w')
    args = ([f, None, 1], (g, [f]), {'k': f, 'n': None}, {f}, [], {}, ())
    result = executor.submit(lambda *a: a, *args).result(LONG)
    assert result == (['v', None, 1], ('w', ['v']), {'k': 'v', 'n': None}, {'v'}, [], {}, ())
    assert type(result[1]) is tuple and type(result[3]) is set


def test_i120_other_objects_pass_through(pools):
    executor = pools()

    class Holder:
        future = Concurry.wrap_future(1)

    holder = Holder()
    assert executor.submit(lambda h: h, holder).result(LONG) is holder


def test_i121_failed_argument_fails_with_the_same_exception(pools):
    executor = pools()
    exc = ValueError('from the argument')

    def bad():
        raise exc

    source = executor.submit(bad)
    ran = []
    dependent = executor.submit(ran.append, [source])
    assert dependent.exception(LONG) is exc
    assert source.exception() is exc
    assert ran == []


def test_i121_cancelled_argument_cancels_the_dependent(pools):
    executor = pools()
    source = Concurry.Promise()
    dependent = executor.submit(abs, source)
    source.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        dependent.result(LONG)


def test_i122_decision_unwrapping_never_blocks_submit_nor_a_worker(pools):
    # One worker: if the dependent work blocked the worker waiting for its
    # argument, the work completing that argument could never run.
    executor = pools(1)
    promise = Concurry.Promise()
    start = time.monotonic()
    dependent = executor.submit(lambda x: x * 2, promise)
    assert time.monotonic() - start < LONG / 2          # submit did not block
    completer = executor.submit(promise.set_result, 21)
    assert dependent.result(LONG) == 42
    assert completer.result(LONG) is None


def test_i122_failed_argument_fails_at_result_time_not_submit_time(pools):
    executor = pools()
    source = Concurry.Promise()
    source.set_exception(LookupError('already failed'))
    dependent = executor.submit(abs, source)    # does not raise
    with pytest.raises(LookupError):
        dependent.result(LONG)
    assert isinstance(source.exception(), LookupError)


def test_dependent_work_can_be_cancelled_while_it_waits(pools):
    executor = pools()
    source = Concurry.Promise()
    ran = []
    dependent = executor.submit(ran.append, source)
    assert dependent.cancel()
    source.set_result(1)
    executor.shutdown(wait=True)
    assert ran == []
    assert dependent.cancelled()


def test_shutdown_waits_for_dependent_work(pools):
    executor = pools()
    source = Concurry.Promise()
    dependent = executor.submit(lambda x: x + 1, source)
    executor.shutdown(wait=False)
    threading.Thread(target=source.set_result, args=(1,), daemon=True).start()
    executor.shutdown(wait=True)
    assert dependent.result(0) == 2


def test_cancel_futures_cancels_dependent_work(pools):
    executor = pools()
    source = Concurry.Promise()
    dependent = executor.submit(abs, source)
    executor.shutdown(wait=True, cancel_futures=True)
    assert dependent.cancelled()
    source.cancel()


def test_map_unwraps_futures_in_its_inputs(pools):
    executor = pools()
    inputs = [executor.submit(pow, 2, i) for i in range(5)]
    assert list(executor.map(lambda x: x + 1, inputs)) == [2, 3, 5, 9, 17]
    assert list(executor.map(lambda x: x + 1, inputs, chunksize=2)) == [2, 3, 5, 9, 17]


@pytest.mark.parametrize('chunksize', [1, 3])
def test_map_mixes_plain_and_future_inputs_in_order(pools, chunksize):
    executor = pools(2)
    inputs = [i if i % 4 else executor.submit(int, str(i)) for i in range(20)]
    assert list(executor.map(lambda x: x * 10, inputs, chunksize=chunksize)) == \
        [i * 10 for i in range(20)]


def test_map_failed_future_input_raises_at_its_position(pools):
    executor = pools(2)
    exc = OSError('input failed')
    bad = Concurry.Promise()
    bad.set_exception(exc)
    results = executor.map(lambda x: x, [1, 2, bad, 4])
    assert [next(results), next(results)] == [1, 2]
    with pytest.raises(OSError) as info:
        next(results)
    assert info.value is exc
    with pytest.raises(StopIteration):
        next(results)
    assert bad.exception() is exc


def test_map_input_error_is_raised_by_next(pools):
    executor = pools(2)

    def inputs():
        yield from range(3)
        raise LookupError('input broke')

    # Raised at its position, after the results before it.
    results = executor.map(lambda x: x, inputs(), chunksize=2)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(LookupError, match='input broke'):
        next(results)
    with pytest.raises(StopIteration):
        next(results)


def test_chains_of_dependent_work(pools):
    executor = pools(2)
    future = executor.submit(int, '1')
    for _ in range(20):
        future = executor.submit(lambda x: x + 1, future)
    assert future.result(LONG) == 21


# --------------------------------------------------------------------------
# thread safety and GC
# --------------------------------------------------------------------------

def test_submit_from_many_threads(pools):
    executor = pools(4)
    barrier = threading.Barrier(8)
    futures = []
    lock = threading.Lock()

    def submitter(base):
        barrier.wait(LONG)
        mine = [executor.submit(lambda i=i: base + i) for i in range(100)]
        with lock:
            futures.extend(mine)

    threads = [threading.Thread(target=submitter, args=(k * 1000,), daemon=True)
               for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LONG)
    assert sorted(f.result(LONG) for f in futures) == \
        sorted(k * 1000 + i for k in range(8) for i in range(100))


def test_dropped_futures_still_run(pools):
    executor = pools(2)
    ran = []
    for i in range(20):
        executor.submit(ran.append, i)
    gc.collect()
    executor.shutdown(wait=True)
    assert sorted(ran) == list(range(20))


def test_dropped_executor_finishes_its_work():
    ran = threading.Event()
    executor = Concurry.ThreadPoolExecutor(1)
    future = executor.submit(ran.set)
    del executor
    gc.collect()
    assert ran.wait(LONG)
    assert future.result(LONG) is None


def test_each_future_gives_back_its_own_glib_error_even_when_they_look_alike():
    """Two GLib.Error objects of another domain than concurry's, with the
    same code and message, raised by two items (and set on a promise): each
    future gives back the very object it failed with."""
    from gi.repository import GLib, Gio
    domain = GLib.quark_to_string(Gio.io_error_quark())
    first = GLib.Error('not found', domain, int(Gio.IOErrorEnum.NOT_FOUND))
    second = GLib.Error('not found', domain, int(Gio.IOErrorEnum.NOT_FOUND))

    def raise_(error):
        raise error

    with Concurry.ThreadPoolExecutor(1) as pool:
        f1 = pool.submit(raise_, first)
        assert f1.exception(timeout=LONG) is first
        f2 = pool.submit(raise_, second)
        f3 = pool.submit(raise_, first)
        # read once the third raised the first again
        assert f3.exception(timeout=LONG) is first
        assert f2.exception(timeout=LONG) is second
    promise = Concurry.Promise()
    promise.set_exception(first)
    other = Concurry.Promise()
    other.set_exception(second)
    assert promise.exception(timeout=0) is first
    assert other.exception(timeout=0) is second
