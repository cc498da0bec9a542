// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS tests of the concurry combinators: Concurry.wait / wait_future,
// gather, any, race, delay, timeout, Future.with_timeout, the chains
// (and_then, map, catch_error, finally_do), Concurry.AsCompleted (blocking
// next() and awaited next_async()) and Concurry.CompletionList.
//
// Run as `gjs -m test-combinators.js` (meson does this with GI_TYPELIB_PATH
// set to the build tree). The exit code is the result; each test prints a
// TAP line and is raced against a deadline. Blocking calls are given finite
// timeouts, so that a bug fails them instead of hanging the run.
//
// G_DEBUG=fatal-warnings is set: every failed future made here has its
// error looked at (get_error(), a wait or an await) before it is dropped.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';

import Concurry from 'gi://Concurry?version=1';
import ConcurryTest from 'gi://ConcurryTest?version=1';

import {
    test, run, assert, assertEq, assertArrayEq as assertJson, assertSame, assertGError, fmt as show,
    rejectionOf, thrownBy, failureOf, idles, until, laterMs, now, promise, resolved, rejected, observe,
    MS, SECOND,
} from './harness.js';

// Before anything else touches the prototypes (pitfall P3).
Gio._promisify(Concurry.Future.prototype, 'wait_async', 'wait_finish');
Gio._promisify(Concurry.AsCompleted.prototype, 'next_async', 'next_finish');

const {FutureState, WaitMode, GatherFlags} = Concurry;
const {IOErrorEnum} = Gio;
const BLOCK = 60 * SECOND; // bound for blocking calls that must return early: a hang

// ---------------------------------------------------------------------------
// Futures are not thenables

test('no future, combinator result or iterator has a then property', async () => {
    assertEq(typeof Concurry.Future.prototype.then, 'undefined', 'Future.prototype.then');
    assertEq(typeof Concurry.AsCompleted.prototype.then, 'undefined', 'AsCompleted.prototype.then');
    assertEq(typeof Concurry.CompletionList.prototype.then, 'undefined', 'CompletionList.prototype.then');

    const p = promise();
    const r = resolved(1);
    const made = {
        gather: Concurry.gather([p, r], GatherFlags.NONE),
        any: Concurry.any([p, r]),
        race: Concurry.race([p, r]),
        wait_future: Concurry.wait_future([p], WaitMode.ALL_COMPLETED),
        delay: Concurry.delay(SECOND),
        timeout: Concurry.timeout(SECOND),
        with_timeout: p.with_timeout(SECOND),
        and_then: p.and_then(f => f.get_int()),
        map: p.map(v => v),
        catch_error: p.catch_error(() => 0),
        finally_do: p.finally_do(() => {}),
    };
    for (const [name, f] of Object.entries(made)) {
        assert(f instanceof Concurry.Future, `${name} gives a Concurry.Future`);
        assertEq(typeof f.then, 'undefined', `${name}(…).then`);
        assert(!('then' in f), `'then' in ${name}(…)`);
        // Awaiting the object gives the object: it is not a thenable.
        assertEq(await f, f, `await ${name}(…)`); // eslint-disable-line no-await-in-loop
    }
    const it = Concurry.as_completed([r], -1);
    assertEq(typeof it.then, 'undefined', 'as_completed(…).then');
    assertEq(typeof Concurry.CompletionList.new([r]).then, 'undefined', 'CompletionList.then');

    // Nothing above waited for anything.
    assertEq(made.gather.is_done(), false, 'gather still pending');
    assertEq(made.delay.is_done(), false, 'delay still pending');
    p.cancel();
    for (const f of [made.delay, made.timeout, made.with_timeout])
        f.cancel();
    await idles(2);
    observe(p, ...Object.values(made));
});

// ---------------------------------------------------------------------------
// wait

test('wait on finished futures returns the instances given, merged, in order', () => {
    const a = resolved(1);
    const b = rejected('b failed');
    const c = promise();
    c.cancel();
    for (const mode of [WaitMode.ALL_COMPLETED, WaitMode.FIRST_COMPLETED, WaitMode.FIRST_EXCEPTION]) {
        const [met, done, notDone] = Concurry.wait([c, a, b, a, c], mode, 0);
        assertEq(met, true, `met (mode ${mode})`);
        assertSame(done, [c, a, b], `done (mode ${mode})`);
        assertSame(notDone, [], `not done (mode ${mode})`);
    }
    observe(b, c);
});

test('wait on nothing is met at once with empty sets', () => {
    for (const mode of [WaitMode.ALL_COMPLETED, WaitMode.FIRST_COMPLETED, WaitMode.FIRST_EXCEPTION]) {
        for (const timeout of [0, -1, SECOND]) {
            const [met, done, notDone] = Concurry.wait([], mode, timeout);
            assertEq(met, true, `met (mode ${mode}, timeout ${timeout})`);
            assertJson([done, notDone], [[], []], 'sets');
        }
    }
});

test('wait with timeout 0 polls and returns the sets', () => {
    const p = promise();
    const q = promise();
    const r = resolved(1);
    let [met, done, notDone] = Concurry.wait([p, r, q, p], WaitMode.ALL_COMPLETED, 0);
    assertEq(met, false, 'ALL_COMPLETED met');
    assertSame(done, [r], 'done');
    assertSame(notDone, [p, q], 'not done');
    [met, done, notDone] = Concurry.wait([p, q], WaitMode.FIRST_COMPLETED, 0);
    assertEq(met, false, 'FIRST_COMPLETED met with nothing done');
    assertSame(notDone, [p, q], 'not done');
    [met, done, notDone] = Concurry.wait([p, r], WaitMode.FIRST_COMPLETED, 0);
    assertEq(met, true, 'FIRST_COMPLETED met with one done');
    assertSame(done, [r], 'done');
    assertSame(notDone, [p], 'not done');
    p.cancel();
    q.cancel();
});

