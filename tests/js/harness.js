// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The harness shared by the GJS tests in this folder (test-*.js), and the
// helpers they have in common. Not a test itself: meson runs only the
// test-*.js scripts, which import this module by a relative path:
//
//     import {test, knownBug, run, assert, assertEq} from './harness.js';
//
//     test('a name', async () => { ... });          // 3 s deadline
//     test('a slow one', async () => { ... }, 10000);
//     knownBug('why', 'a name', () => { ... });
//     run();                                         // last statement
//
// Tests are named async (or plain) functions, run one after the other from
// the main loop, each raced against a deadline so that a hang fails the test
// instead of blocking the run. Each prints a TAP line. A test registered with
// knownBug() documents a library bug: it is reported as `# TODO` while it
// fails, and fails the run once it passes, so that the marker goes away with
// the fix. run() exits the process: 0 when every test passed, 1 otherwise.
//
// Loading this module touches no prototype, so the Gio._promisify() calls a
// test script makes right after its imports still come before anything else
// uses them (pitfall P3).

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

import Concurry from 'gi://Concurry?version=1';

export const MS = 1000;          // microseconds
export const SECOND = 1000 * MS;

// ---------------------------------------------------------------------------
// Registering tests

const tests = [];

// @timeoutMs: the test's deadline; without it, the one given to run().
export function test(name, fn, timeoutMs = null) {
    tests.push({name, fn, timeoutMs, knownBug: null});
}

export function knownBug(reason, name, fn, timeoutMs = null) {
    tests.push({name, fn, timeoutMs, knownBug: reason});
}

// ---------------------------------------------------------------------------
// Assertions

export class AssertionError extends Error {
    constructor(message) {
        super(message);
        this.name = 'AssertionError';
    }
}

// A value for a message.
export function fmt(v) {
    if (typeof v === 'string')
        return JSON.stringify(v);
    if (typeof v === 'bigint')
        return `${v}n`;
    try {
        return String(v);
    } catch {
        return Object.prototype.toString.call(v);
    }
}

export function assert(cond, what = 'assertion failed') {
    if (!cond)
        throw new AssertionError(what);
}

export function assertEq(actual, expected, what = '') {
    if (!Object.is(actual, expected))
        throw new AssertionError(`${what ? `${what}: ` : ''}expected ${fmt(expected)}, got ${fmt(actual)}`);
}

// Compares the JSON of both.
export function assertArrayEq(actual, expected, what = '') {
    assertEq(JSON.stringify(actual), JSON.stringify(expected), what);
}

// Same instances, same order.
export function assertSame(actual, expected, what = '') {
    assert(Array.isArray(actual), `${what}: expected an array, got ${fmt(actual)}`);
    assertEq(actual.length, expected.length, `${what}: length`);
    for (let i = 0; i < expected.length; i++)
        assert(actual[i] === expected[i], `${what}: item ${i} is not the instance given`);
}

export function assertGError(e, domain, code, what = 'error') {
    assert(e instanceof GLib.Error, `${what}: expected a GLib.Error, got ${fmt(e)}${e?.stack ? `\n${e.stack}` : ''}`);
    assert(e.matches(domain, code),
        `${what}: expected domain ${fmt(domain)} code ${code}, got ${GLib.quark_to_string(e.domain)} ${e.code}: ${e.message}`);
}

// Awaits @promise and returns the error it rejects with; fails if it resolves.
export async function rejectionOf(promise, what = 'promise') {
    let value;
    try {
        value = await promise;
    } catch (e) {
        return e;
    }
    throw new AssertionError(`${what}: expected a rejection, resolved with ${fmt(value)}`);
}

// Calls @fn and returns what it throws; fails if it returns.
export function thrownBy(fn, what = 'call') {
    try {
        fn();
    } catch (e) {
        return e;
    }
    throw new AssertionError(`${what}: expected to throw`);
}

export function assertThrowsGError(fn, domain, code, what = 'call') {
    const e = thrownBy(fn, what);
    assertGError(e, domain, code, what);
    return e;
}

// ---------------------------------------------------------------------------
// The main loop

