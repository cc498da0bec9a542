#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Python on the C engine, against the standard library, side by side in
one run: the throughput of tiny work (Concurry.ThreadPoolExecutor against
concurrent.futures.ThreadPoolExecutor with the same max_workers), awaiting
futures resolved from another thread in asyncio, and the cost of a done
future and of wrapping a concurrent.futures.Future.

Run from a build tree (the Debian interpreter, which has PyGObject):

    meson devenv -C build /usr/bin/python3 ../bench/bench_python.py

Each round submits --items calls of a tiny function and then collects
every result (submit + result()), and maps the same function over the
same number of items (map()).  Both executors run their rounds alternately
and the median throughput of each is printed with the ratio
concurry / concurrent.futures.

Then: --awaits futures, resolved from a plain thread, awaited one after the
other in asyncio (concurry: Promise.set_result() on the thread; asyncio:
loop.call_soon_threadsafe(future.set_result)); and the microseconds a
Concurry.SyncFuture(result_value=...) and a Concurry.wrap_future() of a
pending concurrent.futures.Future cost the calling thread, in CPU time
(targets: 2.5 µs and 2 µs).
"""

import argparse
import asyncio
import concurrent.futures
import gc
import threading
import timeit
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


def await_round(kind, n):
    """Awaits n futures that another thread resolves as fast as it can."""
    async def run():
        loop = asyncio.get_running_loop()
        if kind == 'concurry':
            futures = [Concurry.Promise() for _ in range(n)]

            def resolve():
                for i, future in enumerate(futures):
                    future.set_result(i)
        else:
            futures = [loop.create_future() for _ in range(n)]

            def resolve():
                for i, future in enumerate(futures):
                    loop.call_soon_threadsafe(future.set_result, i)
        start = time.perf_counter()
        thread = threading.Thread(target=resolve)
        thread.start()
        total = 0
        for future in futures:
            total += await future
        elapsed = time.perf_counter() - start
        thread.join()
        assert total == n * (n - 1) // 2
        return n / elapsed
    return asyncio.run(run())


def per_call_usec(stmt, setup, number=100_000):
    # CPU time of the calling thread: what a call costs its caller, also
    # on a machine other processes keep busy.
    return min(timeit.repeat(stmt, setup, timer=time.thread_time, number=number, repeat=5,
                             globals=globals())) / number * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--items', type=int, default=50_000,
                        help='calls per round (default: %(default)s)')
    parser.add_argument('--workers', type=int, nargs='+', default=[2, 4],
                        help='max_workers values to compare (default: %(default)s)')
    parser.add_argument('--awaits', type=int, default=10_000,
                        help='futures awaited per round (default: %(default)s)')
    parser.add_argument('--wraps', type=int, default=20_000,
                        help='futures wrapped per measurement (default: %(default)s)')
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
    print('lowest executor ratio: %.2fx (target: >= 1.00x)' % min(ratios))

    rates = {'asyncio': [], 'concurry': []}
    for _ in range(args.rounds):
        for kind in rates:
            rates[kind].append(await_round(kind, args.awaits))
    cf_rate = statistics.median(rates['asyncio'])
    concurry_rate = statistics.median(rates['concurry'])
    print('await %d futures resolved from a thread: asyncio %.0f/s, Concurry %.0f/s, '
          'ratio %.2fx (target: >= 1.00x)'
          % (args.awaits, cf_rate, concurry_rate, concurry_rate / cf_rate))

    done = per_call_usec('Concurry.SyncFuture(result_value=value)', 'value = (1, 2)')
    print('done future from a value: %.2f us (target: <= 2.5 us)' % done)
    added = wrap_cost_usec(args.wraps)
    print('wrapping a concurrent.futures.Future adds %.2f us (target: <= 2 us)' % added)


def wrap_cost_usec(n):
    """What wrapping adds to a pending concurrent.futures.Future: the time
    to wrap n of them (kept alive, then completed), less the time to make
    them, best of 5, in CPU time of the calling thread (see
    per_call_usec())."""
    best_make = best_wrap = float('inf')
    for _ in range(5):
        # As timeit does (and per_call_usec() with it): without the cyclic
        # collector, whose passes over the heap the earlier rounds grew
        # are not the wrap's cost.
        gc.disable()
        try:
            start = time.thread_time()
            sources = [concurrent.futures.Future() for _ in range(n)]
            best_make = min(best_make, time.thread_time() - start)
            start = time.thread_time()
            wrappers = [Concurry.wrap_future(source) for source in sources]
            best_wrap = min(best_wrap, time.thread_time() - start)
        finally:
            gc.enable()
        for source in sources:
            source.set_result(None)
        del wrappers, sources
    return best_wrap / n * 1e6


if __name__ == '__main__':
    main()
