/* test-gate.h: a gate that work functions of the C tests block on, so that
 * a test knows what runs when, without sleeping.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean open;
  guint    n_waiting;
} Gate;

static inline void
gate_init (Gate *gate)
{
  g_mutex_init (&gate->mutex);
  g_cond_init (&gate->cond);
  gate->open = FALSE;
  gate->n_waiting = 0;
}

static inline void
gate_clear (Gate *gate)
{
  g_mutex_clear (&gate->mutex);
  g_cond_clear (&gate->cond);
}

/* Blocks the caller until the gate opens. */
static inline void
gate_pass (Gate *gate)
{
  g_mutex_lock (&gate->mutex);
  gate->n_waiting++;
  g_cond_broadcast (&gate->cond);
  while (!gate->open)
    g_cond_wait (&gate->cond, &gate->mutex);
  gate->n_waiting--;
  g_mutex_unlock (&gate->mutex);
}

/* Waits until @n_waiting callers are blocked on @gate (without a
 * deadline: meson's timeout catches a hang). */
static inline void
gate_wait_for (Gate  *gate,
               guint  n_waiting)
{
  g_mutex_lock (&gate->mutex);
  while (gate->n_waiting < n_waiting)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);
}

static inline void
gate_open (Gate *gate)
{
  g_mutex_lock (&gate->mutex);
  gate->open = TRUE;
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->mutex);
}
