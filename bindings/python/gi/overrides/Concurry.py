# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject override for Concurry: ``concurrent.futures`` and asyncio on the
C engine.

``from gi.repository import Concurry`` gives the C library with a Pythonic
layer on top.  The behaviour lives once, in C; the machinery that adapts it
(values and exceptions, timeouts, Ctrl-C, event loops) is the private
package ``gi._concurry``.  This module only patches the namespace:

* every ``Concurry.Future`` is a ``concurrent.futures.Future`` (``result()``,
  ``exception()``, ``done()``, ``running()``, ``cancelled()``, ``cancel()``,
  ``add_done_callback()``...), can be awaited in asyncio and chained
  (``and_then()``, ``map()``, ``catch_error()``, ``finally_do()``);
* only a ``Concurry.Promise`` made by the user can be completed
  (``set_result()``, ``set_exception()``, ``set_running_or_notify_cancel()``);
* ``Concurry.ThreadPoolExecutor`` (and the main-context and GTask
  executors) are ``concurrent.futures.Executor``s;
* ``wrap_future()``, ``SyncFuture()``, ``wait()``, ``as_completed()``,
  ``gather()`` and ``gio_call()``.

The user documentation is doc/python-quickstart.md.
"""

import concurrent.futures

from ..module import get_introspection_module
from ..overrides import override

from .._concurry import aio, chains, executors, futures, waiting

Concurry = get_introspection_module('Concurry')

__all__ = []

CancelledError = concurrent.futures.CancelledError
InvalidStateError = concurrent.futures.InvalidStateError
TimeoutError = TimeoutError  # the built-in, which concurrent.futures uses too
BrokenThreadPool = executors.BrokenThreadPool
FIRST_COMPLETED = waiting.FIRST_COMPLETED
FIRST_EXCEPTION = waiting.FIRST_EXCEPTION
ALL_COMPLETED = waiting.ALL_COMPLETED
DoneAndNotDoneFutures = waiting.DoneAndNotDoneFutures
__all__ += ['CancelledError', 'InvalidStateError', 'TimeoutError', 'BrokenThreadPool',
            'FIRST_COMPLETED', 'FIRST_EXCEPTION', 'ALL_COMPLETED', 'DoneAndNotDoneFutures']


# The interface first: the classes of the implementations take it as a base
# when they are first used.
class Future(futures.FutureMethods, chains.ChainMethods, Concurry.Future,
             concurrent.futures.Future):
    __await__ = aio.future_await
    __iter__ = aio.future_await     # ``yield from future`` in generator-based code


Future = override(Future)
__all__.append('Future')


class Promise(Concurry.Promise, futures.PromiseMethods, Future):
    def __init__(self, *args, **kwargs):
        Concurry.Promise.__init__(self, *args, **kwargs)
        self._concurry_writable = True

    @classmethod
    def new(cls):
        promise = Concurry.Promise.new()
        promise._concurry_writable = True
        return promise

    __repr__ = futures.FutureMethods.__repr__


Promise = override(Promise)
__all__.append('Promise')


class ResolvedFuture(Concurry.ResolvedFuture, Future):
    __repr__ = futures.FutureMethods.__repr__


ResolvedFuture = override(ResolvedFuture)
__all__.append('ResolvedFuture')


class Executor(executors.ExecutorMethods, Concurry.Executor, concurrent.futures.Executor):
    """``concurrent.futures.Executor``'s API on every concurry executor."""


Executor = override(Executor)
__all__.append('Executor')


class ThreadPoolExecutor(Concurry.ThreadPoolExecutor, Executor,
                         concurrent.futures.Executor):
    """A pool of threads running Python callables on the C thread pool:
    ``concurrent.futures.ThreadPoolExecutor``'s API, concurry futures."""

    __init__ = executors.thread_pool_init


ThreadPoolExecutor = override(ThreadPoolExecutor)
__all__.append('ThreadPoolExecutor')


class MainContextExecutor(Concurry.MainContextExecutor, Executor,
                          concurrent.futures.Executor):
    """Runs Python callables on a GLib main context (the thread-default one
    of the caller if context is None)."""

    def __init__(self, context=None):
        executors.python_init(self, 'MainContextExecutor')
        Concurry.MainContextExecutor.__init__(self, context=context)


MainContextExecutor = override(MainContextExecutor)
__all__.append('MainContextExecutor')


class TaskExecutor(Concurry.TaskExecutor, Executor,
                   concurrent.futures.Executor):
    """Runs Python callables on GLib's shared GTask pool."""

    def __init__(self, thread_name_prefix='', initializer=None, initargs=()):
        executors.python_init(self, thread_name_prefix or 'TaskExecutor', initializer, initargs)
        Concurry.TaskExecutor.__init__(self)


TaskExecutor = override(TaskExecutor)
__all__.append('TaskExecutor')

def _patch_raw(raw, *mixins):
    """The classes PyGObject made for the implementations before this module
    ran take the raw interface class as a base, ahead of the override in
    their method order: the Pythonic methods go on those classes too."""
    for cls in raw:
        for mixin in mixins:
            for name, value in vars(mixin).items():
                if not name.startswith('__') or name in ('__await__', '__iter__'):
                    setattr(cls, name, value)


def _raw_interfaces(name, *implementations):
    found = {getattr(Concurry, name)}
    for implementation in implementations:
        for cls in implementation.__mro__:
            if cls.__name__ == name and cls.__module__ == 'gi.repository.Concurry':
                found.add(cls)
    return found


_patch_raw(_raw_interfaces('Future', Concurry.Promise, Concurry.ResolvedFuture),
           futures.FutureMethods, chains.ChainMethods, Future)
_patch_raw(_raw_interfaces('Executor', Concurry.ThreadPoolExecutor, Concurry.MainContextExecutor,
                           Concurry.TaskExecutor),
           executors.ExecutorMethods)
for _cls in (Promise,):
    for _name, _value in vars(futures.PromiseMethods).items():
        if not _name.startswith('__'):
            setattr(_cls, _name, _value)

wrap_future = futures.wrap_future
SyncFuture = futures.SyncFuture
gio_call = futures.gio_call
wait = waiting.wait
as_completed = waiting.as_completed
gather = waiting.gather
__all__ += ['wrap_future', 'SyncFuture', 'gio_call', 'wait', 'as_completed', 'gather']


def _optional(name, module, attribute):
    """Exports what a module of the package provides, if it is there."""
    try:
        value = getattr(__import__('gi._concurry.' + module, fromlist=[attribute]), attribute)
    except (ImportError, AttributeError):
        return
    globals()[name] = value
    __all__.append(name)


_optional('ProcessPoolExecutor', 'process', 'ProcessPoolExecutor')
_optional('BrokenProcessPool', 'process', 'BrokenProcessPool')
_optional('DaskExecutor', 'dask', 'DaskExecutor')
_optional('TaskManager', 'taskmanager', 'TaskManager')
_optional('ErrorPolicyEnum', 'taskmanager', 'ErrorPolicyEnum')