test('wait with a positive timeout returns the sets when it passes', () => {
    const p = promise();
    const r = resolved(2);
    const start = now();
    const [met, done, notDone] = Concurry.wait([r, p], WaitMode.ALL_COMPLETED, 50 * MS);
    const elapsed = now() - start;
    assertEq(met, false, 'met');
    assertSame(done, [r], 'done');
    assertSame(notDone, [p], 'not done');
    assert(elapsed >= 50 * MS, `returned after ${elapsed} us, before the timeout`);
    // A late completion still works: nothing was left broken behind.
    p.resolve_int(3);
    assertEq(Concurry.wait([r, p], WaitMode.ALL_COMPLETED, 0)[0], true, 'met after the resolve');
});

test('wait FIRST_COMPLETED with a negative timeout wakes for a worker thread', () => {
    const p = promise();
    const q = promise();
    ConcurryTest.resolve_in_thread(q, 5);
    const [met, done, notDone] = Concurry.wait([p, q], WaitMode.FIRST_COMPLETED, -1);
    assertEq(met, true, 'met');
    assertSame(done, [q], 'done');
    assertSame(notDone, [p], 'not done');
    assertEq(q.get_int(), 5, 'value');
    p.cancel();
});

test('wait FIRST_EXCEPTION returns at the first failure with all that finished', () => {
    const r = resolved(1);
    const p = promise();
    const bad = promise();
    ConcurryTest.reject_in_thread(bad, 'worker failed');
    const [met, done, notDone] = Concurry.wait([r, p, bad], WaitMode.FIRST_EXCEPTION, BLOCK);
    assertEq(met, true, 'met');
    assertSame(done, [r, bad], 'done');
    assertSame(notDone, [p], 'not done');
    assertGError(bad.get_error(), Gio.IOErrorEnum, IOErrorEnum.FAILED, 'the failure');
    assertEq(bad.get_error().message, 'worker failed', 'message');
    p.cancel();
});

test('wait FIRST_EXCEPTION without a failure waits for all; a cancellation is no failure', () => {
    const a = promise();
    const b = promise();
    ConcurryTest.resolve_in_thread(a, 1);
    ConcurryTest.resolve_in_thread(b, 2);
    let [met, done, notDone] = Concurry.wait([a, b], WaitMode.FIRST_EXCEPTION, BLOCK);
    assertEq(met, true, 'met');
    assertSame(done, [a, b], 'done');
    assertSame(notDone, [], 'not done');

    const cancelled = promise();
    const pending = promise();
    cancelled.cancel();
    [met, done, notDone] = Concurry.wait([pending, cancelled], WaitMode.FIRST_EXCEPTION, 0);
    assertEq(met, false, 'a cancelled future does not meet FIRST_EXCEPTION');
    assertSame(done, [cancelled], 'the cancelled one is done');
    assertSame(notDone, [pending], 'not done');
    // But it meets FIRST_COMPLETED.
    assertEq(Concurry.wait([pending, cancelled], WaitMode.FIRST_COMPLETED, 0)[0], true, 'FIRST_COMPLETED');
    pending.cancel();
});

test('cancel() wakes a blocking wait', () => {
    const p = promise();
    laterMs(10, () => p.cancel());
    const [met, done] = Concurry.wait([p], WaitMode.ALL_COMPLETED, BLOCK);
    assertEq(met, true, 'met');
    assertSame(done, [p], 'done');
    assertEq(p.get_state(), FutureState.CANCELLED, 'state');
});

test('a blocking wait on the main thread runs the main context (sources and chain steps)', () => {
    const p = promise();
    let ranOnMain = null;
    const end = p.map(v => {
        ranOnMain = ConcurryTest.is_main_thread();
        return v + 1;
    });
    laterMs(10, () => p.resolve_int(41));
    const [met, done] = Concurry.wait([end], WaitMode.ALL_COMPLETED, BLOCK);
    assertEq(met, true, 'met');
    assertSame(done, [end], 'done');
    assertEq(end.get_int(), 42, 'value of the chain');
    assertEq(ranOnMain, true, 'the step ran on the main thread');
});

test('wait over 1000 futures with duplicates', () => {
    const fs = [];
    for (let i = 0; i < 1000; i++)
        fs.push(resolved(i));
    const p = promise();
    const [met, done, notDone] = Concurry.wait([...fs, ...fs, p], WaitMode.ALL_COMPLETED, 0);
    assertEq(met, false, 'met');
    assertSame(done, fs, 'done');
    assertSame(notDone, [p], 'not done');
    p.cancel();
});

// ---------------------------------------------------------------------------
// wait_future

