# SPDX-License-Identifier: LGPL-2.1-or-later
"""Values and exceptions in and out of C futures.

A value produced by Python goes into C as a ``GValue``: the plain values C
can hold without loss (an ``int`` that fits a ``gint``, a ``str``, a
``bool``, a ``float``, exact types only) keep a C type, so that C and the
other bindings read them; anything else is stored as the Python object
itself (a ``PyObject`` GValue), so ``result()`` gives back that very object.

An exception fails the C future with a ``GError`` (``Concurry.Error.FAILED``
and ``"Type: text"``, or the domain and code of a ``GLib.Error``) that
carries the exception object as its payload: the C engine copies the
payload along with the error through every combinator, chain and executor,
so the same object comes back from every future the failure reaches.
"""

import concurrent.futures
import os
import threading
import weakref

from gi.repository import Gio, GLib, GObject

from ..module import get_introspection_module

try:
    from gi._gi import _gvalue_set
except ImportError:  # pragma: no cover - other PyGObject versions
    def _gvalue_set(gvalue, value):
        gvalue.set_value(value)

Concurry = get_introspection_module('Concurry')

# The per-item calls made holding the GIL (see _engine.c), when built;
# CONCURRY_PYTHON_ENGINE=0 makes them through introspection, as without it.
try:
    if os.environ.get('CONCURRY_PYTHON_ENGINE', '1') == '0':
        raise ImportError('turned off')
    from . import _engine
except ImportError:
    _engine = None

CancelledError = concurrent.futures.CancelledError
InvalidStateError = concurrent.futures.InvalidStateError

State = Concurry.FutureState
PENDING = int(State.PENDING)
RUNNING = int(State.RUNNING)
DONE = int(State.DONE)
FAILED = int(State.FAILED)
CANCELLED = int(State.CANCELLED)
STATE_NAMES = {PENDING: 'pending', RUNNING: 'running', DONE: 'finished',
               FAILED: 'finished', CANCELLED: 'cancelled'}

TYPE_PYOBJECT = GObject.TYPE_PYOBJECT
_MININT = GLib.MININT
_MAXINT = GLib.MAXINT
_CONCURRY_DOMAIN = GLib.quark_to_string(Concurry.error_quark())
_FAILED_CODE = int(Concurry.Error.FAILED)
_GObject = GObject.Object
_Value = GObject.Value
_Error = GLib.Error


if _engine is not None:
    FALLBACK = _engine.FALLBACK
    state_of = _engine.state
    done_value = _engine.done_value
    _source_ref = _engine.source

    def new_source_promise(source, _new=_engine.new_promise, _ref=weakref.ref):
        """A read-only promise standing for source (a
        ``concurrent.futures.Future``): holds it weakly, as nothing but
        its holders can complete it, and in C, so the wrapper needs no
        instance dict (which would make it a toggle reference)."""
        return _new(_ref(source), source.running())

    def source_of(future):
        """What the wrapper future stands for, or None."""
        ref = _source_ref(future)
        if ref is not None:
            return ref()
        return future._concurry_source
else:
    FALLBACK = object()
    state_of = Concurry.Future.get_state

    def done_value(future):
        """The value of a future done with one, else FALLBACK."""
        if future.get_state() == DONE:
            return future.get_value()
        return FALLBACK

    def new_source_promise(source):
        promise = Concurry.Promise.new()
        promise._concurry_source = source
        if source.running():
            promise.mark_running()
        return promise

    def source_of(future):
        return future._concurry_source


def pyobject_value(value):
    """A ``PyObject`` GValue holding value itself."""
    gvalue = _Value()
    gvalue.init(TYPE_PYOBJECT)
    _gvalue_set(gvalue, value)
    return gvalue


def to_gvalue(value):
    """What to pass as a ``const GValue *`` for value (see the module)."""
    kind = type(value)
    if kind is int:
        if _MININT <= value <= _MAXINT:
            return value
        return pyobject_value(value)
    if kind is str:
        return value if '\0' not in value else pyobject_value(value)
    if kind is float or kind is bool or value is None or kind is _Value:
        return value
    if isinstance(value, (int, str, float)):   # subclasses keep their type
        return pyobject_value(value)
    if isinstance(value, _GObject):
        return value
    return pyobject_value(value)


