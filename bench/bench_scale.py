#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Scale-out executors against their baselines, side by side in one run.

* 10^4 tiny tasks (submit each, then read each result) through
  ``Concurry.ProcessPoolExecutor`` and through
  ``concurrent.futures.ProcessPoolExecutor``, same worker count: the
  throughput ratio (goal: >= 1.0).
* 10^3 tiny tasks through ``Concurry.DaskExecutor`` and through
  ``client.submit(..., pure=False)`` on the same ``LocalCluster`` (2 worker
  processes on 127.0.0.1, no dashboard, started and stopped here): the
  time ratio, i.e. the overhead (goal: <= 1.1).  Both sides collect the
  values the same way: one call that waits for all the futures and
  returns their values in order (``client.gather()``,
  ``Concurry.gather()``).

Measuring on a shared machine: both sides first run WARMUP times; then
each round runs both sides back to back, the first side alternating from
round to round, after a garbage collection and (Dask) once the scheduler
has forgotten the previous run's tasks.  The goal is checked on the
median of the rounds' ratios (a round compares two runs made under the
same load); the medians of each side's times are printed too, and the
CPU time each side costs (this process, which runs the client and the
scheduler, and the worker processes): less disturbed by the machine's
other work.  Run it
against the build tree:

    meson devenv -C build /usr/bin/python3 ../bench/bench_scale.py

