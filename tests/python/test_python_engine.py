# SPDX-License-Identifier: LGPL-2.1-or-later
"""The per-item calls of the Python wing (gi/_concurry/_engine.c, made
holding the GIL) behave as the introspected calls they stand for: the
same C types for C readers, the same objects back, the same errors.  The
suite runs once with them and, as python-introspected, once without."""

import os
import sys
import threading

import gi
import pytest

gi.require_version('Concurry', '1')
gi.require_version('ConcurryTest', '1')
from gi.repository import Concurry, ConcurryTest, GLib, GObject  # noqa: E402

from gi._concurry import outcomes  # noqa: E402


class Plain:
    pass


class MyInt(int):
    pass


class MyStr(str):
    pass


# value -> the type C reads; what PyGObject makes of each in an
# introspected (const GValue *) argument, through outcomes.to_gvalue().
EXPECTED_TYPES = [
    (5, 'gint'),
    (-(2 ** 31), 'gint'),
    (2 ** 31 - 1, 'gint'),
    (2 ** 31, 'PyObject'),
    (10 ** 30, 'PyObject'),
    (True, 'gboolean'),
    (False, 'gboolean'),
    (1.5, 'gdouble'),
    ('text', 'gchararray'),
    ('', 'gchararray'),
    ('ünïcödé', 'gchararray'),
    ('a\0b', 'PyObject'),
    ('\udc80', 'PyObject'),
    (None, 'invalid'),
    ((1, 2), 'PyObject'),
    (b'bytes', 'PyObject'),
    (MyInt(3), 'PyObject'),
    (MyStr('s'), 'PyObject'),
    (GLib.PRIORITY_HIGH, 'gint'),
]


def test_the_wing_uses_the_engine_when_the_build_has_it():
    if os.environ.get('CONCURRY_PYTHON_ENGINE') == '0':
        assert outcomes._engine is None
    elif os.environ.get('CONCURRY_EXPECT_PYTHON_ENGINE') == '1':
        assert outcomes._engine is not None
    else:
        pytest.skip('not told whether this build has gi._concurry._engine')


@pytest.mark.parametrize('value,type_name', EXPECTED_TYPES,
                         ids=[repr(v)[:20] for v, _ in EXPECTED_TYPES])
def test_work_results_reach_c_with_the_type_pygobject_gives_them(value, type_name):
    with Concurry.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(lambda: value)
        result = future.result()
        assert ConcurryTest.value_type_name(future) == type_name
        if type_name == 'PyObject':
            assert result is value
        else:
            assert result == value and type(result) is type(value)


def test_objects_reach_c_as_objects_of_their_own_type():
    obj = Concurry.Promise()
    with Concurry.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(lambda: obj)
        assert future.result() is obj
        assert ConcurryTest.value_type_name(future) == 'ConcurryPromise'
        plain = GObject.Object()
        future = pool.submit(lambda: plain)
        assert future.result() is plain
        assert ConcurryTest.value_type_name(future) == 'GObject'
        gvalue = GObject.Value(GObject.TYPE_INT64, 7)
        future = pool.submit(lambda: gvalue)
        assert future.result() == 7
        assert ConcurryTest.value_type_name(future) == 'gint64'


def test_items_and_results_keep_their_identity_and_their_references():
    item = Plain()
    before = sys.getrefcount(item)
    with Concurry.ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(lambda x: x, item) for _ in range(100)]
        assert all(f.result() is item for f in futures)
    del futures
    assert sys.getrefcount(item) == before


def test_results_of_values_that_c_made_read_the_same():
    # A future C resolved with a type the engine leaves to PyGObject.
    promise = Concurry.Promise()
    promise.resolve(GObject.Value(GObject.TYPE_UINT64, 2 ** 40))
    assert promise.result() == 2 ** 40
    promise = Concurry.Promise()
    promise.resolve(GObject.Value(GObject.TYPE_STRV, ['a', 'b']))
    assert promise.result() == ['a', 'b']


def test_a_shut_down_executor_refuses_work_with_the_standard_error():
    pool = Concurry.ThreadPoolExecutor(max_workers=1)
    pool.shutdown()
    with pytest.raises(RuntimeError, match='after shutdown'):
        pool.submit(print)


def test_submit_waits_for_argument_futures_given_as_a_list():
    gate = Concurry.Promise()
    with Concurry.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(lambda a, b: a + sum(b), gate, [gate, 3])
        assert not future.done()
        gate.set_result(2)
        assert future.result() == 7


