// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GIO asynchronous calls as futures, from GJS. Run from a build tree with:
//   meson devenv -C build gjs -m ../examples/gio-call.js
//
// A Concurry.Promise bridges any callback API into a future; passing its
// cancellable to the GIO call makes future.cancel() cancel the I/O. Three
// calls run at once: a query of this file's size, a read of its contents,
// and a read of a file that does not exist. Concurry.gather() waits for
// all three (ALL_OUTCOMES: failures included).

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import System from 'system';
import Concurry from 'gi://Concurry?version=1';

// Any GIO call: the callback finishes it and completes the promise.
function gioCall(start, finish) {
    const promise = new Concurry.Promise();
    start(promise.get_cancellable(), (source, result) => {
        try {
            promise.resolve(finish(source, result));
        } catch (e) {
            promise.reject(e);       // the GLib.Error of the call
        }
    });
    return promise;
}

const here = Gio.File.new_for_uri(import.meta.url);
const missing = Gio.File.new_for_path(`${here.get_path()}.does-not-exist`);

const info = gioCall(
    (cancellable, callback) => here.query_info_async(Gio.FILE_ATTRIBUTE_STANDARD_SIZE,
        Gio.FileQueryInfoFlags.NONE, GLib.PRIORITY_DEFAULT, cancellable, callback),
    (file, result) => file.query_info_finish(result));
// load_contents_finish() returns [ok, contents, etag]: keep the bytes.
const contents = gioCall(
    (cancellable, callback) => here.load_contents_async(cancellable, callback),
    (file, result) => new GLib.Bytes(file.load_contents_finish(result)[1]));
const nothing = gioCall(
    (cancellable, callback) => missing.load_contents_async(cancellable, callback),
    (file, result) => new GLib.Bytes(file.load_contents_finish(result)[1]));

await Concurry.gather([info, contents, nothing], Concurry.GatherFlags.ALL_OUTCOMES).wait_async(null);

const size = info.get_object().get_size();
const read = contents.get_value().get_size();
const error = nothing.get_error();
print(`queried: ${size} bytes`);
print(`read:    ${read} bytes`);
print(`missing: ${error.message}`);

if (size !== read || !error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND))
    System.exit(1);
