// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Vala tests of the engine API added for the language bindings (issue 10,
// "one engine"), through the generated concurry-1.vapi: runners and work
// batches, submit_after () and submit_to_runner () with inputs,
// cancel_pending (), callbacks run on the completing thread, error
// payloads, map_with_runner () and map semantics, and the sliced waits of
// MapResults and AsCompleted. Vala closures may run on worker threads, so
// the runners and callbacks here do.
//
// Timing-free: work blocks on gates the test opens, and slices that must
// time out get a deadline that has passed while nothing can be ready.
//
// No `using Concurry;`: Concurry.Error would clash with GLib.Error.

const int64 BLOCK = 60 * TimeSpan.SECOND;   // only a hang gets there

// A gate work blocks on until the test opens it; counts who waits.
class Gate : Object {
    private Mutex mutex = Mutex ();
    private Cond cond = Cond ();
    private bool is_open = false;
    private uint n_waiting = 0;

    public void pass () {
        mutex.lock ();
        n_waiting++;
        cond.broadcast ();
        int64 end = get_monotonic_time () + BLOCK;
        while (!is_open) {
            if (!cond.wait_until (mutex, end))
                error ("the gate was never opened");
        }
        n_waiting--;
        mutex.unlock ();
    }

    public void wait_for (uint n) {
        int64 end = get_monotonic_time () + BLOCK;
        mutex.lock ();
        while (n_waiting < n) {
            if (!cond.wait_until (mutex, end))
                error ("%u waiters never came", n);
        }
        mutex.unlock ();
    }

    public void open () {
        mutex.lock ();
        is_open = true;
        cond.broadcast ();
        mutex.unlock ();
    }
}

Value int_value (int n) {
    var v = Value (typeof (int));
    v.set_int (n);
    return v;
}

Value string_value (string s) {
    var v = Value (typeof (string));
    v.set_string (s);
    return v;
}

void wait_done (Concurry.Future f) {
    try {
        f.wait (-1);
    } catch (GLib.Error e) {
        // failed or cancelled: the test looks at it
    }
}

void shutdown_wait (Concurry.Executor executor, bool cancel_futures = false) {
    try {
        assert_true (executor.shutdown (true, cancel_futures));
    } catch (GLib.Error e) {
        error ("shutdown: %s", e.message);
    }
}

Concurry.Future submit_int (Concurry.Executor executor, Concurry.Runner runner, int n,
                            Concurry.Future[]? after = null) {
    try {
        return executor.submit_to_runner (runner, int_value (n), after);
    } catch (GLib.Error e) {
        error ("submit_to_runner: %s", e.message);
    }
}

// An input of 0 … n-1 (endless for n < 0), counting what was read.
class Counter : Object {
    public int end;
    public int next = 0;
    public int n_read = 0;   // atomic

    public Counter (int end) {
        this.end = end;
    }

    public bool read (out Value item) throws GLib.Error {
        if (end >= 0 && next >= end) {
            item = Value (typeof (int));
            return false;
        }
        item = int_value (next++);
        AtomicInt.inc (ref n_read);
        return true;
    }
}

// A runner whose items are ints: each gives its square, except @fail_item
// (Concurry.Error.FAILED with the payload "payload-<n>") and @forget_item
// (started, no outcome). It records what it saw, from any thread.
class Recorder : Object {
    public Mutex mutex = Mutex ();
    public int[] started = {};
    public uint[] sizes = {};
    public uint n_skipped = 0;
    public uint n_with_future = 0;
    public uint n_without_cancellable = 0;
    public string? expected_data = null;
    public bool data_ok = true;
    public int fail_item = -1;
    public int forget_item = -1;
    public Concurry.Runner runner;

    public Recorder () {
        runner = new Concurry.Runner (run);
    }

