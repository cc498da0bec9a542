// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS tests of Concurry.TaskManager with JavaScript closures: over a
// Concurry.MainContextExecutor (JS work runs on the main thread, from the
// main loop), its progress properties bound to another object, its list
// model, the async waits, the error policies, and the refusal of JS work by
// a thread pool.
//
// Run as `gjs -m test-task-manager.js`; the exit code is the result.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';

import Concurry from 'gi://Concurry?version=1';

import {
    test, run, assert, assertEq, assertGError, assertThrowsGError, rejectionOf, until,
} from './harness.js';

// No Gio._promisify() here: the override makes the manager's wait_async()
// and next_completed_async(), and the futures' wait_async(), return
// Promises.

const {ErrorPolicy, FutureState} = Concurry;
const {IOErrorEnum} = Gio;

// A progress bar stand-in: any object with a double "fraction".
const Bar = GObject.registerClass({
    Properties: {
        fraction: GObject.ParamSpec.double('fraction', null, null,
            GObject.ParamFlags.READWRITE, 0, 1, 0),
    },
}, class Bar extends GObject.Object {});

function newManager(policy = ErrorPolicy.RAISE) {
    const manager = Concurry.TaskManager.new(Concurry.MainContextExecutor.new(null), policy);
    manager.monitor_interval = 0;
    return manager;
}

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

test('submit runs a JS closure on the main thread and records the task', async () => {
    const manager = newManager();
    const ran = [];
    const task = manager.submit(() => {
        ran.push('x');
        return 6 * 7;
    });
    assertEq(task.get_index(), 1);
    assertEq(await manager.wait_async(null), true);
    assertEq(ran.length, 1);
    assertEq(task.get_state(), FutureState.DONE);
    assertEq(task.get_value(), 42);
    assert(task.get_duration() >= 0, 'duration');
    assertEq(manager.n_submitted, 1);
    assertEq(manager.n_completed, 1);
});

test('a closure that returns nothing gives a task done with null', async () => {
    const manager = newManager();
    const ran = [];
    const task = manager.submit(() => {
        ran.push(1);
    });
    assertEq(await manager.wait_async(null), true);
    assertEq(ran.length, 1);
    assertEq(task.get_state(), FutureState.DONE);
    assertEq(task.get_value(), null);
    assertEq(manager.n_failed, 0);
});

test('plain objects and arrays given to and returned by tasks are variants', async () => {
    const manager = newManager();
    const object = manager.submit(() => ({name: 'x', sizes: [1, 2]}));
    const array = manager.submit_input({n: 3}, (item, _c) => [item.lookup_value('n', null).unpack()]);
    const refused = manager.submit(() => new Date());
    await manager.wait_async(null).catch(() => null);
    assertEq(object.get_value().recursiveUnpack().name, 'x');
    assertEq(object.get_value().recursiveUnpack().sizes.join(), '1,2');
    assertEq(array.get_input().get_type_string(), 'a{sv}');
    assertEq(array.get_value().recursiveUnpack().join(), '3');
    assertEq(refused.get_state(), FutureState.FAILED);
    assert(refused.get_error().message.includes('Date'), refused.get_error().message);
});

test('map reads an array (its length known) or a generator', async () => {
    const manager = newManager();
    const bar = new Bar();
    manager.bind_property('fraction', bar, 'fraction', GObject.BindingFlags.SYNC_CREATE);
    manager.map((item, _c) => item * 2, [1, 2, 3]);
    function* numbers() {
        yield 10;
        yield 20;
    }
    manager.map((item, _c) => item + 1, numbers());
    assertEq(await manager.wait_async(null), true);
    await until(() => manager.get_n_items() === 5);
    const values = [];
    for (let i = 0; i < 5; i++)
        values.push(manager.get_item(i).get_value());
    assertEq(values.sort((a, b) => a - b).join(), '2,4,6,11,21');
    await until(() => bar.fraction === 1);
});

test('submit_input keeps the input the closure gets', async () => {
    const manager = newManager();
    const task = manager.submit_input(21, (item, _cancellable) => item * 2);
    await manager.wait_async(null);
    assertEq(task.get_input(), 21);
    assertEq(task.get_value(), 42);
});

test('map reads a JS input lazily and the list model fills in completion order', async () => {
    const manager = newManager(ErrorPolicy.IGNORE);
    manager.max_in_flight = 2;
    const input = counter(30);
    const added = [];
    manager.connect('items-changed', (_m, position, removed, n) => added.push([position, removed, n]));
    manager.map((item, _cancellable) => {
        if (item === 7)
            throw new Error('seven');
        return item + 1;
    }, input, 30);
    assertEq(input.calls, 2, 'reads the first window only');
    assertEq(await manager.wait_async(null), true);
    await until(() => manager.get_n_items() === 30);
    assertEq(input.next, 30);
    for (let i = 0; i < 30; i++) {
        const task = manager.get_item(i);
        assertEq(task.get_input(), i);
        if (i === 7)
            assertEq(task.get_state(), FutureState.FAILED);
        else
            assertEq(task.get_value(), i + 1);
    }
    assertEq(manager.n_failed, 1);
    assert(added.every(([, removed]) => removed === 0), 'only additions');
});

test('fraction binds to another object and reaches 1', async () => {
    const manager = newManager();
    const bar = new Bar();
    const seen = [];
    manager.bind_property('fraction', bar, 'fraction', GObject.BindingFlags.SYNC_CREATE);
    bar.connect('notify::fraction', () => seen.push(bar.fraction));
    manager.map((item, _c) => item, counter(50), 50);
    await manager.wait_async(null);
    await until(() => bar.fraction === 1);
    assert(seen.every((f, i) => i === 0 || f >= seen[i - 1]), 'fraction only grows');
    assert(seen.length <= 50, `at most one notification per task, got ${seen.length}`);
});

