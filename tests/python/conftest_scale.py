# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures of the scale-out tests (test_scale_out.py imports them):

* ``concurry_scale``: ``Concurry`` with ``ProcessPoolExecutor`` and
  ``DaskExecutor`` on it (patched on from gi._concurry until the override
  exports them itself);
* ``dask_client``: one ``distributed.LocalCluster`` per test module, two
  worker processes of one thread each on 127.0.0.1 with no dashboard,
  started and stopped here, and a client of it;
* ``executors``: a factory ``executors(kind)`` of executors with two
  workers each, 'thread', 'process' or 'dask', all shut down at the end;
* ``gates``: file gates and start signals shared with every worker.
"""

import os
import time

import pytest

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402

from gi._concurry import dask as dask_module  # noqa: E402
from gi._concurry import process as process_module  # noqa: E402

import scale_workload  # noqa: E402

KINDS = ('thread', 'process', 'dask')
CAPACITY = 2            # workers of every executor made here


@pytest.fixture(scope='module')
def concurry_scale():
    with pytest.MonkeyPatch.context() as patch:
        if not hasattr(Concurry, 'ProcessPoolExecutor'):
            patch.setattr(Concurry, 'ProcessPoolExecutor',
                          process_module.ProcessPoolExecutor, raising=False)
        if not hasattr(Concurry, 'DaskExecutor'):
            patch.setattr(Concurry, 'DaskExecutor', dask_module.DaskExecutor, raising=False)
        yield Concurry


@pytest.fixture(scope='module')
def dask_client():
    distributed = pytest.importorskip('distributed')
    cluster = distributed.LocalCluster(n_workers=CAPACITY, threads_per_worker=1,
                                       processes=True, host='127.0.0.1',
                                       dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


class Gates:
    """Files in a test's temporary directory: ``gate()`` gives a path the
    work waits for (opened with ``open()``, all opened at teardown);
    ``path(name)`` any other path."""

    def __init__(self, directory):
        self.directory = directory
        self.gates = []
        self.count = 0

    def path(self, name):
        return os.path.join(self.directory, name)

    def gate(self):
        self.count += 1
        gate = self.path('gate-%d' % self.count)
        self.gates.append(gate)
        return gate

    def open(self, gate):
        if not os.path.exists(gate):
            scale_workload.touch(gate)

    def open_all(self):
        for gate in self.gates:
            self.open(gate)

    def started(self, path):
        """Waits (with a safety net) until work created path."""
        assert scale_workload.wait_for(path), 'the work never started: %s' % path

    def started_any(self, paths):
        """Waits (with a safety net) until work created one of paths."""
        deadline = time.monotonic() + scale_workload.LONG
        while not any(os.path.exists(path) for path in paths):
            assert time.monotonic() < deadline, 'none of the work started'
            time.sleep(0.005)


@pytest.fixture
def gates(tmp_path):
    g = Gates(str(tmp_path))
    yield g
    g.open_all()


@pytest.fixture
def executors(request, gates, concurry_scale):
    made = []

    def make(kind):
        if kind == 'thread':
            executor = concurry_scale.ThreadPoolExecutor(CAPACITY)
        elif kind == 'process':
            executor = concurry_scale.ProcessPoolExecutor(CAPACITY)
        elif kind == 'dask':
            executor = concurry_scale.DaskExecutor(request.getfixturevalue('dask_client'))
        else:
            raise ValueError(kind)
        made.append(executor)
        return executor

    yield make
    gates.open_all()
    for executor in made:
        executor.shutdown(wait=True)


@pytest.fixture(params=KINDS)
def executor(request, executors):
    """One executor of each kind in turn (the test runs three times)."""
    ex = executors(request.param)
    ex.kind = request.param
    return ex
