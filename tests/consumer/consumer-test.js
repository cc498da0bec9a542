// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The consumer's typelib, which includes Concurry-1, used from GJS: its
// function returns a Concurry.Future.

import GLib from 'gi://GLib';
import System from 'system';

import Concurry from 'gi://Concurry?version=1';
import Consumer from 'gi://Consumer?version=1';

const future = Consumer.answer_later(42);
if (!(future instanceof Concurry.Future))
    System.exit(1);
while (future.get_state() === Concurry.FutureState.PENDING)
    GLib.MainContext.default().iteration(true);
System.exit(future.get_value() === 42 ? 0 : 1);
