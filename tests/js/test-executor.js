// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS tests of the concurry executors: Concurry.MainContextExecutor (the one
// a JS program uses: its work runs on the main thread, from the main loop),
// the refusal of JS functions by the executors that use worker threads, and
// Concurry.Executor.map() with a JS input function.
//
// Run as `gjs -m test-executor.js` (meson does this with GI_TYPELIB_PATH set
// to the build tree). The exit code is the result; each test prints a TAP
// line, and each test is raced against a deadline.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';

import Concurry from 'gi://Concurry?version=1';
import ConcurryTest from 'gi://ConcurryTest?version=1';

import {
    test, run, AssertionError, assert, assertEq, assertArrayEq, assertGError, assertThrowsGError,
    rejectionOf, thrownBy, idles, until, SECOND,
} from './harness.js';

// Before anything else touches the prototype (pitfall P3).
Gio._promisify(Concurry.Future.prototype, 'wait_async', 'wait_finish');

const {FutureState} = Concurry;
const {IOErrorEnum} = Gio;

// ---------------------------------------------------------------------------
// Helpers

// An input function for map() producing 0 … n-1, counting its calls.
function counter(n) {
    const input = () => {
        input.calls++;
        if (input.next >= n)
            return [false, null];
        return [true, input.next++];
    };
    input.calls = 0;
    input.next = 0;
    return input;
}

// Reads map results to the end.
function collect(results) {
    const out = [];
    for (let i = 0; i < 100000; i++) {
        const [ok, value] = results.next();
        if (!ok) {
            assertEq(value, null, 'value at the end');
            return out;
        }
        out.push(value);
    }
    throw new AssertionError('map results did not end');
}

function newExecutor() {
    return Concurry.MainContextExecutor.new(null);
}

// ---------------------------------------------------------------------------
// submit

test('submit to the main-context executor and await the value', async () => {
    const executor = newExecutor();
    assert(executor instanceof Concurry.Executor, 'instanceof Concurry.Executor');
    assert(executor instanceof Concurry.MainContextExecutor, 'instanceof MainContextExecutor');
    let onMain = null;
    const future = executor.submit(cancellable => {
        onMain = ConcurryTest.is_main_thread();
        return 6 * 7;
    });
    assert(future instanceof Concurry.Future, 'the result is a Concurry.Future');
    assertEq(await future.wait_async(null), true, 'wait_async result');
    assertEq(future.get_value(), 42, 'get_value');
    assertEq(future.get_int(), 42, 'get_int');
    assertEq(future.get_state(), FutureState.DONE, 'state');
    assertEq(future.get_error(), null, 'get_error');
    assertEq(onMain, true, 'ran on the main thread');
});

test('work runs from the main loop, never inside submit()', async () => {
    const executor = newExecutor();
    let ran = false;
    const future = executor.submit(() => {
        ran = true;
        return 'ran';
    });
    assertEq(ran, false, 'ran inside submit()');
    assertEq(future.get_state(), FutureState.PENDING, 'state after submit');
    assertEq(future.is_running(), false, 'is_running after submit');
    await until(() => future.is_done());
    assertEq(ran, true, 'ran');
    assertEq(future.get_value(), 'ran', 'value');
});

test('work gets the cancellable of its future and sees itself running', async () => {
    const executor = newExecutor();
    let seen = null;
    let future = null;
    future = executor.submit(cancellable => {
        seen = {
            isCancellable: cancellable instanceof Gio.Cancellable,
            cancelled: cancellable.is_cancelled(),
            state: future.get_state(),
            running: future.is_running(),
        };
        return true;
    });
    await future.wait_async(null);
    assertEq(seen.isCancellable, true, 'instanceof Gio.Cancellable');
    assertEq(seen.cancelled, false, 'is_cancelled');
    assertEq(seen.state, FutureState.RUNNING, 'state while running');
    assertEq(seen.running, true, 'is_running while running');
});

test('values of several types', async () => {
    const executor = newExecutor();
    const action = new Gio.SimpleAction({name: 'concurry-test'});
    const cases = [
        [() => 'text', 'text', GObject.TYPE_STRING],
        [() => -0.5, -0.5, GObject.TYPE_DOUBLE],
        [() => true, true, GObject.TYPE_BOOLEAN],
        [() => 7, 7, GObject.TYPE_INT],
        [() => 2 ** 40, 2 ** 40, GObject.TYPE_DOUBLE],
        [() => 5n, 5, GObject.TYPE_INT64],
        [() => action, action, Gio.SimpleAction.$gtype],
    ];
    const futures = cases.map(([fn]) => executor.submit(fn));
    for (const [i, future] of futures.entries()) {
        // eslint-disable-next-line no-await-in-loop
        await future.wait_async(null);
        assertEq(future.get_value(), cases[i][1], `value ${i}`);
        assertEq(future.get_value_type(), cases[i][2], `value type ${i}`);
    }
    assertEq(futures[6].get_object(), action, 'get_object');

    const nul = executor.submit(() => null);
    await nul.wait_async(null);
    assertEq(nul.get_state(), FutureState.DONE, 'null: state');
    assertEq(nul.get_value(), null, 'null: value');
});

