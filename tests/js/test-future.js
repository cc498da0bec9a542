// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS tests of the concurry foundation: Concurry.Future, Concurry.Promise and
// Concurry.ResolvedFuture seen from JavaScript.
//
// Run as `gjs -m test-future.js` (meson does this with GI_TYPELIB_PATH set to
// the build tree). The exit code is the result; each test prints a TAP line.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import System from 'system';

import Concurry from 'gi://Concurry?version=1';
import ConcurryTest from 'gi://ConcurryTest?version=1';

import {
    test, run, assert, assertEq, assertArrayEq, assertGError, assertThrowsGError, rejectionOf,
    idle, until, laterMs, laterIdle, flushCallbacks,
} from './harness.js';

// Before anything else touches the prototype (pitfall P3).
Gio._promisify(Concurry.Future.prototype, 'wait_async', 'wait_finish');

const {FutureState} = Concurry;
const {IOErrorEnum} = Gio;

// ---------------------------------------------------------------------------
// Awaiting

test('a future is not a thenable and awaiting it yields the object', async () => {
    assertEq(typeof Concurry.Future.prototype.then, 'undefined', 'Future.prototype.then');

    const resolved = Concurry.ResolvedFuture.new_int(5);
    const promise = new Concurry.Promise();
    for (const f of [resolved, promise]) {
        assertEq(typeof f.then, 'undefined', `${f.constructor.name}.then`);
        assert(!('then' in f), `'then' in ${f.constructor.name}`);
        // eslint-disable-next-line no-await-in-loop
        const got = await f;
        assertEq(got, f, 'await future');
    }
    // Awaiting the object did not wait for it.
    assertEq(promise.get_state(), FutureState.PENDING, 'state after await');
    assertEq(await Promise.resolve(promise), promise, 'Promise.resolve(future)');
});

test('await wait_async on a resolved future', async () => {
    const f = Concurry.ResolvedFuture.new_int(5);
    assertEq(f.get_state(), FutureState.DONE, 'state');
    assert(f.is_done(), 'is_done');
    assertEq(await f.wait_async(null), true, 'wait_async result');
    assertEq(f.get_value(), 5, 'get_value');
    assertEq(f.get_int(), 5, 'get_int');
    assertEq(f.get_error(), null, 'get_error');

    const s = Concurry.ResolvedFuture.new_string('ready');
    assertEq(await s.wait_async(null), true, 'wait_async result (string)');
    assertEq(s.get_string(), 'ready', 'get_string');
});

test('await wait_async on a promise resolved later from a timeout', async () => {
    const p = Concurry.Promise.new();
    let resolvedAt = 0;
    laterMs(20, () => {
        resolvedAt = GLib.get_monotonic_time();
        assertEq(p.resolve_string('hello'), true, 'resolve_string');
    });
    assertEq(p.get_state(), FutureState.PENDING, 'state before');
    assertEq(p.is_done(), false, 'is_done before');
    assertEq(p.get_value(), null, 'get_value before');

    assertEq(await p.wait_async(null), true, 'wait_async result');
    assert(resolvedAt > 0, 'wait_async returned before the promise was resolved');
    assertEq(p.get_state(), FutureState.DONE, 'state after');
    assertEq(p.get_value(), 'hello', 'get_value');
    assertEq(p.get_string(), 'hello', 'get_string');
});

test('await wait_async on a running promise resolved from an idle', async () => {
    const p = new Concurry.Promise();
    assertEq(p.mark_running(), true, 'mark_running');
    assertEq(p.mark_running(), false, 'mark_running twice');
    assertEq(p.get_state(), FutureState.RUNNING, 'state');
    assert(p.is_running(), 'is_running');
    assert(!p.is_done(), 'not done');

    laterIdle(() => p.resolve_int(-17));
    // Several awaits of the same future all complete.
    const results = await Promise.all([p.wait_async(null), p.wait_async(null), p.wait_async(null)]);
    assertArrayEq(results, [true, true, true], 'results');
    assertEq(p.get_int(), -17, 'get_int');
    assert(!p.is_running(), 'no longer running');
    // Completing again changes nothing.
    assertEq(p.resolve_int(3), false, 'second resolve');
    assertEq(p.reject_literal(Gio.io_error_quark(), IOErrorEnum.FAILED, 'late'), false, 'late reject');
    assertEq(p.get_int(), -17, 'value unchanged');
    assertEq(p.get_state(), FutureState.DONE, 'state unchanged');
});

