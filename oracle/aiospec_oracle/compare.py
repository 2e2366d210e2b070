"""Comparing traces (spec/TRACE.md, "Comparison").

Two traces are equal when their rendered event lines are equal, line for
line; the header is not compared.  A difference is described by its first
divergence:

    first divergence at event 3, field "label": expected "tie-2", actual "tie-1"
    first divergence at event 5: missing event {"t": 2.0, "ev": "record", ...}
    first divergence at event 5: extra event {"t": 2.0, "ev": "record", ...}

Event indices count from 0.  Fields are examined in rendering order (t, ev,
then alphabetical); a field present on one side only shows as ``absent``.
"""

from .trace import event_keys, render_event, render_value

__all__ = ('first_divergence',)


def first_divergence(expected, actual):
    """Describe where two event lists first differ, or return None."""
    for index, (exp, act) in enumerate(zip(expected, actual)):
        if render_event(exp) == render_event(act):
            continue
        keys = event_keys(exp)
        keys += [k for k in event_keys(act) if k not in exp]
        for key in keys:
            e = _field(exp, key)
            a = _field(act, key)
            if e != a:
                return ('first divergence at event %d, field "%s": '
                        'expected %s, actual %s' % (index, key, e, a))
    n = min(len(expected), len(actual))
    if len(expected) > n:
        return 'first divergence at event %d: missing event %s' % (
            n, render_event(expected[n]))
    if len(actual) > n:
        return 'first divergence at event %d: extra event %s' % (
            n, render_event(actual[n]))
    return None


def _field(event, key):
    if key not in event:
        return 'absent'
    value = event[key]
    if key == 't':
        value = float(value)
    return render_value(value)
