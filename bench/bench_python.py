#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Throughput of tiny Python work: Concurry.ThreadPoolExecutor against
concurrent.futures.ThreadPoolExecutor with the same max_workers.

Run from a build tree (the Debian interpreter, which has PyGObject):

    meson devenv -C build /usr/bin/python3 ../bench/bench_python.py

Each round submits --items calls of a tiny function and then collects
every result (submit + result()), and maps the same function over the
same number of items (map()).  Both executors run their rounds alternately
and the median throughput of each is printed with the ratio
concurry / concurrent.futures.
"""

import argparse
import concurrent.futures
import statistics
import sys
import time

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402


def tiny(x):
    return x + 1


def submit_round(executor, items):
    start = time.perf_counter()
    futures = [executor.submit(tiny, i) for i in range(items)]
    total = 0
    for future in futures:
        total += future.result()
    elapsed = time.perf_counter() - start
    assert total == items * (items + 1) // 2
    return items / elapsed


def map_round(executor, items):
    start = time.perf_counter()
    total = sum(executor.map(tiny, range(items)))
    elapsed = time.perf_counter() - start
    assert total == items * (items + 1) // 2
    return items / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--items', type=int, default=50_000,
                        help='calls per round (default: %(default)s)')
    parser.add_argument('--workers', type=int, nargs='+', default=[2, 4],
                        help='max_workers values to compare (default: %(default)s)')
    parser.add_argument('--rounds', type=int, default=5,
                        help='rounds per executor, the median is kept (default: %(default)s)')
    args = parser.parse_args()

    print('Python %s, %d items per round, median of %d rounds'
          % (sys.version.split()[0], args.items, args.rounds))
    print('%-8s %-7s %16s %16s %7s' % ('workers', 'mode', 'concurrent.futures',
                                       'Concurry', 'ratio'))
    ratios = []
    for workers in args.workers:
        for mode, run in (('submit', submit_round), ('map', map_round)):
            rates = {'cf': [], 'concurry': []}
            for _ in range(args.rounds):
                with concurrent.futures.ThreadPoolExecutor(workers) as executor:
                    rates['cf'].append(run(executor, args.items))
                with Concurry.ThreadPoolExecutor(workers) as executor:
                    rates['concurry'].append(run(executor, args.items))
            cf_rate = statistics.median(rates['cf'])
            concurry_rate = statistics.median(rates['concurry'])
            ratio = concurry_rate / cf_rate
            ratios.append(ratio)
            print('%-8d %-7s %13.0f/s %13.0f/s %6.2fx'
                  % (workers, mode, cf_rate, concurry_rate, ratio))
    print('lowest ratio: %.2fx (target: >= 1.00x)' % min(ratios))


if __name__ == '__main__':
    main()
