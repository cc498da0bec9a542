/* _engine.c: the calls of the Python wing that run per item, made without
 * releasing the GIL.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * PyGObject releases the GIL around every call into C. For a call that
 * waits that is right; for the few quick calls made once per item (submit,
 * start an item, end it, read a done future, resolve a promise, wake an
 * awaiting task, make a wrapper, read a map's input hint), it hands the
 * GIL to another thread at every call: with two workers and a submitting
 * thread that is a context switch per call, and three times the cost of
 * concurrent.futures, which keeps the GIL between items.
 *
 * This module makes exactly those calls of the public C API with the GIL
 * held, and converts values exactly as the introspected calls do (the
 * tests compare both). It holds no state and decides nothing: whatever it
 * does not convert itself it hands back as FALLBACK, and the caller then
 * makes the introspected call. None of these C calls waits, and the
 * engine never runs user code or drops user data under one of its locks,
 * so holding the GIL cannot deadlock; done callbacks that a completion
 * runs on this thread take the GIL again, which is allowed.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pygobject.h>

#include <concurry.h>

static PyObject *fallback;      /* the "do it the introspected way" answer */
static GType pyobject_type;     /* PyGObject's boxed PyObject */
static GQuark source_quark;     /* what a wrapper stands for, see new_promise() */

/* The GObject of a PyGObject wrapper of the given type, else NULL with a
 * TypeError. */
static gpointer
unwrap (PyObject   *obj,
        GType       type,
        const char *what)
{
  if (!PyObject_TypeCheck (obj, &PyGObject_Type) ||
      pygobject_get (obj) == NULL ||
      !G_TYPE_CHECK_INSTANCE_TYPE (pygobject_get (obj), type))
    {
      PyErr_Format (PyExc_TypeError, "%s must be a %s", what, g_type_name (type));
      return NULL;
    }
  return pygobject_get (obj);
}

/* A Python object for value as PyGObject gives it for a (const GValue *).
 * Types other than the plain ones and PyObject are left to PyGObject: a
 * new reference to fallback when the caller can make the introspected call
 * instead, else PyGObject's own conversion. */
static PyObject *
value_to_py (const GValue *value,
             gboolean      can_fall_back)
{
  GType type;

  if (value == NULL || !G_IS_VALUE (value))
    Py_RETURN_NONE;

  type = G_VALUE_TYPE (value);
  if (type == pyobject_type)
    {
      PyObject *obj = g_value_get_boxed (value);

      if (obj == NULL)
        Py_RETURN_NONE;
      Py_INCREF (obj);
      return obj;
    }
  switch (type)
    {
    case G_TYPE_INT:
      return PyLong_FromLong (g_value_get_int (value));
    case G_TYPE_BOOLEAN:
      return PyBool_FromLong (g_value_get_boolean (value));
    case G_TYPE_DOUBLE:
      return PyFloat_FromDouble (g_value_get_double (value));
    case G_TYPE_STRING:
      {
        const char *text = g_value_get_string (value);

        if (text == NULL)
          Py_RETURN_NONE;
        return PyUnicode_FromString (text);
      }
    default:
      if (!can_fall_back)
        return pyg_value_as_pyobject (value, TRUE);
      Py_INCREF (fallback);
      return fallback;
    }
}

/* Fills value (unset) the way PyGObject fills a (const GValue *) argument
 * from the objects to_gvalue() passes it. Returns 1 when value was set,
 * 0 for None (the argument is then NULL), -1 when PyGObject must do it. */