test('wait_future completes, without a value, once its condition holds', async () => {
    const a = promise();
    const b = promise();
    const first = Concurry.wait_future([a, b], WaitMode.FIRST_COMPLETED);
    const all = Concurry.wait_future([a, b, a], WaitMode.ALL_COMPLETED);
    const firstError = Concurry.wait_future([a, b], WaitMode.FIRST_EXCEPTION);
    assertEq(first.is_done(), false, 'pending before');
    laterMs(5, () => b.resolve_int(2));
    assertEq(await first.wait_async(null), true, 'FIRST_COMPLETED');
    assertEq(first.get_value(), null, 'no value');
    assertEq(first.get_state(), FutureState.DONE, 'state');
    assertEq(all.is_done(), false, 'ALL_COMPLETED waits for a');
    assertEq(firstError.is_done(), false, 'FIRST_EXCEPTION waits for a');
    ConcurryTest.reject_in_thread(a, 'a failed');
    assertEq(await all.wait_async(null), true, 'ALL_COMPLETED');
    assertEq(await firstError.wait_async(null), true, 'FIRST_EXCEPTION');
    // wait_future succeeds even when an input failed: inspect the inputs.
    assertEq(a.get_error().message, 'a failed', 'the input failed');

    const empty = Concurry.wait_future([], WaitMode.ALL_COMPLETED);
    assertEq(empty.get_state(), FutureState.DONE, 'no futures: done at once');
});

// ---------------------------------------------------------------------------
// gather

test('gather resolves to its inputs in order whatever the completion order', async () => {
    const ps = [promise(), promise(), promise()];
    const gathered = Concurry.gather([ps[0], ps[1], ps[2], ps[0]], GatherFlags.NONE);
    assertEq(gathered.is_done(), false, 'pending');
    ConcurryTest.resolve_in_thread(ps[2], 20);
    laterMs(10, () => ps[1].resolve_int(10));
    laterMs(20, () => ps[0].resolve_int(0));
    assertEq(await gathered.wait_async(null), true, 'wait_async');
    assertEq(gathered.get_state(), FutureState.DONE, 'state');
    assertEq(gathered.get_value_type(), GObject.type_from_name('GPtrArray'), 'value type');
    // GJS cannot convert an untyped GPtrArray: read the values from the inputs.
    assertJson(ps.map(p => p.get_int()), [0, 10, 20], 'values');
});

test('gather fails with the first failure to happen, not waiting for the rest', async () => {
    const a = promise();
    const b = promise();
    const c = promise();
    const gathered = Concurry.gather([a, b, c], GatherFlags.NONE);
    laterMs(5, () => c.reject_literal(Gio.io_error_quark(), IOErrorEnum.NOT_FOUND, 'c is missing'));
    const e = await failureOf(gathered, 'gather');
    assertGError(e, Gio.IOErrorEnum, IOErrorEnum.NOT_FOUND, 'gather error');
    assertEq(e.message, 'c is missing', 'message');
    assertEq(gathered.get_state(), FutureState.FAILED, 'state');
    // The others go on, untouched.
    assertEq(a.get_state(), FutureState.PENDING, 'a');
    assertEq(b.get_state(), FutureState.PENDING, 'b');
    // A later failure does not change the outcome.
    a.reject_literal(Gio.io_error_quark(), IOErrorEnum.EXISTS, 'a too');
    b.resolve_int(1);
    await idles(2);
    assertEq(gathered.get_error().message, 'c is missing', 'the first failure stays');
    observe(a);
});

test('a cancelled input fails gather with CANCELLED', async () => {
    const ok = resolved(1);
    const a = promise();
    const gathered = Concurry.gather([ok, a], GatherFlags.NONE);
    laterMs(5, () => a.cancel());
    assertGError(await failureOf(gathered), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'gather');
    assertEq(gathered.is_failed() || gathered.is_cancelled(), true, 'finished unsuccessfully');
});

test('a cancelled input does not cancel the other inputs of gather or race', async () => {
    const a = promise();
    const b = promise();
    const gathered = Concurry.gather([a, b], GatherFlags.NONE);
    const c = promise();
    const d = promise();
    const raced = Concurry.race([c, d]);
    a.cancel();
    c.cancel();
    assertGError(await failureOf(gathered), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'gather');
    assertGError(await failureOf(raced), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'race');
    const states = [b.get_state(), d.get_state()];
    b.cancel();
    d.cancel();
    // Like a failed input (previous tests), a cancelled one leaves the others alone.
    assertJson(states, [FutureState.PENDING, FutureState.PENDING], 'states of the other inputs');
});

test('gather ALL_OUTCOMES waits for every input and succeeds', async () => {
    const bad = promise();
    const good = promise();
    const gone = promise();
    const gathered = Concurry.gather([bad, good, gone], GatherFlags.ALL_OUTCOMES);
    bad.reject_literal(Gio.io_error_quark(), IOErrorEnum.FAILED, 'bad');
    gone.cancel();
    await idles(2);
    assertEq(gathered.is_done(), false, 'still waits for good');
    ConcurryTest.resolve_in_thread(good, 7);
    assertEq(await gathered.wait_async(null), true, 'succeeds');
    assertEq(gathered.get_state(), FutureState.DONE, 'state');
    assertJson([bad.get_state(), good.get_state(), gone.get_state()],
        [FutureState.FAILED, FutureState.DONE, FutureState.CANCELLED], 'outcomes');
    assertEq(bad.get_error().message, 'bad', 'the failure is kept on its input');
    assertEq(good.get_int(), 7, 'value');
});

test('cancelling gather cancels its inputs', async () => {
    const a = promise();
    const b = promise();
    const done = resolved(1);
    const gathered = Concurry.gather([a, done, b], GatherFlags.NONE);
    assertEq(gathered.cancel(), true, 'cancel');
    assertGError(await failureOf(gathered), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'gather');
    assertJson([a.get_state(), done.get_state(), b.get_state()],
        [FutureState.CANCELLED, FutureState.DONE, FutureState.CANCELLED], 'input states');
});

