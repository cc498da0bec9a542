// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS tests of the run-time version functions and of the translations.
//
// The translation test reads LANGUAGE: meson runs this script once per
// language, with LANGUAGE and LC_ALL=C.UTF-8 set (glibc ignores LANGUAGE in
// the C locale; GJS calls setlocale() itself). The library binds its text
// domain to its configured LOCALEDIR when it loads; the script rebinds it
// to the build tree's catalogs, as any program may.

import GLib from 'gi://GLib';
import Gettext from 'gettext';

import Concurry from 'gi://Concurry?version=1';

import {test, run, assert, assertEq} from './harness.js';

const CANCELLED = {
    de: 'Das Future wurde abgebrochen',
    fr: 'Le future a été annulé',
    es: 'El future se canceló',
};

function runningVersion() {
    return [Concurry.get_major_version(), Concurry.get_minor_version(),
        Concurry.get_micro_version()];
}

test('the running version is the one the typelib was built with', () => {
    const [major, minor, micro] = runningVersion();
    assertEq(major, Concurry.MAJOR_VERSION, 'major');
    assertEq(minor, Concurry.MINOR_VERSION, 'minor');
    assertEq(micro, Concurry.MICRO_VERSION, 'micro');
    assertEq(`${major}.${minor}.${micro}`, Concurry.VERSION_S, 'VERSION_S');
});

test('check_version accepts this and older versions, refuses newer ones', () => {
    const [major, minor, micro] = runningVersion();
    assert(Concurry.check_version(major, minor, micro), 'this version');
    assert(Concurry.check_version(0, 1, 0), '0.1.0');
    assert(!Concurry.check_version(major, minor, micro + 1), 'next micro');
    assert(!Concurry.check_version(major, minor + 1, 0), 'next minor');
    assert(!Concurry.check_version(major + 1, 0, 0), 'next major');
});

const language = GLib.getenv('LANGUAGE');
if (language) {
    test(`messages come from the ${language} catalog`, () => {
        Concurry.get_major_version();   // the library is loaded: rebind after it
        const buildDir = GLib.getenv('G_TEST_BUILDDIR');
        Gettext.bindtextdomain('concurry', GLib.build_filenamev([buildDir, '..', 'po']));
        const promise = new Concurry.Promise();
        promise.cancel();
        assertEq(promise.get_error().message, CANCELLED[language] ?? 'The future was cancelled');
    });
}

run();