static int
value_from_py (PyObject *obj,
               GValue   *value)
{
  PyTypeObject *kind = Py_TYPE (obj);

  if (obj == Py_None)
    return 0;
  if (kind == &PyLong_Type)
    {
      int overflow;
      long number = PyLong_AsLongAndOverflow (obj, &overflow);

      if (overflow != 0 || number < G_MININT || number > G_MAXINT)
        {
          g_value_init (value, pyobject_type);
          g_value_set_boxed (value, obj);
          return 1;
        }
      g_value_init (value, G_TYPE_INT);
      g_value_set_int (value, (int) number);
      return 1;
    }
  if (kind == &PyBool_Type)
    {
      g_value_init (value, G_TYPE_BOOLEAN);
      g_value_set_boolean (value, obj == Py_True);
      return 1;
    }
  if (kind == &PyFloat_Type)
    {
      g_value_init (value, G_TYPE_DOUBLE);
      g_value_set_double (value, PyFloat_AS_DOUBLE (obj));
      return 1;
    }
  if (kind == &PyUnicode_Type)
    {
      Py_ssize_t size;
      const char *text = PyUnicode_AsUTF8AndSize (obj, &size);

      if (text == NULL || strlen (text) != (size_t) size)
        {
          /* not valid UTF-8 (lone surrogates), or holding a NUL: as is */
          PyErr_Clear ();
          g_value_init (value, pyobject_type);
          g_value_set_boxed (value, obj);
          return 1;
        }
      g_value_init (value, G_TYPE_STRING);
      g_value_set_string (value, text);
      return 1;
    }
  /* A GObject.Value, or a GObject (held with its own type): PyGObject's.
   * Subclasses of int, str and float (enums and flags too) keep their type
   * as PyObjects, and so does any other object. */
  if (PyObject_TypeCheck (obj, &PyGBoxed_Type) ?
      pyg_boxed_check (obj, G_TYPE_VALUE) :
      PyObject_TypeCheck (obj, &PyGObject_Type))
    return -1;

  g_value_init (value, pyobject_type);
  g_value_set_boxed (value, obj);
  return 1;
}

static PyObject *
engine_state (PyObject *module,
              PyObject *future)
{
  ConcurryFuture *self = unwrap (future, CONCURRY_TYPE_FUTURE, "future");

  if (self == NULL)
    return NULL;
  return PyLong_FromLong (concurry_future_get_state (self));
}

static PyObject *
engine_done_value (PyObject *module,
                   PyObject *future)
{
  ConcurryFuture *self = unwrap (future, CONCURRY_TYPE_FUTURE, "future");

  if (self == NULL)
    return NULL;
  if (concurry_future_get_state (self) != CONCURRY_FUTURE_STATE_DONE)
    {
      Py_INCREF (fallback);
      return fallback;
    }
  return value_to_py (concurry_future_get_value (self), TRUE);
}

static PyObject *
engine_submit_to_runner (PyObject  *module,
                         PyObject *const *args,
                         Py_ssize_t nargs)
{
  ConcurryExecutor *executor;
  ConcurryRunner *runner;
  ConcurryFuture *future;
  ConcurryFuture **after = NULL;
  PyObject *list = NULL;
  Py_ssize_t n_after = 0;
  GValue item = G_VALUE_INIT;
  GError *error = NULL;
  PyObject *ret;

  if (nargs != 4)
    {
      PyErr_SetString (PyExc_TypeError, "submit_to_runner(executor, runner, item, after)");
      return NULL;
    }
  executor = unwrap (args[0], CONCURRY_TYPE_EXECUTOR, "executor");
  if (executor == NULL)
    return NULL;
  runner = unwrap (args[1], CONCURRY_TYPE_RUNNER, "runner");
  if (runner == NULL)
    return NULL;

  if (args[3] != Py_None)
    {
      /* The wrappers in list keep the futures alive during the call. */
      list = PySequence_Fast (args[3], "after must be a sequence");
      if (list == NULL)
        return NULL;
      n_after = PySequence_Fast_GET_SIZE (list);
      after = g_new (ConcurryFuture *, MAX (n_after, 1));
      for (Py_ssize_t i = 0; i < n_after; i++)
        {
          after[i] = unwrap (PySequence_Fast_GET_ITEM (list, i), CONCURRY_TYPE_FUTURE,
                             "an item of after");
          if (after[i] == NULL)
            {
              g_free (after);
              Py_DECREF (list);
              return NULL;
            }
        }
    }

  g_value_init (&item, pyobject_type);
  g_value_set_boxed (&item, args[2]);
  future = concurry_executor_submit_to_runner (executor, runner, &item, after, (guint) n_after,
                                               &error);
  g_value_unset (&item);
  g_free (after);
  Py_XDECREF (list);

  if (future == NULL)
    {
      pyg_error_check (&error);
      return NULL;
    }
  ret = pygobject_new (G_OBJECT (future));
  g_object_unref (future);
  return ret;
}