Options: --tasks N (process pool), --dask-tasks N, --rounds N (>= 5),
--warmup N, --workers N, --no-dask, --no-processes.
"""

import argparse
import concurrent.futures
import gc
import os
import statistics
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


def timed(fn, settle=None, cpu=None):
    """Seconds fn() takes, from a collected heap (and a settled cluster),
    and the CPU seconds cpu() counts meanwhile (0 without cpu)."""
    gc.collect()
    if settle is not None:
        settle()
    cpu_start = cpu() if cpu is not None else 0.0
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    return elapsed, (cpu() if cpu is not None else 0.0) - cpu_start


def side_by_side(baseline, ours, rounds, warmup, settle=None, cpu=None):
    """Runs both warmup times, then rounds rounds of both back to back
    (alternating which goes first); returns (baseline times, our times)
    and the same of CPU times."""
    for _ in range(warmup):
        baseline()
        ours()
    base, mine = [], []
    for r in range(rounds):
        if r % 2 == 0:
            base.append(timed(baseline, settle, cpu))
            mine.append(timed(ours, settle, cpu))
        else:
            mine.append(timed(ours, settle, cpu))
            base.append(timed(baseline, settle, cpu))
    return ([t for t, _ in base], [t for t, _ in mine],
            [c for _, c in base], [c for _, c in mine])


def report(base_times, our_times, per_round):
    """Prints the spread of the rounds; returns the median of the
    per-round figures."""
    figures = sorted(per_round(b, o) for b, o in zip(base_times, our_times))
    print('  rounds: %d; per-round ratio min %.2f, median %.2f, max %.2f'
          % (len(figures), figures[0], statistics.median(figures), figures[-1]))
    return statistics.median(figures)


def bench_processes(n, rounds, warmup, workers):
    expected = [i + 1 for i in range(n)]
    with concurrent.futures.ProcessPoolExecutor(workers) as cf_pool, \
            ProcessPoolExecutor(workers) as our_pool:
        # Start every worker of both pools.
        run_submit(cf_pool, workers * 8)
        run_submit(our_pool, workers * 8)
        cf_times, our_times, _, _ = side_by_side(lambda: run_submit(cf_pool, n),
                                           lambda: run_submit(our_pool, n),
                                           rounds, warmup)
        assert run_submit(our_pool, n) == expected
        # map() for information (no goal): chunksize 1, and 100.
        maps = []
        for chunksize in (1, 100):
            def run_map(pool, chunksize=chunksize):
                return list(pool.map(tiny, range(n), chunksize=chunksize))
            maps.append((chunksize,) + side_by_side(lambda: run_map(cf_pool),
                                                    lambda: run_map(our_pool),
                                                    rounds, warmup)[:2])
            assert run_map(our_pool) == expected
    cf_median, our_median = statistics.median(cf_times), statistics.median(our_times)
    print('process pool, %d tiny tasks, %d workers (median of %d rounds):'
          % (n, workers, rounds))
    print('  concurrent.futures.ProcessPoolExecutor  %8.0f tasks/s' % (n / cf_median))
    print('  Concurry.ProcessPoolExecutor            %8.0f tasks/s' % (n / our_median))
    ratio = report(cf_times, our_times, lambda base, ours: base / ours)
    print('  throughput ratio (goal >= 1.0):         %8.2fx' % ratio)
    for chunksize, cf_map, our_map in maps:
        print('  map(), chunksize %3d: %8.0f and %8.0f items/s: %.2fx (no goal)'
              % (chunksize, n / statistics.median(cf_map), n / statistics.median(our_map),
                 statistics.median(cf_map) / statistics.median(our_map)))
    return ratio


def bench_dask(n, rounds, warmup):
    import distributed
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host='127.0.0.1', dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    executor = DaskExecutor(client)
    expected = [i + 1 for i in range(n)]
    try:
        def direct():
            futures = [client.submit(tiny, i, pure=False) for i in range(n)]
            return client.gather(futures)

        def ours():
            futures = [executor.submit(tiny, i) for i in range(n)]
            return Concurry.gather(futures)

        def forgotten(dask_scheduler):
            return not dask_scheduler.tasks

        def settle():
            # The previous run's tasks are released (its futures are
            # gone): wait until the scheduler has dropped them.
            deadline = time.monotonic() + 10
            while not client.run_on_scheduler(forgotten) and time.monotonic() < deadline:
                time.sleep(0.01)

        def cpu():
            # This process (the client and the scheduler) and the workers.
            total = time.process_time()
            for process in me.children(recursive=True):
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                total += times.user + times.system
            return total

        import psutil
        me = psutil.Process()
        direct_times, our_times, direct_cpu, our_cpu = side_by_side(
            direct, ours, rounds, warmup, settle, cpu)
        assert ours() == expected and direct() == expected
    finally:
        executor.shutdown()
        client.close()
        cluster.close()
    direct_median, our_median = statistics.median(direct_times), statistics.median(our_times)
    print('Dask LocalCluster (2 worker processes), %d tiny tasks (median of %d rounds):'
          % (n, rounds))
    print('  client.submit + client.gather           %8.3f s' % direct_median)
    print('  Concurry.DaskExecutor + Concurry.gather %8.3f s' % our_median)
    print('  ratio of the medians                    %8.2fx' % (our_median / direct_median))
    ratio = report(direct_times, our_times, lambda base, ours: ours / base)
    print('  overhead ratio (goal <= 1.1):           %8.2fx' % ratio)
    direct_cpu, our_cpu = statistics.median(direct_cpu), statistics.median(our_cpu)
    print('  CPU time, client + scheduler + workers: %.3f s and %.3f s: %.2fx'
          % (direct_cpu, our_cpu, our_cpu / direct_cpu))
    return ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--tasks', type=int, default=10000)
    parser.add_argument('--dask-tasks', type=int, default=1000)
    parser.add_argument('--rounds', type=int, default=9)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--no-dask', action='store_true')
    parser.add_argument('--no-processes', action='store_true')
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error('--rounds must be at least 5')
    ok = True
    if not args.no_processes:
        ok = bench_processes(args.tasks, args.rounds, args.warmup, args.workers) >= 1.0
    if not args.no_dask:
        ok = bench_dask(args.dask_tasks, args.rounds, args.warmup) <= 1.1 and ok
    print('goals met' if ok else 'goals NOT met')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
