# SPDX-License-Identifier: LGPL-2.1-or-later
"""concurry futures behave as ``concurrent.futures.Future`` does.

The behaviours that CPython's own tests check for futures
(Lib/test/test_concurrent_futures/test_future.py), written anew for
``Concurry.Promise`` (the writable future users make) and the read-only
futures of executors, plus concurry's deliberate differences:

* done callbacks added on a thread that runs a GLib main loop are delivered
  on that loop (on a plain thread: ``concurrent.futures``' rule);
* ``cancel()`` returns False for running work, ``interrupt()`` is the
  cooperative cancel;
* the exception a future failed with is the very object raised.

Timing-free: threads synchronise with events; timeouts are safety nets.
"""

import concurrent.futures
import logging
import threading

import pytest

import gi

gi.require_version('Concurry', '1')
gi.require_version('GLib', '2.0')
from gi.repository import Concurry, GLib  # noqa: E402

SAFETY = 30  # seconds: only reached if the behaviour under test is broken

# The override of Concurry.Promise must give it the Pythonic methods of
# Concurry.Future; while the raw C ones come first in its MRO, its cancel()
# and add_done_callback() are the C ones (and the raw callbacks have been
# seen to crash the interpreter later), so those tests are not run.
PROMISE_RAW_METHODS = Concurry.Promise.add_done_callback is not Concurry.Future.add_done_callback
promise_methods = pytest.mark.xfail(
    PROMISE_RAW_METHODS, run=False, strict=False,
    reason='wing: Concurry.Promise MRO puts the raw gi Concurry.Future before the '
           'override, so cancel()/add_done_callback() are the C methods')


# --------------------------------------------------------------------------
# futures in each state
# --------------------------------------------------------------------------

def pending():
    return Concurry.Promise()


def running():
    promise = Concurry.Promise()
    assert promise.set_running_or_notify_cancel() is True
    return promise


def cancelled():
    promise = Concurry.Promise()
    assert promise.cancel() is True
    return promise


def finished(value=42):
    promise = Concurry.Promise()
    promise.set_result(value)
    return promise


def failed(exc=None):
    promise = Concurry.Promise()
    promise.set_exception(exc if exc is not None else OSError('disk on fire'))
    return promise


def observed(future):
    """Reads the error of a failed future, so that it is not reported as
    never retrieved."""
    future.exception(timeout=0)
    return future


def in_thread(fn, *args):
    thread = threading.Thread(target=fn, args=args, daemon=True)
    thread.start()
    return thread


def joined(thread):
    thread.join(SAFETY)
    assert not thread.is_alive()


# --------------------------------------------------------------------------
# types
# --------------------------------------------------------------------------

def test_promise_is_a_concurrent_futures_future():
    assert isinstance(Concurry.Promise(), concurrent.futures.Future)


def test_executor_future_is_a_concurrent_futures_future(executor):
    future = executor.submit(pow, 2, 8)
    assert isinstance(future, concurrent.futures.Future)
    assert future.result(timeout=SAFETY) == 256


def test_exception_classes_are_those_of_concurrent_futures():
    assert Concurry.CancelledError is concurrent.futures.CancelledError
    assert Concurry.InvalidStateError is concurrent.futures.InvalidStateError
    assert Concurry.TimeoutError is TimeoutError
    assert concurrent.futures.TimeoutError is TimeoutError


# --------------------------------------------------------------------------
# states: done(), running(), cancelled()
# --------------------------------------------------------------------------

def test_new_promise_is_neither_done_nor_running_nor_cancelled():
    future = pending()
    assert (future.done(), future.running(), future.cancelled()) == (False, False, False)


def test_promise_marked_running_is_running_and_not_done():
    future = running()
    assert (future.done(), future.running(), future.cancelled()) == (False, True, False)


def test_cancelled_promise_is_done_and_cancelled_and_not_running():
    future = cancelled()
    assert (future.done(), future.running(), future.cancelled()) == (True, False, True)


def test_finished_promise_is_done_and_neither_running_nor_cancelled():
    for future in (finished(), observed(failed())):
        assert (future.done(), future.running(), future.cancelled()) == (True, False, False)


