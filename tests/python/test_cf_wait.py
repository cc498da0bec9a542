# SPDX-License-Identifier: LGPL-2.1-or-later
"""``Concurry.wait()`` behaves as ``concurrent.futures.wait()`` does.

The behaviours that CPython's own tests check for ``wait()``
(Lib/test/test_concurrent_futures/test_wait.py), written anew for concurry
futures, plus concurry's deliberate differences:

* a cancelled future counts as done at once (``concurrent.futures`` only
  once an executor notified the cancellation);
* ``concurrent.futures.wait()`` from the standard library does not accept
  concurry futures (it uses private attributes of its own futures): use
  ``Concurry.wait()``, which accepts both kinds.

Timing-free: futures are completed by the test itself or by threads it
synchronises with; timeouts are safety nets or polls.
"""

import concurrent.futures
import threading

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


@pytest.fixture(autouse=True)
def observe_failures():
    """Reads the errors of the failed futures a test made, so that none is
    reported as never retrieved (the suite runs with fatal warnings)."""
    yield
    observe(*_failed)
    del _failed[:]


def cancelled():
    promise = Concurry.Promise()
    assert promise.cancel()
    return promise


def observe(*futures):
    for future in futures:
        if future.done() and not future.cancelled():
            future.exception(timeout=0)


def later(fn, *args):
    """Calls fn(*args) on a thread once the returned event is set."""
    go = threading.Event()

    def run():
        if go.wait(SAFETY):
            fn(*args)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return go, thread


def test_wait_returns_a_named_pair_of_sets_of_the_objects_passed():
    a, b = finished(1), finished(2)
    result = Concurry.wait([a, b])
    assert isinstance(result, tuple) and len(result) == 2
    done, not_done = result
    assert result.done is done and result.not_done is not_done
    assert isinstance(done, set) and isinstance(not_done, set)
    assert done == {a, b} and not_done == set()
    assert {id(f) for f in done} == {id(a), id(b)}


def test_duplicates_are_reported_once():
    future = finished()
    done, not_done = Concurry.wait([future, future], timeout=SAFETY)
    assert done == {future}
    assert not_done == set()


def test_wait_on_nothing_gives_two_empty_sets():
    assert Concurry.wait([]) == (set(), set())
    assert Concurry.wait([], return_when=Concurry.FIRST_COMPLETED) == (set(), set())


def test_constants_are_those_of_concurrent_futures():
    assert Concurry.FIRST_COMPLETED == concurrent.futures.FIRST_COMPLETED
    assert Concurry.FIRST_EXCEPTION == concurrent.futures.FIRST_EXCEPTION
    assert Concurry.ALL_COMPLETED == concurrent.futures.ALL_COMPLETED


def test_first_completed_returns_once_one_future_completes():
    first, other = pending(), pending()
    go, thread = later(first.set_result, 1)
    go.set()
    done, not_done = Concurry.wait([first, other], timeout=SAFETY,
                                   return_when=Concurry.FIRST_COMPLETED)
    assert done == {first}
    assert not_done == {other}
    thread.join(SAFETY)


def test_first_completed_with_some_already_done_returns_them_all_at_once():
    a, b, c = finished(1), finished(2), pending()
    bad = failed()
    done, not_done = Concurry.wait([a, b, bad, c], timeout=SAFETY,
                                   return_when=Concurry.FIRST_COMPLETED)
    assert done == {a, b, bad}
    assert not_done == {c}


def test_first_exception_returns_once_a_future_fails():
    ok, failing, other = finished(), pending(), pending()
    go, thread = later(failing.set_exception, OSError('boom'))
    go.set()
    done, not_done = Concurry.wait([ok, failing, other], timeout=SAFETY,
                                   return_when=Concurry.FIRST_EXCEPTION)
    assert done == {ok, failing}
    assert not_done == {other}
    observe(failing)
    thread.join(SAFETY)


def test_first_exception_with_one_already_failed_returns_at_once():
    bad, other = failed(), pending()
    done, not_done = Concurry.wait([bad, other], timeout=SAFETY,
                                   return_when=Concurry.FIRST_EXCEPTION)
    assert done == {bad}
    assert not_done == {other}


def test_first_exception_keeps_waiting_past_successes_and_cancellations():
    ok, gone, failing, other = finished(), cancelled(), pending(), pending()
    go, thread = later(failing.set_exception, OSError('boom'))
    assert Concurry.wait([ok, gone, other], timeout=0,
                         return_when=Concurry.FIRST_EXCEPTION).not_done == {other}
    go.set()
    done, not_done = Concurry.wait([ok, gone, failing, other], timeout=SAFETY,
                                   return_when=Concurry.FIRST_EXCEPTION)
    assert done == {ok, gone, failing}
    assert not_done == {other}
    observe(failing)
    thread.join(SAFETY)


def test_first_exception_without_a_failure_behaves_as_all_completed():
    a, b = finished(1), pending()
    go, thread = later(b.set_result, 2)
    go.set()
    done, not_done = Concurry.wait([a, b], timeout=SAFETY,
                                   return_when=Concurry.FIRST_EXCEPTION)
    assert done == {a, b}
    assert not_done == set()
    thread.join(SAFETY)


def test_a_cancellation_is_not_an_exception():
    gone, other = cancelled(), pending()
    done, not_done = Concurry.wait([gone, other], timeout=0,
                                   return_when=Concurry.FIRST_EXCEPTION)
    assert done == {gone}
    assert not_done == {other}