/* The batch and the index of the item that args (a batch, an index and
 * n_more arguments) name, checked; FALSE with an exception set. */
static gboolean
batch_item (PyObject *const    *args,
            Py_ssize_t          nargs,
            Py_ssize_t          n_more,
            const char         *usage,
            ConcurryWorkBatch **batch,
            guint              *index)
{
  unsigned long number;

  if (nargs != 2 + n_more)
    {
      PyErr_SetString (PyExc_TypeError, usage);
      return FALSE;
    }
  *batch = unwrap (args[0], CONCURRY_TYPE_WORK_BATCH, "batch");
  if (*batch == NULL)
    return FALSE;
  number = PyLong_AsUnsignedLong (args[1]);
  if (PyErr_Occurred ())
    return FALSE;
  if (number >= concurry_work_batch_get_size (*batch))
    {
      PyErr_SetString (PyExc_IndexError, "batch index out of range");
      return FALSE;
    }
  *index = (guint) number;
  return TRUE;
}

static PyObject *
engine_batch_start (PyObject  *module,
                    PyObject *const *args,
                    Py_ssize_t nargs)
{
  ConcurryWorkBatch *batch;
  guint index;

  if (!batch_item (args, nargs, 0, "batch_start(batch, index)", &batch, &index))
    return NULL;
  return value_to_py (concurry_work_batch_start (batch, index), FALSE);
}

static PyObject *
engine_batch_return_value (PyObject  *module,
                           PyObject *const *args,
                           Py_ssize_t nargs)
{
  ConcurryWorkBatch *batch;
  guint index;
  GValue value = G_VALUE_INIT;
  int set;

  if (!batch_item (args, nargs, 1, "batch_return_value(batch, index, value)", &batch, &index))
    return NULL;
  set = value_from_py (args[2], &value);
  if (set < 0)
    {
      Py_INCREF (fallback);
      return fallback;
    }
  concurry_work_batch_return_value (batch, index, set ? &value : NULL);
  if (set)
    g_value_unset (&value);
  Py_RETURN_NONE;
}

static PyObject *
engine_batch_return_part (PyObject  *module,
                          PyObject *const *args,
                          Py_ssize_t nargs)
{
  ConcurryWorkBatch *batch;
  guint index;
  GValue value = G_VALUE_INIT;

  if (!batch_item (args, nargs, 1, "batch_return_part(batch, index, part)", &batch, &index))
    return NULL;
  /* Kept as itself, whatever it is: the map's iterator reads it. */
  g_value_init (&value, pyobject_type);
  g_value_set_boxed (&value, args[2]);
  concurry_work_batch_return_part (batch, index, &value);
  g_value_unset (&value);
  Py_RETURN_NONE;
}

/* concurry_map_results_next_until() as introspection calls it: (ok,
 * value, timed_out), or GLib.Error. A poll (until 0) keeps the
 * interpreter's lock, which the input function it may call takes again;
 * a wait lets it go. */
static PyObject *
engine_map_next (PyObject  *module,
                 PyObject *const *args,
                 Py_ssize_t nargs)
{
  ConcurryMapResults *results;
  GValue value = G_VALUE_INIT;
  GError *error = NULL;
  gboolean timed_out = FALSE;
  gboolean ok;
  long long until;
  PyObject *item;

  if (nargs != 2)
    {
      PyErr_SetString (PyExc_TypeError, "map_next(results, until)");
      return NULL;
    }
  results = unwrap (args[0], CONCURRY_TYPE_MAP_RESULTS, "results");
  if (results == NULL)
    return NULL;
  until = PyLong_AsLongLong (args[1]);
  if (until == -1 && PyErr_Occurred ())
    return NULL;

  if (until == 0)
    {
      ok = concurry_map_results_next_until (results, 0, &value, &timed_out, &error);
    }
  else
    {
      Py_BEGIN_ALLOW_THREADS
      ok = concurry_map_results_next_until (results, until, &value, &timed_out, &error);
      Py_END_ALLOW_THREADS
    }

  if (pyg_error_check (&error))
    {
      g_value_unset (&value);
      return NULL;
    }
  item = ok ? value_to_py (&value, FALSE) : (Py_INCREF (Py_None), Py_None);
  g_value_unset (&value);
  if (item == NULL)
    return NULL;
  return Py_BuildValue ("(ONO)", ok ? Py_True : Py_False, item,
                        timed_out ? Py_True : Py_False);
}

