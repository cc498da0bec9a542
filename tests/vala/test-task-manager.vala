// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Vala tests of Concurry.TaskManager through the generated concurry-1.vapi:
// Vala closures as work on a thread pool, a Vala input for map(), `yield
// manager.wait_async ()`, the list model, a property binding to fraction,
// and the error policies.
//
// Threads synchronise with Gate (a mutex and a condition); nothing sleeps.
//
// No `using Concurry;`: Concurry.Error would clash with GLib.Error.

const uint DEADLINE_MS = 5000;

delegate void AsyncBody (AsyncReadyCallback done);
delegate bool Condition ();

void run_async (AsyncBody body) {
    var loop = new MainLoop (null, false);
    bool finished = false;
    bool timed_out = false;
    uint guard = Timeout.add (DEADLINE_MS, () => {
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
        error ("the test did not finish within %u ms", DEADLINE_MS);
    Source.remove (guard);
}

void iterate_until (Condition cond) {
    bool timed_out = false;
    uint guard = Timeout.add (DEADLINE_MS, () => {
        timed_out = true;
        return Source.REMOVE;
    });
    while (!cond () && !timed_out)
        MainContext.default ().iteration (true);
    if (timed_out)
        error ("condition not reached within %u ms", DEADLINE_MS);
    Source.remove (guard);
}

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

    public void wait () {
        mutex.lock ();
        while (!is_open)
            cond.wait (mutex);
        mutex.unlock ();
    }
}

// A progress bar stand-in.
class Bar : Object {
    public double fraction { get; set; }
}

// Produces 0 .. n - 1, counting the items read.
class Counter : Object {
    public int n;
    public int read = 0;

    public Counter (int n) {
        this.n = n;
    }

    public bool next (out Value item) throws GLib.Error {
        item = Value (typeof (int));
        if (read >= n)
            return false;
        item.set_int (read++);
        return true;
    }
}

Concurry.TaskManager new_manager (Concurry.Executor executor, Concurry.ErrorPolicy policy) {
    var manager = new Concurry.TaskManager (executor, policy);
    manager.monitor_interval = 0;
    return manager;
}

void test_submit_closure () {
    var pool = Concurry.ThreadPoolExecutor.new (2);
    var manager = new_manager (pool, Concurry.ErrorPolicy.RAISE);
    int captured = 20;
    try {
        var task = manager.submit ((cancellable, out value) => {
            value = Value (typeof (int));
            value.set_int (captured + 22);
        });
        assert (manager.wait (-1));
        assert (task.get_index () == 1);
        assert (task.get_state () == Concurry.FutureState.DONE);
        assert (task.get_value ().get_int () == 42);
        assert (task.get_duration () >= 0);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

void test_map_with_a_vala_input () {
    var pool = Concurry.ThreadPoolExecutor.new (2);
    var manager = new_manager (pool, Concurry.ErrorPolicy.IGNORE);
    var counter = new Counter (200);
    var gate = new Gate ();
    manager.max_in_flight = 4;
    try {
        manager.map ((item, cancellable, out result) => {
            gate.wait ();
            result = Value (typeof (int));
            result.set_int (item.get_int () * 2);
        }, counter.next, 200);
        // the first window only, until tasks finish
        assert (counter.read == 4);
        gate.open ();
        assert (manager.wait (-1));
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    assert (counter.read == 200);
    assert (manager.n_completed == 200);
    assert (manager.fraction == 1.0);
}

void test_an_input_that_throws_ends_in_a_failed_task () {
    // IGNORE keeps the input's error in a task of its own, with no input
    var pool = Concurry.ThreadPoolExecutor.new (2);
    var manager = new_manager (pool, Concurry.ErrorPolicy.IGNORE);
    int next = 0;
    try {
        manager.map ((item, cancellable, out result) => {
            result = Value (typeof (int));
            result.set_int (item.get_int ());
        }, (out item) => {
            item = Value (typeof (int));
            if (next == 2)
                throw new IOError.BROKEN_PIPE ("input broke");
            item.set_int (next++);
            return true;
        }, -1);
        assert (manager.wait (-1));
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    assert (manager.n_submitted == 3);
    assert (manager.n_failed == 1);
    var failed = 0;
    for (uint i = 0; i < manager.get_n_items (); i++) {
        var task = (Concurry.Task) manager.get_item (i);
        unowned GLib.Error? task_error = task.get_error ();
        if (task_error != null) {
            failed++;
            assert (task_error is IOError.BROKEN_PIPE);
            assert (task.get_input () == null);
        }
    }
    assert (failed == 1);
}

void test_yield_wait_async_and_list_model () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    var manager = new_manager (pool, Concurry.ErrorPolicy.IGNORE);
    var bar = new Bar ();
    manager.bind_property ("fraction", bar, "fraction", BindingFlags.SYNC_CREATE);
    try {
        manager.map ((item, cancellable, out result) => {
            if (item.get_int () == 3)
                throw new IOError.INVALID_DATA ("three");
            result = Value (typeof (int));
            result.set_int (item.get_int ());
        }, new Counter (10).next, 10);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }

    bool waited = false;
    run_async ((done) => {
        manager.wait_async.begin (null, (obj, res) => {
            try {
                waited = manager.wait_async.end (res);
            } catch (GLib.Error e) {
                error ("%s", e.message);
            }
            done (obj, res);
        });
    });
    assert (waited);
    iterate_until (() => manager.get_n_items () == 10 && bar.fraction == 1.0);
    for (uint i = 0; i < 10; i++) {
        var task = (Concurry.Task) manager.get_item (i);
        assert (task.get_index () == i + 1);
        if (i == 3)
            assert (task.get_error () is IOError.INVALID_DATA);
        else
            assert (task.get_value ().get_int () == (int) i);
    }
    assert (manager.n_failed == 1);
}

async void next_all (Concurry.TaskManager manager, GenericSet<uint64?> seen) throws GLib.Error {
    Concurry.Task? task;
    while ((task = yield manager.next_completed_async (null)) != null)
        seen.add (task.get_index ());
}

void test_next_completed_async () {
    var pool = Concurry.ThreadPoolExecutor.new (3);
    var manager = new_manager (pool, Concurry.ErrorPolicy.RAISE);
    var seen = new GenericSet<uint64?> (int64_hash, int64_equal);
    try {
        manager.map ((item, cancellable, out result) => {
            result = Value (typeof (int));
            result.set_int (item.get_int ());
        }, new Counter (50).next, -1);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    run_async ((done) => {
        next_all.begin (manager, seen, (obj, res) => {
            try {
                next_all.end (res);
            } catch (GLib.Error e) {
                error ("%s", e.message);
            }
            done (obj, res);
        });
    });
    assert (seen.length == 50);
}

void test_raise_fails_fast () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    var manager = new_manager (pool, Concurry.ErrorPolicy.RAISE);
    var gate = new Gate ();
    Concurry.Task[] queued = {};
    try {
        manager.submit ((cancellable, out value) => {
            gate.wait ();
            throw new IOError.PERMISSION_DENIED ("no way");
        });
        for (int i = 0; i < 5; i++)
            queued += manager.submit ((cancellable, out value) => {
                value = Value (typeof (int));
            });
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    gate.open ();
    try {
        manager.wait (-1);
        assert_not_reached ();
    } catch (IOError.PERMISSION_DENIED e) {
        assert (e.message == "no way");
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        manager.shutdown (true, false);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    foreach (var task in queued)
        assert (task.get_state () == Concurry.FutureState.CANCELLED);
    assert (manager.n_cancelled == 5);
}

async bool wait_for (Concurry.Future future) throws GLib.Error {
    return yield future.wait_async (null);
}

void test_task_is_a_future () {
    var pool = Concurry.ThreadPoolExecutor.new (1);
    var manager = new_manager (pool, Concurry.ErrorPolicy.IGNORE);
    var gate = new Gate ();
    Concurry.Task first = null;
    Concurry.Task queued = null;
    bool queued_ran = false;
    try {
        first = manager.submit ((cancellable, out value) => {
            gate.wait ();
            value = Value (typeof (int));
            value.set_int (42);
        });
        queued = manager.submit ((cancellable, out value) => {
            queued_ran = true;
            value = Value (typeof (int));
        });
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    // a task is a Concurry.Future: it goes wherever a future goes
    Concurry.Future as_future = first;
    assert (as_future == first.get_future ());
    // the only worker is busy with the first: the second is still queued
    assert (((Concurry.Future) queued).cancel ());
    assert (queued.get_state () == Concurry.FutureState.CANCELLED);
    assert (manager.n_cancelled == 1);
    gate.open ();
    run_async ((done) => {
        wait_for.begin (first, (obj, res) => {
            try {
                assert (wait_for.end (res));
            } catch (GLib.Error e) {
                error ("%s", e.message);
            }
            done (obj, res);
        });
    });
    assert (as_future.get_int () == 42);
    try {
        assert (manager.wait (-1));
        pool.shutdown (true, false);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    assert (!queued_ran);
    assert (manager.n_completed == 2);
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/Concurry/Vala/TaskManager/submit-closure", test_submit_closure);
    Test.add_func ("/Concurry/Vala/TaskManager/map-with-a-vala-input", test_map_with_a_vala_input);
    Test.add_func ("/Concurry/Vala/TaskManager/an-input-that-throws-ends-in-a-failed-task",
                   test_an_input_that_throws_ends_in_a_failed_task);
    Test.add_func ("/Concurry/Vala/TaskManager/yield-wait-async-and-list-model",
                   test_yield_wait_async_and_list_model);
    Test.add_func ("/Concurry/Vala/TaskManager/next-completed-async", test_next_completed_async);
    Test.add_func ("/Concurry/Vala/TaskManager/raise-fails-fast", test_raise_fails_fast);
    Test.add_func ("/Concurry/Vala/TaskManager/task-is-a-future", test_task_is_a_future);
    return Test.run ();
}
