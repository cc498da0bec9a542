# SPDX-License-Identifier: LGPL-2.1-or-later
"""``Concurry.DaskExecutor``: the executor API on a Dask cluster
(``distributed``), handing out concurry futures; and the wrapping of a
``distributed.Future`` for ``Concurry.wrap_future()``.

A concurry future made here keeps the Dask future it stands for (see
``dask_future_of()``).  Passed as an argument to work submitted to the
same cluster, it is handed to Dask as that Dask future: the worker gets
the data from the cluster, and the call is submitted at once (Dask runs it
when its inputs are ready).  Any other future among the arguments is
waited for (without blocking) and replaced by its value.

How completion reaches Python: on the client's event loop, the event of
each Dask future's state (what Dask sets when the scheduler reports the
task done) calls the tracker directly: no coroutine per future.  The
values of the futures that finished are fetched together: one request for
all those that finished since the previous one; while many more results
are expected (work submitted in bulk), a request waits for 64 values or
until 100 ms have passed since the previous one (a request costs the
scheduler and the workers more CPU than a tiny task); otherwise a result
is fetched at once.  The outcomes go, in bunches, to one completer thread,
which completes the concurry promises, so that done callbacks never run on
Dask's event loop thread.  Cancelling a concurry future cancels its Dask
task.

``distributed`` is imported only when a ``DaskExecutor`` is made or a
Dask future is wrapped.
"""

import asyncio
import functools
import sys
import threading

from gi._concurry import remote

__all__ = ['DaskExecutor', 'wrap_dask_future', 'is_dask_future', 'dask_future_of']

_ATTRIBUTE = '_concurry_dask_future'

# client.submit()'s own keyword arguments: a call using one of these names
# is submitted through _apply so that fn gets it.
_SUBMIT_KEYWORDS = frozenset((
    'self', 'func', 'key', 'workers', 'resources', 'retries', 'priority', 'fifo_timeout',
    'allow_other_workers', 'actor', 'actors', 'pure'))


def _apply(fn, args, kwargs):
    return fn(*args, **kwargs)


def _plain(args):
    """Whether args are only numbers, strings and the like (no future
    can hide in them)."""
    atomic = remote.ATOMIC
    for arg in args:
        if type(arg) not in atomic:
            return False
    return True


def is_dask_future(obj):
    """Whether obj is a ``distributed.Future`` (False without importing
    ``distributed`` when nothing imported it)."""
    client_module = sys.modules.get('distributed.client')
    return client_module is not None and isinstance(obj, client_module.Future)


def dask_future_of(future):
    """The ``distributed.Future`` a concurry future stands for, or None."""
    if _engine_set_source() is not None:
        from gi._concurry import outcomes
        try:
            holder = outcomes._engine.source(future)
        except TypeError:       # not a GObject
            holder = None
        if isinstance(holder, _Holder):
            return holder.dask_future
    return getattr(future, _ATTRIBUTE, None)


# --------------------------------------------------------------------------
# completion
# --------------------------------------------------------------------------

class _Completer:
    """Completes the promises of Dask futures off Dask's event loop thread,
    so that done callbacks never run there: each bunch of outcomes is an
    item of a C thread pool of one thread, with a runner (the C engine
    queues them; nothing is queued here)."""

    def __init__(self):
        self.c = None
        self.runner = None
        self.lock = threading.Lock()
        self.local = threading.local()

    def put(self, item):
        self.put_all((item,))

    def put_all(self, items):
        """Completes each (promise, status, outcome, settled) of items, in
        order, on the completer's thread."""
        from gi._concurry import executors
        if self.c is None:
            with self.lock:
                if self.c is None:
                    self.runner = executors.Concurry.Runner.new(self.run)
                    self.c = executors.Concurry.ThreadPoolExecutor.new(1)
        executors._submit_to_runner(self.c, self.runner, tuple(items), None)

    def is_completing(self):
        """Whether the calling thread is completing promises (a done
        callback of one of them runs)."""
        return getattr(self.local, 'completing', False)

    def run(self, batch, *unused):
        from gi._concurry import executors
        self.local.completing = True
        try:
            size, _ = executors._batch_info(batch)
            for index in range(size):
                items = executors._batch_start(batch, index)
                if items is None:       # pragma: no cover - never cancelled
                    continue
                for item in items:
                    promise, status, outcome, settled = item
                    try:
                        _complete(promise, status, outcome)
                    except BaseException as exc:  # pragma: no cover - defensive
                        remote.reject(promise, exc)
                    finally:
                        if settled is not None:
                            settled()
                    item = promise = outcome = settled = None
                items = None
                batch.return_value(index, None)
        finally:
            self.local.completing = False


