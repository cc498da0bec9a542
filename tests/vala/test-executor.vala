// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Vala tests of the concurry executors through the generated concurry-1.vapi:
// Concurry.ThreadPoolExecutor, Concurry.TaskExecutor and
// Concurry.MainContextExecutor with Vala closures as work, `yield
// future.wait_async ()` driven by a GLib.MainLoop, and Executor.map().
//
// Threads synchronise with Gate (a mutex and a condition) and bounded
// waits, never with sleeps.
//
// No `using Concurry;`: Concurry.Error would clash with GLib.Error.

// ---------------------------------------------------------------------------
// Helpers

delegate void AsyncBody (AsyncReadyCallback done);
delegate bool Condition ();

const uint DEADLINE_MS = 60000;   // only a hang gets there
const int64 BLOCK = 60 * TimeSpan.SECOND;   // bound for waits that must end: a hang
const int64 SECOND = TimeSpan.SECOND;

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

// Waits without a main loop until @cond holds (checked every millisecond
// on a condition variable that nobody signals), or fails the test.
void poll_until (Condition cond, int64 timeout_usec = BLOCK) {
    var mutex = Mutex ();
    var never = Cond ();
    int64 end = get_monotonic_time () + timeout_usec;
    mutex.lock ();
    while (!cond ()) {
        if (get_monotonic_time () >= end) {
            mutex.unlock ();
            error ("condition not reached within %" + int64.FORMAT + " us", timeout_usec);
        }
        never.wait_until (mutex, get_monotonic_time () + 1000);
    }
    mutex.unlock ();
}

// A one-shot gate for threads: wait() blocks until open() (or a timeout).
class Gate : Object {
    private Mutex mutex = Mutex ();
    private Cond cond = Cond ();
    private bool is_open = false;

    public void open () {
        mutex.lock ();
        is_open = true;
        cond.broadcast ();
        mutex.unlock ();
    }

    public bool wait (int64 timeout_usec = BLOCK) {
        int64 end = get_monotonic_time () + timeout_usec;
        mutex.lock ();
        while (!is_open) {
            if (!cond.wait_until (mutex, end))
                break;
        }
        bool ret = is_open;
        mutex.unlock ();
        return ret;
    }
}

// Work that occupies one worker of @executor until release is opened.
class Blocker : Object {
    public Gate started = new Gate ();
    public Gate release = new Gate ();
    public Concurry.Future future;
    public int saw_cancel = -1;

    public Blocker (Concurry.Executor executor) {
        try {
            future = executor.submit ((cancellable, out value) => {
                started.open ();
                bool released = release.wait ();
                AtomicInt.set (ref saw_cancel, cancellable.is_cancelled () ? 1 : 0);
                value = Value (typeof (string));
                value.set_string (released ? "blocker" : "blocker timed out");
            });
        } catch (GLib.Error e) {
            error ("submit: %s", e.message);
        }
        if (!started.wait ())
            error ("the blocking work did not start");
    }

    public void finish () {
        release.open ();
        try {
            assert_true (future.wait (BLOCK));
        } catch (GLib.Error e) {
            error ("blocker: %s", e.message);
        }
        assert_cmpstr (future.get_string (), CompareOperator.EQ, "blocker");
    }
}

void assert_state (Concurry.Future f, Concurry.FutureState expected) {
    var state = f.get_state ();
    if (state != expected)
        error ("expected state %s, got %s", expected.to_string (), state.to_string ());
}

Value int_value (int i) {
    var v = Value (typeof (int));
    v.set_int (i);
    return v;
}

// Work returning @i.
Concurry.WorkFunc returning (int i) {
    return (cancellable, out value) => {
        value = int_value (i);
    };
}

// An input function for map() producing 0 … n-1; @reads counts the items.
class Counter : Object {
    public int n;
    public int reads = 0;
    public void *thread = null;

    public Counter (int n) {
        this.n = n;
    }

    public Concurry.InputFunc func () {
        return (out item) => {
            thread = (void *) Thread.self<void *> ();
            if (reads >= n) {
                item = Value (typeof (int));
                return false;
            }
            item = int_value (reads++);
            return true;
        };
    }
}

int[] collect_ints (Concurry.MapResults results) throws GLib.Error {
    int[] out_values = {};
    Value v;
    while (results.next (out v))
        out_values += v.get_int ();
    return out_values;
}

