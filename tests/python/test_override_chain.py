# SPDX-License-Identifier: LGPL-2.1-or-later
"""Chains from Python: and_then(), map(), catch_error() and finally_do()
as the override provides them.

A step's value is the Python object itself, a future it returns is
flattened, an exception it raises fails the chain and comes out of
result()/exception() at the end as the very same object, and the C rules
stay: steps run on the main context (or asyncio loop) of the code that
built the chain, never inside the call, and cancelling the end cancels
what it waits on.  test_combinators.py checks the same methods called the
raw way, and what C sees.

No sleeps; every failed future made here has its error looked at
(G_DEBUG=fatal-warnings).
"""

import asyncio
import concurrent.futures
import threading

import pytest

import gi

gi.require_version('Concurry', '1')
gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
from gi.repository import Concurry, Gio, GLib, GObject  # noqa: E402

from concurry_testutil import (  # noqa: E402
    IO_ERROR, LONG, assert_error, drain, failed_future, join, on_main_thread, run_until,
    start_thread)


class Thing:
    """An object only Python knows."""


class Stop(BaseException):
    """Not an Exception: like KeyboardInterrupt, it must still fail the chain."""


def resolved(value):
    return Concurry.wrap_future(value)


def raise_(exc):
    raise exc


# --------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------

def test_a_step_value_is_the_very_object_tuples_big_ints_and_objects_included():
    values = [(1, 'two'), 2 ** 100, -2 ** 40, Thing(), [1, 2], {'a': 1}, frozenset({3})]
    ends = [resolved(0).map(lambda v, value=value: value) for value in values]
    ends += [resolved(0).and_then(lambda f, value=value: value) for value in values]
    for end, value in zip(ends, values + values):
        assert end.result(LONG) is value


def test_a_step_value_that_c_can_type_keeps_its_c_type():
    cases = [('text', GObject.TYPE_STRING, 'get_string'),
             (-7, GObject.TYPE_INT, 'get_int'),
             (0.5, GObject.TYPE_DOUBLE, 'get_double'),
             (True, GObject.TYPE_BOOLEAN, 'get_boolean'),
             (2 ** 40, GObject.TYPE_PYOBJECT, None),
             ('nul\0inside', GObject.TYPE_PYOBJECT, None),
             (None, GObject.TYPE_INVALID, None)]
    ends = [resolved(0).map(lambda v, value=value: value) for value, _, _ in cases]
    for end, (value, gtype, getter) in zip(ends, cases):
        assert end.result(LONG) == value
        assert end.get_value_type() == gtype
        if getter is not None:
            assert getattr(end, getter)() == value


def test_a_gobject_value_returned_by_a_step_is_stored_as_it_is():
    end = resolved(0).map(lambda v: GObject.Value(GObject.TYPE_UINT64, 2 ** 63))
    assert end.result(LONG) == 2 ** 63
    assert end.get_value_type() == GObject.TYPE_UINT64


def test_a_value_passed_through_keeps_its_c_type_and_identity():
    typed = Concurry.ResolvedFuture.new(GObject.Value(GObject.TYPE_INT64, 2 ** 40))
    end = typed.finally_do(lambda f: None).catch_error(lambda f: 'unused')
    assert end.result(LONG) == 2 ** 40
    assert end.get_value_type() == GObject.TYPE_INT64
    assert end.get_int64() == 2 ** 40

    thing = Thing()
    end = resolved(thing).catch_error(lambda f: 'unused').finally_do(lambda f: None)
    assert end.result(LONG) is thing


def test_map_gets_the_value_and_and_then_the_future_plus_the_extra_arguments():
    upstream = resolved(Thing())
    seen = []
    by_value = upstream.map(lambda *args: seen.append(('map',) + args), 'x', 2)
    by_future = upstream.and_then(lambda *args: seen.append(('and_then',) + args), 'y')
    by_value.result(LONG)
    by_future.result(LONG)
    assert sorted(seen, key=lambda item: item[0]) == [
        ('and_then', upstream, 'y'), ('map', upstream.result(), 'x', 2)]


def test_a_step_must_be_callable():
    with pytest.raises(TypeError):
        resolved(1).map(42)
    with pytest.raises(TypeError):
        resolved(1).finally_do(None)


def test_executor_work_chains_with_python_values():
    with Concurry.ThreadPoolExecutor(2) as pool:
        end = pool.submit(pow, 2, 40).map(lambda v: (v, v + 1))
        assert end.result(LONG) == (2 ** 40, 2 ** 40 + 1)


# --------------------------------------------------------------------------
# flattening
# --------------------------------------------------------------------------

def test_a_concurry_future_returned_by_a_step_is_flattened():
    inner = Concurry.Promise()
    thing = Thing()
    end = resolved(1).and_then(lambda f: inner).map(lambda v: (v, 'mapped'))
    start_thread(inner.set_result, thing)
    assert end.result(LONG) == (thing, 'mapped')
    assert end.result()[0] is thing


