"""Checks of the expected traces under conformance/expected/cpython-X.Y/.

A trace belongs to a scenario by file name (<id>.json) and by its `scenario` field; it is stale
when its `scenario_sha256` is not the hash of the scenario's current canonical form, or when
the scenario's `python` range no longer includes that CPython version.  Orphans (no scenario with
that id) are only detectable when the whole spec tree was loaded, so the caller says so.
The oracle's bless deletes traces of ids that are absent or do not apply, so "run make bless" is
the fix for every kind of stale trace.
"""

import json
import re
from pathlib import Path

from aiospec_oracle.bundle import applies

from . import paths
from .catalog import load_catalog, no_oracle
from .errors import Diagnostic
from .validate import messages, validator_for

_DIR = re.compile(r"^cpython-(3)\.([0-9]+)$")


def _event_line(text, index):
    """Line of events[index] in a trace written one event per line (TRACE.md)."""
    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        if '"events"' in line:
            return n + 1 + index if line.rstrip().endswith("[") else n
    return 1


def trace_dirs(expected=None):
    root = Path(expected or paths.EXPECTED)
    if not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if d.is_dir() and _DIR.match(d.name))


def check_traces(tree, whole_tree, expected=None):
    """Diagnostics for every trace file; returns (diagnostics, {id: set(version dirs)})."""
    out, have = [], {}
    oracles = load_catalog().oracles
    for d in trace_dirs(expected):
        m = _DIR.match(d.name)
        version = (int(m.group(1)), int(m.group(2)))
        for f in sorted(d.iterdir()):
            shown = paths.display(f)
            if f.suffix != ".json":
                out.append(Diagnostic(shown, 1, 1, (), "not a trace file (expected <id>.json)"))
                continue
            sid = f.stem
            scenario = tree.by_id.get(sid)
            if scenario is None:
                if whole_tree:
                    out.append(Diagnostic(shown, 1, 1, (), "orphan trace: no scenario has id '%s';"
                                          " run make bless (it removes it)" % sid))
                continue
            have.setdefault(sid, set()).add(d.name)
            try:
                text = f.read_text(encoding="utf-8")
                data = json.loads(text)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                out.append(Diagnostic(shown, getattr(exc, "lineno", 1), getattr(exc, "colno", 1),
                                      (), "unreadable trace: %s" % exc))
                continue
            bad = False
            for error in validator_for(str(paths.TRACE_SCHEMA)).iter_errors(data):
                for p, _, message in messages(error):
                    line = _event_line(text, p[1]) if len(p) > 1 and p[0] == "events" else 1
                    out.append(Diagnostic(shown, line, 1, p, message))
                    bad = True
            if bad:
                continue
            if data.get("scenario") != sid:
                out.append(Diagnostic(shown, 1, 1, ("scenario",), "trace is for '%s' but the file"
                                      " is named %s" % (data.get("scenario"), f.name)))
            if not applies(scenario.canonical, version):
                out.append(Diagnostic(shown, 1, 1, (), "stale trace: %s does not apply to %s "
                                      "(python: %s); run make bless (it removes it)" % (
                                          scenario.shown, d.name,
                                          json.dumps(scenario.canonical.get("python")))))
            elif ("%d.%d" % version) in no_oracle(oracles, scenario.canonical.get("features", ())):
                out.append(Diagnostic(shown, 1, 1, (), "stale trace: no oracle for %s can run %s: %s"
                                      " (spec/oracles.yaml); run make bless (it removes it)" % (
                                          d.name, scenario.shown,
                                          no_oracle(oracles, scenario.canonical.get("features", ()))[
                                              "%d.%d" % version])))
            elif data.get("scenario_sha256") != scenario.sha256:
                out.append(Diagnostic(shown, 1, 1, ("scenario_sha256",), "stale trace: %s changed"
                                      " since it was blessed; run make bless" % scenario.shown))
    return out, have