    private void run (Concurry.WorkBatch batch) {
        uint size = batch.get_size ();
        unowned Value? data = batch.get_data ();

        mutex.lock ();
        sizes += size;
        if (expected_data == null)
            data_ok = data_ok && data == null;
        else
            data_ok = data_ok && data != null && data.get_string () == expected_data;
        mutex.unlock ();

        for (uint i = 0; i < size; i++) {
            unowned Value? item = batch.start (i);
            mutex.lock ();
            if (batch.get_future (i) != null)
                n_with_future++;
            if (item == null) {
                n_skipped++;
                mutex.unlock ();
                continue;
            }
            int n = item.get_int ();
            started += n;
            if (batch.get_cancellable (i) == null)
                n_without_cancellable++;
            mutex.unlock ();

            if (n == forget_item)
                continue;
            if (n == fail_item) {
                var e = new GLib.Error (Concurry.Error.quark (), Concurry.Error.FAILED, "item %d failed", n);
                batch.return_error (i, e, string_value ("payload-%d".printf (n)));
            } else {
                batch.return_value (i, int_value (n * n));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Runner and WorkBatch

void test_runner_batch_runs_items_in_order () {
    var executor = Concurry.ThreadPoolExecutor.new (1);
    var recorder = new Recorder ();
    var gate = new Gate ();
    Concurry.Future[] futures = {};

    try {
        // The only worker is busy: every item is queued before any runs.
        executor.submit ((c, out v) => {
            gate.pass ();
            v = Value (typeof (bool));
        });
    } catch (GLib.Error e) {
        error ("submit: %s", e.message);
    }
    gate.wait_for (1);
    for (int i = 0; i < 30; i++) {
        futures += submit_int (executor, recorder.runner, i);
        assert_true (futures[i].get_state () == Concurry.FutureState.PENDING);
    }
    gate.open ();
    for (int i = 0; i < futures.length; i++) {
        wait_done (futures[i]);
        assert_cmpint (futures[i].get_int (), CompareOperator.EQ, i * i);
    }
    shutdown_wait (executor);

    assert_cmpint (recorder.started.length, CompareOperator.EQ, 30);
    for (int i = 0; i < recorder.started.length; i++)
        assert_cmpint (recorder.started[i], CompareOperator.EQ, i);
    uint total = 0;
    foreach (uint size in recorder.sizes) {
        assert_cmpuint (size, CompareOperator.GE, 1);
        assert_cmpuint (size, CompareOperator.LE, 64);
        total += size;
    }
    assert_cmpuint (total, CompareOperator.EQ, 30);
    // Queued items know their future; started ones have a cancellable.
    assert_cmpuint (recorder.n_with_future, CompareOperator.EQ, 30);
    assert_cmpuint (recorder.n_without_cancellable, CompareOperator.EQ, 0);
    assert_true (recorder.data_ok);
    recorder.runner = null;   // the runner's closure holds the recorder
}

void test_forwarding_runner_takes_what_is_queued_in_one_batch () {
    var executor = Concurry.ThreadPoolExecutor.new (1);
    var recorder = new Recorder ();
    var gate = new Gate ();
    Concurry.Future[] futures = {};
    int n_notified = 0;

    recorder.runner.notify["forwarding"].connect (() => { n_notified++; });
    assert_false (recorder.runner.forwarding);
    recorder.runner.forwarding = true;
    assert_true (recorder.runner.get_forwarding ());
    assert_cmpint (n_notified, CompareOperator.EQ, 1);

    try {
        // The only worker is busy: the items are queued meanwhile.
        executor.submit ((c, out v) => {
            gate.pass ();
            v = Value (typeof (bool));
        });
    } catch (GLib.Error e) {
        error ("submit: %s", e.message);
    }
    gate.wait_for (1);
    for (int i = 0; i < 30; i++)
        futures += submit_int (executor, recorder.runner, i);
    gate.open ();
    for (int i = 0; i < futures.length; i++) {
        wait_done (futures[i]);
        assert_cmpint (futures[i].get_int (), CompareOperator.EQ, i * i);
    }
    shutdown_wait (executor);

    // After the first item, a small batch (one or two items: quick ones
    // grow the batch); after a forwarding runner's batch, whatever its
    // time, everything still queued.
    assert_cmpint (recorder.sizes.length, CompareOperator.EQ, 2);
    assert_cmpuint (recorder.sizes[0], CompareOperator.LE, 2);
    assert_cmpuint (recorder.sizes[0] + recorder.sizes[1], CompareOperator.EQ, 30);
    recorder.runner = null;   // the runner's closure holds the recorder
}

void test_runner_cancelled_queued_item_is_never_started () {
    var executor = Concurry.ThreadPoolExecutor.new (1);
    var recorder = new Recorder ();
    var gate = new Gate ();
    Concurry.Future[] futures = {};

    try {
        executor.submit ((c, out v) => {
            gate.pass ();
            v = Value (typeof (bool));
        });
    } catch (GLib.Error e) {
        error ("submit: %s", e.message);
    }
    gate.wait_for (1);
    for (int i = 0; i < 4; i++)
        futures += submit_int (executor, recorder.runner, i);
    assert_true (futures[1].cancel ());
    gate.open ();
    foreach (var f in futures)
        wait_done (f);
    shutdown_wait (executor);

    assert_true (futures[1].is_cancelled ());
    assert_cmpint (recorder.started.length, CompareOperator.EQ, 3);
    foreach (int n in recorder.started)
        assert_cmpint (n, CompareOperator.NE, 1);
    assert_cmpint (futures[3].get_int (), CompareOperator.EQ, 9);
    recorder.runner = null;   // the runner's closure holds the recorder
}

void test_runner_item_without_outcome_fails () {
    var executor = Concurry.ThreadPoolExecutor.new (1);
    var recorder = new Recorder ();
    recorder.forget_item = 2;
    var forgotten = submit_int (executor, recorder.runner, 2);
    var next = submit_int (executor, recorder.runner, 3);
    wait_done (forgotten);
    wait_done (next);
    shutdown_wait (executor);

    unowned GLib.Error? e = forgotten.get_error ();
    assert_true (e != null && e.matches (Concurry.Error.quark (), Concurry.Error.FAILED));
    assert_cmpint (next.get_int (), CompareOperator.EQ, 9);
    recorder.runner = null;   // the runner's closure holds the recorder
}

void test_runner_return_error_carries_payload () {
    var executor = Concurry.ThreadPoolExecutor.new (1);
    var recorder = new Recorder ();
    recorder.fail_item = 5;
    var f = submit_int (executor, recorder.runner, 5);
    wait_done (f);
    shutdown_wait (executor);

    assert_true (f.is_failed ());
    assert_cmpstr (f.get_error ().message, CompareOperator.EQ, "item 5 failed");
    unowned Value? payload = f.get_error_payload ();
    assert_true (payload != null);
    assert_cmpstr (payload.get_string (), CompareOperator.EQ, "payload-5");
    recorder.runner = null;   // the runner's closure holds the recorder
}

// ---------------------------------------------------------------------------
// submit_after and submit_to_runner with inputs

void test_submit_after_waits_for_inputs () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var a = new Concurry.Promise ();
    var b = new Concurry.Promise ();
    int n_runs = 0;
    bool inputs_were_done = true;
    Concurry.Future f;

    try {
        f = executor.submit_after ({a, b}, (c, out v) => {
            AtomicInt.inc (ref n_runs);
            inputs_were_done = a.get_state () == Concurry.FutureState.DONE &&
                               b.get_state () == Concurry.FutureState.DONE;
            v = int_value (a.get_int () + b.get_int ());
        });
    } catch (GLib.Error e) {
        error ("submit_after: %s", e.message);
    }
    assert_true (f.get_state () == Concurry.FutureState.PENDING);
    assert_true (b.resolve_int (2));
    assert_true (f.get_state () == Concurry.FutureState.PENDING);
    assert_true (a.resolve_int (40));
    wait_done (f);
    assert_cmpint (f.get_int (), CompareOperator.EQ, 42);
    shutdown_wait (executor);
    assert_cmpint (n_runs, CompareOperator.EQ, 1);
    assert_true (inputs_were_done);
}

void test_submit_after_fails_with_input_error () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var a = new Concurry.Promise ();
    var b = new Concurry.Promise ();
    int n_runs = 0;
    Concurry.Future f;

    try {
        f = executor.submit_after ({a, b}, (c, out v) => {
            AtomicInt.inc (ref n_runs);
            v = Value (typeof (int));
        });
    } catch (GLib.Error e) {
        error ("submit_after: %s", e.message);
    }
    var reason = new GLib.Error (Concurry.Error.quark (), Concurry.Error.FAILED, "bad input");
    assert_true (b.reject_with_payload (reason, string_value ("the exception")));
    wait_done (f);
    assert_true (f.is_failed ());
    assert_true (f.get_error ().matches (Concurry.Error.quark (), Concurry.Error.FAILED));
    assert_cmpstr (f.get_error ().message, CompareOperator.EQ, "bad input");
    assert_cmpstr (f.get_error_payload ().get_string (), CompareOperator.EQ, "the exception");
    assert_true (a.resolve_int (1));
    shutdown_wait (executor);
    assert_cmpint (n_runs, CompareOperator.EQ, 0);
    assert_true (b.get_error () != null);
}

void test_submit_after_cancelled_by_shutdown_cancel_futures () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var a = new Concurry.Promise ();
    int n_runs = 0;
    Concurry.Future f;

    try {
        f = executor.submit_after ({a}, (c, out v) => {
            AtomicInt.inc (ref n_runs);
            v = Value (typeof (int));
        });
    } catch (GLib.Error e) {
        error ("submit_after: %s", e.message);
    }
    // Waiting for the executor does not wait for the input: it is cancelled.
    shutdown_wait (executor, true);
    assert_true (f.is_cancelled ());
    assert_true (a.resolve_int (1));
    assert_cmpint (n_runs, CompareOperator.EQ, 0);
    assert_false (a.is_cancelled ());
}

void test_submit_after_shutdown_waits_for_it () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var a = new Concurry.Promise ();
    Concurry.Future f;