static PyObject *
engine_batch_info (PyObject *module,
                   PyObject *batch_obj)
{
  ConcurryWorkBatch *batch = unwrap (batch_obj, CONCURRY_TYPE_WORK_BATCH, "batch");
  PyObject *data, *ret;

  if (batch == NULL)
    return NULL;
  data = value_to_py (concurry_work_batch_get_data (batch), FALSE);
  if (data == NULL)
    return NULL;
  ret = Py_BuildValue ("(kN)", (unsigned long) concurry_work_batch_get_size (batch), data);
  return ret;
}

/* Drops a Python object that a GObject held, on whichever thread the
 * GObject is finalized. */
static void
release_pyobject (gpointer data)
{
  PyGILState_STATE state;

  if (!Py_IsInitialized ())
    return;
  state = PyGILState_Ensure ();
  Py_DECREF ((PyObject *) data);
  PyGILState_Release (state);
}

static PyObject *
engine_new_promise (PyObject  *module,
                    PyObject *const *args,
                    Py_ssize_t nargs)
{
  ConcurryPromise *promise;
  PyObject *ret;
  int running;

  if (nargs != 2)
    {
      PyErr_SetString (PyExc_TypeError, "new_promise(source, running)");
      return NULL;
    }
  running = PyObject_IsTrue (args[1]);
  if (running < 0)
    return NULL;

  promise = concurry_promise_new ();
  if (args[0] != Py_None)
    {
      Py_INCREF (args[0]);
      g_object_set_qdata_full (G_OBJECT (promise), source_quark, args[0], release_pyobject);
    }
  if (running)
    concurry_promise_mark_running (promise);
  ret = pygobject_new (G_OBJECT (promise));
  g_object_unref (promise);
  return ret;
}

static PyObject *
engine_source (PyObject *module,
               PyObject *future)
{
  GObject *self = unwrap (future, G_TYPE_OBJECT, "future");
  PyObject *source;

  if (self == NULL)
    return NULL;
  source = g_object_get_qdata (self, source_quark);
  if (source == NULL)
    Py_RETURN_NONE;
  Py_INCREF (source);
  return source;
}

static PyObject *
engine_set_source (PyObject  *module,
                   PyObject *const *args,
                   Py_ssize_t nargs)
{
  GObject *self;

  if (nargs != 2)
    {
      PyErr_SetString (PyExc_TypeError, "set_source(future, source)");
      return NULL;
    }
  self = unwrap (args[0], G_TYPE_OBJECT, "future");
  if (self == NULL)
    return NULL;
  Py_INCREF (args[1]);
  g_object_set_qdata_full (self, source_quark, args[1], release_pyobject);
  Py_RETURN_NONE;
}

static PyObject *
engine_resolve (PyObject  *module,
                PyObject *const *args,
                Py_ssize_t nargs)
{
  ConcurryPromise *promise;
  PyObject *obj;
  GValue value = G_VALUE_INIT;
  gboolean resolved;

  if (nargs != 2)
    {
      PyErr_SetString (PyExc_TypeError, "resolve(promise, value)");
      return NULL;
    }
  promise = unwrap (args[0], CONCURRY_TYPE_PROMISE, "promise");
  if (promise == NULL)
    return NULL;
  obj = args[1];

  /* outcomes.identity_gvalue(): the value read back is obj itself. */
  if (obj == Py_None)
    resolved = concurry_promise_resolve (promise, NULL);
  else if (PyObject_TypeCheck (obj, &PyGObject_Type) || pyg_boxed_check (obj, G_TYPE_VALUE))
    {
      Py_INCREF (fallback);
      return fallback;
    }
  else
    {
      long number = 0;
      int overflow = 1;

      if (Py_TYPE (obj) == &PyLong_Type)
        number = PyLong_AsLongAndOverflow (obj, &overflow);
      if (overflow == 0 && number >= G_MININT && number <= G_MAXINT)
        {
          g_value_init (&value, G_TYPE_INT);
          g_value_set_int (&value, (int) number);
        }
      else
        {
          g_value_init (&value, pyobject_type);
          g_value_set_boxed (&value, obj);
        }
      resolved = concurry_promise_resolve (promise, &value);
      g_value_unset (&value);
    }
  if (PyErr_Occurred ())
    return NULL;
  return PyBool_FromLong (resolved);
}

