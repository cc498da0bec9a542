# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject override for Concurry.

For now this only loads the introspected module; the Pythonic API
(result(), add_done_callback(), asyncio, executors) builds on top of it.
"""

from ..module import get_introspection_module

Concurry = get_introspection_module('Concurry')

__all__ = []