    try {
        f = executor.submit_after ({a}, (c, out v) => {
            v = int_value (a.get_int ());
        });
    } catch (GLib.Error e) {
        error ("submit_after: %s", e.message);
    }
    var thread = new Thread<int> ("shutdown", () => {
        shutdown_wait (executor);
        return (int) f.get_state ();
    });
    // Whether or not the shutdown is waiting yet, it can only return
    // once the work ran, which needs the input.
    assert_true (a.resolve_int (7));
    assert_cmpint (thread.join (), CompareOperator.EQ, (int) Concurry.FutureState.DONE);
    assert_cmpint (f.get_int (), CompareOperator.EQ, 7);
}

void test_submit_to_runner_waits_for_inputs () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var recorder = new Recorder ();
    var a = new Concurry.Promise ();
    var b = new Concurry.Promise ();
    var waits = submit_int (executor, recorder.runner, 6, {a});
    var fails = submit_int (executor, recorder.runner, 8, {b});
    assert_true (waits.get_state () == Concurry.FutureState.PENDING);

    assert_true (b.reject (new IOError.NOT_FOUND ("gone")));
    wait_done (fails);
    assert_true (fails.get_error ().matches (IOError.quark (), IOError.NOT_FOUND));
    assert_true (waits.get_state () == Concurry.FutureState.PENDING);
    assert_true (a.resolve_int (0));
    wait_done (waits);
    assert_cmpint (waits.get_int (), CompareOperator.EQ, 36);
    shutdown_wait (executor);
    assert_cmpint (recorder.started.length, CompareOperator.EQ, 1);
    assert_cmpint (recorder.started[0], CompareOperator.EQ, 6);
    assert_true (b.get_error () != null);
    recorder.runner = null;   // the runner's closure holds the recorder
}

