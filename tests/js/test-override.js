// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS tests of the Concurry override (bindings/gjs/overrides/Concurry.js),
// which GJS loads by itself from the `overrides` folder of its search path
// (GJS_PATH here; $datadir/gjs-1.0 once installed). This script calls no
// Gio._promisify(): awaiting must work as imported.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';

import Concurry from 'gi://Concurry?version=1';

import {test, run, assert, assertEq, assertArrayEq, rejectionOf, laterIdle, until} from './harness.js';

const {FutureState} = Concurry;

function later(fn) {
    return new Promise(resolve => laterIdle(() => resolve(fn())));
}

function valueTypeName(future) {
    const gtype = future.get_value_type();
    return gtype ? GObject.type_name(gtype) : null;
}

// ---------------------------------------------------------------------------
// Awaiting without setup

test('wait_async() and next_async() return Promises without a _promisify() call', async () => {
    const p = new Concurry.Promise();
    laterIdle(() => p.resolve_int(7));
    assertEq(await p.wait_async(null), true, 'awaited wait_async()');
    assertEq(p.get_int(), 7, 'value');

    const it = Concurry.as_completed([Concurry.ResolvedFuture.new_int(1)], -1);
    const f = await it.next_async(null);
    assertEq(f.get_int(), 1, 'awaited next_async()');
    assertEq(await it.next_async(null), null, 'the end');
});

test('the callback form of wait_async() still works', async () => {
    const f = Concurry.ResolvedFuture.new_int(3);
    const ok = await new Promise((resolve, reject) => {
        f.wait_async(null, (source, result) => {
            try {
                resolve(source.wait_finish(result));
            } catch (e) {
                reject(e);
            }
        });
    });
    assertEq(ok, true, 'wait_finish()');
});

test('a failed future rejects the awaited Promise with its GLib.Error', async () => {
    const f = Concurry.ResolvedFuture.new_error_literal(Gio.io_error_quark(),
        Gio.IOErrorEnum.NOT_FOUND, 'nothing here');
    const e = await rejectionOf(f.wait_async(null));
    assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND), `got ${e}`);
});

test('for await runs over as_completed() in completion order', async () => {
    const slow = new Concurry.Promise();
    const fast = Concurry.ResolvedFuture.new_string('fast');
    laterIdle(() => slow.resolve_string('slow'));
    const seen = [];
    for await (const f of Concurry.as_completed([slow, fast], -1))
        seen.push(f.get_string());
    assertArrayEq(seen, ['fast', 'slow'], 'order');
});

// ---------------------------------------------------------------------------
// Chain steps

test('a chain step may return a JS Promise, and the chain waits for it', async () => {
    const start = Concurry.ResolvedFuture.new_int(2);
    const end = start
        .and_then(f => later(() => f.get_int() + 1))
        .map(async v => {
            await later(() => null);
            return v * 10;
        });
    await end.wait_async(null);
    assertEq(end.get_value(), 30, 'value');
});

test('a step whose Promise rejects fails the chain with the same kind of error', async () => {
    const end = Concurry.ResolvedFuture.new_int(1).and_then(async () => {
        await later(() => null);
        throw new RangeError('too far');
    });
    const e = await rejectionOf(end.wait_async(null));
    assert(e instanceof RangeError, `a RangeError, got ${e}`);
    assertEq(e.message, 'too far', 'message');

    const gerror = Concurry.ResolvedFuture.new_int(1).and_then(() =>
        Promise.reject(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.BUSY, 'busy')));
    const e2 = await rejectionOf(gerror.wait_async(null));
    assert(e2.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.BUSY), `IOErrorEnum.BUSY, got ${e2}`);
});