string join_ints (int[] values) {
    var sb = new StringBuilder ();
    foreach (int v in values) {
        if (sb.len > 0)
            sb.append (",");
        sb.append (v.to_string ());
    }
    return sb.str;
}

void shutdown_or_die (Concurry.Executor executor) {
    try {
        assert_true (executor.shutdown (true, false));
    } catch (GLib.Error e) {
        error ("shutdown: %s", e.message);
    }
}

void *main_thread;

bool on_main_thread () {
    return (void *) Thread.self<void *> () == main_thread;
}

// ---------------------------------------------------------------------------
// submit

async void submit_and_await (Concurry.Executor executor) {
    int off_main = -1;
    Cancellable? seen = null;
    try {
        var future = executor.submit ((cancellable, out value) => {
            AtomicInt.set (ref off_main, on_main_thread () ? 0 : 1);
            seen = cancellable;
            value = Value (typeof (int));
            value.set_int (6 * 7);
        });
        bool ok = yield future.wait_async (null);
        assert_true (ok);
        assert_state (future, Concurry.FutureState.DONE);
        assert_cmpint (future.get_int (), CompareOperator.EQ, 42);
        assert_true (future.get_value ().holds (typeof (int)));
        assert_true (future.get_error () == null);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpint (AtomicInt.get (ref off_main), CompareOperator.EQ, 1);
    assert_true (seen != null);
    assert_false (seen.is_cancelled ());
    shutdown_or_die (executor);
}

void test_thread_pool_submit () {
    var pool = Concurry.ThreadPoolExecutor.new (2);
    assert_cmpuint (pool.get_max_workers (), CompareOperator.EQ, 2);
    assert_cmpuint (((Concurry.ThreadPoolExecutor) pool).max_workers, CompareOperator.EQ, 2);
    run_async ((done) => submit_and_await.begin (pool, done));
}

void test_task_submit () {
    var executor = Concurry.TaskExecutor.new ();
    assert_true (executor is Concurry.TaskExecutor);
    run_async ((done) => submit_and_await.begin (executor, done));
}

void test_default_max_workers () {
    var pool = Concurry.ThreadPoolExecutor.new (0);
    assert_cmpuint (pool.get_max_workers (), CompareOperator.EQ, get_num_processors ());
    assert_cmpuint (Concurry.MainContextExecutor.new (null).get_max_workers (), CompareOperator.EQ, 1);
    shutdown_or_die (pool);
}

async void errors_come_back (Concurry.Executor executor) {
    try {
        var future = executor.submit ((cancellable, out value) => {
            throw new IOError.NOT_FOUND ("no such thing");
        });
        try {
            yield future.wait_async (null);
            error ("wait_async did not throw");
        } catch (IOError.NOT_FOUND e) {
            assert_cmpstr (e.message, CompareOperator.EQ, "no such thing");
        }
        assert_state (future, Concurry.FutureState.FAILED);
        assert_true (future.get_error () is IOError.NOT_FOUND);
        assert_true (future.get_value () == null);

        // An error of another domain keeps its domain.
        var other = executor.submit ((cancellable, out value) => {
            throw new Concurry.Error.INVALID_STATE ("custom");
        });
        try {
            yield other.wait_async (null);
            error ("wait_async did not throw");
        } catch (Concurry.Error.INVALID_STATE e) {
            assert_cmpstr (e.message, CompareOperator.EQ, "custom");
        }

        // A CANCELLED error cancels the future.
        var cancelled = executor.submit ((cancellable, out value) => {
            throw new IOError.CANCELLED ("gave up");
        });
        try {
            yield cancelled.wait_async (null);
            error ("wait_async did not throw");
        } catch (IOError.CANCELLED e) {
        }
        assert_state (cancelled, Concurry.FutureState.CANCELLED);

        // The executor keeps working after failures.
        var after = executor.submit (returning (5));
        yield after.wait_async (null);
        assert_cmpint (after.get_int (), CompareOperator.EQ, 5);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    shutdown_or_die (executor);
}

void test_thread_pool_errors () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    run_async ((done) => errors_come_back.begin (pool, done));
}

void test_task_errors () {
    var executor = Concurry.TaskExecutor.new ();
    run_async ((done) => errors_come_back.begin (executor, done));
}

async void values_of_types () {
    var pool = Concurry.ThreadPoolExecutor.new (2);
    var action = new SimpleAction ("concurry-test", null);
    try {
        var s = pool.submit ((c, out v) => { v = Value (typeof (string)); v.set_string ("text"); });
        var i64 = pool.submit ((c, out v) => { v = Value (typeof (int64)); v.set_int64 (int64.MAX); });
        var obj = pool.submit ((c, out v) => { v = Value (typeof (SimpleAction)); v.set_object (action); });
        yield s.wait_async (null);
        yield i64.wait_async (null);
        yield obj.wait_async (null);
        assert_cmpstr (s.get_string (), CompareOperator.EQ, "text");
        assert_true (i64.get_int64 () == int64.MAX);
        assert_true (obj.get_object () == action);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    shutdown_or_die (pool);
}

void test_values () {
    run_async ((done) => values_of_types.begin (done));
}

// ---------------------------------------------------------------------------
// cancel

async void cancel_queued () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    var blocker = new Blocker (pool);
    int ran_a = 0, ran_b = 0, ran_c = 0;
    try {
        var a = pool.submit ((c, out v) => { AtomicInt.inc (ref ran_a); v = int_value (1); });
        var b = pool.submit ((c, out v) => { AtomicInt.inc (ref ran_b); v = int_value (2); });
        var c = pool.submit ((c, out v) => { AtomicInt.inc (ref ran_c); v = int_value (3); });
        assert_state (b, Concurry.FutureState.PENDING);
        assert_false (b.is_running ());
        assert_true (blocker.future.is_running ());

        assert_true (b.cancel ());
        assert_state (b, Concurry.FutureState.CANCELLED);
        assert_true (b.cancel ());
        blocker.finish ();

        yield a.wait_async (null);
        yield c.wait_async (null);
        try {
            yield b.wait_async (null);
            error ("wait_async of a cancelled future did not throw");
        } catch (IOError.CANCELLED e) {
        }
        assert_cmpint (a.get_int (), CompareOperator.EQ, 1);
        assert_cmpint (c.get_int (), CompareOperator.EQ, 3);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    shutdown_or_die (pool);
    assert_cmpint (AtomicInt.get (ref ran_a), CompareOperator.EQ, 1);
    assert_cmpint (AtomicInt.get (ref ran_b), CompareOperator.EQ, 0);
    assert_cmpint (AtomicInt.get (ref ran_c), CompareOperator.EQ, 1);
}

void test_cancel_queued () {
    run_async ((done) => cancel_queued.begin (done));
}

async void cancel_running (Concurry.Executor executor) {
    var started = new Gate ();
    var tripped = new Gate ();
    int saw = -1;
    try {
        var future = executor.submit ((cancellable, out value) => {
            ulong handler = cancellable.connect (() => tripped.open ());
            started.open ();
            AtomicInt.set (ref saw, tripped.wait () ? 1 : 0);
            cancellable.disconnect (handler);
            value = int_value (99);
        });
        assert_true (started.wait ());
        assert_true (future.is_running ());
        assert_true (future.cancel ());
        assert_state (future, Concurry.FutureState.CANCELLED);
        try {
            yield future.wait_async (null);
            error ("wait_async of a cancelled future did not throw");
        } catch (IOError.CANCELLED e) {
        }
        poll_until (() => AtomicInt.get (ref saw) != -1);
        assert_cmpint (AtomicInt.get (ref saw), CompareOperator.EQ, 1);
        // The value set after the cancel is dropped.
        assert_state (future, Concurry.FutureState.CANCELLED);
        assert_true (future.get_value () == null);
        assert_true (future.cancel ());
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    shutdown_or_die (executor);
}

void test_cancel_running_thread_pool () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    run_async ((done) => cancel_running.begin (pool, done));
}

void test_cancel_running_task () {
    var executor = Concurry.TaskExecutor.new ();
    run_async ((done) => cancel_running.begin (executor, done));
}

// ---------------------------------------------------------------------------
// shutdown

void test_submit_after_shutdown () {
    Concurry.Executor[] executors = {
        Concurry.ThreadPoolExecutor.new (1),
        Concurry.TaskExecutor.new (),
        Concurry.MainContextExecutor.new (null),
    };
    foreach (var executor in executors) {
        assert_false (executor.is_shutdown ());
        try {
            assert_true (executor.shutdown (false, false));
        } catch (GLib.Error e) {
            error ("shutdown: %s", e.message);
        }
        assert_true (executor.is_shutdown ());
        try {
            executor.submit (returning (1));
            error ("submit after shutdown did not throw");
        } catch (Concurry.Error.SHUT_DOWN e) {
        } catch (GLib.Error e) {
            error ("unexpected error: %s", e.message);
        }
        try {
            executor.map ((item, c, out r) => { r = item; }, new Counter (3).func (), -1, 1, 0);
            error ("map after shutdown did not throw");
        } catch (Concurry.Error.SHUT_DOWN e) {
        } catch (GLib.Error e) {
            error ("unexpected error: %s", e.message);
        }
        // Shutting down again is harmless.
        try {
            assert_true (executor.shutdown (true, true));
            assert_true (executor.shutdown (true, false));
        } catch (GLib.Error e) {
            error ("shutdown again: %s", e.message);
        }
    }
}

void test_shutdown_wait () {
    var pool = Concurry.ThreadPoolExecutor.new (2);
    var release = new Gate ();
    int finished = 0;
    Concurry.Future[] futures = {};
    try {
        for (int i = 0; i < 6; i++) {
            futures += pool.submit ((c, out v) => {
                bool released = release.wait ();
                AtomicInt.inc (ref finished);
                v = Value (typeof (bool));
                v.set_boolean (released);
            });
        }
    } catch (GLib.Error e) {
        error ("submit: %s", e.message);
    }
    // Released only once the main thread is inside shutdown().
    var releaser = new Thread<bool> ("releaser", () => {
        poll_until (() => pool.is_shutdown ());
        release.open ();
        return true;
    });
    shutdown_or_die (pool);
    assert_cmpint (AtomicInt.get (ref finished), CompareOperator.EQ, 6);
    foreach (var f in futures) {
        assert_state (f, Concurry.FutureState.DONE);
        assert_true (f.get_boolean ());
    }
    releaser.join ();
}

void test_shutdown_no_wait () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    var blocker = new Blocker (pool);
    Concurry.Future[] queued = {};
    try {
        for (int i = 0; i < 3; i++)
            queued += pool.submit (returning (i));
        assert_true (pool.shutdown (false, false));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    // Returned at once: the worker is still blocked.
    assert_true (blocker.future.is_running ());
    foreach (var f in queued)
        assert_state (f, Concurry.FutureState.PENDING);
    blocker.finish ();
    for (int i = 0; i < 3; i++) {
        try {
            assert_true (queued[i].wait (BLOCK));
        } catch (GLib.Error e) {
            error ("queued work: %s", e.message);
        }
        assert_cmpint (queued[i].get_int (), CompareOperator.EQ, i);
    }
    assert_cmpint (AtomicInt.get (ref blocker.saw_cancel), CompareOperator.EQ, 0);
    shutdown_or_die (pool);
}

void test_shutdown_cancel_futures () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    var blocker = new Blocker (pool);
    int ran = 0;
    Concurry.Future[] queued = {};
    try {
        for (int i = 0; i < 4; i++)
            queued += pool.submit ((c, out v) => { AtomicInt.inc (ref ran); v = int_value (0); });
        assert_true (pool.shutdown (false, true));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    foreach (var f in queued)
        assert_state (f, Concurry.FutureState.CANCELLED);
    assert_state (blocker.future, Concurry.FutureState.RUNNING);
    blocker.finish ();
    shutdown_or_die (pool);
    // The running work finished normally and was not cancelled.
    assert_cmpint (AtomicInt.get (ref blocker.saw_cancel), CompareOperator.EQ, 0);
    assert_cmpint (AtomicInt.get (ref ran), CompareOperator.EQ, 0);
}

void shutdown_from_own_work (Concurry.Executor executor) {
    try {
        var future = executor.submit ((c, out v) => {
            v = Value (typeof (string));
            try {
                executor.shutdown (true, false);
                v.set_string ("no error");
            } catch (Concurry.Error.WRONG_THREAD e) {
                v.set_string ("wrong thread");
            } catch (GLib.Error e) {
                v.set_string (e.message);
            }
        });
        assert_true (future.wait (BLOCK));
        assert_cmpstr (future.get_string (), CompareOperator.EQ, "wrong thread");
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_true (executor.is_shutdown ());
    shutdown_or_die (executor);
}

void test_shutdown_from_own_work () {
    shutdown_from_own_work (Concurry.ThreadPoolExecutor.new (2));
    shutdown_from_own_work (Concurry.TaskExecutor.new ());
    shutdown_from_own_work (Concurry.MainContextExecutor.new (null));
}

void test_dropped_executor_finishes_its_work () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    var blocker = new Blocker (pool);
    int finalized = 0;
    Concurry.Future[] futures = {};
    try {
        for (int i = 0; i < 4; i++)
            futures += pool.submit (returning (i));
    } catch (GLib.Error e) {
        error ("submit: %s", e.message);
    }
    pool.weak_ref ((obj) => { AtomicInt.set (ref finalized, 1); });
    pool = null;
    // The queued work keeps the executor alive.
    assert_cmpint (AtomicInt.get (ref finalized), CompareOperator.EQ, 0);
    blocker.finish ();
    for (int i = 0; i < 4; i++) {
        try {
            assert_true (futures[i].wait (BLOCK));
        } catch (GLib.Error e) {
            error ("dropped executor: %s", e.message);
        }
        assert_cmpint (futures[i].get_int (), CompareOperator.EQ, i);
    }
    // Then it goes away.
    poll_until (() => AtomicInt.get (ref finalized) == 1);
}

// ---------------------------------------------------------------------------
// threads

const int N_THREADS = 4;
const int PER_THREAD = 250;

void test_many_submitting_threads () {
    var pool = Concurry.ThreadPoolExecutor.new (4);
    int[] counts = new int[N_THREADS * PER_THREAD];
    Concurry.Future?[] futures = new Concurry.Future?[N_THREADS * PER_THREAD];
    Thread<bool>[] threads = {};

    for (int t = 0; t < N_THREADS; t++) {
        int first = t * PER_THREAD;
        threads += new Thread<bool> ("submitter", () => {
            for (int i = first; i < first + PER_THREAD; i++) {
                int index = i;
                try {
                    futures[index] = pool.submit ((c, out v) => {
                        AtomicInt.inc (ref counts[index]);
                        v = int_value (index);
                    });
                } catch (GLib.Error e) {
                    error ("submit: %s", e.message);
                }
            }
            return true;
        });
    }
    foreach (var thread in threads)
        thread.join ();
    for (int i = 0; i < N_THREADS * PER_THREAD; i++) {
        try {
            assert_true (futures[i].wait (BLOCK));
        } catch (GLib.Error e) {
            error ("item %d: %s", i, e.message);
        }
        assert_cmpint (futures[i].get_int (), CompareOperator.EQ, i);
    }
    shutdown_or_die (pool);
    for (int i = 0; i < N_THREADS * PER_THREAD; i++)
        assert_cmpint (AtomicInt.get (ref counts[i]), CompareOperator.EQ, 1);
}

// ---------------------------------------------------------------------------
// the main-context executor

async void main_context_order () {
    var executor = Concurry.MainContextExecutor.new (null);
    int[] log = {};
    bool all_on_main = true;
    Concurry.Future[] futures = {};
    try {
        for (int i = 0; i < 10; i++) {
            int index = i;
            futures += executor.submit ((c, out v) => {
                log += index;
                all_on_main = all_on_main && on_main_thread ();
                v = int_value (index * 10);
            });
        }
        // Nothing runs inside submit().
        assert_cmpint (log.length, CompareOperator.EQ, 0);
        assert_state (futures[0], Concurry.FutureState.PENDING);
        yield futures[9].wait_async (null);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpstr (join_ints (log), CompareOperator.EQ, "0,1,2,3,4,5,6,7,8,9");
    assert_true (all_on_main);
    for (int i = 0; i < 10; i++)
        assert_cmpint (futures[i].get_int (), CompareOperator.EQ, i * 10);
}

void test_main_context_order () {
    run_async ((done) => main_context_order.begin (done));
}

void test_main_context_shutdown_wait () {
    var executor = Concurry.MainContextExecutor.new (null);
    int[] log = {};
    try {
        for (int i = 0; i < 5; i++) {
            int index = i;
            executor.submit ((c, out v) => { log += index; v = int_value (index); });
        }
        // Iterates the context until the queued work ran.
        assert_true (executor.shutdown (true, false));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_cmpstr (join_ints (log), CompareOperator.EQ, "0,1,2,3,4");
}

void test_main_context_cancel () {
    var executor = Concurry.MainContextExecutor.new (null);
    int[] log = {};
    Concurry.Future[] futures = {};
    try {
        for (int i = 0; i < 3; i++) {
            int index = i;
            futures += executor.submit ((c, out v) => { log += index; v = int_value (index); });
        }
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_true (futures[1].cancel ());
    iterate_until (() => futures[2].is_done ());
    assert_cmpstr (join_ints (log), CompareOperator.EQ, "0,2");
    assert_state (futures[1], Concurry.FutureState.CANCELLED);

    // cancel_futures cancels everything queued.
    Concurry.Future[] more = {};
    try {
        for (int i = 0; i < 3; i++) {
            int index = 10 + i;
            more += executor.submit ((c, out v) => { log += index; v = int_value (index); });
        }
        assert_true (executor.shutdown (true, true));
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    foreach (var f in more)
        assert_state (f, Concurry.FutureState.CANCELLED);
    assert_cmpstr (join_ints (log), CompareOperator.EQ, "0,2");
}

// ---------------------------------------------------------------------------
// map

void test_map_order () {
    var pool = Concurry.ThreadPoolExecutor.new (4);
    foreach (uint chunksize in new uint[] { 1, 2, 3, 7, 20 }) {
        var input = new Counter (20);
        // Results come in input order whatever order the items finish in.
        // (Item 0 used to wait for item 3 here; but a worker may take both
        // chunks in one batch, and then item 3 starts only after item 0:
        // the wait ended on a 5 s timeout, one run in a few.)
        try {
            var results = pool.map ((item, cancellable, out result) => {
                int i = item.get_int ();
                result = int_value (i * 10);
            }, input.func (), -1, chunksize, 0);
            int[] got = collect_ints (results);
            assert_cmpstr (join_ints (got), CompareOperator.EQ,
                           "0,10,20,30,40,50,60,70,80,90,100,110,120,130,140,150,160,170,180,190");
        } catch (GLib.Error e) {
            error ("map: %s", e.message);
        }
        assert_true (input.thread == main_thread);
    }
    shutdown_or_die (pool);
}

void test_map_backpressure () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    var release = new Gate ();
    var input = new Counter (30);
    try {
        var results = pool.map ((item, cancellable, out result) => {
            release.wait ();
            result = item;
        }, input.func (), -1, 1, 3);
        // map() read exactly max_in_flight items, however long the work takes.
        assert_cmpint (input.reads, CompareOperator.EQ, 3);
        release.open ();
        Value v;
        int consumed = 0;
        while (results.next (out v)) {
            assert_cmpint (v.get_int (), CompareOperator.EQ, consumed);
            consumed++;
            assert_cmpint (input.reads, CompareOperator.EQ, int.min (30, consumed + 3));
        }
        assert_cmpint (consumed, CompareOperator.EQ, 30);
    } catch (GLib.Error e) {
        error ("map: %s", e.message);
    }
    shutdown_or_die (pool);
}

void test_map_error () {
    var pool = Concurry.ThreadPoolExecutor.new (2);
    try {
        var results = pool.map ((item, cancellable, out result) => {
            if (item.get_int () == 4)
                throw new IOError.INVALID_DATA ("bad item 4");
            result = item;
        }, new Counter (10).func (), -1, 2, 0);
        Value v;
        for (int i = 0; i < 4; i++) {
            assert_true (results.next (out v));
            assert_cmpint (v.get_int (), CompareOperator.EQ, i);
        }
        try {
            results.next (out v);
            error ("next did not throw at the failed item");
        } catch (IOError.INVALID_DATA e) {
            assert_cmpstr (e.message, CompareOperator.EQ, "bad item 4");
        }
        assert_false (results.next (out v));
    } catch (GLib.Error e) {
        error ("map: %s", e.message);
    }
    shutdown_or_die (pool);
}

void test_map_close () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    var blocker = new Blocker (pool);
    int ran = 0;
    try {
        var results = pool.map ((item, cancellable, out result) => {
            AtomicInt.inc (ref ran);
            result = item;
        }, new Counter (10).func (), -1, 1, 4);
        results.close ();
        Value v;
        assert_false (results.next (out v));
    } catch (GLib.Error e) {
        error ("map: %s", e.message);
    }
    blocker.finish ();
    shutdown_or_die (pool);
    assert_cmpint (AtomicInt.get (ref ran), CompareOperator.EQ, 0);
}

void test_map_timeout () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    var release = new Gate ();
    int64 start = get_monotonic_time ();
    try {
        var results = pool.map ((item, cancellable, out result) => {
            if (item.get_int () == 1)
                release.wait ();
            result = item;
        }, new Counter (5).func (), 100000, 1, 0);
        Value v;
        assert_true (results.next (out v));
        assert_cmpint (v.get_int (), CompareOperator.EQ, 0);
        try {
            results.next (out v);
            error ("next did not time out");
        } catch (IOError.TIMED_OUT e) {
        }
        int64 elapsed = get_monotonic_time () - start;
        if (elapsed < 100000)
            error ("timed out after %" + int64.FORMAT + " us", elapsed);
        assert_false (results.next (out v));
    } catch (GLib.Error e) {
        error ("map: %s", e.message);
    }
    release.open ();
    shutdown_or_die (pool);
}

void test_map_main_context () {
    var executor = Concurry.MainContextExecutor.new (null);
    var input = new Counter (8);
    bool all_on_main = true;
    try {
        // next() iterates the main context, which runs the work.
        var results = executor.map ((item, cancellable, out result) => {
            all_on_main = all_on_main && on_main_thread ();
            result = int_value (item.get_int () + 1);
        }, input.func (), BLOCK, 3, 0);
        assert_cmpstr (join_ints (collect_ints (results)), CompareOperator.EQ, "1,2,3,4,5,6,7,8");
    } catch (GLib.Error e) {
        error ("map: %s", e.message);
    }
    assert_true (all_on_main);
    shutdown_or_die (executor);
}

// ---------------------------------------------------------------------------

int main (string[] args) {
    Test.init (ref args);
    main_thread = (void *) Thread.self<void *> ();

    Test.add_func ("/concurry/vala/executor/submit/thread-pool", test_thread_pool_submit);
    Test.add_func ("/concurry/vala/executor/submit/task", test_task_submit);
    Test.add_func ("/concurry/vala/executor/submit/default-max-workers", test_default_max_workers);
    Test.add_func ("/concurry/vala/executor/submit/values", test_values);
    Test.add_func ("/concurry/vala/executor/errors/thread-pool", test_thread_pool_errors);
    Test.add_func ("/concurry/vala/executor/errors/task", test_task_errors);
    Test.add_func ("/concurry/vala/executor/cancel/queued", test_cancel_queued);
    Test.add_func ("/concurry/vala/executor/cancel/running-thread-pool", test_cancel_running_thread_pool);
    Test.add_func ("/concurry/vala/executor/cancel/running-task", test_cancel_running_task);
    Test.add_func ("/concurry/vala/executor/shutdown/submit-after", test_submit_after_shutdown);
    Test.add_func ("/concurry/vala/executor/shutdown/wait", test_shutdown_wait);
    Test.add_func ("/concurry/vala/executor/shutdown/no-wait", test_shutdown_no_wait);
    Test.add_func ("/concurry/vala/executor/shutdown/cancel-futures", test_shutdown_cancel_futures);
    Test.add_func ("/concurry/vala/executor/shutdown/from-own-work", test_shutdown_from_own_work);
    Test.add_func ("/concurry/vala/executor/shutdown/dropped-executor", test_dropped_executor_finishes_its_work);
    Test.add_func ("/concurry/vala/executor/threads/many-submitters", test_many_submitting_threads);
    Test.add_func ("/concurry/vala/executor/main-context/order", test_main_context_order);
    Test.add_func ("/concurry/vala/executor/main-context/shutdown-wait", test_main_context_shutdown_wait);
    Test.add_func ("/concurry/vala/executor/main-context/cancel", test_main_context_cancel);
    Test.add_func ("/concurry/vala/executor/map/order", test_map_order);
    Test.add_func ("/concurry/vala/executor/map/backpressure", test_map_backpressure);
    Test.add_func ("/concurry/vala/executor/map/error", test_map_error);
    Test.add_func ("/concurry/vala/executor/map/close", test_map_close);
    Test.add_func ("/concurry/vala/executor/map/timeout", test_map_timeout);
    Test.add_func ("/concurry/vala/executor/map/main-context", test_map_main_context);

    return Test.run ();
}