// ---------------------------------------------------------------------------
// cancel_pending

void test_cancel_pending_leaves_running_work () {
    var executor = Concurry.ThreadPoolExecutor.new (1);
    var gate = new Gate ();
    int n_runs = 0;
    Concurry.Future running, queued;

    try {
        running = executor.submit ((c, out v) => {
            gate.pass ();
            v = Value (typeof (bool));
            v.set_boolean (c.is_cancelled ());
        });
        gate.wait_for (1);
        queued = executor.submit ((c, out v) => {
            AtomicInt.inc (ref n_runs);
            v = Value (typeof (int));
        });
    } catch (GLib.Error e) {
        error ("submit: %s", e.message);
    }

    assert_true (running.is_running ());
    assert_false (running.cancel_pending ());
    assert_true (running.is_running ());
    assert_true (queued.cancel_pending ());
    assert_true (queued.is_cancelled ());

    gate.open ();
    wait_done (running);
    shutdown_wait (executor);
    assert_true (running.get_state () == Concurry.FutureState.DONE);
    assert_false (running.get_boolean ());   // its cancellable was never tripped
    assert_cmpint (n_runs, CompareOperator.EQ, 0);
}

// ---------------------------------------------------------------------------
// add_done_callback_direct

void test_direct_callback_runs_on_completing_thread () {
    var p = new Concurry.Promise ();
    var mutex = Mutex ();
    void* callback_thread = null;
    bool completer_returned = false;
    bool returned_when_called = true;
    int n_calls = 0;

    uint id = p.add_done_callback_direct ((f) => {
        mutex.lock ();
        callback_thread = (void*) Thread.self<bool> ();
        returned_when_called = completer_returned;
        n_calls++;
        mutex.unlock ();
    });
    assert_cmpuint (id, CompareOperator.NE, 0);

    var completer = new Thread<void*> ("completer", () => {
        assert_true (p.resolve_int (1));
        mutex.lock ();
        completer_returned = true;
        mutex.unlock ();
        return (void*) Thread.self<bool> ();
    });
    void* completing = completer.join ();

    // On the completing thread, before resolve () returned, with no main loop.
    assert_cmpint (n_calls, CompareOperator.EQ, 1);
    assert_true (callback_thread == completing);
    assert_false (returned_when_called);
}

void test_direct_callback_runs_at_once_when_done () {
    var done = Concurry.ResolvedFuture.new_int (3);
    void* callback_thread = null;
    int n_calls = 0;

    done.add_done_callback_direct ((f) => {
        callback_thread = (void*) Thread.self<bool> ();
        n_calls++;
    });
    // Inside the call, on this thread.
    assert_cmpint (n_calls, CompareOperator.EQ, 1);
    assert_true (callback_thread == (void*) Thread.self<bool> ());
}

void test_direct_callbacks_run_in_order_added () {
    var p = new Concurry.Promise ();
    var order = new StringBuilder ();
    p.add_done_callback_direct ((f) => order.append_c ('a'));
    uint removed = p.add_done_callback_direct ((f) => order.append_c ('b'));
    p.add_done_callback_direct ((f) => order.append_c ('c'));
    assert_true (p.remove_done_callback (removed));
    assert_true (p.cancel ());
    assert_cmpstr (order.str, CompareOperator.EQ, "ac");
}

// ---------------------------------------------------------------------------
// Error payloads