test('a JS exception fails the future with its message', async () => {
    const executor = newExecutor();
    const future = executor.submit(() => {
        throw new TypeError('js boom');
    });
    const e = await rejectionOf(future.wait_async(null), 'wait_async');
    assertEq(e.message, 'js boom', 'message');
    assertEq(future.get_state(), FutureState.FAILED, 'state');
    assertEq(future.is_failed(), true, 'is_failed');
    assertEq(future.get_value(), null, 'value');
    const error = future.get_error();
    assert(error !== null, 'get_error');
    assertEq(error.message, 'js boom', 'get_error message');
    assertEq(thrownBy(() => future.wait(0), 'wait').message, 'js boom', 'wait message');
});

test('a thrown GLib.Error fails the future with that error', async () => {
    const executor = newExecutor();
    const future = executor.submit(() => {
        throw new GLib.Error(Gio.IOErrorEnum, IOErrorEnum.NOT_FOUND, 'no such thing');
    });
    const e = await rejectionOf(future.wait_async(null));
    assertGError(e, Gio.IOErrorEnum, IOErrorEnum.NOT_FOUND);
    assertEq(e.message, 'no such thing', 'message');
    assertEq(future.get_state(), FutureState.FAILED, 'state');
    assertGError(future.get_error(), Gio.IOErrorEnum, IOErrorEnum.NOT_FOUND, 'get_error');

    const cancelled = executor.submit(() => {
        throw new GLib.Error(Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'gave up');
    });
    assertGError(await rejectionOf(cancelled.wait_async(null)), Gio.IOErrorEnum, IOErrorEnum.CANCELLED);
    assertEq(cancelled.get_state(), FutureState.CANCELLED, 'a CANCELLED error cancels');
});

test('a failure does not stop the executor', async () => {
    const executor = newExecutor();
    const bad = executor.submit(() => {
        throw new Error('first');
    });
    const good = executor.submit(() => 'second');
    assertEq((await rejectionOf(bad.wait_async(null))).message, 'first', 'first');
    await good.wait_async(null);
    assertEq(good.get_value(), 'second', 'second');
});

test('thread-pool and task executors refuse JS functions', async () => {
    const pool = Concurry.ThreadPoolExecutor.new(2);
    const task = Concurry.TaskExecutor.new();
    for (const executor of [pool, task]) {
        let ran = false;
        const e = assertThrowsGError(() => executor.submit(() => {
            ran = true;
            return 1;
        }), Concurry.Error, Concurry.Error.WRONG_THREAD, `${executor.constructor.name}.submit`);
        assert(e.message.length > 0, 'the error has a message');
        // eslint-disable-next-line no-await-in-loop
        await idles(3);
        assertEq(ran, false, 'the function ran');
        // The executor is not broken, and nothing is left outstanding.
        assertEq(executor.is_shutdown(), false, 'is_shutdown');
        assertEq(executor.shutdown(true, false), true, 'shutdown');
    }
});

test('many functions in submission order', async () => {
    const executor = newExecutor();
    const log = [];
    const futures = [];
    for (let i = 0; i < 50; i++)
        futures.push(executor.submit(() => log.push(i)));
    await futures[49].wait_async(null);
    assertArrayEq(log, [...Array(50).keys()], 'order');
    assert(futures.every(f => f.is_done()), 'all done');
});

test('a blocking wait on the main thread runs the work', () => {
    const executor = newExecutor();
    const future = executor.submit(() => 'waited');
    assertEq(future.wait(5 * SECOND), true, 'wait');
    assertEq(future.get_value(), 'waited', 'value');
});

test('done callbacks of executor futures run once, after the work', async () => {
    const executor = newExecutor();
    const log = [];
    const future = executor.submit(() => {
        log.push('work');
        return 3;
    });
    future.add_done_callback(f => log.push(`callback ${f.get_value()} ${f === future}`));
    assertArrayEq(log, [], 'before the loop runs');
    await until(() => log.length === 2);
    await idles(3);
    assertArrayEq(log, ['work', 'callback 3 true'], 'log');
});

