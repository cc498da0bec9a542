// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS tests of the engine API added for the language bindings (issue 10,
// "one engine"), as far as a JS program can use it: runners and work
// batches, submit_after() and submit_to_runner() with inputs, cancel_pending(),
// error payloads (the very JS object comes back), map_with_runner(), and the
// sliced waits MapResults.next_until() and AsCompleted.next_until().
//
// JS functions never run on worker threads: runners and submit_after() work
// are used with a Concurry.MainContextExecutor. A runner's executor runs on a
// context of its own where the test must see what is queued but has not run
// yet: nothing iterates that context but the test (drain()).
//
// Not tested here: add_done_callback_direct(), which refuses a JS function
// with a critical (fatal under G_DEBUG=fatal-warnings): it is for code that
// may run on any thread, see tests/test-engine-api.c and the Vala tests.
//
// Run as `gjs -m test-engine-api.js`; the GJS override is loaded from
// GJS_PATH (meson sets it), as in test-override.js.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';

import Concurry from 'gi://Concurry?version=1';

import {
    test, knownBug, run, assert, assertEq, assertArrayEq, assertGError, assertThrowsGError,
    failureOf, idles, observe, promise, resolved, thrownBy,
} from './harness.js';

const {FutureState} = Concurry;

// An executor on a context of its own, which only drain() iterates.
function ownExecutor() {
    const context = new GLib.MainContext();
    const executor = Concurry.MainContextExecutor.new(context);
    const drain = () => {
        while (context.pending())
            context.iteration(false);
    };
    return {executor, drain};
}

function concurryError(message) {
    return new GLib.Error(Concurry.error_quark(), Concurry.Error.FAILED, message);
}

// An input function for map producing 0 … n-1 (endless for n < 0).
function counter(n) {
    const input = () => {
        if (n >= 0 && input.next >= n)
            return [false, null];
        return [true, input.next++];
    };
    input.next = 0;
    return input;
}

// A runner whose items are numbers: each gives its square, except those
// in @fail (Concurry.Error.FAILED with @fail[item] as payload) and those in
// @forget (started, no outcome). It records what it saw.
function recordingRunner({fail = {}, forget = []} = {}) {
    const seen = {started: [], sizes: [], data: [], futures: [], skipped: 0,
        cancellableBeforeStart: 0, cancellableWhenStarted: 0};
    const runner = Concurry.Runner.new(batch => {
        const size = batch.get_size();
        seen.sizes.push(size);
        seen.data.push(batch.get_data());
        for (let i = 0; i < size; i++) {
            if (batch.get_cancellable(i) !== null)
                seen.cancellableBeforeStart++;
            const item = batch.start(i);
            seen.futures.push(batch.get_future(i));
            if (item === null) {
                seen.skipped++;
                continue;
            }
            seen.started.push(item);
            if (batch.get_cancellable(i) instanceof Gio.Cancellable)
                seen.cancellableWhenStarted++;
            if (forget.includes(item))
                continue;
            if (item in fail)
                batch.return_error(i, concurryError(`item ${item} failed`), fail[item]);
            else
                batch.return_value(i, item * item);
        }
    });
    return {runner, seen};
}

// ---------------------------------------------------------------------------
// Runner and WorkBatch

test('a runner runs submitted items in order, one per batch on a main context', () => {
    const {executor, drain} = ownExecutor();
    const {runner, seen} = recordingRunner();
    const futures = [0, 1, 2, 3, 4].map(i => executor.submit_to_runner(runner, i, null));
    for (const f of futures)
        assertEq(f.get_state(), FutureState.PENDING, 'pending before the context runs');
    assertArrayEq(seen.started, [], 'nothing ran inside submit_to_runner()');

    drain();
    assertArrayEq(futures.map(f => f.get_value()), [0, 1, 4, 9, 16], 'values');
    assertArrayEq(seen.started, [0, 1, 2, 3, 4], 'started in order');
    assertArrayEq(seen.sizes, [1, 1, 1, 1, 1], 'one item per batch');
    assertArrayEq(seen.data, [null, null, null, null, null], 'no shared data');
    // Items run one by one have no future of their own in the batch.
    assert(seen.futures.every(f => f === null), 'get_future() is null');
    assertEq(seen.cancellableBeforeStart, 0, 'no cancellable before start()');
    assertEq(seen.cancellableWhenStarted, 5, 'a cancellable once started');
    executor.shutdown(false, false);
});