void test_error_payload_set_and_get () {
    var e = new GLib.Error (Concurry.Error.quark (), Concurry.Error.FAILED, "x");
    assert_true (Concurry.Error.get_payload (e) == null);
    Concurry.Error.set_payload (e, int_value (11));
    assert_cmpint (Concurry.Error.get_payload (e).get_int (), CompareOperator.EQ, 11);
    var copy = e.copy ();
    assert_cmpint (Concurry.Error.get_payload (copy).get_int (), CompareOperator.EQ, 11);
    Concurry.Error.set_payload (e, null);
    assert_true (Concurry.Error.get_payload (e) == null);
    assert_cmpint (Concurry.Error.get_payload (copy).get_int (), CompareOperator.EQ, 11);
    var io = new IOError.FAILED ("io");
    assert_true (Concurry.Error.get_payload (io) == null);
}

void test_error_payload_survives_gather_and_chains () {
    var p = new Concurry.Promise ();
    var exception = new Object ();
    var gathered = Concurry.gather ({Concurry.ResolvedFuture.new_int (1), p}, Concurry.GatherFlags.NONE);
    bool handler_saw_payload = false;
    var then = gathered.and_then ((f, out result) => {
        assert_not_reached ();
    });
    var caught = then.catch_error ((f, out result) => {
        unowned Value? payload = f.get_error_payload ();
        handler_saw_payload = payload != null && payload.get_object () == exception;
        throw f.get_error ().copy ();
    });

    var v = Value (typeof (Object));
    v.set_object (exception);
    assert_true (p.reject_with_payload (new GLib.Error (Concurry.Error.quark (), Concurry.Error.FAILED, "boom"), v));
    wait_done (caught);

    // The very object, at every step.
    assert_true (p.get_error_payload ().get_object () == exception);
    assert_true (gathered.get_error_payload ().get_object () == exception);
    assert_true (then.get_error_payload ().get_object () == exception);
    assert_true (handler_saw_payload);
    assert_true (caught.get_error_payload ().get_object () == exception);
    assert_cmpstr (caught.get_error ().message, CompareOperator.EQ, "boom");
}

void test_error_payload_only_for_concurry_errors () {
    var p = new Concurry.Promise ();
    assert_true (p.reject_with_payload (new IOError.NOT_FOUND ("io"), int_value (1)));
    assert_true (p.get_error ().matches (IOError.quark (), IOError.NOT_FOUND));
    assert_true (p.get_error_payload () == null);
    assert_false (p.reject_with_payload (new GLib.Error (Concurry.Error.quark (), Concurry.Error.FAILED, "late"), null));

    var ours = Concurry.ResolvedFuture.new_error_with_payload (
        new GLib.Error (Concurry.Error.quark (), Concurry.Error.FAILED, "ours"), int_value (99));
    assert_cmpint (ours.get_error_payload ().get_int (), CompareOperator.EQ, 99);
    var other = Concurry.ResolvedFuture.new_error_with_payload (new IOError.NOT_FOUND ("io"), int_value (99));
    assert_true (other.get_error_payload () == null);
    assert_true (Concurry.ResolvedFuture.new_int (1).get_error_payload () == null);
}

// ---------------------------------------------------------------------------
// Map

void test_map_dropped_results_still_run_every_item () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var counter = new Counter (200);
    int n_runs = 0;

    try {
        var results = executor.map ((item, c, out result) => {
            AtomicInt.inc (ref n_runs);
            result = int_value (item.get_int () * item.get_int ());
        }, counter.read, -1, 1, 2);
        Value v;
        assert_true (results.next (out v));
        assert_cmpint (v.get_int (), CompareOperator.EQ, 0);
        assert_cmpint (AtomicInt.get (ref counter.n_read), CompareOperator.LT, 200);
        // results dropped here, without close ()
    } catch (GLib.Error e) {
        error ("map: %s", e.message);
    }
    shutdown_wait (executor);
    assert_cmpint (counter.n_read, CompareOperator.EQ, 200);
    assert_cmpint (n_runs, CompareOperator.EQ, 200);
}

void test_map_close_stops_an_endless_map () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var counter = new Counter (-1);
    int n_runs = 0;

    try {
        var results = executor.map ((item, c, out result) => {
            AtomicInt.inc (ref n_runs);
            result = int_value (item.get_int ());
        }, counter.read, -1, 1, 2);
        Value v;
        for (int i = 0; i < 3; i++) {
            assert_true (results.next (out v));
            assert_cmpint (v.get_int (), CompareOperator.EQ, i);
        }
        results.close ();
        assert_false (results.next (out v));
    } catch (GLib.Error e) {
        error ("map: %s", e.message);
    }
    // With an endless input, this returns only because the map stopped.
    shutdown_wait (executor);
    assert_cmpint (AtomicInt.get (ref n_runs), CompareOperator.LE, AtomicInt.get (ref counter.n_read));
}

void test_map_dropped_stopped_by_shutdown_cancel_futures () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var counter = new Counter (-1);

    try {
        var results = executor.map ((item, c, out result) => {
            result = int_value (item.get_int ());
        }, counter.read, -1, 1, 2);
        Value v;
        assert_true (results.next (out v));
    } catch (GLib.Error e) {
        error ("map: %s", e.message);
    }
    // A dropped map of an endless input runs until stopped: this does.
    shutdown_wait (executor, true);
}