test('gather of nothing is done at once', () => {
    for (const flags of [GatherFlags.NONE, GatherFlags.ALL_OUTCOMES]) {
        const gathered = Concurry.gather([], flags);
        assertEq(gathered.get_state(), FutureState.DONE, `state (flags ${flags})`);
        assertEq(gathered.get_error(), null, 'no error');
    }
});

test('gather over 10000 finished futures', async () => {
    const fs = [];
    for (let i = 0; i < 10000; i++)
        fs.push(resolved(i));
    const gathered = Concurry.gather(fs, GatherFlags.NONE);
    // Inputs that are done settle it inside the call.
    assertEq(gathered.get_state(), FutureState.DONE, 'done at once');
    assertEq(await gathered.wait_async(null), true, 'wait_async');
    assert(fs.every((f, i) => f.get_int() === i), 'values');
});

// ---------------------------------------------------------------------------
// any and race

test('any gives the value of the first success, skipping failures', async () => {
    const a = promise();
    const b = promise();
    const c = promise();
    const first = Concurry.any([a, b, c]);
    a.reject_literal(Gio.io_error_quark(), IOErrorEnum.FAILED, 'a');
    await idles(2);
    assertEq(first.is_done(), false, 'a failure does not settle it');
    ConcurryTest.resolve_in_thread(c, 33);
    assertEq(await first.wait_async(null), true, 'wait_async');
    assertEq(first.get_int(), 33, 'value');
    assertEq(b.get_state(), FutureState.PENDING, 'b untouched');
    b.resolve_int(1);
    await idles(2);
    assertEq(first.get_int(), 33, 'unchanged by a later success');
    observe(a);
});

test('any fails with Concurry.Error.FAILED when all inputs fail', async () => {
    const a = promise();
    const b = promise();
    const all = Concurry.any([a, b]);
    b.reject_literal(Gio.io_error_quark(), IOErrorEnum.NOT_FOUND, 'b failed');
    ConcurryTest.reject_in_thread(a, 'a failed');
    const e = await failureOf(all, 'any');
    assertGError(e, Concurry.Error, Concurry.Error.FAILED, 'any');
    // It names the error of the first input given.
    assert(e.message.includes('a failed'), `message ${show(e.message)}`);
    observe(a, b);
});

test('any and race of nothing fail with INVALID_STATE', async () => {
    for (const [name, f] of [['any', Concurry.any([])], ['race', Concurry.race([])]]) {
        assertEq(f.is_done(), true, `${name}: done at once`);
        // eslint-disable-next-line no-await-in-loop
        assertGError(await failureOf(f), Concurry.Error, Concurry.Error.INVALID_STATE, name);
    }
});

test('race takes the first outcome, a failure included', async () => {
    const a = promise();
    const b = promise();
    const first = Concurry.race([a, b]);
    laterMs(5, () => b.reject_literal(Gio.io_error_quark(), IOErrorEnum.EXISTS, 'b first'));
    const e = await failureOf(first, 'race');
    assertGError(e, Gio.IOErrorEnum, IOErrorEnum.EXISTS, 'race');
    assertEq(e.message, 'b first', 'message');
    assertEq(a.get_state(), FutureState.PENDING, 'a untouched');
    a.resolve_int(1);
    await idles(2);
    assertEq(first.is_failed(), true, 'still failed');

    const c = promise();
    const d = promise();
    const win = Concurry.race([c, d, c]);
    ConcurryTest.resolve_in_thread(d, 4);
    assertEq(await win.wait_async(null), true, 'a success wins');
    assertEq(win.get_int(), 4, 'value');
    assertEq(c.get_state(), FutureState.PENDING, 'c untouched');
    c.cancel();
    observe(b);
});

test('cancelling any or race cancels the inputs', async () => {
    for (const make of [Concurry.any, Concurry.race]) {
        const a = promise();
        const b = promise();
        const f = make([a, b]);
        assertEq(f.cancel(), true, 'cancel');
        // eslint-disable-next-line no-await-in-loop
        assertGError(await failureOf(f), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'combined');
        assertJson([a.is_cancelled(), b.is_cancelled()], [true, true], 'inputs cancelled');
    }
});

// ---------------------------------------------------------------------------
// delay, timeout, with_timeout

test('delay completes without a value once the time passed', async () => {
    const start = now();
    const d = Concurry.delay(30 * MS);
    assertEq(d.get_state(), FutureState.PENDING, 'pending at first');
    assertEq(await d.wait_async(null), true, 'wait_async');
    const elapsed = now() - start;
    assert(elapsed >= 30 * MS, `done after ${elapsed} us`);
    assertEq(d.get_state(), FutureState.DONE, 'state');
    assertEq(d.get_value(), null, 'no value');
});

test('delay of 0 or a negative delay completes at once', () => {
    for (const usec of [0, -1, -SECOND]) {
        const d = Concurry.delay(usec);
        assertEq(d.wait(BLOCK), true, `delay(${usec})`);
    }
});

test('a cancelled delay stays cancelled', async () => {
    const d = Concurry.delay(20 * MS);
    assertEq(d.cancel(), true, 'cancel');
    assertGError(await failureOf(d), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'delay');
    await Concurry.delay(40 * MS).wait_async(null);
    assertEq(d.get_state(), FutureState.CANCELLED, 'still cancelled after the time passed');
});

