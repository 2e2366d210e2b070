"""Reading the inputs of the command line: bundles, scenarios, traces.

A bundle is what the loader (tools/aiospec_spec) writes: every scenario of
spec/, validated and in canonical form::

    {"format": "aiospec-bundle/1",
     "oracles": {"runtimes": {"pyodide": {"description": "...",
                                          "lacks": {"threads": "why", ...}}},
                 "versions": {"3.14": "pyodide", ...}},
     "scenarios": [{"path": "spec/ordering/fifo.yaml", "area": "ordering",
                    "sha256": "...", "scenario": {...}}]}

``oracles`` is spec/oracles.yaml (optional: without it every runtime lacks nothing). An entry's
``no_oracle`` says why this interpreter's runtime (``platform.RUNTIME``) cannot run it, or is None.

Anything unreadable or malformed raises ``InputError`` with a one-line
message that names the file.
"""

import json
import re
import sys

from . import platform
from .trace import FORMAT as TRACE_FORMAT, scenario_sha256

__all__ = ('BUNDLE_FORMAT', 'InputError', 'Entry', 'read_json',
           'parse_bundle', 'load_bundle', 'load_trace', 'applies')

BUNDLE_FORMAT = 'aiospec-bundle/1'
ENTRY_KEYS = ('path', 'area', 'sha256', 'scenario')

# Ids name trace files, so they must be plain file names.
_ID = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]*\Z')
_VERSION = re.compile(r'(\d+)\.(\d+)\Z')


class InputError(Exception):
    """An input file cannot be used; the message names it."""


class Entry:
    """One scenario of a bundle."""

    def __init__(self, path, area, sha256, scenario, no_oracle=None):
        self.path = path
        self.area = area
        self.sha256 = sha256
        self.scenario = scenario
        self.no_oracle = no_oracle

    @property
    def id(self):
        return self.scenario['id']

    def __repr__(self):
        return '<Entry %s %s>' % (self.id, self.path)


def read_json(filename):
    """Parse the JSON file ``filename`` ('-' is stdin)."""
    try:
        if filename == '-':
            text = sys.stdin.read()
        else:
            with open(filename, encoding='utf-8') as f:
                text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError('%s: cannot read: %s' % (filename, exc)) from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError('%s: not JSON: %s' % (filename, exc)) from None


def is_bundle(data):
    return isinstance(data, dict) and data.get('format') == BUNDLE_FORMAT


def parse_bundle(data, filename):
    """The entries of bundle ``data`` read from ``filename``, validated:
    known keys only, ids usable as file names and unique, a well-formed
    ``python`` range, and ``sha256`` equal to the oracle's own hash of the
    scenario (so loader and oracle agree on the canonical form)."""
    def bad(message):
        raise InputError('%s: %s' % (filename, message))

    if not is_bundle(data):
        bad('not an %s bundle' % BUNDLE_FORMAT)
    if not {'format', 'scenarios'} <= set(data) <= {'format', 'oracles', 'scenarios'} \
            or not isinstance(data['scenarios'], list):
        bad('a bundle has the keys "format", "scenarios" (a list) and "oracles" (optional)')
    lacks = _lacks(data.get('oracles'), bad)
    entries = []
    seen = set()
    for index, item in enumerate(data['scenarios']):
        if not isinstance(item, dict) or sorted(item) != sorted(ENTRY_KEYS):
            bad('scenarios[%d]: expected exactly the keys %s'
                % (index, ', '.join(ENTRY_KEYS)))
        scenario = item['scenario']
        if not isinstance(scenario, dict) or not isinstance(scenario.get('id'), str):
            bad('scenarios[%d] (%s): scenario without an id' % (index, item['path']))
        sid = scenario['id']
        where = 'scenarios[%d] (%s, %s)' % (index, item['path'], sid)
        if not _ID.match(sid):
            bad('%s: id is not usable as a file name' % where)
        if sid in seen:
            bad('%s: duplicate id' % where)
        seen.add(sid)
        actual = scenario_sha256(scenario)
        if item['sha256'] != actual:
            bad('%s: sha256 %s in the bundle, %s computed by the oracle'
                % (where, item['sha256'], actual))
        try:
            python_range(scenario)
        except ValueError as exc:
            bad('%s: %s' % (where, exc))
        missing = [f for f in scenario.get('features', ()) if f in lacks]
        no_oracle = 'needs %s (%s)' % (missing[0], lacks[missing[0]]) if missing else None
        entries.append(Entry(item['path'], item['area'], item['sha256'], scenario, no_oracle))
    return entries


def _lacks(oracles, bad):
    """{feature: why} that this interpreter's runtime lacks, from the bundle's oracle table."""
    if oracles is None:
        return {}
    runtimes = oracles.get('runtimes') if isinstance(oracles, dict) else None
    if not isinstance(runtimes, dict) or not all(
            isinstance(r, dict) and isinstance(r.get('lacks'), dict) for r in runtimes.values()):
        bad('oracles: expected {"runtimes": {NAME: {"lacks": {FEATURE: WHY}}}, "versions": {...}}')
    return dict(runtimes.get(platform.RUNTIME, {}).get('lacks', {}))


def load_bundle(filename):
    return parse_bundle(read_json(filename), filename)


def load_trace(filename):
    """A committed trace file, as a dict."""
    data = read_json(filename)
    if (not isinstance(data, dict) or data.get('format') != TRACE_FORMAT
            or not isinstance(data.get('events'), list)
            or not all(isinstance(e, dict) for e in data['events'])):
        raise InputError('%s: not an %s file' % (filename, TRACE_FORMAT))
    return data


def python_range(scenario):
    """The scenario's ``python`` range as ((3, X) or None, (3, Y) or None)."""
    spec = scenario.get('python')
    if spec is None:
        return None, None
    if not isinstance(spec, dict) or not set(spec) <= {'min', 'max'}:
        raise ValueError('python must be {min: "3.X", max: "3.Y"}')
    bounds = []
    for key in ('min', 'max'):
        value = spec.get(key)
        if value is None:
            bounds.append(None)
            continue
        match = _VERSION.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError('python.%s must be a string "3.X", not %r' % (key, value))
        bounds.append((int(match.group(1)), int(match.group(2))))
    return tuple(bounds)


def applies(scenario, version=None):
    """Whether the scenario has an expected trace for ``version``
    ((major, minor); the running interpreter by default).  Bounds are
    inclusive minor versions."""
    if version is None:
        version = tuple(sys.version_info[:2])
    low, high = python_range(scenario)
    return (low is None or version >= low) and (high is None or version <= high)