test('the bar moves while main-context work keeps the loop busy', async () => {
    const manager = newManager();
    const bar = new Bar();
    manager.bind_property('fraction', bar, 'fraction', GObject.BindingFlags.SYNC_CREATE);
    let seenDuring = null;
    // each task queues the next until the bar moved: the loop stays busy
    const step = () => {
        if (bar.fraction === 0)
            manager.submit(step);
        else if (seenDuring === null)
            seenDuring = manager.running;
    };
    manager.submit(step);
    await manager.wait_async(null);
    assert(seenDuring === true, 'the bar moved while tasks were still queued');
});

test('IGNORE: a map input that throws ends in a failed task of its own', async () => {
    const manager = newManager(ErrorPolicy.IGNORE);
    function* items() {
        yield 1;
        yield 2;
        throw new RangeError('input broke');
    }
    manager.map(item => item * 10, items());
    await manager.wait_async(null);
    assertEq(manager.n_failed, 1, 'the input failure is counted');
    // final once the wait is over, without waiting for the next publication
    const model = manager.get_completed_tasks();
    assertEq(model.get_n_items(), 3);
    const tasks = [0, 1, 2].map(i => model.get_item(i));
    const failed = tasks.filter(t => t.get_state() === FutureState.FAILED);
    assertEq(failed.length, 1);
    assertEq(failed[0].get_input(), null, 'it has no input');
    const e = await rejectionOf(failed[0].wait_async(null));
    assert(e instanceof RangeError || e.message.includes('input broke'), `got ${e}`);
});

test('next_completed_async hands out every task once', async () => {
    const manager = newManager();
    manager.map((item, _c) => item * 10, counter(20), 20);
    const got = [];
    for (;;) {
        // eslint-disable-next-line no-await-in-loop
        const task = await manager.next_completed_async(null);
        if (task === null)
            break;
        got.push(task.get_value());
    }
    assertEq(got.length, 20);
    assertEq(new Set(got).size, 20);
});

test('RAISE: wait fails with the first error and the rest never starts', async () => {
    const manager = newManager(ErrorPolicy.RAISE);
    const ran = [];
    const boom = new Error('boom');
    manager.submit(() => {
        throw boom;
    });
    for (let i = 0; i < 5; i++)
        manager.submit(() => ran.push(i));
    // GJS turns the error back into a JS Error with the work's message.
    const e = await rejectionOf(manager.wait_async(null));
    assert(e instanceof Error, `an Error: ${e}`);
    assertEq(e.message, 'boom');
    assertEq(ran.length, 0);
    assertEq(manager.n_cancelled, 5);
    let again = null;
    try {
        manager.submit(() => 1);
    } catch (err) {
        again = err;
    }
    assertEq(again?.message, 'boom', 'submit after the failure');
});

test('cancel stops the input and cancels every unfinished task', async () => {
    const manager = newManager(ErrorPolicy.IGNORE);
    const input = counter(1000);
    manager.max_in_flight = 3;
    manager.map((item, _c) => item, input, -1);
    manager.cancel();
    assertEq(await manager.wait_async(null), true);
    assertEq(input.calls, 3);
    assertEq(manager.n_cancelled, 3);
    assertEq(manager.running, false);
});

test('a task is a Concurry.Future: awaited, cancelled, counted once', async () => {
    const manager = newManager(ErrorPolicy.IGNORE);
    const ran = [];
    const first = manager.submit(() => {
        ran.push('first');
        return 7;
    });
    const second = manager.submit(() => ran.push('second'));
    assert(first instanceof Concurry.Future, 'instanceof Concurry.Future');
    assertEq(typeof first.then, 'undefined', 'no then: not awaited as a promise itself');
    assertEq(first.get_future(), first, 'its future is itself');

    // queued on the main context: cancelled before it runs, counted at once
    assertEq(second.cancel(), true);
    assertEq(second.get_state(), FutureState.CANCELLED);
    assertEq(manager.n_cancelled, 1);

    assertEq(await first.wait_async(null), true);
    assertEq(first.get_value(), 7);
    assertEq(await manager.wait_async(null), true);
    assertEq(ran.join(), 'first', 'the cancelled task never ran');
    assertEq(manager.n_completed, 2);
});

test('a thread pool refuses JS work with WRONG_THREAD', () => {
    const pool = Concurry.ThreadPoolExecutor.new(1);
    const manager = Concurry.TaskManager.new(pool, ErrorPolicy.RAISE);
    manager.monitor_interval = 0;
    assertThrowsGError(() => manager.submit(() => 1), Concurry.error_quark(),
        Concurry.Error.WRONG_THREAD, 'submit');
    assertThrowsGError(() => manager.map((x, _c) => x, counter(3), 3), Concurry.error_quark(),
        Concurry.Error.WRONG_THREAD, 'map');
    pool.shutdown(true, false);
});

test('shutdown refuses new work', async () => {
    const manager = newManager();
    manager.submit(() => 1);
    manager.shutdown(false, false);
    assertEq(manager.is_shutdown(), true);
    assertThrowsGError(() => manager.submit(() => 1), Concurry.error_quark(),
        Concurry.Error.SHUT_DOWN, 'submit');
    assertEq(await manager.wait_async(null), true);
    assertGError(new GLib.Error(Gio.IOErrorEnum, IOErrorEnum.CANCELLED, 'x'), Gio.IOErrorEnum,
        IOErrorEnum.CANCELLED);
});

run();
