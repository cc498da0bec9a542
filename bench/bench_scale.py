#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Scale-out executors against their baselines, side by side in one run.

* 10^4 tiny tasks (submit each, then read each result) through
  ``Concurry.ProcessPoolExecutor`` and through
  ``concurrent.futures.ProcessPoolExecutor``, same worker count: the
  throughput ratio (goal: >= 1.0).
* 10^3 tiny tasks through ``Concurry.DaskExecutor`` and through
  ``client.submit(..., pure=False)`` + ``client.gather`` on the same
  ``LocalCluster``: the time ratio, i.e. the overhead (goal: <= 1.1).

Each side runs ROUNDS times, alternating, after a warm-up; the best time
of each side is compared (the least disturbed by the other processes of a
shared machine).  Run it against the build tree:

    meson devenv -C build /usr/bin/python3 ../bench/bench_scale.py

Options: --tasks N (process pool), --dask-tasks N, --rounds N,
--workers N, --no-dask.
"""

import argparse
import concurrent.futures
import os
import sys
import time

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402

try:
    ProcessPoolExecutor = Concurry.ProcessPoolExecutor
    DaskExecutor = Concurry.DaskExecutor
except AttributeError:      # before the override exports them
    from gi._concurry.process import ProcessPoolExecutor
    from gi._concurry.dask import DaskExecutor


def tiny(x):
    return x + 1


def run_submit(executor, n):
    futures = [executor.submit(tiny, i) for i in range(n)]
    return [f.result() for f in futures]


def best(fn, rounds):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_processes(n, rounds, workers):
    expected = [i + 1 for i in range(n)]
    with concurrent.futures.ProcessPoolExecutor(workers) as cf_pool, \
            ProcessPoolExecutor(workers) as our_pool:
        # Warm-up: start every worker of both pools.
        run_submit(cf_pool, workers * 8)
        run_submit(our_pool, workers * 8)
        cf_times, our_times = [], []
        for _ in range(rounds):
            cf_times.append(best(lambda: run_submit(cf_pool, n), 1))
            our_times.append(best(lambda: run_submit(our_pool, n), 1))
        assert run_submit(our_pool, n) == expected
    cf_best, our_best = min(cf_times), min(our_times)
    print('process pool, %d tiny tasks, %d workers:' % (n, workers))
    print('  concurrent.futures.ProcessPoolExecutor  %8.0f tasks/s' % (n / cf_best))
    print('  Concurry.ProcessPoolExecutor            %8.0f tasks/s' % (n / our_best))
    ratio = cf_best / our_best
    print('  throughput ratio (goal >= 1.0):         %8.2fx' % ratio)
    return ratio


def bench_dask(n, rounds):
    import distributed
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host='127.0.0.1', dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    executor = DaskExecutor(client)
    try:
        def direct():
            futures = [client.submit(tiny, i, pure=False) for i in range(n)]
            return client.gather(futures)

        def ours():
            return run_submit(executor, n)

        direct()
        ours()
        direct_times, our_times = [], []
        for _ in range(rounds):
            direct_times.append(best(direct, 1))
            our_times.append(best(ours, 1))
        assert ours() == direct()
    finally:
        executor.shutdown()
        client.close()
        cluster.close()
    direct_best, our_best = min(direct_times), min(our_times)
    print('Dask LocalCluster (2 worker processes), %d tiny tasks:' % n)
    print('  client.submit + client.gather           %8.3f s' % direct_best)
    print('  Concurry.DaskExecutor                   %8.3f s' % our_best)
    ratio = our_best / direct_best
    print('  overhead ratio (goal <= 1.1):           %8.2fx' % ratio)
    return ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--tasks', type=int, default=10000)
    parser.add_argument('--dask-tasks', type=int, default=1000)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--no-dask', action='store_true')
    args = parser.parse_args()
    ok = bench_processes(args.tasks, args.rounds, args.workers) >= 1.0
    if not args.no_dask:
        ok = bench_dask(args.dask_tasks, args.rounds) <= 1.1 and ok
    print('goals met' if ok else 'goals NOT met')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
