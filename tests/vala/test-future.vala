// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Vala tests of the concurry foundation through the generated concurry-1.vapi:
// Concurry.Future, Concurry.Promise and Concurry.ResolvedFuture, with
// `yield future.wait_async ()` driven by a GLib.MainLoop.
//
// No `using Concurry;`: Concurry.Error would clash with GLib.Error.

// ---------------------------------------------------------------------------
// Helpers

delegate void AsyncBody (AsyncReadyCallback done);
delegate bool Condition ();

const uint DEADLINE_MS = 60000;   // only a hang gets there

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

// Iterates the default main context until @cond holds, failing the test if
// that takes longer than @timeout_ms.
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

// Done callbacks are delivered on their context in the order they were
// added, so once a callback added now on a done future has run, every
// callback queued before it on this context has run too (and a duplicate
// delivery would have shown up).
void flush_callbacks () {
    bool flushed = false;
    var barrier = Concurry.ResolvedFuture.new_boolean (true);
    barrier.add_done_callback ((f) => { flushed = true; });
    iterate_until (() => flushed);
}

// Resumes the calling coroutine from an idle of the default context.
async void next_idle () {
    Idle.add (next_idle.callback, Priority.DEFAULT_IDLE);
    yield;
}

void assert_state (Concurry.Future f, Concurry.FutureState expected) {
    var state = f.get_state ();
    if (state != expected)
        error ("expected state %s, got %s", expected.to_string (), state.to_string ());
}

// A callback that records @tag in @log, so that loops do not share a
// captured loop variable.
class Log : Object {
    public string[] entries = {};

    public void add (string entry) {
        entries += entry;
    }

    public string joined () {
        return string.joinv (",", entries);
    }

    public Concurry.FutureCallback recorder (string tag) {
        return (f) => { add (tag); };
    }
}

// ---------------------------------------------------------------------------
// Awaiting

