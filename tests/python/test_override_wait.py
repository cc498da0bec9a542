# SPDX-License-Identifier: LGPL-2.1-or-later
"""Concurry.wait(), Concurry.as_completed() and Concurry.gather(), item by
item (/work/shared/BEHAVIOR.md sections 5, 6 and 7 and the "Decisions for
concurry" table).

No sleeps: futures are completed by hand (promises) or by work released
with events; timeouts are short and only used where a timeout is the point.
Every failed future made here has its error looked at (G_DEBUG=fatal-warnings).
"""

import concurrent.futures
import gc
import itertools
import threading
import time
import weakref

import pytest

import gi

gi.require_version('Concurry', '1')
gi.require_version('GLib', '2.0')
from gi.repository import Concurry, GLib  # noqa: E402

from concurry_testutil import LONG, observe  # noqa: E402
from concurry_testutil import failed_future as failed  # noqa: E402

SHORT = 0.05


def done(value=None):
    promise = Concurry.Promise()
    promise.set_result(value)
    return promise


def cancelled():
    promise = Concurry.Promise()
    promise.cancel()
    return promise


def later(action, *args):
    """Runs action(*args) on another thread once gate is set; returns the
    gate."""
    gate = threading.Event()

    def run():
        assert gate.wait(LONG)
        action(*args)

    threading.Thread(target=run, daemon=True).start()
    return gate


# --------------------------------------------------------------------------
# 5. wait()
# --------------------------------------------------------------------------

def test_i50_wait_returns_a_named_pair_of_disjoint_sets():
    a, b = done(1), Concurry.Promise()
    result = Concurry.wait([a, b], timeout=0)
    assert isinstance(result, tuple)
    assert result.done == {a}
    assert result.not_done == {b}
    assert result == (result.done, result.not_done)
    assert result.done | result.not_done == {a, b}
    assert not result.done & result.not_done
    b.cancel()


def test_i51_duplicates_appear_once():
    a = done(1)
    result = Concurry.wait([a, a, a])
    assert result.done == {a}
    assert len(result.done) == 1


def test_i52_sets_hold_the_very_objects_passed_in():
    a, b = done(1), failed()
    raw = concurrent.futures.Future()
    raw.set_result('raw')
    result = Concurry.wait([a, b, raw, 'plain'])
    assert result.done == {a, b, raw, 'plain'}
    assert any(x is raw for x in result.done)
    assert any(x is a for x in result.done)
    observe(b)


def test_i53_wait_on_nothing_gives_empty_sets():
    assert Concurry.wait([]) == (set(), set())
    assert Concurry.wait([], return_when=Concurry.FIRST_COMPLETED) == (set(), set())


def test_i54_all_completed_waits_for_values_failures_and_cancellations():
    a, b, c = Concurry.Promise(), Concurry.Promise(), Concurry.Promise()
    gate = later(lambda: (a.set_result(1), b.set_exception(KeyError()), c.cancel()))
    gate.set()
    result = Concurry.wait([a, b, c], timeout=LONG)
    assert result.done == {a, b, c}
    assert result.not_done == set()
    observe(b)


def test_i55_first_completed_returns_when_one_is_done():
    a, b = Concurry.Promise(), Concurry.Promise()
    later(a.set_result, 1).set()
    result = Concurry.wait([a, b], timeout=LONG, return_when=Concurry.FIRST_COMPLETED)
    assert result.done == {a}
    assert result.not_done == {b}
    b.cancel()


def test_i55_first_completed_with_some_already_done_returns_at_once():
    a, b, c = done(1), done(2), Concurry.Promise()
    start = time.monotonic()
    result = Concurry.wait([a, b, c], timeout=LONG, return_when=Concurry.FIRST_COMPLETED)
    assert time.monotonic() - start < LONG / 2
    assert result.done == {a, b}
    assert result.not_done == {c}
    c.cancel()


def test_i56_first_exception_returns_on_a_failure_with_what_finished_so_far():
    ok, bad, pending = done(1), Concurry.Promise(), Concurry.Promise()
    later(bad.set_exception, OSError()).set()
    result = Concurry.wait([ok, bad, pending], timeout=LONG,
                           return_when=Concurry.FIRST_EXCEPTION)
    assert result.done == {ok, bad}
    assert result.not_done == {pending}
    observe(bad)
    pending.cancel()


def test_i56_first_exception_with_a_failure_already_returns_at_once():
    bad, pending = failed(), Concurry.Promise()
    start = time.monotonic()
    result = Concurry.wait([bad, pending], timeout=LONG, return_when=Concurry.FIRST_EXCEPTION)
    assert time.monotonic() - start < LONG / 2
    assert result.done == {bad}
    observe(bad)
    pending.cancel()