test('a step may return a future, also through a Promise: it is flattened', async () => {
    const direct = Concurry.ResolvedFuture.new_int(1).and_then(() =>
        Concurry.ResolvedFuture.new_string('direct'));
    const viaPromise = Concurry.ResolvedFuture.new_int(1).map(async () =>
        Concurry.ResolvedFuture.new_string('via a promise'));
    await direct.wait_async(null);
    await viaPromise.wait_async(null);
    assertEq(direct.get_string(), 'direct', 'returned future');
    assertEq(viaPromise.get_string(), 'via a promise', 'future from a Promise');
});

test('catch_error() may recover with a Promise', async () => {
    const failed = Concurry.ResolvedFuture.new_error_literal(Gio.io_error_quark(),
        Gio.IOErrorEnum.FAILED, 'broken');
    const recovered = failed.catch_error(async f => `recovered from ${f.get_error().message}`);
    await recovered.wait_async(null);
    assertEq(recovered.get_string(), 'recovered from broken', 'value');
});

test('finally_do() waits for a returned Promise and passes the outcome on', async () => {
    const events = [];
    const end = Concurry.ResolvedFuture.new_int(5).finally_do(async () => {
        events.push('cleanup started');
        await later(() => null);
        events.push('cleanup done');
    });
    await end.wait_async(null);
    events.push('awaited');
    assertArrayEq(events, ['cleanup started', 'cleanup done', 'awaited'], 'order');
    assertEq(end.get_int(), 5, 'the value passes through');

    const failed = Concurry.ResolvedFuture.new_error_literal(Gio.io_error_quark(),
        Gio.IOErrorEnum.FAILED, 'broken').finally_do(async () => {});
    const e = await rejectionOf(failed.wait_async(null));
    assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED), `the error passes through, got ${e}`);

    const rejected = Concurry.ResolvedFuture.new_int(5).finally_do(() =>
        Promise.reject(new TypeError('cleanup failed')));
    const e2 = await rejectionOf(rejected.wait_async(null));
    assert(e2 instanceof TypeError && e2.message === 'cleanup failed', `got ${e2}`);

    const plain = Concurry.ResolvedFuture.new_int(5).finally_do(() => 'ignored');
    await plain.wait_async(null);
    assertEq(plain.get_int(), 5, 'a plain return value is ignored');
});

test('finally_do() that throws fails the chain with that error, as Promise.finally does', async () => {
    let ran = 0;
    const end = Concurry.ResolvedFuture.new_int(5).finally_do(() => {
        ran++;
        throw new RangeError('cleanup threw');
    });
    const e = await rejectionOf(end.wait_async(null));
    assertEq(ran, 1, 'ran once');
    assert(e instanceof RangeError && e.message === 'cleanup threw', `got ${e}`);
});

test('finally_then() waits for a returned future and keeps the outcome', async () => {
    const cleanup = new Concurry.Promise();
    let ran = 0;
    const end = Concurry.ResolvedFuture.new_int(5).finally_then(f => {
        ran++;
        assertEq(f.get_int(), 5, 'the step gets the future');
        return cleanup;
    });
    await until(() => ran === 1);
    assertEq(end.is_done(), false, 'waits for the future it returned');
    cleanup.resolve_int(1);
    await end.wait_async(null);
    assertEq(end.get_int(), 5, 'the value passes through');
});

// ---------------------------------------------------------------------------
// Values

test('undefined is a valid result: null', async () => {
    const start = Concurry.ResolvedFuture.new_int(1);
    const fromStep = start.map(() => undefined);
    const fromBareStep = start.and_then(() => {});
    const executor = Concurry.MainContextExecutor.new(null);
    const fromWork = executor.submit(() => {});
    for (const f of [fromStep, fromBareStep, fromWork]) {
        // eslint-disable-next-line no-await-in-loop
        await f.wait_async(null);
        assertEq(f.get_state(), FutureState.DONE, 'state');
        assertEq(f.get_value(), null, 'value');
        assertEq(valueTypeName(f), 'gpointer', 'the value type of null');
    }
    const p = new Concurry.Promise();
    p.resolve(undefined);
    assertEq(p.get_value(), null, 'resolve(undefined)');
    executor.shutdown(true, false);
});