test('a runner says whether it forwards its items, and a main context still runs them one by one', () => {
    const {executor, drain} = ownExecutor();
    const {runner, seen} = recordingRunner();
    const notified = [];
    runner.connect('notify::forwarding', () => notified.push(runner.forwarding));
    assertEq(runner.forwarding, false, 'not by default');
    runner.set_forwarding(true);
    runner.forwarding = true;
    assertEq(runner.get_forwarding(), true, 'set');
    assertArrayEq(notified, [true], 'notified once');

    const futures = [1, 2, 3].map(i => executor.submit_to_runner(runner, i, null));
    drain();
    assertArrayEq(futures.map(f => f.get_value()), [1, 4, 9], 'values');
    assertArrayEq(seen.sizes, [1, 1, 1], 'one item per batch');
    executor.shutdown(false, false);
});

test('a batch is empty once the runner returned', () => {
    const {executor, drain} = ownExecutor();
    let kept = null;
    const runner = Concurry.Runner.new(batch => {
        kept = batch;
        batch.start(0);
        batch.return_value(0, 'ok');
    });
    const f = executor.submit_to_runner(runner, 'x', null);
    drain();
    assertEq(f.get_value(), 'ok', 'value');
    assertEq(kept.get_size(), 0, 'size after the call');
    assertEq(kept.get_data(), null, 'data after the call');
    executor.shutdown(false, false);
});

test('a cancelled queued item never reaches the runner', () => {
    const {executor, drain} = ownExecutor();
    const {runner, seen} = recordingRunner();
    const futures = [0, 1, 2].map(i => executor.submit_to_runner(runner, i, null));
    assertEq(futures[1].cancel(), true, 'cancel');
    drain();
    assertArrayEq(seen.started, [0, 2], 'started');
    assertEq(futures[1].is_cancelled(), true, 'cancelled');
    assertArrayEq([futures[0].get_value(), futures[2].get_value()], [0, 4], 'the others ran');
    executor.shutdown(false, false);
});

test('an item the runner leaves without an outcome fails with Concurry.Error.FAILED', () => {
    const {executor, drain} = ownExecutor();
    const {runner} = recordingRunner({forget: [3]});
    const forgotten = executor.submit_to_runner(runner, 3, null);
    const next = executor.submit_to_runner(runner, 4, null);
    drain();
    assertGError(forgotten.get_error(), Concurry.error_quark(), Concurry.Error.FAILED, 'forgotten');
    assertEq(next.get_value(), 16, 'the next item still ran');

    const skipping = Concurry.Runner.new(() => {});
    const never = executor.submit_to_runner(skipping, 1, null);
    drain();
    assertGError(never.get_error(), Concurry.error_quark(), Concurry.Error.FAILED, 'never started');
    executor.shutdown(false, false);
});

test('return_error() fails the item with a copy of the error and the very payload object', () => {
    const {executor, drain} = ownExecutor();
    const payload = {why: 'the JS exception'};
    const {runner} = recordingRunner({fail: {5: payload}});
    const f = executor.submit_to_runner(runner, 5, null);
    drain();
    assertGError(f.get_error(), Concurry.error_quark(), Concurry.Error.FAILED, 'error');
    assertEq(f.get_error().message, 'item 5 failed', 'message');
    assert(f.get_error_payload() === payload, 'the very payload object');
    executor.shutdown(false, false);
});

test('return_error() with G_IO_ERROR_CANCELLED cancels the item', () => {
    const {executor, drain} = ownExecutor();
    const runner = Concurry.Runner.new(batch => {
        batch.start(0);
        batch.return_error(0, new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'gave up'), null);
    });
    const f = executor.submit_to_runner(runner, 1, null);
    drain();
    assertEq(f.is_cancelled(), true, 'cancelled');
    executor.shutdown(false, false);
});

