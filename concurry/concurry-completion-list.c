/* concurry-completion-list.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "concurry-completion-list.h"
#include "concurry-future-private.h"

/**
 * ConcurryCompletionList:
 *
 * A `GListModel` of futures that fills in as they complete, in completion
 * order: bind it to a `GtkListView` to show results as they arrive.
 *
 * It starts empty, even when futures are done already: each distinct
 * future is appended from the main loop once it is done (those already
 * done first, in the order given), and `items-changed` is emitted on the
 * main context that was thread-default when the list was made, like every
 * done callback.
 *
 * Since: 0.1
 */
struct _ConcurryCompletionList
{
  GObject    parent_instance;
  GPtrArray *items;
  guint      n_distinct;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConcurryCompletionList, concurry_completion_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GType
get_item_type (GListModel *model)
{
  return CONCURRY_TYPE_FUTURE;
}

static guint
get_n_items (GListModel *model)
{
  return CONCURRY_COMPLETION_LIST (model)->items->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  ConcurryCompletionList *self = CONCURRY_COMPLETION_LIST (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (self->items->pdata[position]);
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
concurry_completion_list_finalize (GObject *object)
{
  ConcurryCompletionList *self = (ConcurryCompletionList *)object;

  g_ptr_array_unref (self->items);

  G_OBJECT_CLASS (concurry_completion_list_parent_class)->finalize (object);
}

static void
concurry_completion_list_class_init (ConcurryCompletionListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = concurry_completion_list_finalize;
}

static void
concurry_completion_list_init (ConcurryCompletionList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

/* One weak reference shared by all the callbacks: a weak reference per
 * input would make registering N futures cost N². */
typedef struct
{
  gatomicrefcount ref_count;
  GWeakRef        list;
} SharedRef;

static SharedRef *
shared_ref_ref (SharedRef *ref)
{
  g_atomic_ref_count_inc (&ref->ref_count);
  return ref;
}

static void
shared_ref_unref (gpointer data)
{
  SharedRef *ref = data;

  if (g_atomic_ref_count_dec (&ref->ref_count))
    {
      g_weak_ref_clear (&ref->list);
      g_free (ref);
    }
}

/* A done callback: on the list's main context. */
static void
append_cb (ConcurryFuture *future,
           gpointer        user_data)
{
  ConcurryCompletionList *self = g_weak_ref_get (&((SharedRef *)user_data)->list);

  if (self == NULL)
    return;

  g_ptr_array_add (self->items, g_object_ref (future));
  g_list_model_items_changed (G_LIST_MODEL (self), self->items->len - 1, 0, 1);
  g_object_unref (self);
}

/**
 * concurry_completion_list_new:
 * @futures: (array length=n_futures): the futures
 * @n_futures: the number of futures
 *
 * Creates a list that fills with @futures in completion order.
 *
 * Returns: (transfer full): a new [class@Concurry.CompletionList]
 *
 * Since: 0.1
 */
ConcurryCompletionList *
concurry_completion_list_new (ConcurryFuture **futures,
                              guint            n_futures)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  ConcurryCompletionList *self;
  SharedRef *shared;

  g_return_val_if_fail (n_futures == 0 || futures != NULL, NULL);
  for (guint i = 0; i < n_futures; i++)
    if (_concurry_future_check_core (futures[i], G_STRFUNC) == NULL)
      return NULL;

  self = g_object_new (CONCURRY_TYPE_COMPLETION_LIST, NULL);
  shared = g_new0 (SharedRef, 1);
  g_atomic_ref_count_init (&shared->ref_count);
  g_weak_ref_init (&shared->list, self);

  for (guint i = 0; i < n_futures; i++)
    {
      if (!g_hash_table_add (seen, futures[i]))
        continue;
      self->n_distinct++;
      concurry_future_add_done_callback (futures[i], append_cb, shared_ref_ref (shared),
                                         shared_ref_unref);
    }
  shared_ref_unref (shared);

  return self;
}
