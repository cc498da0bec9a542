#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Awaiting concurry futures in asyncio.

Blocking calls run on a Concurry.ThreadPoolExecutor while the asyncio loop
stays free: `await future`, asyncio.gather() and asyncio.wait_for() work on
concurry futures, with no GLib main loop to run by hand (the override
bridges PyGObject 3.42, which has no GLib/asyncio integration of its own).

Run from a build tree with:
    meson devenv -C build /usr/bin/python3 ../examples/asyncio-futures.py
"""

import asyncio
import hashlib
import sys
import threading

import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402


def checksum(data):
    """Blocking work for the pool (hashlib releases the GIL on big data)."""
    return hashlib.sha256(data).hexdigest()[:12]


async def ticker(stop):
    """Shows that the loop keeps running while futures are awaited."""
    ticks = 0
    while not stop.is_set():
        ticks += 1
        await asyncio.sleep(0.001)
    return ticks


async def main():
    blobs = [bytes([i]) * 2_000_000 for i in range(6)]
    stop = asyncio.Event()
    ticks = asyncio.create_task(ticker(stop))

    with Concurry.ThreadPoolExecutor(max_workers=3) as pool:
        # await one future...
        first = await pool.submit(checksum, blobs[0])
        print('first:', first)

        # ...or many at once, in order.
        digests = await asyncio.gather(*(pool.submit(checksum, blob) for blob in blobs))
        print('all:', ' '.join(digests))

        # Errors come back as the exception the work raised.
        try:
            await pool.submit(checksum, 'not bytes')
        except TypeError as error:
            print('failed as expected:', type(error).__name__)

        # asyncio.wait_for() cancels what it waited for on timeout, like
        # for any asyncio future; the work that already runs finishes but
        # its result is dropped.
        gate = threading.Event()
        slow = pool.submit(gate.wait, 10)
        try:
            await asyncio.wait_for(slow, timeout=0.05)
        except asyncio.TimeoutError:
            print('timed out; future cancelled:', slow.cancelled())
        gate.set()

        # Futures from elsewhere: an asyncio future becomes a concurry
        # future with wrap_future(), and pool work may take it as an
        # argument: it runs once the asyncio future has a value.
        loop = asyncio.get_running_loop()
        later = loop.create_future()
        doubled = pool.submit(lambda n: n * 2, Concurry.wrap_future(later))
        loop.call_soon(later.set_result, 21)
        print('from an asyncio future:', await doubled)

    stop.set()
    print('the loop stayed responsive:', await ticks > 0)
    return 0


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
