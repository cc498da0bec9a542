// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Every Vala snippet of the documentation (doc/ and README.md), each
// copied verbatim into a function that gives it what it needs, and run.
//
// tests/check-doc-snippets.py fails when a ```vala block of the docs is no
// longer found here (or in doc-app.vala, which holds the complete program
// of the Vala quick start): edit both together. meson builds this file
// twice: as a normal Vala program, and through `valac -C` plus the C
// compiler with -Werror=incompatible-pointer-types and
// -Werror=discarded-qualifiers, which meson's own Vala build hides with -w.
//
// The snippets' own waits are those of the docs; the program as a whole
// runs under a deadline so that a hang fails instead of blocking.

const uint DEADLINE_MS = 20000;

int checks = 0;

void check (bool condition, string what) {
    if (!condition)
        error ("check failed: %s", what);
    checks++;
}

// Helpers the snippets refer to.

void show_result (Concurry.Future f) {
    print ("result: %s\n", f.get_state ().to_string ());
}

class Spinner : Object {
    public bool spinning = true;

    public void stop () {
        spinning = false;
    }
}

Concurry.Future start_saving (int count) {
    return new Concurry.ResolvedFuture.int (count);
}

Concurry.Future text_future (string text) {
    var promise = new Concurry.Promise ();
    Idle.add (() => {
        promise.resolve_string (text);
        return Source.REMOVE;
    });
    return promise;
}

// ---------------------------------------------------------------------------
// doc/vala-quickstart.md

async void show_answer (Concurry.Future future) {
    try {
        yield future.wait_async (null);
        print ("the answer is %d\n", future.get_int ());
    } catch (IOError.CANCELLED e) {
        print ("cancelled\n");
    } catch (Concurry.Error.ABANDONED e) {
        print ("the producer went away\n");
    } catch (Error e) {
        print ("failed: %s\n", e.message);
    }
}

Concurry.Future answer_async () {
    var promise = new Concurry.Promise ();
    new Thread<void> ("answer", () => {
        if (!promise.mark_running ())
            return;                       // cancelled before it started
        Thread.usleep (10000);
        if (promise.get_cancellable ().is_cancelled ())
            return;                       // nobody wants the result any more
        promise.resolve_int (42);
    });
    return promise;
}

void reject_examples () {
    string name = "missing.txt";
    var promise = new Concurry.Promise ();
    promise.reject (new IOError.NOT_FOUND ("no file named %s", name));
    promise.reject (new Concurry.Error.INVALID_STATE ("not ready"));
    check (promise.get_error () is IOError.NOT_FOUND, "only the first completion counts");
}

void resolve_value_example () {
    var promise = new Concurry.Promise ();
    {
        var v = Value (typeof (int64));
        v.set_int64 (int64.MAX);
        promise.resolve (v);
    }
    check (promise.get_int64 () == int64.MAX, "resolve () with an int64 Value");
}

void resolved_future_examples () {
    Concurry.Future ready = new Concurry.ResolvedFuture.string ("ready");
    Concurry.Future closed = new Concurry.ResolvedFuture.error_literal (
        Concurry.Error.quark (), Concurry.Error.SHUT_DOWN, "closed");
    check (ready.get_string () == "ready", "ResolvedFuture.string");
    check (closed.get_error () is Concurry.Error.SHUT_DOWN, "ResolvedFuture.error_literal");
    check (closed.get_error ().message == "closed", "the message of a const error");
}

async void done_callback_example () {
    var future = new Concurry.ResolvedFuture.int (1);
    bool called = false;
    future.add_done_callback ((f) => {
        print ("finished: %s\n", f.get_state ().to_string ());
    });
    future.add_done_callback ((f) => {
        called = true;
        done_callback_example.callback ();
    });
    yield;
    check (called, "done callbacks run on the main context");
}

void blocking_wait_example () {
    var future = answer_async ();
    try {
        future.wait (2 * TimeSpan.SECOND);     // microseconds; 0 polls, -1 waits for ever
    } catch (IOError.TIMED_OUT e) {
        print ("not finished yet\n");
    } catch (Error e) {
        print ("failed: %s\n", e.message);
    }
    try {
        future.wait (-1);
    } catch (Error e) {
        error ("%s", e.message);
    }
    check (future.get_int () == 42, "a blocking wait");
}

async void compute (Concurry.Executor pool) {
    try {
        var future = pool.submit ((cancellable, out value) => {
            value = Value (typeof (int));
            value.set_int (6 * 7);                 // runs on a worker thread
        });
        yield future.wait_async (null);
        print ("%d\n", future.get_int ());
    } catch (Error e) {                            // Concurry.Error.SHUT_DOWN, or the work's error
        printerr ("%s\n", e.message);
    }
}

// compute.begin (new Concurry.ThreadPoolExecutor (0));

