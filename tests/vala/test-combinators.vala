// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Vala tests of the concurry combinators through the generated
// concurry-1.vapi: `yield` on the futures of gather, any, race, wait_future,
// delay, timeout, with_timeout and chains (through wait_async), errors
// propagated down a chain and caught by domain and code, Concurry.wait with
// its modes and timeouts, as_completed (blocking and async loops) and
// Concurry.CompletionList.
//
// Other threads complete promises through the ConcurryTest helpers; nothing
// synchronises with sleeps: async bodies run on a main loop guarded by a
// deadline, or the main context is iterated until a condition holds.
//
// G_DEBUG=fatal-warnings is set: every failed future made here has its
// error looked at before it is dropped.
//
// No `using Concurry;`: Concurry.Error would clash with GLib.Error.

// ---------------------------------------------------------------------------
// Helpers

delegate void AsyncBody (AsyncReadyCallback done);
delegate bool Condition ();

const uint DEADLINE_MS = 60000;   // only a hang gets there
const int64 MS = 1000;
const int64 SECOND = TimeSpan.SECOND;
const int64 BLOCK = 60 * SECOND;   // bound for calls that must return early: a hang

// Runs an async test body to completion on a main loop, failing the test if
// it does not finish within @timeout_ms.
void run_async (AsyncBody body, uint timeout_ms = DEADLINE_MS) {
    var loop = new MainLoop (null, false);
    bool finished = false;
    bool timed_out = false;

    uint guard = Timeout.add (timeout_ms, () => {
        timed_out = true;
        loop.quit ();
        return Source.REMOVE;
    });
    body ((obj, res) => {
        finished = true;
        loop.quit ();
    });
    if (!finished)
        loop.run ();
    if (timed_out)
        error ("the test did not finish within %u ms", timeout_ms);
    Source.remove (guard);
}

// Iterates the default main context until @cond holds, or fails the test.
void iterate_until (Condition cond, uint timeout_ms = DEADLINE_MS) {
    bool timed_out = false;
    uint guard = Timeout.add (timeout_ms, () => {
        timed_out = true;
        return Source.REMOVE;
    });
    while (!cond () && !timed_out)
        MainContext.default ().iteration (true);
    if (timed_out)
        error ("condition not reached within %u ms", timeout_ms);
    Source.remove (guard);
}

// Dispatches what is ready on the default main context, without blocking.
void drain () {
    for (int i = 0; i < 1000 && MainContext.default ().pending (); i++)
        MainContext.default ().iteration (false);
}

// Calls @fn from the default main context after @ms milliseconds.
void later (uint ms, owned SourceFunc fn) {
    Timeout.add (ms, () => {
        fn ();
        return Source.REMOVE;
    });
}

void assert_state (Concurry.Future f, Concurry.FutureState expected) {
    var state = f.get_state ();
    if (state != expected)
        error ("expected state %s, got %s", expected.to_string (), state.to_string ());
}

// Checks that @set holds exactly @expected, the same instances in order.
void assert_set (GenericArray<weak Concurry.Future> set, Concurry.Future[] expected, string what) {
    if (set.length != expected.length)
        error ("%s: expected %d futures, got %u", what, expected.length, set.length);
    for (int i = 0; i < expected.length; i++) {
        if (set[i] != expected[i])
            error ("%s: item %d is not the instance given", what, i);
    }
}

Concurry.Promise promise () {
    return new Concurry.Promise ();
}

Concurry.Promise rejected (string message) {
    var p = new Concurry.Promise ();
    p.reject_literal (IOError.quark (), IOError.FAILED, message);
    return p;
}

Value int_value (int i) {
    var v = Value (typeof (int));
    v.set_int (i);
    return v;
}

Value future_value (Concurry.Future f) {
    var v = Value (typeof (Concurry.Future));
    v.set_object (f);
    return v;
}

void observe (Concurry.Future[] futures) {
    foreach (var f in futures)
        f.get_error ();
}

// Awaits @f, which must fail; returns its error.
async GLib.Error failure_of (Concurry.Future f) {
    try {
        yield f.wait_async (null);
    } catch (GLib.Error e) {
        return e;
    }
    error ("the future did not fail");
}

// ---------------------------------------------------------------------------
// wait