test('the executor knows its context and workers', () => {
    const executor = newExecutor();
    assertEq(executor.get_max_workers(), 1, 'get_max_workers');
    const context = new GLib.MainContext();
    const own = Concurry.MainContextExecutor.new(context);
    assert(own.get_context() !== null, 'get_context');
    assertEq(Concurry.ThreadPoolExecutor.new(3).get_max_workers(), 3, 'thread pool max workers');
    assertEq(Concurry.ThreadPoolExecutor.new(3).max_workers, 3, 'max_workers property');
});

test('work on a context of its own runs only when that context runs', () => {
    const context = new GLib.MainContext();
    const executor = Concurry.MainContextExecutor.new(context);
    let ran = 0;
    const future = executor.submit(() => ++ran);
    GLib.MainContext.default().iteration(false);
    assertEq(ran, 0, 'ran from the default context');
    for (let i = 0; i < 100 && !future.is_done(); i++)
        context.iteration(false);
    assertEq(ran, 1, 'ran from its own context');
    assertEq(future.get_value(), 1, 'value');
});

// ---------------------------------------------------------------------------
// cancel

test('cancel before it runs: it never runs', async () => {
    const executor = newExecutor();
    const log = [];
    const futures = [0, 1, 2].map(i => executor.submit(() => log.push(i)));
    assertEq(futures[1].cancel(), true, 'cancel');
    assertEq(futures[1].get_state(), FutureState.CANCELLED, 'state');
    assertEq(futures[1].cancel(), true, 'cancel again');
    assertGError(await rejectionOf(futures[1].wait_async(null)), Gio.IOErrorEnum, IOErrorEnum.CANCELLED);
    await futures[2].wait_async(null);
    await idles(3);
    assertArrayEq(log, [0, 2], 'what ran');
    assertEq(futures[1].get_state(), FutureState.CANCELLED, 'still cancelled');
});

test('cancel while it runs trips its cancellable', async () => {
    const executor = newExecutor();
    let future = null;
    let seen = null;
    future = executor.submit(cancellable => {
        let signalled = false;
        cancellable.connect(() => {
            signalled = true;
        });
        const before = cancellable.is_cancelled();
        const returned = future.cancel();
        seen = {before, returned, signalled, after: cancellable.is_cancelled()};
        return 'ignored';
    });
    assertGError(await rejectionOf(future.wait_async(null)), Gio.IOErrorEnum, IOErrorEnum.CANCELLED);
    assertEq(JSON.stringify(seen), JSON.stringify({before: false, returned: true, signalled: true, after: true}), 'seen');
    assertEq(future.get_state(), FutureState.CANCELLED, 'state');
    assertEq(future.get_value(), null, 'the value returned after the cancel is dropped');
});

test('cancel of a finished future returns false', async () => {
    const executor = newExecutor();
    const future = executor.submit(() => 1);
    await future.wait_async(null);
    assertEq(future.cancel(), false, 'cancel');
    assertEq(future.get_state(), FutureState.DONE, 'state');
});

// ---------------------------------------------------------------------------
// shutdown

test('shutdown without wait: queued work still runs, new work is refused', async () => {
    const executor = newExecutor();
    const log = [];
    const futures = [0, 1, 2].map(i => executor.submit(() => log.push(i)));
    assertEq(executor.shutdown(false, false), true, 'shutdown');
    assertEq(executor.is_shutdown(), true, 'is_shutdown');
    assertArrayEq(log, [], 'ran inside shutdown(wait=false)');
    assertThrowsGError(() => executor.submit(() => 1), Concurry.Error, Concurry.Error.SHUT_DOWN, 'submit');
    await futures[2].wait_async(null);
    assertArrayEq(log, [0, 1, 2], 'queued work');
    // Shutting down again is harmless.
    assertEq(executor.shutdown(false, false), true, 'shutdown again');
    assertEq(executor.shutdown(true, true), true, 'shutdown with wait again');
});

test('shutdown with wait runs the queued work before it returns', () => {
    const executor = newExecutor();
    const log = [];
    const futures = [0, 1, 2, 3].map(i => executor.submit(() => log.push(i)));
    assertEq(executor.shutdown(true, false), true, 'shutdown');
    assertArrayEq(log, [0, 1, 2, 3], 'ran');
    assert(futures.every(f => f.get_state() === FutureState.DONE), 'all done');
});