_completer = _Completer()


def _complete(promise, status, outcome):
    if status == 'finished':
        remote.resolve(promise, outcome)
    elif status == 'cancelled':
        promise.cancel()
    else:
        if isinstance(outcome, tuple):      # (type, exc, tb) of a failed task
            _, exc, tb = outcome
            if tb is not None:          # the worker's frames (tblib)
                exc = exc.with_traceback(tb)
        else:
            exc = outcome
        remote.reject(promise, exc)


class _Signal(asyncio.Event):
    """The event of a Dask future's state (what ``FutureState.wait()``
    awaits), which also calls the watchers registered on it when it is
    set: no coroutine and no task per future."""

    def __init__(self):
        super().__init__()
        self.watchers = []

    def set(self):
        super().set()
        watchers, self.watchers = self.watchers, []
        for watcher in watchers:
            watcher()


class _Item:
    """A Dask future watched for a promise."""

    __slots__ = ('tracker', 'dask_future', 'promise', 'settled')

    def __init__(self, tracker, dask_future, promise, settled):
        self.tracker = tracker
        self.dask_future = dask_future
        self.promise = promise
        self.settled = settled

    def __call__(self):
        """The Dask future's state says it is done (called by Dask)."""
        tracker = self.tracker
        try:
            if asyncio._get_running_loop() is tracker.loop:
                tracker.done(self)
            else:               # Dask set it from another thread
                tracker.client.loop.add_callback(tracker.done, self)
        except BaseException as exc:  # pragma: no cover - defensive
            _completer.put((self.promise, 'error', exc, self.settled))