def test_queued_work_is_not_running_until_it_starts(pools, releases):
    pool = pools(1)
    started, release = threading.Event(), threading.Event()
    releases.append(release)
    blocker = pool.submit(lambda: (started.set(), release.wait(SAFETY)))
    assert started.wait(SAFETY)
    queued = pool.submit(pow, 2, 3)
    assert blocker.running() and not blocker.done()
    assert not queued.running() and not queued.done()
    release.set()
    assert queued.result(timeout=SAFETY) == 8
    assert not blocker.running() and blocker.done()


# --------------------------------------------------------------------------
# repr
# --------------------------------------------------------------------------

def test_repr_names_the_state_and_the_outcome_type():
    assert 'state=pending' in repr(pending())
    assert 'state=running' in repr(running())
    assert 'state=cancelled' in repr(cancelled())
    assert repr(finished(4)).endswith('state=finished returned int>')
    assert repr(observed(failed(OSError()))).endswith('state=finished raised OSError>')


def test_repr_of_failed_work_and_done_futures_names_the_exception_type(executor):
    def work():
        raise OSError('work')

    future = executor.submit(work)
    future.exception(timeout=SAFETY)
    done = Concurry.SyncFuture(exception_value=KeyError('done'))
    done.exception(timeout=0)
    assert repr(future).endswith('state=finished raised OSError>')
    assert repr(done).endswith('state=finished raised KeyError>')
    assert repr(Concurry.SyncFuture(result_value=[1])).endswith(
        'state=finished returned list>')


# --------------------------------------------------------------------------
# cancel()
# --------------------------------------------------------------------------

def test_cancel_of_a_pending_future_returns_true_and_cancels_it():
    future = pending()
    assert future.cancel() is True
    assert future.cancelled()


@promise_methods
def test_cancel_of_a_running_future_returns_false_and_it_keeps_running():
    future = running()
    assert future.cancel() is False
    assert future.running() and not future.done() and not future.cancelled()
    future.set_result(1)
    assert future.result(timeout=0) == 1


def test_cancel_of_a_cancelled_future_returns_true_again():
    future = cancelled()
    assert future.cancel() is True
    assert future.cancelled()


def test_cancel_of_a_finished_future_returns_false_and_keeps_the_outcome():
    value = finished(7)
    exc = OSError('kept')
    error = failed(exc)
    assert value.cancel() is False
    assert error.cancel() is False
    assert value.result(timeout=0) == 7
    assert error.exception(timeout=0) is exc


def test_cancel_of_running_work_returns_false_and_the_work_completes(pools, releases):
    """As in concurrent.futures; interrupt() is concurry's cooperative cancel."""
    pool = pools(1)
    started, release = threading.Event(), threading.Event()
    releases.append(release)
    future = pool.submit(lambda: (started.set(), release.wait(SAFETY), 'completed')[2])
    assert started.wait(SAFETY)
    assert future.cancel() is False
    assert not future.cancelled()
    release.set()
    assert future.result(timeout=SAFETY) == 'completed'


def test_cancelled_queued_work_never_runs(pools, releases):
    pool = pools(1)
    started, release = threading.Event(), threading.Event()
    releases.append(release)
    ran = []
    pool.submit(lambda: (started.set(), release.wait(SAFETY)))
    assert started.wait(SAFETY)
    queued = pool.submit(ran.append, 'queued')
    assert queued.cancel() is True
    release.set()
    pool.shutdown(wait=True)
    assert ran == []
    with pytest.raises(concurrent.futures.CancelledError):
        queued.result(timeout=0)


def test_interrupt_cancels_running_work_at_once_and_drops_its_result(pools, releases):
    """Deliberate difference: interrupt() (the C library's cancel) also
    cancels running work; Python work still runs to its end."""
    pool = pools(1)
    started, release, finished_work = threading.Event(), threading.Event(), threading.Event()
    releases.append(release)

    def work():
        started.set()
        release.wait(SAFETY)
        finished_work.set()
        return 'dropped'

    future = pool.submit(work)
    assert started.wait(SAFETY)
    assert future.interrupt() is True
    assert future.cancelled() and future.done()
    release.set()
    assert finished_work.wait(SAFETY)
    pool.shutdown(wait=True)
    with pytest.raises(concurrent.futures.CancelledError):
        future.result(timeout=0)


