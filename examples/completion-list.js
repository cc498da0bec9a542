// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A GListModel of futures in the order they complete, from GJS. Run from a
// build tree with:
//   meson devenv -C build gjs -m ../examples/completion-list.js
//
// Concurry.CompletionList is as_completed() as a Gio.ListModel: it starts
// empty and appends each future once it is done, emitting items-changed on
// the main thread. A GTK application gives it to a Gtk.ListView (through a
// Gtk.NoSelection) to show results as they arrive; this script prints them
// from the items-changed handler. Four promises are resolved by the main
// loop in a shuffled order; one more future is done from the start.

import GLib from 'gi://GLib';
import System from 'system';
import Concurry from 'gi://Concurry?version=1';

const names = ['alpha', 'beta', 'gamma', 'delta'];
const completionOrder = [2, 0, 3, 1];

const promises = names.map(() => new Concurry.Promise());
const cached = Concurry.ResolvedFuture.new_string('cached');
const model = Concurry.CompletionList.new([...promises, cached]);
print(`items at first: ${model.get_n_items()}`);

const full = new Promise(resolve => {
    model.connect('items-changed', (list, position, removed, added) => {
        for (let i = position; i < position + added; i++)
            print(`${i}: ${list.get_item(i).get_string()}`);
        if (list.get_n_items() === names.length + 1)
            resolve();
    });
});

// One promise more at each main-loop iteration.
const order = [...completionOrder];
GLib.idle_add(GLib.PRIORITY_DEFAULT_IDLE, () => {
    const i = order.shift();
    promises[i].resolve_string(names[i]);
    return order.length > 0 ? GLib.SOURCE_CONTINUE : GLib.SOURCE_REMOVE;
});

await full;

const got = [];
for (let i = 0; i < model.get_n_items(); i++)
    got.push(model.get_item(i).get_string());
const expected = ['cached', ...completionOrder.map(i => names[i])];
if (got.join() !== expected.join()) {
    printerr(`got ${got}, expected ${expected}`);
    System.exit(1);
}