test('shutdown with cancel_futures cancels the queued work', async () => {
    const executor = newExecutor();
    const log = [];
    const futures = [0, 1, 2].map(i => executor.submit(() => log.push(i)));
    assertEq(executor.shutdown(true, true), true, 'shutdown');
    await idles(3);
    assertArrayEq(log, [], 'ran');
    for (const f of futures) {
        assertEq(f.get_state(), FutureState.CANCELLED, 'state');
        // eslint-disable-next-line no-await-in-loop
        assertGError(await rejectionOf(f.wait_async(null)), Gio.IOErrorEnum, IOErrorEnum.CANCELLED);
    }
});

test('shutdown from running work does not interrupt it', async () => {
    const executor = newExecutor();
    const log = [];
    const head = executor.submit(cancellable => {
        log.push('head');
        executor.shutdown(false, true);
        return cancellable.is_cancelled();
    });
    const rest = [0, 1].map(i => executor.submit(() => log.push(i)));
    await head.wait_async(null);
    await idles(3);
    assertEq(head.get_value(), false, 'the running work was not cancelled');
    assertArrayEq(log, ['head'], 'ran');
    assert(rest.every(f => f.get_state() === FutureState.CANCELLED), 'the rest is cancelled');
});

test('shutdown with wait from inside its own work throws WRONG_THREAD', async () => {
    const executor = newExecutor();
    let caught = null;
    const future = executor.submit(() => {
        try {
            executor.shutdown(true, false);
        } catch (e) {
            caught = e;
        }
        return 'done';
    });
    const queued = executor.submit(() => 'queued');
    await future.wait_async(null);
    assertGError(caught, Concurry.Error, Concurry.Error.WRONG_THREAD, 'shutdown(wait) inside work');
    assertEq(future.get_value(), 'done', 'the work finished');
    assertEq(executor.is_shutdown(), true, 'shut down anyway');
    await queued.wait_async(null);
    assertEq(queued.get_value(), 'queued', 'work queued before the shutdown still ran');
});

// ---------------------------------------------------------------------------
// map

test('map gives results in input order, reading the input lazily', () => {
    const executor = newExecutor();
    const input = counter(10);
    const fnCalls = [];
    const results = executor.map((item, cancellable) => {
        fnCalls.push(item);
        assert(cancellable instanceof Gio.Cancellable, 'cancellable');
        return item * item;
    }, input, -1, 1, 3);
    assert(results instanceof Concurry.MapResults, 'MapResults');
    // map() read (and submitted) max_in_flight items; none ran yet.
    assertEq(input.next, 3, 'items read by map()');
    assertArrayEq(fnCalls, [], 'ran inside map()');

    const out = [];
    for (;;) {
        const [ok, value] = results.next();
        if (!ok)
            break;
        out.push(value);
        assert(input.next <= out.length + 3, `read ${input.next} items for ${out.length} results`);
    }
    assertArrayEq(out, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81], 'results');
    assertArrayEq(fnCalls, [...Array(10).keys()], 'calls');
    assertArrayEq(results.next(), [false, null], 'exhausted');
});

test('map with chunks gives the same results', () => {
    const executor = newExecutor();
    for (const chunksize of [1, 2, 3, 7, 20]) {
        const results = executor.map(item => `${item}`, counter(10), -1, chunksize, 0);
        assertArrayEq(collect(results), [...Array(10).keys()].map(String), `chunksize ${chunksize}`);
    }
});

test('map of an empty input', () => {
    const executor = newExecutor();
    let calls = 0;
    const results = executor.map(item => ++calls, counter(0), -1, 1, 0);
    assertArrayEq(results.next(), [false, null], 'next');
    assertArrayEq(results.next(), [false, null], 'next again');
    assertEq(calls, 0, 'calls');
});

test('map reports a failure at its position, then is exhausted', async () => {
    const executor = newExecutor();
    const ran = [];
    const results = executor.map(item => {
        ran.push(item);
        if (item === 3)
            throw new RangeError('bad item 3');
        return item;
    }, counter(10), -1, 1, 2);
    assertArrayEq(results.next(), [true, 0], '0');
    assertArrayEq(results.next(), [true, 1], '1');
    assertArrayEq(results.next(), [true, 2], '2');
    const e = thrownBy(() => results.next(), 'next');
    assertEq(e.message, 'bad item 3', 'message');
    assertArrayEq(results.next(), [false, null], 'exhausted');
    await idles(5);
    // What was still queued was cancelled.
    assert(ran.length <= 3 + 1 + 2, `ran ${ran}`);
    assertEq(ran[3], 3, 'ran up to the failure');
    assert(ran.every((x, i) => x === i), `ran in order: ${ran}`);
});