test('a JavaScript runner is refused by executors with worker threads', () => {
    const pool = Concurry.ThreadPoolExecutor.new(1);
    const {runner, seen} = recordingRunner();
    assertThrowsGError(() => pool.submit_to_runner(runner, 1, null),
        Concurry.error_quark(), Concurry.Error.WRONG_THREAD, 'submit_to_runner');
    assertThrowsGError(() => pool.map_with_runner(runner, null, counter(3), -1, 1, 0),
        Concurry.error_quark(), Concurry.Error.WRONG_THREAD, 'map_with_runner');
    assertEq(pool.shutdown(true, false), true, 'shutdown');
    assertArrayEq(seen.started, [], 'nothing ran');
});

// ---------------------------------------------------------------------------
// submit_after and submit_to_runner with inputs

test('submit_after() runs the work once every input has its value', async () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const a = promise(), b = promise();
    const statesWhenRun = [];
    const f = executor.submit_after([a, b], () => {
        statesWhenRun.push(a.get_state(), b.get_state());
        return a.get_value() + b.get_value();
    });
    assertEq(f.get_state(), FutureState.PENDING, 'pending at once');
    await idles(3);
    b.resolve_int(2);
    await idles(3);
    assertEq(f.get_state(), FutureState.PENDING, 'pending with one input left');
    assertArrayEq(statesWhenRun, [], 'not run yet');
    a.resolve_int(40);
    assertEq(await f.wait_async(null), true, 'wait');
    assertEq(f.get_value(), 42, 'value');
    assertArrayEq(statesWhenRun, [FutureState.DONE, FutureState.DONE], 'inputs were done when it ran');
});

test('submit_after() with no inputs, or done ones, runs like submit()', async () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const f = executor.submit_after([], () => 'none');
    const g = executor.submit_after([resolved(1)], () => 'done');
    await f.wait_async(null);
    await g.wait_async(null);
    assertArrayEq([f.get_value(), g.get_value()], ['none', 'done'], 'values');
});

test('submit_after() fails with a copy of the input error, payload included, without running the work', async () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const a = promise(), b = promise();
    let ran = false;
    const f = executor.submit_after([a, b], () => {
        ran = true;
        return 1;
    });
    const payload = {the: 'exception'};
    assertEq(b.reject_with_payload(concurryError('bad input'), payload), true, 'reject');
    const e = await failureOf(f);
    assertGError(e, Concurry.error_quark(), Concurry.Error.FAILED, 'error');
    assertEq(e.message, 'bad input', 'message');
    assert(f.get_error_payload() === payload, 'the very payload object');
    a.resolve_int(1);
    await idles(3);
    assertEq(ran, false, 'the work never ran');
    observe(b);
});

test('submit_after() is cancelled when an input is cancelled', async () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const a = promise();
    let ran = false;
    const f = executor.submit_after([a], () => {
        ran = true;
    });
    a.cancel();
    const e = await failureOf(f);
    assertGError(e, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'error');
    assertEq(f.is_cancelled(), true, 'cancelled');
    assertEq(ran, false, 'never ran');
});

test('submit_after() work is cancelled by shutdown(cancel_futures)', async () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const a = promise();
    let ran = false;
    const f = executor.submit_after([a], () => {
        ran = true;
    });
    assertEq(executor.shutdown(false, true), true, 'shutdown');
    assertEq(f.is_cancelled(), true, 'cancelled');
    a.resolve_int(1);
    await idles(3);
    assertEq(ran, false, 'never ran');
    assertEq(a.is_cancelled(), false, 'the input is not cancelled');
});

test('cancelling a submit_after() future while it waits drops the work', async () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const a = promise();
    let ran = false;
    const f = executor.submit_after([a], () => {
        ran = true;
    });
    assertEq(f.cancel(), true, 'cancel');
    a.resolve_int(1);
    await idles(3);
    assertEq(ran, false, 'never ran');
    assertEq(a.get_value(), 1, 'the input is untouched');
});

