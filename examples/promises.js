// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Awaiting concurry futures from GJS. Run from a build tree with:
//   meson devenv -C build gjs -m ../examples/promises.js

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Concurry from 'gi://Concurry?version=1';

// Every future is awaitable: concurry's GJS override promisifies
// wait_async() when the namespace is imported.

// Bridges a callback API into a future: here a timeout.
function delayed(ms, value) {
    const promise = new Concurry.Promise();
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        promise.resolve_string(value);
        return GLib.SOURCE_REMOVE;
    });
    return promise;
}

const slow = delayed(30, 'slow');
const fast = delayed(10, 'fast');

// Done callbacks run on the main thread, in the order they were added.
fast.add_done_callback(f => print(`callback: ${f.get_string()} is done`));

await fast.wait_async(null);
await slow.wait_async(null);
print(`awaited: ${fast.get_string()}, then ${slow.get_string()}`);

const failing = new Concurry.Promise();
failing.reject_literal(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND, 'no such thing');
try {
    await failing.wait_async(null);
} catch (e) {
    print(`caught: ${e.message} (NOT_FOUND: ${e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND)})`);
}
