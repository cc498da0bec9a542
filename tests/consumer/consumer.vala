// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Vala code of a parent project, compiled against the subproject's VAPI.

int main () {
    if (!Concurry.check_version (0, 2, 0))
        return 1;
    var promise = new Concurry.Promise ();
    promise.resolve_int (7);
    return promise.get_state () == Concurry.FutureState.DONE ? 0 : 1;
}
