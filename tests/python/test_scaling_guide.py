# SPDX-License-Identifier: LGPL-2.1-or-later
"""The examples of doc/scaling-out.md run: its ```python blocks, in order,
as one script (a script, not exec(): the process pool's workers must find
the guide's functions in __main__, as a reader's script would)."""

import os
import re
import subprocess
import sys

import pytest

GUIDE = os.path.join(os.path.dirname(__file__), '..', '..', 'doc', 'scaling-out.md')

# Until the override exports them itself.
PRELUDE = '''\
import gi
gi.require_version('Concurry', '1')
from gi.repository import Concurry
if not hasattr(Concurry, 'ProcessPoolExecutor'):
    from gi._concurry.process import ProcessPoolExecutor as _P
    Concurry.ProcessPoolExecutor = _P
if not hasattr(Concurry, 'DaskExecutor'):
    from gi._concurry.dask import DaskExecutor as _D
    Concurry.DaskExecutor = _D
'''


def guide_blocks():
    with open(GUIDE, encoding='utf-8') as f:
        text = f.read()
    return re.findall(r'^```python\n(.*?)^```$', text, flags=re.S | re.M)


def test_the_guide_has_examples_for_threads_processes_and_a_cluster():
    code = '\n'.join(guide_blocks())
    for name in ('ThreadPoolExecutor', 'ProcessPoolExecutor', 'DaskExecutor'):
        assert 'Concurry.%s(' % name in code


def test_the_examples_of_the_scaling_out_guide_run(tmp_path):
    pytest.importorskip('distributed')
    script = tmp_path / 'scaling_out_guide.py'
    script.write_text(PRELUDE + '\n\n'.join(guide_blocks()), encoding='utf-8')
    done = subprocess.run([sys.executable, str(script)], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'ValueError' in done.stdout      # the printed remote traceback