def test_interrupt_of_a_finished_future_returns_false():
    future = finished(3)
    assert future.interrupt() is False
    assert future.result(timeout=0) == 3


# --------------------------------------------------------------------------
# result() and exception()
# --------------------------------------------------------------------------

@pytest.mark.parametrize('timeout', [0, -1, 0.01])
def test_result_of_an_unfinished_future_times_out_and_leaves_it_unchanged(timeout):
    for future in (pending(), running()):
        was_running = future.running()
        with pytest.raises(TimeoutError):
            future.result(timeout=timeout)
        with pytest.raises(TimeoutError):
            future.exception(timeout=timeout)
        assert not future.done() and future.running() == was_running
        future.set_result('later')
        assert future.result() == 'later'


def test_timeout_raised_is_the_builtin_timeout_error_without_message():
    with pytest.raises(TimeoutError) as info:
        pending().result(timeout=0)
    assert type(info.value) is TimeoutError
    assert str(info.value) == ''


def test_result_of_a_finished_future_with_zero_timeout_gives_the_outcome():
    exc = OSError('failure')
    assert finished(42).result(timeout=0) == 42
    assert finished(42).exception(timeout=0) is None
    with pytest.raises(OSError) as info:
        failed(exc).result(timeout=0)
    assert info.value is exc


def test_result_and_exception_of_a_cancelled_future_raise_cancelled_error():
    future = cancelled()
    for timeout in (0, None):
        with pytest.raises(concurrent.futures.CancelledError):
            future.result(timeout=timeout)
        with pytest.raises(concurrent.futures.CancelledError):
            future.exception(timeout=timeout)


def test_result_waits_for_a_value_set_by_another_thread():
    future = pending()
    thread = in_thread(future.set_result, 'from thread')
    assert future.result(timeout=SAFETY) == 'from thread'
    joined(thread)


def test_result_waits_for_a_cancel_from_another_thread():
    future = pending()
    thread = in_thread(future.cancel)
    with pytest.raises(concurrent.futures.CancelledError):
        future.result(timeout=SAFETY)
    joined(thread)


def test_exception_waits_for_an_exception_set_by_another_thread():
    future = pending()
    exc = OSError('set elsewhere')
    thread = in_thread(future.set_exception, exc)
    assert future.exception(timeout=SAFETY) is exc
    joined(thread)


def test_exception_waits_for_a_value_and_returns_none():
    future = pending()
    thread = in_thread(future.set_result, 5)
    assert future.exception(timeout=SAFETY) is None
    joined(thread)


def test_many_threads_waiting_on_one_future_all_get_its_value():
    future = pending()
    barrier = threading.Barrier(11)
    got = []

    def waiter():
        barrier.wait(SAFETY)
        got.append((future.result(timeout=SAFETY), future.done(), future.running(),
                    future.cancelled()))

    threads = [in_thread(waiter) for _ in range(10)]
    barrier.wait(SAFETY)
    future.set_result('all')
    for thread in threads:
        joined(thread)
    assert got == [('all', True, False, False)] * 10


def test_result_raises_the_same_exception_object_every_time():
    """Deliberate difference kept from concurry: the very object comes back."""
    exc = ValueError('same')
    future = failed(exc)
    for _ in range(2):
        with pytest.raises(ValueError) as info:
            future.result()
        assert info.value is exc
    assert future.exception() is exc


def test_work_exception_comes_back_as_the_same_object(executor):
    raised = []

    def work():
        exc = KeyError('mine')
        raised.append(exc)
        raise exc

    future = executor.submit(work)
    assert future.exception(timeout=SAFETY) is raised[0]
    with pytest.raises(KeyError) as info:
        future.result()
    assert info.value is raised[0]


