# SPDX-License-Identifier: LGPL-2.1-or-later
"""``wait()``, ``as_completed()`` and ``gather()`` over any mix of futures,
on the C combinators.

Inputs that are not concurry futures are wrapped with ``wrap_future()``;
the sets and iterators give back the very objects that were passed in.
Timeouts follow ``concurrent.futures`` (None: for ever, <= 0: poll) and are
absolute, counted once at the call.
"""

import collections
import concurrent.futures

from . import bridge
from .futures import wrap_future
from .outcomes import (Concurry, CancelledError, DONE, FAILED, CANCELLED, call_when_done,
                       exception_of, outcome, state_of)

FIRST_COMPLETED = concurrent.futures.FIRST_COMPLETED
FIRST_EXCEPTION = concurrent.futures.FIRST_EXCEPTION
ALL_COMPLETED = concurrent.futures.ALL_COMPLETED
DoneAndNotDoneFutures = collections.namedtuple('DoneAndNotDoneFutures', 'done not_done')

_Mode = Concurry.WaitMode
_MODES = {FIRST_COMPLETED: _Mode.FIRST_COMPLETED, FIRST_EXCEPTION: _Mode.FIRST_EXCEPTION,
          ALL_COMPLETED: _Mode.ALL_COMPLETED}
_raw_wait = Concurry.wait
_raw_gather = Concurry.gather
_raw_as_completed = Concurry.as_completed
_ALL_OUTCOMES = Concurry.GatherFlags.ALL_OUTCOMES
_NO_FLAGS = Concurry.GatherFlags.NONE


def _distinct(fs):
    """{id(wrapper): (wrapper, original)} for the distinct inputs."""
    inputs = {}
    for obj in fs:
        if id(obj) in inputs:
            continue
        wrapper = wrap_future(obj)
        if wrapper is not obj:
            # A future of another kind (concurrent.futures, asyncio): its
            # failure is the original's, which the caller looks at; the
            # wrapper, never seen, must not warn that nobody did.
            call_when_done(wrapper, wrapper.get_error)
        inputs[id(obj)] = (wrapper, obj)
    return {id(pair[0]): pair for pair in inputs.values()}


def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """Waits for the futures of fs (any mix: concurry, concurrent.futures,
    asyncio, Dask), like ``concurrent.futures.wait()``: returns the named
    2-tuple of sets (done, not_done) of the objects passed in once
    return_when is met (FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED)
    or timeout seconds passed.  A cancelled future is done at once, and is
    not an exception."""
    until = bridge.deadline(timeout)
    inputs = _distinct(fs)
    if isinstance(return_when, _Mode):
        mode = return_when
    elif return_when in _MODES:
        mode = _MODES[return_when]
    else:
        # Like concurrent.futures: only refused when it has to wait.
        if all(pair[0].done() for pair in inputs.values()):
            return DoneAndNotDoneFutures({pair[1] for pair in inputs.values()}, set())
        raise ValueError('Invalid return condition: %r' % (return_when,))
    wrappers = [pair[0] for pair in inputs.values()]
    result = []

    def step(usec):
        met, done, not_done = _raw_wait(wrappers, mode, usec)
        result[:] = [done, not_done]
        return met

    bridge.wait_slices(step, until)
    done, not_done = result
    for future in done:
        if future.get_state() == FAILED:
            future.get_error()      # waiting for it counts as looking at it
    return DoneAndNotDoneFutures({inputs[id(f)][1] for f in done},
                                 {inputs[id(f)][1] for f in not_done})


def as_completed(fs, timeout=None):
    """Yields the futures of fs (the objects passed in, each once) as they
    complete, done ones first; raises ``TimeoutError`` if they are not all
    done within timeout seconds of this call.  What it has yielded it no
    longer holds."""
    until = bridge.deadline(timeout)
    inputs = _distinct(fs)
    total = len(inputs)
    iterator = _raw_as_completed([pair[0] for pair in inputs.values()],
                                 bridge.remaining(until) if until >= 0 else -1)
    return _as_completed(iterator, inputs, total, until)


def _as_completed(iterator, inputs, total, until):
    try:
        while inputs:
            found = []

            def step(usec):
                future = iterator.next_until(-1 if usec < 0 else bridge.now() + usec)
                if future is not None:
                    found.append(future)
                    return True
                return iterator.get_n_remaining() == 0

            try:
                bridge.wait_slices(step, until)
            except Exception as error:  # the deadline of the iterator
                if not hasattr(error, 'matches'):
                    raise
                found = []
            if not found:
                if iterator.get_n_remaining() == 0 and not inputs:
                    return
                raise TimeoutError('%d (of %d) futures unfinished' % (len(inputs), total))
            # Nothing of it stays in this frame while suspended.
            yield inputs.pop(id(found.pop()))[1]
    finally:
        inputs.clear()


def gather(fs, timeout=None, return_exceptions=False):
    """Waits for all the futures of fs and returns their values, in the
    order of fs (items that are not futures stay in place as values).

    Without return_exceptions, the first failure to happen (an exception,
    or a cancellation as ``CancelledError``) is raised as soon as it
    happens; with it, every outcome is returned, exceptions (and
    ``CancelledError`` instances) in place.  If the futures are not all
    done in time, ``TimeoutError`` is raised (they are not affected).
    """
    until = bridge.deadline(timeout)
    futures = [wrap_future(obj) for obj in fs]
    group = _raw_gather(futures, _ALL_OUTCOMES if return_exceptions else _NO_FLAGS)
    bridge.block(group, until)
    state = state_of(group)
    if state < DONE:
        unfinished = sum(1 for future in futures if state_of(future) < DONE)
        raise TimeoutError('%d (of %d) futures unfinished' % (unfinished, len(futures)))
    if state != DONE:
        if state == CANCELLED:
            raise CancelledError()
        exc = exception_of(group)
        try:
            raise exc
        finally:
            del exc
    return [outcome(future) for future in futures]