test('timeout fails with TIMED_OUT once the time passed', async () => {
    const start = now();
    const t = Concurry.timeout(20 * MS);
    assertGError(await failureOf(t), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'timeout');
    assert(now() - start >= 20 * MS, 'not before the time');
    assertGError(thrownBy(() => Concurry.timeout(0).wait(BLOCK)), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'timeout(0)');
});

test('race against Concurry.timeout bounds a future', async () => {
    const slow = promise();
    const bound = Concurry.race([slow, Concurry.timeout(20 * MS)]);
    assertGError(await failureOf(bound), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'bounded');
    slow.cancel();
});

test('with_timeout mirrors a future that finishes in time', async () => {
    const p = promise();
    const bounded = p.with_timeout(BLOCK);
    ConcurryTest.resolve_in_thread(p, 12);
    assertEq(await bounded.wait_async(null), true, 'wait_async');
    assertEq(bounded.get_int(), 12, 'value');

    const q = promise();
    const boundedError = q.with_timeout(BLOCK);
    laterMs(5, () => q.reject_literal(Gio.io_error_quark(), IOErrorEnum.PERMISSION_DENIED, 'no way'));
    const e = await failureOf(boundedError);
    assertGError(e, Gio.IOErrorEnum, IOErrorEnum.PERMISSION_DENIED, 'mirrored error');
    assertEq(e.message, 'no way', 'message');
    observe(q);
});

test('with_timeout fails with TIMED_OUT and leaves its source alone', async () => {
    const p = promise();
    const start = now();
    const bounded = p.with_timeout(20 * MS);
    assertGError(await failureOf(bounded), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'with_timeout');
    assert(now() - start >= 20 * MS, 'not before the time');
    assertEq(p.get_state(), FutureState.PENDING, 'the source is not cancelled');
    p.resolve_int(1);
    await idles(2);
    assertGError(bounded.get_error(), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'still timed out');
});

test('with_timeout of 0 or a negative time times a pending future out at once', async () => {
    const p = promise();
    for (const usec of [0, -5, -SECOND]) {
        // eslint-disable-next-line no-await-in-loop
        assertGError(await failureOf(p.with_timeout(usec)), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, `${usec}`);
    }
    assertEq(p.get_state(), FutureState.PENDING, 'source untouched');
    p.cancel();
});

test('with_timeout(0) of a finished future always gives its outcome', () => {
    const end = now() + 2 * SECOND;
    for (let i = 0; now() < end; i++) {
        const bounded = resolved(i).with_timeout(0);
        const state = bounded.get_state();
        if (state !== FutureState.DONE) {
            const e = bounded.get_error();
            throw new AssertionError(`iteration ${i}: state ${state}: ${e?.message}`);
        }
    }
});

test('cancelling the future of with_timeout cancels its source', async () => {
    const p = promise();
    const bounded = p.with_timeout(BLOCK);
    assertEq(bounded.cancel(), true, 'cancel');
    assertGError(await failureOf(bounded), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'with_timeout');
    assertEq(p.get_state(), FutureState.CANCELLED, 'source');
});

// ---------------------------------------------------------------------------
// chains

test('a chain A → B → C flattens the promise returned by B', async () => {
    const log = [];
    const a = promise();
    let inner = null;
    const end = a
        .map(v => {
            log.push(`A ${v}`);
            return v * 2;
        })
        .and_then(f => {
            log.push(`B ${f.get_int()}`);
            inner = promise();
            const value = f.get_int() + 1;
            laterMs(10, () => inner.resolve_int(value));
            return inner;
        })
        .map(v => {
            log.push(`C ${v}`);
            return `result ${v}`;
        });
    laterMs(5, () => a.resolve_int(10));
    assertEq(await end.wait_async(null), true, 'await the end');
    assertEq(end.get_value(), 'result 21', 'value');
    assertJson(log, ['A 10', 'B 20', 'C 21'], 'steps');
    assertEq(inner.get_int(), 21, 'the inner promise');
});

test('steps never run inside the call that adds them', async () => {
    const r = resolved(1);
    let ran = 0;
    const ends = [
        r.and_then(() => ++ran),
        r.map(() => ++ran),
        r.finally_do(() => ++ran),
    ];
    assertEq(ran, 0, 'ran inside the calls');
    for (const end of ends)
        await end.wait_async(null); // eslint-disable-line no-await-in-loop
    assertEq(ran, 3, 'ran');
    assertEq(ends[2].get_int(), 1, 'finally_do passes the value on');
});

test('JS steps run on the main thread when a worker thread completes the upstream', async () => {
    const threads = {};
    const record = name => {
        threads[name] = ConcurryTest.is_main_thread();
    };
    const p1 = promise();
    const e1 = p1.and_then(f => {
        record('and_then');
        return f.get_int();
    });
    const p2 = promise();
    const e2 = p2.map(v => {
        record('map');
        return v;
    });
    const p3 = promise();
    const e3 = p3.catch_error(f => {
        record('catch_error');
        return f.get_error().message;
    });
    const p4 = promise();
    const e4 = p4.finally_do(() => record('finally_do'));
    ConcurryTest.resolve_in_thread(p1, 1);
    ConcurryTest.resolve_in_thread(p2, 2);
    ConcurryTest.reject_in_thread(p3, 'worker error');
    ConcurryTest.resolve_in_thread(p4, 4);
    for (const e of [e1, e2, e3, e4])
        await e.wait_async(null); // eslint-disable-line no-await-in-loop
    assertEq(ConcurryTest.last_resolve_off_main_thread(), true, 'resolved off the main thread');
    assertJson(['and_then', 'map', 'catch_error', 'finally_do'].map(name => threads[name]),
        [true, true, true, true], 'and_then, map, catch_error, finally_do on the main thread');
    assertJson([e1.get_int(), e2.get_int(), e3.get_string(), e4.get_int()], [1, 2, 'worker error', 4], 'values');
});