class FalsyError(Exception):
    def __bool__(self):
        return False

    def __len__(self):
        return 0


def test_a_falsy_exception_still_fails_the_future(executor):
    promise = failed(FalsyError())
    with pytest.raises(FalsyError):
        promise.result(timeout=0)

    def work():
        raise FalsyError()

    future = executor.submit(work)
    with pytest.raises(FalsyError):
        future.result(timeout=SAFETY)
    assert isinstance(future.exception(), FalsyError)


# --------------------------------------------------------------------------
# set_result(), set_exception(), set_running_or_notify_cancel()
# --------------------------------------------------------------------------

def test_set_result_twice_raises_invalid_state_and_keeps_the_first_value():
    future = finished(1)
    with pytest.raises(concurrent.futures.InvalidStateError):
        future.set_result(2)
    with pytest.raises(concurrent.futures.InvalidStateError):
        future.set_exception(OSError('late'))
    assert future.result(timeout=0) == 1


def test_set_exception_twice_raises_invalid_state_and_keeps_the_first_exception():
    first = OSError('first')
    future = failed(first)
    with pytest.raises(concurrent.futures.InvalidStateError):
        future.set_exception(OSError('second'))
    with pytest.raises(concurrent.futures.InvalidStateError):
        future.set_result(2)
    assert future.exception(timeout=0) is first


def test_set_result_on_a_cancelled_future_raises_invalid_state():
    future = cancelled()
    with pytest.raises(concurrent.futures.InvalidStateError):
        future.set_result(1)
    assert future.cancelled()


def test_set_running_or_notify_cancel_of_a_cancelled_future_returns_false():
    assert cancelled().set_running_or_notify_cancel() is False


@pytest.mark.parametrize('make', [running, finished], ids=['running', 'finished'])
def test_set_running_or_notify_cancel_in_another_state_raises_runtime_error(make):
    with pytest.raises(RuntimeError):
        make().set_running_or_notify_cancel()


def test_futures_of_executors_are_read_only(executor):
    future = executor.submit(pow, 2, 5)
    assert future.result(timeout=SAFETY) == 32
    with pytest.raises(NotImplementedError):
        future.set_result(9)
    with pytest.raises(NotImplementedError):
        future.set_exception(OSError('no'))
    with pytest.raises(NotImplementedError):
        future.set_running_or_notify_cancel()
    assert future.result() == 32


def test_pending_futures_of_executors_cannot_be_completed_by_the_user(pools, releases):
    pool = pools(1)
    release = threading.Event()
    releases.append(release)
    future = pool.submit(release.wait, SAFETY)
    for call in (lambda: future.set_result(9),
                 lambda: future.set_exception(OSError('no')),
                 future.set_running_or_notify_cancel):
        with pytest.raises(NotImplementedError):
            call()
    release.set()
    assert future.result(timeout=SAFETY) is True


def test_wrappers_of_concurrent_futures_futures_are_read_only():
    source = concurrent.futures.Future()
    wrapper = Concurry.wrap_future(source)
    with pytest.raises(NotImplementedError):
        wrapper.set_result(1)
    with pytest.raises(NotImplementedError):
        wrapper.set_exception(OSError('no'))
    with pytest.raises(NotImplementedError):
        wrapper.set_running_or_notify_cancel()
    source.set_result(2)
    assert wrapper.result(timeout=SAFETY) == 2


# --------------------------------------------------------------------------
# done callbacks on a thread that runs no loop: concurrent.futures' rule
# --------------------------------------------------------------------------

@promise_methods
def test_done_callback_gets_the_future_once_when_a_value_is_set():
    future = pending()
    calls = []
    future.add_done_callback(calls.append)
    assert calls == []
    future.set_result(5)
    assert calls == [future]
    assert calls[0].result() == 5


@promise_methods
def test_done_callback_gets_the_future_once_when_an_exception_is_set():
    future = pending()
    exc = OSError('cb')
    calls = []
    future.add_done_callback(calls.append)
    future.set_exception(exc)
    assert calls == [future]
    assert future.exception() is exc


