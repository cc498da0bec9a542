# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Pythonic Future API of the Concurry override, item by item.

Each test is named after the item of /work/shared/BEHAVIOR.md (``test_iNN_…``)
it checks, or after the concurry decision that replaces it; sections 1-4 and
9-11 here (futures, results and timeouts, cancellation, done callbacks,
wrap_future, exception types, thread safety), wait/as_completed/gather in
test_override_wait.py, executors and unwrapping in test_override_executor.py,
asyncio in test_override_asyncio.py.

No sleeps: synchronisation uses threading.Event/Barrier and bounded waits.
The test environment sets G_DEBUG=fatal-warnings, so every failed future
made here has its error looked at (result()/exception()).
"""

import concurrent.futures
import gc
import sys
import threading
import weakref

import pytest

import gi

gi.require_version('Concurry', '1')
gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
from gi.repository import Concurry, Gio, GLib, GObject  # noqa: E402

from concurry_testutil import LONG, drain, failed_future, run_child, start_thread  # noqa: E402


def blocked(executor, releases, value='released'):
    """Work that runs until released; returns (future, started, release)."""
    started = threading.Event()
    release = threading.Event()
    releases.append(release)

    def work():
        started.set()
        assert release.wait(LONG)
        return value

    future = executor.submit(work)
    assert started.wait(LONG)
    return future, release


CHILD_PRELUDE = '''
import gi, sys, threading
gi.require_version('Concurry', '1')
from gi.repository import Concurry, GLib
'''


# --------------------------------------------------------------------------
# 1. states and transitions
# --------------------------------------------------------------------------

def test_i01_predicates_collapse_the_states(executor, releases):
    running, release = blocked(executor, releases)
    finished = Concurry.wrap_future(3)
    failed = failed_future(ValueError('x'))
    cancelled = Concurry.Promise()
    assert cancelled.cancel()
    assert (running.done(), running.running(), running.cancelled()) == (False, True, False)
    assert (finished.done(), finished.running(), finished.cancelled()) == (True, False, False)
    assert (failed.done(), failed.running(), failed.cancelled()) == (True, False, False)
    assert (cancelled.done(), cancelled.running(), cancelled.cancelled()) == (True, False, True)
    assert isinstance(failed.exception(), ValueError)
    release.set()
    assert running.result(LONG) == 'released'


def test_i02_new_future_is_not_done_running_or_cancelled():
    promise = Concurry.Promise()
    assert not promise.done()
    assert not promise.running()
    assert not promise.cancelled()


def test_i03_set_running_or_notify_cancel_moves_pending_to_running():
    promise = Concurry.Promise()
    assert promise.set_running_or_notify_cancel() is True
    assert promise.running()
    assert not promise.done()


def test_i04_set_running_or_notify_cancel_on_cancelled_returns_false():
    promise = Concurry.Promise()
    assert promise.cancel()
    assert promise.set_running_or_notify_cancel() is False
    assert promise.cancelled()


@pytest.mark.parametrize('setup', ['running', 'finished', 'failed'])
def test_i05_set_running_or_notify_cancel_in_other_states_raises(setup):
    promise = Concurry.Promise()
    if setup == 'running':
        promise.set_running_or_notify_cancel()
    elif setup == 'finished':
        promise.set_result(1)
    else:
        promise.set_exception(KeyError('k'))
        assert isinstance(promise.exception(), KeyError)
    with pytest.raises(RuntimeError, match='Future in unexpected state'):
        promise.set_running_or_notify_cancel()


def test_i06_second_set_result_or_exception_raises_and_keeps_the_first():
    promise = Concurry.Promise()
    promise.set_result('first')
    with pytest.raises(concurrent.futures.InvalidStateError,
                       match=r'^FINISHED: <Concurry.Promise'):
        promise.set_result('second')
    with pytest.raises(concurrent.futures.InvalidStateError, match=r'^FINISHED: '):
        promise.set_exception(ValueError())
    assert promise.result() == 'first'

    cancelled = Concurry.Promise()
    cancelled.cancel()
    with pytest.raises(concurrent.futures.InvalidStateError, match=r'^CANCELLED: '):
        cancelled.set_result(1)


def test_i06_raw_resolve_after_completion_returns_false():
    promise = Concurry.Promise()
    promise.set_result(1)
    assert promise.resolve(2) is False
    assert promise.result() == 1


def test_i07_falsy_exception_still_fails_the_future():
    class Falsy(Exception):
        def __bool__(self):
            return False

        def __len__(self):
            return 0

    exc = Falsy()
    promise = failed_future(exc)
    with pytest.raises(Falsy) as info:
        promise.result()
    assert info.value is exc
    assert promise.exception() is exc


def test_i08_futures_not_made_by_hand_are_read_only():
    resolved = Concurry.wrap_future(1)
    for method, args in [('set_result', (2,)), ('set_exception', (ValueError(),)),
                         ('set_running_or_notify_cancel', ())]:
        with pytest.raises(NotImplementedError, match='only a Concurry.Promise'):
            getattr(resolved, method)(*args)
    assert resolved.result() == 1


def test_i09_a_wrapped_value_is_done_from_birth():
    future = Concurry.wrap_future('value')
    assert future.done()
    assert not future.running()
    assert not future.cancelled()
    assert future.cancel() is False
    assert future.result() == 'value'
    assert Concurry.wrap_future(None).result() is None


def test_i10_running_is_false_while_queued_and_true_while_running(releases):
    with Concurry.ThreadPoolExecutor(1) as ex:
        first, release = blocked(ex, releases)
        queued = ex.submit(lambda: 'queued')
        assert first.running()
        assert not queued.running()
        assert not queued.done()
        release.set()
        assert queued.result(LONG) == 'queued'
        assert not queued.running()


def test_i11_repr_shows_state_and_outcome(executor, releases):
    pending = Concurry.Promise()
    assert repr(pending) == '<Concurry.Promise at %#x state=pending>' % id(pending)
    running, release = blocked(executor, releases)
    assert repr(running).endswith('state=running>')
    done = Concurry.Promise()
    done.set_result(3)
    assert repr(done) == '<Concurry.Promise at %#x state=finished returned int>' % id(done)
    failed = failed_future(ZeroDivisionError())
    assert repr(failed).endswith('state=finished raised ZeroDivisionError>')
    assert isinstance(failed.exception(), ZeroDivisionError)
    cancelled = Concurry.Promise()
    cancelled.cancel()
    assert repr(cancelled).endswith('state=cancelled>')
    resolved = Concurry.ResolvedFuture.new_string('s')
    assert repr(resolved) == \
        '<Concurry.ResolvedFuture at %#x state=finished returned str>' % id(resolved)
    c_failed = Concurry.ResolvedFuture.new_error_literal(Gio.io_error_quark(), 1, 'c')
    assert repr(c_failed).endswith('raised GLib.Error>')
    assert isinstance(c_failed.exception(), GLib.Error)
    release.set()
    running.result(LONG)


# --------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------

@pytest.mark.parametrize('value', [0, 2 ** 80, -1, 1.5, 'text', b'bytes', True, None,
                                   [1, 2], {'a': 1}, (1,), object()])
def test_values_come_back_as_the_same_object(executor, value):
    future = executor.submit(lambda: value)
    result = future.result(LONG)
    assert result is value or (result == value and type(result) is type(value))
    promise = Concurry.Promise()
    promise.set_result(value)
    assert promise.result() is value or promise.result() == value


def test_python_values_are_the_object_itself(executor):
    payload = object()
    future = executor.submit(lambda: payload)
    assert future.result(LONG) is payload
    # The raw C API sees the same object, as a PyObject GValue.
    assert future.get_value() is payload
    assert future.get_value_type() == GObject.TYPE_PYOBJECT


def test_gobject_values_are_stored_as_gobjects(executor):
    action = Gio.SimpleAction(name='a')
    future = executor.submit(lambda: action)
    assert future.result(LONG) is action
    assert future.get_object() is action


def test_result_of_raw_c_futures_uses_their_gvalue():
    assert Concurry.ResolvedFuture.new_int64(2 ** 40).result() == 2 ** 40
    assert Concurry.ResolvedFuture.new_string('c').result() == 'c'
    promise = Concurry.Promise()
    promise.resolve_boolean(True)
    assert promise.result() is True


def test_value_released_with_the_future(executor):
    class Payload:
        pass

    payload = Payload()
    ref = weakref.ref(payload)
    future = executor.submit(lambda p=payload: p)
    del payload
    executor.shutdown(wait=True)
    assert future.result() is ref()
    del future
    gc.collect()
    assert ref() is None


# --------------------------------------------------------------------------
# 2. result() / exception() and timeouts
# --------------------------------------------------------------------------

def test_i12_result_of_a_value_and_no_exception():
    promise = Concurry.Promise()
    promise.set_result(42)
    assert promise.result() == 42
    assert promise.result(timeout=0) == 42
    assert promise.exception() is None
    assert promise.exception(timeout=0) is None


def test_i13_result_raises_the_same_exception_object_and_exception_returns_it(executor):
    exc = ValueError('the very one')

    def work():
        raise exc

    future = executor.submit(work)
    with pytest.raises(ValueError) as info:
        future.result(LONG)
    assert info.value is exc
    assert info.value.args == ('the very one',)
    assert future.exception() is exc
    assert future.exception() is exc
    # The traceback goes back to the work function.
    names = []
    tb = exc.__traceback__
    while tb is not None:
        names.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert 'work' in names


def test_i13_c_failure_stays_a_glib_error_and_is_the_same_object():
    future = Concurry.ResolvedFuture.new_error_literal(Gio.io_error_quark(),
                                                       Gio.IOErrorEnum.NOT_FOUND, 'gone')
    with pytest.raises(GLib.Error) as info:
        future.result()
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND)
    assert future.exception() is info.value
    assert future.exception() is future.exception()


def test_i13_python_failure_is_a_gerror_for_c(executor):
    def work():
        raise KeyError('k')

    future = executor.submit(work)
    assert isinstance(future.exception(LONG), KeyError)
    error = future.get_error()
    assert error.matches(Concurry.error_quark(), Concurry.Error.FAILED)
    assert error.message == "KeyError: 'k'"
    with pytest.raises(GLib.Error):
        future.wait(0)


def test_i13_glib_error_raised_by_python_work_keeps_domain_and_code(executor):
    exc = GLib.Error.new_literal(Gio.io_error_quark(), 'denied', Gio.IOErrorEnum.PERMISSION_DENIED)

    def work():
        raise exc

    future = executor.submit(work)
    assert future.exception(LONG) is exc
    assert future.get_error().matches(Gio.io_error_quark(), Gio.IOErrorEnum.PERMISSION_DENIED)


def test_i14_cancelled_future_raises_cancelled_error_from_both():
    promise = Concurry.Promise()
    promise.cancel()
    for timeout in (None, 0):
        with pytest.raises(concurrent.futures.CancelledError):
            promise.result(timeout=timeout)
        with pytest.raises(concurrent.futures.CancelledError):
            promise.exception(timeout=timeout)


@pytest.mark.parametrize('outcome', ['value', 'exception', 'cancel'])
def test_i15_result_blocks_until_another_thread_completes(outcome):
    promise = Concurry.Promise()
    got = []
    waiting = threading.Event()

    def reader():
        waiting.set()
        try:
            got.append(('value', promise.result(timeout=LONG)))
        except BaseException as exc:
            got.append(('raised', exc))

    thread = start_thread(reader)
    assert waiting.wait(LONG)
    exc = OSError('e')
    if outcome == 'value':
        promise.set_result(7)
    elif outcome == 'exception':
        promise.set_exception(exc)
    else:
        promise.cancel()
    thread.join(LONG)
    assert not thread.is_alive()
    if outcome == 'value':
        assert got == [('value', 7)]
    elif outcome == 'exception':
        assert got == [('raised', exc)]
    else:
        assert isinstance(got[0][1], concurrent.futures.CancelledError)


def test_i15_exception_blocks_until_completion():
    promise = Concurry.Promise()
    exc = ValueError()
    start_thread(lambda: promise.set_exception(exc))
    assert promise.exception(timeout=LONG) is exc


@pytest.mark.parametrize('state', ['pending', 'running'])
def test_i16_timeout_raises_and_leaves_the_future_alone(state):
    promise = Concurry.Promise()
    if state == 'running':
        promise.set_running_or_notify_cancel()
    with pytest.raises(TimeoutError):
        promise.result(timeout=0.05)
    with pytest.raises(TimeoutError):
        promise.exception(timeout=0.05)
    assert not promise.done()
    assert promise.running() == (state == 'running')
    promise.set_result('later')
    assert promise.result() == 'later'


@pytest.mark.parametrize('timeout', [0, -1, -1000])
def test_i17_i18_zero_or_negative_timeout_polls(timeout):
    promise = Concurry.Promise()
    start = GLib.get_monotonic_time()
    with pytest.raises(TimeoutError):
        promise.result(timeout=timeout)
    with pytest.raises(TimeoutError):
        promise.exception(timeout=timeout)
    assert GLib.get_monotonic_time() - start < 1_000_000
    promise.set_result(1)
    assert promise.result(timeout=timeout) == 1


def test_i19_timeout_error_is_the_builtin_one_with_no_message():
    promise = Concurry.Promise()
    with pytest.raises(TimeoutError) as info:
        promise.result(0)
    assert type(info.value) is TimeoutError
    assert concurrent.futures.TimeoutError is TimeoutError
    assert Concurry.TimeoutError is TimeoutError
    assert str(info.value) == ''
    promise.cancel()


def test_i20_a_timeout_does_not_stick():
    promise = Concurry.Promise()
    with pytest.raises(TimeoutError):
        promise.result(0.01)
    start_thread(lambda: promise.set_result('eventually'))
    assert promise.result() == 'eventually'


def test_i23_exception_with_timeout_raises_rather_than_returning():
    promise = Concurry.Promise()
    with pytest.raises(TimeoutError):
        promise.exception(0.01)
    assert not promise.done()
    promise.cancel()


# --------------------------------------------------------------------------
# 3. cancel()
# --------------------------------------------------------------------------

def test_i24_cancel_pending_returns_true_and_wakes_waiters():
    promise = Concurry.Promise()
    got = []
    waiting = threading.Barrier(3)

    def reader():
        waiting.wait(LONG)
        try:
            promise.result(LONG)
        except concurrent.futures.CancelledError as exc:
            got.append(exc)

    threads = [start_thread(reader) for _ in range(2)]
    waiting.wait(LONG)
    assert promise.cancel() is True
    for thread in threads:
        thread.join(LONG)
    assert len(got) == 2
    assert promise.cancelled()


def test_i26_cancel_finished_future_returns_false():
    done = Concurry.wrap_future(1)
    failed = failed_future(ValueError())
    assert done.cancel() is False
    assert failed.cancel() is False
    assert done.result() == 1
    assert isinstance(failed.exception(), ValueError)


def test_i27_decision_cancel_twice_returns_true_again():
    promise = Concurry.Promise()
    calls = []
    promise.add_done_callback(lambda f: calls.append(1))
    assert promise.cancel() is True
    assert promise.cancel() is True
    assert Concurry.wait([promise], timeout=LONG).done == {promise}
    assert calls == [1]


def test_i28_cancelled_future_predicates():
    promise = Concurry.Promise()
    promise.cancel()
    assert promise.cancelled() and promise.done() and not promise.running()


def test_i30_cancellation_is_not_an_exception():
    promise = Concurry.Promise()
    promise.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        promise.exception()
    done, not_done = Concurry.wait([promise, Concurry.Promise()], timeout=0.01,
                                   return_when=Concurry.FIRST_EXCEPTION)
    assert done == {promise}


# --------------------------------------------------------------------------
# 4. done callbacks
# --------------------------------------------------------------------------

@pytest.mark.parametrize('outcome', ['value', 'exception', 'cancel'])
def test_i34_callback_called_once_with_the_future(outcome):
    promise = Concurry.Promise()
    calls = []
    promise.add_done_callback(calls.append)
    if outcome == 'value':
        promise.set_result(1)
    elif outcome == 'exception':
        promise.set_exception(ValueError())
        assert isinstance(promise.exception(), ValueError)
    else:
        promise.cancel()
    drain()
    drain()
    assert calls == [promise]
    assert calls[0] is promise


def test_i36_callbacks_run_in_the_order_added():
    promise = Concurry.Promise()
    order = []
    for i in range(5):
        promise.add_done_callback(lambda f, i=i: order.append(i))
    promise.set_result(None)
    drain()
    assert order == [0, 1, 2, 3, 4]


def test_i38_raising_callback_on_done_future_does_not_reach_the_caller(monkeypatch):
    monkeypatch.setattr(sys, 'excepthook', lambda *info: None)
    done = Concurry.wrap_future(1)
    done.add_done_callback(lambda f: 1 / 0)   # does not raise here
    drain()


def test_i40_same_callable_twice_runs_twice():
    promise = Concurry.Promise()
    calls = []
    promise.add_done_callback(calls.append)
    promise.add_done_callback(calls.append)
    promise.set_result(1)
    drain()
    assert calls == [promise, promise]


def test_i40_remove_done_callback():
    promise = Concurry.Promise()
    calls = []
    keep = promise.add_done_callback(lambda f: calls.append('kept'))
    removed = promise.add_done_callback(lambda f: calls.append('removed'))
    assert keep != removed
    assert promise.remove_done_callback(removed) is True
    assert promise.remove_done_callback(removed) is False
    promise.set_result(1)
    drain()
    assert calls == ['kept']


def test_i41_callback_may_use_the_same_future():
    promise = Concurry.Promise()
    seen = []

    def callback(future):
        seen.append(future.result(timeout=0))
        seen.append(future.exception())
        seen.append(future.done())
        seen.append(future.cancel())
        seen.append(Concurry.wait([future], timeout=0).done == {future})
        future.add_done_callback(lambda f: seen.append('nested'))

    promise.add_done_callback(callback)
    promise.set_result(7)
    drain()
    drain()
    assert seen == [7, None, True, False, True, 'nested']


def test_i42_callback_receives_the_object_it_was_added_to(executor):
    future = executor.submit(lambda: 1)
    calls = []
    future.add_done_callback(calls.append)
    assert future.result(LONG) == 1
    executor.shutdown(wait=True)    # delivers (see the callback rule)
    assert calls == [future]
    assert calls[0] is future


def test_i46_add_versus_complete_race_runs_each_callback_exactly_once():
    counts = []
    barrier = threading.Barrier(2)
    for _ in range(200):
        promise = Concurry.Promise()
        calls = []
        thread = start_thread(lambda: (barrier.wait(LONG), promise.set_result(1)))
        barrier.wait(LONG)
        promise.add_done_callback(calls.append)
        thread.join(LONG)
        drain()
        counts.append(len(calls))
    drain()
    assert set(counts) == {1}


def test_i48_cancel_inside_a_callback_returns_false():
    promise = Concurry.Promise()
    seen = []
    promise.add_done_callback(lambda f: seen.append(f.cancel()))
    promise.set_result('kept')
    drain()
    assert seen == [False]
    assert promise.result() == 'kept'


def test_callback_user_data_is_passed_through():
    promise = Concurry.Promise()
    calls = []
    promise.add_done_callback(lambda f, a, b: calls.append((f, a, b)), 'a', 2)
    promise.set_result(1)
    drain()
    assert calls == [(promise, 'a', 2)]


def test_add_done_callback_rejects_non_callables():
    with pytest.raises(TypeError):
        Concurry.Promise().add_done_callback(42)


# --------------------------------------------------------------------------
# the callback rule: with and without a running main loop
# --------------------------------------------------------------------------

def test_callback_rule_blocked_result_delivers_other_callbacks():
    """While the main thread blocks in result(), the callbacks of other
    futures are delivered as they complete (the C wait iterates the main
    context)."""
    first = Concurry.Promise()
    second = Concurry.Promise()
    calls = []

    def on_first(future):
        calls.append('first')
        # Completed from a callback that only runs while result() blocks.
        second.set_result('second')

    first.add_done_callback(on_first)
    start_thread(first.set_result, 1)
    assert second.result(LONG) == 'second'
    assert calls == ['first']


# --------------------------------------------------------------------------
# 9. wrap_future
# --------------------------------------------------------------------------

def test_i99_wrap_future_of_a_concurry_future_is_itself(executor):
    for future in (Concurry.Promise(), Concurry.wrap_future(1), executor.submit(int)):
        assert Concurry.wrap_future(future) is future
        assert Concurry.wrap_future(Concurry.wrap_future(future)) is future


@pytest.mark.parametrize('value', [None, 'str', {'d': 1}, ValueError('as a value'),
                                   42, 2 ** 100, (1, 2)])
def test_i100_plain_values_become_done_futures(value):
    future = Concurry.wrap_future(value)
    assert future.done()
    assert future.result() is value
    assert future.exception() is None


def test_i100_duck_typed_futures_are_plain_values():
    class Duck:
        def result(self):
            return 1

        def done(self):
            return True

    duck = Duck()
    assert Concurry.wrap_future(duck).result() is duck


def test_i100_wrap_concurrent_future_value_exception_and_cancel():
    source = concurrent.futures.Future()
    wrapped = Concurry.wrap_future(source)
    assert isinstance(wrapped, Concurry.Future)
    assert not wrapped.done()
    source.set_result([1])
    assert wrapped.result(LONG) is source.result()

    failing = concurrent.futures.Future()
    wrapped = Concurry.wrap_future(failing)
    exc = OSError('io')
    failing.set_exception(exc)
    assert wrapped.exception(LONG) is exc

    cancelled = concurrent.futures.Future()
    wrapped = Concurry.wrap_future(cancelled)
    cancelled.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        wrapped.result(LONG)


def test_i100_cancelling_the_wrapper_cancels_the_concurrent_future():
    source = concurrent.futures.Future()
    cancelled = threading.Event()
    source.add_done_callback(lambda f: cancelled.set())
    wrapped = Concurry.wrap_future(source)
    assert wrapped.cancel()
    # Propagated from the private context, without any main loop running.
    assert cancelled.wait(LONG)
    assert source.cancelled()


def test_i100_wrap_done_concurrent_future():
    source = concurrent.futures.Future()
    source.set_result('done already')
    assert Concurry.wrap_future(source).result(0) == 'done already'


def test_i100_wrap_concurrent_future_from_a_thread_pool():
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = [Concurry.wrap_future(pool.submit(pow, 3, i)) for i in range(5)]
        assert Concurry.gather(futures, timeout=LONG) == [1, 3, 9, 27, 81]


def test_i100_wrap_gio_task():
    task = Gio.Task.new(None, None, None, None)
    future = Concurry.wrap_future(task)
    assert not future.done()
    task.return_value(GObject.Value(GObject.TYPE_STRING, 'from the task'))
    assert future.result(LONG) == 'from the task'

    failing = Gio.Task.new(None, None, None, None)
    future = Concurry.wrap_future(failing)
    failing.return_error(GLib.Error.new_literal(Gio.io_error_quark(), 'task failed',
                                                Gio.IOErrorEnum.FAILED))
    assert future.exception(LONG).message == 'task failed'


def test_i100_wrap_coroutine_without_a_running_loop_is_a_type_error():
    async def coroutine():
        return 1

    coro = coroutine()
    with pytest.raises(TypeError, match='running asyncio event loop'):
        Concurry.wrap_future(coro)
    coro.close()


def test_i100_gio_async_result_that_is_not_a_task_is_a_type_error():
    class Result(GObject.Object, Gio.AsyncResult):
        pass

    with pytest.raises(TypeError, match='gio_call'):
        Concurry.wrap_future(Result())


def test_i101_wrapping_the_same_raw_future_twice_gives_two_futures():
    source = concurrent.futures.Future()
    first = Concurry.wrap_future(source)
    second = Concurry.wrap_future(source)
    assert first is not second
    assert first.uuid != second.uuid
    source.set_result(1)
    assert Concurry.gather([first, second], timeout=LONG) == [1, 1]


def test_i103_every_future_has_the_whole_api():
    for future in (Concurry.Promise(), Concurry.wrap_future(1),
                   Concurry.ResolvedFuture.new_int(1)):
        for name in ('cancel', 'cancelled', 'running', 'done', 'result', 'exception',
                     'add_done_callback', 'set_result', 'set_exception',
                     'set_running_or_notify_cancel', '__await__', 'uuid'):
            assert hasattr(future, name), name


def test_gio_call_value_error_and_cancel(tmp_path):
    path = tmp_path / 'data.txt'
    path.write_bytes(b'contents')
    gfile = Gio.File.new_for_path(str(path))
    future = Concurry.gio_call(gfile.load_contents_async, finish=gfile.load_contents_finish)
    ok, contents, _etag = future.result(LONG)
    assert ok and contents == b'contents'

    missing = Gio.File.new_for_path(str(tmp_path / 'missing'))
    future = Concurry.gio_call(missing.load_contents_async, finish=missing.load_contents_finish)
    error = future.exception(LONG)
    assert isinstance(error, GLib.Error)
    assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND)

    with pytest.raises(TypeError):
        Concurry.gio_call(gfile.load_contents_async, finish=None)


# --------------------------------------------------------------------------
# 10. exception types
# --------------------------------------------------------------------------

def test_i104_cancelled_error_is_the_concurrent_futures_one():
    import asyncio
    promise = Concurry.Promise()
    promise.cancel()
    with pytest.raises(concurrent.futures.CancelledError) as info:
        promise.result()
    # Separate classes since Python 3.8: asyncio's is a BaseException.
    assert not isinstance(info.value, asyncio.CancelledError)
    assert isinstance(info.value, Exception)
    assert Concurry.CancelledError is concurrent.futures.CancelledError


def test_i105_errors_from_the_work_are_reraised_unchanged(executor):
    class Custom(Exception):
        pass

    for exc in (Custom('custom', 1), TimeoutError('from the work'), KeyboardInterrupt()):
        future = executor.submit(lambda exc=exc: (_ for _ in ()).throw(exc))
        got = future.exception(LONG)
        assert got is exc
        assert got.args == exc.args


# --------------------------------------------------------------------------
# 11. thread safety and identity
# --------------------------------------------------------------------------

def test_i106_many_threads_on_one_future():
    promise = Concurry.Promise()
    barrier = threading.Barrier(11)
    seen = []
    errors = []

    def reader():
        try:
            barrier.wait(LONG)
            for _ in range(200):
                promise.done()
                promise.running()
                promise.cancelled()
                repr(promise)
            seen.append(promise.result(LONG))
            seen.append(promise.exception(LONG))
        except BaseException as exc:   # pragma: no cover - reported below
            errors.append(exc)

    threads = [start_thread(reader) for _ in range(10)]
    barrier.wait(LONG)
    promise.set_result('shared')
    for thread in threads:
        thread.join(LONG)
    assert errors == []
    assert seen.count('shared') == 10
    assert seen.count(None) == 10


def test_i106_many_threads_racing_to_complete_one_promise():
    promise = Concurry.Promise()
    barrier = threading.Barrier(8)
    wins = []

    def racer(i):
        barrier.wait(LONG)
        if i % 3 == 0:
            wins.append(('cancel', promise.cancel()))
        else:
            try:
                promise.set_result(i)
                wins.append(('set', True))
            except concurrent.futures.InvalidStateError:
                wins.append(('set', False))

    threads = [start_thread(racer, i) for i in range(8)]
    for thread in threads:
        thread.join(LONG)
    successes = [w for w in wins if w == ('set', True)]
    if promise.cancelled():
        assert successes == []
    else:
        assert len(successes) == 1
        assert all(w == ('cancel', False) for w in wins if w[0] == 'cancel')


def test_i108_uuid_is_a_unique_string_with_a_kind_prefix(executor):
    futures = [Concurry.Promise() for _ in range(50)] + [executor.submit(int)]
    ids = [f.uuid for f in futures]
    assert all(isinstance(i, str) for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids[0].startswith('promise-')
    assert Concurry.wrap_future(1).uuid not in ids
    assert futures[0].uuid == ids[0]


def test_override_keeps_the_raw_c_methods():
    promise = Concurry.Promise()
    assert promise.add_done_callback(lambda f: None) > 0
    assert promise.resolve_int(3)
    assert promise.wait(0)
    assert promise.get_value() == 3
    assert promise.result() == 3
    drain()
