// SPDX-License-Identifier: LGPL-2.1-or-later
/* exported _init */
//
// The GJS override of the Concurry namespace.
//
// GJS runs _init() of overrides/<Namespace>.js the first time a program
// imports that namespace (`import Concurry from 'gi://Concurry'` or
// `imports.gi.Concurry`), looking in the `overrides` folder of every entry
// of its search path: $GJS_PATH, $XDG_DATA_DIRS/gjs-1.0 and
// <gjs prefix>/share/gjs-1.0. concurry installs this file as
// $datadir/gjs-1.0/overrides/Concurry.js, so a program needs no setup:
//
// - `await future.wait_async(null)`, `await it.next_async(null)` and a task
//   manager's `wait_async(null)` and `next_completed_async(null)` return JS
//   Promises (Gio._promisify, run here before any user code);
// - `for await (const f of Concurry.as_completed(futures, -1))` and
//   `for (const v of results)` over Executor.map() results;
// - a chain step (and_then, map, catch_error, finally_do, finally_then) may return a JS
//   Promise (or be an async function), which the chain waits for; and_then,
//   map and catch_error may also return a future, which is flattened, and
//   finally_do a future, which the chain waits for as for a Promise;
// - a step or work function (an executor's, a task manager's) that returns
//   `undefined` gives `null`;
// - Executor.map() and TaskManager.map() take an iterable (an array, a
//   generator...) as their input, as well as an input function;
// - plain objects and arrays (returned by those functions or given to
//   Promise.resolve() and ResolvedFuture.new()) are carried as GLib.Variant
//   `a{sv}` and `av`
//   (readable from C with g_variant_lookup(), from Python with unpack(),
//   from JS with recursiveUnpack()); other JS objects, and an array or an
//   object that holds itself, are refused with a TypeError naming the
//   value;
// - Executor.submit_after(), Promise.take_value() and
//   ResolvedFuture.new_take_value() follow the same value rules.
//
// Kept short and free of state: each wrapper converts the value a JS
// function returns, then hands it to the C API.

const {GLib, Gio, GObject} = imports.gi;

let Concurry;

function isThenable(value) {
    return value !== null && (typeof value === 'object' || typeof value === 'function') &&
        typeof value.then === 'function';
}

function isPlainObject(value) {
    if (value === null || typeof value !== 'object')
        return false;
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
}

// GObjects, boxed values (GLib.Variant, GLib.Bytes, GObject.Value...) and
// the like, which GJS stores in a GValue of their own type.
function hasGType(value) {
    const gtype = value.constructor?.$gtype;
    return gtype !== undefined && gtype !== Object.$gtype;
}

