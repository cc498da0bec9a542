/* task-manager-gtk.c: a GTK 4 application processing numbers on a thread
 * pool through a ConcurryTaskManager.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The window has a GtkProgressBar bound to the manager's "fraction", a
 * GtkListView of the finished tasks (the manager is the list model), a
 * Cancel button whose sensitivity is bound to "running", and a label that
 * shows the errors. Every number is factored on a worker thread; numbers
 * divisible by 97 fail ("unlucky"), to show failures in the UI.
 *
 *   task-manager-gtk [--count N] [--test] [--bench] [--control]
 *                    [--screenshot FILE]
 *
 * --test       check, once the work is done, that the bar reached 1.0 and
 *              the list holds every task, then quit (exit status 1 if not)
 * --test-cancel
 *              click Cancel once the first tasks are listed, then check
 *              that the work stopped: the bar is full, every task read is
 *              listed, the rest of the input was never read
 * --bench      measure the worst delay of a 16 ms main-loop timer while the
 *              work runs, print it, then quit
 * --control    with --bench: do the same work on plain threads,
 *              without concurry, and no list (the baseline)
 * --screenshot save a PNG of the window once the work is done
 */

#include <concurry.h>
#include <gtk/gtk.h>

#define UNLUCKY 97
#define N_WORKERS 2

typedef struct
{
  GtkApplication      *app;
  GtkWidget           *window;
  GtkWidget           *bar;
  GtkWidget           *status;
  GtkWidget           *errors;
  GtkWidget           *cancel;
  ConcurryExecutor    *pool;
  ConcurryTaskManager *manager;

  /* options */
  int                  count;
  gboolean             test;
  gboolean             test_cancel;
  gboolean             bench;
  gboolean             control;
  char                *screenshot;

  /* input */
  int                  next;

  /* the benchmark's timer */
  guint                timer;
  gint64               last_tick;
  gint64               worst_delay;
  guint                n_ticks;

  /* the control run */
  int                  control_left;

  int                  status_code;
} App;

/* -- the work, on worker threads -- */

static guint
count_factors (guint64 n)
{
  guint factors = 0;

  for (guint64 d = 2; d * d <= n; d++)
    while (n % d == 0)
      {
        n /= d;
        factors++;
      }
  return factors + (n > 1);
}

static void
factor_work (const GValue  *item,
             GCancellable  *cancellable,
             GValue        *result,
             gpointer       user_data,
             GError       **error)
{
  int n = g_value_get_int (item);

  if (n % UNLUCKY == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%d is unlucky", n);
      return;
    }
  g_value_init (result, G_TYPE_UINT);
  g_value_set_uint (result, count_factors ((guint64)n * 1000003u));
}

/* The input: 1 .. count, read on the main thread as tasks finish. */
static gboolean
next_number (GValue   *item,
             gpointer  user_data,
             GError  **error)
{
  App *app = user_data;

  if (app->next > app->count)
    return FALSE;
  g_value_init (item, G_TYPE_INT);
  g_value_set_int (item, app->next++);
  return TRUE;
}

/* -- the list -- */

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_list_item_set_child (item, label);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  ConcurryTask *task = gtk_list_item_get_item (item);
  GtkWidget *label = gtk_list_item_get_child (item);
  int n = g_value_get_int (concurry_task_get_input (task));
  char *text;

  switch (concurry_task_get_state (task))
    {
    case CONCURRY_FUTURE_STATE_DONE:
      text = g_strdup_printf ("#%" G_GUINT64_FORMAT "  %d × 1000003: %u prime factors",
                              concurry_task_get_index (task), n,
                              g_value_get_uint (concurry_task_get_value (task)));
      break;
    case CONCURRY_FUTURE_STATE_FAILED:
      text = g_strdup_printf ("#%" G_GUINT64_FORMAT "  %d: failed: %s",
                              concurry_task_get_index (task), n,
                              concurry_task_get_error (task)->message);
      break;
    default:
      text = g_strdup_printf ("#%" G_GUINT64_FORMAT "  %d: cancelled",
                              concurry_task_get_index (task), n);
      break;
    }
  gtk_label_set_text (GTK_LABEL (label), text);
  g_free (text);
}