async void wait_resolved_future () {
    var f = Concurry.ResolvedFuture.new_int (5);
    assert_state (f, Concurry.FutureState.DONE);
    assert_true (f.is_done ());
    try {
        bool ok = yield f.wait_async (null);
        assert_true (ok);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (f.get_int (), CompareOperator.EQ, 5);
    unowned Value? v = f.get_value ();
    assert_true (v != null);
    assert_true (v.holds (typeof (int)));
    assert_cmpint (v.get_int (), CompareOperator.EQ, 5);
    assert_true (f.get_error () == null);
}

void test_wait_resolved () {
    run_async ((done) => wait_resolved_future.begin (done));
}

async void wait_promise_later () {
    var p = new Concurry.Promise ();
    bool resolved = false;
    Timeout.add (20, () => {
        resolved = true;
        assert_true (p.resolve_string ("hello"));
        return Source.REMOVE;
    });
    assert_state (p, Concurry.FutureState.PENDING);
    assert_false (p.is_done ());
    assert_true (p.get_value () == null);

    try {
        bool ok = yield p.wait_async (null);
        assert_true (ok);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_true (resolved);
    assert_state (p, Concurry.FutureState.DONE);
    assert_cmpstr (p.get_string (), CompareOperator.EQ, "hello");
    assert_cmpstr (p.get_value ().get_string (), CompareOperator.EQ, "hello");

    // A completed promise stays as it is.
    assert_false (p.resolve_string ("again"));
    assert_false (p.reject_literal (IOError.quark (), IOError.FAILED, "late"));
    assert_false (p.cancel ());
    assert_cmpstr (p.get_string (), CompareOperator.EQ, "hello");
}

void test_wait_later () {
    run_async ((done) => wait_promise_later.begin (done));
}

async void wait_running_promise () {
    var p = new Concurry.Promise ();
    // The read side handed out is the promise itself.
    assert_true (p.get_future () == (Concurry.Future) p);
    assert_true (p.mark_running ());
    assert_false (p.mark_running ());
    assert_state (p, Concurry.FutureState.RUNNING);
    assert_true (p.is_running ());
    Idle.add (() => {
        p.resolve_int (-3);
        return Source.REMOVE;
    });
    try {
        yield p.get_future ().wait_async (null);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_false (p.is_running ());
    assert_cmpint (p.get_int (), CompareOperator.EQ, -3);
}

void test_wait_running () {
    run_async ((done) => wait_running_promise.begin (done));
}

// ---------------------------------------------------------------------------
// Errors

async void io_error_propagates () {
    var p = new Concurry.Promise ();
    Idle.add (() => {
        p.reject_literal (IOError.quark (), IOError.FAILED, "boom");
        return Source.REMOVE;
    });

    bool caught = false;
    try {
        yield p.wait_async (null);
        assert_not_reached ();
    } catch (IOError.FAILED e) {
        caught = true;
        assert_cmpstr (e.message, CompareOperator.EQ, "boom");
    } catch (GLib.Error e) {
        error ("wrong error: %s %d %s", e.domain.to_string (), e.code, e.message);
    }
    assert_true (caught);

    assert_state (p, Concurry.FutureState.FAILED);
    assert_true (p.is_failed ());
    assert_false (p.is_cancelled ());
    assert_true (p.get_value () == null);
    unowned GLib.Error? err = p.get_error ();
    assert_true (err != null);
    assert_error (err, IOError.quark (), IOError.FAILED);

    // The same through a generic catch, and a foreign domain.
    var q = new Concurry.Promise ();
    var domain = Quark.from_string ("concurry-vala-test-error-quark");
    Timeout.add (5, () => {
        q.reject_literal (domain, 42, "the answer failed");
        return Source.REMOVE;
    });
    try {
        yield q.wait_async (null);
        assert_not_reached ();
    } catch (GLib.Error e) {
        assert_true (e.domain == domain);
        assert_cmpint (e.code, CompareOperator.EQ, 42);
        assert_cmpstr (e.message, CompareOperator.EQ, "the answer failed");
    }
}

void test_io_error () {
    run_async ((done) => io_error_propagates.begin (done));
}

async void concurry_error_propagates () {
    var f = Concurry.ResolvedFuture.new_error_literal (Concurry.Error.quark (),
                                                       Concurry.Error.SHUT_DOWN,
                                                       "no more work");
    assert_state (f, Concurry.FutureState.FAILED);
    try {
        yield f.wait_async (null);
        assert_not_reached ();
    } catch (Concurry.Error.SHUT_DOWN e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "no more work");
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }

    // A Vala error thrown into a promise comes out as the same error.
    var p = new Concurry.Promise ();
    assert_true (p.reject (new Concurry.Error.INVALID_STATE ("bad state %d", 7)));
    try {
        yield p.wait_async (null);
        assert_not_reached ();
    } catch (Concurry.Error e) {
        assert_true (e is Concurry.Error.INVALID_STATE);
        assert_cmpstr (e.message, CompareOperator.EQ, "bad state 7");
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }

    // take_error: an IOError.CANCELLED makes the promise cancelled.
    var c = new Concurry.Promise ();
    assert_true (c.take_error (new IOError.CANCELLED ("stop")));
    assert_state (c, Concurry.FutureState.CANCELLED);
    assert_false (c.is_failed ());
}

void test_concurry_error () {
    run_async ((done) => concurry_error_propagates.begin (done));
}

void test_abandoned () {
    bool ran = false;
    Concurry.FutureState state = Concurry.FutureState.PENDING;
    GLib.Error? err = null;

    string? expected_id = null;
    string? id = null;

    {
        var p = new Concurry.Promise ();
        expected_id = p.get_id ();
        p.add_done_callback ((f) => {
            ran = true;
            state = f.get_state ();
            err = f.get_error ().copy ();
            // Another future (the promise is being freed), with its id.
            id = f.get_id ();
        });
        // The last reference goes here.
    }
    assert_false (ran);
    iterate_until (() => ran);
    assert (state == Concurry.FutureState.FAILED);
    assert_error (err, Concurry.Error.quark (), Concurry.Error.ABANDONED);
    assert_cmpstr (id, CompareOperator.EQ, expected_id);

    // Dropping a pending promise nobody watches is not an unobserved error
    // (which would be a fatal warning here).
    {
        var unwatched = new Concurry.Promise ();
        assert_state (unwatched, Concurry.FutureState.PENDING);
    }
}

// ---------------------------------------------------------------------------
// Cancellation

async void cancel_pending () {
    var p = new Concurry.Promise ();
    var cancellable = p.get_cancellable ();
    int signalled = 0;
    cancellable.cancelled.connect (() => { signalled++; });
    assert_false (cancellable.is_cancelled ());

    assert_true (p.cancel ());
    assert_state (p, Concurry.FutureState.CANCELLED);
    assert_true (p.is_cancelled ());
    assert_true (p.is_done ());
    assert_false (p.is_failed ());
    assert_true (cancellable.is_cancelled ());
    assert_cmpint (signalled, CompareOperator.EQ, 1);
    assert_error (p.get_error (), IOError.quark (), IOError.CANCELLED);

    assert_true (p.cancel ());
    assert_cmpint (signalled, CompareOperator.EQ, 1);
    assert_false (p.resolve_int (1));
    assert_state (p, Concurry.FutureState.CANCELLED);

    try {
        yield p.wait_async (null);
        assert_not_reached ();
    } catch (IOError.CANCELLED e) {
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }

    var running = new Concurry.Promise ();
    running.mark_running ();
    assert_true (running.cancel ());
    assert_state (running, Concurry.FutureState.CANCELLED);
    assert_true (running.get_cancellable ().is_cancelled ());

    var done = new Concurry.Promise ();
    done.resolve_int (1);
    assert_false (done.cancel ());
    assert_state (done, Concurry.FutureState.DONE);
    assert_false (done.get_cancellable ().is_cancelled ());

    var failed = Concurry.ResolvedFuture.new_error_literal (IOError.quark (), IOError.FAILED, "x");
    assert_false (failed.cancel ());
    assert_state (failed, Concurry.FutureState.FAILED);
    assert_error (failed.get_error (), IOError.quark (), IOError.FAILED);
}

void test_cancel () {
    run_async ((done) => cancel_pending.begin (done));
}

async void cancel_wait () {
    var p = new Concurry.Promise ();
    var c = new Cancellable ();
    Idle.add (() => {
        c.cancel ();
        return Source.REMOVE;
    });
    try {
        yield p.wait_async (c);
        assert_not_reached ();
    } catch (IOError.CANCELLED e) {
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }
    // Only the wait was cancelled.
    assert_state (p, Concurry.FutureState.PENDING);
    assert_false (p.get_cancellable ().is_cancelled ());

    Idle.add (() => {
        p.resolve_double (0.5);
        return Source.REMOVE;
    });
    try {
        yield p.wait_async (new Cancellable ());
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpfloat (p.get_double (), CompareOperator.EQ, 0.5);
}

void test_cancel_wait () {
    run_async ((done) => cancel_wait.begin (done));
}

// ---------------------------------------------------------------------------
// Done callbacks

void test_callbacks_order () {
    var log = new Log ();
    var p = new Concurry.Promise ();
    uint[] ids = {};
    for (int i = 0; i < 5; i++)
        ids += p.add_done_callback (log.recorder (i.to_string ()));
    for (int i = 0; i < ids.length; i++) {
        assert_cmpuint (ids[i], CompareOperator.NE, 0);
        for (int j = 0; j < i; j++)
            assert_cmpuint (ids[i], CompareOperator.NE, ids[j]);
    }

    p.resolve_int (9);
    // Not from inside the completing call.
    assert_cmpint (log.entries.length, CompareOperator.EQ, 0);
    flush_callbacks ();
    assert_cmpstr (log.joined (), CompareOperator.EQ, "0,1,2,3,4");

    p.resolve_int (10);
    p.cancel ();
    flush_callbacks ();
    assert_cmpstr (log.joined (), CompareOperator.EQ, "0,1,2,3,4");
}

void test_callbacks_async () {
    var log = new Log ();
    var f = Concurry.ResolvedFuture.new_string ("done");
    Concurry.Future? seen = null;
    f.add_done_callback ((fut) => {
        seen = fut;
        log.add ("a");
        // Added from inside a callback: runs later, not here.
        fut.add_done_callback ((fut2) => { log.add ("nested"); });
        log.add ("a-end");
    });
    f.add_done_callback (log.recorder ("b"));
    // Not inside add_done_callback, even though the future is done.
    assert_cmpint (log.entries.length, CompareOperator.EQ, 0);
    iterate_until (() => log.entries.length >= 4);
    flush_callbacks ();
    assert_cmpstr (log.joined (), CompareOperator.EQ, "a,a-end,b,nested");
    assert_true (seen == f);
}

void test_callbacks_remove () {
    var log = new Log ();
    var p = new Concurry.Promise ();
    var id1 = p.add_done_callback (log.recorder ("1"));
    var id2 = p.add_done_callback (log.recorder ("2"));
    var id3 = p.add_done_callback (log.recorder ("3"));
    assert_true (p.remove_done_callback (id2));
    assert_false (p.remove_done_callback (id2));
    p.resolve_boolean (true);
    assert_false (p.remove_done_callback (id3));
    flush_callbacks ();
    assert_cmpstr (log.joined (), CompareOperator.EQ, "1,3");
    assert_false (p.remove_done_callback (id1));
}

// ---------------------------------------------------------------------------
// Threads

async void resolve_in_thread () {
    assert_true (ConcurryTest.is_main_thread ());
    var p = new Concurry.Promise ();
    int calls = 0;
    bool callback_on_main = false;
    p.add_done_callback ((f) => {
        calls++;
        callback_on_main = ConcurryTest.is_main_thread ();
    });
    ConcurryTest.resolve_in_thread (p, 42);
    try {
        bool ok = yield p.wait_async (null);
        assert_true (ok);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    // The coroutine resumed on the main thread.
    assert_true (ConcurryTest.is_main_thread ());
    assert_true (ConcurryTest.last_resolve_off_main_thread ());
    assert_cmpint (p.get_int (), CompareOperator.EQ, 42);

    while (calls == 0)
        yield next_idle ();
    flush_callbacks ();
    assert_cmpint (calls, CompareOperator.EQ, 1);
    assert_true (callback_on_main);

    // A rejection from a thread.
    var r = new Concurry.Promise ();
    ConcurryTest.reject_in_thread (r, "worker failed");
    try {
        yield r.wait_async (null);
        assert_not_reached ();
    } catch (IOError.FAILED e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "worker failed");
        assert_true (ConcurryTest.is_main_thread ());
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }
}

void test_thread () {
    run_async ((done) => resolve_in_thread.begin (done));
}

async void many_threads () {
    const int N = 100;
    var promises = new GenericArray<Concurry.Promise> ();
    int[] counts = new int[N];
    int off_main = 0;
    for (int i = 0; i < N; i++) {
        var p = new Concurry.Promise ();
        promises.add (p);
        p.add_done_callback ((f) => {
            // The index is found from the future, not a captured loop variable.
            for (int k = 0; k < promises.length; k++)
                if (promises[k] == f)
                    counts[k]++;
            if (!ConcurryTest.is_main_thread ())
                off_main++;
        });
    }
    for (int i = 0; i < N; i++)
        ConcurryTest.resolve_in_thread (promises[i], i * 2);
    for (int i = 0; i < N; i++) {
        try {
            yield promises[i].wait_async (null);
        } catch (GLib.Error e) {
            error ("unexpected error: %s", e.message);
        }
        assert_cmpint (promises[i].get_int (), CompareOperator.EQ, i * 2);
    }
    flush_callbacks ();
    assert_cmpint (off_main, CompareOperator.EQ, 0);
    for (int i = 0; i < N; i++)
        assert_cmpint (counts[i], CompareOperator.EQ, 1);
}

void test_many_threads () {
    run_async ((done) => many_threads.begin (done));
}

// ---------------------------------------------------------------------------
// Blocking wait

void test_blocking_wait () {
    var p = new Concurry.Promise ();
    try {
        p.wait (0);
        assert_not_reached ();
    } catch (IOError.TIMED_OUT e) {
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }

    int64 start = get_monotonic_time ();
    try {
        p.wait (20000);
        assert_not_reached ();
    } catch (IOError.TIMED_OUT e) {
        assert_true (get_monotonic_time () - start >= 19000);
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }

    try {
        p.wait_until (get_monotonic_time () + 5000);
        assert_not_reached ();
    } catch (IOError.TIMED_OUT e) {
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }
    // A timeout does not change the future.
    assert_state (p, Concurry.FutureState.PENDING);

    // The main thread's context is iterated while waiting, so a source of
    // it can complete the future: no deadlock.
    Timeout.add (10, () => {
        p.resolve_int (5);
        return Source.REMOVE;
    });
    try {
        assert_true (p.wait (5 * TimeSpan.SECOND));
        assert_true (p.wait (0));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (p.get_int (), CompareOperator.EQ, 5);

    var q = new Concurry.Promise ();
    ConcurryTest.resolve_in_thread (q, 8);
    try {
        assert_true (q.wait (-1));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (q.get_int (), CompareOperator.EQ, 8);

    var r = new Concurry.Promise ();
    ConcurryTest.reject_in_thread (r, "bad");
    try {
        r.wait (5 * TimeSpan.SECOND);
        assert_not_reached ();
    } catch (IOError.FAILED e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "bad");
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }
}

// ---------------------------------------------------------------------------
// Values

async void values () {
    try {
        var i = new Concurry.Promise ();
        Idle.add (() => { i.resolve_int (int.MIN); return Source.REMOVE; });
        yield i.wait_async (null);
        assert_cmpint (i.get_int (), CompareOperator.EQ, int.MIN);
        assert_true (i.get_value_type () == typeof (int));

        var d = new Concurry.Promise ();
        Idle.add (() => { d.resolve_double (3.25); return Source.REMOVE; });
        yield d.wait_async (null);
        assert_cmpfloat (d.get_double (), CompareOperator.EQ, 3.25);
        assert_true (d.get_value_type () == typeof (double));

        var b = new Concurry.Promise ();
        b.resolve_boolean (true);
        yield b.wait_async (null);
        assert_true (b.get_boolean ());
        assert_true (b.get_value_type () == typeof (bool));

        var action = new SimpleAction ("concurry-test", null);
        var o = new Concurry.Promise ();
        Idle.add (() => { o.resolve_object (action); return Source.REMOVE; });
        yield o.wait_async (null);
        assert_true (o.get_object () == action);
        assert_true (o.get_value_type () == typeof (SimpleAction));
        assert_true (o.get_value ().get_object () == action);

        // Generic GValue in, same GValue out; the future holds a copy.
        var g = new Concurry.Promise ();
        Value v = Value (typeof (int64));
        v.set_int64 (int64.MAX);
        assert_true (g.resolve (v));
        v.set_int64 (0);
        yield g.wait_async (null);
        assert_true (g.get_value ().holds (typeof (int64)));
        assert_true (g.get_int64 () == int64.MAX);
        Value copy;
        assert_true (g.dup_value (out copy));
        assert_true (copy.get_int64 () == int64.MAX);

        // Resolved without a value.
        var n = new Concurry.Promise ();
        assert_true (n.resolve (null));
        yield n.wait_async (null);
        assert_state (n, Concurry.FutureState.DONE);
        assert_true (n.get_value () == null);
        assert_true (n.get_value_type () == Type.INVALID);

        var s = Concurry.ResolvedFuture.new_string ("s");
        yield s.wait_async (null);
        assert_cmpstr (s.get_string (), CompareOperator.EQ, "s");

        var va = new Concurry.Promise ();
        va.resolve_variant (new Variant ("(si)", "a", 1));
        yield va.wait_async (null);
        assert_cmpvariant (va.get_variant (), new Variant ("(si)", "a", 1));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
}

void test_values () {
    run_async ((done) => values.begin (done));
}

void test_ids () {
    var p = new Concurry.Promise ();
    var r = Concurry.ResolvedFuture.new_int (1);
    string id = p.get_id ();
    assert_true (id.has_prefix ("promise-"));
    assert_cmpstr (p.get_id (), CompareOperator.EQ, id);
    assert_cmpstr (r.get_id (), CompareOperator.NE, id);
    assert_cmpstr (new Concurry.Promise ().get_id (), CompareOperator.NE, id);
}

// ---------------------------------------------------------------------------

int main (string[] args) {
    Test.init (ref args);

    Test.add_func ("/concurry/vala/wait-async/resolved", test_wait_resolved);
    Test.add_func ("/concurry/vala/wait-async/resolved-later", test_wait_later);
    Test.add_func ("/concurry/vala/wait-async/running", test_wait_running);
    Test.add_func ("/concurry/vala/errors/io-error", test_io_error);
    Test.add_func ("/concurry/vala/errors/concurry-error", test_concurry_error);
    Test.add_func ("/concurry/vala/errors/abandoned", test_abandoned);
    Test.add_func ("/concurry/vala/cancel/future", test_cancel);
    Test.add_func ("/concurry/vala/cancel/wait", test_cancel_wait);
    Test.add_func ("/concurry/vala/callbacks/order", test_callbacks_order);
    Test.add_func ("/concurry/vala/callbacks/async", test_callbacks_async);
    Test.add_func ("/concurry/vala/callbacks/remove", test_callbacks_remove);
    Test.add_func ("/concurry/vala/threads/resolve-in-thread", test_thread);
    Test.add_func ("/concurry/vala/threads/many", test_many_threads);
    Test.add_func ("/concurry/vala/wait/blocking", test_blocking_wait);
    Test.add_func ("/concurry/vala/values", test_values);
    Test.add_func ("/concurry/vala/ids", test_ids);

    return Test.run ();
}
