"""Traces: building, rendering and hashing (spec/TRACE.md).

Rendering must give the same characters in every language, so it is spelt
out here rather than left to ``json.dumps`` defaults:

* an event is one line: ``t`` first, ``ev`` second, the other keys in
  alphabetical order, separators ``", "`` and ``": "``;
* strings are JSON strings with non-ASCII escaped as ``\\uXXXX``;
* integers as integers; floats as the shortest decimal that reads back as
  the same double, in ``repr`` layout (what ``json.dumps`` writes);
* NaN and the infinities, which JSON cannot express, are written as the
  strings ``"nan"``, ``"inf"`` and ``"-inf"``, the spellings scenarios use
  for them (NUM in spec/README.md);
* ``t`` is always a float.

A trace file is a header, then one event per line, then a newline.
"""

import hashlib
import json
import math
import sys

__all__ = (
    'FORMAT',
    'HEADER_KEYS',
    'producer',
    'make_trace',
    'render_value',
    'render_event',
    'render_events',
    'render_trace',
    'scenario_sha256',
)

FORMAT = 'aiospec-trace/1'
REGENERATE = 'make bless'

# Header fields, in file order.
HEADER_KEYS = ('format', 'scenario', 'scenario_sha256', 'producer', 'regenerate')


def scenario_sha256(scenario):
    """SHA-256 (hex) of a scenario's canonical JSON.

    The canonical JSON is ``json.dumps(s, sort_keys=True,
    separators=(",", ":"))`` (ASCII, keys sorted at every level).  The
    loader stores this value in the bundle; traces carry it so that a trace
    whose scenario changed after it was blessed is detected.
    """
    text = json.dumps(scenario, sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(text.encode('ascii')).hexdigest()


_PRE_RELEASE = {'alpha': 'a', 'beta': 'b', 'candidate': 'rc'}


def producer():
    """``cpython-<major>.<minor>.<micro>`` of the running interpreter, with its pre-release tag
    when it is one (``cpython-3.15.0rc1``), as ``sys.version`` spells it."""
    v = sys.version_info
    tag = '' if v.releaselevel == 'final' else '%s%d' % (_PRE_RELEASE[v.releaselevel], v.serial)
    return 'cpython-%d.%d.%d%s' % (v.major, v.minor, v.micro, tag)


def make_trace(scenario, events):
    """The trace of one run of ``scenario`` as a dict (header + events)."""
    return {
        'format': FORMAT,
        'scenario': scenario['id'],
        'scenario_sha256': scenario_sha256(scenario),
        'producer': producer(),
        'regenerate': REGENERATE,
        'events': list(events),
    }


def render_value(value):
    """One JSON value, rendered as TRACE.md says."""
    if value is None:
        return 'null'
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if math.isnan(value):
            return '"nan"'
        if math.isinf(value):
            return '"inf"' if value > 0 else '"-inf"'
        return float.__repr__(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(render_value(v) for v in value) + ']'
    if isinstance(value, dict):
        return '{' + ', '.join(
            '%s: %s' % (json.dumps(k, ensure_ascii=True), render_value(value[k]))
            for k in sorted(value)) + '}'
    raise TypeError('cannot render %s in a trace' % type(value).__name__)


def event_keys(event):
    """The keys of ``event`` in rendering order: t, ev, then sorted."""
    rest = sorted(k for k in event if k not in ('t', 'ev'))
    return [k for k in ('t', 'ev') if k in event] + rest


def render_event(event):
    """One event as its single line of JSON (no newline)."""
    parts = []
    for key in event_keys(event):
        value = event[key]
        if key == 't':
            value = float(value)
        parts.append('%s: %s' % (json.dumps(key), render_value(value)))
    return '{' + ', '.join(parts) + '}'


def render_events(events):
    """The rendered lines of a list of events: what comparison compares."""
    return [render_event(e) for e in events]


def render_trace(trace):
    """The text of a trace file, trailing newline included."""
    lines = ['{']
    for key in HEADER_KEYS:
        lines.append('  %s: %s,' % (json.dumps(key), render_value(trace[key])))
    events = render_events(trace['events'])
    if events:
        lines.append('  "events": [')
        lines.extend('    ' + e + ',' for e in events[:-1])
        lines.append('    ' + events[-1])
        lines.append('  ]')
    else:
        lines.append('  "events": []')
    lines.append('}')
    return '\n'.join(lines) + '\n'