test('submit_after() refuses JS work on worker threads, and after shutdown', () => {
    const pool = Concurry.ThreadPoolExecutor.new(1);
    let ran = false;
    assertThrowsGError(() => pool.submit_after([], () => {
        ran = true;
    }), Concurry.error_quark(), Concurry.Error.WRONG_THREAD, 'on a thread pool');
    assertEq(pool.shutdown(true, false), true, 'shutdown');
    const executor = Concurry.MainContextExecutor.new(null);
    executor.shutdown(false, false);
    const e = thrownBy(() => executor.submit_after([], () => {
        ran = true;
    }), 'after shutdown');
    assert(e instanceof GLib.Error, `a GLib.Error: ${e}`);
    assertEq(ran, false, 'never ran');
});

test('submit_to_runner() with inputs waits for them', async () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const {runner, seen} = recordingRunner();
    const a = promise(), b = promise();
    const waits = executor.submit_to_runner(runner, 6, [a]);
    const fails = executor.submit_to_runner(runner, 8, [b]);
    await idles(3);
    assertArrayEq(seen.started, [], 'nothing ran');
    b.reject_literal(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND, 'gone');
    assertGError(await failureOf(fails), Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, 'error');
    a.resolve_int(0);
    await waits.wait_async(null);
    assertEq(waits.get_value(), 36, 'value');
    assertArrayEq(seen.started, [6], 'only the item whose input succeeded ran');
    observe(b);
});

// ---------------------------------------------------------------------------
// cancel_pending

test('cancel_pending() cancels queued work and leaves running work alone', () => {
    const {executor, drain} = ownExecutor();
    let running = null;
    let fromInside = null;
    let queuedRan = false;
    running = executor.submit(() => {
        fromInside = running.cancel_pending();
        return 'finished';
    });
    const queued = executor.submit(() => {
        queuedRan = true;
    });
    assertEq(queued.cancel_pending(), true, 'queued work is cancelled');
    assertEq(queued.is_cancelled(), true, 'cancelled');
    assertEq(queued.cancel_pending(), true, 'and stays so');
    drain();
    assertEq(fromInside, false, 'running work is not cancelled');
    assertEq(running.get_value(), 'finished', 'it ran to completion');
    assertEq(running.cancel_pending(), false, 'done work is not cancelled');
    assertEq(queuedRan, false, 'the cancelled work never ran');
    executor.shutdown(false, false);
});

test('cancel_pending() on promises', () => {
    const pending = promise();
    assertEq(pending.cancel_pending(), true, 'pending');
    assertEq(pending.is_cancelled(), true, 'cancelled');

    const running = promise();
    running.mark_running();
    assertEq(running.cancel_pending(), false, 'running');
    assertEq(running.get_cancellable().is_cancelled(), false, 'its cancellable untouched');
    running.resolve_int(5);
    assertEq(running.get_value(), 5, 'still resolves');
});

// ---------------------------------------------------------------------------
// Error payloads

test('Concurry.Error.set_payload() and get_payload() on a GLib.Error', () => {
    const e = concurryError('x');
    assertEq(Concurry.Error.get_payload(e), null, 'none at first');
    const payload = {n: 1};
    Concurry.Error.set_payload(e, payload);
    assert(Concurry.Error.get_payload(e) === payload, 'the very object');
    Concurry.Error.set_payload(e, 'replaced');
    assertEq(Concurry.Error.get_payload(e), 'replaced', 'replaced');
    Concurry.Error.set_payload(e, null);
    assertEq(Concurry.Error.get_payload(e), null, 'removed');
    const io = new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, 'io');
    assertEq(Concurry.Error.get_payload(io), null, 'other domains have none');
});