function describe(value) {
    if (value === null)
        return 'null';
    if (typeof value === 'object' || typeof value === 'function')
        return value.constructor?.name ?? typeof value;
    return typeof value;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

// A JS value as a GVariant, for plain objects, arrays and what they hold.
// @within: the arrays and objects being converted, to refuse one that
// holds itself.
function toVariant(value, where, within = new Set()) {
    if (value instanceof GLib.Variant)
        return value;
    switch (typeof value) {
    case 'string':
        return new GLib.Variant('s', value);
    case 'boolean':
        return new GLib.Variant('b', value);
    case 'number':
        return Number.isSafeInteger(value)
            ? new GLib.Variant('x', value) : new GLib.Variant('d', value);
    case 'bigint':
        if (value >= INT64_MIN && value <= INT64_MAX)
            return new GLib.Variant('x', value);
        if (value > INT64_MAX && value <= UINT64_MAX)
            return new GLib.Variant('t', value);
        break;
    case 'undefined':
        return new GLib.Variant('mv', null);
    }
    if (value === null)
        return new GLib.Variant('mv', null);
    if ((Array.isArray(value) || isPlainObject(value)) && within.has(value)) {
        throw new TypeError(`Concurry: ${where} holds itself, which cannot be carried ` +
            'in a future');
    }
    if (Array.isArray(value)) {
        within.add(value);
        // Array.from() visits holes too (as undefined): [1, , 3] has 3 items
        const items = Array.from(value, (v, i) => toVariant(v, `${where}[${i}]`, within));
        within.delete(value);
        return new GLib.Variant('av', items);
    }
    if (isPlainObject(value)) {
        const dict = {};
        within.add(value);
        for (const [key, v] of Object.entries(value))
            dict[key] = toVariant(v, `${where}.${key}`, within);
        within.delete(value);
        return new GLib.Variant('a{sv}', dict);
    }
    throw new TypeError(`Concurry: ${where} is a ${describe(value)}, which cannot be ` +
        'carried in a future: use numbers, strings, booleans, null, plain objects, ' +
        'arrays, GLib.Variant or GObject values');
}

// The value a JS function returned, as the C API takes it.
function toValue(value, where) {
    if (value === undefined)
        return null;
    // Plain objects and arrays become variants; other JS objects (no GType
    // of their own behind them: GJS would store them as an opaque JSObject),
    // functions and symbols get the TypeError of toVariant().
    if (Array.isArray(value) || isPlainObject(value) ||
        typeof value === 'function' || typeof value === 'symbol' ||
        (typeof value === 'object' && value !== null && !hasGType(value)))
        return toVariant(value, where);
    return value;
}

// A future that settles with @thenable, through one and_then step: the step
// returns the value (a future is flattened) or throws the rejection, so
// that GJS turns it into a GError exactly as it does for a step that
// throws.
function futureOfThenable(thenable, where) {
    const settled = new Concurry.Promise();
    let outcome = null;
    Promise.resolve(thenable).then(
        value => {
            outcome = {value};
            settled.resolve_boolean(true);
        },
        error => {
            outcome = {error};
            settled.resolve_boolean(true);
        });
    return originals.and_then.call(settled, () => {
        if ('error' in outcome)
            throw outcome.error;
        return toStepResult(outcome.value, where);
    });
}

// Whether @value is a Concurry.Future (an object implementing it).
function isFuture(value) {
    const gtype = value?.constructor?.$gtype;
    return gtype !== undefined && GObject.type_is_a(gtype, Concurry.Future.$gtype);
}

// The result of a chain step. GJS cannot store a GObject.Value as what a
// function returns; a future of it, which the chain flattens, keeps its
// type.
function toStepResult(value, where) {
    if (isThenable(value))
        return futureOfThenable(value, where);
    if (value instanceof GObject.Value)
        return originals.resolvedNew(value);
    return toValue(value, where);
}

// The result of work run by an executor.
function toWorkResult(value, where) {
    if (isThenable(value)) {
        throw new TypeError(`Concurry: ${where} is a Promise; work functions ` +
            'return their value. Continue the future with and_then() instead, ' +
            'whose steps may return Promises');
    }
    if (value instanceof GObject.Value) {
        throw new TypeError(`Concurry: ${where} is a GObject.Value, which GJS cannot ` +
            'hand over as a function\'s result: return the value it holds, or make ' +
            'the typed value in an and_then() step');
    }
    return toValue(value, where);
}

const originals = {};

function wrapChainSteps() {
    const proto = Concurry.Future.prototype;
    for (const name of ['and_then', 'map', 'catch_error', 'finally_do', 'finally_then'])
        originals[name] = proto[name];

    for (const name of ['and_then', 'map', 'catch_error', 'finally_then']) {
        const original = originals[name];
        proto[name] = function (func) {
            return original.call(this, (...args) => toStepResult(func(...args), `the value returned by the ${name}() step`));
        };
    }

    // finally_do() is Promise.prototype.finally(): C's finally_then() step
    // passes the outcome on unchanged once the function ran; when it
    // returns a Promise, the chain first waits for it, and a rejection or
    // an exception replaces the outcome. What it returns is otherwise
    // ignored.
    proto.finally_do = function (func) {
        return originals.finally_then.call(this, f => {
            const result = func(f);
            if (isThenable(result))
                return futureOfThenable(result, 'the value returned by the finally_do() step');
            // a future, which finally_then() waits for, as for a Promise
            return isFuture(result) ? result : null;
        });
    };
}

// A map's function, whose results follow the value rules.
function mapFunction(func) {
    return (item, cancellable) =>
        toWorkResult(func(item, cancellable), 'the value returned by the map() function');
}

// A map's input: an input function as it is, or an iterable (an array, a
// generator...) read one item at a time.
function inputFunction(input) {
    if (typeof input === 'function' || !input?.[Symbol.iterator])
        return input;
    const it = input[Symbol.iterator]();
    return () => {
        const {done, value} = it.next();
        return done ? [false, null] : [true, toWorkResult(value, 'an input item')];
    };
}

function wrapExecutors() {
    const proto = Concurry.Executor.prototype;
    const submit = proto.submit;
    proto.submit = function (func) {
        return submit.call(this, c => toWorkResult(func(c), 'the value returned by the submitted function'));
    };

    const map = proto.map;
    proto.map = function (func, input, ...rest) {
        return map.call(this, mapFunction(func), inputFunction(input), ...rest);
    };

    const submitAfter = proto.submit_after;
    proto.submit_after = function (after, func) {
        return submitAfter.call(this, after,
            c => toWorkResult(func(c), 'the value returned by the submitted function'));
    };

    Concurry.MapResults.prototype[Symbol.iterator] = function* () {
        for (;;) {
            const [ok, value] = this.next();
            if (!ok)
                return;
            yield value;
        }
    };
}

// A task manager's work follows the rules of an executor's.
function wrapTaskManager() {
    const proto = Concurry.TaskManager.prototype;
    const submit = proto.submit;
    proto.submit = function (func) {
        return submit.call(this, c => toWorkResult(func(c), 'the value returned by the submitted function'));
    };

    const submitInput = proto.submit_input;
    proto.submit_input = function (input, func) {
        return submitInput.call(this, toValue(input, 'the input given to submit_input()'),
            (item, c) => toWorkResult(func(item, c), 'the value returned by the submit_input() function'));
    };

    // The number of items may be left out: an array's length, or unknown.
    const map = proto.map;
    proto.map = function (func, input, nItems) {
        if (nItems === undefined)
            nItems = Array.isArray(input) ? input.length : -1;
        return map.call(this, mapFunction(func), inputFunction(input), nItems);
    };
}

// Promise.resolve() and ResolvedFuture.new() take values by the same rules.
function wrapValueTakers() {
    const resolve = Concurry.Promise.prototype.resolve;
    Concurry.Promise.prototype.resolve = function (value) {
        return resolve.call(this, toValue(value, 'the value given to resolve()'));
    };
    const takeValue = Concurry.Promise.prototype.take_value;
    Concurry.Promise.prototype.take_value = function (value) {
        return takeValue.call(this, toValue(value, 'the value given to take_value()'));
    };
    const resolvedNew = Concurry.ResolvedFuture.new;
    originals.resolvedNew = resolvedNew;
    Concurry.ResolvedFuture.new = function (value) {
        return resolvedNew(toValue(value, 'the value given to ResolvedFuture.new()'));
    };
    const newTakeValue = Concurry.ResolvedFuture.new_take_value;
    Concurry.ResolvedFuture.new_take_value = function (value) {
        return newTakeValue(toValue(value, 'the value given to ResolvedFuture.new_take_value()'));
    };
}

function _init() {
    Concurry = this;

    // Before any code of the program can register a class implementing
    // Concurry.Future: GObject.registerClass() copies interface methods.
    Gio._promisify(Concurry.Future.prototype, 'wait_async', 'wait_finish');
    Gio._promisify(Concurry.AsCompleted.prototype, 'next_async', 'next_finish');
    Gio._promisify(Concurry.TaskManager.prototype, 'wait_async', 'wait_finish');
    Gio._promisify(Concurry.TaskManager.prototype, 'next_completed_async',
        'next_completed_finish');

    Concurry.AsCompleted.prototype[Symbol.asyncIterator] = async function* () {
        for (let f; (f = await this.next_async(null)) !== null;)
            yield f;
    };

    wrapChainSteps();
    wrapExecutors();
    wrapTaskManager();
    wrapValueTakers();
}