test('errors go down the chain unchanged, skipping and_then and map', async () => {
    const domain = GLib.quark_from_string('concurry-gjs-chain-error-quark');
    const p = promise();
    const ran = [];
    let finallyState = null;
    const end = p
        .map(v => ran.push('map') && v)
        .and_then(f => ran.push('and_then') && f.get_int())
        .finally_do(f => {
            finallyState = f.get_state();
        })
        .map(v => ran.push('map 2') && v);
    laterMs(5, () => p.reject_literal(domain, 42, 'original message'));
    const e = await failureOf(end, 'end of chain');
    assertEq(e.domain, domain, 'domain');
    assertEq(e.code, 42, 'code');
    assertEq(e.message, 'original message', 'message');
    assertJson(ran, [], 'skipped steps');
    assertEq(finallyState, FutureState.FAILED, 'finally_do saw the failure');
    assertEq(end.get_state(), FutureState.FAILED, 'state');
});

test('finally_do runs when the end of the chain is cancelled', async () => {
    const p = promise();
    let finallyState = null;
    const end = p.finally_do(f => {
        finallyState = f.get_state();
    });
    assert(end.cancel(), 'cancel() on the end of the chain');
    await until(() => finallyState !== null);
    assertEq(finallyState, FutureState.CANCELLED, 'finally_do saw the cancellation');
    assertEq(end.get_state(), FutureState.CANCELLED, 'the end stays cancelled');
});

test('finally_do in the middle runs when a later step is cancelled', async () => {
    const p = promise();
    let finallyState = null;
    const end = p
        .finally_do(f => {
            finallyState = f.get_state();
        })
        .map(v => v)
        .and_then(f => f.get_int());
    assert(end.cancel(), 'cancel() on the end of the chain');
    await until(() => finallyState !== null);
    assertEq(finallyState, FutureState.CANCELLED, 'finally_do saw the cancellation');
    assertEq(p.get_state(), FutureState.CANCELLED, 'the cancellation went up the chain');
});

test('catch_error recovers from a failure with a value or a future', async () => {
    const p = promise();
    let seen = null;
    const recovered = p.catch_error(f => {
        seen = f;
        return `recovered from ${f.get_error().message}`;
    });
    p.reject_literal(Gio.io_error_quark(), IOErrorEnum.NOT_FOUND, 'nf');
    assertEq(await recovered.wait_async(null), true, 'wait_async');
    assertEq(recovered.get_string(), 'recovered from nf', 'value');
    assertEq(seen, p, 'the step gets the failed future');

    const q = rejected('q failed');
    const replacement = promise();
    const viaFuture = q.catch_error(() => replacement).map(v => v * 3);
    laterMs(5, () => replacement.resolve_int(5));
    assertEq(await viaFuture.wait_async(null), true, 'flattened recovery');
    assertEq(viaFuture.get_int(), 15, 'value');

    // A step may fail again, with an error of its own.
    const again = rejected('first').catch_error(() => {
        throw new GLib.Error(Gio.IOErrorEnum, IOErrorEnum.BUSY, 'second');
    });
    const e = await failureOf(again);
    assertGError(e, Gio.IOErrorEnum, IOErrorEnum.BUSY, 'error of the step');
    assertEq(e.message, 'second', 'message');
});

test('catch_error lets success and cancellation through without running', async () => {
    let ran = 0;
    const ok = resolved(8).catch_error(() => ++ran);
    assertEq(await ok.wait_async(null), true, 'success');
    assertEq(ok.get_int(), 8, 'value passed on');

    const p = promise();
    const cancelled = p.catch_error(() => ++ran);
    p.cancel();
    assertGError(await failureOf(cancelled), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'cancellation passed on');
    assertEq(cancelled.get_state(), FutureState.CANCELLED, 'state');
    assertEq(ran, 0, 'the step ran');
});

test('a thrown JS error fails the chain; catch_error sees it', async () => {
    const end = resolved(1).and_then(() => {
        throw new TypeError('js step failed');
    });
    const e = await failureOf(end);
    assertEq(e.message, 'js step failed', 'message');
    assertEq(end.get_state(), FutureState.FAILED, 'state');

    const mapped = resolved(2).map(() => {
        throw new GLib.Error(Gio.IOErrorEnum, IOErrorEnum.INVALID_DATA, 'bad data');
    });
    const ge = await failureOf(mapped);
    assertGError(ge, Gio.IOErrorEnum, IOErrorEnum.INVALID_DATA, 'GLib.Error of a step');
    assertEq(ge.message, 'bad data', 'message');

    const healed = resolved(3).map(() => {
        throw new Error('oops');
    }).catch_error(f => `caught ${f.get_error().message}`);
    assertEq(await healed.wait_async(null), true, 'recovered');
    assertEq(healed.get_string(), 'caught oops', 'value');
});