@promise_methods
def test_done_callback_gets_the_future_once_when_it_is_cancelled():
    future = pending()
    calls = []
    future.add_done_callback(calls.append)
    assert future.cancel()
    assert future.cancel()
    assert calls == [future]
    assert future.cancelled()


@promise_methods
@pytest.mark.parametrize('make', [finished, lambda: observed(failed()), cancelled],
                         ids=['successful', 'failed', 'cancelled'])
def test_done_callback_on_an_already_done_future_runs_at_once(make):
    future = make()
    calls = []
    future.add_done_callback(calls.append)
    assert calls == [future]


@promise_methods
def test_done_callback_runs_on_the_thread_that_completes_the_future():
    future = pending()
    where = []
    future.add_done_callback(lambda f: where.append(threading.current_thread().name))
    thread = threading.Thread(target=future.set_result, args=(1,), name='completer',
                              daemon=True)
    thread.start()
    joined(thread)
    assert where == ['completer']


def test_done_callback_of_work_runs_on_the_worker_thread(pools, releases):
    pool = pools(1)
    release = threading.Event()
    releases.append(release)
    workers = []
    future = pool.submit(lambda: (release.wait(SAFETY), threading.current_thread().name)[1])
    seen = threading.Event()

    def callback(f):
        workers.append(threading.current_thread().name)
        seen.set()

    future.add_done_callback(callback)
    release.set()
    assert seen.wait(SAFETY)
    assert workers == [future.result(timeout=SAFETY)]


def test_done_callback_on_finished_work_runs_at_once(executor):
    future = executor.submit(pow, 2, 2)
    assert future.result(timeout=SAFETY) == 4
    calls = []
    future.add_done_callback(calls.append)
    assert calls == [future]


def test_a_raising_callback_on_work_is_logged_and_the_others_still_run(executor, caplog):
    future = executor.submit(pow, 2, 2)
    assert future.result(timeout=SAFETY) == 4
    calls = []

    def raising(f):
        raise ZeroDivisionError('in callback')

    with caplog.at_level(logging.ERROR):
        future.add_done_callback(raising)      # does not raise
        future.add_done_callback(calls.append)
    assert calls == [future]
    assert 'exception calling callback for' in caplog.text
    assert 'ZeroDivisionError' in caplog.text


def test_cancelling_queued_work_runs_its_callback_on_the_cancelling_thread(pools, releases):
    pool = pools(1)
    started, release = threading.Event(), threading.Event()
    releases.append(release)
    pool.submit(lambda: (started.set(), release.wait(SAFETY)))
    assert started.wait(SAFETY)
    queued = pool.submit(pow, 2, 2)
    calls = []
    queued.add_done_callback(lambda f: calls.append((f, threading.current_thread().name)))
    assert calls == []
    assert queued.cancel()
    assert calls == [(queued, threading.current_thread().name)]


def test_a_callback_added_while_work_completes_runs_exactly_once(executor):
    count = 200
    calls = {}
    lock = threading.Lock()
    all_called = threading.Event()

    def callback(f):
        with lock:
            calls[id(f)] = calls.get(id(f), 0) + 1
            if sum(calls.values()) >= count:
                all_called.set()

    futures = []
    for n in range(count):
        future = executor.submit(int, n)
        future.add_done_callback(callback)
        futures.append(future)
    assert all_called.wait(SAFETY)
    assert Concurry.wait(futures, timeout=SAFETY).not_done == set()
    with lock:
        assert sorted(calls) == sorted(id(f) for f in futures)
        assert set(calls.values()) == {1}


@promise_methods
def test_done_callbacks_run_in_the_order_they_were_added():
    future = pending()
    order = []
    for n in range(5):
        future.add_done_callback(lambda f, n=n: order.append(n))
    future.set_result(None)
    assert order == [0, 1, 2, 3, 4]


@promise_methods
def test_the_same_callback_added_twice_runs_twice():
    future = pending()
    calls = []
    future.add_done_callback(calls.append)
    future.add_done_callback(calls.append)
    future.set_result(None)
    assert calls == [future, future]