test('the payload survives gather and chains: the very JS object', async () => {
    const p = promise();
    const exception = {name: 'MyError', detail: [1, 2]};
    const gathered = Concurry.gather([resolved(1), p], Concurry.GatherFlags.NONE);
    let handlerSaw = null;
    const chained = gathered
        .and_then(() => {
            throw new Error('not reached');
        })
        .catch_error(f => {
            handlerSaw = f.get_error_payload();
            throw f.get_error();
        });
    p.reject_with_payload(concurryError('boom'), exception);
    const e = await failureOf(chained);
    assertGError(e, Concurry.error_quark(), Concurry.Error.FAILED, 'error');
    assert(p.get_error_payload() === exception, 'the promise');
    assert(gathered.get_error_payload() === exception, 'gather');
    assert(handlerSaw === exception, 'the catch_error handler');
    assert(chained.get_error_payload() === exception, 'the end of the chain');
    assert(Concurry.Error.get_payload(e) === exception, 'the thrown GLib.Error');
});

test('a JS Error travels as payload inside a plain object', () => {
    const thrown = new RangeError('out of range');
    const p = promise();
    p.reject_with_payload(concurryError(thrown.message), {error: thrown});
    const chained = Concurry.gather([p], Concurry.GatherFlags.NONE);
    assert(chained.get_error_payload().error === thrown, 'the very Error, after gather');
});

// GJS guesses a GValue type for plain objects and primitives only: an Error
// (or an array, a Map, a class...) given as a payload throws "Could not guess
// unspecified GValue type". A binding-level limitation, not the engine's.
knownBug('GJS cannot store a JS Error in a GValue', 'a JS Error itself as payload', () => {
    const thrown = new Error('boom');
    const p = promise();
    p.reject_with_payload(concurryError('boom'), thrown);
    assert(p.get_error_payload() === thrown, 'the very Error');
});

test('payloads are only for Concurry.Error; ResolvedFuture.new_error_with_payload()', () => {
    const io = new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, 'io');
    const p = promise();
    assertEq(p.reject_with_payload(io, {a: 1}), true, 'rejected');
    assertGError(p.get_error(), Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, 'error');
    assertEq(p.get_error_payload(), null, 'ignored');
    assertEq(p.reject_with_payload(concurryError('late'), 1), false, 'already done');

    const payload = {b: 2};
    const r = Concurry.ResolvedFuture.new_error_with_payload(concurryError('ours'), payload);
    assertEq(r.is_failed(), true, 'failed');
    assert(r.get_error_payload() === payload, 'the very object');
    const other = Concurry.ResolvedFuture.new_error_with_payload(io, payload);
    assertEq(other.get_error_payload(), null, 'ignored for other domains');
    assertEq(resolved(1).get_error_payload(), null, 'none without an error');
});

// ---------------------------------------------------------------------------
// map_with_runner and MapResults.next_until

test('map_with_runner() gives results in input order, with the shared data', () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const {runner, seen} = recordingRunner();
    const results = executor.map_with_runner(runner, 'shared', counter(20), -1, 3, 0);
    assertArrayEq([...results], [...Array(20).keys()].map(i => i * i), 'results');
    assert(seen.data.every(d => d === 'shared'), `data: ${seen.data}`);
    assert(seen.sizes.every(s => s >= 1 && s <= 3), `sizes: ${seen.sizes}`);
    assert(seen.futures.every(f => f === null), 'map items have no future');
    assertArrayEq(seen.started, [...Array(20).keys()], 'started in order');
});

test('map_with_runner() reports a failure at its position, with its payload', () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const payload = {item: 4};
    const {runner, seen} = recordingRunner({fail: {4: payload}});
    const results = executor.map_with_runner(runner, null, counter(8), -1, 8, 0);
    assertEq(results.get_error_payload(), null, 'none yet');
    for (let i = 0; i < 4; i++)
        assertArrayEq(results.next(), [true, i * i], `item ${i}`);
    const e = assertThrowsGError(() => results.next(), Concurry.error_quark(), Concurry.Error.FAILED, 'next');
    assertEq(e.message, 'item 4 failed', 'message');
    assert(results.get_error_payload() === payload, 'the very payload object');
    assertArrayEq(results.next(), [false, null], 'exhausted');
    // One batch of 8: the items after the failure were not started.
    assertArrayEq(seen.started, [0, 1, 2, 3, 4], 'started');
    assertEq(seen.skipped, 3, 'skipped');
});