// ---------------------------------------------------------------------------
// Errors

test('a rejection surfaces the original GError', async () => {
    const p = new Concurry.Promise();
    laterIdle(() => p.reject_literal(Gio.io_error_quark(), IOErrorEnum.FAILED, 'boom'));

    const e = await rejectionOf(p.wait_async(null), 'wait_async');
    assertGError(e, Gio.IOErrorEnum, IOErrorEnum.FAILED, 'awaited error');
    assertEq(e.domain, Gio.io_error_quark(), 'domain');
    assertEq(e.code, IOErrorEnum.FAILED, 'code');
    assertEq(e.message, 'boom', 'message');

    assertEq(p.get_state(), FutureState.FAILED, 'state');
    assert(p.is_failed() && p.is_done() && !p.is_cancelled(), 'is_failed/is_done/!is_cancelled');
    assertEq(p.get_value(), null, 'no value');
    const err = p.get_error();
    assertGError(err, Gio.IOErrorEnum, IOErrorEnum.FAILED, 'get_error');
    assertEq(err.message, 'boom', 'get_error message');
    // A failed future cannot be cancelled or resolved any more.
    assertEq(p.cancel(), false, 'cancel on failed');
    assertEq(p.resolve_int(1), false, 'resolve on failed');
    assertEq(p.get_state(), FutureState.FAILED, 'still failed');
});

test('an error of a foreign domain keeps its domain, code and message', async () => {
    const domain = GLib.quark_from_string('concurry-gjs-test-error-quark');
    const p = new Concurry.Promise();
    laterMs(5, () => p.reject_literal(domain, 42, 'the answer failed'));
    const e = await rejectionOf(p.wait_async(null));
    assertEq(e.domain, domain, 'domain');
    assertEq(e.code, 42, 'code');
    assertEq(e.message, 'the answer failed', 'message');
});

test('Concurry.Error and resolved errors propagate', async () => {
    const f = Concurry.ResolvedFuture.new_error_literal(Concurry.error_quark(),
        Concurry.Error.SHUT_DOWN, 'no more work');
    assertEq(f.get_state(), FutureState.FAILED, 'state');
    const e = await rejectionOf(f.wait_async(null));
    assertGError(e, Concurry.Error, Concurry.Error.SHUT_DOWN, 'awaited');
    assert(e instanceof Concurry.Error, 'instanceof Concurry.Error');
    assertEq(e.message, 'no more work', 'message');

    // The blocking wait on a failed future throws the same error.
    const e2 = assertThrowsGError(() => f.wait(0), Concurry.Error, Concurry.Error.SHUT_DOWN, 'wait(0)');
    assertEq(e2.message, 'no more work', 'wait message');
});

test('a promise rejected with CANCELLED is cancelled, not failed', async () => {
    const p = new Concurry.Promise();
    assertEq(p.reject_literal(Gio.io_error_quark(), IOErrorEnum.CANCELLED, 'stop'), true, 'reject');
    assertEq(p.get_state(), FutureState.CANCELLED, 'state');
    assert(p.is_cancelled() && !p.is_failed(), 'cancelled, not failed');
    assertEq(p.cancel(), true, 'cancel on cancelled');
    assertGError(await rejectionOf(p.wait_async(null)), Gio.IOErrorEnum, IOErrorEnum.CANCELLED);
});

// ---------------------------------------------------------------------------
// Cancellation

