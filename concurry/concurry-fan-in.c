/* concurry-fan-in.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-fan-in-private.h"

/* Room for @n_max nodes, whose blocks are allocated as they are reached.
 * More nodes may come until _concurry_fan_in_end_registering(). */
void
_concurry_fan_in_init (ConcurryFanIn *fan_in,
                       guint          n_max)
{
  fan_in->n_blocks = n_max / CONCURRY_FAN_IN_BLOCK + 1;
  fan_in->blocks = g_new0 (ConcurryCallback *, fan_in->n_blocks);
  fan_in->n_nodes = 0;
  fan_in->n_linked = 0;
  fan_in->registering = TRUE;
}

void
_concurry_fan_in_clear (ConcurryFanIn *fan_in)
{
  if (fan_in->blocks == NULL)
    return;
  /* (A block may be allocated with no node used yet.) */
  for (guint b = 0; b < fan_in->n_blocks && fan_in->blocks[b] != NULL; b++)
    g_free (fan_in->blocks[b]);
  g_clear_pointer (&fan_in->blocks, g_free);
}

static inline ConcurryCallback *
node_at (ConcurryFanIn *fan_in,
         guint          i)
{
  return &fan_in->blocks[i / CONCURRY_FAN_IN_BLOCK][i % CONCURRY_FAN_IN_BLOCK];
}

/* The next node, in a new block if it starts one. */
static ConcurryCallback *
next_node (ConcurryFanIn *fan_in)
{
  guint i = fan_in->n_nodes;

  if (i % CONCURRY_FAN_IN_BLOCK == 0 && fan_in->blocks[i / CONCURRY_FAN_IN_BLOCK] == NULL)
    fan_in->blocks[i / CONCURRY_FAN_IN_BLOCK] = g_new (ConcurryCallback, CONCURRY_FAN_IN_BLOCK);

  return node_at (fan_in, i);
}

/* Registers a node calling @func with @owner on @future, whose core is
 * @core. Called with @mutex, the owner's lock, held; it is let go while
 * the node is added (the node runs at once if @future is done meanwhile,
 * and takes the lock), and held again on return. */
ConcurryCallback *
_concurry_fan_in_register_locked (ConcurryFanIn          *fan_in,
                                  GMutex                 *mutex,
                                  ConcurryFuture         *future,
                                  ConcurryCore           *core,
                                  ConcurryFutureCallback  func,
                                  gpointer                owner)
{
  ConcurryCallback *node = next_node (fan_in);

  fan_in->n_nodes++;
  _concurry_callback_init_borrowed (node, func, owner);
  node->future = future;
  fan_in->n_linked++;
  g_mutex_unlock (mutex);
  _concurry_core_add_callback (core, future, node);
  g_mutex_lock (mutex);

  return node;
}

/* Like _concurry_fan_in_register_locked(), but the owner's lock stays
 * held throughout, so no lock is let go and taken again per input: if
 * @future is done already, no node is added and FALSE is returned (the
 * caller handles it as done). Otherwise the node runs when @future
 * completes, once the owner lets go of its lock. */
gboolean
_concurry_fan_in_try_register_locked (ConcurryFanIn          *fan_in,
                                      ConcurryFuture         *future,
                                      ConcurryCore           *core,
                                      ConcurryFutureCallback  func,
                                      gpointer                owner)
{
  ConcurryCallback *node = next_node (fan_in);

  _concurry_callback_init_borrowed (node, func, owner);
  node->future = future;
  if (!_concurry_core_try_add_callback (core, node))
    return FALSE;

  /* The node cannot run before the lock is let go: counting it in after
   * it is added is safe. */
  fan_in->n_nodes++;
  fan_in->n_linked++;
  return TRUE;
}

/* Counts out @n nodes that ran or were taken off their inputs. Returns
 * TRUE if the nodes' reference on the owner is now to be dropped. */
gboolean
_concurry_fan_in_count_out_locked (ConcurryFanIn *fan_in,
                                   guint          n)
{
  fan_in->n_linked -= n;
  return n > 0 && fan_in->n_linked == 0 && !fan_in->registering;
}

/* The same, taking @mutex. */
gboolean
_concurry_fan_in_count_out (ConcurryFanIn *fan_in,
                            GMutex        *mutex,
                            guint          n)
{
  gboolean last;

  if (n == 0)
    return FALSE;

  g_mutex_lock (mutex);
  last = _concurry_fan_in_count_out_locked (fan_in, n);
  g_mutex_unlock (mutex);

  return last;
}

/* No more nodes come. Returns TRUE if none is on an input: then the
 * nodes' reference on the owner is to be dropped. */
gboolean
_concurry_fan_in_end_registering (ConcurryFanIn *fan_in,
                                  GMutex        *mutex)
{
  gboolean last;

  g_mutex_lock (mutex);
  fan_in->registering = FALSE;
  last = fan_in->n_linked == 0;
  g_mutex_unlock (mutex);

  return last;
}

/* Makes the nodes on @original refer to @stand_in (see
 * _concurry_future_get_stood_for()); with the owner's lock held. */
void
_concurry_fan_in_replace_locked (ConcurryFanIn  *fan_in,
                                 ConcurryFuture *original,
                                 ConcurryFuture *stand_in)
{
  for (guint i = 0; i < fan_in->n_nodes; i++)
    {
      ConcurryCallback *node = node_at (fan_in, i);

      if (node->future == original)
        node->future = stand_in;
    }
}

/* Takes the first @n_nodes nodes off their inputs, those that neither ran
 * nor were taken off yet; with no input's lock held (the owner's may be:
 * inputs' locks are taken inside it). The inputs must be alive. Returns
 * how many it took off, to be counted out. */
guint
_concurry_fan_in_unlink (ConcurryFanIn *fan_in,
                         guint          n_nodes)
{
  guint n_taken_off = 0;

  for (guint i = 0; i < n_nodes; i++)
    {
      ConcurryCallback *node = node_at (fan_in, i);

      n_taken_off += _concurry_core_unlink (_concurry_future_get_core (node->future), node);
    }

  return n_taken_off;
}