test('WorkBatch.return_part(): parts are results, in order, before the item ends', () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const runner = Concurry.Runner.new(batch => {
        for (let i = 0; i < batch.get_size(); i++) {
            const n = batch.start(i);
            if (n === null)
                continue;
            batch.return_part(i, n * 10);
            batch.return_part(i, n * 10 + 1);
            batch.return_value(i, n * 10 + 2);
        }
    });
    const results = executor.map_with_runner(runner, null, counter(3), -1, 2, 0);
    assertArrayEq([...results], [0, 1, 2, 10, 11, 12, 20, 21, 22], 'parts, then each end');
});

test('MapResults.next_until(): a slice that times out keeps the item', () => {
    const {executor, drain} = ownExecutor();
    const {runner} = recordingRunner();
    const results = executor.map_with_runner(runner, null, counter(5), -1, 1, 2);
    // Nothing ran: the context was not iterated.
    for (let i = 0; i < 2; i++) {
        const [ok, , timedOut] = results.next_until(GLib.get_monotonic_time());
        assertEq(ok, false, 'no result yet');
        assertEq(timedOut, true, 'timed out');
    }
    const out = [];
    for (;;) {
        drain();
        const [ok, value, timedOut] = results.next_until(GLib.get_monotonic_time());
        if (!ok) {
            assertEq(timedOut, false, 'the end is not a timeout');
            break;
        }
        out.push(value);
    }
    assertArrayEq(out, [0, 1, 4, 9, 16], 'every item, the first one included');
    executor.shutdown(false, false);
});

test('closing map results stops an endless map', () => {
    const {executor, drain} = ownExecutor();
    const {runner, seen} = recordingRunner();
    const input = counter(-1);
    const results = executor.map_with_runner(runner, null, input, -1, 1, 2);
    drain();
    assertArrayEq(results.next_until(-1).slice(0, 2), [true, 0], 'first');
    results.close();
    assertArrayEq(results.next().slice(0, 2), [false, null], 'exhausted');
    const read = input.next;
    drain();
    assertEq(input.next, read, 'no more input read');
    assert(seen.started.length <= read, 'ran only what was read');
    assertEq(executor.shutdown(true, false), true, 'shutdown returns');
});

// ---------------------------------------------------------------------------
// AsCompleted.next_until

test('AsCompleted.next_until(): a slice that times out does not exhaust it', () => {
    const a = promise(), b = promise();
    const it = Concurry.as_completed([a, b], -1);
    assertEq(it.next_until(GLib.get_monotonic_time()), null, 'nothing done');
    assertEq(it.get_n_remaining(), 2, 'remaining');
    b.resolve_int(2);
    assert(it.next_until(-1) === b, 'b');
    assertEq(it.next_until(GLib.get_monotonic_time()), null, 'a not done');
    assertEq(it.get_n_remaining(), 1, 'remaining');
    a.resolve_int(1);
    assert(it.next_until(GLib.get_monotonic_time() - 1) === a, 'a, done before the slice');
    assertEq(it.next_until(-1), null, 'all given');
    assertEq(it.get_n_remaining(), 0, 'none remaining');
});

test('AsCompleted.next_until(): its own deadline still ends it with TIMED_OUT', () => {
    const a = promise();
    const it = Concurry.as_completed([a], 0);
    assertThrowsGError(() => it.next_until(-1), Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT, 'next_until');
    a.cancel();
});

// ---------------------------------------------------------------------------
// map_input_hint

test('map_input_hint() is 1 outside the input function of a runner map', () => {
    assertEq(Concurry.map_input_hint(), 1, 'outside any map');
    const executor = Concurry.MainContextExecutor.new(null);
    const hints = [];
    let next = 0;
    const results = executor.map(item => item, () => {
        hints.push(Concurry.map_input_hint());
        return next < 3 ? [true, next++] : [false, null];
    }, -1, 1, 0);
    const out = [];
    for (;;) {
        const [ok, value] = results.next();
        if (!ok)
            break;
        out.push(value);
    }
    assertArrayEq(out, [0, 1, 2], 'results');
    assert(hints.length >= 3 && hints.every(h => h === 1), 'a map without a runner gets 1');
    executor.shutdown(true, false);
});

run();
