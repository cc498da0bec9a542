#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Generates the cases of tests/test-bad-input.c from the GIR: every
# function, method and constructor of the Concurry namespace, called with
# each kind of bad input (see test-bad-input.c). Unknown types get NULL or
# 0, so new API is swept as soon as it is in the GIR.
#
# usage: gen-bad-input-cases.py Concurry-1.gir output.h

import sys
import xml.etree.ElementTree as ET

CORE = '{http://www.gtk.org/introspection/core/1.0}'
C = '{http://www.gtk.org/introspection/c/1.0}'

VARIANTS = ['null', 'wrong-type', 'foreign', 'extremes', 'extremes-low']

gir = ET.parse(sys.argv[1]).getroot()
ns = gir.find(CORE + 'namespace')

enums = set()
for tag in ('enumeration', 'bitfield'):
    for e in ns.iter(CORE + tag):
        if e.get(C + 'type'):
            enums.add(e.get(C + 'type'))

callbacks = {}
for cb in ns.findall(CORE + 'callback'):
    callbacks[cb.get(C + 'type')] = cb

# GObject-derived types of the namespace and of its dependencies that a
# wrong instance can be told apart from.
object_types = set()
for tag in ('class', 'interface'):
    for e in ns.findall(CORE + tag):
        object_types.add(e.get(C + 'type') + '*')
object_types |= {'GObject*', 'GCancellable*', 'GAsyncResult*', 'GTask*', 'GInputStream*'}

scalars = {
    # c type: (null, extremes, extremes-low)
    'gboolean': ('FALSE', '99', '-1'),
    'int': ('0', 'G_MAXINT', 'G_MININT'),
    'gint': ('0', 'G_MAXINT', 'G_MININT'),
    'guint': ('0', 'G_MAXUINT', '0'),
    'gint64': ('0', 'G_MAXINT64', 'G_MININT64'),
    'guint64': ('0', 'G_MAXUINT64', '0'),
    'gsize': ('0', 'G_MAXSIZE', '0'),
    'gssize': ('0', 'G_MAXSSIZE', 'G_MINSSIZE'),
    'double': ('0.0', 'G_MAXDOUBLE', '-G_MAXDOUBLE'),
    'gdouble': ('0.0', 'G_MAXDOUBLE', '-G_MAXDOUBLE'),
    'float': ('0.0f', 'G_MAXFLOAT', '-G_MAXFLOAT'),
    'GQuark': ('0', '0', '0'),
    # GLib cannot check an unregistered GType: wrong but real ones
    'GType': ('G_TYPE_INVALID', 'G_TYPE_NONE', 'G_TYPE_INVALID'),
}

glib_callbacks = {
    'GAsyncReadyCallback': 'noop_GAsyncReadyCallback',
    'GDestroyNotify': 'noop_GDestroyNotify',
    'GCallback': 'noop_GCallback',
}


def ctype_of(p):
    t = p.find(CORE + 'type')
    a = p.find(CORE + 'array')
    if t is not None and t.get(C + 'type'):
        return t.get(C + 'type'), None
    if a is not None:
        return a.get(C + 'type'), a
    if t is not None and t.get('name') == 'va_list':
        return None, None
    return None, None


out = []
w = out.append

# No-op callbacks with the exact signature of each callback type.
for ctype, cb in sorted(callbacks.items()):
    ret = cb.find(CORE + 'return-value').find(CORE + 'type')
    rtype = ret.get(C + 'type') if ret is not None else 'void'
    params = []
    cbp = cb.find(CORE + 'parameters')
    if cbp is not None:
        for i, p in enumerate(cbp.findall(CORE + 'parameter')):
            pt, _ = ctype_of(p)
            if pt is None:
                break
            params.append('%s a%d' % (pt, i))
    if cb.get('throws') == '1':
        params.append('GError **error')
    w('G_GNUC_UNUSED static %s\nnoop_%s (%s)\n{\n%s}\n' % (
        rtype, ctype, ', '.join(params) or 'void',
        '' if rtype == 'void' else '  return (%s) 0;\n' % rtype))


def value_for(ctype, arr, variant, direction):
    """The C expression to pass, for one parameter."""
    if direction in ('out', 'inout'):
        if variant == 'null':
            return 'NULL'
        return '(gpointer) out_storage ()'
    if arr is not None:
        elem = arr.find(CORE + 'type')
        elem_type = elem.get(C + 'type') if elem is not None else None
        if variant == 'null' or variant == 'extremes-low':
            return 'NULL'
        if elem_type in ('ConcurryFuture*',):
            return {'wrong-type': 'wrong_array ()',
                    'foreign': 'foreign_future_array ()',
                    'extremes': 'valid_future_array ()'}[variant]
        return 'NULL'
    if ctype in scalars:
        null, hi, lo = scalars[ctype]
        return {'null': null, 'wrong-type': null, 'foreign': null,
                'extremes': hi, 'extremes-low': lo}[variant]
    if ctype in enums:
        return {'null': '0', 'wrong-type': '0', 'foreign': '0',
                'extremes': '(%s) 99' % ctype, 'extremes-low': '(%s) -1' % ctype}[variant]
    if ctype in callbacks:
        if variant == 'null' or variant == 'wrong-type':
            return 'NULL'
        return 'noop_' + ctype
    if ctype in glib_callbacks:
        if variant == 'null' or variant == 'wrong-type':
            return 'NULL'
        return glib_callbacks[ctype]
    if ctype is None:
        return 'NULL'
    bare = ctype.replace('const ', '').strip()
    if bare in ('GValue*',):
        # a GValue never initialized: detectable
        return 'NULL' if variant == 'null' else '(gpointer) zeroed_value ()'
    if bare in object_types:
        if variant == 'null':
            return 'NULL'
        if variant == 'wrong-type':
            return '(gpointer) wrong_object ()'
        if variant == 'foreign':
            return '(gpointer) foreign_instance ("%s")' % bare
        return '(gpointer) valid_instance ("%s")' % bare
    if bare.endswith('*') and bare[:-1] in ('ConcurryGioCall',):
        return 'NULL' if variant in ('null', 'wrong-type') else '(gpointer) valid_instance ("%s")' % bare
    # strings, GError, GVariant, gpointer, contexts and anything unknown:
    # NULL is the only bad value a callee can tell apart
    return 'NULL'