void test_wait_done_and_duplicates () {
    var a = Concurry.ResolvedFuture.new_int (1);
    var b = rejected ("b failed");
    var c = promise ();
    c.cancel ();
    Concurry.WaitMode[] modes = {
        Concurry.WaitMode.ALL_COMPLETED, Concurry.WaitMode.FIRST_COMPLETED, Concurry.WaitMode.FIRST_EXCEPTION
    };
    foreach (var mode in modes) {
        GenericArray<weak Concurry.Future> done, not_done;
        assert_true (Concurry.wait ({ c, a, b, a, c }, mode, 0, out done, out not_done));
        assert_set (done, { c, a, b }, "done");
        assert_set (not_done, {}, "not done");
    }
    observe ({ b });
}

void test_wait_empty () {
    foreach (int64 timeout in new int64[] { 0, -1, SECOND }) {
        GenericArray<weak Concurry.Future> done, not_done;
        assert_true (Concurry.wait ({}, Concurry.WaitMode.ALL_COMPLETED, timeout, out done, out not_done));
        assert_cmpuint (done.length, CompareOperator.EQ, 0);
        assert_cmpuint (not_done.length, CompareOperator.EQ, 0);
    }
}

void test_wait_timeouts () {
    var p = promise ();
    var r = Concurry.ResolvedFuture.new_int (2);
    GenericArray<weak Concurry.Future> done, not_done;

    // 0 polls.
    int64 start = get_monotonic_time ();
    assert_false (Concurry.wait ({ p, r, p }, Concurry.WaitMode.ALL_COMPLETED, 0, out done, out not_done));
    assert_set (done, { r }, "done (poll)");
    assert_set (not_done, { p }, "not done (poll)");
    assert_true (Concurry.wait ({ p, r }, Concurry.WaitMode.FIRST_COMPLETED, 0, out done, out not_done));

    // A positive timeout returns the sets once it passed.
    start = get_monotonic_time ();
    assert_false (Concurry.wait ({ r, p }, Concurry.WaitMode.ALL_COMPLETED, 50 * MS, out done, out not_done));
    int64 elapsed = get_monotonic_time () - start;
    if (elapsed < 50 * MS)
        error ("wait returned after %" + int64.FORMAT + " us", elapsed);
    assert_set (done, { r }, "done (timeout)");
    assert_set (not_done, { p }, "not done (timeout)");

    // A negative timeout waits for a worker thread as long as needed.
    ConcurryTest.resolve_in_thread (p, 3);
    assert_true (Concurry.wait ({ p, r }, Concurry.WaitMode.ALL_COMPLETED, -1, out done, out not_done));
    assert_set (done, { p, r }, "done (forever)");
    assert_cmpint (p.get_int (), CompareOperator.EQ, 3);
}

void test_wait_modes () {
    var r = Concurry.ResolvedFuture.new_int (1);
    var p = promise ();
    var q = promise ();
    GenericArray<weak Concurry.Future> done, not_done;

    // FIRST_COMPLETED: one completed by another thread is enough.
    ConcurryTest.resolve_in_thread (q, 7);
    assert_true (Concurry.wait ({ p, q }, Concurry.WaitMode.FIRST_COMPLETED, BLOCK, out done, out not_done));
    assert_set (done, { q }, "FIRST_COMPLETED done");
    assert_set (not_done, { p }, "FIRST_COMPLETED not done");

    // FIRST_EXCEPTION: returns at a failure, with all that finished by then.
    var bad = promise ();
    ConcurryTest.reject_in_thread (bad, "worker failed");
    assert_true (Concurry.wait ({ r, p, bad }, Concurry.WaitMode.FIRST_EXCEPTION, BLOCK, out done, out not_done));
    assert_set (done, { r, bad }, "FIRST_EXCEPTION done");
    assert_set (not_done, { p }, "FIRST_EXCEPTION not done");
    assert_cmpstr (bad.get_error ().message, CompareOperator.EQ, "worker failed");

    // A cancellation is not a failure; without a failure it waits for all.
    var cancelled = promise ();
    cancelled.cancel ();
    assert_false (Concurry.wait ({ p, cancelled }, Concurry.WaitMode.FIRST_EXCEPTION, 0, out done, out not_done));
    assert_set (done, { cancelled }, "cancelled is done");
    ConcurryTest.resolve_in_thread (p, 1);
    assert_true (Concurry.wait ({ p, cancelled, r }, Concurry.WaitMode.FIRST_EXCEPTION, BLOCK, out done, out not_done));
    assert_set (done, { p, cancelled, r }, "FIRST_EXCEPTION without failure");
    assert_set (not_done, {}, "nothing left");
}