def test_i57_first_exception_without_failure_is_all_completed():
    a, b = Concurry.Promise(), Concurry.Promise()
    later(lambda: (a.set_result(1), b.set_result(2))).set()
    result = Concurry.wait([a, b], timeout=LONG, return_when=Concurry.FIRST_EXCEPTION)
    assert result == ({a, b}, set())


def test_i57_cancellation_does_not_trigger_first_exception():
    a, b = Concurry.Promise(), Concurry.Promise()
    later(a.cancel).set()
    result = Concurry.wait([a, b], timeout=0.2, return_when=Concurry.FIRST_EXCEPTION)
    assert result.done == {a}
    assert result.not_done == {b}
    b.cancel()


@pytest.mark.parametrize('return_when', [Concurry.ALL_COMPLETED, Concurry.FIRST_COMPLETED,
                                         Concurry.FIRST_EXCEPTION])
def test_i58_timeout_returns_the_sets(return_when):
    a, b = done(1), Concurry.Promise()
    if return_when == Concurry.FIRST_COMPLETED:
        fs = [b]
    else:
        fs = [a, b]
    start = time.monotonic()
    result = Concurry.wait(fs, timeout=SHORT, return_when=return_when)
    assert time.monotonic() - start >= SHORT * 0.9
    assert result.not_done == {b}
    b.cancel()


@pytest.mark.parametrize('timeout', [0, -1])
def test_i59_zero_or_negative_timeout_polls(timeout):
    a, b = done(1), Concurry.Promise()
    start = time.monotonic()
    for return_when in (Concurry.ALL_COMPLETED, Concurry.FIRST_COMPLETED,
                        Concurry.FIRST_EXCEPTION):
        assert Concurry.wait([a, b], timeout=timeout, return_when=return_when) == ({a}, {b})
    assert time.monotonic() - start < 1
    b.cancel()


def test_wait_accepts_the_c_wait_modes():
    a, b = done(1), Concurry.Promise()
    assert Concurry.wait([a, b], timeout=LONG,
                         return_when=Concurry.WaitMode.FIRST_COMPLETED) == ({a}, {b})
    assert Concurry.wait([a, b], timeout=0,
                         return_when=Concurry.WaitMode.ALL_COMPLETED) == ({a}, {b})
    b.cancel()


def test_i60_invalid_return_when_is_rejected_only_when_waiting():
    a = done(1)
    assert Concurry.wait([a], return_when='bogus').done == {a}
    assert Concurry.wait([], return_when='bogus') == (set(), set())
    pending = Concurry.Promise()
    with pytest.raises(ValueError, match='Invalid return condition'):
        Concurry.wait([pending], return_when='bogus')
    pending.cancel()


def test_i61_decision_a_cancelled_future_is_done_at_once():
    c = cancelled()
    assert Concurry.wait([c], timeout=0).done == {c}
    pending = Concurry.Promise()
    later(pending.cancel).set()
    # cancel() wakes a FIRST_COMPLETED waiter.
    assert Concurry.wait([pending], timeout=LONG,
                         return_when=Concurry.FIRST_COMPLETED).done == {pending}


def test_i61_cancel_wakes_all_completed_waiters():
    a, b = done(1), Concurry.Promise()
    later(b.cancel).set()
    assert Concurry.wait([a, b], timeout=LONG) == ({a, b}, set())


def test_i62_plain_values_count_as_done():
    result = Concurry.wait([1, 'two', None])
    assert result.done == {1, 'two', None}


def test_i65_wait_on_many_done_futures_is_fast():
    futures = [done(i) for i in range(20000)]
    start = time.monotonic()
    result = Concurry.wait(futures)
    assert len(result.done) == 20000
    assert time.monotonic() - start < 2


def test_i66_threads_waiting_on_overlapping_sets_do_not_deadlock():
    futures = [Concurry.Promise() for _ in range(50)]
    results = []
    barrier = threading.Barrier(5)

    def waiter(subset, return_when):
        barrier.wait(LONG)
        results.append(Concurry.wait(subset, timeout=LONG, return_when=return_when))

    threads = [threading.Thread(target=waiter, args=(futures[i::2], mode), daemon=True)
               for i, mode in enumerate([Concurry.ALL_COMPLETED, Concurry.FIRST_EXCEPTION,
                                         Concurry.ALL_COMPLETED, Concurry.FIRST_EXCEPTION])]
    for thread in threads:
        thread.start()
    barrier.wait(LONG)
    for i, future in enumerate(futures):
        future.set_result(i)
    for thread in threads:
        thread.join(LONG)
        assert not thread.is_alive()
    assert all(not r.not_done for r in results)


