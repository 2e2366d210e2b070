"""The clause catalogue (spec/clauses.yaml), the feature vocabulary (spec/features.txt) and the
oracle table (spec/oracles.yaml: which runtime judges each CPython version, what it lacks)."""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List

import jsonschema

from aiospec_oracle import ops

from . import paths
from .errors import Diagnostic
from .validate import messages
from .yaml12 import parse

CLAUSE_AREAS = ["ordering", "timers", "futures", "tasks", "cancellation", "exceptions", "debug",
                "lifecycle", "io"]

# clauses.yaml is small and owned by this package, so its schema lives here.
CLAUSES_SCHEMA = {
    "type": "object",
    "required": ["clauses"],
    "additionalProperties": False,
    "properties": {"clauses": {"type": "array", "items": {
        "type": "object",
        "required": ["id", "area", "statement", "documented"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": ops.CLAUSE_PATTERN,
                   "description": "a clause id such as 'ORD-01'"},
            "area": {"enum": CLAUSE_AREAS, "description": "one of " + ", ".join(CLAUSE_AREAS)},
            "statement": {"type": "string", "pattern": "^[^\\n]+" + ops.END,
                          "description": "a one-line statement"},
            "documented": {"type": "boolean", "description": "true or false"},
            "versions": {"type": "string", "pattern": r"^3\.[0-9]+(\+|-3\.[0-9]+)" + ops.END,
                         "description": "a version range such as '3.11+' or '3.8-3.10'"},
            "note": {"type": "string", "description": "free text"},
        }}}},
}


# oracles.yaml: runtimes and the versions they judge; the bundle carries it as it is.
ORACLES_SCHEMA = {
    "type": "object",
    "required": ["runtimes", "versions"],
    "additionalProperties": False,
    "properties": {
        "runtimes": {"type": "object", "additionalProperties": {
            "type": "object",
            "required": ["description", "lacks"],
            "additionalProperties": False,
            "properties": {
                "description": {"type": "string", "description": "one line"},
                "lacks": {"type": "object", "additionalProperties": {"type": "string"},
                          "description": "feature: why the runtime cannot run it"},
            }}},
        "versions": {"type": "object",
                     "propertyNames": {"pattern": r"^3\.[0-9]+$"},
                     "additionalProperties": {"type": "string"},
                     "description": '"3.X": runtime'},
    },
}


@dataclass
class Catalog:
    clauses: Dict[str, dict] = field(default_factory=dict)
    features: Dict[str, str] = field(default_factory=dict)
    oracles: dict = field(default_factory=lambda: {"runtimes": {}, "versions": {}})
    diagnostics: List[Diagnostic] = field(default_factory=list)   # problems in the files


def _read_yaml(path, cat):
    """(data, marks, shown) of a YAML file of spec/, or None with its problems in ``cat``."""
    shown = paths.display(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        cat.diagnostics.append(Diagnostic(shown, 1, 1, (), "cannot read: %s" % exc.strerror))
        return None
    data, marks, errs = parse(text, shown)
    cat.diagnostics.extend(errs)
    return None if data is None else (data, marks, shown)


def _load_clauses(path, cat):
    read = _read_yaml(path, cat)
    if read is None:
        return
    data, marks, shown = read
    for error in jsonschema.Draft202012Validator(CLAUSES_SCHEMA).iter_errors(data):
        for p, prefer_key, message in messages(error):
            line, col = marks.at(p, prefer_key)
            cat.diagnostics.append(Diagnostic(shown, line, col, p[:-1] if prefer_key else p,
                                              message))
    entries = data.get("clauses") if isinstance(data, dict) else None
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        cid = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(cid, str):
            continue
        if cid in cat.clauses:
            line, col = marks.at(("clauses", i, "id"))
            cat.diagnostics.append(Diagnostic(shown, line, col, ("clauses", i, "id"),
                                              "duplicate clause id '%s'" % cid))
        cat.clauses[cid] = entry


def _load_oracles(path, cat):
    # Optional: without it every version is judged by a native interpreter.
    if not Path(path).exists():
        return
    read = _read_yaml(path, cat)
    if read is None:
        return
    data, marks, shown = read
    problems = []
    for error in jsonschema.Draft202012Validator(ORACLES_SCHEMA).iter_errors(data):
        for p, prefer_key, message in messages(error):
            problems.append((p[:-1] if prefer_key else p, marks.at(p, prefer_key), message))
    if not problems:
        for version, runtime in data["versions"].items():
            if runtime not in data["runtimes"]:
                problems.append((("versions", version), marks.at(("versions", version)),
                                 "unknown runtime '%s' (runtimes: %s)"
                                 % (runtime, ", ".join(sorted(data["runtimes"])) or "none")))
        for name, runtime in data["runtimes"].items():
            for feature in runtime["lacks"]:
                if feature not in cat.features:
                    where = ("runtimes", name, "lacks", feature)
                    problems.append((where, marks.at(where, True), "unknown feature '%s'" % feature))
    for where, (line, col), message in problems:
        cat.diagnostics.append(Diagnostic(shown, line, col, where, message))
    if not problems:
        cat.oracles = data


def no_oracle(oracles, features):
    """{"3.X": "needs F (why)"} for the versions whose runtime lacks one of ``features``."""
    out = {}
    for version, runtime in oracles["versions"].items():
        lacks = oracles["runtimes"][runtime]["lacks"]
        missing = [f for f in features if f in lacks]
        if missing:
            out[version] = "needs %s (%s)" % (missing[0], lacks[missing[0]])
    return out


def _load_features(path, cat):
    shown = paths.display(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        cat.diagnostics.append(Diagnostic(shown, 1, 1, (), "cannot read: %s" % exc.strerror))
        return
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^([a-z][a-z0-9-]*)\s*(.*)$", line)
        if not m:
            cat.diagnostics.append(Diagnostic(shown, n, 1, (), "bad feature line"))
            continue
        cat.features[m.group(1)] = m.group(2)


@lru_cache(maxsize=None)
def load_catalog(clauses_path=None, features_path=None):
    cat = Catalog()
    _load_clauses(clauses_path or paths.CLAUSES, cat)
    _load_features(features_path or paths.FEATURES, cat)
    _load_oracles(paths.ORACLES, cat)
    return cat
