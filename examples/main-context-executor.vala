// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Running functions on the main thread with a main-context executor, from
// Vala.
//
// A Concurry.MainContextExecutor runs each function it is given from its
// main context, one at a time, after submit () returned, and hands out the
// function's future. Here a thread pool hashes four strings; each worker
// submits a "report" to the main-context executor, which prints the digest
// from the main thread. `foreach` then reads the results of a map () over
// the pool, in input order.

const string[] TEXTS = { "alpha", "beta", "gamma", "delta" };

async int run (Concurry.Executor pool, Concurry.Executor main_executor) throws Error {
    unowned Thread<void> main_thread = Thread.self<void> ();
    Concurry.Future[] reports = {};
    var reports_mutex = Mutex ();
    Concurry.Future[] hashes = {};

    for (int k = 0; k < TEXTS.length; k++) {
        string copy = TEXTS[k];
        hashes += pool.submit ((cancellable, out value) => {
            // On a worker thread.
            string digest = Checksum.compute_for_string (ChecksumType.SHA256, copy);
            var report = main_executor.submit ((c, out on_main_thread) => {
                // On the main thread, from the main loop.
                print ("%-6s %.16s...\n", copy, digest);
                on_main_thread = Value (typeof (bool));
                on_main_thread.set_boolean (Thread.self<void> () == main_thread);
            });
            reports_mutex.lock ();
            reports += report;
            reports_mutex.unlock ();
            value = Value (typeof (string));
            value.set_string (digest);
        });
    }
    yield Concurry.gather (hashes, Concurry.GatherFlags.NONE).wait_async (null);

    int on_main_thread = 0;
    reports_mutex.lock ();
    var all_reports = reports;
    reports_mutex.unlock ();
    foreach (var report in all_reports) {
        yield report.wait_async (null);
        on_main_thread += report.get_boolean () ? 1 : 0;
    }
    int n_texts = TEXTS.length;
    print ("%d of %d reports ran on the main thread\n", on_main_thread, n_texts);

    // The same digests through map (), read with foreach in input order.
    int index = 0;
    var results = pool.map ((item, cancellable, out result) => {
        result = Value (typeof (string));
        result.set_string (Checksum.compute_for_string (ChecksumType.SHA256, item.get_string ()));
    }, (out item) => {
        item = Value (typeof (string));
        if (index == TEXTS.length)
            return false;
        item.set_string (TEXTS[index++]);
        return true;
    }, 30 * TimeSpan.SECOND, 1, 0);
    int i = 0;
    foreach (var digest in results) {
        if (digest.get_string () != hashes[i++].get_string ())
            return 1;
    }
    return on_main_thread == TEXTS.length && i == TEXTS.length ? 0 : 1;
}

int main () {
    var pool = new Concurry.ThreadPoolExecutor (2);
    var main_executor = new Concurry.MainContextExecutor (null);
    var loop = new MainLoop ();
    int status = 1;
    run.begin (pool, main_executor, (obj, res) => {
        try {
            status = run.end (res);
        } catch (Error e) {
            printerr ("%s\n", e.message);
        }
        loop.quit ();
    });
    loop.run ();
    try {
        pool.shutdown (true, false);
        main_executor.shutdown (true, false);
    } catch (Error e) {
        printerr ("%s\n", e.message);
        return 1;
    }
    return status;
}