def test_wait_from_a_worker_thread_without_a_main_context():
    with Concurry.ThreadPoolExecutor(2) as ex:
        target = Concurry.Promise()
        # (In a lambda: futures among submit()'s arguments would be unwrapped.)
        helper = ex.submit(lambda: Concurry.wait([target], LONG, Concurry.FIRST_COMPLETED))
        target.set_result(1)
        assert helper.result(LONG).done == {target}


def test_wait_on_work_completed_through_the_main_context_does_not_deadlock():
    # A future completed by an idle callback of the main context: waiting on
    # the main thread iterates that context (the C contract), so it completes.
    promise = Concurry.Promise()
    GLib.idle_add(lambda: promise.set_result('from the main loop') and False)
    for return_when in (Concurry.FIRST_COMPLETED, Concurry.ALL_COMPLETED):
        assert Concurry.wait([promise], timeout=LONG, return_when=return_when).done == {promise}
    other = Concurry.Promise()
    GLib.idle_add(lambda: other.set_result(2) and False)
    assert Concurry.gather([other], timeout=LONG) == [2]


# --------------------------------------------------------------------------
# 6. as_completed()
# --------------------------------------------------------------------------

def test_i67_yields_each_future_once_as_it_completes():
    promises = [Concurry.Promise() for _ in range(4)]
    iterator = Concurry.as_completed(promises, timeout=LONG)
    order = [2, 0, 3, 1]
    seen = []
    for index in order:
        promises[index].set_result(index)
        seen.append(next(iterator))
    assert seen == [promises[i] for i in order]
    with pytest.raises(StopIteration):
        next(iterator)


def test_i67_as_completed_of_nothing():
    assert list(Concurry.as_completed([])) == []
    assert list(Concurry.as_completed([], timeout=0)) == []


def test_i67_failed_and_cancelled_futures_are_yielded():
    bad, gone = Concurry.Promise(), Concurry.Promise()
    iterator = Concurry.as_completed([bad, gone], timeout=LONG)
    bad.set_exception(RuntimeError())
    assert next(iterator) is bad
    gone.cancel()
    assert next(iterator) is gone
    observe(bad)


def test_i68_already_done_first_then_completion_order():
    a, b, c = done('a'), Concurry.Promise(), done('c')
    iterator = Concurry.as_completed([b, a, c], timeout=LONG)
    first_two = {next(iterator), next(iterator)}
    assert first_two == {a, c}
    b.set_result('b')
    assert next(iterator) is b


def test_i68_completion_order_from_worker_threads():
    releases = [threading.Event() for _ in range(3)]
    with Concurry.ThreadPoolExecutor(3) as ex:
        futures = [ex.submit(lambda e=e, i=i: e.wait(LONG) and i)
                   for i, e in enumerate(releases)]
        iterator = Concurry.as_completed(futures, timeout=LONG)
        got = []
        for i in (1, 2, 0):
            releases[i].set()
            got.append(next(iterator).result())
        assert got == [1, 2, 0]


def test_i69_duplicates_yielded_once_from_any_iterable():
    a = done(1)
    b = Concurry.Promise()
    b.set_result(2)
    assert list(Concurry.as_completed(itertools.repeat(a, 3))) == [a]
    assert sorted(f.result() for f in Concurry.as_completed([a, b, a, b])) == [1, 2]


def test_i70_timeout_message_counts_the_unfinished_ones():
    a, b = done(1), done(2)
    c, d = Concurry.Promise(), Concurry.Promise()
    iterator = Concurry.as_completed([a, b, c, d, c], timeout=SHORT)
    assert {next(iterator), next(iterator)} == {a, b}
    with pytest.raises(TimeoutError, match=r'^2 \(of 4\) futures unfinished$'):
        next(iterator)
    c.cancel()
    d.cancel()


def test_i71_timeout_counts_from_the_call():
    pending = Concurry.Promise()
    iterator = Concurry.as_completed([pending], timeout=1.0)
    # Let the deadline pass before the first next(): it must fail at once
    # rather than wait another second (a bound no busy machine reaches
    # between two lines).
    threading.Event().wait(1.05)   # waiting out the deadline is the point here
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        next(iterator)
    assert time.monotonic() - start < 1.0
    pending.cancel()


@pytest.mark.parametrize('timeout', [0, -5])
def test_i71_zero_or_negative_timeout_yields_done_then_raises(timeout):
    a, b = done(1), Concurry.Promise()
    iterator = Concurry.as_completed([a, b], timeout=timeout)
    assert next(iterator) is a
    with pytest.raises(TimeoutError, match=r'1 \(of 2\) futures unfinished'):
        next(iterator)
    b.cancel()