test('plain objects and arrays are carried as a{sv} and av GVariants', async () => {
    const data = {name: 'x', count: 3, ratio: 0.5, ok: true, none: null, list: [1, 'two'],
        nested: {deep: [{a: 1}]}};
    const f = Concurry.ResolvedFuture.new_int(0).map(() => data);
    await f.wait_async(null);
    assertEq(valueTypeName(f), 'GVariant', 'value type');
    const variant = f.get_variant();              // read by C: concurry_future_get_variant()
    assertEq(variant.get_type_string(), 'a{sv}', 'type string');
    assertEq(variant.lookup_value('count', null).get_int64(), 3, 'an integer is an int64');
    assertEq(variant.lookup_value('ratio', null).get_double(), 0.5, 'a fraction is a double');
    assertEq(variant.lookup_value('name', null).get_string()[0], 'x', 'a string');
    assertEq(JSON.stringify(variant.recursiveUnpack()), JSON.stringify(data), 'round trip');

    const list = new Concurry.Promise();
    list.resolve([1, 2, 3]);
    assertEq(list.get_variant().get_type_string(), 'av', 'an array');
    assertArrayEq(list.get_variant().recursiveUnpack(), [1, 2, 3], 'array round trip');

    const made = Concurry.ResolvedFuture.new({a: 1});
    assertEq(made.get_variant().get_type_string(), 'a{sv}', 'ResolvedFuture.new()');
});

test('other JS objects are refused with a TypeError that names them', async () => {
    const f = Concurry.ResolvedFuture.new_int(0).map(() => ({when: new Date()}));
    const e = await rejectionOf(f.wait_async(null));
    assert(e instanceof TypeError, `a TypeError, got ${e}`);
    assert(e.message.includes('Date'), `names the type: ${e.message}`);
    assert(e.message.includes('.when'), `names the place: ${e.message}`);

    let thrown = null;
    try {
        new Concurry.Promise().resolve(new Map());
    } catch (err) {
        thrown = err;
    }
    assert(thrown instanceof TypeError && thrown.message.includes('Map'), `got ${thrown}`);
});

test('GObjects and GVariants keep their own type', async () => {
    const cancellable = new Gio.Cancellable();
    const obj = Concurry.ResolvedFuture.new_int(0).map(() => cancellable);
    const variant = Concurry.ResolvedFuture.new_int(0).map(() => new GLib.Variant('u', 7));
    await obj.wait_async(null);
    await variant.wait_async(null);
    assertEq(obj.get_object(), cancellable, 'object');
    assertEq(variant.get_variant().get_uint32(), 7, 'variant');
});

test('a GObject.Value keeps its type when given, or returned by a step', async () => {
    const value = new GObject.Value();
    value.init(GObject.TYPE_INT64);
    value.set_int64(9);
    const promise = new Concurry.Promise();
    promise.resolve(value);
    const step = Concurry.ResolvedFuture.new_int(0).map(() => value);
    await step.wait_async(null);
    for (const f of [promise, Concurry.ResolvedFuture.new(value), step]) {
        assertEq(valueTypeName(f), 'gint64');
        assertEq(f.get_int64(), 9);
    }
});

// ---------------------------------------------------------------------------
// Executors

test('work returning a GObject.Value fails with a TypeError saying what to return', async () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const value = new GObject.Value();
    value.init(GObject.TYPE_INT64);
    value.set_int64(9);
    const f = executor.submit(() => value);
    const e = await rejectionOf(f.wait_async(null));
    assert(e instanceof TypeError && e.message.includes('GObject.Value'), `got ${e}`);
    executor.shutdown(true, false);
});

