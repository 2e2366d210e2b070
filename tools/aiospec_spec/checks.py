"""Semantic checks a schema cannot express.

* clause ids exist in clauses.yaml, feature names in features.txt;
* python.min <= python.max;
* names (spec/README.md "Names"): every use of a handle, future, socket or loop name comes after
  a definition of it in document order (a pre-order walk: an operation, then the operations of
  its blocks); a use inside a callback's block (call_soon, call_later, ..., external: blocks
  that run later) may name a definition anywhere in the file, since the callback runs after the
  rest of the program has been reached (ORD-05's canceller is scheduled before its victim).  A
  template name like `t{i}` matches any name it could expand to (and the other way round).  Loops, futures and sockets are defined at most once, never inside a `repeat`
  unless the name holds that repeat's placeholder, and `main` cannot be defined.  The program
  is not executed: the interpreters check the same rules at run time;
* features: an operation that belongs to a feature (features.txt) requires the scenario to list
  it, so that a loop lacking the feature reports UNSUPPORTED and not FAILED;
* arguments: of an operation's `exactly_one` arguments exactly one is given (call_soon's do or
  object, drop's future or task); an `only_with` argument comes with the value it needs
  (set_exception_handler's type and message with handler: raise); a context's `keys` name no
  key its own arguments fill;
* coroutines: an operation marked coroutine-only (await, sleep, gather, shield, wait_for, return,
  try, reraise) sits in a coroutine body (create_task.do, an AWAITABLE's coroutine, the blocks of
  a try or a repeat inside one), never in the program or a callback's block; `reraise` sits in an except
  block of its own coroutine.
"""

import re

from aiospec_oracle import ops
from .errors import Diagnostic
from .validate import suggest

# Operations whose block runs later, as a callback or a task (not repeat, in_thread and run, which
# run it now, nor the scopes whose block runs inline in the coroutine: try, timeout, task_group).
DEFERRED = frozenset(name for name, op in ops.OPS.items()
                     if op.blocks and name not in ("repeat", "in_thread", "run")
                     and not op.inline_blocks)


def _version(text):
    return tuple(int(x) for x in text.split("."))

_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _template_rx(name):
    parts = _PLACEHOLDER.split(name)
    return re.compile(".*".join(re.escape(p) for p in parts) + r"\Z", re.S)


def _matches(use, definition):
    return bool(_template_rx(use).match(definition) or _template_rx(definition).match(use))


class Collector:
    """Receives every operation from normalise.normalise (its `visit` hook), in document order."""

    def __init__(self):
        self.defined = {ops.HANDLE: [], ops.FUTURE: [], ops.FD: [], ops.LOOP: ["main"],
                        ops.TIMEOUT: [], ops.GROUP: []}
        self.definitions = []  # (kind, name, order, op, arg path, op path)
        self.used = []         # (kind, name, op, arg path, order)
        self.needs = []        # (feature, op, why, path)
        self.repeats = {}      # op path of a repeat -> its placeholder
        self.deferred = set()  # op paths of operations in DEFERRED
        self.misplaced = []    # (path, message)
        self.since = []        # (version, what, path): needs CPython version+
        self.order = 0

    def __call__(self, name, args, arg_paths, op_path, where=None):
        self.order += 1
        op = ops.OPS[name]
        if where is not None and op.coroutine_only and not where.coroutine:
            self.misplaced.append((op_path, "'%s' is only allowed in a coroutine body "
                                   "(create_task.do, a {coroutine: ...}, or a try or repeat inside one), "
                                   "not in the program or a callback" % name))
        elif where is not None and name == "reraise" and not where.handling:
            self.misplaced.append((op_path, "'reraise' is only allowed in an except block "
                                   "(try.except[].do) of the same coroutine"))
        if name == "repeat":
            self.repeats[op_path] = "{%s}" % (args.get("var") or "i")
        if name in DEFERRED:
            self.deferred.add(op_path)
        if op.feature:
            self.needs.append((op.feature, name, "operation '%s'" % name, op_path))
        if op.since:
            self.since.append((op.since, "'%s'" % name, op_path))
        for arg, feature in op.arg_features.items():
            if arg in args:
                self.needs.append((feature, name, "'%s.%s'" % (name, arg), arg_paths[arg]))
        for arg, version in op.arg_since.items():
            if arg in args:
                self.since.append((version, "'%s.%s'" % (name, arg), arg_paths[arg]))
        if name == "create_task" and "group" in args and "loop" in args:
            self.misplaced.append((op_path, "create_task: 'group' and 'loop' exclude each other"))
        if op.exactly_one and sum(a in args for a in op.exactly_one) != 1:
            self.misplaced.append((op_path, "%s: exactly one of %s is needed" % (
                name, " and ".join("'%s'" % a for a in op.exactly_one))))
        for arg, (other, value) in op.only_with.items():
            if arg in args and args.get(other) != value:
                self.misplaced.append((arg_paths[arg], "%s: '%s' is only allowed with %s: %s"
                                       % (name, arg, other, value)))
        for arg, kind in op.args.items():
            if kind == ops.CONTEXT_KEYS and isinstance(args.get(arg), dict):
                for key in args[arg]:
                    if key in ops.CONTEXT_ARGS:
                        why = "is set by the argument of that name"
                    elif not re.match(ops.CONTEXT_KEY_PATTERN, key):
                        why = "is not a key name ([a-z_][a-z0-9_]*)"
                    else:
                        continue
                    self.misplaced.append((arg_paths[arg] + (key,), "%s: key '%s' %s"
                                           % (name, key, why)))
        for arg, kind in op.defines.items():
            if arg in args:
                values = args[arg] if isinstance(args[arg], list) else [args[arg]]
                self.defined[kind].extend(values)
                for value in values:
                    if isinstance(value, str):
                        self.definitions.append((kind, value, self.order, name, arg_paths[arg],
                                                 op_path))
        for arg, kind in op.uses.items():
            value = args.get(arg)
            if op.args[arg] in (ops.AWAITABLES, ops.FUTURES) and isinstance(value, list):
                order = 0 if self.in_callback(op_path) else self.order
                for i, item in enumerate(value):
                    if isinstance(item, str):
                        path = arg_paths[arg] + (i,)
                        self.used.append((kind, item, name, path, order))
            elif isinstance(value, str):
                order = 0 if self.in_callback(op_path) else self.order
                self.used.append((kind, value, name, arg_paths[arg], order))
                if kind == ops.LOOP and value != "main":
                    self.needs.append(("multiple-loops", name, "loop '%s'" % value,
                                       arg_paths[arg]))
        for arg, kind in op.args.items():
            if kind in (ops.NUM, ops.AT, ops.NUM_OR_NULL) and isinstance(args.get(arg), str):
                self.needs.append(("float-specials", name, "%s: \"%s\"" % (arg, args[arg]),
                                   arg_paths[arg]))

    def in_callback(self, op_path):
        return any(op_path[:k] in self.deferred for k in range(1, len(op_path)))

    def enclosing_repeats(self, op_path):
        """Placeholders of the repeats whose body holds the operation at op_path."""
        return [self.repeats[op_path[:k]] for k in range(1, len(op_path))
                if op_path[:k] in self.repeats]