// One turn of the main loop, at default-idle priority: lower than the
// sources of concurry (callback delivery, executors, chain steps), so
// whatever was ready has been dispatched when it resolves.
export function idle() {
    return new Promise(resolve => {
        GLib.idle_add(GLib.PRIORITY_DEFAULT_IDLE, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
}

export async function idles(n) {
    for (let i = 0; i < n; i++)
        await idle(); // eslint-disable-line no-await-in-loop
}

// Resolves once cond() is true, checking on every main-loop turn. The test's
// deadline bounds the wait.
export async function until(cond) {
    while (!cond())
        await idle(); // eslint-disable-line no-await-in-loop
}

export function laterMs(ms, fn) {
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        fn();
        return GLib.SOURCE_REMOVE;
    });
}

export function laterIdle(fn) {
    GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
        fn();
        return GLib.SOURCE_REMOVE;
    });
}

export function now() {
    return GLib.get_monotonic_time();
}

// ---------------------------------------------------------------------------
// Futures

export function promise() {
    return new Concurry.Promise();
}

export function resolved(v) {
    return Concurry.ResolvedFuture.new_int(v);
}

export function rejected(message, code = Gio.IOErrorEnum.FAILED) {
    const p = promise();
    p.reject_literal(Gio.io_error_quark(), code, message);
    return p;
}

// Awaits @future and returns its error (it must fail or be cancelled).
export function failureOf(future, what = 'future') {
    return rejectionOf(future.wait_async(null), what);
}

// Looks at the errors of @futures, so that none is dropped unobserved.
export function observe(...futures) {
    for (const f of futures)
        f.get_error();
}

// A barrier for done callbacks: callbacks are delivered on this context in
// the order they were added, so once a callback added *now* on an already
// done future has run, every callback queued before it on this context has
// run as well (and any duplicate delivery would have shown up).
export function flushCallbacks() {
    return new Promise(resolve => {
        const f = Concurry.ResolvedFuture.new_boolean(true);
        f.add_done_callback(() => resolve());
    });
}

// ---------------------------------------------------------------------------
// Running

async function runAll(defaultTimeoutMs) {
    let failed = 0;
    print(`1..${tests.length}`);
    for (const [i, t] of tests.entries()) {
        const timeoutMs = t.timeoutMs ?? defaultTimeoutMs;
        let timer = 0;
        const deadline = new Promise((_, reject) => {
            timer = GLib.timeout_add(GLib.PRIORITY_DEFAULT, timeoutMs, () => {
                timer = 0;
                reject(new AssertionError(`timed out after ${timeoutMs} ms`));
                return GLib.SOURCE_REMOVE;
            });
        });
        let error = null;
        try {
            await Promise.race([t.fn(), deadline]); // eslint-disable-line no-await-in-loop
        } catch (e) {
            error = e;
        } finally {
            if (timer)
                GLib.source_remove(timer);
        }
        let line;
        if (t.knownBug !== null) {
            if (error === null) {
                failed++;
                line = `not ok ${i + 1} - ${t.name} # passes now: remove its known-bug marker (${t.knownBug})`;
            } else {
                line = `not ok ${i + 1} - ${t.name} # TODO known bug: ${t.knownBug}`;
            }
        } else if (error === null) {
            line = `ok ${i + 1} - ${t.name}`;
        } else {
            failed++;
            line = `not ok ${i + 1} - ${t.name}`;
        }
        print(line);
        if (error !== null) {
            const detail = error instanceof GLib.Error
                ? `GLib.Error ${GLib.quark_to_string(error.domain)} ${error.code}: ${error.message}`
                : `${error}\n${error?.stack ?? ''}`;
            for (const l of detail.trimEnd().split('\n'))
                print(`# ${l}`);
        }
    }
    return failed;
}

// Runs the tests registered so far on a main loop, then exits the process:
// status 0 if all passed, 1 otherwise. @timeoutMs is the deadline of a test
// registered without one. Does not return.
export function run({timeoutMs = 60000} = {}) {
    const loop = new GLib.MainLoop(null, false);
    let status = 0;
    runAll(timeoutMs).then(failed => {
        status = failed > 0 ? 1 : 0;
        if (failed > 0)
            print(`# ${failed} of ${tests.length} tests failed`);
    }, e => {
        print(`Bail out! ${e}\n${e?.stack ?? ''}`);
        status = 1;
    }).finally(() => loop.quit());
    loop.run();

    // Drop everything the tests left behind before exiting, so that a future
    // finalized with an unobserved error shows up (as a fatal warning) here.
    System.gc();
    GLib.MainContext.default().iteration(false);
    System.exit(status);
}