/* -- progress -- */

static void
show_counts (App *app)
{
  char *text;

  if (app->manager == NULL)
    return;
  text = g_strdup_printf ("%" G_GUINT64_FORMAT " of %d done, %" G_GUINT64_FORMAT " failed, %"
                          G_GUINT64_FORMAT " cancelled",
                          concurry_task_manager_get_n_completed (app->manager), app->count,
                          concurry_task_manager_get_n_failed (app->manager),
                          concurry_task_manager_get_n_cancelled (app->manager));
  gtk_label_set_text (GTK_LABEL (app->status), text);
  g_free (text);
}

static void
on_failed_changed (GObject    *manager,
                   GParamSpec *pspec,
                   App        *app)
{
  guint64 n_failed = concurry_task_manager_get_n_failed (app->manager);
  char *text = g_strdup_printf (g_dngettext (NULL, "%" G_GUINT64_FORMAT " task failed, for example: %d is unlucky",
                                                   "%" G_GUINT64_FORMAT " tasks failed, for example: %d is unlucky",
                                             (gulong) n_failed),
                                n_failed, UNLUCKY);

  gtk_label_set_text (GTK_LABEL (app->errors), text);
  gtk_widget_set_visible (app->errors, TRUE);
  g_free (text);
}

/* Lets a few frames show the final state, then saves the X screen with
 * ImageMagick's import (the program runs under Xvfb for this). */
static gboolean
save_screenshot (gpointer user_data)
{
  App *app = user_data;
  const char *argv[] = { "import", "-window", "root", app->screenshot, NULL };
  GError *error = NULL;
  int wait_status;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                     &wait_status, &error) ||
      !g_spawn_check_wait_status (wait_status, &error))
    {
      g_printerr ("could not save %s: %s\n", app->screenshot, error->message);
      g_clear_error (&error);
    }
  else
    g_print ("saved %s\n", app->screenshot);

  gtk_window_destroy (GTK_WINDOW (app->window));
  return G_SOURCE_REMOVE;
}

/* Runs after the notifications of the last publication. */
static gboolean
finish (gpointer user_data)
{
  App *app = user_data;

  show_counts (app);

  if (app->bench)
    g_print ("%s: worst delay of a 16 ms timer over %u ticks: %.1f ms\n",
             app->control ? "control (no concurry)" : "concurry task manager",
             app->n_ticks, app->worst_delay / 1000.0);

  if (app->test)
    {
      double fraction = gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (app->bar));
      guint n_items = g_list_model_get_n_items (G_LIST_MODEL (app->manager));
      guint64 n_failed = concurry_task_manager_get_n_failed (app->manager);

      guint64 n_submitted = concurry_task_manager_get_n_submitted (app->manager);
      guint64 n_cancelled = concurry_task_manager_get_n_cancelled (app->manager);

      g_print ("bar %.3f, %u of %" G_GUINT64_FORMAT " tasks listed, %" G_GUINT64_FORMAT
               " failed, %" G_GUINT64_FORMAT " cancelled, error label \"%s\"\n",
               fraction, n_items, n_submitted, n_failed, n_cancelled,
               gtk_label_get_text (GTK_LABEL (app->errors)));
      if (app->test_cancel)
        {
          /* Cancelled under way: what was read ended (cancelled or not),
           * the rest of the input was never read, the bar is full. */
          if (fraction != 1.0 || n_items != n_submitted || n_submitted >= (guint64)app->count ||
              gtk_widget_get_sensitive (app->cancel))
            app->status_code = 1;
          else
            g_print ("OK\n");
        }
      else if (fraction != 1.0 || n_items != (guint)app->count ||
               n_failed != (guint64)(app->count / UNLUCKY) ||
               (n_failed > 0 && !gtk_widget_get_visible (app->errors)) ||
               gtk_widget_get_sensitive (app->cancel))
        app->status_code = 1;
      else
        g_print ("OK\n");
    }

  if (app->screenshot != NULL)
    g_timeout_add (500, save_screenshot, app);
  else if (app->test || app->bench)
    gtk_window_destroy (GTK_WINDOW (app->window));

  return G_SOURCE_REMOVE;
}