void test_map_runner_map_in_order () {
    var executor = Concurry.ThreadPoolExecutor.new (3);
    var recorder = new Recorder ();
    recorder.expected_data = "shared";
    var counter = new Counter (300);
    int expected = 0;

    try {
        // Chunks of 100: a runner call takes at most 64 of them.
        var results = executor.map_with_runner (recorder.runner, string_value ("shared"),
                                                counter.read, -1, 100, 0);
        foreach (var v in results) {
            assert_cmpint (v.get_int (), CompareOperator.EQ, expected * expected);
            expected++;
        }
    } catch (GLib.Error e) {
        error ("map_with_runner: %s", e.message);
    }
    assert_cmpint (expected, CompareOperator.EQ, 300);
    shutdown_wait (executor);
    assert_true (recorder.data_ok);
    foreach (uint size in recorder.sizes)
        assert_cmpuint (size, CompareOperator.LE, 64);
    assert_cmpuint (recorder.n_with_future, CompareOperator.EQ, 0);
    recorder.runner = null;   // the runner's closure holds the recorder
}

// A runner handing over parts: item n gives n * 10 and n * 10 + 1 as
// parts, then ends with n * 10 + 2 once @release is set (the gate the
// test opens after it read the parts).
class PartsRunner : Object {
    public Concurry.Runner runner;
    public Mutex mutex = Mutex ();
    public Cond cond = Cond ();
    public bool release = false;

    public PartsRunner () {
        runner = new Concurry.Runner (run);
    }

    private void run (Concurry.WorkBatch batch) {
        for (uint i = 0; i < batch.get_size (); i++) {
            unowned Value? item = batch.start (i);
            if (item == null)
                continue;
            int n = item.get_int ();
            batch.return_part (i, int_value (n * 10));
            batch.return_part (i, int_value (n * 10 + 1));
            mutex.lock ();
            while (!release)
                cond.wait (mutex);
            mutex.unlock ();
            batch.return_value (i, int_value (n * 10 + 2));
        }
    }

    public void open () {
        mutex.lock ();
        release = true;
        cond.broadcast ();
        mutex.unlock ();
    }
}

void test_map_runner_parts_are_results_before_the_item_ends () {
    var executor = Concurry.ThreadPoolExecutor.new (1);
    var parts = new PartsRunner ();
    var counter = new Counter (2);
    int[] got = {};

    try {
        // Both items in one chunk: item 0 holds it until the test opens.
        var results = executor.map_with_runner (parts.runner, null, counter.read, -1, 2, 1);
        Value v;
        assert_true (results.next (out v));
        got += v.get_int ();
        assert_true (results.next (out v));
        got += v.get_int ();
        parts.open ();
        foreach (var rest in results)
            got += rest.get_int ();
    } catch (GLib.Error e) {
        error ("map_with_runner: %s", e.message);
    }
    shutdown_wait (executor);
    assert_cmpint (got.length, CompareOperator.EQ, 6);
    int[] expected = { 0, 1, 2, 10, 11, 12 };
    for (int i = 0; i < 6; i++)
        assert_cmpint (got[i], CompareOperator.EQ, expected[i]);
    parts.runner = null;   // the runner's closure holds the parts runner
}

class HintCounter : Object {
    public int end;
    public int next = 0;
    public uint[] hints = {};

    public HintCounter (int end) {
        this.end = end;
    }

    public bool read (out Value item) throws GLib.Error {
        if (next >= end) {
            item = Value (typeof (int));
            return false;
        }
        hints += Concurry.map_input_hint ();
        item = int_value (next++);
        return true;
    }
}

void test_map_input_hint_grows_for_quick_items () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var recorder = new Recorder ();
    var counter = new HintCounter (40);
    int expected = 0;

    assert_cmpuint (Concurry.map_input_hint (), CompareOperator.EQ, 1);
    try {
        var results = executor.map_with_runner (recorder.runner, null, counter.read, -1, 1, 2);
        foreach (var v in results) {
            assert_cmpint (v.get_int (), CompareOperator.EQ, expected * expected);
            expected++;
        }
    } catch (GLib.Error e) {
        error ("map_with_runner: %s", e.message);
    }
    assert_cmpint (expected, CompareOperator.EQ, 40);
    shutdown_wait (executor);
    assert_cmpuint (counter.hints[0], CompareOperator.EQ, 1);
    uint max = 0;
    foreach (uint hint in counter.hints) {
        assert_cmpuint (hint, CompareOperator.GE, 1);
        assert_cmpuint (hint, CompareOperator.LE, 16);
        max = uint.max (max, hint);
    }
    // quick items: read in groups once some of them ran (not under
    // valgrind, CONCURRY_TEST_SLOW, where nothing runs in 20 µs)
    if (Environment.get_variable ("CONCURRY_TEST_SLOW") == null)
        assert_cmpuint (max, CompareOperator.GT, 1);
    recorder.runner = null;
}

