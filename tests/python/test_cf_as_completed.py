# SPDX-License-Identifier: LGPL-2.1-or-later
"""``Concurry.as_completed()`` behaves as ``concurrent.futures.as_completed()``.

The behaviours that CPython's own tests check for ``as_completed()``
(Lib/test/test_concurrent_futures/test_as_completed.py), written anew for
concurry futures, plus concurry's deliberate differences:

* a cancelled future is yielded at once (``concurrent.futures`` only once
  an executor notified the cancellation);
* ``concurrent.futures.as_completed()`` from the standard library does not
  accept concurry futures (it uses private attributes of its own futures).

Timing-free: the test completes the futures itself, between ``next()``
calls; timeouts are polls or safety nets.
"""

import concurrent.futures
import gc
import itertools
import threading
import weakref

import pytest

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402

SAFETY = 30


def pending():
    return Concurry.Promise()


def finished(value=42):
    return Concurry.SyncFuture(result_value=value)


_failed = []


def failed(exc=None):
    future = Concurry.SyncFuture(exception_value=exc or OSError('failed'))
    _failed.append(future)
    return future


def cancelled():
    promise = Concurry.Promise()
    assert promise.cancel()
    return promise


@pytest.fixture(autouse=True)
def observe_failures():
    """Reads the errors of the failed futures a test made (the suite runs
    with fatal warnings, and an error never retrieved is warned about)."""
    yield
    for future in _failed:
        future.exception(timeout=0)
    del _failed[:]


def test_yields_every_future_once_whatever_its_outcome():
    ok, bad, gone, late = finished(), failed(), cancelled(), pending()
    thread = threading.Thread(target=late.set_result, args=('late',), daemon=True)
    thread.start()
    yielded = list(Concurry.as_completed([ok, bad, gone, late], timeout=SAFETY))
    assert len(yielded) == 4
    assert {id(f) for f in yielded} == {id(ok), id(bad), id(gone), id(late)}
    thread.join(SAFETY)


def test_yields_nothing_for_no_futures():
    assert list(Concurry.as_completed([])) == []
    assert list(Concurry.as_completed([], timeout=0)) == []


def test_yields_the_done_futures_first_then_in_completion_order():
    done_one, first, second = finished(), pending(), pending()
    iterator = Concurry.as_completed([second, first, done_one], timeout=SAFETY)
    assert next(iterator) is done_one
    first.set_result(1)
    assert next(iterator) is first
    second.set_result(2)
    assert next(iterator) is second
    with pytest.raises(StopIteration):
        next(iterator)


def test_a_cancelled_future_is_yielded_at_once():
    """Deliberate difference: concurrent.futures waits for an executor to
    notify the cancellation."""
    gone, other = cancelled(), pending()
    iterator = Concurry.as_completed([other, gone], timeout=SAFETY)
    assert next(iterator) is gone
    other.set_result(None)
    assert next(iterator) is other


def test_cancelling_a_pending_future_yields_it():
    future = pending()
    iterator = Concurry.as_completed([future], timeout=SAFETY)
    thread = threading.Thread(target=future.cancel, daemon=True)
    thread.start()
    assert next(iterator) is future
    thread.join(SAFETY)


@pytest.mark.parametrize('timeout', [0, -5, 0.01])
def test_the_done_futures_come_before_the_timeout_error(timeout):
    ok, bad, late = finished(), failed(), pending()
    iterator = Concurry.as_completed([ok, late, bad], timeout=timeout)
    got = {id(next(iterator)), id(next(iterator))}
    assert got == {id(ok), id(bad)}
    with pytest.raises(TimeoutError):
        next(iterator)
    assert not late.done()


def test_timeout_error_counts_the_unfinished_of_the_distinct_futures():
    ok, gone, late_a, late_b = finished(), cancelled(), pending(), pending()
    iterator = Concurry.as_completed([ok, gone, late_a, late_b, late_a], timeout=0)
    next(iterator)
    next(iterator)
    with pytest.raises(TimeoutError) as info:
        next(iterator)
    assert str(info.value) == '2 (of 4) futures unfinished'


def test_duplicates_are_yielded_once():
    future = finished()
    assert list(Concurry.as_completed([future, future], timeout=SAFETY)) == [future]
    assert list(Concurry.as_completed(itertools.repeat(future, 3), timeout=SAFETY)) == [future]


def test_it_keeps_no_reference_to_the_futures_it_yielded(executor):
    futures = [executor.submit(pow, 2, n) for n in range(4)]
    assert Concurry.wait(futures, timeout=SAFETY).not_done == set()
    refs = [weakref.ref(f) for f in futures]
    iterator = Concurry.as_completed(futures, timeout=SAFETY)
    del futures
    for _ in range(4):
        future = next(iterator)
        ref = weakref.ref(future)
        assert ref in refs or any(r() is future for r in refs)
        del future
        gc.collect()
        assert ref() is None
    with pytest.raises(StopIteration):
        next(iterator)


def test_futures_of_work_are_yielded_as_they_complete(pools, releases):
    pool = pools(2)
    release = threading.Event()
    releases.append(release)
    slow = pool.submit(release.wait, SAFETY)
    fast = pool.submit(pow, 2, 3)
    iterator = Concurry.as_completed([slow, fast], timeout=SAFETY)
    assert next(iterator) is fast
    release.set()
    assert next(iterator) is slow
    assert slow.result() is True


def test_concurrent_futures_futures_are_yielded_as_the_objects_passed():
    theirs, mine = concurrent.futures.Future(), pending()
    iterator = Concurry.as_completed([theirs, mine], timeout=SAFETY)
    theirs.set_result('theirs')
    assert next(iterator) is theirs
    mine.set_result('mine')
    assert next(iterator) is mine


def test_the_stdlib_as_completed_does_not_accept_concurry_futures():
    """Deliberate difference: concurrent.futures.as_completed() reads
    private attributes of its own futures; Concurry.as_completed() takes
    both kinds."""
    with pytest.raises(AttributeError):
        list(concurrent.futures.as_completed([finished()], timeout=0))
