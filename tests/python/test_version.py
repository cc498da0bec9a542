# SPDX-License-Identifier: LGPL-2.1-or-later
"""The run-time version functions, seen from Python."""

import gi

gi.require_version('Concurry', '1')
from gi.repository import Concurry  # noqa: E402


def running_version():
    return (Concurry.get_major_version(), Concurry.get_minor_version(),
            Concurry.get_micro_version())


def test_runtime_version_matches_the_typelib_constants():
    assert running_version() == (Concurry.MAJOR_VERSION, Concurry.MINOR_VERSION,
                                 Concurry.MICRO_VERSION)


def test_runtime_version_matches_the_version_string():
    assert '.'.join(map(str, running_version())) == Concurry.VERSION_S


def test_check_version_accepts_this_and_older_versions():
    major, minor, micro = running_version()
    assert Concurry.check_version(major, minor, micro)
    assert Concurry.check_version(0, 0, 0)
    assert Concurry.check_version(0, 1, 0)


def test_check_version_refuses_newer_versions():
    major, minor, micro = running_version()
    assert not Concurry.check_version(major, minor, micro + 1)
    assert not Concurry.check_version(major, minor + 1, 0)
    assert not Concurry.check_version(major + 1, 0, 0)
