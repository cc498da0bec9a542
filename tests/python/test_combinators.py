# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the concurry combinators through the raw introspected C API.

Covers wait(), wait_future(), gather(), any(), race(), delay(), timeout(),
Future.with_timeout(), the chains (and_then, map, catch_error, finally_do),
Concurry.AsCompleted (next, next_async) and Concurry.CompletionList, as
PyGObject exposes the C library.

The PyGObject override (bindings/python/gi/overrides/Concurry.py) replaces
Concurry.wait, Concurry.gather and Concurry.as_completed with
concurrent.futures-style functions, which test_override_wait.py covers.
The C-level functions are taken here from the introspection module itself
(``C``), so these tests run the same with and without the override.  Only
raw methods of the futures are used (get_state(), get_value(), get_error(),
wait()...), never the override's Pythonic ones.

The chain methods are the exception: the override replaces them (the C
ones cannot carry Python exceptions, tuples or big ints), keeping their
calling convention, so the chain tests here call them the raw way and
check what C sees; test_override_chain.py covers the Pythonic side.

No sleeps: other threads are synchronised with events and bounded waits,
and the main context is iterated until a condition holds.  The test
environment sets G_DEBUG=fatal-warnings: every failed future made here has
its error looked at (get_error() or a wait) before it is dropped.
"""

import gc
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
from gi.module import get_introspection_module  # noqa: E402
from gi.repository import Concurry, ConcurryTest, Gio, GLib, GObject  # noqa: E402

from concurry_testutil import (  # noqa: E402
    IO_ERROR, MS, SECOND, assert_error, drain, join, main_context, observe, on_main_thread,
    run_until)
from concurry_testutil import failed_promise as rejected  # noqa: E402
from concurry_testutil import start_thread as in_thread  # noqa: E402
from concurry_testutil import wait_error as error_of  # noqa: E402

C = get_introspection_module('Concurry')

State = Concurry.FutureState
WaitMode = Concurry.WaitMode
GatherFlags = Concurry.GatherFlags
BLOCK = 5 * SECOND         # bound for blocking calls that must return early
ALL_MODES = (WaitMode.ALL_COMPLETED, WaitMode.FIRST_COMPLETED, WaitMode.FIRST_EXCEPTION)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def settle(future, timeout=5.0):
    """Runs the main context until @future is done; fails otherwise."""
    assert run_until(future.is_done, timeout), 'the future did not complete in time'
    return future


def later_ms(ms, fn, *args):
    """Calls fn(*args) from the default main context after @ms."""
    def fire():
        fn(*args)
        return GLib.SOURCE_REMOVE
    GLib.timeout_add(ms, fire)


def promise():
    return Concurry.Promise()


def resolved(value):
    return Concurry.ResolvedFuture.new_int(value)


def assert_same(actual, expected):
    """The same instances, in the same order."""
    assert len(actual) == len(expected), (actual, expected)
    for a, e in zip(actual, expected):
        assert a is e, (actual, expected)


# --------------------------------------------------------------------------
# wait
# --------------------------------------------------------------------------

@pytest.mark.parametrize('mode', ALL_MODES)
def test_wait_on_finished_futures_gives_the_instances_merged_in_order(mode):
    a = resolved(1)
    b = rejected('b failed')
    c = promise()
    c.cancel()
    met, done, not_done = C.wait([c, a, b, a, c], mode, 0)
    assert met is True
    assert_same(done, [c, a, b])
    assert not_done == []
    observe(b)


@pytest.mark.parametrize('mode', ALL_MODES)
@pytest.mark.parametrize('timeout', [0, -1, SECOND])
def test_wait_on_nothing_gives_empty_sets(mode, timeout):
    assert tuple(C.wait([], mode, timeout)) == (True, [], [])


def test_wait_with_timeout_zero_polls():
    p, q, r = promise(), promise(), resolved(1)
    start = time.monotonic()
    met, done, not_done = C.wait([p, r, q, p], WaitMode.ALL_COMPLETED, 0)
    assert not met
    assert_same(done, [r])
    assert_same(not_done, [p, q])
    met, done, not_done = C.wait([p, q], WaitMode.FIRST_COMPLETED, 0)
    assert not met and done == [] and len(not_done) == 2
    met, done, not_done = C.wait([p, r], WaitMode.FIRST_COMPLETED, 0)
    assert met
    assert_same(done, [r])
    assert time.monotonic() - start < 1.0
    p.cancel()
    q.cancel()


def test_wait_with_a_positive_timeout_returns_the_sets():
    p, r = promise(), resolved(2)
    start = time.monotonic()
    met, done, not_done = C.wait([r, p], WaitMode.ALL_COMPLETED, 50 * MS)
    elapsed = time.monotonic() - start
    assert not met
    assert_same(done, [r])
    assert_same(not_done, [p])
    assert 0.05 <= elapsed < 5.0
    # Nothing was left behind that would break a later completion.
    p.resolve_int(3)
    assert C.wait([r, p], WaitMode.ALL_COMPLETED, 0)[0]


def test_wait_with_a_negative_timeout_waits_for_another_thread():
    p, q = promise(), promise()
    release = threading.Event()

    def worker():
        assert release.wait(5)
        q.resolve_int(5)
    thread = in_thread(worker)
    release.set()
    met, done, not_done = C.wait([p, q], WaitMode.FIRST_COMPLETED, -1)
    join(thread)
    assert met
    assert_same(done, [q])
    assert_same(not_done, [p])
    assert q.get_int() == 5
    p.cancel()


def test_wait_first_exception_returns_at_a_failure_with_what_finished():
    r, p, bad = resolved(1), promise(), promise()
    ConcurryTest.reject_in_thread(bad, 'worker failed')
    met, done, not_done = C.wait([r, p, bad], WaitMode.FIRST_EXCEPTION, BLOCK)
    assert met
    assert_same(done, [r, bad])
    assert_same(not_done, [p])
    assert_error(bad.get_error(), IO_ERROR, Gio.IOErrorEnum.FAILED, 'worker failed')
    p.cancel()


def test_wait_first_exception_without_failure_waits_for_all():
    a, b = promise(), promise()
    ConcurryTest.resolve_in_thread(a, 1)
    ConcurryTest.resolve_in_thread(b, 2)
    met, done, not_done = C.wait([a, b], WaitMode.FIRST_EXCEPTION, BLOCK)
    assert met
    assert_same(done, [a, b])
    assert not_done == []


def test_a_cancellation_is_done_but_no_exception():
    cancelled, pending = promise(), promise()
    cancelled.cancel()
    met, done, not_done = C.wait([pending, cancelled], WaitMode.FIRST_EXCEPTION, 0)
    assert not met
    assert_same(done, [cancelled])
    assert_same(not_done, [pending])
    assert C.wait([pending, cancelled], WaitMode.FIRST_COMPLETED, 0)[0]
    pending.cancel()


def test_cancel_from_another_thread_wakes_a_blocking_wait():
    p = promise()
    release = threading.Event()

    def worker():
        assert release.wait(5)
        p.cancel()
    thread = in_thread(worker)
    release.set()
    met, done, _ = C.wait([p], WaitMode.ALL_COMPLETED, BLOCK)
    join(thread)
    assert met
    assert_same(done, [p])
    assert p.get_state() == State.CANCELLED


def test_a_blocking_wait_on_the_main_thread_runs_the_main_context():
    # Completed by a main-context source, and a chain step on top: both need
    # the default context, which the blocking wait iterates.
    p = promise()
    end = p.map(lambda v: v + 1)
    later_ms(10, p.resolve_int, 41)
    met, done, _ = C.wait([end], WaitMode.ALL_COMPLETED, BLOCK)
    assert met
    assert_same(done, [end])
    assert end.get_int() == 42


def test_wait_on_many_futures_with_duplicates():
    fs = [resolved(i) for i in range(5000)]
    p = promise()
    start = time.monotonic()
    met, done, not_done = C.wait(fs + fs + [p], WaitMode.ALL_COMPLETED, 0)
    assert time.monotonic() - start < 2.0
    assert not met
    assert_same(done, fs)
    assert_same(not_done, [p])
    p.cancel()


# --------------------------------------------------------------------------
# wait_future
# --------------------------------------------------------------------------

def test_wait_future_completes_without_a_value_when_the_condition_holds():
    a, b = promise(), promise()
    first = C.wait_future([a, b], WaitMode.FIRST_COMPLETED)
    all_done = C.wait_future([a, b, a], WaitMode.ALL_COMPLETED)
    first_error = C.wait_future([a, b], WaitMode.FIRST_EXCEPTION)
    assert not first.is_done()
    ConcurryTest.resolve_in_thread(b, 2)
    assert first.wait(BLOCK)
    assert first.get_state() == State.DONE
    assert first.get_value() is None
    assert not all_done.is_done()
    assert not first_error.is_done()
    a.reject_literal(IO_ERROR, Gio.IOErrorEnum.FAILED, 'a failed')
    # It succeeds even though an input failed: look at the inputs. (The
    # thread that resolved b may still be counting it in: wait, not poll.)
    assert all_done.wait(BLOCK)
    assert first_error.wait(BLOCK)
    assert a.get_error().message == 'a failed'


def test_wait_future_of_nothing_is_done_at_once():
    for mode in ALL_MODES:
        assert C.wait_future([], mode).get_state() == State.DONE


def test_wait_future_is_awaited_with_wait_async_on_a_main_loop():
    p = promise()
    waited = C.wait_future([p], WaitMode.ALL_COMPLETED)
    loop = GLib.MainLoop()
    outcome = []

    def ready(source, result, *user_data):
        outcome.append(source.wait_finish(result))
        loop.quit()
    waited.wait_async(None, ready)
    later_ms(5, p.resolve_int, 1)
    GLib.timeout_add(5000, loop.quit)
    loop.run()
    assert outcome == [True]


# --------------------------------------------------------------------------
# gather
# --------------------------------------------------------------------------

def test_gather_completes_with_its_inputs_in_order():
    ps = [promise(), promise(), promise()]
    gathered = C.gather([ps[0], ps[1], ps[2], ps[0]], GatherFlags.NONE)
    assert not gathered.is_done()
    ConcurryTest.resolve_in_thread(ps[2], 20)
    later_ms(10, ps[1].resolve_int, 10)
    later_ms(20, ps[0].resolve_int, 0)
    assert gathered.wait(BLOCK)
    assert gathered.get_state() == State.DONE
    assert gathered.get_value_type() == GObject.type_from_name('GPtrArray')
    # PyGObject gives the GPtrArray as an opaque GLib.PtrArray: read the
    # values from the inputs.
    assert [p.get_int() for p in ps] == [0, 10, 20]


def test_gather_fails_with_the_first_failure_to_happen():
    a, b, c = promise(), promise(), promise()
    gathered = C.gather([a, b, c], GatherFlags.NONE)
    later_ms(5, c.reject_literal, IO_ERROR, Gio.IOErrorEnum.NOT_FOUND, 'c is missing')
    assert_error(error_of(gathered, BLOCK), IO_ERROR, Gio.IOErrorEnum.NOT_FOUND, 'c is missing')
    assert gathered.get_state() == State.FAILED
    # It did not wait for the others, and left them alone.
    assert a.get_state() == State.PENDING
    assert b.get_state() == State.PENDING
    a.reject_literal(IO_ERROR, Gio.IOErrorEnum.EXISTS, 'a too')
    b.resolve_int(1)
    assert gathered.get_error().message == 'c is missing'
    observe(a)


def test_a_cancelled_input_fails_gather_with_cancelled():
    ok, a = resolved(1), promise()
    gathered = C.gather([ok, a], GatherFlags.NONE)
    a.cancel()
    assert_error(error_of(gathered), IO_ERROR, Gio.IOErrorEnum.CANCELLED)


@pytest.mark.parametrize('combinator', ['gather', 'race'])
def test_a_cancelled_input_leaves_the_other_inputs_alone(combinator):
    a, b = promise(), promise()
    if combinator == 'gather':
        combined = C.gather([a, b], GatherFlags.NONE)
    else:
        combined = C.race([a, b])
    a.cancel()
    assert_error(error_of(combined), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    state = b.get_state()
    b.cancel()
    # As with a failed input (test_gather_fails_with_the_first_failure_to_happen).
    assert state == State.PENDING


def test_gather_all_outcomes_waits_for_every_input_and_succeeds():
    bad, good, gone = promise(), promise(), promise()
    gathered = C.gather([bad, good, gone], GatherFlags.ALL_OUTCOMES)
    bad.reject_literal(IO_ERROR, Gio.IOErrorEnum.FAILED, 'bad')
    gone.cancel()
    assert not gathered.is_done()
    ConcurryTest.resolve_in_thread(good, 7)
    assert gathered.wait(BLOCK)
    assert gathered.get_state() == State.DONE
    assert [f.get_state() for f in (bad, good, gone)] == [State.FAILED, State.DONE, State.CANCELLED]
    assert bad.get_error().message == 'bad'
    assert good.get_int() == 7


def test_cancelling_gather_cancels_its_inputs():
    a, b, done = promise(), promise(), resolved(1)
    gathered = C.gather([a, done, b], GatherFlags.NONE)
    assert gathered.cancel()
    assert_error(error_of(gathered), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert [f.get_state() for f in (a, done, b)] == [State.CANCELLED, State.DONE, State.CANCELLED]


@pytest.mark.parametrize('flags', [GatherFlags.NONE, GatherFlags.ALL_OUTCOMES])
def test_gather_of_nothing_is_done_at_once(flags):
    gathered = C.gather([], flags)
    assert gathered.get_state() == State.DONE
    assert gathered.get_error() is None


def test_gather_over_10000_finished_futures():
    fs = [resolved(i) for i in range(10000)]
    start = time.monotonic()
    gathered = C.gather(fs, GatherFlags.NONE)
    assert gathered.get_state() == State.DONE
    assert time.monotonic() - start < 2.0
    assert [f.get_int() for f in fs] == list(range(10000))


def test_gather_over_many_futures_completed_by_threads():
    ps = [promise() for _ in range(200)]
    gathered = C.gather(ps, GatherFlags.NONE)

    def worker(chunk):
        for p in chunk:
            p.resolve_int(ps.index(p))
    threads = [in_thread(worker, ps[i::4]) for i in range(4)]
    assert gathered.wait(BLOCK)
    for t in threads:
        join(t)
    assert [p.get_int() for p in ps] == list(range(200))


# --------------------------------------------------------------------------
# any and race
# --------------------------------------------------------------------------

def test_any_gives_the_first_success_skipping_failures():
    a, b, c = promise(), promise(), promise()
    first = C.any([a, b, c])
    a.reject_literal(IO_ERROR, Gio.IOErrorEnum.FAILED, 'a')
    assert not first.is_done()
    ConcurryTest.resolve_in_thread(c, 33)
    assert first.wait(BLOCK)
    assert first.get_int() == 33
    assert b.get_state() == State.PENDING
    b.resolve_int(1)
    assert first.get_int() == 33
    observe(a)


def test_any_fails_with_concurry_error_failed_when_all_fail():
    a, b = promise(), promise()
    every = C.any([a, b])
    b.reject_literal(IO_ERROR, Gio.IOErrorEnum.NOT_FOUND, 'b failed')
    ConcurryTest.reject_in_thread(a, 'a failed')
    error = error_of(every, BLOCK)
    assert_error(error, Concurry.error_quark(), Concurry.Error.FAILED)
    # It names the error of the first input given.
    assert 'a failed' in error.message
    observe(a, b)


@pytest.mark.parametrize('combinator', ['any', 'race'])
def test_any_and_race_of_nothing_fail_with_invalid_state(combinator):
    f = getattr(C, combinator)([])
    assert f.is_done()
    assert_error(error_of(f), Concurry.error_quark(), Concurry.Error.INVALID_STATE)


def test_race_takes_the_first_outcome_a_failure_included():
    a, b = promise(), promise()
    first = C.race([a, b])
    later_ms(5, b.reject_literal, IO_ERROR, Gio.IOErrorEnum.EXISTS, 'b first')
    assert_error(error_of(first, BLOCK), IO_ERROR, Gio.IOErrorEnum.EXISTS, 'b first')
    assert a.get_state() == State.PENDING
    a.resolve_int(1)
    assert first.is_failed()

    c, d = promise(), promise()
    win = C.race([c, d, c])
    ConcurryTest.resolve_in_thread(d, 4)
    assert win.wait(BLOCK)
    assert win.get_int() == 4
    assert c.get_state() == State.PENDING
    c.cancel()
    observe(b)


@pytest.mark.parametrize('combinator', ['any', 'race'])
def test_cancelling_any_or_race_cancels_the_inputs(combinator):
    a, b = promise(), promise()
    f = getattr(C, combinator)([a, b])
    assert f.cancel()
    assert_error(error_of(f), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert a.is_cancelled() and b.is_cancelled()


# --------------------------------------------------------------------------
# delay, timeout, with_timeout
# --------------------------------------------------------------------------

def test_delay_completes_without_a_value_once_the_time_passed():
    start = time.monotonic()
    d = C.delay(30 * MS)
    assert d.get_state() == State.PENDING
    assert d.wait(BLOCK)
    assert 0.03 <= time.monotonic() - start < 5.0
    assert d.get_state() == State.DONE
    assert d.get_value() is None


@pytest.mark.parametrize('usec', [0, -1, -SECOND])
def test_delay_of_zero_or_negative_completes_at_once(usec):
    assert C.delay(usec).wait(BLOCK)


def test_delay_and_timeout_need_no_main_loop():
    # A plain thread that never iterates any main context.
    outcome = {}

    def worker():
        outcome['delay'] = C.delay(10 * MS).wait(BLOCK)
        try:
            C.timeout(10 * MS).wait(BLOCK)
        except GLib.Error as e:
            outcome['timeout'] = (e.domain, e.code)
    join(in_thread(worker))
    assert outcome == {'delay': True,
                       'timeout': (GLib.quark_to_string(IO_ERROR), int(Gio.IOErrorEnum.TIMED_OUT))}


def test_a_cancelled_delay_stays_cancelled():
    d = C.delay(20 * MS)
    assert d.cancel()
    assert C.delay(40 * MS).wait(BLOCK)
    assert d.get_state() == State.CANCELLED
    assert_error(error_of(d), IO_ERROR, Gio.IOErrorEnum.CANCELLED)


def test_timeout_fails_with_timed_out():
    start = time.monotonic()
    t = C.timeout(20 * MS)
    assert_error(error_of(t, BLOCK), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert time.monotonic() - start >= 0.02
    assert_error(error_of(C.timeout(0), BLOCK), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)


def test_race_against_timeout_bounds_a_future():
    slow = promise()
    bounded = C.race([slow, C.timeout(20 * MS)])
    assert_error(error_of(bounded, BLOCK), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    slow.cancel()


def test_race_won_before_it_starts_consumes_a_timeout_that_fails_later():
    # The done input settles the race while it is being built; the timeout
    # after it fails later and nobody looks. Under G_DEBUG=fatal-warnings
    # an unobserved failure would abort when the timeout is dropped.
    done = promise()
    done.resolve_int(1)
    late = C.timeout(5 * MS)
    won = C.race([done, late])
    assert won.get_int() == 1
    met, done_set, _ = C.wait([late], WaitMode.ALL_COMPLETED, BLOCK)
    assert met and done_set == [late]
    assert late.get_state() == State.FAILED
    del late, done_set
    gc.collect()


def test_with_timeout_mirrors_a_future_that_finishes_in_time():
    p = promise()
    bounded = p.with_timeout(BLOCK)
    ConcurryTest.resolve_in_thread(p, 12)
    assert bounded.wait(BLOCK)
    assert bounded.get_int() == 12

    q = promise()
    bounded_error = q.with_timeout(BLOCK)
    later_ms(5, q.reject_literal, IO_ERROR, Gio.IOErrorEnum.PERMISSION_DENIED, 'no way')
    assert_error(error_of(bounded_error, BLOCK), IO_ERROR, Gio.IOErrorEnum.PERMISSION_DENIED, 'no way')
    observe(q)


def test_with_timeout_times_out_and_leaves_its_source_alone():
    p = promise()
    start = time.monotonic()
    bounded = p.with_timeout(20 * MS)
    assert_error(error_of(bounded, BLOCK), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert time.monotonic() - start >= 0.02
    assert p.get_state() == State.PENDING
    p.resolve_int(1)
    assert_error(bounded.get_error(), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)


@pytest.mark.parametrize('usec', [0, -5, -SECOND])
def test_with_timeout_of_zero_or_negative_times_a_pending_future_out(usec):
    p = promise()
    assert_error(error_of(p.with_timeout(usec), BLOCK), IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert p.get_state() == State.PENDING
    p.cancel()


def test_with_timeout_zero_of_a_finished_future_gives_its_outcome():
    deadline = time.monotonic() + 2.0
    i = 0
    while time.monotonic() < deadline:
        i += 1
        bounded = resolved(i).with_timeout(0)
        if bounded.get_state() != State.DONE:
            error = bounded.get_error()
            pytest.fail('iteration %d: %s: %s' % (i, bounded.get_state(), error and error.message))


def test_cancelling_with_timeout_cancels_its_source():
    p = promise()
    bounded = p.with_timeout(BLOCK)
    assert bounded.cancel()
    assert_error(error_of(bounded), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert p.get_state() == State.CANCELLED


# --------------------------------------------------------------------------
# chains
# --------------------------------------------------------------------------

def test_a_chain_flattens_a_future_returned_by_a_step():
    log = []
    a = promise()
    inner = promise()

    def step_a(value):
        log.append(('A', value))
        return value * 2

    def step_b(future):
        log.append(('B', future.get_int()))
        later_ms(10, inner.resolve_int, future.get_int() + 1)
        return inner

    def step_c(value):
        log.append(('C', value))
        return 'result %d' % value

    end = a.map(step_a).and_then(step_b).map(step_c)
    ConcurryTest.resolve_in_thread(a, 10)
    assert end.wait(BLOCK)
    assert end.get_value() == 'result 21'
    assert log == [('A', 10), ('B', 20), ('C', 21)]


def test_steps_never_run_inside_the_call_that_adds_them():
    r = resolved(1)
    ran = []
    ends = [r.and_then(lambda f: ran.append('and_then')),
            r.map(lambda v: ran.append('map')),
            r.finally_do(lambda f: ran.append('finally_do'))]
    assert ran == []
    for end in ends:
        settle(end)
    assert sorted(ran) == ['and_then', 'finally_do', 'map']
    assert ends[2].get_int() == 1


def test_steps_run_on_the_main_thread_when_a_thread_completes_the_upstream():
    seen = {}

    def record(name, result):
        seen[name] = on_main_thread()
        return result
    p1, p2, p3, p4 = promise(), promise(), promise(), promise()
    e1 = p1.and_then(lambda f: record('and_then', f.get_int()))
    e2 = p2.map(lambda v: record('map', v))
    e3 = p3.catch_error(lambda f: record('catch_error', f.get_error().message))
    e4 = p4.finally_do(lambda f: record('finally_do', None))
    threads = [in_thread(p1.resolve_int, 1), in_thread(p2.resolve_int, 2),
               in_thread(p3.reject_literal, IO_ERROR, Gio.IOErrorEnum.FAILED, 'thread error'),
               in_thread(p4.resolve_int, 4)]
    for t in threads:
        join(t)
    for e in (e1, e2, e3, e4):
        settle(e)
    assert seen == {'and_then': True, 'map': True, 'catch_error': True, 'finally_do': True}
    assert [e1.get_int(), e2.get_int(), e3.get_string(), e4.get_int()] == [1, 2, 'thread error', 4]


def test_steps_run_on_the_context_that_was_thread_default_when_built():
    # Built on a plain thread (no context of its own): the override's
    # private context thread, never the main thread.
    ends = []
    join(in_thread(lambda: ends.append(resolved(4).map(
        lambda v: (threading.current_thread().name, v)[0]))))
    settle(ends[0])
    assert ends[0].get_value() == 'concurry-bridge'

    # Built on a thread with a context of its own: that thread, when it runs it.
    context = GLib.MainContext.new()
    result = {}

    def worker():
        context.push_thread_default()
        try:
            end = resolved(5).map(lambda v: threading.current_thread().name)
            drain(main_context())
            result['before'] = end.is_done()
            result['done'] = run_until(end.is_done, context=context)
            result['name'] = end.get_value()
        finally:
            context.pop_thread_default()
    thread = threading.Thread(target=worker, name='own-context', daemon=True)
    thread.start()
    join(thread)
    assert result == {'before': False, 'done': True, 'name': 'own-context'}


def test_user_data_is_passed_to_the_steps():
    got = []
    end = resolved(3).and_then(lambda f, *extra: got.append(extra) or f.get_int(), 'x', 2)
    settle(end)
    assert got == [('x', 2)]
    assert end.get_int() == 3


def test_errors_go_down_the_chain_unchanged():
    domain = GLib.quark_from_string('concurry-python-chain-error-quark')
    p = promise()
    ran = []
    finally_saw = []
    end = (p.map(lambda v: ran.append('map'))
            .and_then(lambda f: ran.append('and_then'))
            .finally_do(lambda f: finally_saw.append(f.get_state()))
            .map(lambda v: ran.append('map 2')))
    later_ms(5, p.reject_literal, domain, 42, 'original message')
    error = error_of(end, BLOCK)
    assert error.domain == 'concurry-python-chain-error-quark'
    assert error.code == 42
    assert error.message == 'original message'
    assert ran == []
    assert finally_saw == [State.FAILED]
    assert end.get_state() == State.FAILED


def test_a_glib_error_raised_by_a_step_fails_the_chain():
    def step(value):
        raise GLib.Error.new_literal(IO_ERROR, 'bad data', Gio.IOErrorEnum.INVALID_DATA)
    end = resolved(1).map(step)
    assert_error(error_of(end, BLOCK), IO_ERROR, Gio.IOErrorEnum.INVALID_DATA, 'bad data')

    healed = end.catch_error(lambda f: 'caught ' + f.get_error().message)
    assert healed.wait(BLOCK)
    assert healed.get_value() == 'caught bad data'


def test_a_python_exception_in_a_step_fails_the_chain():
    def fn(value):
        raise ValueError('python step failed')
    end = resolved(1).map(fn)
    settle(end)
    state = end.get_state()
    error = end.get_error()
    assert state == State.FAILED
    assert_error(error, Concurry.error_quark(), Concurry.Error.FAILED,
                 'ValueError: python step failed')


def test_a_step_returning_an_int_beyond_32_bits_keeps_it():
    end = resolved(1).map(lambda v: 2 ** 40 + v)
    settle(end)
    assert end.get_state() == State.DONE
    assert end.get_value() == 2 ** 40 + 1


def test_a_step_returning_a_tuple_keeps_it():
    end = resolved(1).map(lambda v: (v, 'two'))
    settle(end)
    assert end.get_value() == (1, 'two')


def test_values_returned_by_steps():
    action = Gio.SimpleAction.new('concurry-chain', None)
    cases = [
        (lambda v: None, None, GObject.TYPE_INVALID),
        (lambda v: 'text', 'text', GObject.TYPE_STRING),
        (lambda v: 0.5, 0.5, GObject.TYPE_DOUBLE),
        (lambda v: True, True, GObject.TYPE_BOOLEAN),
        (lambda v: -7, -7, GObject.TYPE_INT),
        (lambda v: GObject.Value(GObject.TYPE_INT64, 2 ** 40), 2 ** 40, GObject.TYPE_INT64),
        (lambda v: action, action, Gio.SimpleAction.__gtype__),
        (lambda v: [1, 2], [1, 2], GObject.TYPE_PYOBJECT),
    ]
    r = resolved(1)
    ends = [r.map(fn) for fn, _, _ in cases]
    for end, (_, value, gtype) in zip(ends, cases):
        settle(end)
        assert end.get_state() == State.DONE
        assert end.get_value() == value
        assert end.get_value_type() == gtype


def test_catch_error_recovers_with_a_value_or_a_future():
    p = promise()
    seen = []

    def recover(future):
        seen.append(future)
        return 'recovered from ' + future.get_error().message
    recovered = p.catch_error(recover)
    p.reject_literal(IO_ERROR, Gio.IOErrorEnum.NOT_FOUND, 'nf')
    assert recovered.wait(BLOCK)
    assert recovered.get_value() == 'recovered from nf'
    assert len(seen) == 1 and seen[0] is p

    replacement = promise()
    via_future = rejected('q').catch_error(lambda f: replacement).map(lambda v: v * 3)
    later_ms(5, replacement.resolve_int, 5)
    assert via_future.wait(BLOCK)
    assert via_future.get_int() == 15


def test_catch_error_lets_success_and_cancellation_through():
    ran = []
    ok = resolved(8).catch_error(lambda f: ran.append(f))
    p = promise()
    gone = p.catch_error(lambda f: ran.append(f))
    p.cancel()
    assert ok.wait(BLOCK)
    assert ok.get_int() == 8
    assert_error(error_of(gone, BLOCK), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert gone.get_state() == State.CANCELLED
    drain()
    assert ran == []


def test_finally_do_runs_once_whatever_the_outcome():
    calls = []
    ok = resolved(6).finally_do(lambda f: calls.append(('ok', f.get_int())))
    bad = rejected('bad').finally_do(lambda f: calls.append(('bad', f.get_state())))
    p = promise()
    gone = p.finally_do(lambda f: calls.append(('gone', f.get_state())))
    p.cancel()
    assert ok.wait(BLOCK)
    assert ok.get_int() == 6
    assert_error(error_of(bad, BLOCK), IO_ERROR, Gio.IOErrorEnum.FAILED, 'bad')
    assert_error(error_of(gone, BLOCK), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    drain()
    assert sorted(calls, key=repr) == sorted([('ok', 6), ('bad', State.FAILED), ('gone', State.CANCELLED)],
                                             key=repr)


def test_cancelling_the_end_of_a_chain_cancels_what_it_waits_on():
    a = promise()
    ran = []
    end = a.map(lambda v: ran.append(1)).and_then(lambda f: ran.append(2))
    assert end.cancel()
    assert a.get_state() == State.CANCELLED
    assert_error(error_of(end), IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    drain()
    assert ran == []

    inner = promise()
    stepped = []
    flat = resolved(1).and_then(lambda f: stepped.append(True) or inner)
    assert run_until(lambda: stepped)
    assert not flat.is_done()
    assert flat.cancel()
    assert inner.get_state() == State.CANCELLED


def test_a_step_is_released_once_it_ran():
    class Step:
        def __call__(self, value):
            return value + 1
    step = Step()
    ref = weakref.ref(step)
    end = resolved(1).map(step)
    del step
    settle(end)
    assert end.get_int() == 2
    drain()
    gc.collect()
    assert ref() is None


def test_a_long_chain():
    p = promise()
    end = p
    for _ in range(300):
        end = end.map(lambda v: v + 1)
    ConcurryTest.resolve_in_thread(p, 0)
    assert end.wait(BLOCK)
    assert end.get_int() == 300


# --------------------------------------------------------------------------
# as_completed
# --------------------------------------------------------------------------

def test_as_completed_gives_done_ones_first_then_completion_order():
    r0, p1, r2, p3 = resolved(0), promise(), resolved(2), promise()
    it = C.as_completed([r0, p1, r2, p1, p3, r0], BLOCK)
    assert isinstance(it, Concurry.AsCompleted)
    assert it.get_n_remaining() == 4
    assert it.next() is r0
    assert it.next() is r2
    assert it.get_n_remaining() == 2
    ConcurryTest.resolve_in_thread(p3, 3)
    assert it.next() is p3
    # Completed from the main context, which next() iterates meanwhile.
    later_ms(5, p1.reject_literal, IO_ERROR, Gio.IOErrorEnum.FAILED, 'p1 failed')
    f = it.next()
    assert f is p1
    assert f.get_error().message == 'p1 failed'
    assert it.next() is None
    assert it.next() is None
    assert it.get_n_remaining() == 0


def test_as_completed_times_out_counting_from_its_creation():
    r, p, q = resolved(1), promise(), promise()
    start = time.monotonic()
    it = C.as_completed([p, r, q, p], 30 * MS)
    assert it.next() is r
    with pytest.raises(GLib.Error) as info:
        it.next()
    elapsed = time.monotonic() - start
    assert_error(info.value, IO_ERROR, Gio.IOErrorEnum.TIMED_OUT, '2 (of 3) futures unfinished')
    assert 0.03 <= elapsed < 5.0
    assert it.get_n_remaining() == 2
    p.cancel()
    q.cancel()


def test_as_completed_with_timeout_zero_gives_what_is_done_then_times_out():
    p, r, c = promise(), resolved(1), promise()
    c.cancel()
    it = C.as_completed([p, r, c], 0)
    assert it.next() is r
    assert it.next() is c
    with pytest.raises(GLib.Error) as info:
        it.next()
    assert_error(info.value, IO_ERROR, Gio.IOErrorEnum.TIMED_OUT, '1 (of 3) futures unfinished')
    p.cancel()


def test_as_completed_with_a_negative_timeout_waits_as_long_as_needed():
    p = promise()
    it = C.as_completed([p], -1)
    ConcurryTest.resolve_in_thread(p, 9)
    assert it.next() is p
    assert it.next() is None


@pytest.mark.parametrize('timeout', [0, -1, SECOND])
def test_as_completed_of_nothing(timeout):
    it = C.as_completed([], timeout)
    assert it.get_n_remaining() == 0
    assert it.next() is None


def test_as_completed_drops_the_futures_it_gave_out():
    p = promise()
    ref = weakref.ref(p)
    it = C.as_completed([p, resolved(1)], -1)
    p.resolve_int(1)
    got = [it.next(), it.next()]
    assert p in got
    del p, got
    gc.collect()
    assert ref() is None
    assert it.next() is None


def test_next_async_on_a_main_loop():
    ps = [promise(), promise(), promise()]
    r = resolved(-1)
    it = C.as_completed(ps + [r, ps[0]], -1)
    loop = GLib.MainLoop()
    got = []
    errors = []

    def ready(source, result, *user_data):
        try:
            f = source.next_finish(result)
        except GLib.Error as e:
            errors.append(e)
            loop.quit()
            return
        if f is None:
            loop.quit()
            return
        got.append(f)
        source.next_async(None, ready)

    it.next_async(None, ready)
    later_ms(5, ps[2].resolve_int, 2)
    later_ms(15, ps[0].reject_literal, IO_ERROR, Gio.IOErrorEnum.FAILED, 'zero')
    later_ms(25, ConcurryTest.resolve_in_thread, ps[1], 1)
    guard = GLib.timeout_add(5000, loop.quit)
    loop.run()
    GLib.source_remove(guard)
    assert errors == []
    assert_same(got, [r, ps[2], ps[0], ps[1]])
    assert ps[0].get_error().message == 'zero'


def test_next_async_times_out_or_stops_when_cancelled():
    loop = GLib.MainLoop()
    outcome = []

    def ready(source, result, *user_data):
        try:
            outcome.append(source.next_finish(result))
        except GLib.Error as e:
            outcome.append(e)
        loop.quit()

    p = promise()
    C.as_completed([p], 20 * MS).next_async(None, ready)
    guard = GLib.timeout_add(5000, loop.quit)
    loop.run()
    GLib.source_remove(guard)
    assert len(outcome) == 1
    assert_error(outcome[0], IO_ERROR, Gio.IOErrorEnum.TIMED_OUT, '1 (of 1) futures unfinished')

    outcome.clear()
    it = C.as_completed([p], -1)
    cancellable = Gio.Cancellable()
    it.next_async(cancellable, ready)
    later_ms(5, cancellable.cancel)
    guard = GLib.timeout_add(5000, loop.quit)
    loop.run()
    GLib.source_remove(guard)
    assert len(outcome) == 1
    assert_error(outcome[0], IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert p.get_state() == State.PENDING
    # The iterator still works.
    p.resolve_int(1)
    assert it.next() is p


def test_as_completed_over_1000_futures():
    fs = [resolved(i) if i % 2 == 0 else promise() for i in range(1000)]
    it = C.as_completed(fs, BLOCK)
    for i in range(999, 0, -2):
        fs[i].resolve_int(i)
    order = []
    while True:
        f = it.next()
        if f is None:
            break
        order.append(f.get_int())
    assert order == list(range(0, 1000, 2)) + list(range(999, 0, -2))


def test_as_completed_with_threads_completing_concurrently():
    ps = [promise() for _ in range(100)]
    it = C.as_completed(ps, BLOCK)
    threads = [in_thread(lambda chunk=ps[i::4]: [p.resolve_int(7) for p in chunk]) for i in range(4)]
    got = set()
    while True:
        f = it.next()
        if f is None:
            break
        got.add(id(f))
    for t in threads:
        join(t)
    assert got == {id(p) for p in ps}


# --------------------------------------------------------------------------
# CompletionList
# --------------------------------------------------------------------------

def test_completion_list_fills_in_completion_order_on_the_main_thread():
    ps = [promise() for _ in range(4)]
    model = Concurry.CompletionList.new(ps + [ps[1]])
    assert isinstance(model, Gio.ListModel)
    assert model.get_item_type() == Concurry.Future.__gtype__
    assert model.get_n_items() == 0
    changes = []

    def changed(m, position, removed, added):
        changes.append((position, removed, added, m.get_n_items(), on_main_thread()))
    model.connect('items-changed', changed)

    # One at a time in this order, some from Python threads.
    join(in_thread(ps[2].resolve_int, 2))
    assert run_until(lambda: model.get_n_items() == 1)
    ps[0].reject_literal(IO_ERROR, Gio.IOErrorEnum.FAILED, 'zero')
    assert run_until(lambda: model.get_n_items() == 2)
    ConcurryTest.reject_in_thread(ps[3], 'three')
    assert run_until(lambda: model.get_n_items() == 3)
    join(in_thread(ps[1].cancel))
    assert run_until(lambda: model.get_n_items() == 4)
    drain()

    assert_same([model.get_item(i) for i in range(4)], [ps[2], ps[0], ps[3], ps[1]])
    assert_same(list(model), [ps[2], ps[0], ps[3], ps[1]])
    assert model.get_item(4) is None
    assert changes == [(0, 0, 1, 1, True), (1, 0, 1, 2, True), (2, 0, 1, 3, True), (3, 0, 1, 4, True)]
    observe(*ps)


def test_completion_list_adds_done_futures_first_never_inside_new():
    a, p, b = resolved(1), promise(), rejected('b')
    model = Concurry.CompletionList.new([p, b, a, b, a])
    assert model.get_n_items() == 0
    assert run_until(lambda: model.get_n_items() == 2)
    assert_same([model.get_item(0), model.get_item(1)], [b, a])
    p.resolve_int(2)
    assert run_until(lambda: model.get_n_items() == 3)
    assert model.get_item(2) is p
    drain()
    assert model.get_n_items() == 3
    assert Concurry.CompletionList.new([]).get_n_items() == 0
    observe(b)


def test_a_dropped_completion_list_ignores_later_completions():
    p = promise()
    model = Concurry.CompletionList.new([p])
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
    p.resolve_int(1)
    drain()
    assert p.get_int() == 1