test('cancel on a pending promise', async () => {
    const p = new Concurry.Promise();
    const cancellable = p.get_cancellable();
    assert(cancellable instanceof Gio.Cancellable, 'get_cancellable');
    assertEq(cancellable.is_cancelled(), false, 'not cancelled yet');
    let signalled = 0;
    // Gio.Cancellable.prototype.connect is g_cancellable_connect(); use the
    // GObject signal connect.
    GObject.Object.prototype.connect.call(cancellable, 'cancelled', () => signalled++);

    const waiting = p.wait_async(null);
    assertEq(p.cancel(), true, 'cancel');
    // At once, without the main loop.
    assertEq(p.get_state(), FutureState.CANCELLED, 'state');
    assert(p.is_cancelled() && p.is_done() && !p.is_failed() && !p.is_running(), 'predicates');
    assertEq(cancellable.is_cancelled(), true, 'cancellable tripped');
    assertEq(signalled, 1, 'cancelled signal');
    assertEq(p.get_value(), null, 'no value');
    assertGError(p.get_error(), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'get_error');

    assertGError(await rejectionOf(waiting, 'pending wait'), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'pending wait');
    assertGError(await rejectionOf(p.wait_async(null), 'later wait'), Gio.IOErrorEnum, IOErrorEnum.CANCELLED,
        'later wait');
    assertThrowsGError(() => p.wait(0), Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'wait(0)');

    // Idempotent, and the result is fixed.
    assertEq(p.cancel(), true, 'cancel again');
    assertEq(signalled, 1, 'cancelled signal once');
    assertEq(p.resolve_int(1), false, 'resolve after cancel');
    assertEq(p.get_state(), FutureState.CANCELLED, 'still cancelled');
});

test('cancel on running, done and failed futures', async () => {
    const running = new Concurry.Promise();
    running.mark_running();
    assertEq(running.cancel(), true, 'cancel running');
    assertEq(running.get_state(), FutureState.CANCELLED, 'running -> cancelled');
    // The cancellable is made on first use, already cancelled.
    assertEq(running.get_cancellable().is_cancelled(), true, 'late cancellable is cancelled');

    const done = new Concurry.Promise();
    done.resolve_int(1);
    assertEq(done.cancel(), false, 'cancel done');
    assertEq(done.get_state(), FutureState.DONE, 'done stays done');
    assertEq(done.get_cancellable().is_cancelled(), false, 'done cancellable not cancelled');
    assertEq(done.get_int(), 1, 'value kept');

    const resolved = Concurry.ResolvedFuture.new_int(2);
    assertEq(resolved.cancel(), false, 'cancel resolved');
    assertEq(resolved.get_state(), FutureState.DONE, 'resolved stays done');

    const failed = Concurry.ResolvedFuture.new_error_literal(Gio.io_error_quark(), IOErrorEnum.FAILED, 'x');
    assertEq(failed.cancel(), false, 'cancel failed');
    assertEq(failed.get_state(), FutureState.FAILED, 'failed stays failed');
    assertGError(failed.get_error(), Gio.IOErrorEnum, IOErrorEnum.FAILED, 'failed error');

    assertGError(await rejectionOf(running.wait_async(null)), Gio.IOErrorEnum, IOErrorEnum.CANCELLED);
});

test('wait_async with a cancelled Gio.Cancellable stops waiting, the future stays pending', async () => {
    const p = new Concurry.Promise();
    const c = new Gio.Cancellable();
    const waiting = p.wait_async(c);
    laterIdle(() => c.cancel());
    assertGError(await rejectionOf(waiting, 'wait_async(c)'), Gio.IOErrorEnum, IOErrorEnum.CANCELLED,
        'cancelled wait');
    assertEq(p.get_state(), FutureState.PENDING, 'future not cancelled');
    assertEq(p.get_cancellable().is_cancelled(), false, 'promise cancellable untouched');

    // An already cancelled cancellable.
    assertGError(await rejectionOf(p.wait_async(c), 'wait_async(cancelled)'), Gio.IOErrorEnum,
        IOErrorEnum.CANCELLED, 'pre-cancelled wait');
    assertEq(p.get_state(), FutureState.PENDING, 'still pending');

    // The future itself still works.
    laterIdle(() => p.resolve_double(0.25));
    assertEq(await p.wait_async(new Gio.Cancellable()), true, 'uncancelled wait');
    assertEq(p.get_double(), 0.25, 'value');

    // Cancelling the cancellable after the wait finished changes nothing.
    const c2 = new Gio.Cancellable();
    assertEq(await p.wait_async(c2), true, 'wait on done');
    c2.cancel();
    await idle();
    assertEq(p.get_state(), FutureState.DONE, 'done');
});

