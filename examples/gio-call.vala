// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GIO asynchronous calls as futures, from Vala.
//
// Usage: vala-gio-call FILE
//
// A Concurry.Promise bridges an async method into a future; passing its
// cancellable to the call makes future.cancel () cancel the I/O. Three
// calls run at once: a query of the file's size, a read of its contents,
// and a read of a file that does not exist. Concurry.gather () waits for
// all three (ALL_OUTCOMES: failures included).

Concurry.Future query_size (File file) {
    var promise = new Concurry.Promise ();
    file.query_info_async.begin (FileAttribute.STANDARD_SIZE, FileQueryInfoFlags.NONE,
                                 Priority.DEFAULT, promise.get_cancellable (), (obj, res) => {
        try {
            promise.resolve_int64 (file.query_info_async.end (res).get_size ());
        } catch (Error e) {
            promise.reject (e);
        }
    });
    return promise;
}

// (load_bytes_async () rather than load_contents_async (), whose binding in
// gio-2.0.vapi passes a guint8 ** for a char **.)
Concurry.Future load_contents (File file) {
    var promise = new Concurry.Promise ();
    file.load_bytes_async.begin (promise.get_cancellable (), (obj, res) => {
        try {
            var contents = Value (typeof (Bytes));
            contents.set_boxed (file.load_bytes_async.end (res, null));
            promise.resolve (contents);
        } catch (Error e) {
            promise.reject (e);
        }
    });
    return promise;
}

async int run (string path) {
    var file = File.new_for_commandline_arg (path);
    var info = query_size (file);
    var contents = load_contents (file);
    var nothing = load_contents (File.new_for_commandline_arg (path + ".does-not-exist"));
    try {
        yield Concurry.gather ({ info, contents, nothing }, Concurry.GatherFlags.ALL_OUTCOMES)
            .wait_async (null);
    } catch (Error e) {
        printerr ("unexpected: %s\n", e.message);
        return 1;
    }

    unowned Bytes bytes = (Bytes) contents.get_boxed ();
    int64 read = bytes.get_size ();
    unowned Error? error = nothing.get_error ();
    print ("queried: %" + int64.FORMAT + " bytes\n", info.get_int64 ());
    print ("read:    %" + int64.FORMAT + " bytes\n", read);
    print ("missing: %s\n", error.message);
    return (info.get_int64 () == read && error is IOError.NOT_FOUND) ? 0 : 1;
}

int main (string[] args) {
    if (args.length != 2) {
        printerr ("usage: %s FILE\n", args[0]);
        return 2;
    }
    var loop = new MainLoop ();
    int status = 1;
    run.begin (args[1], (obj, res) => {
        status = run.end (res);
        loop.quit ();
    });
    loop.run ();
    return status;
}