/* (args[first], args[first + 1:]): a callback and its arguments, kept
 * until the callback is dropped. */
static PyObject *
pack_call (PyObject *const *args,
           Py_ssize_t       nargs,
           Py_ssize_t       first)
{
  PyObject *call, *rest = PyTuple_New (nargs - first - 1);

  if (rest == NULL)
    return NULL;
  for (Py_ssize_t i = first + 1; i < nargs; i++)
    {
      Py_INCREF (args[i]);
      PyTuple_SET_ITEM (rest, i - first - 1, args[i]);
    }
  call = PyTuple_Pack (2, args[first], rest);
  Py_DECREF (rest);
  return call;
}

static void
call_when_done_cb (ConcurryFuture *future,
                   gpointer        user_data)
{
  PyGILState_STATE state = PyGILState_Ensure ();
  PyObject *call = user_data;      /* (fn, args) */
  PyObject *ret;

  ret = PyObject_Call (PyTuple_GET_ITEM (call, 0), PyTuple_GET_ITEM (call, 1), NULL);
  if (ret == NULL)
    PyErr_WriteUnraisable (PyTuple_GET_ITEM (call, 0));
  Py_XDECREF (ret);
  PyGILState_Release (state);
}

static PyObject *
engine_call_when_done (PyObject  *module,
                       PyObject *const *args,
                       Py_ssize_t nargs)
{
  ConcurryFuture *future;
  PyObject *call;
  guint id;

  if (nargs < 2 || !PyCallable_Check (args[1]))
    {
      PyErr_SetString (PyExc_TypeError, "call_when_done(future, fn, *args)");
      return NULL;
    }
  future = unwrap (args[0], CONCURRY_TYPE_FUTURE, "future");
  if (future == NULL)
    return NULL;
  call = pack_call (args, nargs, 1);
  if (call == NULL)
    return NULL;
  id = concurry_future_add_done_callback_direct (future, call_when_done_cb, call, release_pyobject);
  return PyLong_FromUnsignedLong (id);
}

/* fn(future, *args) for add_done_callback(): the future as PyGObject
 * gives it (the completed one: an abandoned promise's stand-in). */
static void
done_callback_cb (ConcurryFuture *future,
                  gpointer        user_data)
{
  PyGILState_STATE state = PyGILState_Ensure ();
  PyObject *call = user_data;      /* (fn, args) */
  PyObject *fn = PyTuple_GET_ITEM (call, 0);
  PyObject *args = PyTuple_GET_ITEM (call, 1);
  Py_ssize_t n = PyTuple_GET_SIZE (args);
  PyObject *full = PyTuple_New (n + 1);
  PyObject *ret = NULL;

  if (full != NULL)
    {
      PyObject *py_future = pygobject_new (G_OBJECT (future));

      if (py_future != NULL)
        {
          PyTuple_SET_ITEM (full, 0, py_future);
          for (Py_ssize_t i = 0; i < n; i++)
            {
              Py_INCREF (PyTuple_GET_ITEM (args, i));
              PyTuple_SET_ITEM (full, i + 1, PyTuple_GET_ITEM (args, i));
            }
          ret = PyObject_Call (fn, full, NULL);
        }
      Py_DECREF (full);
    }
  if (ret == NULL)
    PyErr_WriteUnraisable (fn);
  Py_XDECREF (ret);
  PyGILState_Release (state);
}

