/* concurry-fan-in-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-fan-in-private.h"
#endif

#include "concurry-dispatch-private.h"
#include "concurry-future-private.h"

G_BEGIN_DECLS

/*
 * ConcurryFanIn:
 *
 * The callbacks that one owner (a group of wait/gather/any/race, an
 * as_completed iterator) registers on many inputs, and their count.
 *
 * The callbacks are borrowed nodes in blocks of CONCURRY_FAN_IN_BLOCK,
 * allocated as registration reaches them (a node never moves): most
 * registrations allocate nothing, none takes a reference of its own, and
 * inputs already done cost no node. Blocks are small enough to come from
 * the heap, whose memory is used again and is warm: one array for a
 * million inputs would be a fresh mapping every time, each of its pages
 * faulted in and zeroed by the kernel. The nodes hold one reference on their
 * owner together, for as long as any of them is on an input (@n_linked)
 * or more may come (@registering); the functions that change the count
 * return TRUE when that reference is to be dropped. Each node is counted
 * out once: by its own run, or by whoever takes it off its input
 * (_concurry_core_unlink() tells who).
 *
 * The owner's lock protects the counts: the functions ending in _locked
 * need it held.
 */
#define CONCURRY_FAN_IN_BLOCK 1024

typedef struct
{
  ConcurryCallback **blocks;      /* allocated as reached, or NULL */
  guint             n_blocks;
  guint             n_nodes;      /* used */
  guint             n_linked;     /* nodes not run nor taken off yet */
  gboolean          registering;  /* more nodes may come */
} ConcurryFanIn;

void              _concurry_fan_in_init                 (ConcurryFanIn          *fan_in,
                                                         guint                   n_max);
void              _concurry_fan_in_clear                (ConcurryFanIn          *fan_in);
ConcurryCallback *_concurry_fan_in_register_locked      (ConcurryFanIn          *fan_in,
                                                         GMutex                 *mutex,
                                                         ConcurryFuture         *future,
                                                         ConcurryCore           *core,
                                                         ConcurryFutureCallback  func,
                                                         gpointer                owner);
gboolean          _concurry_fan_in_try_register_locked  (ConcurryFanIn          *fan_in,
                                                         ConcurryFuture         *future,
                                                         ConcurryCore           *core,
                                                         ConcurryFutureCallback  func,
                                                         gpointer                owner);
gboolean          _concurry_fan_in_count_out_locked     (ConcurryFanIn          *fan_in,
                                                         guint                   n);
gboolean          _concurry_fan_in_count_out            (ConcurryFanIn          *fan_in,
                                                         GMutex                 *mutex,
                                                         guint                   n);
gboolean          _concurry_fan_in_end_registering      (ConcurryFanIn          *fan_in,
                                                         GMutex                 *mutex);
guint             _concurry_fan_in_unlink               (ConcurryFanIn          *fan_in,
                                                         guint                   n_nodes);
void              _concurry_fan_in_replace_locked       (ConcurryFanIn          *fan_in,
                                                         ConcurryFuture         *original,
                                                         ConcurryFuture         *stand_in);

G_END_DECLS