class _Tracker:
    """Per client: hands Dask futures to the client's event loop in
    bunches; there each is watched through its state's event (see
    _Signal).  The values of the finished ones are fetched together: one
    request for all that finished since the previous one, paced while
    more are expected (see _FETCH_INTERVAL)."""

    def __init__(self, client):
        self.client = client
        self.loop = None          # the asyncio loop, once known
        self.lock = threading.Lock()
        self.incoming = []
        self.scheduled = False
        # On the loop only:
        self.watching = 0         # items whose Dask future is not done yet
        self.ready = []           # items finished, to fetch
        self.fetching = False     # a _fetch() task runs
        self.next_fetch = 0.0     # loop.time() before which none starts
        self.wake = None          # what a pausing _fetch() waits for

    def add(self, dask_future, promise, settled=None):
        item = _Item(self, dask_future, promise, settled)
        with self.lock:
            self.incoming.append(item)
            if self.scheduled:
                return
            self.scheduled = True
        self.client.loop.add_callback(self._start)

    def _start(self):
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        with self.lock:
            incoming, self.incoming = self.incoming, []
            self.scheduled = False
        hook = not _cancels_its_source()
        for item in incoming:
            if hook:
                _hook_cancel(item.promise, item.dask_future)
            self.watching += 1
            state = item.dask_future._state
            event = getattr(state, '_event', False)
            if event is None:
                event = state._event = _Signal()
            if isinstance(event, _Signal) and not event.is_set():
                event.watchers.append(item)
            elif isinstance(event, asyncio.Event) and event.is_set():
                self.done(item)
            else:       # another Dask, or someone else made the event
                asyncio.ensure_future(self._wait(item))

    async def _wait(self, item):
        try:
            await item.dask_future._state.wait()
        except asyncio.CancelledError:
            self.watching -= 1
            _completer.put((item.promise, 'cancelled', None, item.settled))
            return
        self.done(item)

    def done(self, item):
        """item's Dask future is done (on the loop)."""
        self.watching -= 1
        try:
            status = item.dask_future.status
        except BaseException:   # pragma: no cover - defensive
            status = None
        if status == 'finished':
            self.ready.append(item)
            if not self.fetching:
                self.fetching = True
                asyncio.ensure_future(self._fetch())
            elif self.watching < _FETCH_EXPECTED or len(self.ready) >= _FETCH_BATCH:
                self._wake()
        else:
            if status == 'cancelled':   # also when the client closes
                _completer.put((item.promise, 'cancelled', None, item.settled))
            else:
                asyncio.ensure_future(self._one(item))
            if self.watching < _FETCH_EXPECTED:
                self._wake()

    def _wake(self):
        wake = self.wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def _fetch(self):
        loop = self.loop
        try:
            while self.ready:
                delay = self.next_fetch - loop.time()
                if (delay > 0 and self.watching >= _FETCH_EXPECTED
                        and len(self.ready) < _FETCH_BATCH):
                    # Many more results are expected: let them gather (a
                    # full batch, or few results left, ends the pause).
                    self.wake = wake = loop.create_future()
                    timer = loop.call_later(delay, self._wake)
                    try:
                        await wake
                    finally:
                        timer.cancel()
                        self.wake = None
                self.next_fetch = loop.time() + _FETCH_INTERVAL
                batch, self.ready = self.ready, []
                try:
                    values = await self.client._gather([item.dask_future for item in batch])
                except asyncio.CancelledError:
                    # The loop is going away: nothing will come.
                    _completer.put_all([(item.promise, 'cancelled', None, item.settled)
                                        for item in batch + self.ready])
                    self.ready = []
                    raise
                except BaseException:
                    # Lost, cancelled or failed meanwhile: one by one.
                    for item in batch:
                        asyncio.ensure_future(self._one(item))
                    continue
                _completer.put_all([(item.promise, 'finished', value, item.settled)
                                    for item, value in zip(batch, values)])
        finally:
            self.fetching = False

    async def _one(self, item):
        dask_future = item.dask_future
        try:
            outcome = await dask_future._result(raiseit=False)
            status = dask_future.status
        except asyncio.CancelledError:
            status, outcome = 'cancelled', None
        except BaseException as exc:
            status, outcome = 'error', exc
        _completer.put((item.promise, status, outcome, item.settled))


# A request for values costs the scheduler and the workers more CPU than a
# tiny task (~4 ms on a LocalCluster of 2 workers, while they work).  While
# at least _FETCH_EXPECTED more results are expected (work submitted in
# bulk), the next request waits until _FETCH_BATCH values are ready or
# _FETCH_INTERVAL seconds have passed since the previous one started: the
# requests then cost at most 1/_FETCH_BATCH of the work when results stream
# in fast, and a few percent of one core when they trickle.  With fewer
# results expected (one call waited for at a time, say), and after a quiet
# spell, a result is fetched at once.
_FETCH_INTERVAL = 0.1
_FETCH_BATCH = 64
_FETCH_EXPECTED = 16


def _tracker(client):
    tracker = getattr(client, '_concurry_tracker', None)
    if tracker is None:
        tracker = client._concurry_tracker = _Tracker(client)
    return tracker


def _cancel_task(dask_future):
    if dask_future.done():
        return
    client = dask_future.client
    loop = getattr(client.loop, 'asyncio_loop', None)
    if loop is not None and asyncio._get_running_loop() is loop:
        client.loop.add_callback(client._cancel, [dask_future])
    else:
        try:
            dask_future.cancel()
        except Exception:   # the client is closing: nothing to cancel
            pass