test('map reports a GLib.Error of the map function', () => {
    const executor = newExecutor();
    const results = executor.map(item => {
        if (item === 1)
            throw new GLib.Error(Gio.IOErrorEnum, IOErrorEnum.INVALID_DATA, 'invalid');
        return item;
    }, counter(4), -1, 2, 0);
    assertArrayEq(results.next(), [true, 0], '0');
    assertThrowsGError(() => results.next(), Gio.IOErrorEnum, IOErrorEnum.INVALID_DATA, 'next');
    assertArrayEq(results.next(), [false, null], 'exhausted');
});

test('closing the map results cancels what has not run', async () => {
    const executor = newExecutor();
    const ran = [];
    const results = executor.map(item => ran.push(item), counter(10), -1, 1, 4);
    results.close();
    assertArrayEq(results.next(), [false, null], 'next after close');
    await idles(5);
    assertArrayEq(ran, [], 'ran');
    results.close();
});

test('closing the map results after some results', async () => {
    const executor = newExecutor();
    const ran = [];
    const input = counter(10);
    const results = executor.map(item => {
        ran.push(item);
        return item;
    }, input, -1, 1, 2);
    assertArrayEq(results.next(), [true, 0], '0');
    results.close();
    await idles(5);
    assertArrayEq(results.next(), [false, null], 'exhausted');
    // Only what next() had to run for item 0 ran (one main-context turn may
    // have run the items submitted before it returned).
    assert(ran.length <= 3, `ran ${ran}`);
    assertEq(input.next, 3, 'no more input read after close');
});

test('map with a deadline in the past times out', () => {
    const executor = newExecutor();
    const results = executor.map(item => item, counter(5), 0, 1, 0);
    assertThrowsGError(() => results.next(), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'next');
    assertArrayEq(results.next(), [false, null], 'exhausted');
});

test('map with a deadline that does not pass', () => {
    const executor = newExecutor();
    const results = executor.map(item => item + 1, counter(5), 5 * SECOND, 1, 0);
    assertArrayEq(collect(results), [1, 2, 3, 4, 5], 'results');
});

test('map on a shut-down executor throws SHUT_DOWN', () => {
    const executor = newExecutor();
    executor.shutdown(true, false);
    const input = counter(5);
    assertThrowsGError(() => executor.map(item => item, input, -1, 1, 0),
        Concurry.Error, Concurry.Error.SHUT_DOWN, 'map');
    assertEq(input.calls, 0, 'input read');
});

test('map with a deadline in the past runs none of the items', async () => {
        const executor = newExecutor();
        const ran = [];
        const results = executor.map(item => ran.push(item), counter(5), 0, 1, 0);
        assertThrowsGError(() => results.next(), Gio.IOErrorEnum, IOErrorEnum.TIMED_OUT, 'next');
        await idles(5);
        assertArrayEq(ran, [], 'ran after the timeout');
    });

test('map with a JS function on a thread pool is refused', async () => {
        // In a child process: the bug makes GJS log criticals (fatal here).
        const gjs = GLib.find_program_in_path('gjs');
        assert(gjs !== null, 'gjs in PATH');
        const script = `
            import Concurry from 'gi://Concurry?version=1';
            let i = 0;
            try {
                const r = Concurry.ThreadPoolExecutor.new(2).map(
                    x => x, () => i < 3 ? [true, i++] : [false, null], -1, 1, 0);
                while (r.next()[0]);
                print('not refused');
            } catch (e) {
                print(e.matches?.(Concurry.Error, Concurry.Error.WRONG_THREAD) ? 'refused' : \`other: \${e}\`);
            }`;
        const launcher = new Gio.SubprocessLauncher({
            flags: Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE,
        });
        launcher.unsetenv('G_DEBUG');
        const [file, stream] = Gio.File.new_tmp('concurry-test-XXXXXX.js');
        stream.get_output_stream().write_all(new TextEncoder().encode(script), null);
        stream.close(null);
        const child = launcher.spawnv([gjs, '-m', file.get_path()]);
        const [stdout, stderr] = await new Promise((resolve, reject) => {
            child.communicate_utf8_async(null, null, (proc, res) => {
                try {
                    const [, out, err] = proc.communicate_utf8_finish(res);
                    resolve([out, err]);
                } catch (e) {
                    reject(e);
                }
            });
        });
        file.delete(null);
        assert(!stderr.includes('different thread'), `child stderr: ${stderr}`);
        assertEq(stdout.trim(), 'refused', 'child output');
    });

// ---------------------------------------------------------------------------

run();