/* --test-cancel: once the list shows some work, the user clicks Cancel. */
static void
on_items_for_cancel (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     App        *app)
{
  if (added > 0 && gtk_widget_get_sensitive (app->cancel))
    {
      g_signal_handlers_disconnect_by_func (model, on_items_for_cancel, app);
      g_signal_emit_by_name (app->cancel, "clicked");
    }
}

static void
on_running_changed (GObject    *manager,
                    GParamSpec *pspec,
                    App        *app)
{
  show_counts (app);
  if (!concurry_task_manager_get_running (app->manager))
    g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, finish, app, NULL);
}

static void
on_cancel (GtkButton *button,
           App       *app)
{
  if (app->manager != NULL)
    concurry_task_manager_cancel (app->manager);
}

/* -- the benchmark -- */

static gboolean
tick (gpointer user_data)
{
  App *app = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 delay = now - app->last_tick - 16000;

  if (delay > app->worst_delay)
    app->worst_delay = delay;
  app->last_tick = now;
  app->n_ticks++;

  return G_SOURCE_CONTINUE;
}

/* The control: the same work on N_WORKERS plain threads, each taking its
 * share of the numbers, with no concurry and nothing sent to the main loop but the end. */
typedef struct
{
  App *app;
  int  first;
} ControlPart;

static gpointer
control_thread (gpointer data)
{
  ControlPart *part = data;
  App *app = part->app;

  for (int n = part->first; n <= app->count; n += N_WORKERS)
    {
      guint volatile factors = 0;

      if (n % UNLUCKY != 0)
        factors = count_factors ((guint64)n * 1000003u);
      (void) factors;
    }
  if (g_atomic_int_dec_and_test (&app->control_left))
    g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, finish, app, NULL);
  g_free (part);
  return NULL;
}

static void
start_control (App *app)
{
  app->control_left = N_WORKERS;
  for (int i = 1; i <= N_WORKERS; i++)
    {
      ControlPart *part = g_new (ControlPart, 1);

      part->app = app;
      part->first = i;
      g_thread_unref (g_thread_new ("control", control_thread, part));
    }
}

/* -- the window -- */

static void
start (App *app)
{
  GError *error = NULL;

  if (app->bench)
    {
      app->last_tick = g_get_monotonic_time ();
      app->timer = g_timeout_add (16, tick, app);
    }

  if (app->control)
    {
      start_control (app);
      return;
    }

  app->next = 1;
  if (!concurry_task_manager_map (app->manager, factor_work, NULL, NULL,
                                  next_number, app, NULL, app->count, &error))
    {
      gtk_label_set_text (GTK_LABEL (app->errors), error->message);
      gtk_widget_set_visible (app->errors, TRUE);
      g_clear_error (&error);
    }
}

static gboolean
start_when_shown (gpointer user_data)
{
  start (user_data);
  return G_SOURCE_REMOVE;
}

