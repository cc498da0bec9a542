// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The complete program of doc/vala-quickstart.md, verbatim
// (tests/check-doc-snippets.py checks that it still is).

// app.vala: valac --pkg concurry-1 --pkg gio-2.0 app.vala
Concurry.Future answer_async () {
    var promise = new Concurry.Promise ();
    new Thread<void> ("answer", () => {
        Thread.usleep (100000);
        promise.resolve_int (42);
    });
    return promise;
}

async void run () {
    var future = answer_async ();
    future.add_done_callback ((f) => print ("callback: %d\n", f.get_int ()));
    try {
        yield future.wait_async (null);
        print ("awaited: %d\n", future.get_int ());
    } catch (Error e) {
        printerr ("failed: %s\n", e.message);
    }
}

int main () {
    var loop = new MainLoop ();
    run.begin ((obj, res) => {
        run.end (res);
        loop.quit ();
    });
    loop.run ();
    return 0;
}
