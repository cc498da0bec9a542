# SPDX-License-Identifier: LGPL-2.1-or-later
"""Carrying work to other processes on the C engine.

An executor whose work runs in other processes (``ProcessPoolExecutor``)
or on a cluster (``DaskExecutor``'s ``map()``) queues it where a thread
pool queues its work: in a C executor, with a forwarding
``Concurry.Runner`` (see its ``forwarding`` property).  Queueing,
batching, cancellation, shutdown, ``map()``'s window and input reading and
the waiting for argument futures are the C engine's.  The C executor's
threads are carriers: each hands the runner a batch; the runner starts its
items (from then on they are running: ``cancel()`` returns False), sends
the whole batch as one call, waits for it, and ends each item with its
outcome.  So one message each way carries many calls, and the C
executor's number of threads bounds the batches out at a time.

Each call and each outcome is pickled together with the others of its
batch, or on its own if that fails, so that one call that cannot be
pickled (or whose result cannot) fails alone (see ``worker.py``).
"""

import pickle

from gi._concurry import executors, worker
from gi._concurry.outcomes import CancelledError

__all__ = ['Carrier']


class Carrier:
    """The function of a forwarding ``Concurry.Runner``: carries the
    batches of items a C executor's workers take from its queue to where
    the work runs, one call of ``call()`` per batch (subclasses say how),
    and the outcomes back.  It must not hold the executor (which holds the
    runner)."""

    dumps = staticmethod(pickle.dumps)

    def __init__(self, broken_error, one_call_per_task=False):
        # With one_call_per_task, a batch of calls travels call by call.
        self.one_call_per_task = one_call_per_task
        self.broken = None          # the message, once the pool broke
        self.broken_error = broken_error
        self.cancelling = False     # shut down with cancel_futures

    def runner(self):
        """A new forwarding ``Concurry.Runner`` running this carrier."""
        runner = executors.Concurry.Runner.new(self.run)
        runner.set_forwarding(True)
        return runner

    def call(self, fn, *args):
        """Runs fn(*args) where the work runs; returns its value."""
        raise NotImplementedError

    def call_one(self, fn, args, kwargs):
        """Runs ``fn(*args, **kwargs)`` where the work runs, waiting for it
        (on a worker of the C executor: for a task manager, whose tasks are
        that executor's work); returns its value or raises its exception."""
        payload = self.dumps([(fn, args, kwargs)], worker.PROTOCOL)
        ((ok, value),) = worker.load_outcomes(self.call(worker.run_calls, payload))
        if ok:
            return value
        raise value

    # -- the runner --

    def run(self, batch, *unused):
        size, data = executors._batch_info(batch)
        members = []        # (index, the call or the group of map inputs)
        for index in range(size):
            item = executors._batch_start(batch, index)
            if item is None:
                continue
            if self.broken is not None:
                self._fail(batch, index, self.broken_error(self.broken))
                continue
            try:
                if data is None:
                    args, kwargs = item[1], item[2]
                    if len(item) == 4:
                        args, kwargs = executors._fill(args), executors._fill(kwargs)
                    members.append((index, (item[0], args, kwargs)))
                else:
                    members.append((index, [executors._fill_input(one) for one in item]))
            except BaseException as exc:
                self._fail_member(batch, index, exc, data)
            item = None
        if not members:
            return
        if data is None:
            self._carry_calls(batch, members)
        else:
            self._carry_map(batch, data, members)

    def _fail_member(self, batch, index, exc, data):
        if data is None:
            self._fail(batch, index, exc)
        else:
            self._end(batch, index, [(executors._FAILED_ITEM, exc)])

    def _pack(self, batch, members, data):
        """(the members that could be pickled, their payload): all of them
        pickled together, or, if that fails, each on its own (one that
        cannot be pickled fails alone)."""
        try:
            return members, self.dumps([thing for _, thing in members], worker.PROTOCOL)
        except BaseException:
            pass
        kept, pieces = [], []
        for index, thing in members:
            try:
                pieces.append(self.dumps(thing, worker.PROTOCOL))
            except BaseException as exc:
                self._fail_member(batch, index, exc, data)
                continue
            kept.append((index, thing))
        return kept, pieces

    def _carry_calls(self, batch, members):
        step = 1 if self.one_call_per_task else len(members)
        for first in range(0, len(members), step):
            part, payload = self._pack(batch, members[first:first + step], None)
            if not part:
                continue
            outcomes = self._call(batch, part, worker.load_outcomes, worker.run_calls, payload)
            if outcomes is None:
                continue
            for (index, _), (ok, value) in zip(part, outcomes):
                if ok:
                    self._end(batch, index, value)
                else:
                    self._fail(batch, index, value)

    def _carry_map(self, batch, data, members):
        fn, star, control = data
        if control.closed or self.cancelling:
            for index, _ in members:
                self._end(batch, index, [(executors._FAILED_ITEM, CancelledError())])
            return
        try:
            function = self.dumps((fn, star), worker.PROTOCOL)
        except BaseException as exc:
            for index, _ in members:
                self._end(batch, index, [(executors._FAILED_ITEM, exc)])
            return
        members, payload = self._pack(batch, members, data)
        if not members:
            return
        results = self._call(batch, members, worker.load_results, worker.run_map,
                             function, payload)
        if results is None:
            return
        failed = executors._FAILED_ITEM
        for (index, _), (values, failures) in zip(members, results):
            if failures:
                for position, exc in failures.items():
                    values[position] = (failed, exc)
            self._end(batch, index, values)

    def _call(self, batch, members, load, fn, *args):
        """One call where the work runs, waited for, its outcome read by
        load(); None if it failed (the members are then failed with it)."""
        try:
            return load(self.call(fn, *args))
        except BaseException as exc:
            if (self.broken_error is not None and isinstance(exc, self.broken_error)
                    and self.broken is None):
                self.broken = str(exc) or 'A child process terminated abruptly'
            for index, _ in members:
                self._fail(batch, index, exc)
            return None

    _end = staticmethod(executors.return_outcome)
    _fail = staticmethod(executors.return_failure)