// ---------------------------------------------------------------------------
// Done callbacks

test('done callbacks are asynchronous, even on a done future', async () => {
    const f = Concurry.ResolvedFuture.new_int(3);
    let calls = 0;
    let got = null;
    const id = f.add_done_callback(fut => {
        calls++;
        got = fut;
    });
    assert(id > 0, 'id is not 0');
    assertEq(calls, 0, 'not run inside add_done_callback');

    await until(() => calls > 0);
    await flushCallbacks();
    assertEq(calls, 1, 'ran exactly once');
    assertEq(got, f, 'callback gets the future');

    // Not run from inside the completing call either.
    const p = new Concurry.Promise();
    let pcalls = 0;
    p.add_done_callback(() => pcalls++);
    p.resolve_int(1);
    assertEq(pcalls, 0, 'not run inside resolve');
    p.cancel();
    assertEq(pcalls, 0, 'not run inside cancel');
    await flushCallbacks();
    assertEq(pcalls, 1, 'ran once');
});

test('done callbacks run once each, in the order added', async () => {
    const p = new Concurry.Promise();
    const order = [];
    const ids = [];
    for (let i = 0; i < 5; i++)
        ids.push(p.add_done_callback(fut => order.push([i, fut === p, fut.get_int()])));
    assertEq(new Set(ids).size, ids.length, 'distinct ids');
    assert(ids.every(id => id > 0), 'ids are not 0');

    laterIdle(() => p.resolve_int(9));
    await p.wait_async(null);
    await flushCallbacks();
    assertArrayEq(order.map(o => o[0]), [0, 1, 2, 3, 4], 'order');
    assert(order.every(o => o[1] && o[2] === 9), 'each callback saw the done future');

    // Later completions do not run them again.
    p.resolve_int(10);
    p.cancel();
    await flushCallbacks();
    assertEq(order.length, 5, 'no second delivery');
});

test('done callbacks added after done and from inside a callback', async () => {
    const p = new Concurry.Promise();
    p.resolve_string('x');
    const events = [];
    p.add_done_callback(() => {
        events.push('a');
        p.add_done_callback(() => events.push('nested'));
        events.push('a-end');
    });
    p.add_done_callback(() => events.push('b'));
    assertArrayEq(events, [], 'nothing yet');
    await until(() => events.includes('nested'));
    await flushCallbacks();
    // The nested one did not run inside its parent, and ran exactly once.
    assertArrayEq(events, ['a', 'a-end', 'b', 'nested'], 'events');

    // A callback added from a callback of another future that is pending.
    const q = new Concurry.Promise();
    const seen = [];
    p.add_done_callback(() => {
        q.add_done_callback(() => seen.push(q.get_int()));
        q.resolve_int(77);
        seen.push('after-resolve');
    });
    await until(() => seen.length === 2);
    await flushCallbacks();
    assertArrayEq(seen, ['after-resolve', 77], 'nested on pending');
});

test('remove_done_callback', async () => {
    const p = new Concurry.Promise();
    const ran = [];
    const id1 = p.add_done_callback(() => ran.push(1));
    const id2 = p.add_done_callback(() => ran.push(2));
    const id3 = p.add_done_callback(() => ran.push(3));
    assertEq(p.remove_done_callback(id2), true, 'remove pending callback');
    assertEq(p.remove_done_callback(id2), false, 'remove twice');
    p.resolve_int(0);
    // Once done, the callbacks are scheduled and can no longer be removed.
    assertEq(p.remove_done_callback(id3), false, 'remove after done');
    await flushCallbacks();
    assertArrayEq(ran, [1, 3], 'callbacks run');
    assertEq(p.remove_done_callback(id1), false, 'remove after run');

    // An id of another future is not ours.
    const q = new Concurry.Promise();
    const other = q.add_done_callback(() => ran.push('q'));
    assertEq(p.remove_done_callback(other), false, 'foreign id');
    assertEq(q.remove_done_callback(other), true, 'own id');
    q.resolve_int(1);
    await flushCallbacks();
    assertArrayEq(ran, [1, 3], 'removed callback never runs');
});

// ---------------------------------------------------------------------------
// Threads

