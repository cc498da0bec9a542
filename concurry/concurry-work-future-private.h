/* concurry-work-future-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-work-future-private.h"
#endif

#include "concurry-executor.h"
#include "concurry-future-private.h"

G_BEGIN_DECLS

/*
 * ConcurryWorkFuture:
 *
 * The future of a work function submitted to an executor: the completion
 * core plus the work itself, so that a queued item is a single allocation.
 * It is not a public type: users only see a ConcurryFuture.
 *
 * @next links the items of an executor's queue, and the spare futures
 * kept for reuse; it belongs to whichever list holds the item.
 */
#define CONCURRY_TYPE_WORK_FUTURE (_concurry_work_future_get_type ())
G_DECLARE_FINAL_TYPE (ConcurryWorkFuture, _concurry_work_future, CONCURRY, WORK_FUTURE, GObject)

struct _ConcurryWorkFuture
{
  GObject             parent_instance;
  ConcurryCore        core;
  ConcurryWorkFunc    func;
  gpointer            user_data;
  GDestroyNotify      destroy;
  ConcurryWorkFuture *next;
};

ConcurryWorkFuture *_concurry_work_future_new     (ConcurryWorkFunc    func,
                                                   gpointer            user_data,
                                                   GDestroyNotify      destroy);
gboolean            _concurry_work_future_run     (ConcurryWorkFuture *self);
void                _concurry_work_future_set_completion_hook (ConcurryWorkFuture *item,
                                                               GFunc               func,
                                                               gpointer            data);
gboolean            _concurry_work_future_begin   (ConcurryWorkFuture  *self,
                                                   GCancellable       **cancellable);
void                _concurry_work_future_end     (ConcurryWorkFuture *self,
                                                   GCancellable       *cancellable,
                                                   GValue             *value,
                                                   GError             *error);
void                _concurry_work_future_release (ConcurryWorkFuture *self);
void                _concurry_work_future_discard (ConcurryWorkFuture *self);

G_END_DECLS