class _CancelTask:
    """Cancelling the promise cancels the Dask task, with an override
    whose cancel() does not do it itself: a handler of the promise's
    GCancellable, which trips synchronously, on the thread that cancels,
    whoever cancels (Python or C); or a done callback where there is no
    cancellable."""

    __slots__ = ('dask_future',)

    def __init__(self, dask_future):
        self.dask_future = dask_future

    def __call__(self, source, *unused):
        if isinstance(source, remote.concurry().Future) and not source.cancelled():
            return
        dask_future, self.dask_future = self.dask_future, None
        if dask_future is not None:
            _cancel_task(dask_future)


_source_cancelled = None


def _cancels_its_source():
    """Whether the override's cancel() of a future cancels the object in
    its ``_concurry_source`` (synchronously, on the cancelling thread)."""
    global _source_cancelled
    if _source_cancelled is None:
        _source_cancelled = hasattr(remote.concurry().Future, '_concurry_source')
    return _source_cancelled


def _gobject_connect(obj, signal, handler):
    from gi.repository import GObject
    return GObject.Object.connect(obj, signal, handler)


def _hook_cancel(promise, dask_future):
    """Called on the client's event loop once per promise."""
    hook = _CancelTask(dask_future)
    get_cancellable = getattr(promise, 'get_cancellable', None)
    if get_cancellable is None:
        remote.watch(promise, hook)
        return
    # Gio.Cancellable.connect is g_cancellable_connect(): the signal's own.
    _gobject_connect(get_cancellable(), 'cancelled', hook)
    if promise.cancelled():     # before the handler was there
        hook(None)


class _Holder:
    """What the engine keeps as a promise's source: called (as the weak
    reference of a wrapper would be), gives the Dask future."""

    __slots__ = ('dask_future',)

    def __init__(self, dask_future):
        self.dask_future = dask_future

    def __call__(self):
        return self.dask_future


_set_source = False


def _engine_set_source():
    global _set_source
    if _set_source is False:
        try:
            from gi._concurry import outcomes
            engine = outcomes._engine
        except ImportError:
            engine = None
        _set_source = getattr(engine, 'set_source', None)
    return _set_source


def _link(promise, dask_future, settled=None):
    set_source = _engine_set_source()
    if set_source is not None:
        # Kept in C: an instance dict would make the wrapper a toggle
        # reference, which the cyclic collector walks for ever after.
        set_source(promise, _Holder(dask_future))
    else:
        setattr(promise, _ATTRIBUTE, dask_future)
        if _cancels_its_source():
            # The override's cancel() cancels "what a wrapper stands for".
            promise._concurry_source = dask_future
    _tracker(dask_future.client).add(dask_future, promise, settled)


def wrap_dask_future(obj):
    """A read-only ``Concurry.Future`` completed like the
    ``distributed.Future`` obj: its value (fetched from the cluster once
    the task is done), the task's exception with its traceback, or
    cancelled.  Cancelling it cancels the Dask task.  Passed to work
    submitted to a ``DaskExecutor`` of the same client, it is handed to
    Dask as obj."""
    if not is_dask_future(obj):
        raise TypeError('not a distributed.Future: %r' % (obj,))
    promise = remote.new_promise()
    _link(promise, obj)
    return remote.seal(promise)


# --------------------------------------------------------------------------
# the executor
# --------------------------------------------------------------------------

def _ignore_this_module_in_computation_code():
    """client.submit() records "the user code" of each call: the source of
    the first frame outside the modules this Dask option lists (the option
    is there for libraries wrapping submit).  Without gi._concurry in it,
    that is the source of this module's function, tokenized at each call."""
    import dask
    option = 'distributed.diagnostics.computations.ignore-modules'
    modules = dask.config.get(option, default=None)
    if isinstance(modules, list) and _MODULE_PATTERN not in modules:
        dask.config.set({option: modules + [_MODULE_PATTERN]})