void test_map_runner_error_has_payload () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var recorder = new Recorder ();
    recorder.fail_item = 7;
    var counter = new Counter (16);
    Concurry.MapResults results;
    int expected = 0;

    try {
        results = executor.map_with_runner (recorder.runner, null, counter.read, -1, 16, 0);
    } catch (GLib.Error e) {
        error ("map_with_runner: %s", e.message);
    }
    assert_true (results.get_error_payload () == null);
    try {
        Value v;
        while (results.next (out v)) {
            assert_cmpint (v.get_int (), CompareOperator.EQ, expected * expected);
            expected++;
        }
        assert_not_reached ();
    } catch (GLib.Error e) {
        assert_true (e.matches (Concurry.Error.quark (), Concurry.Error.FAILED));
        assert_cmpstr (e.message, CompareOperator.EQ, "item 7 failed");
    }
    assert_cmpint (expected, CompareOperator.EQ, 7);
    assert_cmpstr (results.get_error_payload ().get_string (), CompareOperator.EQ, "payload-7");
    shutdown_wait (executor);
    // One batch: the items after the failure were not started.
    assert_cmpint (recorder.started.length, CompareOperator.EQ, 8);
    assert_cmpuint (recorder.n_skipped, CompareOperator.EQ, 8);
    recorder.runner = null;   // the runner's closure holds the recorder
}

void test_map_next_until_slice_keeps_the_item () {
    var executor = Concurry.ThreadPoolExecutor.new (2);
    var gate = new Gate ();
    var counter = new Counter (5);
    int expected = 0;

    try {
        var results = executor.map ((item, c, out result) => {
            gate.pass ();
            result = int_value (item.get_int () * item.get_int ());
        }, counter.read, -1, 1, 0);
        Value v;
        bool timed_out;
        // Nothing can be ready while the gate is closed.
        for (int i = 0; i < 2; i++) {
            assert_false (results.next_until (get_monotonic_time (), out v, out timed_out));
            assert_true (timed_out);
        }
        gate.open ();
        while (results.next_until (-1, out v, out timed_out)) {
            assert_false (timed_out);
            assert_cmpint (v.get_int (), CompareOperator.EQ, expected * expected);
            expected++;
        }
        assert_false (timed_out);
    } catch (GLib.Error e) {
        error ("map: %s", e.message);
    }
    assert_cmpint (expected, CompareOperator.EQ, 5);
    shutdown_wait (executor);
}

// ---------------------------------------------------------------------------
// AsCompleted.next_until

void test_as_completed_next_until_slice_does_not_exhaust () {
    var a = new Concurry.Promise ();
    var b = new Concurry.Promise ();
    var it = Concurry.as_completed ({a, b}, -1);

    try {
        assert_true (it.next_until (get_monotonic_time ()) == null);
        assert_cmpuint (it.get_n_remaining (), CompareOperator.EQ, 2);
        assert_true (b.resolve_int (2));
        assert_true (it.next_until (-1) == b);
        assert_true (it.next_until (get_monotonic_time ()) == null);
        assert_cmpuint (it.get_n_remaining (), CompareOperator.EQ, 1);
        assert_true (a.resolve_int (1));
        assert_true (it.next_until (get_monotonic_time () - 1) == a);
        assert_true (it.next_until (-1) == null);
        assert_cmpuint (it.get_n_remaining (), CompareOperator.EQ, 0);
    } catch (GLib.Error e) {
        error ("next_until: %s", e.message);
    }
}


// ---------------------------------------------------------------------------
// An executor made outside concurry, in Vala: runs work at once, in submit ()

class InlineExecutor : Object, Concurry.Executor {
    public bool shut_down = false;
    public uint n_submitted = 0;

    public Concurry.Future submit (owned Concurry.WorkFunc func) throws GLib.Error {
        if (shut_down)
            throw new Concurry.Error.SHUT_DOWN ("shut down");
        n_submitted++;
        var promise = new Concurry.Promise ();
        try {
            Value v;
            func (promise.get_cancellable (), out v);
            promise.resolve (v);
        } catch (GLib.Error e) {
            promise.reject (e);
        }
        return promise;
    }

    public bool shutdown (bool wait, bool cancel_futures) throws GLib.Error {
        shut_down = true;
        return true;
    }

    public bool is_shutdown () {
        return shut_down;
    }

    public uint get_max_workers () {
        return 1;
    }
}

void test_own_executor_submit_after_waits_for_inputs () {
    var executor = new InlineExecutor ();
    var a = new Concurry.Promise ();
    Concurry.Future f;

    try {
        f = executor.submit_after ({a}, (c, out v) => {
            v = int_value (a.get_int () + 1);
        });
    } catch (GLib.Error e) {
        error ("submit_after: %s", e.message);
    }
    // Pending until its input is done, on an executor made outside concurry too.
    assert_true (f.get_state () == Concurry.FutureState.PENDING);
    assert_cmpuint (executor.n_submitted, CompareOperator.EQ, 0);
    assert_true (a.resolve_int (41));
    assert_cmpuint (executor.n_submitted, CompareOperator.EQ, 1);
    assert_cmpint (f.get_int (), CompareOperator.EQ, 42);
}

