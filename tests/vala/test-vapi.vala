// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What concurry-1.vapi adds to the GIR (Concurry-1.metadata and
// Concurry-1-custom.vala): creation methods, foreach over AsCompleted and
// MapResults, read-only values in map callbacks. Built like the doc
// examples, through valac -C and the C compiler with
// -Werror=incompatible-pointer-types and -Werror=discarded-qualifiers.

Value int_value (int i) {
    var v = Value (typeof (int));
    v.set_int (i);
    return v;
}

void test_creation_methods_make_the_class_they_name () {
    var pool = new Concurry.ThreadPoolExecutor (3);
    assert_true (pool is Concurry.ThreadPoolExecutor);
    assert_cmpuint (pool.max_workers, CompareOperator.EQ, 3);
    var task = new Concurry.TaskExecutor ();
    assert_true (task is Concurry.TaskExecutor);
    var main = new Concurry.MainContextExecutor (null);
    assert_true (main.get_context () == MainContext.default ());
    var resolved = new Concurry.ResolvedFuture.int (4);
    assert_true (resolved is Concurry.ResolvedFuture);
    assert_cmpint (resolved.get_int (), CompareOperator.EQ, 4);

    // The static functions of the C API stay, typed as the interface.
    Concurry.Executor old = Concurry.ThreadPoolExecutor.new (1);
    Concurry.Future old_future = Concurry.ResolvedFuture.new_int (5);
    assert_cmpint (old_future.get_int (), CompareOperator.EQ, 5);
    try {
        foreach (var executor in new Concurry.Executor[] { pool, task, main, old })
            executor.shutdown (true, false);
    } catch (Error e) {
        error ("%s", e.message);
    }
}

void test_foreach_over_as_completed_gives_every_future_once () {
    Concurry.Future[] futures = {
        new Concurry.ResolvedFuture.int (1),
        new Concurry.ResolvedFuture.int (2),
        new Concurry.ResolvedFuture.int (3),
    };
    int sum = 0;
    int count = 0;
    try {
        foreach (var f in Concurry.as_completed (futures, -1)) {
            sum += f.get_int ();
            count++;
        }
    } catch (Error e) {
        error ("%s", e.message);
    }
    assert_cmpint (count, CompareOperator.EQ, 3);
    assert_cmpint (sum, CompareOperator.EQ, 6);
}

void test_foreach_over_as_completed_throws_when_time_is_up () {
    var pending = new Concurry.Promise ();
    Concurry.Future[] futures = { new Concurry.ResolvedFuture.int (1), pending };
    int count = 0;
    try {
        foreach (var f in Concurry.as_completed (futures, 0))
            count++;
        assert_not_reached ();
    } catch (IOError.TIMED_OUT e) {
        assert_cmpint (count, CompareOperator.EQ, 1);
    } catch (Error e) {
        error ("%s", e.message);
    }
    pending.cancel ();
}

void test_foreach_over_map_results_stops_at_a_failed_item () {
    var pool = new Concurry.ThreadPoolExecutor (2);
    int next = 0;
    int[] seen = {};
    try {
        var results = pool.map ((item, cancellable, out result) => {
            if (item.get_int () == 3)
                throw new IOError.INVALID_DATA ("three");
            result = item;                                  // a copy of the read-only value
        }, (out item) => {
            item = int_value (next);
            return next++ < 5;
        }, -1, 1, 0);
        foreach (var v in results)
            seen += v.get_int ();
        assert_not_reached ();
    } catch (IOError.INVALID_DATA e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "three");
    } catch (Error e) {
        error ("%s", e.message);
    }
    assert_cmpint (seen.length, CompareOperator.EQ, 3);
    for (int i = 0; i < seen.length; i++)
        assert_cmpint (seen[i], CompareOperator.EQ, i);
    try {
        pool.shutdown (true, false);
    } catch (Error e) {
        error ("%s", e.message);
    }
}

void test_map_steps_read_a_const_value_and_errors_are_const () {
    var start = new Concurry.ResolvedFuture.string ("read only");
    var copied = start.map ((v, out result) => {
        Value copy = v;                                     // copying keeps the const
        assert_true (v.holds (typeof (string)));
        result = copy;
    });
    var failed = new Concurry.ResolvedFuture.error (new IOError.BUSY ("busy"));
    var loop = new MainLoop ();
    copied.add_done_callback ((f) => loop.quit ());
    loop.run ();
    assert_cmpstr (copied.get_string (), CompareOperator.EQ, "read only");
    unowned Error? error = failed.get_error ();
    assert_true (error is IOError.BUSY);
    unowned Value? value = copied.get_value ();
    assert_cmpstr (value.get_string (), CompareOperator.EQ, "read only");
}

void test_every_const_getter_is_read_as_const () {
    // Each of these returns `const GValue *` or `const GError *` in C: the
    // strict build (-Werror=discarded-qualifiers) fails if one is not.
    var pool = new Concurry.ThreadPoolExecutor (1);
    var manager = new Concurry.TaskManager (pool, Concurry.ErrorPolicy.IGNORE);
    try {
        var input = Value (typeof (int));
        input.set_int (3);
        var task = manager.submit_input (input, (item, cancellable, out result) => {
            throw new IOError.BUSY ("busy %d", item.get_int ());
        });
        manager.wait (-1);
        unowned Value? given = task.get_input ();
        unowned Value? value = task.get_value ();
        unowned Error? task_error = task.get_error ();
        unowned Error? manager_error = manager.get_error ();
        assert_true (given.get_int () == 3 && value == null);
        assert_true (task_error is IOError.BUSY && manager_error == null);
        unowned Value? payload = task.get_error_payload ();
        unowned Value? also = Concurry.Error.get_payload (task_error);
        assert_true (payload == null && also == null);
        pool.shutdown (true, false);
    } catch (Error e) {
        error ("%s", e.message);
    }
}

// Only compiled: the getters of a map's results and of a runner's batch.
void read_const_getters_of (Concurry.MapResults results, Concurry.WorkBatch batch) {
    unowned Value? payload = results.get_error_payload ();
    unowned Value? data = batch.get_data ();
    unowned Value? item = batch.start (0);
    print ("%s\n", (payload == null && data == null && item == null).to_string ());
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/vapi/creation-methods", test_creation_methods_make_the_class_they_name);
    Test.add_func ("/vapi/foreach/as-completed", test_foreach_over_as_completed_gives_every_future_once);
    Test.add_func ("/vapi/foreach/as-completed-timeout", test_foreach_over_as_completed_throws_when_time_is_up);
    Test.add_func ("/vapi/foreach/map-results-error", test_foreach_over_map_results_stops_at_a_failed_item);
    Test.add_func ("/vapi/const-values", test_map_steps_read_a_const_value_and_errors_are_const);
    Test.add_func ("/vapi/const-getters", test_every_const_getter_is_read_as_const);
    if (args.length > 1000)   // never: keeps read_const_getters_of() used
        read_const_getters_of ((Concurry.MapResults) null, (Concurry.WorkBatch) null);
    return Test.run ();
}