test('a promise resolved on a worker thread delivers on the main thread', async () => {
    assert(ConcurryTest.is_main_thread(), 'the test runs on the main thread');
    const p = new Concurry.Promise();
    const calls = [];
    p.add_done_callback(fut => calls.push({main: ConcurryTest.is_main_thread(), value: fut.get_int()}));
    ConcurryTest.resolve_in_thread(p, 42);

    assertEq(await p.wait_async(null), true, 'wait_async');
    assertEq(p.get_int(), 42, 'value');
    assert(ConcurryTest.last_resolve_off_main_thread(), 'resolved off the main thread');
    assert(ConcurryTest.is_main_thread(), 'await resumed on the main thread');
    await until(() => calls.length > 0);
    await flushCallbacks();
    assertEq(calls.length, 1, 'callback ran exactly once');
    assertEq(calls[0].main, true, 'callback ran on the main thread');
    assertEq(calls[0].value, 42, 'callback saw the value');
});

test('a promise rejected on a worker thread surfaces its error', async () => {
    const p = new Concurry.Promise();
    let mainInCallback = null;
    p.add_done_callback(() => (mainInCallback = ConcurryTest.is_main_thread()));
    ConcurryTest.reject_in_thread(p, 'worker failed');
    const e = await rejectionOf(p.wait_async(null));
    assertGError(e, Gio.IOErrorEnum, IOErrorEnum.FAILED);
    assertEq(e.message, 'worker failed', 'message');
    assertEq(p.get_state(), FutureState.FAILED, 'state');
    await until(() => mainInCallback !== null);
    assertEq(mainInCallback, true, 'callback on the main thread');
});

test('200 promises resolved from threads each deliver exactly once', async () => {
    const N = 200;
    const promises = [];
    const counts = new Array(N).fill(0);
    const values = new Array(N).fill(null);
    let offMain = 0;
    for (let i = 0; i < N; i++) {
        const p = new Concurry.Promise();
        p.add_done_callback(fut => {
            counts[i]++;
            values[i] = fut.get_int();
            if (!ConcurryTest.is_main_thread())
                offMain++;
        });
        promises.push(p);
    }
    for (let i = 0; i < N; i++)
        ConcurryTest.resolve_in_thread(promises[i], i * 3);

    const results = await Promise.all(promises.map(p => p.wait_async(null)));
    assert(results.every(r => r === true), 'every wait_async resolved true');
    await until(() => counts.every(c => c > 0));
    await flushCallbacks();
    assertEq(offMain, 0, 'callbacks off the main thread');
    for (let i = 0; i < N; i++) {
        assertEq(counts[i], 1, `callback count of #${i}`);
        assertEq(values[i], i * 3, `value of #${i}`);
        assertEq(promises[i].get_int(), i * 3, `get_int of #${i}`);
    }
});

// ---------------------------------------------------------------------------
// Blocking wait

test('blocking wait: poll, timeout and completion', async () => {
    const p = new Concurry.Promise();
    assertThrowsGError(() => p.wait(0), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'wait(0) on pending');
    const start = GLib.get_monotonic_time();
    assertThrowsGError(() => p.wait(20000), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'wait(20 ms) on pending');
    assert(GLib.get_monotonic_time() - start >= 19000, 'wait(20 ms) waited');
    // A timeout leaves the future alone.
    assertEq(p.get_state(), FutureState.PENDING, 'still pending');

    // The main thread's context is iterated during the wait: a timeout
    // source of this loop completes the future, no deadlock.
    laterMs(10, () => p.resolve_int(5));
    assertEq(p.wait(60 * GLib.USEC_PER_SEC), true, 'wait until resolved by a main-loop source');
    assertEq(p.get_int(), 5, 'value');
    assertEq(p.wait(0), true, 'wait(0) on done');

    // Resolved by a worker thread, waited for ever.
    const q = new Concurry.Promise();
    ConcurryTest.resolve_in_thread(q, 8);
    assertEq(q.wait(-1), true, 'wait(-1)');
    assertEq(q.get_int(), 8, 'thread value');

    // A rejection from a worker thread comes out of wait() as the error.
    const r = new Concurry.Promise();
    ConcurryTest.reject_in_thread(r, 'bad');
    const e = assertThrowsGError(() => r.wait(60 * GLib.USEC_PER_SEC), Gio.IOErrorEnum, IOErrorEnum.FAILED,
        'wait on rejected');
    assertEq(e.message, 'bad', 'message');
});