def test_i72_no_reference_kept_to_yielded_futures():
    with Concurry.ThreadPoolExecutor(2) as ex:
        futures = [ex.submit(lambda i=i: i) for i in range(2)]
        Concurry.wait(futures)
    ex.shutdown(wait=True)
    refs = [weakref.ref(f) for f in futures]
    pending = Concurry.Promise()
    iterator = Concurry.as_completed(futures + [pending], timeout=LONG)
    del futures
    first = next(iterator)
    second = next(iterator)
    assert {first.result(), second.result()} == {0, 1}
    del first, second
    gc.collect()
    assert [r() for r in refs] == [None, None]
    pending.set_result('p')
    assert next(iterator) is pending


def test_as_completed_closed_early_withdraws_its_callbacks():
    pending = Concurry.Promise()
    iterator = Concurry.as_completed([done(1), pending], timeout=LONG)
    next(iterator)
    iterator.close()
    pending.set_result(2)
    assert pending.result() == 2


# --------------------------------------------------------------------------
# 7. gather()
# --------------------------------------------------------------------------

def test_i75_results_in_input_order_whatever_the_completion_order():
    promises = [Concurry.Promise() for _ in range(4)]

    def complete():
        for i in (3, 1, 0, 2):
            promises[i].set_result(i * 10)

    later(complete).set()
    assert Concurry.gather(promises, timeout=LONG) == [0, 10, 20, 30]


def test_i75_gather_of_many_done_futures_needs_no_waiting():
    futures = [done(i) for i in range(1000)]
    # A zero timeout polls: it succeeds only if nothing needs waiting for.
    assert Concurry.gather(futures, timeout=0) == list(range(1000))


def test_i76_shapes():
    assert Concurry.gather([]) == []
    assert Concurry.gather([done(1)]) == [1]
    assert Concurry.gather((done(1), done(2))) == [1, 2]
    assert Concurry.gather(f for f in [done(3)]) == [3]


def test_i77_plain_values_stay_in_place():
    assert Concurry.gather([done('f'), 42, None, done('g')]) == ['f', 42, None, 'g']
    assert Concurry.gather([1, 2, 3]) == [1, 2, 3]


def test_i78_decision_fails_at_the_first_failure_to_happen():
    slow = Concurry.Promise()
    bad = Concurry.Promise()
    exc = LookupError('first to happen')
    later(bad.set_exception, exc).set()
    start = time.monotonic()
    with pytest.raises(LookupError) as info:
        Concurry.gather([slow, bad], timeout=LONG)
    assert info.value is exc
    assert time.monotonic() - start < LONG / 2
    # The others are not cancelled.
    assert not slow.done()
    slow.set_result(1)


def test_i78_first_failure_in_completion_order_not_input_order():
    first, second = Concurry.Promise(), Concurry.Promise()
    exc_second = KeyError('second in input, first to fail')

    def complete():
        second.set_exception(exc_second)

    later(complete).set()
    with pytest.raises(KeyError) as info:
        Concurry.gather([first, second], timeout=LONG)
    assert info.value is exc_second
    first.set_exception(ValueError('later'))
    observe(first)


def test_i79_return_exceptions_gives_every_outcome_in_order():
    exc1, exc2 = ValueError(1), TypeError(2)
    futures = [done(3), done(1), failed(exc1), failed(exc2)]
    assert Concurry.gather(futures, return_exceptions=True) == [3, 1, exc1, exc2]
    result = Concurry.gather(futures, return_exceptions=True)
    assert result[2] is exc1 and result[3] is exc2


def test_i80_cancelled_input():
    c = cancelled()
    with pytest.raises(concurrent.futures.CancelledError):
        Concurry.gather([done(1), c])
    outcome = Concurry.gather([done(1), c], return_exceptions=True)
    assert outcome[0] == 1
    assert isinstance(outcome[1], concurrent.futures.CancelledError)


def test_i81_timeout_raises_and_leaves_the_inputs_alone():
    pending = Concurry.Promise()
    for return_exceptions in (False, True):
        with pytest.raises(TimeoutError, match=r'1 \(of 2\) futures unfinished'):
            Concurry.gather([done(1), pending], timeout=SHORT,
                            return_exceptions=return_exceptions)
    assert not pending.done()
    pending.set_result(2)
    assert Concurry.gather([pending], timeout=0) == [2]


def test_i83_duplicates_give_the_value_at_every_position():
    d = Concurry.Promise()
    later(d.set_result, 'd').set()
    assert Concurry.gather([d, d, d], timeout=LONG) == ['d', 'd', 'd']


def test_gather_mixes_concurry_and_concurrent_futures():
    with concurrent.futures.ThreadPoolExecutor(2) as pool, \
            Concurry.ThreadPoolExecutor(2) as ex:
        fs = [pool.submit(pow, 2, 5), ex.submit(pow, 3, 2), 7]
        assert Concurry.gather(fs, timeout=LONG) == [32, 9, 7]
