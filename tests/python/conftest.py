# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures shared by the Python tests (pytest loads this file by itself;
plain helpers are in concurry_testutil.py).

A test module may define a fixture of the same name to replace one of
these (test_executor.py does for ``executor``).
"""

import gc

import pytest

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402

from concurry_testutil import drain, shutdown_bounded  # noqa: E402


@pytest.fixture(autouse=True)
def clean_main_context():
    """Every test starts and ends with nothing left to dispatch on the
    default main context (GTask-based work and done callbacks of dropped
    futures are freed there)."""
    drain()
    yield
    gc.collect()
    drain()
    gc.collect()
    drain()


@pytest.fixture
def releases():
    """Events that blocked work waits on; all set at the end of the test."""
    events = []
    yield events
    for event in events:
        event.set()


class _Executors:
    """A factory of executors: ``make(max_workers=default)``; close() sets
    the release events, then shuts every executor made down."""

    def __init__(self, new, default_workers, shutdown):
        self.new = new
        self.default_workers = default_workers
        self.shutdown = shutdown
        self.made = []

    def __call__(self, max_workers=None):
        executor = self.new(self.default_workers if max_workers is None else max_workers)
        self.made.append(executor)
        return executor

    def close(self, releases):
        for event in releases:
            event.set()
        for executor in self.made:
            self.shutdown(executor)


@pytest.fixture
def pools(releases):
    """A factory of Pythonic executors, ``Concurry.ThreadPoolExecutor(n)``
    (4 workers unless told), all shut down (waiting) at the end."""
    factory = _Executors(Concurry.ThreadPoolExecutor, 4,
                         lambda executor: executor.shutdown(wait=True))
    yield factory
    factory.close(releases)


@pytest.fixture
def raw_pools(releases):
    """A factory of executors made by the C constructor,
    ``Concurry.ThreadPoolExecutor.new(n)`` (2 workers unless told), shut
    down (bounded) at the end."""
    factory = _Executors(Concurry.ThreadPoolExecutor.new, 2, shutdown_bounded)
    yield factory
    factory.close(releases)


@pytest.fixture
def executor(releases):
    """A Pythonic executor with 4 workers, shut down (waiting) at the end,
    after the events of ``releases`` (also reachable as
    ``executor.releases``) were set."""
    ex = Concurry.ThreadPoolExecutor(4)
    ex.releases = releases
    yield ex
    for event in releases:
        event.set()
    ex.shutdown(wait=True)