_KIND_WORD = {ops.HANDLE: ("handle", "any `as:`"), ops.FUTURE: ("future", "any new_future or create_task, gather, shield `as:`"),
              ops.FD: ("socket", "any socketpair"), ops.LOOP: ("loop", "any new_loop or run `as:`"),
              ops.TIMEOUT: ("timeout", "any timeout or timeout_at `as:`"),
              ops.GROUP: ("task group", "any task_group `as:`")}


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
    # Operations (and arguments) that exist only from some CPython on: the scenario's range must
    # start there, so that no oracle runs it where it does not exist.  One line per version.
    lowest = _version(py.get("min", "3.8"))
    told = set()
    for version, what, path in sorted(collector.since, key=lambda n: marks.at(n[2])):
        if _version(version) > lowest and version not in told:
            told.add(version)
            add(path, "%s needs CPython %s+; set python: {min: \"%s\"}" % (what, version,
                                                                            version))

    first = {}
    for kind, name, order, op, path, op_path in collector.definitions:
        if kind == ops.HANDLE:
            continue                   # handles may be rebound freely
        word = _KIND_WORD[kind][0]
        if kind == ops.LOOP and name == "main":
            add(path, "loop 'main' cannot be defined: it is the loop every scenario starts with")
            continue
        if (kind, name) in first:
            add(path, "%s '%s' is already defined (line %d): names other than handles are "
                      "defined once" % (word, name, marks.at(first[kind, name])[0]))
            continue
        first[kind, name] = path
        missing = [p for p in collector.enclosing_repeats(op_path) if p not in name]
        if missing:
            add(path, "%s '%s' is defined inside a repeat: put %s in the name, or every copy "
                      "defines the same %s" % (word, name, missing[0], word))

    for kind, name, op, path, order in collector.used:
        defs = collector.defined[kind]
        word, how = _KIND_WORD[kind]
        if not any(_matches(name, d) for d in defs):
            add(path, "%s '%s' is not defined by %s in this scenario%s"
                % (word, name, how, suggest(name, defs)))
            continue
        if kind == ops.LOOP and name == "main":
            continue
        earlier = [(o, p) for k, d, o, _, p, _ in collector.definitions
                   if k == kind and _matches(name, d)]
        if order and not any(o < order for o, _ in earlier):    # order 0: in a callback
            add(path, "%s '%s' is used before it is defined (line %d)"
                % (word, name, marks.at(min(earlier)[1])[0]))

    for path, message in collector.misplaced:
        add(path, message)

    reported = set()
    # Visits arrive children-first; report each missing feature at its first place in the file.
    for feature, op, why, path in sorted(collector.needs, key=lambda n: marks.at(n[3])):
        if feature in listed or feature in reported:
            continue
        reported.add(feature)
        add(path, "%s needs feature '%s': add it to features" % (why, feature))
    return out
