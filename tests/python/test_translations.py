# SPDX-License-Identifier: LGPL-2.1-or-later
"""Concurry's messages come from the catalog of the user's language.

The library binds its text domain to the LOCALEDIR it was configured with
when it is loaded; like any program, these tests then rebind it, to the
build tree's catalogs (build/po), with locale.bindtextdomain(). Each
language runs in a fresh interpreter, since glibc keeps the translations
it found for the locale a process runs in.
"""

import os
import subprocess
import sys
import textwrap

import pytest

BUILD_PO = os.path.join(os.environ.get('G_TEST_BUILDDIR', ''), os.pardir, 'po')

CHILD = '''
import locale
import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry

Concurry.get_major_version()          # loads libconcurry, which binds its domain
configured = locale.bindtextdomain('concurry', None)
locale.bindtextdomain('concurry', {po!r})
locale.setlocale(locale.LC_ALL, '')
promise = Concurry.Promise()
promise.cancel()
print(configured)
print(promise.get_error().message)
'''


def cancelled_message(language):
    env = dict(os.environ)
    env.pop('G_DEBUG', None)
    env['LC_ALL'] = 'C.UTF-8'
    if language is None:
        env.pop('LANGUAGE', None)
    else:
        env['LANGUAGE'] = language
    result = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(CHILD.format(po=os.path.abspath(BUILD_PO)))],
        env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    configured, message = result.stdout.splitlines()
    return configured, message


@pytest.mark.parametrize('language, expected', [
    ('de', 'Das Future wurde abgebrochen'),
    ('fr', 'Le future a été annulé'),
    ('es', 'El future se canceló'),
])
def test_each_language_uses_its_catalog(language, expected):
    assert cancelled_message(language)[1] == expected


def test_c_locale_gives_english():
    assert cancelled_message(None)[1] == 'The future was cancelled'


def test_language_without_catalog_gives_english():
    assert cancelled_message('xx')[1] == 'The future was cancelled'


def test_domain_is_bound_on_load_without_any_environment_variable():
    configured, _ = cancelled_message(None)
    # The configured <prefix>/<localedir>, not the build tree.
    assert os.path.isabs(configured)
    assert os.path.realpath(configured) != os.path.realpath(BUILD_PO)
    assert configured.endswith(os.path.join('share', 'locale'))