/* add_done_callback(future, context, fn, *args): what the introspected
 * concurry_future_add_done_callback_direct() (context None) and _full()
 * do, without the libffi closure that PyGObject before 3.44 leaks for
 * every callback it is given. */
static PyObject *
engine_add_done_callback (PyObject         *module,
                          PyObject *const  *args,
                          Py_ssize_t        nargs)
{
  ConcurryFuture *future;
  GMainContext *context = NULL;
  PyObject *call;
  guint id;

  if (nargs < 3 || !PyCallable_Check (args[2]))
    {
      PyErr_SetString (PyExc_TypeError, "add_done_callback(future, context, fn, *args)");
      return NULL;
    }
  future = unwrap (args[0], CONCURRY_TYPE_FUTURE, "future");
  if (future == NULL)
    return NULL;
  if (args[1] != Py_None)
    {
      if (!pyg_boxed_check (args[1], G_TYPE_MAIN_CONTEXT))
        {
          PyErr_SetString (PyExc_TypeError, "context must be a GLib.MainContext or None");
          return NULL;
        }
      context = pyg_boxed_get (args[1], GMainContext);
    }
  call = pack_call (args, nargs, 2);
  if (call == NULL)
    return NULL;
  if (context != NULL)
    id = concurry_future_add_done_callback_full (future, context, done_callback_cb, call,
                                                 release_pyobject);
  else
    id = concurry_future_add_done_callback_direct (future, done_callback_cb, call,
                                                   release_pyobject);
  return PyLong_FromUnsignedLong (id);
}

/*
 * A worker thread that GLib started has no Python thread state of its own:
 * each call into Python from it (PyGObject's closures, the calls above)
 * makes one with PyGILState_Ensure() and drops it when the call returns,
 * and with it what threading.local and contextvars hold on that thread.
 * A concurrent.futures worker keeps them for its life, and code relies on
 * it (an initializer that opens a connection per thread). So the first
 * item a pool runs on such a thread keeps the thread state: one more
 * PyGILState_Ensure(), never given back; the state is deleted when the
 * thread ends (if Python is still there, and not finalizing).
 */
static void
release_kept_thread_state (gpointer data)
{
  PyThreadState *tstate = data;

  /* Python's own link from the thread to its state may be gone already
   * (keys are cleared as the thread ends): this one is the state kept. */
#if PY_VERSION_HEX >= 0x030D0000
  if (!Py_IsInitialized () || Py_IsFinalizing ())
#else
  if (!Py_IsInitialized () || _Py_IsFinalizing ())
#endif
    return;
  if (PyGILState_GetThisThreadState () == tstate)
    {
      PyEval_RestoreThread (tstate);
      PyThreadState_Clear (tstate);
      PyThreadState_DeleteCurrent ();
    }
  else
    {
      /* Python's link is gone: with the GIL taken through a state of its
       * own (Python checks that the allocator's caller holds the GIL
       * through that link), clear the kept state, whose thread-local data
       * may run weakref callbacks, then delete it. */
      PyGILState_STATE gstate = PyGILState_Ensure ();

      PyThreadState_Clear (tstate);
      PyThreadState_Delete (tstate);
      PyGILState_Release (gstate);
    }
}

static GPrivate kept_thread_state = G_PRIVATE_INIT (release_kept_thread_state);

static PyObject *
engine_keep_thread_state (PyObject *module,
                          PyObject *unused)
{
  if (g_private_get (&kept_thread_state) == NULL)
    {
      PyGILState_Ensure ();     /* nested: the thread holds the GIL */
      g_private_set (&kept_thread_state, PyThreadState_Get ());
    }
  Py_RETURN_NONE;
}

static PyObject *
engine_input_hint (PyObject *module,
                   PyObject *unused)
{
  return PyLong_FromUnsignedLong (concurry_map_input_hint ());
}