void test_own_executor_map_with_runner () {
    var executor = new InlineExecutor ();
    var recorder = new Recorder ();
    var counter = new Counter (10);
    int expected = 0;

    try {
        foreach (var v in executor.map_with_runner (recorder.runner, null, counter.read, -1, 3, 0)) {
            assert_cmpint (v.get_int (), CompareOperator.EQ, expected * expected);
            expected++;
        }
    } catch (GLib.Error e) {
        error ("map_with_runner: %s", e.message);
    }
    assert_cmpint (expected, CompareOperator.EQ, 10);
    recorder.runner = null;   // the runner's closure holds the recorder
}

int main (string[] args) {
    Test.init (ref args);

    Test.add_func ("/concurry/vala/runner/batch-runs-items-in-order", test_runner_batch_runs_items_in_order);
    Test.add_func ("/concurry/vala/runner/cancelled-queued-item-is-never-started", test_runner_cancelled_queued_item_is_never_started);
    Test.add_func ("/concurry/vala/runner/forwarding-takes-what-is-queued-in-one-batch", test_forwarding_runner_takes_what_is_queued_in_one_batch);
    Test.add_func ("/concurry/vala/runner/item-without-outcome-fails", test_runner_item_without_outcome_fails);
    Test.add_func ("/concurry/vala/runner/return-error-carries-payload", test_runner_return_error_carries_payload);

    Test.add_func ("/concurry/vala/executor/submit-after-waits-for-inputs", test_submit_after_waits_for_inputs);
    Test.add_func ("/concurry/vala/executor/submit-after-fails-with-input-error", test_submit_after_fails_with_input_error);
    Test.add_func ("/concurry/vala/executor/submit-after-cancelled-by-shutdown-cancel-futures", test_submit_after_cancelled_by_shutdown_cancel_futures);
    Test.add_func ("/concurry/vala/executor/submit-after-shutdown-waits-for-it", test_submit_after_shutdown_waits_for_it);
    Test.add_func ("/concurry/vala/executor/submit-to-runner-waits-for-inputs", test_submit_to_runner_waits_for_inputs);

    Test.add_func ("/concurry/vala/future/cancel-pending-leaves-running-work", test_cancel_pending_leaves_running_work);
    Test.add_func ("/concurry/vala/future/direct-callback-runs-on-completing-thread", test_direct_callback_runs_on_completing_thread);
    Test.add_func ("/concurry/vala/future/direct-callback-runs-at-once-when-done", test_direct_callback_runs_at_once_when_done);
    Test.add_func ("/concurry/vala/future/direct-callbacks-run-in-order-added", test_direct_callbacks_run_in_order_added);

    Test.add_func ("/concurry/vala/error/payload-set-and-get", test_error_payload_set_and_get);
    Test.add_func ("/concurry/vala/error/payload-survives-gather-and-chains", test_error_payload_survives_gather_and_chains);
    Test.add_func ("/concurry/vala/error/payload-only-for-concurry-errors", test_error_payload_only_for_concurry_errors);

    Test.add_func ("/concurry/vala/map/dropped-results-still-run-every-item", test_map_dropped_results_still_run_every_item);
    Test.add_func ("/concurry/vala/map/close-stops-an-endless-map", test_map_close_stops_an_endless_map);
    Test.add_func ("/concurry/vala/map/dropped-stopped-by-shutdown-cancel-futures", test_map_dropped_stopped_by_shutdown_cancel_futures);
    Test.add_func ("/concurry/vala/map/runner-map-in-order", test_map_runner_map_in_order);
    Test.add_func ("/concurry/vala/map/runner-error-has-payload", test_map_runner_error_has_payload);
    Test.add_func ("/concurry/vala/map/input-hint-grows-for-quick-items", test_map_input_hint_grows_for_quick_items);
    Test.add_func ("/concurry/vala/map/runner-parts-are-results-before-the-item-ends",
                   test_map_runner_parts_are_results_before_the_item_ends);
    Test.add_func ("/concurry/vala/map/next-until-slice-keeps-the-item", test_map_next_until_slice_keeps_the_item);

    Test.add_func ("/concurry/vala/as-completed/next-until-slice-does-not-exhaust", test_as_completed_next_until_slice_does_not_exhaust);

    Test.add_func ("/concurry/vala/own-executor/submit-after-waits-for-inputs", test_own_executor_submit_after_waits_for_inputs);
    Test.add_func ("/concurry/vala/own-executor/map-with-runner", test_own_executor_map_with_runner);

    return Test.run ();
}
