"""Expectation files: conformance/expectations/<loop>.yaml (format: conformance/expectations/README.md).

What a loop is known to get wrong, scenario by scenario, with the reason; `aiospec report` turns a
result equal to its expectation into XFAIL and a listed scenario that passes into XPASS. Read here,
strictly, because YAML lives in the Python tools; the C++ report reads the canonical JSON printed by
`python3 -m aiospec_spec expectations FILE`. Every problem is one line `FILE:LINE:COL: why`.
"""

import json
import re

from . import yaml12
from .errors import Diagnostic, LoadError, show_value

STATUSES = ("FAIL", "ERROR", "FLAKY")
TIME_MODES = ("virtual", "interposed", "real")
_ID = re.compile(r"^[a-z]+-[0-9]{4}$")
_VERSION = re.compile(r"^3\.[0-9]+$")
_ENTRY_KEYS = ("status", "reason", "upstream", "cpython", "time")


def load(path):
    """The canonical form of one expectation file: {"loop": ..., "expectations": {id: entry}}.
    Raises LoadError with one diagnostic per problem."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise LoadError([Diagnostic(str(path), 1, 1, (), "cannot read: %s" % exc.strerror)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise LoadError([Diagnostic(str(path), line, 1, (), "not UTF-8")])
    data, marks, diags = yaml12.parse(text, str(path))
    if diags:
        raise LoadError(diags)
    errors = []

    def bad(where, message, key=False):
        line, col = marks.at(where, prefer_key=key)
        errors.append(Diagnostic(str(path), line, col, (), message))

    if not isinstance(data, dict):
        bad((), "an expectation file is a mapping with `loop` and `expectations`")
        raise LoadError(errors)
    for key in data:
        if key not in ("loop", "expectations"):
            bad((key,), "unknown key %r (the keys are loop, expectations)" % key, key=True)
    loop = data.get("loop")
    if not isinstance(loop, str) or not loop:
        bad(("loop",) if "loop" in data else (), "`loop` must name the loop (implementation.name of its host)")
    entries = data.get("expectations", {})
    if entries is None:
        entries = {}
    if not isinstance(entries, dict):
        bad(("expectations",), "`expectations` must be a mapping of scenario id to expectation")
        entries = {}
    out = {}
    for sid, entry in entries.items():
        at = ("expectations", sid)
        if not isinstance(sid, str) or not _ID.match(sid):
            bad(at, "%s is not a scenario id (like ord-0008)" % show_value(sid), key=True)
            continue
        if not isinstance(entry, dict):
            bad(at, "the expectation of %s must be a mapping with status and reason" % sid)
            continue
        for key in entry:
            if key not in _ENTRY_KEYS:
                bad(at + (key,), "unknown key %r (the keys are %s)" % (key, ", ".join(_ENTRY_KEYS)), key=True)
        canon = {}
        status = entry.get("status")
        if status not in STATUSES:
            bad(at + (("status",) if "status" in entry else ()),
                "status must be one of %s, not %s" % (" ".join(STATUSES), show_value(status)))
        else:
            canon["status"] = status
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            bad(at + (("reason",) if "reason" in entry else ()), "reason must say in one sentence what differs")
        elif "\n" in reason:
            bad(at + ("reason",), "reason must be one line")
        else:
            canon["reason"] = reason
        if "upstream" in entry:
            up = entry["upstream"]
            if not isinstance(up, str) or not re.match(r"^https?://\S+$", up):
                bad(at + ("upstream",), "upstream must be an http(s) link, not %s" % show_value(up))
            else:
                canon["upstream"] = up
        if "cpython" in entry:
            versions = entry["cpython"]
            if (not isinstance(versions, list) or not versions
                    or not all(isinstance(v, str) and _VERSION.match(v) for v in versions)):
                bad(at + ("cpython",), 'cpython must be a non-empty list of versions like ["3.8", "3.9"]')
            elif len(set(versions)) != len(versions):
                bad(at + ("cpython",), "cpython lists a version twice")
            else:
                canon["cpython"] = sorted(versions, key=lambda v: tuple(int(x) for x in v.split(".")))
        if "time" in entry:
            if entry["time"] not in TIME_MODES:
                bad(at + ("time",), "time must be one of %s, not %s"
                    % (" ".join(TIME_MODES), show_value(entry["time"])))
            else:
                canon["time"] = entry["time"]
        out[sid] = canon
    if errors:
        raise LoadError(errors)
    return {"loop": loop, "expectations": {k: out[k] for k in sorted(out)}}


def canonical_json(path):
    return json.dumps(load(path), sort_keys=True, ensure_ascii=True)
