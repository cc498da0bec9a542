// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Running JavaScript functions through the executor API, from GJS. Run
// from a build tree with:
//   meson devenv -C build gjs -m ../examples/main-context-executor.js
//
// JavaScript only ever runs on the main thread, so a GJS program runs its
// own functions with a Concurry.MainContextExecutor: each function runs
// from the main loop, one at a time, after submit() returned, and its
// future can be awaited, chained and combined like any other. Keep the
// functions short (they block the main loop while they run); slow work
// belongs to GIO's asynchronous calls. The thread-pool and task executors
// refuse JavaScript functions with Concurry.Error.WRONG_THREAD.

import GLib from 'gi://GLib';
import System from 'system';
import Concurry from 'gi://Concurry?version=1';

const executor = new Concurry.MainContextExecutor({context: GLib.MainContext.default()});
const events = [];

// Each function runs later, from the main loop, in the order submitted.
const futures = ['alpha', 'beta', 'gamma'].map(text => executor.submit(() => {
    events.push(`ran ${text}`);
    return GLib.compute_checksum_for_string(GLib.ChecksumType.SHA256, text, -1);
}));
events.push('submitted');

// A chain step continues on the main thread too, and may be async.
const total = Concurry.gather(futures, Concurry.GatherFlags.NONE).and_then(async () => {
    await null;
    return futures.map(f => f.get_string().slice(0, 8)).join(' ');
});
await total.wait_async(null);
print(events.join(', '));
print(`digests: ${total.get_string()}`);

// A JavaScript function cannot run on a worker thread: it is refused.
const pool = Concurry.ThreadPoolExecutor.new(2);
let refused = false;
try {
    pool.submit(() => 42);
} catch (e) {
    refused = e.matches(Concurry.Error, Concurry.Error.WRONG_THREAD);
    print(`thread pool: ${e.message}`);
}
pool.shutdown(true, false);
executor.shutdown(true, false);

const expected = 'submitted, ran alpha, ran beta, ran gamma';
if (events.join(', ') !== expected || !refused)
    System.exit(1);
