// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Awaiting concurry futures from Vala with yield.

Concurry.Future delayed (uint ms, int value) {
    var promise = new Concurry.Promise ();
    Timeout.add (ms, () => {
        promise.resolve_int (value);
        return Source.REMOVE;
    });
    return promise;
}

async int run () {
    var a = delayed (20, 20);
    var b = delayed (10, 22);

    b.add_done_callback ((f) => {
        print ("callback: %d is done\n", f.get_int ());
    });

    try {
        yield a.wait_async (null);
        yield b.wait_async (null);
        print ("sum: %d\n", a.get_int () + b.get_int ());

        var failing = Concurry.ResolvedFuture.new_error_literal (IOError.quark (), IOError.PERMISSION_DENIED, "not allowed");
        yield failing.wait_async (null);
    } catch (IOError.PERMISSION_DENIED e) {
        print ("caught: %s\n", e.message);
    } catch (Error e) {
        printerr ("unexpected: %s\n", e.message);
        return 1;
    }
    return 0;
}

int main () {
    var loop = new MainLoop ();
    int status = 1;
    run.begin ((obj, res) => {
        status = run.end (res);
        loop.quit ();
    });
    loop.run ();
    return status;
}