// ---------------------------------------------------------------------------
// Values

test('values of several types', async () => {
    const check = async (resolve, read, expected, typeName, what) => {
        const p = new Concurry.Promise();
        laterIdle(() => assertEq(resolve(p), true, `${what}: resolve`));
        assertEq(await p.wait_async(null), true, `${what}: wait_async`);
        assertEq(read(p), expected, `${what}: typed getter`);
        assertEq(p.get_value(), expected, `${what}: get_value`);
        assertEq(p.get_value_type().name, typeName, `${what}: value type`);
    };

    await check(p => p.resolve_int(-2147483648), p => p.get_int(), -2147483648, 'gint', 'int');
    await check(p => p.resolve_uint(4000000000), p => p.get_uint(), 4000000000, 'guint', 'uint');
    await check(p => p.resolve_double(3.25), p => p.get_double(), 3.25, 'gdouble', 'double');
    await check(p => p.resolve_string('héllo wörld'), p => p.get_string(), 'héllo wörld', 'gchararray', 'string');
    await check(p => p.resolve_boolean(true), p => p.get_boolean(), true, 'gboolean', 'true');
    await check(p => p.resolve_boolean(false), p => p.get_boolean(), false, 'gboolean', 'false');
    await check(p => p.resolve_int64(2 ** 40), p => p.get_int64(), 2 ** 40, 'gint64', 'int64');

    const action = new Gio.SimpleAction({name: 'concurry-test'});
    await check(p => p.resolve_object(action), p => p.get_object(), action, 'GSimpleAction', 'object');

    // Generic resolve(): GJS guesses the GValue type from the JS value.
    await check(p => p.resolve(7), p => p.get_int(), 7, 'gint', 'resolve(7)');
    await check(p => p.resolve(2.5), p => p.get_double(), 2.5, 'gdouble', 'resolve(2.5)');
    await check(p => p.resolve('text'), p => p.get_string(), 'text', 'gchararray', 'resolve(string)');
    await check(p => p.resolve(true), p => p.get_boolean(), true, 'gboolean', 'resolve(true)');
    await check(p => p.resolve(action), p => p.get_object(), action, 'GSimpleAction', 'resolve(object)');
    const gv = new GObject.Value();
    gv.init(GObject.TYPE_UINT64);
    gv.set_uint64(12345);
    await check(p => p.resolve(gv), p => p.get_uint64(), 12345, 'guint64', 'resolve(GObject.Value)');

    // The object is kept alive by the future.
    const p = new Concurry.Promise();
    p.resolve_object(new Gio.SimpleAction({name: 'kept'}));
    System.gc();
    assertEq(p.get_object().get_name(), 'kept', 'object held by the future');

    // Variants.
    const v = new Concurry.Promise();
    v.resolve_variant(new GLib.Variant('(si)', ['a', 1]));
    assertEq(await v.wait_async(null), true, 'variant wait');
    assertArrayEq(v.get_variant().deepUnpack(), ['a', 1], 'variant');

    // Resolved futures of each kind.
    assertEq(Concurry.ResolvedFuture.new_double(-0.5).get_double(), -0.5, 'new_double');
    assertEq(Concurry.ResolvedFuture.new_string('s').get_value(), 's', 'new_string');
    assertEq(Concurry.ResolvedFuture.new_boolean(true).get_value(), true, 'new_boolean');
    assertEq(Concurry.ResolvedFuture.new_object(action).get_value(), action, 'new_object');
});

test('ids', async () => {
    const p = new Concurry.Promise();
    const r = Concurry.ResolvedFuture.new_int(1);
    const id = p.get_id();
    assertEq(typeof id, 'string', 'type');
    assert(id.startsWith('promise-'), `promise id ${id}`);
    assertEq(p.get_id(), id, 'stable');
    assert(r.get_id().length > 0 && r.get_id() !== id, 'distinct');
    assert(new Concurry.Promise().get_id() !== id, 'distinct promises');
});

// ---------------------------------------------------------------------------

run();