_MODULE_PATTERN = r'gi\._concurry'


def _dask_carrier_class():
    from gi._concurry import carrier

    class DaskCarrier(carrier.Carrier):
        """Carries the groups of a map's input to the cluster: one Dask
        task per batch (pickled by cloudpickle, as Dask pickles)."""

        def __init__(self, client):
            import cloudpickle
            super().__init__(None)
            self.client = client
            self.dumps = cloudpickle.dumps

        def call(self, fn, *args):
            return self.client.submit(fn, *args, pure=False).result()

    return DaskCarrier


def _DaskCarrier(client):
    global _DaskCarrier
    _DaskCarrier = _dask_carrier_class()
    return _DaskCarrier(client)


class DaskExecutor(remote.RemoteExecutor):
    """An executor submitting work to a Dask cluster and handing out
    ``Concurry.Future`` objects.

    ``DaskExecutor(client_or_address)`` takes a ``distributed.Client``
    (left open by ``shutdown()``) or the address of a scheduler, such as
    ``'tcp://127.0.0.1:8786'`` (the executor then makes its own client and
    closes it on ``shutdown()``).  Every ``submit()`` runs: calls are
    submitted with ``pure=False``.  The callable, its arguments and its
    result cross to the workers pickled (by ``cloudpickle``).  Dask does
    not tell when a task starts running, so a future stays pending until
    its task finishes: ``cancel()`` succeeds and cancels the Dask task
    (one already executing on a worker runs to its end there).
    """

    def __init__(self, client_or_address):
        import distributed
        _ignore_this_module_in_computation_code()
        if isinstance(client_or_address, distributed.Client):
            self._client = client_or_address
            self._owns_client = False
        else:
            self._client = distributed.Client(client_or_address, set_as_default=False)
            self._owns_client = True
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = set()      # promises not finished yet
        self._shutdown = False
        self._closed = False
        try:
            workers = sum(self._client.nthreads().values())
        except Exception:  # pragma: no cover - scheduler unreachable
            workers = 1
        # map() is the C engine's, on carriers (see carrier.py): two per
        # thread of the cluster, each with one batch of input out.
        from gi._concurry import executors
        self._carrier = _DaskCarrier(self._client)
        self._runner = self._carrier.runner()
        self._carriers = executors.Concurry.ThreadPoolExecutor.new(max(2 * workers, 2))
        # What a task manager over this executor runs its tasks with.
        self.__dict__['_concurry_c'] = self._carriers
        self.__dict__['_concurry_pool'] = self._carrier

    @property
    def client(self):
        """The ``distributed.Client`` the work goes through."""
        return self._client

    def _classify(self, obj):
        """How an argument is passed: 'dask' (as the Dask future of this
        client), 'value' (waited for, its value passed), or None."""
        if is_dask_future(obj):
            return None if obj.client is self._client else 'value'
        if not remote.is_future(obj):
            return None
        dask_future = dask_future_of(obj)
        if dask_future is not None and dask_future.client is self._client:
            return 'dask'
        return 'value'

    def submit(self, fn, /, *args, **kwargs):
        """Submits ``fn(*args, **kwargs)`` to the cluster and returns its
        future.

        A concurry future of this client's Dask work among the arguments
        (also inside lists, tuples, sets and dict values) is handed to Dask
        as its Dask future, and so is a ``distributed.Future`` of this
        client: the data stays on the cluster.  Any other future is waited
        for without blocking and replaced by its value; if one fails, the
        returned future fails with the same exception object.

        Raises ``RuntimeError`` after ``shutdown()``, and ``TypeError`` at
        once if ``fn`` is not callable (as the thread and process pools do).
        """
        if not callable(fn):
            raise TypeError('%r is not callable' % (fn,))
        promise = remote.new_promise()
        with self._lock:
            if self._shutdown:
                raise RuntimeError('cannot schedule new futures after shutdown')
            self._pending.add(promise)
        if kwargs or not _plain(args):
            found = {}
            remote.collect((args, kwargs), found, self._classify)
            if found:
                on_cluster = {key: dask_future_of(obj)
                              for key, (obj, kind) in found.items() if kind == 'dask'}
                if on_cluster:
                    args = remote.substitute(args, on_cluster)
                    kwargs = remote.substitute(kwargs, on_cluster)
                local = {key: obj for key, (obj, kind) in found.items() if kind == 'value'}
                if local:
                    dependent = remote.Dependent(
                        promise, args, kwargs, local,
                        lambda args, kwargs: self._start(promise, fn, args, kwargs),
                        lambda: self._settled(promise) if promise.done() else None)
                    dependent.begin()
                    return remote.seal(promise)
        self._start(promise, fn, args, kwargs)
        return remote.seal(promise)

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """Returns an iterator of ``fn(*args)`` for args taken from
        iterables, in order, with the thread pool's ``map()`` (the C
        engine's map): the input is read lazily as results are consumed,
        every item runs unless the iterator is closed or the executor is
        shut down with ``cancel_futures=True``, a failure is raised at its
        position.  Inputs travel to the cluster in groups, each group one
        Dask task: one item each while the input is short, more (up to
        16 per input, and chunksize inputs per task) as it goes on."""
        from gi._concurry import executors
        with self._lock:
            if self._shutdown:
                raise RuntimeError('cannot schedule new futures after shutdown')
        return executors.map_with_runner(self._carriers, self._runner, self._carrier, fn,
                                         iterables, timeout, chunksize, buffersize)

    def _settled(self, promise):
        with self._lock:
            self._pending.discard(promise)
            if not self._pending:
                self._idle.notify_all()
                close = self._shutdown and self._owns_client and not self._closed
                if close:
                    self._closed = True
            else:
                close = False
        if close:
            self._close_client()

    def _start(self, promise, fn, args, kwargs):
        if _SUBMIT_KEYWORDS.intersection(kwargs):
            fn, args, kwargs = _apply, (fn, args, kwargs), {}
        try:
            dask_future = self._client.submit(fn, *args, pure=False, **kwargs)
        except BaseException as exc:
            remote.reject(promise, exc)
            self._settled(promise)
            return
        _link(promise, dask_future, functools.partial(self._settled, promise))

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Stops accepting work.  Work already submitted still runs unless
        cancel_futures cancels every future not finished (and its Dask
        task); with wait, returns once all of it is done.  A client made
        by the executor is closed once its work is done.  Calling it again
        is harmless; waiting from a done callback run by the completion of
        Dask work raises ``RuntimeError``."""
        if wait and _completer.is_completing():
            raise RuntimeError('cannot wait for a Dask executor from a done callback '
                               'its own completion runs')
        with self._lock:
            self._shutdown = True
            cancelled = list(self._pending) if cancel_futures else []
        for promise in cancelled:
            promise.cancel()
        # The maps begun: waited for (or cancelled) by the C engine.
        if cancel_futures:
            self._carrier.cancelling = True
        from gi._concurry import executors
        try:
            executors._raw_shutdown(self._carriers, wait, cancel_futures)
        except executors.GLib.Error as error:
            if error.domain == executors._CONCURRY_DOMAIN and error.code == executors._WRONG_THREAD:
                raise RuntimeError('cannot wait for a Dask executor from its own map') from None
            raise
        if wait:
            with self._lock:
                while self._pending:
                    self._idle.wait()
        with self._lock:
            close = not self._pending and self._owns_client and not self._closed
            if close:
                self._closed = True
        if close:
            self._close_client()

    def _close_client(self):
        if _completer.is_completing():
            # Closing waits for the event loop: not on the completer thread.
            threading.Thread(target=self._client.close, daemon=True,
                             name='concurry-dask-close').start()
        else:
            self._client.close()

    def is_shutdown(self):
        """Whether ``shutdown()`` was called."""
        return self._shutdown