def c_text(text):
    """text as a GError message can hold it: valid UTF-8 without NUL."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        text = text.encode('utf-8', 'backslashreplace').decode('utf-8')
    if '\0' in text:
        text = text.replace('\0', '\\x00')
    return text


def error_for(exc):
    """The ``GLib.Error`` standing for exc in C."""
    try:
        if isinstance(exc, _Error):
            return _Error(c_text(exc.message or ''), c_text(exc.domain or _CONCURRY_DOMAIN),
                          exc.code)
        try:
            text = str(exc)
        except Exception:
            text = ''
        name = type(exc).__qualname__
        return _Error(c_text('%s: %s' % (name, text) if text else name), _CONCURRY_DOMAIN,
                      _FAILED_CODE)
    except Exception:   # a str subclass or a domain PyGObject cannot convert
        return _Error(c_text(type(exc).__qualname__), _CONCURRY_DOMAIN, _FAILED_CODE)


def check_exception(exception):
    """exception as an instance: a class is instantiated; anything that is
    not an exception is a TypeError (raised at once, not at result())."""
    if isinstance(exception, type) and issubclass(exception, BaseException):
        exception = exception()
    if not isinstance(exception, BaseException):
        raise TypeError('exception must be a BaseException instance, got %s'
                        % type(exception).__name__)
    return exception


_lock = threading.Lock()

# A GLib.Error of another domain than concurry's cannot carry a payload: the
# future it fails keeps it itself (pin_exception()), and for the errors C
# copied from it (chains, combinators) the last one raised from Python for
# each (domain, code, message) stands.
_glib_errors = weakref.WeakValueDictionary()


def remember(exc):
    if isinstance(exc, _Error):
        try:
            _glib_errors[(exc.domain, exc.code, exc.message)] = exc
        except TypeError:
            pass


def pin_exception(future, exc):
    """Before future fails with exc: a GLib.Error that its error cannot
    carry as a payload is what exception_of() gives for it, even if
    another error with the same domain, code and message was raised
    since."""
    if (future is not None and isinstance(exc, _Error) and
            exc.domain != _CONCURRY_DOMAIN):
        future.__dict__.setdefault('_concurry_pinned', exc)


def exception_of(future):
    """The exception a failed future failed with: the Python exception
    object (the payload of its error), or its ``GLib.Error``; always the
    same object for one future.  Counts as looking at the error for the C
    library's unobserved-error warning."""
    exc = getattr(future, '_concurry_exception', None)
    if exc is not None:
        return exc
    payload = future.get_error_payload()
    if not isinstance(payload, BaseException):
        payload = future.get_error()
        if isinstance(payload, _Error):
            pinned = getattr(future, '_concurry_pinned', None)
            if pinned is not None:
                payload = pinned
            else:
                payload = _glib_errors.get((payload.domain, payload.code, payload.message),
                                           payload)
    with _lock:
        return future.__dict__.setdefault('_concurry_exception', payload)


def outcome(future):
    """The value of a done future, or its exception object (a
    ``CancelledError`` instance if it was cancelled)."""
    value = done_value(future)
    if value is not FALLBACK:
        return value
    state = state_of(future)
    if state == DONE:
        return future.get_value()
    if state == CANCELLED:
        return CancelledError()
    return exception_of(future)


def resolve(promise, value):
    """Resolves promise with value itself; returns whether it was still
    pending."""
    if _engine is not None:
        resolved = _engine_resolve(promise, value)
        if resolved is not FALLBACK:
            return resolved
    return promise.resolve(identity_gvalue(value))


if _engine is not None:
    _engine_resolve = _engine.resolve
    call_when_done = _engine.call_when_done
else:
    def call_when_done(future, fn, *args):
        """Calls fn(*args) once future is done, on the thread that
        completes it (at once if it is done): the wing's own callbacks."""
        return Concurry.Future.add_done_callback_direct(future, lambda _future: fn(*args))


def reject(promise, exc):
    """Fails promise with exc (carried as the payload of its error);
    returns whether it was still pending."""
    remember(exc)
    rejected = promise.reject_with_payload(error_for(exc), exc)
    if rejected:
        pin_exception(promise, exc)
    return rejected


_CONVERTED = (int, str, float, _Value, GLib.Variant, GObject.GBoxed, GLib.Error)


def identity_gvalue(value):
    """What to pass as a ``const GValue *`` so that the value read back is
    value itself: PyGObject stores any object it has no C type for as the
    object itself; the others are wrapped explicitly."""
    if value is None or isinstance(value, _GObject):
        return value
    if type(value) is int and _MININT <= value <= _MAXINT:
        return value        # a C int: the same value comes back, read by C too
    if isinstance(value, _CONVERTED):
        return pyobject_value(value)
    return value


def done_future(value):
    """A future already done with value (the Python object itself)."""
    return Concurry.ResolvedFuture.new(identity_gvalue(value))


def typed_future(value):
    """A future already done with value, as a chain step's value: the plain
    values C holds without loss keep a C type (see to_gvalue())."""
    try:
        return Concurry.ResolvedFuture.new(to_gvalue(value))
    except (TypeError, ValueError, OverflowError):
        return Concurry.ResolvedFuture.new(pyobject_value(value))


def failed_future(exc):
    """A future that already failed with exc (a cancelled one for a
    ``CancelledError``)."""
    if isinstance(exc, CancelledError):
        return Concurry.ResolvedFuture.new_error_literal(
            Gio.io_error_quark(), int(Gio.IOErrorEnum.CANCELLED), 'cancelled')
    remember(exc)
    return Concurry.ResolvedFuture.new_error_with_payload(error_for(exc), exc)