def expects_critical(params, nullable, lengths, variant):
    """Whether the bad input of @variant is certain to be refused (with a
    critical) rather than accepted."""
    length_params = set(lengths)
    for i, (ct, arr, d) in enumerate(params):
        if d in ('out', 'inout') or i in length_params:
            continue
        bare = (ct or '').replace('const ', '').strip()
        if arr is not None:
            elem = arr.find(CORE + 'type')
            elem_type = elem.get(C + 'type') if elem is not None else None
            if elem_type != 'ConcurryFuture*' or arr.get('length') is None:
                continue
            if variant in ('null', 'extremes-low', 'wrong-type', 'foreign'):
                return True
            continue
        if variant == 'null' and bare in object_types and not nullable[i]:
            return True
        if variant == 'wrong-type' and bare in object_types and bare != 'GObject*':
            return True
        if variant == 'foreign' and bare in ('ConcurryFuture*', 'ConcurryExecutor*'):
            return True
        if variant in ('extremes', 'extremes-low') and ct in enums:
            return True
    return False


cases = []
seen = set()
for el in ns.iter():
    tag = el.tag[len(CORE):] if el.tag.startswith(CORE) else None
    if tag not in ('function', 'method', 'constructor'):
        continue
    ident = el.get(C + 'identifier')
    if not ident or ident in seen or el.get('shadowed-by') and False:
        continue
    if el.get('moved-to'):
        continue
    seen.add(ident)
    params = []   # (ctype, arr, direction)
    nullable = []
    ps = el.find(CORE + 'parameters')
    varargs = False
    if ps is not None:
        for p in ps:
            if p.tag == CORE + 'instance-parameter':
                t = p.find(CORE + 'type')
                params.append((t.get(C + 'type'), None, None))
                nullable.append(False)
            elif p.tag == CORE + 'parameter':
                if p.find(CORE + 'varargs') is not None:
                    varargs = True
                    break
                ct, arr = ctype_of(p)
                params.append((ct, arr, p.get('direction')))
                nullable.append(p.get('nullable') == '1' or p.get('allow-none') == '1'
                                or p.get('optional') == '1')
    if varargs:
        continue
    # array lengths: index among the non-instance parameters
    n_instance = 1 if tag == 'method' else 0
    lengths = {}
    for i, (ct, arr, d) in enumerate(params):
        if arr is not None and arr.get('length') is not None:
            lengths[n_instance + int(arr.get('length'))] = i
    throws = el.get('throws') == '1'
    rv = el.find(CORE + 'return-value')
    rt = rv.find(CORE + 'type') if rv is not None else None
    if rt is None and rv is not None:
        rt = rv.find(CORE + 'array')
    rtype = rt.get(C + 'type') if rt is not None else None
    for variant in VARIANTS:
        args = []
        for i, (ct, arr, d) in enumerate(params):
            if i in lengths:
                arr_expr = args  # placeholder
                if variant == 'null':
                    args.append('1')            # NULL array, claimed length
                elif variant == 'extremes-low':
                    args.append('G_MAXUINT')    # NULL array, huge length
                elif value_for(params[lengths[i]][0], params[lengths[i]][1], variant, None) == 'NULL':
                    args.append('0')
                else:
                    args.append('1')
                continue
            args.append(value_for(ct, arr, variant, d))
        if throws:
            args.append('&error')
        name = 'case_%s_%s' % (ident, variant.replace('-', '_'))
        call = '%s (%s)' % (ident, ', '.join(args))
        if rtype in (None, 'void'):
            body = '  %s;\n' % call
        else:
            body = '  %s result = %s;\n\n  (void) result;\n' % (rtype, call)
        w('static void\n%s (void)\n{\n  GError *error = NULL;\n\n%s  g_clear_error (&error);\n}\n'
          % (name, body))
        cases.append((ident, variant, name, expects_critical(params, nullable, lengths, variant)))

w('static const BadInputCase bad_input_cases[] = {')
for ident, variant, name, critical in cases:
    w('  { "%s", "%s", %s, %s },' % (ident, variant, name, 'TRUE' if critical else 'FALSE'))
w('};')

with open(sys.argv[2], 'w') as f:
    f.write('/* Generated by gen-bad-input-cases.py from the GIR: do not edit. */\n\n')
    f.write('\n'.join(out) + '\n')