static void
activate (GtkApplication *application,
          App            *app)
{
  GtkWidget *box, *scrolled, *list, *buttons;
  GtkListItemFactory *factory;

  app->window = gtk_application_window_new (application);
  gtk_window_set_title (GTK_WINDOW (app->window), "concurry task manager");
  gtk_window_set_default_size (GTK_WINDOW (app->window), 480, 420);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_window_set_child (GTK_WINDOW (app->window), box);

  app->bar = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (app->bar), TRUE);
  gtk_box_append (GTK_BOX (box), app->bar);

  app->status = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (app->status), 0.0);
  gtk_box_append (GTK_BOX (box), app->status);

  app->errors = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (app->errors), 0.0);
  gtk_widget_add_css_class (app->errors, "error");
  gtk_widget_set_visible (app->errors, FALSE);
  gtk_box_append (GTK_BOX (box), app->errors);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), app);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), app);

  scrolled = gtk_scrolled_window_new ();
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_box_append (GTK_BOX (box), scrolled);

  buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  app->cancel = gtk_button_new_with_label ("Cancel");
  g_signal_connect (app->cancel, "clicked", G_CALLBACK (on_cancel), app);
  gtk_box_append (GTK_BOX (buttons), app->cancel);
  gtk_box_append (GTK_BOX (box), buttons);

  if (!app->control)
    {
      app->pool = concurry_thread_pool_executor_new (N_WORKERS);
      app->manager = concurry_task_manager_new (app->pool, CONCURRY_ERROR_POLICY_IGNORE);
      concurry_task_manager_set_monitor_interval (app->manager, 0);

      /* The whole of the progress reporting: */
      g_object_bind_property (app->manager, "fraction", app->bar, "fraction",
                              G_BINDING_SYNC_CREATE);
      g_object_bind_property (app->manager, "running", app->cancel, "sensitive",
                              G_BINDING_SYNC_CREATE);
      g_signal_connect (app->manager, "notify::running", G_CALLBACK (on_running_changed), app);
      g_signal_connect_swapped (app->manager, "notify::n-completed", G_CALLBACK (show_counts), app);
      g_signal_connect (app->manager, "notify::n-failed", G_CALLBACK (on_failed_changed), app);
      if (app->test_cancel)
        g_signal_connect (app->manager, "items-changed", G_CALLBACK (on_items_for_cancel), app);

      list = gtk_list_view_new (GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (app->manager)))),
                                factory);
    }
  else
    {
      list = gtk_list_view_new (NULL, factory);
      gtk_widget_set_sensitive (app->cancel, FALSE);
    }
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), list);

  gtk_window_present (GTK_WINDOW (app->window));
  g_idle_add_full (G_PRIORITY_LOW, start_when_shown, app, NULL);
}

int
main (int   argc,
      char *argv[])
{
  App app = { .count = 300 };
  GOptionEntry entries[] = {
    { "count", 0, 0, G_OPTION_ARG_INT, &app.count, "How many numbers to process", "N" },
    { "test", 0, 0, G_OPTION_ARG_NONE, &app.test, "Check the result and quit", NULL },
    { "test-cancel", 0, 0, G_OPTION_ARG_NONE, &app.test_cancel, "Click Cancel once work is under way, check the result and quit", NULL },
    { "bench", 0, 0, G_OPTION_ARG_NONE, &app.bench, "Measure the main loop's worst delay", NULL },
    { "control", 0, 0, G_OPTION_ARG_NONE, &app.control, "With --bench: no concurry", NULL },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &app.screenshot, "Save a PNG of the window", "FILE" },
    { NULL }
  };
  GError *error = NULL;
  int status;

  if (!gtk_init_check ())
    {
      g_printerr ("no display\n");
      return 77;
    }
  {
    GOptionContext *context = g_option_context_new (NULL);

    g_option_context_add_main_entries (context, entries, NULL);
    if (!g_option_context_parse (context, &argc, &argv, &error))
      {
        g_printerr ("%s\n", error->message);
        return 2;
      }
    g_option_context_free (context);
  }
  if (app.control && !app.bench)
    app.control = FALSE;
  if (app.test_cancel)
    app.test = TRUE;

  app.app = gtk_application_new ("org.concurry.TaskManagerExample", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app.app, "activate", G_CALLBACK (activate), &app);
  status = g_application_run (G_APPLICATION (app.app), 1, argv);

  if (app.timer != 0)
    g_source_remove (app.timer);
  if (app.manager != NULL)
    {
      concurry_task_manager_shutdown (app.manager, TRUE, TRUE, NULL);
      g_object_unref (app.manager);
    }
  g_clear_object (&app.pool);
  g_object_unref (app.app);
  g_free (app.screenshot);

  return status != 0 ? status : app.status_code;
}
