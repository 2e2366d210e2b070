"""Semantic checks a schema cannot express.

* clause ids exist in clauses.yaml, feature names in features.txt;
* python.min <= python.max;
* names: a handle used by cancel/when is defined by some `as:`; a future, socket end or loop
  used anywhere is defined somewhere (new_future, socketpair, new_loop; `main` always exists).
  Best effort: the program is not executed, so "somewhere in the scenario" is the rule, and a
  template name like `t{i}` matches any name it could expand to (and the other way round);
* features: an operation that belongs to a feature (features.txt) requires the scenario to list
  it, so that a loop lacking the feature reports UNSUPPORTED and not FAILED.
"""

import re

from aiospec_oracle import ops
from .errors import Diagnostic
from .validate import suggest

_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _template_rx(name):
    parts = _PLACEHOLDER.split(name)
    return re.compile(".*".join(re.escape(p) for p in parts) + r"\Z", re.S)


def _matches(use, definition):
    return bool(_template_rx(use).match(definition) or _template_rx(definition).match(use))


class Collector:
    """Receives every operation from normalise.normalise (its `visit` hook)."""

    def __init__(self):
        self.defined = {ops.HANDLE: [], ops.FUTURE: [], ops.FD: [], ops.LOOP: ["main"]}
        self.used = []        # (kind, name, op, arg path)
        self.needs = []       # (feature, op, why, path)

    def __call__(self, name, args, arg_paths, op_path):
        op = ops.OPS[name]
        if op.feature:
            self.needs.append((op.feature, name, "operation '%s'" % name, op_path))
        for arg, kind in op.defines.items():
            if arg in args:
                values = args[arg] if isinstance(args[arg], list) else [args[arg]]
                self.defined[kind].extend(values)
        for arg, kind in op.uses.items():
            value = args.get(arg)
            if isinstance(value, str):
                self.used.append((kind, value, name, arg_paths[arg]))
                if kind == ops.LOOP and value != "main":
                    self.needs.append(("multiple-loops", name, "loop '%s'" % value,
                                       arg_paths[arg]))
        for arg, kind in op.args.items():
            if kind == ops.NUM and isinstance(args.get(arg), str):
                self.needs.append(("float-specials", name, "%s: \"%s\"" % (arg, args[arg]),
                                   arg_paths[arg]))


_KIND_WORD = {ops.HANDLE: ("handle", "any `as:`"), ops.FUTURE: ("future", "any new_future"),
              ops.FD: ("socket", "any socketpair"), ops.LOOP: ("loop", "any new_loop")}


def semantic_errors(source, canonical, collector, catalog, file, marks):
    out = []

    def add(path, message, prefer_key=False):
        line, col = marks.at(path, prefer_key)
        out.append(Diagnostic(file, line, col, path, message))

    for i, cid in enumerate(canonical.get("clauses", [])):
        if cid not in catalog.clauses:
            add(("clauses", i), "unknown clause '%s' (not in spec/clauses.yaml%s)"
                % (cid, suggest(cid, catalog.clauses, "; did you mean '%s'?")))
    listed = canonical.get("features", [])
    for i, feat in enumerate(listed):
        if feat not in catalog.features:
            add(("features", i), "unknown feature '%s' (not in spec/features.txt%s)"
                % (feat, suggest(feat, catalog.features, "; did you mean '%s'?")))
    py = canonical.get("python", {})
    if "min" in py and "max" in py:
        lo, hi = (tuple(int(x) for x in py[k].split(".")) for k in ("min", "max"))
        if lo > hi:
            add(("python",), "min %s is after max %s" % (py["min"], py["max"]))

    for kind, name, op, path in collector.used:
        defs = collector.defined[kind]
        if not any(_matches(name, d) for d in defs):
            word, how = _KIND_WORD[kind]
            add(path, "%s '%s' is not defined by %s in this scenario%s"
                % (word, name, how, suggest(name, defs)))

    reported = set()
    # Visits arrive children-first; report each missing feature at its first place in the file.
    for feature, op, why, path in sorted(collector.needs, key=lambda n: marks.at(n[3])):
        if feature in listed or feature in reported:
            continue
        reported.add(feature)
        add(path, "%s needs feature '%s': add it to features" % (why, feature))
    return out
