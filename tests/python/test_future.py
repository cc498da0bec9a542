# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the foundation of concurry through the raw GObject introspection API.

These exercise Concurry.Future (through Concurry.Promise and
Concurry.ResolvedFuture) exactly as PyGObject exposes the C library: states,
values, errors, timeouts, cancellation, done callbacks and their main
contexts, wait_async, thread safety, ids, abandoned promises, the warning
about unobserved errors and translated messages.

The test environment sets G_DEBUG=fatal-warnings: every failed future made
here has its error looked at (get_error() or a wait) before it is dropped.
"""

import gc
import re
import subprocess
import sys
import threading
import time
import weakref

import pytest

import gi

gi.require_version('Concurry', '1')
gi.require_version('ConcurryTest', '1')
gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
from gi.repository import Concurry, ConcurryTest, Gio, GLib, GObject  # noqa: E402

from concurry_testutil import (  # noqa: E402
    IO_ERROR, SECOND, assert_error, child_env, drain, failed_promise, join, run_child, run_until,
    start_thread, wait_error)

State = Concurry.FutureState
TERMINAL = (State.DONE, State.FAILED, State.CANCELLED)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def run_loop(loop, timeout=5.0):
    """Run @loop until it quits; fail the test if that takes too long."""
    timed_out = []

    def on_timeout():
        timed_out.append(True)
        loop.quit()
        return GLib.SOURCE_REMOVE

    guard = GLib.timeout_add(int(timeout * 1000), on_timeout)
    loop.run()
    if not timed_out:
        GLib.source_remove(guard)
    assert not timed_out, 'main loop did not quit in time'


def wait_error_until(future, deadline):
    """future.wait_until() that must fail; returns the GLib.Error it raised."""
    with pytest.raises(GLib.Error) as info:
        future.wait_until(deadline)
    return info.value


CHILD_PRELUDE = '''
import gc, locale, sys
import gi
gi.require_version('Concurry', '1')
gi.require_version('Gio', '2.0')
from gi.repository import Concurry, Gio
'''


@pytest.fixture(autouse=True)
def unobserved_error_warnings_stay_on():
    """Every test ends with unobserved-error warnings on (conftest.py's
    clean_main_context does the rest)."""
    yield
    assert Concurry.get_unobserved_error_warnings()


# --------------------------------------------------------------------------
# states and transitions
# --------------------------------------------------------------------------

def test_new_promise_is_pending():
    promise = Concurry.Promise()
    assert promise.get_state() == State.PENDING
    assert not promise.is_done()
    assert not promise.is_running()
    assert not promise.is_cancelled()
    assert not promise.is_failed()
    assert promise.get_value() is None
    assert promise.get_error() is None
    assert promise.get_value_type() == GObject.TYPE_INVALID
    assert promise.get_int() == 0
    assert promise.get_string() is None


def test_promise_new_constructor_and_get_future():
    promise = Concurry.Promise.new()
    assert isinstance(promise, Concurry.Promise)
    assert isinstance(promise, Concurry.Future)
    assert promise.get_future() is promise
    assert promise.get_state() == State.PENDING


def test_mark_running_moves_pending_to_running_once():
    promise = Concurry.Promise()
    assert promise.mark_running()
    assert promise.get_state() == State.RUNNING
    assert promise.is_running()
    assert not promise.is_done()
    assert not promise.mark_running()
    assert promise.get_state() == State.RUNNING

    assert promise.resolve_int(1)
    assert promise.get_state() == State.DONE
    assert not promise.is_running()
    assert promise.is_done()
    assert not promise.mark_running()
    assert promise.get_state() == State.DONE


def test_mark_running_refused_on_cancelled_promise():
    promise = Concurry.Promise()
    assert promise.interrupt()
    assert not promise.mark_running()
    assert promise.get_state() == State.CANCELLED


def test_resolve_moves_to_done():
    promise = Concurry.Promise()
    assert promise.resolve_int(42)
    assert promise.get_state() == State.DONE
    assert promise.is_done()
    assert not promise.is_failed()
    assert not promise.is_cancelled()
    assert not promise.is_running()
    assert promise.get_error() is None
    assert promise.wait(0) is True


def test_reject_moves_to_failed():
    promise = failed_promise()
    assert promise.get_state() == State.FAILED
    assert promise.is_done()
    assert promise.is_failed()
    assert not promise.is_cancelled()
    assert not promise.is_running()
    assert promise.get_value() is None
    assert promise.get_value_type() == GObject.TYPE_INVALID
    assert_error(promise.get_error(), IO_ERROR, Gio.IOErrorEnum.FAILED, 'boom')


def test_running_promise_can_fail():
    promise = Concurry.Promise()
    assert promise.mark_running()
    assert promise.reject_literal(IO_ERROR, Gio.IOErrorEnum.NOT_FOUND, 'gone')
    assert promise.get_state() == State.FAILED
    assert_error(wait_error(promise), IO_ERROR, Gio.IOErrorEnum.NOT_FOUND, 'gone')


def test_reject_with_cancelled_error_makes_cancelled_not_failed():
    promise = Concurry.Promise()
    assert promise.reject_literal(IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'stopped by the work')
    assert promise.get_state() == State.CANCELLED
    assert promise.is_cancelled()
    assert not promise.is_failed()
    assert_error(promise.get_error(), IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'stopped by the work')
    assert promise.interrupt() is True


def test_resolved_future_is_done_from_birth():
    future = Concurry.ResolvedFuture.new_int(5)
    assert isinstance(future, Concurry.Future)
    assert future.get_state() == State.DONE
    assert future.is_done()
    assert not future.is_running()
    assert future.get_int() == 5
    assert future.wait(0)
    assert future.interrupt() is False
    assert future.get_state() == State.DONE
    assert future.get_int() == 5


def test_resolved_error_future_is_failed_from_birth():
    future = Concurry.ResolvedFuture.new_error_literal(IO_ERROR, Gio.IOErrorEnum.PERMISSION_DENIED, 'no')
    assert future.get_state() == State.FAILED
    assert future.is_failed()
    assert future.interrupt() is False
    assert future.get_state() == State.FAILED
    assert_error(future.get_error(), IO_ERROR, Gio.IOErrorEnum.PERMISSION_DENIED, 'no')


def test_resolved_future_with_cancelled_error_is_cancelled():
    future = Concurry.ResolvedFuture.new_error_literal(IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'nope')
    assert future.get_state() == State.CANCELLED
    assert future.is_cancelled()
    assert not future.is_failed()
    assert future.interrupt() is True
    assert_error(wait_error(future), IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'nope')


# --------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------

def test_value_int():
    promise = Concurry.Promise()
    assert promise.resolve_int(-123456)
    assert promise.get_int() == -123456
    assert promise.get_value() == -123456
    assert promise.get_value_type() == GObject.TYPE_INT


def test_value_int64_above_32_bits():
    big = 2 ** 40 + 3
    promise = Concurry.Promise()
    assert promise.resolve_int64(big)
    assert promise.get_int64() == big
    assert promise.get_value() == big
    assert promise.get_value_type() == GObject.TYPE_INT64

    negative = Concurry.Promise()
    assert negative.resolve_int64(-(2 ** 62))
    assert negative.get_int64() == -(2 ** 62)


def test_value_uint64_max():
    promise = Concurry.Promise()
    assert promise.resolve_uint64(2 ** 64 - 1)
    assert promise.get_uint64() == 2 ** 64 - 1
    assert Concurry.ResolvedFuture.new_uint64(2 ** 64 - 1).get_uint64() == 2 ** 64 - 1


def test_value_string():
    text = 'héllo wörld ✓'
    promise = Concurry.Promise()
    assert promise.resolve_string(text)
    assert promise.get_string() == text
    assert promise.get_value() == text
    assert promise.get_value_type() == GObject.TYPE_STRING


def test_value_null_string_is_a_value_of_string_type():
    promise = Concurry.Promise()
    assert promise.resolve_string(None)
    assert promise.get_state() == State.DONE
    assert promise.get_string() is None
    assert promise.get_value_type() == GObject.TYPE_STRING


def test_value_double():
    promise = Concurry.Promise()
    assert promise.resolve_double(-2.5e300)
    assert promise.get_double() == -2.5e300
    assert promise.get_value() == -2.5e300
    assert promise.get_value_type() == GObject.TYPE_DOUBLE


@pytest.mark.parametrize('flag', [True, False])
def test_value_boolean(flag):
    promise = Concurry.Promise()
    assert promise.resolve_boolean(flag)
    assert promise.get_boolean() is flag
    assert promise.get_value() is flag
    assert promise.get_value_type() == GObject.TYPE_BOOLEAN


def test_no_value():
    promise = Concurry.Promise()
    assert promise.resolve(None)
    assert promise.get_state() == State.DONE
    assert promise.is_done()
    assert promise.get_value() is None
    assert promise.get_value_type() == GObject.TYPE_INVALID
    assert promise.get_error() is None
    assert promise.wait(0) is True

    resolved = Concurry.ResolvedFuture.new(None)
    assert resolved.get_state() == State.DONE
    assert resolved.get_value() is None


def test_value_gobject_keeps_identity_and_a_reference():
    action = Gio.SimpleAction(name='held-by-the-future')
    promise = Concurry.Promise()
    assert promise.resolve_object(action)
    assert promise.get_object() is action
    assert promise.get_value() is action
    assert promise.get_value_type() == Gio.SimpleAction.__gtype__
    del action
    gc.collect()
    # The future holds its own reference on the object.
    assert promise.get_object().get_name() == 'held-by-the-future'


def test_value_gobject_through_generic_resolve():
    obj = GObject.Object()
    promise = Concurry.Promise()
    assert promise.resolve(obj)
    assert promise.get_value() is obj
    assert promise.get_object() is obj

    resolved = Concurry.ResolvedFuture.new_object(obj)
    assert resolved.get_object() is obj


def test_value_variant():
    variant = GLib.Variant('a{sv}', {'answer': GLib.Variant('i', 42),
                                     'name': GLib.Variant('s', 'deep thought')})
    promise = Concurry.Promise()
    assert promise.resolve_variant(variant)
    got = promise.get_variant()
    assert isinstance(got, GLib.Variant)
    assert got.get_type_string() == 'a{sv}'
    assert got.unpack() == {'answer': 42, 'name': 'deep thought'}
    assert promise.get_value().equal(variant)
    assert promise.get_value_type() == GObject.TYPE_VARIANT

    resolved = Concurry.ResolvedFuture.new_variant(GLib.Variant('as', ['a', 'b']))
    assert resolved.get_variant().unpack() == ['a', 'b']


def test_value_arbitrary_python_object():
    class Payload:
        pass

    payload = Payload()
    ref = weakref.ref(payload)
    promise = Concurry.Promise()
    assert promise.resolve(payload)
    assert promise.get_value() is payload
    del payload
    gc.collect()
    # Kept alive by the future...
    assert ref() is not None
    assert promise.get_value() is ref()
    # ...and released with it.
    del promise
    gc.collect()
    assert ref() is None


def test_value_python_list_is_the_same_object():
    data = [1, 'two', {'three': 3}]
    promise = Concurry.Promise()
    assert promise.resolve(data)
    assert promise.get_value() is data


def test_generic_resolve_of_python_scalars():
    for value, gtype in [(7, GObject.TYPE_INT), (1.5, GObject.TYPE_DOUBLE),
                         (True, GObject.TYPE_BOOLEAN), ('s', GObject.TYPE_STRING)]:
        promise = Concurry.Promise()
        assert promise.resolve(value)
        assert promise.get_value() == value
        assert promise.get_value_type() == gtype


@pytest.mark.parametrize('make, getter, expected', [
    (lambda: Concurry.ResolvedFuture.new_int(-7), 'get_int', -7),
    (lambda: Concurry.ResolvedFuture.new_uint(4_000_000_000), 'get_uint', 4_000_000_000),
    (lambda: Concurry.ResolvedFuture.new_int64(-(2 ** 40)), 'get_int64', -(2 ** 40)),
    (lambda: Concurry.ResolvedFuture.new_double(0.25), 'get_double', 0.25),
    (lambda: Concurry.ResolvedFuture.new_boolean(True), 'get_boolean', True),
    (lambda: Concurry.ResolvedFuture.new_string('ok'), 'get_string', 'ok'),
    (lambda: Concurry.ResolvedFuture.new('generic'), 'get_string', 'generic'),
])
def test_resolved_future_values(make, getter, expected):
    future = make()
    assert future.get_state() == State.DONE
    assert getattr(future, getter)() == expected
    assert future.get_value() == expected


def test_value_is_stable_across_reads():
    promise = Concurry.Promise()
    assert promise.resolve_string('same')
    assert [promise.get_string() for _ in range(5)] == ['same'] * 5
    assert promise.wait(0) and promise.wait(-1) and promise.wait(SECOND)
    assert promise.get_string() == 'same'


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------

def test_error_domain_code_message_preserved():
    promise = failed_promise('disk on fire', Gio.IOErrorEnum.NO_SPACE)
    first = promise.get_error()
    second = promise.get_error()
    assert_error(first, IO_ERROR, Gio.IOErrorEnum.NO_SPACE, 'disk on fire')
    assert_error(second, IO_ERROR, Gio.IOErrorEnum.NO_SPACE, 'disk on fire')
    for _ in range(3):
        assert_error(wait_error(promise), IO_ERROR, Gio.IOErrorEnum.NO_SPACE, 'disk on fire')
        assert_error(wait_error(promise, -1), IO_ERROR, Gio.IOErrorEnum.NO_SPACE, 'disk on fire')


def test_reject_with_glib_error_of_custom_domain():
    domain = GLib.quark_from_string('concurry-python-test-error')
    error = GLib.Error.new_literal(domain, 'custom failure', 42)
    promise = Concurry.Promise()
    assert promise.reject(error)
    assert promise.get_state() == State.FAILED
    assert_error(promise.get_error(), domain, 42, 'custom failure')
    assert_error(wait_error(promise), domain, 42, 'custom failure')


def test_reject_with_concurry_error_domain():
    promise = Concurry.Promise()
    assert promise.reject_literal(Concurry.error_quark(), Concurry.Error.SHUT_DOWN, 'closed')
    assert_error(promise.get_error(), Concurry.error_quark(), Concurry.Error.SHUT_DOWN, 'closed')
    assert promise.get_error().domain == 'concurry-error-quark'


def test_resolved_error_future_wait_raises_its_error():
    future = Concurry.ResolvedFuture.new_error_literal(IO_ERROR, Gio.IOErrorEnum.BUSY, 'busy')
    assert_error(wait_error(future), IO_ERROR, Gio.IOErrorEnum.BUSY, 'busy')
    assert_error(wait_error(future, -1), IO_ERROR, Gio.IOErrorEnum.BUSY, 'busy')
    assert future.get_value() is None


def test_cancelled_error_is_gio_cancelled():
    promise = Concurry.Promise()
    assert promise.interrupt()
    assert_error(promise.get_error(), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert promise.get_error().message
    assert_error(wait_error(promise), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert_error(wait_error(promise, -1), IO_ERROR, Gio.IOErrorEnum.CANCELLED)


# --------------------------------------------------------------------------
# first completion wins
# --------------------------------------------------------------------------

def _resolve(p):
    return p.resolve_int(1)


def _resolve_string(p):
    return p.resolve_string('second')


def _resolve_none(p):
    return p.resolve(None)


def _reject(p):
    return p.reject_literal(IO_ERROR, Gio.IOErrorEnum.FAILED, 'late failure')


def _reject_error(p):
    return p.reject(GLib.Error.new_literal(IO_ERROR, 'late failure', Gio.IOErrorEnum.FAILED))


@pytest.mark.parametrize('first', [_resolve, _resolve_none, _reject])
@pytest.mark.parametrize('second', [_resolve, _resolve_string, _resolve_none, _reject, _reject_error])
def test_first_completion_wins(first, second):
    promise = Concurry.Promise()
    assert first(promise) is True
    state = promise.get_state()
    value = promise.get_value()
    error = promise.get_error()

    assert second(promise) is False
    assert first(promise) is False
    assert promise.interrupt() is False

    assert promise.get_state() == state
    assert promise.get_value() == value
    if error is None:
        assert promise.get_error() is None
    else:
        assert_error(promise.get_error(), IO_ERROR, Gio.IOErrorEnum.FAILED, error.message)


@pytest.mark.parametrize('late', [_resolve, _resolve_none, _reject, _reject_error])
def test_completion_after_cancel_is_refused(late):
    promise = Concurry.Promise()
    assert promise.interrupt()
    assert late(promise) is False
    assert promise.get_state() == State.CANCELLED
    assert promise.get_value() is None
    assert_error(promise.get_error(), IO_ERROR, Gio.IOErrorEnum.CANCELLED)


# --------------------------------------------------------------------------
# timeouts
# --------------------------------------------------------------------------

def test_wait_zero_polls_pending_future():
    promise = Concurry.Promise()
    start = time.monotonic()
    error = wait_error(promise, 0)
    assert time.monotonic() - start < 0.5
    assert_error(error, IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert promise.get_state() == State.PENDING


def test_wait_zero_polls_running_future():
    promise = Concurry.Promise()
    assert promise.mark_running()
    assert_error(wait_error(promise, 0), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert promise.get_state() == State.RUNNING


def test_timeout_does_not_change_the_future():
    promise = Concurry.Promise()
    assert_error(wait_error(promise, 0), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert_error(wait_error(promise, 20_000), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert promise.get_state() == State.PENDING
    assert promise.get_error() is None
    assert not promise.is_cancelled()
    # It can still complete, and a later wait gets the value.
    assert promise.resolve_int(9)
    assert promise.wait(0)
    assert promise.get_int() == 9


def test_wait_with_timeout_on_main_thread_waits_that_long():
    promise = Concurry.Promise()
    start = time.monotonic()
    error = wait_error(promise, 100_000)
    elapsed = time.monotonic() - start
    assert_error(error, IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert 0.09 <= elapsed < 3.0
    assert promise.get_state() == State.PENDING


def test_wait_with_timeout_on_worker_thread_waits_that_long():
    promise = Concurry.Promise()
    out = {}

    def worker():
        start = time.monotonic()
        try:
            promise.wait(100_000)
            out['result'] = 'returned'
        except GLib.Error as error:
            out['result'] = error
        out['elapsed'] = time.monotonic() - start

    join(start_thread(worker))
    assert_error(out['result'], IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert 0.09 <= out['elapsed'] < 3.0
    assert promise.get_state() == State.PENDING


def test_negative_timeout_waits_until_another_thread_resolves():
    promise = Concurry.Promise()
    timer = threading.Timer(0.1, promise.resolve_int, args=(77,))
    start = time.monotonic()
    timer.start()
    try:
        assert promise.wait(-1) is True
    finally:
        timer.join(5)
    assert time.monotonic() - start >= 0.09
    assert promise.get_int() == 77


def test_negative_timeout_on_worker_thread_waits_until_main_resolves():
    promise = Concurry.Promise()
    started = threading.Event()
    out = {}

    def worker():
        started.set()
        try:
            out['ok'] = promise.wait(-1)
            out['value'] = promise.get_int()
        except GLib.Error as error:
            out['error'] = error

    thread = start_thread(worker)
    assert started.wait(5)
    assert promise.resolve_int(5)
    join(thread)
    assert out == {'ok': True, 'value': 5}


def test_wait_returns_when_c_thread_resolves():
    promise = Concurry.Promise()
    ConcurryTest.resolve_in_thread(promise, 31)
    assert promise.wait(5 * SECOND) is True
    assert promise.get_int() == 31
    assert ConcurryTest.last_resolve_off_main_thread()


def test_wait_raises_error_when_c_thread_rejects():
    promise = Concurry.Promise()
    ConcurryTest.reject_in_thread(promise, 'rejected over there')
    assert_error(wait_error(promise, 5 * SECOND), IO_ERROR, Gio.IOErrorEnum.FAILED,
                 'rejected over there')
    assert promise.is_failed()


def test_wait_until_past_deadline_polls():
    promise = Concurry.Promise()
    start = time.monotonic()
    error = wait_error_until(promise, GLib.get_monotonic_time() - SECOND)
    assert time.monotonic() - start < 0.5
    assert_error(error, IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert promise.get_state() == State.PENDING

    # A done future is reported even with a deadline in the past.
    assert promise.resolve_int(3)
    assert promise.wait_until(GLib.get_monotonic_time() - SECOND) is True
    assert promise.wait_until(0) is True


def test_wait_until_future_deadline_times_out_at_deadline():
    promise = Concurry.Promise()
    deadline = GLib.get_monotonic_time() + 80_000
    assert_error(wait_error_until(promise, deadline), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert GLib.get_monotonic_time() >= deadline
    assert promise.get_state() == State.PENDING


def test_wait_until_returns_when_resolved_before_deadline():
    promise = Concurry.Promise()
    timer = threading.Timer(0.05, promise.resolve_string, args=('in time',))
    timer.start()
    try:
        assert promise.wait_until(GLib.get_monotonic_time() + 5 * SECOND) is True
    finally:
        timer.join(5)
    assert promise.get_string() == 'in time'


def test_wait_until_negative_deadline_waits_forever():
    promise = Concurry.Promise()
    timer = threading.Timer(0.05, promise.resolve_int, args=(1,))
    timer.start()
    try:
        assert promise.wait_until(-1) is True
    finally:
        timer.join(5)


def test_blocking_wait_on_main_thread_iterates_main_context():
    # The only thing that can complete the promise is an idle source of the
    # default main context, which nobody else iterates.
    promise = Concurry.Promise()
    ran = []

    def resolve():
        ran.append(ConcurryTest.is_main_thread())
        promise.resolve_int(11)
        return GLib.SOURCE_REMOVE

    GLib.idle_add(resolve)
    assert promise.wait(5 * SECOND) is True
    assert promise.get_int() == 11
    assert ran == [True]


def test_blocking_wait_on_thread_with_own_context_iterates_it():
    promise = Concurry.Promise()
    out = {}

    def worker():
        context = GLib.MainContext()
        context.push_thread_default()
        try:
            idle = GLib.idle_source_new()
            idle.set_callback(lambda *args: (promise.resolve_int(12), GLib.SOURCE_REMOVE)[1])
            idle.attach(context)
            try:
                out['ok'] = promise.wait(5 * SECOND)
            except GLib.Error as error:
                out['error'] = error
        finally:
            context.pop_thread_default()

    join(start_thread(worker), timeout=10)
    assert out == {'ok': True}
    assert promise.get_int() == 12


def test_blocking_wait_on_plain_thread_does_not_iterate_main_context():
    promise = Concurry.Promise()
    source_id = GLib.idle_add(lambda: (promise.resolve_int(1), GLib.SOURCE_REMOVE)[1])
    out = {}

    def worker():
        try:
            promise.wait(100_000)
            out['result'] = 'returned'
        except GLib.Error as error:
            out['result'] = error

    try:
        join(start_thread(worker))
    finally:
        GLib.source_remove(source_id)
    assert_error(out['result'], IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert promise.get_state() == State.PENDING


# --------------------------------------------------------------------------
# cancel
# --------------------------------------------------------------------------

def test_cancel_pending_future():
    promise = Concurry.Promise()
    assert promise.interrupt() is True
    assert promise.get_state() == State.CANCELLED
    assert promise.is_cancelled()
    assert promise.is_done()
    assert not promise.is_failed()
    assert not promise.is_running()
    assert promise.get_value() is None
    assert_error(promise.get_error(), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    # A cancellable asked for afterwards is born cancelled.
    assert promise.get_cancellable().is_cancelled()


def test_cancel_running_future_trips_cancellable():
    promise = Concurry.Promise()
    cancellable = promise.get_cancellable()
    assert isinstance(cancellable, Gio.Cancellable)
    assert promise.get_cancellable() is cancellable
    signals = []
    # Gio.Cancellable.connect is g_cancellable_connect(), not GObject's.
    GObject.Object.connect(cancellable, 'cancelled', lambda c: signals.append(promise.get_state()))

    assert promise.mark_running()
    assert not cancellable.is_cancelled()
    assert promise.interrupt() is True
    # CANCELLED at once, not when the work notices.
    assert promise.get_state() == State.CANCELLED
    assert not promise.is_running()
    assert cancellable.is_cancelled()
    assert signals == [State.CANCELLED]

    # The work finishing later is ignored.
    assert promise.resolve_int(5) is False
    assert promise.get_state() == State.CANCELLED
    assert promise.get_value() is None
    assert_error(wait_error(promise), IO_ERROR, Gio.IOErrorEnum.CANCELLED)


def test_cancel_is_idempotent():
    promise = Concurry.Promise()
    calls = []
    promise.add_done_callback_full(None, lambda f: calls.append(f.get_state()))
    signals = []
    GObject.Object.connect(promise.get_cancellable(), 'cancelled', lambda c: signals.append(1))
    assert promise.interrupt() is True
    assert promise.interrupt() is True
    assert promise.interrupt() is True
    assert run_until(lambda: calls)
    drain()
    assert promise.interrupt() is True
    drain()
    assert calls == [State.CANCELLED]
    assert signals == [1]


def test_cancel_done_future_returns_false():
    promise = Concurry.Promise()
    assert promise.resolve_int(8)
    cancellable = promise.get_cancellable()
    assert promise.interrupt() is False
    assert promise.get_state() == State.DONE
    assert promise.get_int() == 8
    assert not cancellable.is_cancelled()


def test_cancel_failed_future_returns_false():
    promise = failed_promise('kept')
    assert promise.interrupt() is False
    assert promise.get_state() == State.FAILED
    assert_error(promise.get_error(), IO_ERROR, Gio.IOErrorEnum.FAILED, 'kept')


def test_cancel_does_not_trip_cancellable_of_resolved_promise():
    promise = Concurry.Promise()
    cancellable = promise.get_cancellable()
    assert promise.mark_running()
    assert promise.resolve_int(1)
    assert not cancellable.is_cancelled()


def test_cancel_wakes_waiter_on_other_thread():
    promise = Concurry.Promise()
    started = threading.Event()
    out = {}

    def worker():
        started.set()
        try:
            promise.wait(-1)
            out['result'] = 'returned'
        except GLib.Error as error:
            out['result'] = error

    thread = start_thread(worker)
    assert started.wait(5)
    assert promise.interrupt()
    join(thread)
    assert_error(out['result'], IO_ERROR, Gio.IOErrorEnum.CANCELLED)


# --------------------------------------------------------------------------
# done callbacks
# --------------------------------------------------------------------------

def test_callback_runs_through_main_loop_not_synchronously():
    promise = Concurry.Promise()
    calls = []
    callback_id = promise.add_done_callback_full(None, lambda f: calls.append(f))
    assert callback_id > 0
    assert calls == []
    assert promise.resolve_int(1)
    # Not from inside resolve(): only once the main context is iterated.
    assert calls == []
    assert run_until(lambda: calls)
    assert calls == [promise]
    assert calls[0] is promise


def test_callback_added_after_completion_is_delivered_asynchronously():
    future = Concurry.ResolvedFuture.new_int(4)
    calls = []
    future.add_done_callback_full(None, lambda f: calls.append((f.get_int(), ConcurryTest.is_main_thread())))
    assert calls == []
    assert run_until(lambda: calls)
    assert calls == [(4, True)]


def test_callback_added_to_cancelled_future_is_delivered_asynchronously():
    promise = Concurry.Promise()
    assert promise.interrupt()
    calls = []
    promise.add_done_callback_full(None, lambda f: calls.append(f.get_state()))
    assert calls == []
    assert run_until(lambda: calls)
    assert calls == [State.CANCELLED]


def test_callback_on_failed_future_sees_error():
    promise = Concurry.Promise()
    seen = []
    promise.add_done_callback_full(None, lambda f: seen.append(f.get_error()))
    assert promise.reject_literal(IO_ERROR, Gio.IOErrorEnum.INVALID_DATA, 'bad data')
    assert run_until(lambda: seen)
    assert_error(seen[0], IO_ERROR, Gio.IOErrorEnum.INVALID_DATA, 'bad data')


def test_callback_runs_exactly_once():
    promise = Concurry.Promise()
    calls = []
    promise.add_done_callback_full(None, lambda f: calls.append(1))
    assert promise.resolve_int(1)
    assert promise.resolve_int(2) is False
    assert promise.interrupt() is False
    assert run_until(lambda: calls)
    # Give it every chance to run again.
    run_until(lambda: False, timeout=0.1)
    assert promise.wait(0)
    drain()
    assert calls == [1]


def test_callbacks_run_in_order_added():
    promise = Concurry.Promise()
    order = []
    for i in range(5):
        promise.add_done_callback_full(None, lambda f, i: order.append(i), i)
    assert promise.resolve_int(0)
    for i in range(5, 8):
        promise.add_done_callback_full(None, lambda f, i: order.append(i), i)
    assert run_until(lambda: len(order) == 8)
    drain()
    assert order == list(range(8))


def test_callbacks_of_several_futures_keep_completion_order():
    promises = [Concurry.Promise() for _ in range(4)]
    order = []
    for i, promise in enumerate(promises):
        promise.add_done_callback_full(None, lambda f, i: order.append(i), i)
    for i in (2, 0, 3, 1):
        assert promises[i].resolve_int(i)
    assert run_until(lambda: len(order) == 4)
    assert order == [2, 0, 3, 1]


def test_callback_user_data_passed_through():
    promise = Concurry.Promise()
    marker = object()
    calls = []

    def callback(future, *user_data):
        calls.append((future, user_data))

    promise.add_done_callback_full(None, callback, 'a', 2, marker)
    promise.add_done_callback_full(None, callback)
    assert promise.resolve_int(1)
    assert run_until(lambda: len(calls) == 2)
    assert calls[0][0] is promise
    assert calls[0][1] == ('a', 2, marker)
    assert calls[0][1][2] is marker
    assert calls[1] == (promise, ())


def test_callback_and_user_data_released_after_running():
    class Data:
        pass

    data = Data()
    data_ref = weakref.ref(data)
    promise = Concurry.Promise()
    ran = []
    promise.add_done_callback_full(None, lambda f, d: ran.append(type(d).__name__), data)
    del data
    gc.collect()
    assert data_ref() is not None
    assert promise.resolve_int(1)
    assert run_until(lambda: ran)
    gc.collect()
    assert ran == ['Data']
    assert data_ref() is None


def test_callback_added_from_inside_callback_is_not_nested():
    promise = Concurry.Promise()
    events = []

    def inner(future):
        events.append('inner')

    def outer(future):
        events.append('outer-start')
        future.add_done_callback_full(None, inner)
        events.append('outer-end')

    promise.add_done_callback_full(None, outer)
    assert promise.resolve_int(1)
    assert run_until(lambda: 'inner' in events)
    drain()
    assert events == ['outer-start', 'outer-end', 'inner']


def test_cancel_and_wait_from_inside_callback():
    promise = Concurry.Promise()
    seen = []

    def callback(future):
        seen.append(future.interrupt())
        seen.append(future.wait(0))
        seen.append(future.wait(-1))
        seen.append(future.get_int())

    promise.add_done_callback_full(None, callback)
    assert promise.resolve_int(6)
    assert run_until(lambda: seen)
    assert seen == [False, True, True, 6]
    assert promise.get_state() == State.DONE


def test_cancel_and_wait_from_inside_callback_of_cancelled_future():
    promise = Concurry.Promise()
    seen = []

    def callback(future):
        seen.append(future.interrupt())
        try:
            future.wait(0)
            seen.append('returned')
        except GLib.Error as error:
            seen.append(error.code)

    promise.add_done_callback_full(None, callback)
    assert promise.interrupt()
    assert run_until(lambda: seen)
    drain()
    assert seen == [True, Gio.IOErrorEnum.CANCELLED]


def test_wait_from_inside_callback_of_failed_future():
    promise = Concurry.Promise()
    seen = []

    def callback(future):
        with pytest.raises(GLib.Error) as info:
            future.wait(0)
        seen.append(info.value)

    promise.add_done_callback_full(None, callback)
    assert promise.reject_literal(IO_ERROR, Gio.IOErrorEnum.FAILED, 'inside')
    assert run_until(lambda: seen)
    assert_error(seen[0], IO_ERROR, Gio.IOErrorEnum.FAILED, 'inside')


def test_callback_from_thread_with_own_context_runs_there():
    promise = Concurry.Promise()
    ready = threading.Event()
    out = {}

    def worker():
        context = GLib.MainContext()
        context.push_thread_default()
        try:
            def callback(future):
                out['thread'] = threading.current_thread().name
                out['owner'] = context.is_owner()
                out['value'] = future.get_int()

            promise.add_done_callback_full(None, callback)
            ready.set()
            out['ran'] = run_until(lambda: 'thread' in out, context=context)
        finally:
            context.pop_thread_default()

    thread = start_thread(worker, name='own-context')
    assert ready.wait(5)
    assert promise.resolve_int(13)
    # Iterating the default context must not run it here.
    run_until(lambda: 'thread' in out, timeout=0.05)
    join(thread)
    assert out == {'thread': 'own-context', 'owner': True, 'value': 13, 'ran': True}


def test_callback_from_thread_without_context_runs_on_main_thread():
    promise = Concurry.Promise()
    calls = []

    def worker():
        promise.add_done_callback_full(None, 
            lambda f: calls.append((threading.current_thread() is threading.main_thread(),
                                    ConcurryTest.is_main_thread())))
        promise.resolve_int(1)

    join(start_thread(worker))
    assert calls == []
    assert run_until(lambda: calls)
    assert calls == [(True, True)]


def test_callback_of_promise_resolved_in_c_thread_runs_on_main_thread():
    promise = Concurry.Promise()
    calls = []
    promise.add_done_callback_full(None, 
        lambda f: calls.append((ConcurryTest.is_main_thread(),
                                threading.current_thread() is threading.main_thread(),
                                f.get_int())))
    ConcurryTest.resolve_in_thread(promise, 21)
    assert run_until(lambda: calls)
    assert calls == [(True, True, 21)]
    assert ConcurryTest.last_resolve_off_main_thread()


def test_callback_of_promise_rejected_in_c_thread_runs_on_main_thread():
    promise = Concurry.Promise()
    calls = []
    promise.add_done_callback_full(None, lambda f: calls.append((ConcurryTest.is_main_thread(), f.get_error())))
    ConcurryTest.reject_in_thread(promise, 'thread says no')
    assert run_until(lambda: calls)
    assert calls[0][0] is True
    assert_error(calls[0][1], IO_ERROR, Gio.IOErrorEnum.FAILED, 'thread says no')


def test_add_done_callback_full_on_explicit_context():
    context = GLib.MainContext()
    promise = Concurry.Promise()
    calls = []
    promise.add_done_callback_full(context, lambda f, tag: calls.append(tag), 'explicit')
    promise.add_done_callback_full(None, lambda f, tag: calls.append(tag), 'default')
    assert promise.resolve_int(1)
    assert run_until(lambda: 'default' in calls)
    drain()
    assert calls == ['default']
    assert run_until(lambda: 'explicit' in calls, context=context)
    assert calls == ['default', 'explicit']


def test_remove_done_callback():
    promise = Concurry.Promise()
    calls = []
    keep = promise.add_done_callback_full(None, lambda f: calls.append('kept'))
    removed = promise.add_done_callback_full(None, lambda f: calls.append('removed'))
    assert keep != removed
    assert promise.remove_done_callback(removed) is True
    assert promise.remove_done_callback(removed) is False
    assert promise.resolve_int(1)
    assert run_until(lambda: calls)
    drain()
    assert calls == ['kept']


def test_remove_done_callback_releases_callback():
    class Callback:
        def __call__(self, future):
            raise AssertionError('removed callback ran')

    callback = Callback()
    ref = weakref.ref(callback)
    promise = Concurry.Promise()
    callback_id = promise.add_done_callback_full(None, callback)
    del callback
    gc.collect()
    assert ref() is not None
    assert promise.remove_done_callback(callback_id)
    gc.collect()
    assert ref() is None
    assert promise.resolve_int(1)
    drain()


def test_remove_done_callback_too_late_once_done():
    promise = Concurry.Promise()
    calls = []
    callback_id = promise.add_done_callback_full(None, lambda f: calls.append(1))
    assert promise.resolve_int(1)
    assert promise.remove_done_callback(callback_id) is False
    assert run_until(lambda: calls)
    assert calls == [1]


def test_callback_ids_are_unique_and_nonzero():
    promise = Concurry.Promise()
    ids = [promise.add_done_callback_full(None, lambda f: None) for _ in range(50)]
    other = Concurry.ResolvedFuture.new_int(1)
    ids += [other.add_done_callback_full(None, lambda f: None) for _ in range(50)]
    assert 0 not in ids
    assert len(set(ids)) == 100
    assert promise.resolve_int(1)
    drain()


def test_raising_callback_does_not_stop_the_others(capsys):
    promise = Concurry.Promise()
    calls = []

    def bad(future):
        calls.append('bad')
        raise ValueError('callback failure for the test')

    promise.add_done_callback_full(None, bad)
    promise.add_done_callback_full(None, lambda f: calls.append('good'))
    assert promise.resolve_int(1)
    assert run_until(lambda: len(calls) == 2)
    assert calls == ['bad', 'good']
    assert 'callback failure for the test' in capsys.readouterr().err


def test_callback_keeps_future_alive_until_it_ran():
    calls = []
    promise = Concurry.Promise()
    promise.add_done_callback_full(None, lambda f: calls.append(f.get_string()))
    assert promise.resolve_string('still here')
    del promise
    gc.collect()
    assert run_until(lambda: calls)
    assert calls == ['still here']


# --------------------------------------------------------------------------
# wait_async / wait_finish
# --------------------------------------------------------------------------

def _finish(outcome, loop):
    def callback(source, result, *user_data):
        entry = {'source': source, 'user_data': user_data,
                 'main': ConcurryTest.is_main_thread()}
        try:
            entry['ok'] = source.wait_finish(result)
        except GLib.Error as error:
            entry['error'] = error
        outcome.append(entry)
        loop.quit()
    return callback


def test_wait_async_success():
    loop = GLib.MainLoop()
    promise = Concurry.Promise()
    outcome = []
    promise.wait_async(None, _finish(outcome, loop), 'data')
    assert outcome == []
    GLib.idle_add(lambda: (promise.resolve_int(3), GLib.SOURCE_REMOVE)[1])
    run_loop(loop)
    assert len(outcome) == 1
    assert outcome[0]['source'] is promise
    assert outcome[0]['ok'] is True
    assert outcome[0]['user_data'] == ('data',)
    assert outcome[0]['main'] is True
    assert promise.get_int() == 3


def test_wait_async_on_done_future_is_still_asynchronous():
    loop = GLib.MainLoop()
    future = Concurry.ResolvedFuture.new_string('ready')
    outcome = []
    future.wait_async(None, _finish(outcome, loop))
    assert outcome == []
    run_loop(loop)
    assert outcome[0]['ok'] is True
    assert future.get_string() == 'ready'


def test_wait_async_resolved_from_c_thread():
    loop = GLib.MainLoop()
    promise = Concurry.Promise()
    outcome = []
    promise.wait_async(None, _finish(outcome, loop))
    ConcurryTest.resolve_in_thread(promise, 17)
    run_loop(loop)
    assert outcome[0]['ok'] is True
    assert outcome[0]['main'] is True
    assert promise.get_int() == 17


def test_wait_async_failure_raises_original_error():
    loop = GLib.MainLoop()
    promise = Concurry.Promise()
    outcome = []
    promise.wait_async(None, _finish(outcome, loop))
    ConcurryTest.reject_in_thread(promise, 'async failure')
    run_loop(loop)
    assert 'ok' not in outcome[0]
    assert_error(outcome[0]['error'], IO_ERROR, Gio.IOErrorEnum.FAILED, 'async failure')
    assert promise.is_failed()


def test_wait_async_on_cancelled_future_raises_cancelled():
    loop = GLib.MainLoop()
    promise = Concurry.Promise()
    outcome = []
    promise.wait_async(None, _finish(outcome, loop))
    GLib.idle_add(lambda: (promise.interrupt(), GLib.SOURCE_REMOVE)[1])
    run_loop(loop)
    assert_error(outcome[0]['error'], IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert promise.is_cancelled()


def test_wait_async_cancellable_stops_wait_not_future():
    loop = GLib.MainLoop()
    promise = Concurry.Promise()
    cancellable = Gio.Cancellable()
    outcome = []
    promise.wait_async(cancellable, _finish(outcome, loop))
    GLib.idle_add(lambda: (cancellable.cancel(), GLib.SOURCE_REMOVE)[1])
    run_loop(loop)
    assert len(outcome) == 1
    assert_error(outcome[0]['error'], IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    # The future itself is untouched and still completes normally.
    assert promise.get_state() == State.PENDING
    assert not promise.get_cancellable().is_cancelled()
    assert promise.resolve_int(2)
    run_until(lambda: False, timeout=0.05)
    assert len(outcome) == 1
    assert promise.get_int() == 2


def test_wait_async_with_already_cancelled_cancellable():
    loop = GLib.MainLoop()
    promise = Concurry.Promise()
    cancellable = Gio.Cancellable()
    cancellable.cancel()
    outcome = []
    promise.wait_async(cancellable, _finish(outcome, loop))
    run_loop(loop)
    assert_error(outcome[0]['error'], IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert promise.get_state() == State.PENDING
    assert promise.interrupt()


def test_wait_async_unused_cancellable_does_not_interfere():
    loop = GLib.MainLoop()
    promise = Concurry.Promise()
    cancellable = Gio.Cancellable()
    outcome = []
    promise.wait_async(cancellable, _finish(outcome, loop))
    GLib.idle_add(lambda: (promise.resolve_int(8), GLib.SOURCE_REMOVE)[1])
    run_loop(loop)
    assert outcome[0]['ok'] is True
    # Cancelling afterwards delivers nothing more.
    cancellable.cancel()
    run_until(lambda: False, timeout=0.05)
    assert len(outcome) == 1


def test_many_wait_async_on_one_future():
    loop = GLib.MainLoop()
    promise = Concurry.Promise()
    results = []

    def callback(source, result, index):
        results.append((index, source.wait_finish(result)))
        if len(results) == 5:
            loop.quit()

    for i in range(5):
        promise.wait_async(None, callback, i)
    ConcurryTest.resolve_in_thread(promise, 1)
    run_loop(loop)
    assert results == [(i, True) for i in range(5)]


# --------------------------------------------------------------------------
# thread safety
# --------------------------------------------------------------------------

N_THREADS = 8


def test_exactly_one_resolver_wins():
    rounds = 30
    promises = [Concurry.Promise() for _ in range(rounds)]
    wins = [[] for _ in range(rounds)]
    barrier = threading.Barrier(N_THREADS)
    errors = []

    def worker(k):
        try:
            for i, promise in enumerate(promises):
                barrier.wait(5)
                if promise.resolve_int(k):
                    wins[i].append(k)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [start_thread(worker, k) for k in range(N_THREADS)]
    for thread in threads:
        join(thread, timeout=20)
    assert errors == []
    for i, promise in enumerate(promises):
        assert len(wins[i]) == 1, wins[i]
        assert promise.get_state() == State.DONE
        assert promise.get_int() == wins[i][0]


def test_threads_hammering_same_futures():
    n_futures = 150
    promises = [Concurry.Promise() for _ in range(n_futures)]
    callback_counts = [0] * n_futures
    outcomes = [[] for _ in range(n_futures)]
    seen_values = [[] for _ in range(n_futures)]
    errors = []
    barrier = threading.Barrier(N_THREADS)

    def on_done(future, index):
        callback_counts[index] += 1
        if not ConcurryTest.is_main_thread():
            errors.append(f'callback {index} off the main thread')
        if future.get_state() not in TERMINAL:
            errors.append(f'callback {index} on a future that is not done')

    def worker(k):
        try:
            barrier.wait(5)
            for i, promise in enumerate(promises):
                # No thread-default context here: delivered on the main one.
                promise.add_done_callback_full(None, on_done, i)
                state = promise.get_state()
                assert state in (State.PENDING, State.RUNNING) + TERMINAL
                if promise.is_done():
                    assert promise.get_state() in TERMINAL
                promise.mark_running()
                if (i + k) % 3 == 0:
                    outcomes[i].append(('cancel', promise.interrupt()))
                else:
                    outcomes[i].append(('resolve', promise.resolve_int(1000 * k + i)))
                assert promise.is_done()
                try:
                    assert promise.wait(0) is True
                    assert promise.wait(-1) is True
                    seen_values[i].append(promise.get_int())
                except GLib.Error as error:
                    assert error.code == Gio.IOErrorEnum.CANCELLED
                    seen_values[i].append('cancelled')
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [start_thread(worker, k) for k in range(N_THREADS)]
    # Deliver callbacks while the workers are still racing.
    assert run_until(lambda: sum(callback_counts) == N_THREADS * n_futures, timeout=20)
    for thread in threads:
        join(thread, timeout=20)
    drain()
    assert errors == []
    assert callback_counts == [N_THREADS] * n_futures

    for i, promise in enumerate(promises):
        state = promise.get_state()
        resolves = [ok for kind, ok in outcomes[i] if kind == 'resolve']
        cancels = [ok for kind, ok in outcomes[i] if kind == 'cancel']
        assert len(resolves) + len(cancels) == N_THREADS
        if state == State.DONE:
            assert resolves.count(True) == 1
            assert not any(cancels)
            assert set(seen_values[i]) == {promise.get_int()}
        else:
            assert state == State.CANCELLED
            assert not any(resolves)
            assert all(cancels)
            assert set(seen_values[i]) == {'cancelled'}
            assert promise.get_cancellable().is_cancelled()


def test_many_threads_waiting_on_one_future():
    promise = Concurry.Promise()
    started = threading.Barrier(N_THREADS + 1)
    results = []

    def waiter(k):
        started.wait(5)
        try:
            if k % 2:
                ok = promise.wait(-1)
            else:
                ok = promise.wait_until(GLib.get_monotonic_time() + 10 * SECOND)
            results.append((ok, promise.get_string()))
        except GLib.Error as error:
            results.append(error)

    threads = [start_thread(waiter, k) for k in range(N_THREADS)]
    started.wait(5)
    assert promise.resolve_string('for everyone')
    for thread in threads:
        join(thread)
    assert results == [(True, 'for everyone')] * N_THREADS


def test_adding_callbacks_while_completing_runs_each_once():
    rounds = 40
    counts = {}
    errors = []

    def on_done(future, key):
        counts[key] = counts.get(key, 0) + 1

    for r in range(rounds):
        promise = Concurry.Promise()
        barrier = threading.Barrier(2)

        def adder(promise=promise, r=r, barrier=barrier):
            try:
                barrier.wait(5)
                for j in range(20):
                    promise.add_done_callback_full(None, on_done, (r, j))
            except Exception as error:  # noqa: BLE001
                errors.append(error)

        thread = start_thread(adder)
        barrier.wait(5)
        assert promise.resolve_int(r)
        join(thread)

    assert errors == []
    assert run_until(lambda: len(counts) == rounds * 20)
    drain()
    assert set(counts.values()) == {1}


def test_get_id_concurrently_gives_one_id():
    promise = Concurry.Promise()
    barrier = threading.Barrier(N_THREADS)
    ids = []

    def worker():
        barrier.wait(5)
        ids.append(promise.get_id())

    threads = [start_thread(worker) for _ in range(N_THREADS)]
    for thread in threads:
        join(thread)
    assert len(ids) == N_THREADS
    assert len(set(ids)) == 1
    assert promise.get_id() == ids[0]


# --------------------------------------------------------------------------
# ids
# --------------------------------------------------------------------------

UUID = r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'


def test_ids_are_unique_and_well_formed():
    promises = [Concurry.Promise() for _ in range(300)]
    resolved = [Concurry.ResolvedFuture.new_int(i) for i in range(300)]
    promise_ids = [p.get_id() for p in promises]
    resolved_ids = [f.get_id() for f in resolved]
    for future_id in promise_ids:
        assert re.fullmatch('promise-' + UUID, future_id), future_id
    for future_id in resolved_ids:
        assert re.fullmatch('resolved-' + UUID, future_id), future_id
    assert len(set(promise_ids + resolved_ids)) == 600


def test_id_is_stable():
    promise = Concurry.Promise()
    first = promise.get_id()
    assert promise.get_id() == first
    assert promise.resolve_int(1)
    assert promise.get_id() == first


# --------------------------------------------------------------------------
# abandoned promises
# --------------------------------------------------------------------------

def test_abandoned_promise_is_rejected_and_callbacks_run():
    seen = []
    promise = Concurry.Promise()
    promise.add_done_callback_full(None, 
        lambda f: seen.append((f.get_state(), f.get_error(), ConcurryTest.is_main_thread())))
    del promise
    gc.collect()
    assert seen == []
    assert run_until(lambda: seen)
    state, error, on_main = seen[0]
    assert state == State.FAILED
    assert on_main
    assert_error(error, Concurry.error_quark(), Concurry.Error.ABANDONED)
    assert error.domain == 'concurry-error-quark'


def test_abandoned_promise_callback_gets_a_failed_future_with_its_id():
    # The promise is being freed: its callback gets another future, failed
    # the same way, under the promise's id.
    seen = []
    promise = Concurry.Promise()
    expected = promise.get_id()
    promise.add_done_callback_full(None, lambda f: seen.append((f.get_id(), f.get_error())))
    del promise
    gc.collect()
    assert run_until(lambda: seen)
    assert seen[0][0] == expected
    assert_error(seen[0][1], Concurry.error_quark(), Concurry.Error.ABANDONED)


def test_abandoned_running_promise_is_rejected():
    seen = []
    promise = Concurry.Promise()
    assert promise.mark_running()
    promise.add_done_callback_full(None, lambda f: seen.append(f.get_error()))
    del promise
    gc.collect()
    assert run_until(lambda: seen)
    assert_error(seen[0], Concurry.error_quark(), Concurry.Error.ABANDONED)


def test_promise_still_held_elsewhere_is_not_abandoned():
    # A worker that still holds the promise resolves it after the main
    # thread dropped its own reference.
    promise = Concurry.Promise()
    seen = []
    promise.add_done_callback_full(None, lambda f: seen.append((f.get_state(), f.get_int())))
    go = threading.Event()

    def worker(p):
        go.wait(5)
        p.resolve_int(99)

    thread = start_thread(worker, promise)
    del promise
    gc.collect()
    go.set()
    join(thread)
    assert run_until(lambda: seen)
    assert seen == [(State.DONE, 99)]


# --------------------------------------------------------------------------
# unobserved errors (in child processes: the test env makes warnings fatal)
# --------------------------------------------------------------------------

UNOBSERVED_CHILD = CHILD_PRELUDE + '''
if sys.argv[1] == 'off':
    Concurry.set_unobserved_error_warnings(False)
    assert not Concurry.get_unobserved_error_warnings()
resolved = Concurry.ResolvedFuture.new_error_literal(
    Gio.io_error_quark(), Gio.IOErrorEnum.FAILED, "lost-resolved-message")
promise = Concurry.Promise()
promise.reject_literal(Gio.io_error_quark(), Gio.IOErrorEnum.FAILED, "lost-promise-message")
print(resolved.get_id(), promise.get_id(), flush=True)
del resolved, promise
gc.collect()
print("survived", flush=True)
'''


def test_unobserved_error_warns_with_id_and_message():
    result = subprocess.run([sys.executable, '-c', UNOBSERVED_CHILD, 'on'], env=child_env(),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, (result.returncode, result.stderr)
    lines = result.stdout.split('\n')
    resolved_id, promise_id = lines[0].split()
    assert lines[1] == 'survived'
    assert 'WARNING' in result.stderr
    assert resolved_id in result.stderr
    assert 'lost-resolved-message' in result.stderr
    assert promise_id in result.stderr
    assert 'lost-promise-message' in result.stderr
    assert result.stderr.count('never retrieved') == 2


def test_unobserved_error_warning_can_be_disabled():
    result = subprocess.run([sys.executable, '-c', UNOBSERVED_CHILD, 'off'], env=child_env(),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, (result.returncode, result.stderr)
    assert result.stdout.split('\n')[1] == 'survived'
    assert result.stderr == ''


def test_observed_and_abandoned_errors_do_not_warn():
    code = CHILD_PRELUDE + '''
f = Concurry.ResolvedFuture.new_error_literal(Gio.io_error_quark(), 0, "seen-1")
f.get_error()
p = Concurry.Promise()
p.reject_literal(Gio.io_error_quark(), 0, "seen-2")
try:
    p.wait(0)
except Exception:
    pass
c = Concurry.Promise()
c.interrupt()
a = Concurry.Promise()
del f, p, c, a
gc.collect()
print("survived", flush=True)
'''
    result = run_child(code)
    assert result.returncode == 0, (result.returncode, result.stderr)
    assert result.stdout == 'survived\n'
    assert result.stderr == ''


def test_set_unobserved_error_warnings_toggles():
    assert Concurry.get_unobserved_error_warnings()
    try:
        Concurry.set_unobserved_error_warnings(False)
        assert not Concurry.get_unobserved_error_warnings()
        # Disabled: an unobserved failed future may be dropped in-process.
        future = Concurry.ResolvedFuture.new_error_literal(IO_ERROR, Gio.IOErrorEnum.FAILED, 'quiet')
        del future
        gc.collect()
    finally:
        Concurry.set_unobserved_error_warnings(True)
    assert Concurry.get_unobserved_error_warnings()


# Translations: test_translations.py.