static PyMethodDef engine_methods[] = {
  { "state", engine_state, METH_O,
    "state(future) -> int: concurry_future_get_state()" },
  { "done_value", engine_done_value, METH_O,
    "done_value(future): the value of a future done with one, else FALLBACK" },
  { "submit_to_runner", (PyCFunction) (void (*) (void)) engine_submit_to_runner, METH_FASTCALL,
    "submit_to_runner(executor, runner, item, after): "
    "concurry_executor_submit_to_runner() with item as a PyObject value" },
  { "batch_info", engine_batch_info, METH_O,
    "batch_info(batch) -> (size, data)" },
  { "batch_start", (PyCFunction) (void (*) (void)) engine_batch_start, METH_FASTCALL,
    "batch_start(batch, index): concurry_work_batch_start()" },
  { "batch_return_value", (PyCFunction) (void (*) (void)) engine_batch_return_value, METH_FASTCALL,
    "batch_return_value(batch, index, value): concurry_work_batch_return_value(), "
    "or FALLBACK for a value PyGObject must convert" },
  { "map_next", (PyCFunction) (void (*) (void)) engine_map_next, METH_FASTCALL,
    "map_next(results, until) -> (ok, value, timed_out): "
    "concurry_map_results_next_until()" },
  { "batch_return_part", (PyCFunction) (void (*) (void)) engine_batch_return_part, METH_FASTCALL,
    "batch_return_part(batch, index, part): concurry_work_batch_return_part() with part "
    "as a PyObject value" },
  { "new_promise", (PyCFunction) (void (*) (void)) engine_new_promise, METH_FASTCALL,
    "new_promise(source, running): a ConcurryPromise holding source (for source()), "
    "marked running if running is true; no instance dict, so no toggle reference" },
  { "source", engine_source, METH_O,
    "source(future): what new_promise() was given for it, or None" },
  { "set_source", (PyCFunction) (void (*) (void)) engine_set_source, METH_FASTCALL,
    "set_source(future, source): what source() gives from now on (held)" },
  { "resolve", (PyCFunction) (void (*) (void)) engine_resolve, METH_FASTCALL,
    "resolve(promise, value): concurry_promise_resolve() with value kept as itself "
    "(outcomes.identity_gvalue()), or FALLBACK for a GObject or a GObject.Value" },
  { "call_when_done", (PyCFunction) (void (*) (void)) engine_call_when_done, METH_FASTCALL,
    "call_when_done(future, fn, *args): concurry_future_add_done_callback_direct() "
    "calling fn(*args), for the wing's own callbacks (an exception is unraisable)" },
  { "add_done_callback", (PyCFunction) (void (*) (void)) engine_add_done_callback, METH_FASTCALL,
    "add_done_callback(future, context, fn, *args): fn(future, *args) once future is done, "
    "on context (a GLib.MainContext), or with None on the completing thread" },
  { "keep_thread_state", engine_keep_thread_state, METH_NOARGS,
    "keep_thread_state(): keeps this thread's Python thread state (and its "
    "threading.local and contextvars) until the thread ends; for threads GLib started" },
  { "input_hint", engine_input_hint, METH_NOARGS,
    "input_hint(): concurry_map_input_hint()" },
  { NULL, NULL, 0, NULL }
};

static struct PyModuleDef engine_module = {
  PyModuleDef_HEAD_INIT,
  .m_name = "gi._concurry._engine",
  .m_doc = "The per-item calls of concurry's Python wing, made holding the GIL.",
  .m_size = -1,
  .m_methods = engine_methods,
};

PyMODINIT_FUNC PyInit__engine (void);

PyMODINIT_FUNC
PyInit__engine (void)
{
  PyObject *module, *gobject;

  gobject = pygobject_init (3, 42, 0);
  if (gobject == NULL)
    return NULL;
  Py_DECREF (gobject);

  source_quark = g_quark_from_static_string ("concurry-python-source");
  pyobject_type = g_type_from_name ("PyObject");
  if (pyobject_type == 0)
    {
      PyErr_SetString (PyExc_ImportError, "PyGObject's PyObject boxed type is not registered");
      return NULL;
    }

  module = PyModule_Create (&engine_module);
  if (module == NULL)
    return NULL;
  fallback = PyObject_CallNoArgs ((PyObject *) &PyBaseObject_Type);
  if (fallback == NULL || PyModule_AddObjectRef (module, "FALLBACK", fallback) < 0)
    {
      Py_DECREF (module);
      return NULL;
    }
  return module;
}