def test_a_failed_future_returned_by_a_step_gives_its_very_exception():
    exc = KeyError('inner')
    end = resolved(1).and_then(lambda f: failed_future(exc)).map(lambda v: 'not run')
    assert end.exception(LONG) is exc
    with pytest.raises(KeyError) as info:
        end.result()
    assert info.value is exc


def test_a_concurrent_future_returned_by_a_step_is_flattened():
    source = concurrent.futures.Future()
    thing = Thing()
    end = resolved(1).map(lambda v: source)
    start_thread(source.set_result, thing)
    assert end.result(LONG) is thing


def test_a_coroutine_returned_without_a_running_loop_fails_the_chain_with_type_error():
    async def coroutine():
        return 1
    end = resolved(1).map(lambda v: coroutine())
    assert isinstance(end.exception(LONG), TypeError)


# --------------------------------------------------------------------------
# exceptions
# --------------------------------------------------------------------------

@pytest.mark.parametrize('method', ['and_then', 'map', 'catch_error'])
def test_an_exception_raised_by_a_step_is_raised_by_result_as_the_same_object(method):
    exc = ValueError('step failed')
    upstream = failed_future(RuntimeError('upstream')) if method == 'catch_error' else resolved(1)
    end = getattr(upstream, method)(lambda arg: raise_(exc))
    with pytest.raises(ValueError) as info:
        end.result(LONG)
    assert info.value is exc
    assert end.exception() is exc


def test_a_failure_goes_down_the_chain_as_the_same_object_skipping_the_steps():
    exc = ValueError('first step failed')
    ran = []
    end = (resolved(1).and_then(lambda f: raise_(exc))
           .and_then(lambda f: ran.append('and_then'))
           .map(lambda v: ran.append('map'))
           .finally_do(lambda f: ran.append('finally_do'))
           .map(lambda v: ran.append('map 2')))
    with pytest.raises(ValueError) as info:
        end.result(LONG)
    assert info.value is exc
    assert ran == ['finally_do']


def test_a_base_exception_raised_by_a_step_fails_the_chain_with_it():
    exc = Stop('stop')
    end = resolved(1).map(lambda v: raise_(exc)).map(lambda v: 'not run')
    assert end.exception(LONG) is exc


def test_a_glib_error_raised_by_a_step_keeps_its_domain_code_and_message():
    error = GLib.Error.new_literal(IO_ERROR, 'bad data', Gio.IOErrorEnum.INVALID_DATA)
    end = resolved(1).map(lambda v: raise_(error)).and_then(lambda f: 'not run')
    assert end.exception(LONG) is error
    # What C (and the raw API) sees.
    assert_error(end.get_error(), IO_ERROR, Gio.IOErrorEnum.INVALID_DATA, 'bad data')


def test_c_sees_a_python_exception_of_a_step_as_concurry_error_failed():
    end = resolved(1).map(lambda v: raise_(ValueError('no good')))
    assert end.exception(LONG).args == ('no good',)
    assert_error(end.get_error(), Concurry.error_quark(), Concurry.Error.FAILED,
                 'ValueError: no good')


def test_catch_error_gets_the_failed_future_and_recovers_with_a_value():
    exc = KeyError('missing')
    upstream = failed_future(exc)
    seen = []
    end = upstream.catch_error(lambda f: seen.append(f) or (f.exception(), 'recovered'))
    assert end.result(LONG) == (exc, 'recovered')
    assert seen == [upstream]
    assert seen[0].exception() is exc


def test_catch_error_lets_a_value_and_a_cancellation_through():
    ran = []
    thing = Thing()
    ok = resolved(thing).catch_error(lambda f: ran.append(f))
    gone = Concurry.Promise()
    skipped = gone.catch_error(lambda f: ran.append(f))
    gone.cancel()
    assert ok.result(LONG) is thing
    with pytest.raises(concurrent.futures.CancelledError):
        skipped.result(LONG)
    drain()
    assert ran == []


def test_an_exception_raised_by_catch_error_replaces_the_original():
    replacement = LookupError('replacement')
    end = failed_future(ValueError('original')).catch_error(lambda f: raise_(replacement))
    assert end.exception(LONG) is replacement


# --------------------------------------------------------------------------
# finally_do
# --------------------------------------------------------------------------

def test_finally_do_runs_with_the_future_and_passes_the_outcome_through():
    thing = Thing()
    exc = ValueError('failed')
    ok, bad, gone = resolved(thing), failed_future(exc), Concurry.Promise()
    calls = []
    ends = [future.finally_do(lambda f: calls.append(f)) for future in (ok, bad, gone)]
    gone.cancel()
    assert ends[0].result(LONG) is thing
    assert ends[1].exception(LONG) is exc
    with pytest.raises(concurrent.futures.CancelledError):
        ends[2].result(LONG)
    assert sorted(map(id, calls)) == sorted(map(id, (ok, bad, gone)))