@promise_methods
def test_a_raising_callback_is_logged_and_the_others_still_run(caplog):
    future = pending()
    calls = []

    def raising(f):
        raise ZeroDivisionError('in callback')

    future.add_done_callback(calls.append)
    future.add_done_callback(raising)
    future.add_done_callback(calls.append)
    with caplog.at_level(logging.ERROR):
        future.set_result(5)            # does not raise
    assert calls == [future, future]
    assert 'exception calling callback for' in caplog.text
    assert 'ZeroDivisionError' in caplog.text


@promise_methods
def test_a_raising_callback_on_a_done_future_is_logged_not_raised(caplog):
    future = finished(5)

    def raising(f):
        raise ZeroDivisionError('in callback')

    with caplog.at_level(logging.ERROR):
        future.add_done_callback(raising)      # does not raise
    assert 'exception calling callback for' in caplog.text


@promise_methods
def test_a_callback_can_use_its_future_without_deadlock():
    future = pending()
    seen = []

    def callback(f):
        seen.append(f.result(timeout=0))
        seen.append(f.exception(timeout=0))
        seen.append(f.done())
        seen.append(f.cancel())
        done, not_done = Concurry.wait([f], timeout=0)
        seen.append((done, not_done))

    future.add_done_callback(callback)
    future.set_result(7)
    assert seen == [7, None, True, False, ({future}, set())]


# --------------------------------------------------------------------------
# done callbacks on a thread that runs a GLib main loop (deliberate difference)
# --------------------------------------------------------------------------

@promise_methods
def test_callback_added_on_a_thread_running_a_glib_loop_is_delivered_on_that_loop():
    """Added from inside the loop to a future that is already done, the
    callback does not run inside add_done_callback(), but on the loop."""
    future = finished(1)
    record = {}
    ready = threading.Event()

    def thread_main():
        context = GLib.MainContext.new()
        context.push_thread_default()
        loop = GLib.MainLoop.new(context, False)

        def callback(f):
            record['thread'] = threading.current_thread().name
            record['depth'] = GLib.main_depth()
            loop.quit()

        def add(*unused):
            future.add_done_callback(callback)
            record['synchronous'] = 'thread' in record
            return GLib.SOURCE_REMOVE

        source = GLib.idle_source_new()
        source.set_callback(add)
        source.attach(context)
        loop.run()
        context.pop_thread_default()
        ready.set()

    thread = threading.Thread(target=thread_main, name='glib-loop', daemon=True)
    thread.start()
    assert ready.wait(SAFETY)
    joined(thread)
    assert record == {'synchronous': False, 'thread': 'glib-loop', 'depth': 1}


def test_callback_added_on_a_glib_loop_thread_for_work_runs_on_that_loop(pools):
    pool = pools(1)
    record = {}
    ready = threading.Event()

    def thread_main():
        context = GLib.MainContext.new()
        context.push_thread_default()
        loop = GLib.MainLoop.new(context, False)

        def callback(f):
            record['thread'] = threading.current_thread().name
            record['value'] = f.result(timeout=0)
            loop.quit()

        def add(*unused):
            pool.submit(pow, 3, 2).add_done_callback(callback)
            return GLib.SOURCE_REMOVE

        source = GLib.idle_source_new()
        source.set_callback(add)
        source.attach(context)
        loop.run()
        context.pop_thread_default()
        ready.set()

    thread = threading.Thread(target=thread_main, name='glib-loop', daemon=True)
    thread.start()
    assert ready.wait(SAFETY)
    joined(thread)
    assert record == {'thread': 'glib-loop', 'value': 9}


@promise_methods
def test_main_context_names_where_a_callback_runs_before_its_loop_starts():
    future = pending()
    context = GLib.MainContext.new()
    calls = []
    future.add_done_callback(lambda f: calls.append(threading.current_thread().name),
                             main_context=context)
    future.set_result(1)
    assert calls == []                  # not on the completing thread
    for _ in range(100):
        if calls:
            break
        context.iteration(False)
    assert calls == [threading.current_thread().name]
