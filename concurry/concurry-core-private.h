/* concurry-core-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#ifndef PACKAGE_VERSION
# error "config.h must be included before concurry-core-private.h"
#endif

#include "concurry-future.h"

G_BEGIN_DECLS

/*
 * The completion core, on its own: it knows the public ConcurryFuture
 * (states, callbacks) and the record each implementation registers in the
 * interface structure, and nothing of concurry-future.c, which builds on
 * it (concurry-future-private.h includes this header, never the reverse).
 */

typedef struct _ConcurryCallback ConcurryCallback;

/*
 * ConcurryCore:
 *
 * The completion core that every implementation of ConcurryFuture embeds:
 * the state machine, the outcome, the done callbacks and the waiters.
 * Implementations never touch the fields themselves; they go through the
 * _concurry_core_*() functions so that the semantics are the same for all.
 *
 * @state is written with the mutex held (after the outcome) and may be
 * read without it through atomics: once it is terminal, the outcome never
 * changes again. The outcome is the value when DONE, the error when FAILED
 * or CANCELLED. @flags holds CORE_OBSERVED (somebody retrieved the error);
 * it is only changed with atomics. Threads waiting for the future put a
 * node of their own stack on @callbacks (see ConcurryCallback), so the
 * core needs no condition variable of its own.
 *
 * Kept small on purpose: an executor may hold millions of pending futures.
 */
typedef struct _ConcurryCore
{
  GMutex            mutex;
  int               state;
  int               flags;
  union {
    GValue          value;
    GError         *error;
  } outcome;
  ConcurryCallback *callbacks;     /* most recently added first */
  GCancellable     *cancellable;   /* created on first use */
} ConcurryCore;

#define CORE_OBSERVED    1
#define CORE_HOOKED      2   /* call the type's completed hook: see below */

/* Before the future can be completed: see ConcurryFutureInterface.completed. */
static inline void
_concurry_core_set_hooked (ConcurryCore *core)
{
  core->flags |= CORE_HOOKED;
}

static inline void
_concurry_core_set_observed (ConcurryCore *core)
{
  g_atomic_int_or ((guint *)&core->flags, CORE_OBSERVED);
}

/*
 * The interface structure is private: every implementation of
 * ConcurryFuture lives in concurry and embeds a ConcurryCore. Other code
 * that has results to hand out uses ConcurryPromise.
 */
struct _ConcurryFutureInterface
{
  GTypeInterface parent_iface;

  /* offset of the ConcurryCore inside the instance, and the prefix of the
   * ids of the futures of this type */
  gsize          core_offset;
  const char    *id_prefix;

  /* Called once a future whose core is CORE_HOOKED reaches its terminal
   * state, by the thread that completed it, without the core's lock,
   * before its inline done callbacks run, with a reference held: the
   * type's own bookkeeping (a task manager counts its task so). */
  void         (*completed) (ConcurryFuture *future);
};

#define CONCURRY_FUTURE_STATE_IS_TERMINAL(s) ((s) >= CONCURRY_FUTURE_STATE_DONE)

void           _concurry_core_init               (ConcurryCore            *core);
void           _concurry_core_init_resolved      (ConcurryCore            *core,
                                                  GValue                  *value,
                                                  GError                  *error);
void           _concurry_core_finalize           (ConcurryCore            *core,
                                                  ConcurryFuture          *future);

gboolean       _concurry_core_mark_running       (ConcurryCore            *core);
gboolean       _concurry_core_complete           (ConcurryCore            *core,
                                                  ConcurryFuture          *future,
                                                  GValue                  *value,
                                                  GError                  *error);
gboolean       _concurry_core_complete_held      (ConcurryCore            *core,
                                                  ConcurryFuture          *future,
                                                  GValue                  *value,
                                                  GError                  *error);
gboolean       _concurry_core_cancel             (ConcurryCore            *core,
                                                  ConcurryFuture          *future);
gboolean       _concurry_core_cancel_pending     (ConcurryCore            *core,
                                                  ConcurryFuture          *future);
GCancellable  *_concurry_core_get_cancellable    (ConcurryCore            *core);
void           _concurry_core_attach_cancellable (ConcurryCore            *core,
                                                  GCancellable            *cancellable);
void           _concurry_core_detach_cancellable (ConcurryCore            *core,
                                                  GCancellable            *cancellable);
gboolean       _concurry_core_has_callbacks      (ConcurryCore            *core,
                                                  gboolean                 users_only);
guint          _concurry_core_add_callback       (ConcurryCore            *core,
                                                  ConcurryFuture          *future,
                                                  ConcurryCallback        *cb);
gboolean       _concurry_core_try_add_callback   (ConcurryCore            *core,
                                                  ConcurryCallback        *cb);
gboolean       _concurry_core_remove_callback    (ConcurryCore            *core,
                                                  guint                    id);
gboolean       _concurry_core_add_waker          (ConcurryCore            *core,
                                                  ConcurryCallback        *waker,
                                                  GMainContext            *context);
void           _concurry_core_wait_blocking      (ConcurryCore            *core,
                                                  gint64                   deadline);
gboolean       _concurry_core_unlink             (ConcurryCore            *core,
                                                  ConcurryCallback        *node);
gboolean       _concurry_core_propagate          (ConcurryCore            *core,
                                                  GError                 **error);
void           _concurry_core_register_hook      (GType                    type,
                                                  void                   (*completed) (ConcurryFuture *));
char          *_concurry_core_new_id             (ConcurryFuture          *future);
GQuark         _concurry_core_id_quark           (void);
void           _concurry_set_unobserved_warnings (gboolean                 enabled);
gboolean       _concurry_get_unobserved_warnings (void);

static inline int
_concurry_core_get_state (ConcurryCore *core)
{
  return g_atomic_int_get (&core->state);
}

G_END_DECLS
