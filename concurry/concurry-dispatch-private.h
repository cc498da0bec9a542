/* concurry-dispatch-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-dispatch-private.h"
#endif

#include "concurry-future.h"

G_BEGIN_DECLS

typedef struct _ConcurryDispatcher ConcurryDispatcher;
typedef struct _ConcurryCallback ConcurryCallback;

/*
 * ConcurryCallback:
 *
 * One done callback. It is created on the thread that adds it, bound to the
 * dispatcher of the main context that was thread-default there, and is
 * run, destroyed and freed by that dispatcher, on that context.
 *
 * A node without a dispatcher is either inline (@func set: internal
 * machinery run at once by the completing thread, never user code) or a
 * waker (no @func), on the stack of a thread waiting for the future: one
 * iterating @user_data, a GMainContext, that only needs it woken up on
 * completion, or (@blocking) one sleeping on @user_data, a GCond, with the
 * future's lock.
 *
 * A borrowed node is an inline node in memory of its owner (a combinator
 * registering on many inputs keeps its nodes in blocks): it has no
 * id and no destroy notify, nothing frees it, and nothing touches it once
 * its function has been called, which is when the owner may free it. The
 * owner takes it off a future that has not completed with
 * _concurry_core_unlink().
 */
struct _ConcurryCallback
{
  ConcurryCallback       *next;
  ConcurryDispatcher     *dispatcher;
  ConcurryFutureCallback  func;
  gpointer                user_data;
  GDestroyNotify          destroy;
  ConcurryFuture         *future;      /* a reference, once queued */
  guint                   id;          /* 0 for a borrowed node */
  guint                   borrowed : 1;
  guint                   blocking : 1;
};

ConcurryCallback *_concurry_callback_new        (GMainContext           *context,
                                                 ConcurryFutureCallback  func,
                                                 gpointer                user_data,
                                                 GDestroyNotify          destroy);
ConcurryCallback *_concurry_callback_new_inline (ConcurryFutureCallback  func,
                                                 gpointer                user_data,
                                                 GDestroyNotify          destroy);
void              _concurry_callback_init_borrowed (ConcurryCallback    *callback,
                                                    ConcurryFutureCallback func,
                                                    gpointer             user_data);
void              _concurry_callback_free       (ConcurryCallback       *callback);
ConcurryCallback *_concurry_callbacks_dispatch   (ConcurryCallback       *callbacks,
                                                   ConcurryFuture         *future);
void              _concurry_callbacks_run_inline (ConcurryCallback       *callbacks,
                                                  ConcurryFuture         *future);

G_END_DECLS