def test_all_completed_waits_for_values_failures_and_cancellations():
    ok, bad, gone, late = finished(), failed(), cancelled(), pending()
    go, thread = later(late.set_result, 'late')
    go.set()
    done, not_done = Concurry.wait([ok, bad, gone, late], timeout=SAFETY,
                                   return_when=Concurry.ALL_COMPLETED)
    assert done == {ok, bad, gone, late}
    assert not_done == set()
    thread.join(SAFETY)


def test_all_completed_is_the_default():
    late = pending()
    go, thread = later(late.set_result, 1)
    go.set()
    done, not_done = Concurry.wait([finished(), late], timeout=SAFETY)
    assert late in done and not_done == set()
    thread.join(SAFETY)


@pytest.mark.parametrize('timeout', [0, -1, 0.01])
def test_a_timeout_returns_the_sets_as_they_are_without_raising(timeout):
    ok, late = finished(), pending()
    done, not_done = Concurry.wait([ok, late], timeout=timeout)
    assert done == {ok}
    assert not_done == {late}
    assert not late.done()          # unaffected by the timeout


def test_a_cancelled_future_counts_as_done_at_once():
    """Deliberate difference: concurrent.futures leaves a cancelled future
    that no executor notified in not_done."""
    gone, other = cancelled(), pending()
    done, not_done = Concurry.wait([gone, other], timeout=SAFETY,
                                   return_when=Concurry.FIRST_COMPLETED)
    assert done == {gone}
    assert not_done == {other}


def test_cancel_wakes_a_waiter():
    future = pending()
    outcome = []
    thread = threading.Thread(
        target=lambda: outcome.append(Concurry.wait([future], timeout=SAFETY)), daemon=True)
    thread.start()
    assert future.cancel()
    thread.join(SAFETY)
    assert outcome == [({future}, set())]


def test_a_cancelled_queued_work_future_counts_as_done_at_once(pools, releases):
    pool = pools(1)
    started, release = threading.Event(), threading.Event()
    releases.append(release)
    blocker = pool.submit(lambda: (started.set(), release.wait(SAFETY)))
    assert started.wait(SAFETY)
    queued = pool.submit(pow, 2, 2)
    assert queued.cancel()
    done, not_done = Concurry.wait([blocker, queued], timeout=SAFETY,
                                   return_when=Concurry.FIRST_COMPLETED)
    assert done == {queued}
    assert not_done == {blocker}
    release.set()


def test_an_invalid_return_when_raises_value_error():
    with pytest.raises(ValueError):
        Concurry.wait([pending()], timeout=0, return_when='SOMETIME')


def test_concurrent_futures_futures_are_accepted_as_they_are():
    mine, theirs = finished(1), concurrent.futures.Future()
    go, thread = later(theirs.set_result, 2)
    go.set()
    done, not_done = Concurry.wait([mine, theirs], timeout=SAFETY)
    assert done == {mine, theirs}
    assert any(f is theirs for f in done)
    thread.join(SAFETY)


def test_futures_of_work_are_waited_for(executor):
    futures = [executor.submit(pow, 2, n) for n in range(20)]
    done, not_done = Concurry.wait(futures, timeout=SAFETY)
    assert done == set(futures) and not_done == set()
    assert sorted(f.result() for f in done) == [2 ** n for n in range(20)]


def test_waits_from_many_threads_on_overlapping_futures_do_not_deadlock(executor):
    futures = [executor.submit(pow, 3, n) for n in range(100)]
    barrier = threading.Barrier(4)
    outcomes = []

    def waiter(part):
        barrier.wait(SAFETY)
        outcomes.append(Concurry.wait(part, timeout=SAFETY))

    parts = [futures, futures[::-1], futures[::2], futures[50:]]
    threads = [threading.Thread(target=waiter, args=(part,), daemon=True) for part in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SAFETY)
    assert len(outcomes) == 4
    for done, not_done in outcomes:
        assert not_done == set()


def test_the_stdlib_wait_does_not_accept_concurry_futures():
    """Deliberate difference: concurrent.futures.wait() reads private
    attributes of its own futures; Concurry.wait() takes both kinds."""
    with pytest.raises(AttributeError):
        concurrent.futures.wait([finished()], timeout=0)


FOREIGN_FAILURES_CHILD = '''
import asyncio, concurrent.futures, gc, sys
import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry

def boom():
    raise ValueError('boom')

with concurrent.futures.ThreadPoolExecutor(2) as pool:
    futures = [pool.submit(boom) for _ in range(2)]
    for future in Concurry.as_completed(futures, timeout=30):
        future.exception()
    done, not_done = Concurry.wait(futures, timeout=30)
    assert len(done) == 2
    [future.exception() for future in futures]

async def main():
    loop = asyncio.get_running_loop()
    futures = [loop.run_in_executor(None, boom) for _ in range(2)]
    await asyncio.wait(futures)     # (a blocking wait here would block the loop)
    for future in Concurry.as_completed(futures, timeout=30):
        future.exception()

asyncio.run(main())
del future, futures, done, not_done
gc.collect()
print('done', flush=True)
'''


def test_waiting_on_other_kinds_of_futures_warns_of_no_failure_of_its_own():
    """Concurry.wait() and as_completed() over concurrent.futures and
    asyncio futures that fail, whose exceptions the caller reads: the
    wrappers they make internally report nothing as never retrieved."""
    import subprocess
    import sys
    from concurry_testutil import child_env
    result = subprocess.run([sys.executable, '-c', FOREIGN_FAILURES_CHILD], env=child_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'done\n'
    assert 'never retrieved' not in result.stderr, result.stderr
