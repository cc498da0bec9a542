# SPDX-License-Identifier: LGPL-2.1-or-later
"""The machinery of concurry's PyGObject override (``gi.overrides.Concurry``).

Private: import ``Concurry`` from ``gi.repository``.  Each module adapts one
concern of the C engine to Python and re-implements none of it:

* ``outcomes``  values and exceptions in and out of C futures;
* ``bridge``    the calling thread's loop, blocking waits, Ctrl-C;
* ``futures``   the ``concurrent.futures.Future`` API of every future,
                promises, done futures, ``wrap_future()``, ``gio_call()``;
* ``aio``       asyncio: ``await``, asyncio futures and coroutines;
* ``waiting``   ``wait()``, ``as_completed()``, ``gather()``;
* ``chains``    ``and_then()``, ``map()``, ``catch_error()``, ``finally_do()``;
* ``executors`` ``ThreadPoolExecutor`` on the C thread pool (a runner);
* ``process``, ``dask``, ``taskmanager``: process pools, Dask clusters and
  futureproof's task manager.
"""

# A build tree keeps the compiled _engine apart from these sources.
from pkgutil import extend_path
__path__ = extend_path(__path__, __name__)
del extend_path