test('work returning a Promise fails with a TypeError pointing to and_then()', async () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const f = executor.submit(async () => 1);
    const e = await rejectionOf(f.wait_async(null));
    assert(e instanceof TypeError && e.message.includes('and_then'), `got ${e}`);
    executor.shutdown(true, false);
});

test('Executor.map() takes an iterable and its results are iterable', () => {
    const executor = Concurry.MainContextExecutor.new(null);
    function* numbers() {
        yield* [1, 2, 3];
    }
    const results = executor.map(x => x * 2, numbers(), -1, 1, 0);
    assertArrayEq([...results], [2, 4, 6], 'results in input order');
    executor.shutdown(true, false);
});

test('finally_do() waits for a future its function returns, whose failure replaces the outcome', async () => {
    const cleanup = new Concurry.Promise();
    let cleanedUp = false;
    const end = Concurry.ResolvedFuture.new(1).finally_do(() => cleanup);
    laterIdle(() => {
        cleanedUp = true;
        cleanup.reject_literal(Gio.io_error_quark(), Gio.IOErrorEnum.FAILED, 'clean-up failed');
    });
    const e = await rejectionOf(end.wait_async(null));
    assert(cleanedUp, 'the chain waited for the returned future');
    assert(e instanceof GLib.Error && e.message === 'clean-up failed', `got ${e}`);
});

test('an async chain step may return a GObject.Value, as a plain step may', async () => {
    const value = new GObject.Value();
    value.init(GObject.TYPE_UINT);
    value.set_uint(7);
    const end = Concurry.ResolvedFuture.new(1).and_then(async () => value);
    await end.wait_async(null);
    assertEq(end.get_value(), 7);
    assertEq(end.get_value_type(), GObject.TYPE_UINT, 'its type is kept');
});

test('submit_after(), take_value() and new_take_value() follow the value rules', async () => {
    const executor = Concurry.MainContextExecutor.new(null);
    const dep = Concurry.ResolvedFuture.new(1);
    const nothing = executor.submit_after([dep], () => undefined);
    const plain = executor.submit_after([dep], () => ({a: 1}));
    const date = executor.submit_after([dep], () => new Date());
    await nothing.wait_async(null);
    assertEq(nothing.get_value(), null);
    await plain.wait_async(null);
    assertEq(plain.get_value().recursiveUnpack().a, 1);
    const e = await rejectionOf(date.wait_async(null));
    assert(e instanceof TypeError && e.message.includes('Date'), `got ${e}`);

    const p = new Concurry.Promise();
    p.take_value([1, 2]);
    assertArrayEq(p.get_value().recursiveUnpack(), [1, 2]);
    assertArrayEq(Concurry.ResolvedFuture.new_take_value({b: 2}).get_value().recursiveUnpack().b, 2);
    executor.shutdown(true, false);
});

test('arrays with holes and big integers are carried; a value that holds itself is refused', () => {
    // eslint-disable-next-line no-sparse-arrays
    const holes = Concurry.ResolvedFuture.new([1, , 3]).get_value();
    assertEq(holes.n_children(), 3, 'a hole is an item');
    const big = Concurry.ResolvedFuture.new({n: 2n ** 62n}).get_value().lookup_value('n', null);
    assertEq(big.print(false), String(2n ** 62n), 'an int64, exactly');
    const loop = {};
    loop.self = loop;
    let error = null;
    try {
        Concurry.ResolvedFuture.new(loop);
    } catch (e) {
        error = e;
    }
    assert(error instanceof TypeError && error.message.includes('holds itself'), `got ${error}`);
});

test('a step that returns its own chain fails it instead of waiting for ever', async () => {
    const start = Concurry.ResolvedFuture.new(1);
    // eslint-disable-next-line prefer-const
    let end;
    end = start.and_then(() => end);
    const e = await rejectionOf(end.wait_async(null));
    assert(e instanceof GLib.Error && e.matches(Concurry.Error, Concurry.Error.INVALID_STATE),
        `got ${e}`);
});

run();