test('step results: null means no value, others keep their types', async () => {
    const r = resolved(1);
    const none = r.and_then(() => null);
    const text = r.map(() => 'text');
    const big = r.map(() => 5n);
    const obj = new Gio.SimpleAction({name: 'concurry-chain'});
    const object = r.map(() => obj);
    for (const f of [none, text, big, object])
        await f.wait_async(null); // eslint-disable-line no-await-in-loop
    assertEq(none.get_state(), FutureState.DONE, 'null: state');
    assertEq(none.get_value(), null, 'null: value');
    assertEq(text.get_string(), 'text', 'string');
    assertEq(big.get_int64(), 5, 'BigInt: int64');
    assertEq(object.get_object(), obj, 'object');
});

test('finally_do runs once whatever the outcome and passes it on', async () => {
    const calls = [];
    const ok = resolved(6).finally_do(f => calls.push(['ok', f.get_int()]));
    const bad = rejected('bad').finally_do(f => calls.push(['bad', f.get_state()]));
    const p = promise();
    const gone = p.finally_do(f => calls.push(['gone', f.get_state()]));
    p.cancel();
    assertEq(await ok.wait_async(null), true, 'ok');
    assertEq(ok.get_int(), 6, 'value');
    assertEq((await failureOf(bad)).message, 'bad', 'error passed on');
    assertGError(await failureOf(gone), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'cancellation passed on');
    await idles(3);
    calls.sort();
    assertJson(calls, [['bad', FutureState.FAILED], ['gone', FutureState.CANCELLED], ['ok', 6]], 'calls');
});

test('cancelling the end of a chain cancels the upstream it waits on', async () => {
    const a = promise();
    let ran = 0;
    const end = a.map(() => ++ran).and_then(() => ++ran);
    assertEq(end.cancel(), true, 'cancel');
    assertGError(await failureOf(end), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'end');
    assertEq(a.get_state(), FutureState.CANCELLED, 'upstream cancelled');
    await idles(3);
    assertEq(ran, 0, 'no step ran');

    // Once a step returned a future, the chain waits on that one.
    const inner = promise();
    let stepRan = false;
    const flat = resolved(1).and_then(() => {
        stepRan = true;
        return inner;
    });
    await until(() => stepRan);
    assertEq(flat.is_done(), false, 'waits for the inner future');
    assertEq(flat.cancel(), true, 'cancel');
    assertEq(inner.get_state(), FutureState.CANCELLED, 'inner cancelled');
    assertGError(await failureOf(flat), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'flattened end');
});

test('a long chain of 200 maps', async () => {
    const p = promise();
    let end = p;
    for (let i = 0; i < 200; i++)
        end = end.map(v => v + 1);
    ConcurryTest.resolve_in_thread(p, 0);
    assertEq(await end.wait_async(null), true, 'wait_async');
    assertEq(end.get_int(), 200, 'value');
});

// ---------------------------------------------------------------------------
// as_completed

test('as_completed: done ones first, then in completion order, each once', () => {
    const r0 = resolved(0);
    const p1 = promise();
    const r2 = resolved(2);
    const p3 = promise();
    const it = Concurry.as_completed([r0, p1, r2, p1, p3, r0], BLOCK);
    assertEq(it.get_n_remaining(), 4, 'distinct futures');
    assert(it.next() === r0, 'first: r0');
    assert(it.next() === r2, 'second: r2');
    assertEq(it.get_n_remaining(), 2, 'remaining');
    ConcurryTest.resolve_in_thread(p3, 3);
    assert(it.next() === p3, 'third: p3, completed by a worker thread');
    // Completed by a main-context source: next() runs the context meanwhile.
    laterMs(5, () => p1.reject_literal(Gio.io_error_quark(), IOErrorEnum.FAILED, 'p1 failed'));
    const f = it.next();
    assert(f === p1, 'fourth: p1');
    assertEq(f.get_error().message, 'p1 failed', 'a failed future is given like the others');
    assertEq(it.next(), null, 'exhausted');
    assertEq(it.next(), null, 'still exhausted');
    assertEq(it.get_n_remaining(), 0, 'nothing remaining');
});

test('as_completed times out counting from its creation', () => {
    const r = resolved(1);
    const p = promise();
    const q = promise();
    const start = now();
    const it = Concurry.as_completed([p, r, q, p], 30 * MS);
    assert(it.next() === r, 'the done one first');
    const e = thrownBy(() => it.next(), 'next');
    const elapsed = now() - start;
    assertGError(e, Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'next');
    assertEq(e.message, '2 (of 3) futures unfinished', 'message');
    assert(elapsed >= 30 * MS, `timed out after ${elapsed} us`);
    assertEq(it.get_n_remaining(), 2, 'remaining');
    p.cancel();
    q.cancel();
});

test('as_completed with timeout 0 gives the done ones, then times out', () => {
    const p = promise();
    const r = resolved(1);
    const c = promise();
    c.cancel();
    const it = Concurry.as_completed([p, r, c], 0);
    assert(it.next() === r, 'r');
    assert(it.next() === c, 'the cancelled one is done');
    assertGError(thrownBy(() => it.next()), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'then');
    p.cancel();
});

test('as_completed with a negative timeout waits as long as needed', () => {
    const p = promise();
    const it = Concurry.as_completed([p], -1);
    ConcurryTest.resolve_in_thread(p, 9);
    assert(it.next() === p, 'p');
    assertEq(it.next(), null, 'exhausted');
});