def test_finally_do_ignores_what_fn_returns():
    end = resolved('value').finally_do(lambda f: 'ignored')
    assert end.result(LONG) == 'value'


def test_an_exception_raised_by_finally_do_fails_the_chain_like_a_finally_block():
    cleanup_failed = OSError('cleanup failed')
    end = resolved(1).finally_do(lambda f: raise_(cleanup_failed))
    assert end.exception(LONG) is cleanup_failed

    original = ValueError('original')
    superseding = OSError('cleanup failed too')
    end = failed_future(original).finally_do(lambda f: raise_(superseding))
    assert end.exception(LONG) is superseding
    assert superseding.__context__ is original


def test_an_exception_in_finally_do_of_a_cancelled_future_is_logged_and_it_stays_cancelled(caplog):
    upstream = Concurry.Promise()
    end = upstream.finally_do(lambda f: raise_(OSError('cleanup of a cancelled future')))
    upstream.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        end.result(LONG)
    assert any(record.name == 'concurry' and record.exc_info and
               str(record.exc_info[1]) == 'cleanup of a cancelled future'
               for record in caplog.records)


def test_finally_do_in_a_coroutine_runs_on_the_loop_before_the_end_completes():
    async def main():
        events = []
        upstream = Concurry.Promise()
        end = upstream.finally_do(lambda f: events.append(('cleanup', threading.current_thread())))
        upstream.set_result(3)
        value = await end
        events.append(('awaited', threading.current_thread()))
        return value, events

    value, events = asyncio.run(main())
    assert value == 3
    assert [name for name, _ in events] == ['cleanup', 'awaited']
    assert events[0][1] is events[1][1]


# --------------------------------------------------------------------------
# where and when steps run
# --------------------------------------------------------------------------

def test_steps_never_run_inside_the_call_that_adds_them():
    ran = []
    upstream = resolved(1)
    ends = [upstream.and_then(lambda f: ran.append('and_then')),
            upstream.map(lambda v: ran.append('map')),
            upstream.catch_error(lambda f: ran.append('catch_error')),
            upstream.finally_do(lambda f: ran.append('finally_do'))]
    assert ran == []
    for end in ends:
        end.result(LONG)
    assert sorted(ran) == ['and_then', 'finally_do', 'map']


def test_steps_of_a_chain_built_on_a_plain_thread_run_on_the_private_context():
    # Nothing on that thread would ever run them: the override's private
    # context thread does, whatever the main thread does (here: nothing).
    upstream = Concurry.Promise()
    ends = []
    seen = []
    join(start_thread(lambda: ends.append(
        upstream.map(lambda v: seen.append(threading.current_thread().name) or v + 1))))
    join(start_thread(upstream.set_result, 41))
    assert ends[0].result(LONG) == 42
    assert seen == ['concurry-bridge']


def test_steps_of_a_chain_built_in_an_asyncio_loop_run_on_that_loop():
    async def double_later(value):
        await asyncio.sleep(0)
        return value * 2

    async def main():
        loop = asyncio.get_running_loop()
        seen = []

        def step(value):
            seen.append(asyncio.get_running_loop() is loop)
            return double_later(value)    # a coroutine: scheduled on the loop, flattened
        end = resolved(21).map(step).map(lambda v: seen.append(on_main_thread()) or v)
        return await asyncio.wait_for(end, LONG), seen

    assert asyncio.run(main()) == (42, [True, True])


# --------------------------------------------------------------------------
# cancellation
# --------------------------------------------------------------------------

def test_cancelling_the_end_cancels_the_upstream_and_no_step_runs():
    upstream = Concurry.Promise()
    ran = []
    end = upstream.map(lambda v: ran.append(1)).and_then(lambda f: ran.append(2))
    assert end.cancel()
    assert upstream.cancelled()
    with pytest.raises(concurrent.futures.CancelledError):
        end.result(LONG)
    drain()
    assert ran == []


def test_cancelling_the_end_cancels_the_future_a_step_returned():
    inner = Concurry.Promise()
    stepped = threading.Event()
    end = resolved(1).and_then(lambda f: stepped.set() or inner)
    assert run_until(stepped.is_set, LONG)
    assert not end.done()
    assert end.cancel()
    assert inner.cancelled()
    assert end.cancelled()


def test_a_cancelled_upstream_cancels_the_chain():
    upstream = Concurry.Promise()
    ran = []
    end = upstream.and_then(lambda f: ran.append(f)).map(lambda v: ran.append(v))
    upstream.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        end.result(LONG)
    assert ran == []