async void several_futures_example () throws Error {
    try {
        Concurry.Future[] parts = { answer_async (), answer_async () };

        // All of them (fails as soon as one fails); read the values from the inputs.
        yield Concurry.gather (parts, Concurry.GatherFlags.NONE).wait_async (null);

        // Give up after five seconds.
        yield answer_async ().with_timeout (5 * TimeSpan.SECOND).wait_async (null);

        // Each one as soon as it is done.
        var it = Concurry.as_completed (parts, -1);
        Concurry.Future? f;
        while ((f = yield it.next_async (null)) != null)
            print ("%d\n", f.get_int ());

        // A chain: the step runs on this thread's main context once parts[0] succeeded.
        var doubled = parts[0].map ((v, out result) => {
            result = Value (typeof (int));
            result.set_int (v.get_int () * 2);
        });

        yield doubled.wait_async (null);
        check (doubled.get_int () == 84, "a map () step");
    } catch (Error e) {
        throw e;
    }
}

void print_in_order_of_completion (Concurry.Future[] futures) throws Error {
    foreach (var f in Concurry.as_completed (futures, 10 * TimeSpan.SECOND))
        print ("%s finished first\n", f.get_string ());
}

int sum_of_squares (Concurry.Executor pool, int n) throws Error {
    int next = 0;
    var results = pool.map ((item, cancellable, out result) => {
        result = Value (typeof (int));
        result.set_int (item.get_int () * item.get_int ());    // on a worker
    }, (out item) => {
        item = Value (typeof (int));
        if (next == n)
            return false;                                   // the input is exhausted
        item.set_int (next++);
        return true;
    }, 60 * TimeSpan.SECOND, 16, 0);
    int sum = 0;
    foreach (var v in results)                              // in input order
        sum += v.get_int ();
    return sum;
}

// ---------------------------------------------------------------------------
// doc/combinators.md

void wait_example (Concurry.Future a, Concurry.Future b, Concurry.Future c) throws Error {
    Concurry.Future[] futures = { a, b, c };
    GenericArray<weak Concurry.Future> done, not_done;
    bool met = Concurry.wait (futures, Concurry.WaitMode.ALL_COMPLETED,
                              5 * TimeSpan.SECOND, out done, out not_done);
    check (met && done.length == 3 && not_done.length == 0, "wait (ALL_COMPLETED)");
}

async void as_completed_example (Concurry.Future[] futures) {
    var it = Concurry.as_completed (futures, 60 * TimeSpan.SECOND);
    try {
        Concurry.Future? f;
        while ((f = yield it.next_async (null)) != null)
            show_result (f);
    } catch (IOError.TIMED_OUT e) {
        print ("%s\n", e.message);
    } catch (Error e) {
        printerr ("%s\n", e.message);
    }
    check (it.get_n_remaining () == 0, "as_completed () gave every future");
}

async void gather_example (Concurry.Future header, Concurry.Future body, Concurry.Future footer) throws Error {
    Concurry.Future[] parts = { header, body, footer };
    yield Concurry.gather (parts, Concurry.GatherFlags.NONE).wait_async (null);
    foreach (var part in parts)
        print ("%s", part.get_string ());
}

Concurry.Future chain_example (Concurry.Future text, Spinner spinner) {
    var end = text
        .map ((v, out result) => {
            result = Value (typeof (int));
            result.set_int (v.get_string ().split ("\n").length - 1);
        })
        .and_then ((f, out result) => {
            result = Value (typeof (Concurry.Future));
            result.set_object (start_saving (f.get_int ()));
        })
        .catch_error ((f, out result) => {
            warning ("%s", f.get_error ().message);
            result = Value (typeof (bool));
            result.set_boolean (false);
        })
        .finally_do ((f) => spinner.stop ());
    return end;
}

// ---------------------------------------------------------------------------
// doc/executors.md

async void print_checksum (Concurry.Executor pool, string path) {
    try {
        var future = pool.submit ((cancellable, out value) => {
            uint8[] contents;
            FileUtils.get_data (path, out contents);      // may throw
            value = Value (typeof (string));
            value.set_string (Checksum.compute_for_data (ChecksumType.SHA256, contents));
        });
        yield future.wait_async (null);
        print ("%s  %s\n", future.get_string (), path);
    } catch (Error e) {
        printerr ("%s: %s\n", path, e.message);
    }
}

// print_checksum.begin (new Concurry.ThreadPoolExecutor (4), "/etc/hostname");

Concurry.Future open_file (File file) {
    var promise = new Concurry.Promise ();
    file.read_async.begin (Priority.DEFAULT, promise.get_cancellable (), (obj, res) => {
        try {
            promise.resolve_object (file.read_async.end (res));
        } catch (Error e) {
            promise.reject (e);
        }
    });
    return promise;
}

// ---------------------------------------------------------------------------
// README.md

async void readme_example (Concurry.Future future) throws Error {
    yield future.wait_async (null);
    print ("%d\n", future.get_int ());
}

