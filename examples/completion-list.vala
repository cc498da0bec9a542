// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A GListModel of futures in the order they complete, from Vala.
//
// Concurry.CompletionList is as_completed () as a GLib.ListModel: it starts
// empty and appends each future once it is done, emitting items_changed on
// the main context that made it, whichever thread completed the future. A
// GTK application gives it to a Gtk.ListView to show results as they
// arrive; this program prints them from the items_changed handler. Four
// promises are resolved by the main loop in a shuffled order; one more
// future is done from the start.

const string[] NAMES = { "alpha", "beta", "gamma", "delta" };
const int[] COMPLETION_ORDER = { 2, 0, 3, 1 };

int main () {
    var loop = new MainLoop ();
    Concurry.Promise[] promises = {};
    Concurry.Future[] futures = {};
    for (int k = 0; k < NAMES.length; k++) {
        var promise = new Concurry.Promise ();
        promises += promise;
        futures += promise;
    }
    futures += new Concurry.ResolvedFuture.string ("cached");

    var model = new Concurry.CompletionList (futures);
    print ("items at first: %u\n", model.get_n_items ());
    model.items_changed.connect ((position, removed, added) => {
        for (uint i = position; i < position + added; i++) {
            var future = (Concurry.Future) model.get_item (i);
            print ("%u: %s\n", i, future.get_string ());
        }
        if (model.get_n_items () == NAMES.length + 1)
            loop.quit ();
    });

    // One promise more at each main-loop iteration.
    int next = 0;
    Idle.add (() => {
        int i = COMPLETION_ORDER[next++];
        promises[i].resolve_string (NAMES[i]);
        return next < COMPLETION_ORDER.length ? Source.CONTINUE : Source.REMOVE;
    });
    loop.run ();

    string[] expected = { "cached" };
    for (int k = 0; k < COMPLETION_ORDER.length; k++)
        expected += NAMES[COMPLETION_ORDER[k]];
    for (uint i = 0; i < expected.length; i++) {
        var future = (Concurry.Future) model.get_item (i);
        if (future.get_string () != expected[i]) {
            printerr ("item %u is %s, expected %s\n", i, future.get_string (), expected[i]);
            return 1;
        }
    }
    return 0;
}