test('as_completed of nothing is exhausted at once', async () => {
    for (const timeout of [0, -1, SECOND]) {
        const it = Concurry.as_completed([], timeout);
        assertEq(it.get_n_remaining(), 0, 'remaining');
        assertEq(it.next(), null, 'next');
        assertEq(await it.next_async(null), null, 'next_async'); // eslint-disable-line no-await-in-loop
    }
});

test('await next_async in a loop', async () => {
    const ps = [promise(), promise(), promise()];
    const r = resolved(-1);
    const it = Concurry.as_completed([...ps, r, ps[0]], -1);
    laterMs(5, () => ps[2].resolve_int(2));
    laterMs(15, () => ps[0].reject_literal(Gio.io_error_quark(), IOErrorEnum.FAILED, 'zero'));
    laterMs(25, () => ConcurryTest.resolve_in_thread(ps[1], 1));
    const got = [];
    for (let f; (f = await it.next_async(null)) !== null;) // eslint-disable-line no-await-in-loop
        got.push(f);
    assertSame(got, [r, ps[2], ps[0], ps[1]], 'order');
    assertEq(ps[0].get_error().message, 'zero', 'the failure');
    assertEq(await it.next_async(null), null, 'exhausted');
});

test('next_async times out, or stops when its cancellable is cancelled', async () => {
    const p = promise();
    const it = Concurry.as_completed([p], 20 * MS);
    const e = await rejectionOf(it.next_async(null), 'next_async');
    assertGError(e, Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'next_async');
    assertEq(e.message, '1 (of 1) futures unfinished', 'message');

    const q = promise();
    const it2 = Concurry.as_completed([q], -1);
    const cancellable = new Gio.Cancellable();
    laterMs(5, () => cancellable.cancel());
    assertGError(await rejectionOf(it2.next_async(cancellable)), Gio.IOErrorEnum, IOErrorEnum.CANCELLED,
        'cancelled next_async');
    assertEq(q.get_state(), FutureState.PENDING, 'the future is not cancelled');
    // The iterator still works.
    q.resolve_int(1);
    assert(await it2.next_async(null) === q, 'q after the cancelled wait');
    p.cancel();
});

test('as_completed over 1000 futures', async () => {
    const fs = [];
    for (let i = 0; i < 1000; i++)
        fs.push(i % 2 ? promise() : resolved(i));
    const it = Concurry.as_completed(fs, BLOCK);
    // The pending half completes in reverse order.
    for (let i = 999; i >= 0; i -= 2)
        fs[i].resolve_int(i);
    const order = [];
    for (let f; (f = it.next()) !== null;)
        order.push(f.get_int());
    const expected = [];
    for (let i = 0; i < 1000; i += 2)
        expected.push(i);
    for (let i = 999; i >= 0; i -= 2)
        expected.push(i);
    assertJson(order, expected, 'order');
});

// ---------------------------------------------------------------------------
// CompletionList

test('CompletionList fills in completion order, on the main thread', async () => {
    const ps = [promise(), promise(), promise(), promise()];
    const list = Concurry.CompletionList.new([...ps, ps[1]]);
    assert(list instanceof Gio.ListModel, 'a Gio.ListModel');
    assertEq(list.get_item_type(), Concurry.Future.$gtype, 'item type');
    assertEq(list.get_n_items(), 0, 'starts empty');
    const changes = [];
    list.connect('items-changed', (model, position, removed, added) => {
        changes.push({position, removed, added, main: ConcurryTest.is_main_thread(), n: model.get_n_items()});
    });

    // Complete them one at a time, in this order, some from worker threads.
    ConcurryTest.resolve_in_thread(ps[2], 2);
    await until(() => list.get_n_items() === 1);
    ps[0].reject_literal(Gio.io_error_quark(), IOErrorEnum.FAILED, 'zero');
    await until(() => list.get_n_items() === 2);
    ConcurryTest.reject_in_thread(ps[3], 'three');
    await until(() => list.get_n_items() === 3);
    ps[1].cancel();
    await until(() => list.get_n_items() === 4);
    await idles(3);

    const items = [];
    for (let i = 0; i < list.get_n_items(); i++)
        items.push(list.get_item(i));
    assertSame(items, [ps[2], ps[0], ps[3], ps[1]], 'completion order, each once');
    assertEq(list.get_item(4), null, 'past the end');
    assertJson(changes.map(c => [c.position, c.removed, c.added, c.n]),
        [[0, 0, 1, 1], [1, 0, 1, 2], [2, 0, 1, 3], [3, 0, 1, 4]], 'items-changed');
    assert(changes.every(c => c.main), 'items-changed ran on the main thread');
    observe(...ps);
});

test('CompletionList: done futures first in the order given, never inside new()', async () => {
    const a = resolved(1);
    const p = promise();
    const b = rejected('b');
    const list = Concurry.CompletionList.new([p, b, a, b, a]);
    assertEq(list.get_n_items(), 0, 'nothing added inside new()');
    await until(() => list.get_n_items() === 2);
    assertSame([list.get_item(0), list.get_item(1)], [b, a], 'already done, in the order given');
    p.resolve_int(2);
    await until(() => list.get_n_items() === 3);
    assert(list.get_item(2) === p, 'then p');
    await idles(3);
    assertEq(list.get_n_items(), 3, 'no duplicates');
    assertEq(Concurry.CompletionList.new([]).get_n_items(), 0, 'empty');
    observe(b);
});

// ---------------------------------------------------------------------------

// Tests registered without a deadline get 4 s.
run();