def test_many_threads_submit_and_read_at_once():
    results = []
    lock = threading.Lock()

    def client(base):
        with Concurry.ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(lambda x: x * 2, base + i) for i in range(500)]
            got = [f.result() for f in futures]
        with lock:
            results.append(got == [(base + i) * 2 for i in range(500)])

    threads = [threading.Thread(target=client, args=(1000 * n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 4


def test_a_wrapped_concurrent_future_that_is_done_reads_done_at_once():
    import concurrent.futures
    value = Plain()
    source = concurrent.futures.Future()
    source.set_result(value)
    assert Concurry.wrap_future(source).result(timeout=0) is value
    error = ValueError('no')
    source = concurrent.futures.Future()
    source.set_exception(error)
    assert Concurry.wrap_future(source).exception(timeout=0) is error
    source = concurrent.futures.Future()
    source.cancel()
    assert Concurry.wrap_future(source).cancelled()


def test_a_wrapper_is_running_while_its_source_runs_and_cancels_it():
    import concurrent.futures
    source = concurrent.futures.Future()
    assert source.set_running_or_notify_cancel()
    wrapper = Concurry.wrap_future(source)
    assert wrapper.running()
    assert not wrapper.cancel()         # running work is not cancelled
    source = concurrent.futures.Future()
    wrapper = Concurry.wrap_future(source)
    assert wrapper.cancel()
    assert source.cancelled()


def test_a_dropped_wrapper_of_a_future_that_never_completes_is_freed():
    import concurrent.futures
    import gc
    import weakref
    source = concurrent.futures.Future()
    wrapper = Concurry.wrap_future(source)
    gone = weakref.ref(source)
    freed = []
    wrapper.weak_ref(lambda: freed.append(True))
    del source, wrapper
    gc.collect()
    assert gone() is None
    assert freed == [True]


SET_RESULT_TYPES = [
    (5, 'gint'),
    (2 ** 40, 'PyObject'),
    (True, 'PyObject'),
    ('text', 'PyObject'),
    (1.5, 'PyObject'),
    (None, 'invalid'),
    ([1], 'PyObject'),
]


@pytest.mark.parametrize('value,type_name', SET_RESULT_TYPES,
                         ids=[repr(v)[:20] for v, _ in SET_RESULT_TYPES])
def test_set_result_keeps_the_very_object(value, type_name):
    promise = Concurry.Promise()
    promise.set_result(value)
    assert ConcurryTest.value_type_name(promise) == type_name
    if type_name == 'PyObject':
        assert promise.result() is value
    else:
        assert promise.result() == value


def test_set_result_of_objects_and_values():
    obj = GObject.Object()
    promise = Concurry.Promise()
    promise.set_result(obj)
    assert promise.result() is obj
    assert ConcurryTest.value_type_name(promise) == 'GObject'
    gvalue = GObject.Value(GObject.TYPE_INT, 3)
    promise = Concurry.Promise()
    promise.set_result(gvalue)
    assert promise.result() is gvalue


def test_awaiting_a_future_resolved_from_another_thread():
    import asyncio

    async def main():
        promises = [Concurry.Promise() for _ in range(200)]

        def resolve():
            for i, promise in enumerate(promises):
                promise.set_result(i)
        thread = threading.Thread(target=resolve)
        thread.start()
        got = [await promise for promise in promises]
        thread.join()
        return got

    assert asyncio.run(main()) == list(range(200))


def test_a_forwarding_runner_gets_everything_queued_in_one_batch():
    """Concurry.Runner:forwarding from Python: the time of a runner that
    sends its items elsewhere is not its items' time, so after a slow
    batch it still gets all that is queued (what the process pool and the
    Dask executor's map rely on)."""
    executor = Concurry.ThreadPoolExecutor.new(1)
    started, gate = threading.Event(), threading.Event()
    sizes = []

    def run(batch, *unused):
        sizes.append(batch.get_size())
        for index in range(batch.get_size()):
            item = batch.start(index)
            if item == 0:
                started.set()
                gate.wait()
            batch.return_value(index, outcomes.pyobject_value(item * 2))

    runner = Concurry.Runner.new(run)
    assert runner.props.forwarding is False
    runner.props.forwarding = True
    assert runner.get_forwarding()
    futures = [Concurry.Executor.submit_to_runner(executor, runner,
                                                  outcomes.pyobject_value(0), None)]
    assert started.wait(60)
    futures += [Concurry.Executor.submit_to_runner(executor, runner,
                                                   outcomes.pyobject_value(i), None)
                for i in range(1, 11)]
    gate.set()
    assert [future.result(timeout=60) for future in futures] == [2 * i for i in range(11)]
    Concurry.Executor.shutdown(executor, True, False)
    assert sizes == [1, 10]


def _rss_kib():
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') // 1024


@pytest.mark.skipif(os.environ.get('CONCURRY_PYTHON_ENGINE') == '0',
                    reason='through introspection, PyGObject before 3.44 leaks a closure per callback')
@pytest.mark.skipif(not os.path.exists('/proc/self/statm'), reason='needs /proc')
def test_done_callbacks_leave_no_memory_behind():
    """add_done_callback() (and so asyncio.wrap_future() and
    loop.run_in_executor()) on a pending future: 100 000 of them grow the
    process by far less than the 11 MB that a leaked libffi closure per
    callback (PyGObject before 3.44) would."""
    def round_of(n):
        for _ in range(n):
            promise = Concurry.Promise()
            promise.add_done_callback(lambda f: None)
            promise.set_result(1)

    round_of(20000)     # warm up: allocator, caches
    before = _rss_kib()
    round_of(100000)
    assert _rss_kib() - before < 4 * 1024
