# SPDX-License-Identifier: LGPL-2.1-or-later
"""What runs in the worker processes of ``Concurry.ProcessPoolExecutor``,
and on the workers of a Dask cluster for ``DaskExecutor``.

The calls of a batch and their outcomes are pickled together, in the
parent and here, or, if that fails, one by one, so that one call that
cannot be pickled (or whose result cannot) fails alone (dump_each()).  An
outcome of a call is ``(True, value)`` or ``(False, RemoteError)``; a
map's group comes back as its values and its failures apart.

This module imports no ``gi.repository``: a worker process imports it only
to run work.
"""

import pickle

from gi._concurry.remote import RemoteError, format_traceback

__all__ = ['run_calls', 'run_map', 'dump_each', 'load_outcomes', 'load_results', 'PROTOCOL']

PROTOCOL = pickle.HIGHEST_PROTOCOL


def dump_error(exc):
    """The pickled outcome of a failure (see dump_failure())."""
    return dump_failure(RemoteError(exc))


def dump_failure(error):
    """The pickled outcome of a failure, a ``RemoteError`` (see
    picklable())."""
    return pickle.dumps((False, picklable(error)), PROTOCOL)


def picklable(error):
    """error, a ``RemoteError``, if it can be pickled; else a failure that
    says why it cannot (the text of both tracebacks kept)."""
    try:
        pickle.dumps(error, PROTOCOL)
        return error
    except BaseException as pickling_error:
        note = RemoteError(pickling_error,
                           '%s\nThe exception above could not be pickled:\n%s'
                           % (error.tb, format_traceback(pickling_error)))
        try:
            pickle.dumps(note, PROTOCOL)
            return note
        except BaseException:
            return RemoteError(RuntimeError('%s (its exception could not be pickled)'
                                            % type(error.exc).__name__), error.tb)


def dump_each(things, dump):
    """things (a list) pickled together, or, if that fails, the list of
    each pickled by dump(thing): then only what cannot be pickled fails."""
    try:
        return pickle.dumps(things, PROTOCOL)
    except BaseException:
        return [dump(thing) for thing in things]


def load_each(data, load):
    """The list dump_each() pickled; load(piece) reads one piece of a
    list pickled piece by piece."""
    if isinstance(data, bytes):
        return pickle.loads(data)
    return [load(piece) for piece in data]


def dump_outcome(outcome):
    ok, value = outcome
    if not ok:
        return dump_failure(value)
    try:
        return pickle.dumps(outcome, PROTOCOL)
    except BaseException as exc:
        return dump_error(exc)


def load_outcome(data):
    """(True, value) or (False, exception), from dump_outcome()."""
    try:
        return pickle.loads(data)
    except BaseException as exc:
        return False, exc


def _load_or_failure(data):
    try:
        return pickle.loads(data)
    except BaseException as exc:
        return RemoteError(exc)


def _run(fn, args, kwargs):
    try:
        return True, fn(*args, **kwargs)
    except BaseException as exc:
        return False, RemoteError(exc)


def run_calls(payload):
    """Runs each ``(fn, args, kwargs)`` of payload (from dump_each());
    returns their outcomes, in order, through dump_each()."""
    outcomes = []
    for call in load_each(payload, _load_or_failure):
        outcomes.append((False, call) if isinstance(call, RemoteError) else _run(*call))
        del call
    return dump_each(outcomes, dump_outcome)


def _dump_group(result):
    """A group's (values, failures) pickled; if that fails, with what
    cannot be pickled made a failure of its own."""
    try:
        return pickle.dumps(result, PROTOCOL)
    except BaseException:
        pass
    values, failures = list(result[0]), dict(result[1] or {})
    for position, value in enumerate(values):
        if position not in failures:
            try:
                pickle.dumps(value, PROTOCOL)
            except BaseException as exc:
                values[position] = None
                failures[position] = RemoteError(exc)
    failures = {position: picklable(error) for position, error in failures.items()}
    return pickle.dumps((values, failures), PROTOCOL)


def run_map(function, groups):
    """Runs the pickled ``(fn, star)`` of a map over each item of each
    group of groups (from dump_each(): a group that cannot be read comes
    as one item that fails): ``fn(*item)`` with star, else ``fn(item)``.
    Returns, per group, its values and its failures (None, or a dict of
    position -> RemoteError, the value there being None), through
    dump_each().  Every item runs, also after one failed, as
    ``concurrent.futures`` runs every item it submitted."""
    fn, star = pickle.loads(function)
    results = []
    for group in load_each(groups, _load_or_failure):
        if isinstance(group, RemoteError):
            results.append(([None], {0: group}))
            continue
        values = []
        failures = None
        for item in group:
            try:
                values.append(fn(*item) if star else fn(item))
            except BaseException as exc:
                if failures is None:
                    failures = {}
                failures[len(values)] = RemoteError(exc)
                values.append(None)
        results.append((values, failures))
    return dump_each(results, _dump_group)


def load_results(data):
    """What run_map() returned: (values, failures) per group."""
    return load_each(data, pickle.loads)


def load_outcomes(data):
    """The outcomes of run_calls()."""
    return load_each(data, load_outcome)
