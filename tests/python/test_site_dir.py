# SPDX-License-Identifier: LGPL-2.1-or-later
"""bindings/python/site-dir.py: where meson installs the PyGObject override
by default, a site directory of this Python under the install prefix."""

import os
import site
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                      'bindings', 'python', 'site-dir.py')


def site_dir(prefix):
    result = subprocess.run([sys.executable, SCRIPT, prefix],
                            capture_output=True, text=True, check=True, timeout=60)
    return result.stdout.strip()


@pytest.mark.parametrize('directory', site.getsitepackages())
def test_each_system_site_directory_is_found_under_its_prefix(directory):
    # The prefix is what lies above lib*/ (/usr/local for
    # /usr/local/lib/python3.X/dist-packages).
    parts = directory.split(os.sep)
    lib = next(i for i, part in enumerate(parts) if part.startswith('lib'))
    prefix = os.sep.join(parts[:lib]) or os.sep
    found = os.path.join(prefix, site_dir(prefix))
    assert found in site.getsitepackages()
    assert os.path.commonpath([found, prefix]) == prefix


def test_usr_does_not_get_the_site_directory_of_usr_local():
    # /usr/local/lib/... lies under /usr too, but belongs to /usr/local.
    usr = [d for d in site.getsitepackages() if d.startswith('/usr/lib/')]
    if not usr:
        pytest.skip('no site directory under /usr/lib')
    assert os.path.join('/usr', site_dir('/usr')) == usr[0]


def test_a_prefix_without_site_directory_gives_nothing(tmp_path):
    assert site_dir(str(tmp_path)) == ''