// ---------------------------------------------------------------------------
// Running them

// ---------------------------------------------------------------------------
// doc/task-manager.md

class Bar : Object {
    public double fraction { get; set; }
}

async void task_manager_example (Bar progress_bar) {
    var pool = Concurry.ThreadPoolExecutor.new (4);
    var manager = new Concurry.TaskManager (pool, Concurry.ErrorPolicy.RAISE);
    manager.bind_property ("fraction", progress_bar, "fraction", BindingFlags.SYNC_CREATE);

    int next = 0;
    try {
        manager.map ((item, cancellable, out result) => {
            result = Value (typeof (int));
            result.set_int (item.get_int () * 2);
        }, (out item) => {
            item = Value (typeof (int));
            if (next >= 1000)
                return false;
            item.set_int (next++);
            return true;
        }, 1000);
        yield manager.wait_async (null);
    } catch (Error e) {
        warning ("stopped by %s", e.message);
    }
}

async void run_all (string self_path) throws Error {
    yield show_answer (answer_async ());
    reject_examples ();
    resolve_value_example ();
    resolved_future_examples ();
    yield done_callback_example ();
    blocking_wait_example ();

    // The executor constructors, and both spellings of them.
    Concurry.Executor[] executors = {
        new Concurry.ThreadPoolExecutor (2),
        new Concurry.TaskExecutor (),
        new Concurry.MainContextExecutor (null),
        Concurry.ThreadPoolExecutor.new (1),
    };
    foreach (var executor in executors)
        yield compute (executor);
    var pool = new Concurry.ThreadPoolExecutor (0);
    yield print_checksum (pool, self_path);

    yield several_futures_example ();

    Concurry.Future[] named = {
        new Concurry.ResolvedFuture.string ("a"),
        text_future ("b"),
    };
    print_in_order_of_completion (named);
    check (sum_of_squares (pool, 10) == 285, "foreach over MapResults");
    check (sum_of_squares (pool, 0) == 0, "foreach over empty MapResults");

    wait_example (answer_async (), answer_async (), new Concurry.ResolvedFuture.int (3));
    yield as_completed_example ({ answer_async (), new Concurry.ResolvedFuture.boolean (true) });
    yield gather_example (text_future ("<h>"), text_future ("body"), text_future ("</h>\n"));

    var spinner = new Spinner ();
    var end = chain_example (text_future ("one\ntwo\nthree\n"), spinner);
    yield end.wait_async (null);
    check (end.get_int () == 3 && !spinner.spinning, "the chain of combinators.md");

    var opened = open_file (File.new_for_path (self_path));
    yield opened.wait_async (null);
    check (opened.get_object () is FileInputStream, "open_file ()");

    yield readme_example (new Concurry.ResolvedFuture.int (7));

    // the manager is dropped as soon as the wait returns: the bar is full
    var bar = new Bar ();
    yield task_manager_example (bar);
    check (bar.fraction == 1.0, "the progress bar of task-manager.md reaches 1");

    // The other creation methods.
    var v = Value (typeof (string));
    v.set_string ("value");
    Concurry.Future[] made = {
        new Concurry.ResolvedFuture (v),
        new Concurry.ResolvedFuture.boolean (true),
        new Concurry.ResolvedFuture.uint (1),
        new Concurry.ResolvedFuture.int64 (-1),
        new Concurry.ResolvedFuture.uint64 (1),
        new Concurry.ResolvedFuture.double (0.5),
        new Concurry.ResolvedFuture.object (pool),
        new Concurry.ResolvedFuture.pointer (null),
        new Concurry.ResolvedFuture.variant (new Variant.int32 (1)),
        new Concurry.ResolvedFuture.error (new IOError.FAILED ("failed")),
        new Concurry.ResolvedFuture.take_error (new IOError.FAILED ("failed")),
        new Concurry.ResolvedFuture.take_value (v),
        Concurry.ResolvedFuture.new_int (1),
    };
    foreach (var f in made) {
        check (f.is_done (), "a resolved future is done");
        if (f.is_failed ())
            check (f.get_error () is IOError.FAILED, "a resolved future with an error");
    }
    check (made[0].get_string () == "value", "new ResolvedFuture (value)");

    pool.shutdown (true, false);
}

int main (string[] args) {
    var loop = new MainLoop ();
    int status = 1;
    uint guard = Timeout.add (DEADLINE_MS, () => {
        printerr ("the examples did not finish within %u ms\n", DEADLINE_MS);
        loop.quit ();
        return Source.REMOVE;
    });
    run_all.begin (args[0], (obj, res) => {
        try {
            run_all.end (res);
            status = 0;
        } catch (Error e) {
            printerr ("failed: %s\n", e.message);
        }
        Source.remove (guard);
        loop.quit ();
    });
    loop.run ();
    print ("%d checks\n", checks);
    return status;
}
