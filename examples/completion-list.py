#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A GListModel of futures, in the order they complete.

Concurry.CompletionList is as_completed() as a Gio.ListModel: it starts
empty and appends each future once it is done, emitting items-changed on
the main context that made it, whichever thread completed the future. A
GTK application hands it to a Gtk.ListView to show results as they arrive;
this program prints them from the items-changed handler instead.

Four downloads are simulated by promises that a worker thread resolves one
after the other in a shuffled order, plus one future done from the start.

Run from a build tree with:
  meson devenv -C build /usr/bin/python3 ../examples/completion-list.py
"""

import sys
import threading

import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry, GLib  # noqa: E402

NAMES = ['alpha', 'beta', 'gamma', 'delta']
COMPLETION_ORDER = [2, 0, 3, 1]


def main():
    loop = GLib.MainLoop()
    promises = [Concurry.Promise() for _ in NAMES]
    cached = Concurry.ResolvedFuture.new_string('cached')
    model = Concurry.CompletionList.new(promises + [cached])
    print(f'items at first: {model.get_n_items()}')

    def on_items_changed(model, position, removed, added):
        for i in range(position, position + added):
            print(f'{i}: {Concurry.wrap_future(model.get_item(i)).result()}')
        if model.get_n_items() == len(NAMES) + 1:
            loop.quit()

    model.connect('items-changed', on_items_changed)

    def download():
        # One thread completes them in turn, so the order is the one chosen.
        for i in COMPLETION_ORDER:
            promises[i].set_result(NAMES[i])

    threading.Thread(target=download).start()
    loop.run()

    got = [Concurry.wrap_future(model.get_item(i)).result() for i in range(model.get_n_items())]
    expected = ['cached'] + [NAMES[i] for i in COMPLETION_ORDER]
    if got != expected:
        sys.exit(f'got {got}, expected {expected}')


if __name__ == '__main__':
    main()