void test_wait_runs_main_context () {
    // Completed by a main-context source while the main thread blocks.
    var p = promise ();
    later (10, () => { p.resolve_int (1); return false; });
    GenericArray<weak Concurry.Future> done, not_done;
    assert_true (Concurry.wait ({ p }, Concurry.WaitMode.ALL_COMPLETED, BLOCK, out done, out not_done));
    assert_set (done, { p }, "done");
}

async void wait_future_body () {
    var a = promise ();
    var b = promise ();
    var first = Concurry.wait_future ({ a, b }, Concurry.WaitMode.FIRST_COMPLETED);
    var all = Concurry.wait_future ({ a, b }, Concurry.WaitMode.ALL_COMPLETED);
    ConcurryTest.resolve_in_thread (b, 2);
    try {
        assert_true (yield first.wait_async (null));
        assert_true (first.get_value () == null);
        assert_false (all.is_done ());
        later (5, () => { a.cancel (); return false; });
        assert_true (yield all.wait_async (null));
        assert_state (a, Concurry.FutureState.CANCELLED);
        assert_true (yield Concurry.wait_future ({}, Concurry.WaitMode.FIRST_COMPLETED).wait_async (null));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
}

void test_wait_future () {
    run_async ((done) => wait_future_body.begin (done));
}

// ---------------------------------------------------------------------------
// gather, any, race

async void gather_body () {
    var ps = new Concurry.Promise[] { promise (), promise (), promise () };
    var gathered = Concurry.gather ({ ps[0], ps[1], ps[2], ps[0] }, Concurry.GatherFlags.NONE);
    ConcurryTest.resolve_in_thread (ps[2], 20);
    later (10, () => { ps[1].resolve_int (10); return false; });
    later (20, () => { ps[0].resolve_int (0); return false; });
    try {
        assert_true (yield gathered.wait_async (null));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_true (gathered.get_value ().holds (typeof (GenericArray)));
    unowned GenericArray<Concurry.Future> array = (GenericArray<Concurry.Future>) gathered.get_boxed ();
    assert_cmpuint (array.length, CompareOperator.EQ, 4);
    Concurry.Future[] expected = { ps[0], ps[1], ps[2], ps[0] };
    for (int i = 0; i < 4; i++) {
        assert_true (array[i] == expected[i]);
        assert_cmpint (array[i].get_int (), CompareOperator.EQ, i == 3 ? 0 : i * 10);
    }
}

void test_gather_order () {
    run_async ((done) => gather_body.begin (done));
}

async void gather_failures_body () {
    // The first failure to happen, at once.
    var a = promise ();
    var b = promise ();
    var c = promise ();
    var gathered = Concurry.gather ({ a, b, c }, Concurry.GatherFlags.NONE);
    later (5, () => { c.reject_literal (IOError.quark (), IOError.NOT_FOUND, "c is missing"); return false; });
    try {
        yield gathered.wait_async (null);
        error ("gather did not fail");
    } catch (IOError.NOT_FOUND e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "c is missing");
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_state (a, Concurry.FutureState.PENDING);
    assert_state (b, Concurry.FutureState.PENDING);

    // All outcomes: waits for every input and succeeds.
    var outcomes = Concurry.gather ({ a, b, c }, Concurry.GatherFlags.ALL_OUTCOMES);
    a.reject_literal (IOError.quark (), IOError.EXISTS, "a");
    drain ();
    assert_false (outcomes.is_done ());
    ConcurryTest.resolve_in_thread (b, 1);
    try {
        assert_true (yield outcomes.wait_async (null));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    unowned GenericArray<Concurry.Future> array = (GenericArray<Concurry.Future>) outcomes.get_boxed ();
    assert_true (array[0].get_error () is IOError.EXISTS);
    assert_cmpint (array[1].get_int (), CompareOperator.EQ, 1);
    assert_true (array[2].get_error () is IOError.NOT_FOUND);

    // Cancelling the gather cancels its inputs.
    var x = promise ();
    var y = promise ();
    var both = Concurry.gather ({ x, y }, Concurry.GatherFlags.NONE);
    assert_true (both.cancel ());
    var e = yield failure_of (both);
    assert_true (e is IOError.CANCELLED);
    assert_state (x, Concurry.FutureState.CANCELLED);
    assert_state (y, Concurry.FutureState.CANCELLED);

    // A cancelled input fails it with CANCELLED.
    var z = promise ();
    var with_cancelled = Concurry.gather ({ Concurry.ResolvedFuture.new_int (1), z }, Concurry.GatherFlags.NONE);
    later (5, () => { z.cancel (); return false; });
    e = yield failure_of (with_cancelled);
    assert_true (e is IOError.CANCELLED);
}

void test_gather_failures () {
    run_async ((done) => gather_failures_body.begin (done));
}

void test_gather_empty_and_large () {
    var empty = Concurry.gather ({}, Concurry.GatherFlags.NONE);
    assert_state (empty, Concurry.FutureState.DONE);
    unowned GenericArray<Concurry.Future> none = (GenericArray<Concurry.Future>) empty.get_boxed ();
    assert_cmpuint (none.length, CompareOperator.EQ, 0);

    Concurry.Future[] fs = new Concurry.Future[10000];
    for (int i = 0; i < fs.length; i++)
        fs[i] = Concurry.ResolvedFuture.new_int (i);
    var gathered = Concurry.gather (fs, Concurry.GatherFlags.NONE);
    assert_state (gathered, Concurry.FutureState.DONE);
    unowned GenericArray<Concurry.Future> array = (GenericArray<Concurry.Future>) gathered.get_boxed ();
    assert_cmpuint (array.length, CompareOperator.EQ, 10000);
    for (int i = 0; i < fs.length; i++) {
        if (array[i] != fs[i] || array[i].get_int () != i)
            error ("item %d", i);
    }
}

async void any_race_body () {
    try {
        // any: the first success, skipping failures.
        var a = promise ();
        var b = promise ();
        var first = Concurry.any ({ a, b });
        a.reject_literal (IOError.quark (), IOError.FAILED, "a failed");
        ConcurryTest.resolve_in_thread (b, 33);
        assert_true (yield first.wait_async (null));
        assert_cmpint (first.get_int (), CompareOperator.EQ, 33);
        observe ({ a });

        // any: all failed.
        var all_bad = Concurry.any ({ rejected ("one"), rejected ("two") });
        try {
            yield all_bad.wait_async (null);
            error ("any did not fail");
        } catch (Concurry.Error.FAILED e) {
            assert_true ("one" in e.message);
        }

        // Nothing to choose from.
        try {
            yield Concurry.any ({}).wait_async (null);
            error ("any of nothing did not fail");
        } catch (Concurry.Error.INVALID_STATE e) {
        }
        try {
            yield Concurry.race ({}).wait_async (null);
            error ("race of nothing did not fail");
        } catch (Concurry.Error.INVALID_STATE e) {
        }

        // race: the first outcome, a failure included.
        var c = promise ();
        var d = promise ();
        var raced = Concurry.race ({ c, d });
        later (5, () => { d.reject_literal (IOError.quark (), IOError.EXISTS, "d first"); return false; });
        try {
            yield raced.wait_async (null);
            error ("race did not fail");
        } catch (IOError.EXISTS e) {
            assert_cmpstr (e.message, CompareOperator.EQ, "d first");
        }
        assert_state (c, Concurry.FutureState.PENDING);
        c.resolve_int (1);

        var winner = Concurry.race ({ promise (), Concurry.ResolvedFuture.new_string ("now") });
        assert_true (yield winner.wait_async (null));
        assert_cmpstr (winner.get_string (), CompareOperator.EQ, "now");

        // Cancelling any or race cancels the inputs.
        var e1 = promise ();
        var e2 = promise ();
        assert_true (Concurry.any ({ e1 }).cancel ());
        assert_true (Concurry.race ({ e2 }).cancel ());
        assert_state (e1, Concurry.FutureState.CANCELLED);
        assert_state (e2, Concurry.FutureState.CANCELLED);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
}

void test_any_race () {
    run_async ((done) => any_race_body.begin (done));
}

// ---------------------------------------------------------------------------
// delay, timeout, with_timeout

async void timers_body () {
    try {
        int64 start = get_monotonic_time ();
        var d = Concurry.delay (30 * MS);
        assert_state (d, Concurry.FutureState.PENDING);
        assert_true (yield d.wait_async (null));
        int64 elapsed = get_monotonic_time () - start;
        if (elapsed < 30 * MS)
            error ("delay completed after %" + int64.FORMAT + " us", elapsed);
        assert_true (d.get_value () == null);
        assert_true (yield Concurry.delay (0).wait_async (null));
        assert_true (yield Concurry.delay (-1).wait_async (null));

        try {
            yield Concurry.timeout (20 * MS).wait_async (null);
            error ("timeout did not fail");
        } catch (IOError.TIMED_OUT e) {
        }

        // with_timeout: in time, the outcome of the source.
        var fast = promise ();
        var bounded = fast.with_timeout (BLOCK);
        ConcurryTest.resolve_in_thread (fast, 12);
        assert_true (yield bounded.wait_async (null));
        assert_cmpint (bounded.get_int (), CompareOperator.EQ, 12);

        var failing = promise ();
        var bounded_error = failing.with_timeout (BLOCK);
        later (5, () => { failing.reject_literal (IOError.quark (), IOError.PERMISSION_DENIED, "no way"); return false; });
        try {
            yield bounded_error.wait_async (null);
            error ("with_timeout did not fail");
        } catch (IOError.PERMISSION_DENIED e) {
            assert_cmpstr (e.message, CompareOperator.EQ, "no way");
        }
        observe ({ failing });

        // Too late: TIMED_OUT, and the source goes on.
        var slow = promise ();
        try {
            yield slow.with_timeout (20 * MS).wait_async (null);
            error ("with_timeout did not time out");
        } catch (IOError.TIMED_OUT e) {
        }
        assert_state (slow, Concurry.FutureState.PENDING);
        try {
            yield slow.with_timeout (0).wait_async (null);
            error ("with_timeout (0) did not time out");
        } catch (IOError.TIMED_OUT e) {
        }

        // Cancelling the bounded future cancels the source.
        assert_true (slow.with_timeout (BLOCK).cancel ());
        assert_state (slow, Concurry.FutureState.CANCELLED);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
}

void test_timers () {
    run_async ((done) => timers_body.begin (done));
}

// Delays and timeouts need no main loop: a thread that never iterates a
// context sees them complete.
void test_timers_without_main_loop () {
    int result = 0;
    var thread = new Thread<int> ("no-main-loop", () => {
        try {
            if (!Concurry.delay (10 * MS).wait (BLOCK))
                return 1;
        } catch (GLib.Error e) {
            return 2;
        }
        try {
            Concurry.timeout (10 * MS).wait (BLOCK);
            return 3;
        } catch (IOError.TIMED_OUT e) {
            return 0;
        } catch (GLib.Error e) {
            return 4;
        }
    });
    result = thread.join ();
    assert_cmpint (result, CompareOperator.EQ, 0);
}

// ---------------------------------------------------------------------------
// chains

void *main_thread;

bool on_main_thread () {
    return (void *) Thread.self<void *> () == main_thread;
}

async void chain_body () {
    string[] log = {};
    bool all_on_main = true;
    var a = promise ();
    Concurry.Promise? inner = null;
    var end = a
        .map ((v, out result) => {
            all_on_main = all_on_main && on_main_thread ();
            log += "A %d".printf (v.get_int ());
            result = int_value (v.get_int () * 2);
        })
        .and_then ((f, out result) => {
            all_on_main = all_on_main && on_main_thread ();
            log += "B %d".printf (f.get_int ());
            inner = promise ();
            int next = f.get_int () + 1;
            later (10, () => { inner.resolve_int (next); return false; });
            result = future_value (inner);
        })
        .map ((v, out result) => {
            all_on_main = all_on_main && on_main_thread ();
            log += "C %d".printf (v.get_int ());
            result = Value (typeof (string));
            result.set_string ("result %d".printf (v.get_int ()));
        });
    assert_cmpuint (log.length, CompareOperator.EQ, 0);
    ConcurryTest.resolve_in_thread (a, 10);
    try {
        assert_true (yield end.wait_async (null));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpstr (end.get_string (), CompareOperator.EQ, "result 21");
    assert_cmpstr (string.joinv (",", log), CompareOperator.EQ, "A 10,B 20,C 21");
    assert_true (all_on_main);
    assert_true (ConcurryTest.last_resolve_off_main_thread ());
}

async void finally_then_body () {
    // An error of the clean-up replaces the value, as in a finally block.
    int ran = 0;
    var failed = Concurry.ResolvedFuture.new_int (5)
        .finally_then ((f, out result) => {
            ran++;
            result = Value (typeof (int));
            throw new IOError.PERMISSION_DENIED ("cleanup failed");
        });
    try {
        yield failed.wait_async (null);
        error ("the chain did not fail");
    } catch (IOError.PERMISSION_DENIED e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "cleanup failed");
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (ran, CompareOperator.EQ, 1);

    // A future it gives is waited for; the value then passes through.
    var cleanup = promise ();
    var end = Concurry.ResolvedFuture.new_int (7)
        .finally_then ((f, out result) => {
            ran++;
            result = future_value (cleanup);
        });
    later (5, () => { cleanup.resolve_int (0); return false; });
    try {
        assert_true (yield end.wait_async (null));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_true (cleanup.is_done ());
    assert_cmpint (end.get_int (), CompareOperator.EQ, 7);
    assert_cmpint (ran, CompareOperator.EQ, 2);
}

void test_chain_finally_then () {
    run_async ((done) => finally_then_body.begin (done));
}

void test_chain_flattens () {
    run_async ((done) => chain_body.begin (done));
}

async void chain_errors_body () {
    // An error goes down unchanged, skipping map and and_then.
    var p = promise ();
    int ran = 0;
    Concurry.FutureState finally_saw = Concurry.FutureState.PENDING;
    var end = p
        .map ((v, out result) => { ran++; result = v; })
        .and_then ((f, out result) => { ran++; result = int_value (0); })
        .finally_do ((f) => { finally_saw = f.get_state (); });
    later (5, () => { p.reject_literal (IOError.quark (), IOError.NOT_FOUND, "original"); return false; });
    try {
        yield end.wait_async (null);
        error ("the chain did not fail");
    } catch (IOError.NOT_FOUND e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "original");
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (ran, CompareOperator.EQ, 0);
    assert_true (finally_saw == Concurry.FutureState.FAILED);

    // An error thrown by a step fails the chain; catch_error recovers.
    var healed = Concurry.ResolvedFuture.new_int (1)
        .and_then ((f, out result) => {
            throw new IOError.INVALID_DATA ("bad data");
        })
        .catch_error ((f, out result) => {
            result = Value (typeof (string));
            result.set_string ("caught " + f.get_error ().message);
        });
    try {
        assert_true (yield healed.wait_async (null));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpstr (healed.get_string (), CompareOperator.EQ, "caught bad data");

    // A step's own error, of another domain, keeps it.
    var failed = rejected ("first").catch_error ((f, out result) => {
        throw new Concurry.Error.INVALID_STATE ("second");
    });
    try {
        yield failed.wait_async (null);
        error ("the chain did not fail");
    } catch (Concurry.Error.INVALID_STATE e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "second");
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }

    // catch_error recovering with a future, flattened.
    var replacement = promise ();
    var via_future = rejected ("x").catch_error ((f, out result) => { result = future_value (replacement); });
    later (5, () => { replacement.resolve_int (5); return false; });
    try {
        assert_true (yield via_future.wait_async (null));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (via_future.get_int (), CompareOperator.EQ, 5);

    // Success and cancellation go through catch_error untouched.
    int caught = 0;
    var ok = Concurry.ResolvedFuture.new_int (8).catch_error ((f, out result) => { caught++; result = int_value (0); });
    var q = promise ();
    var gone = q.catch_error ((f, out result) => { caught++; result = int_value (0); });
    q.cancel ();
    try {
        assert_true (yield ok.wait_async (null));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (ok.get_int (), CompareOperator.EQ, 8);
    var e = yield failure_of (gone);
    assert_true (e is IOError.CANCELLED);
    assert_state (gone, Concurry.FutureState.CANCELLED);
    assert_cmpint (caught, CompareOperator.EQ, 0);
}

void test_chain_errors () {
    run_async ((done) => chain_errors_body.begin (done));
}

void test_chain_cancel () {
    // Cancelling the end cancels the upstream it waits on; no step runs.
    var a = promise ();
    int ran = 0;
    var end = a.map ((v, out result) => { ran++; result = v; });
    assert_true (end.cancel ());
    assert_state (a, Concurry.FutureState.CANCELLED);
    assert_state (end, Concurry.FutureState.CANCELLED);
    drain ();
    assert_cmpint (ran, CompareOperator.EQ, 0);

    // Once the step returned a future, the end waits on that one.
    var inner = promise ();
    bool step_ran = false;
    var flat = Concurry.ResolvedFuture.new_int (1).and_then ((f, out result) => {
        step_ran = true;
        result = future_value (inner);
    });
    // Never inside and_then().
    assert_false (step_ran);
    iterate_until (() => step_ran);
    assert_false (flat.is_done ());
    assert_true (flat.cancel ());
    assert_state (inner, Concurry.FutureState.CANCELLED);
}

// finally_do runs whatever the outcome, cancellation of the end of the
// chain, or of a later step, included.
void test_chain_finally_runs_when_cancelled () {
    var p = promise ();
    Concurry.FutureState finally_saw = Concurry.FutureState.PENDING;
    var end = p.finally_do ((f) => { finally_saw = f.get_state (); });
    assert_true (end.cancel ());
    iterate_until (() => finally_saw != Concurry.FutureState.PENDING);
    assert_true (finally_saw == Concurry.FutureState.CANCELLED);
    assert_state (end, Concurry.FutureState.CANCELLED);

    var q = promise ();
    Concurry.FutureState middle_saw = Concurry.FutureState.PENDING;
    var later_end = q
        .finally_do ((f) => { middle_saw = f.get_state (); })
        .map ((v, out result) => { result = v; });
    assert_true (later_end.cancel ());
    iterate_until (() => middle_saw != Concurry.FutureState.PENDING);
    assert_true (middle_saw == Concurry.FutureState.CANCELLED);
    assert_state (q, Concurry.FutureState.CANCELLED);
}

// ---------------------------------------------------------------------------
// as_completed

void test_as_completed_blocking () {
    var r0 = Concurry.ResolvedFuture.new_int (0);
    var p1 = promise ();
    var r2 = Concurry.ResolvedFuture.new_int (2);
    var p3 = promise ();
    var it = Concurry.as_completed ({ r0, p1, r2, p1, p3 }, BLOCK);
    assert_cmpuint (it.get_n_remaining (), CompareOperator.EQ, 4);
    Concurry.Future[] order = {};
    try {
        Concurry.Future? f;
        while ((f = it.next ()) != null) {
            order += f;
            // The done ones come first; then complete p3 from a worker
            // thread, and after it p1 from a main-context source, which
            // next() runs while it blocks.
            if (order.length == 2)
                ConcurryTest.resolve_in_thread (p3, 3);
            else if (order.length == 3)
                later (5, () => { p1.resolve_int (1); return false; });
        }
        assert_true (it.next () == null);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (order.length, CompareOperator.EQ, 4);
    assert_true (order[0] == r0 && order[1] == r2 && order[2] == p3 && order[3] == p1);
    assert_cmpuint (it.get_n_remaining (), CompareOperator.EQ, 0);
}

void test_as_completed_timeouts () {
    var r = Concurry.ResolvedFuture.new_int (1);
    var p = promise ();
    var q = promise ();
    int64 start = get_monotonic_time ();
    var it = Concurry.as_completed ({ p, r, q }, 30 * MS);
    try {
        assert_true (it.next () == r);
        it.next ();
        error ("next did not time out");
    } catch (IOError.TIMED_OUT e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "2 (of 3) futures unfinished");
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    int64 elapsed = get_monotonic_time () - start;
    if (elapsed < 30 * MS)
        error ("timed out after %" + int64.FORMAT + " us", elapsed);

    // 0: only what is done already.
    var polled = Concurry.as_completed ({ p, r }, 0);
    try {
        assert_true (polled.next () == r);
        polled.next ();
        error ("next did not time out");
    } catch (IOError.TIMED_OUT e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "1 (of 2) futures unfinished");
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }

    // Nothing: exhausted at once.
    try {
        assert_true (Concurry.as_completed ({}, 0).next () == null);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    p.cancel ();
    q.cancel ();
}

async void as_completed_async_body () {
    var ps = new Concurry.Promise[] { promise (), promise (), promise () };
    var r = Concurry.ResolvedFuture.new_int (-1);
    var it = Concurry.as_completed ({ ps[0], ps[1], ps[2], r, ps[0] }, -1);
    later (5, () => { ps[2].resolve_int (2); return false; });
    later (15, () => { ps[0].reject_literal (IOError.quark (), IOError.FAILED, "zero"); return false; });
    later (25, () => { ConcurryTest.resolve_in_thread (ps[1], 1); return false; });
    Concurry.Future[] order = {};
    try {
        Concurry.Future? f;
        while ((f = yield it.next_async (null)) != null)
            order += f;
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (order.length, CompareOperator.EQ, 4);
    assert_true (order[0] == r && order[1] == ps[2] && order[2] == ps[0] && order[3] == ps[1]);
    assert_cmpstr (ps[0].get_error ().message, CompareOperator.EQ, "zero");

    // Timing out.
    var p = promise ();
    try {
        yield Concurry.as_completed ({ p }, 20 * MS).next_async (null);
        error ("next_async did not time out");
    } catch (IOError.TIMED_OUT e) {
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    p.cancel ();
}

void test_as_completed_async () {
    run_async ((done) => as_completed_async_body.begin (done));
}

void test_as_completed_large () {
    Concurry.Future[] fs = new Concurry.Future[1000];
    for (int i = 0; i < 1000; i++)
        fs[i] = i % 2 == 0 ? Concurry.ResolvedFuture.new_int (i) : (Concurry.Future) promise ();
    var it = Concurry.as_completed (fs, BLOCK);
    for (int i = 999; i >= 0; i -= 2)
        ((Concurry.Promise) fs[i]).resolve_int (i);
    int[] order = {};
    try {
        Concurry.Future? f;
        while ((f = it.next ()) != null)
            order += f.get_int ();
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (order.length, CompareOperator.EQ, 1000);
    for (int i = 0; i < 500; i++) {
        assert_cmpint (order[i], CompareOperator.EQ, 2 * i);
        assert_cmpint (order[500 + i], CompareOperator.EQ, 999 - 2 * i);
    }
}

// ---------------------------------------------------------------------------
// CompletionList

void test_completion_list () {
    var ps = new Concurry.Promise[] { promise (), promise (), promise () };
    var r = Concurry.ResolvedFuture.new_int (7);
    var list = new Concurry.CompletionList ({ ps[0], r, ps[1], ps[2], ps[1] });
    assert_true (list.get_item_type () == typeof (Concurry.Future));
    assert_cmpuint (list.get_n_items (), CompareOperator.EQ, 0);
    string[] changes = {};
    bool all_on_main = true;
    list.items_changed.connect ((position, removed, added) => {
        all_on_main = all_on_main && on_main_thread ();
        changes += "%u-%u+%u".printf (position, removed, added);
    });

    iterate_until (() => list.get_n_items () == 1);
    ConcurryTest.resolve_in_thread (ps[2], 2);
    iterate_until (() => list.get_n_items () == 2);
    ps[0].reject_literal (IOError.quark (), IOError.FAILED, "zero");
    iterate_until (() => list.get_n_items () == 3);
    ConcurryTest.reject_in_thread (ps[1], "one");
    iterate_until (() => list.get_n_items () == 4);
    drain ();

    assert_cmpuint (list.get_n_items (), CompareOperator.EQ, 4);
    Concurry.Future[] expected = { r, ps[2], ps[0], ps[1] };
    for (uint i = 0; i < 4; i++) {
        var item = (Concurry.Future) list.get_item (i);
        assert_true (item == expected[i]);
    }
    assert_true (list.get_item (4) == null);
    assert_cmpstr (string.joinv (",", changes), CompareOperator.EQ, "0-0+1,1-0+1,2-0+1,3-0+1");
    assert_true (all_on_main);
    observe ({ ps[0], ps[1] });
}

// ---------------------------------------------------------------------------

int main (string[] args) {
    Test.init (ref args);
    main_thread = (void *) Thread.self<void *> ();

    Test.add_func ("/concurry/vala/combinators/wait/done-and-duplicates", test_wait_done_and_duplicates);
    Test.add_func ("/concurry/vala/combinators/wait/empty", test_wait_empty);
    Test.add_func ("/concurry/vala/combinators/wait/timeouts", test_wait_timeouts);
    Test.add_func ("/concurry/vala/combinators/wait/modes", test_wait_modes);
    Test.add_func ("/concurry/vala/combinators/wait/runs-main-context", test_wait_runs_main_context);
    Test.add_func ("/concurry/vala/combinators/wait-future", test_wait_future);
    Test.add_func ("/concurry/vala/combinators/gather/order", test_gather_order);
    Test.add_func ("/concurry/vala/combinators/gather/failures", test_gather_failures);
    Test.add_func ("/concurry/vala/combinators/gather/empty-and-large", test_gather_empty_and_large);
    Test.add_func ("/concurry/vala/combinators/any-race", test_any_race);
    Test.add_func ("/concurry/vala/combinators/timers", test_timers);
    Test.add_func ("/concurry/vala/combinators/timers/no-main-loop", test_timers_without_main_loop);
    Test.add_func ("/concurry/vala/combinators/chain/flattens", test_chain_flattens);
    Test.add_func ("/concurry/vala/combinators/chain/errors", test_chain_errors);
    Test.add_func ("/concurry/vala/combinators/chain/finally-then", test_chain_finally_then);
    Test.add_func ("/concurry/vala/combinators/chain/finally-runs-when-cancelled",
                   test_chain_finally_runs_when_cancelled);
    Test.add_func ("/concurry/vala/combinators/chain/cancel", test_chain_cancel);
    Test.add_func ("/concurry/vala/combinators/as-completed/blocking", test_as_completed_blocking);
    Test.add_func ("/concurry/vala/combinators/as-completed/timeouts", test_as_completed_timeouts);
    Test.add_func ("/concurry/vala/combinators/as-completed/async", test_as_completed_async);
    Test.add_func ("/concurry/vala/combinators/as-completed/large", test_as_completed_large);
    Test.add_func ("/concurry/vala/combinators/completion-list", test_completion_list);

    return Test.run ();
}
