"""Generate spec/schema/scenario.schema.json (from ops.OPS) and spec/schema/trace.schema.json.

The schema is generated rather than hand-written so that the loader's normaliser and the schema
cannot disagree about an operation's arguments.  Design points that make errors precise:

* A block item is an object with exactly one property, restricted to the operation names
  (``additionalProperties: false``), so an unknown key there is an unknown *operation*.
* An operation with a short form uses ``if {type: object} then <long form> else <short form>``
  rather than ``anyOf``: the validator then reports the real error of the form the author
  meant (``'delay' is required``) instead of "not valid under any of the given schemas".
* Schemas that can fail on a type carry a ``description`` worded as a noun phrase; the loader
  turns a failure there into "expected <description>, got <value>".

Usage: python3 -m aiospec_spec.schemagen [--check]   (--check: exit 1 if the file is stale)
"""

import json
import sys
from pathlib import Path

from aiospec_oracle import ops
from .paths import SCENARIO_SCHEMA, TRACE_SCHEMA

_NUM_DESC = 'a number or one of the strings "inf", "-inf", "nan"'

ARG_SCHEMAS = {
    ops.NAME: {"type": "string", "pattern": ops.NAME_PATTERN, "maxLength": ops.MAX_NAME,
               "description": "a name ([A-Za-z_][A-Za-z0-9_.{}-]*)"},
    ops.NUM: {"description": _NUM_DESC,
              "anyOf": [{"type": "number"}, {"enum": list(ops.SPECIAL_NUMS)}]},
    ops.AT: {"description": 'a number or one of the strings "inf", "-inf" (not "nan")',
             "anyOf": [{"type": "number"}, {"enum": ["inf", "-inf"]}]},
    ops.BLOCK: {"$ref": "#/$defs/block"},
    ops.LABEL: {"type": "string", "maxLength": ops.MAX_LABEL, "description": "a label string"},
    ops.VALUE: {"type": ["string", "number", "boolean", "null"],
                "description": "a string, number, boolean or null"},
    ops.SECONDS: {"type": "number", "minimum": 0, "description": "a number of seconds (>= 0)"},
    ops.TIMES: {"type": "integer", "minimum": 0, "maximum": ops.MAX_REPEAT_TIMES,
                "description": "an integer (>= 0)"},
    ops.SIZE: {"type": "integer", "minimum": 1, "maximum": ops.MAX_RECV_SIZE,
               "description": "an integer (>= 1)"},
    ops.VAR: {"type": "string", "pattern": ops.VAR_PATTERN, "maxLength": ops.MAX_NAME,
              "description": "a placeholder name ([A-Za-z_][A-Za-z0-9_]*)"},
    ops.NAMES2: {"$ref": "#/$defs/names2"},
    ops.LOOP_OR_NULL: {"type": ["string", "null"], "pattern": ops.NAME_PATTERN,
                       "maxLength": ops.MAX_NAME,
                       "description": "a loop name or null"},
    ops.EXCEPTION: {"enum": list(ops.RAISABLE), "description": "an exception class name"},
    ops.SETTABLE_EXCEPTION: {"enum": list(ops.SETTABLE),
                   "description": "an exception class name (StopIteration too: a Future refuses it)"},
    ops.AWAITABLE: {"$ref": "#/$defs/awaitable"},
    ops.AWAITABLES: {"type": "array", "items": {"$ref": "#/$defs/awaitable"},
                     "description": "a list of awaitables (names or {coroutine: [...]})"},
    ops.HANDLERS: {"type": "array", "items": {"$ref": "#/$defs/handler"},
                   "description": "a list of handlers {match: [TYPE, ...], do: [...]}"},
    ops.BOOL: {"type": "boolean", "description": "true or false"},
    ops.NUM_OR_NULL: {"description": _NUM_DESC + ", or null",
                      "anyOf": [{"type": "number"}, {"enum": list(ops.SPECIAL_NUMS)},
                                {"type": "null"}]},
    ops.FUTURES: {"type": "array", "uniqueItems": True,
                  "items": {"type": "string", "pattern": ops.NAME_PATTERN,
                            "maxLength": ops.MAX_NAME,
                            "description": "a future or task name"},
                  "description": "a list of distinct future or task names (possibly empty)"},
    ops.RETURN_WHEN: {"enum": list(ops.RETURN_WHEN_VALUES),
                      "description": "one of " + ", ".join(ops.RETURN_WHEN_VALUES)},
    ops.TASK_FACTORY: {"enum": list(ops.TASK_FACTORIES),
                       "description": "'eager' or null"},
    ops.HANDLER: {"enum": list(ops.HANDLER_POLICIES), "description": "'record', 'raise' or null"},
    ops.EXC_SPEC: {"type": "object", "description": "a mapping {type, message?}",
                   "properties": {"type": {"$ref": "#/$defs/arg.exception"},
                                  "message": {"$ref": "#/$defs/arg.label"}},
                   "required": ["type"], "additionalProperties": False},
    ops.CONTEXT_KEYS: {"type": "object", "maxProperties": ops.MAX_CONTEXT_KEYS,
                       "description": "a mapping of context key names to strings",
                       "additionalProperties": {"$ref": "#/$defs/arg.label"}},
    ops.CALLBACK_OBJECT: {"description": "'coroutine', 'coroutine-function' or a number",
                          "anyOf": [{"enum": list(ops.CALLBACK_OBJECTS)}, {"type": "number"}]},
    ops.POLICY: {"enum": list(ops.POLICIES), "description": "'default'"},
    ops.ASCII: {"type": "string", "pattern": "^[\\u0000-\\u007f]*" + ops.END,
                "maxLength": ops.MAX_SEND_DATA,
                "description": "ASCII text"},
}

# An AWAITABLE: a name, or a mapping {coroutine: BLOCK} (a new coroutine object).
_AWAITABLE = {"if": {"type": "object"},
              "then": {"type": "object", "description": "a mapping {coroutine}",
                       "properties": {"coroutine": {"$ref": "#/$defs/block"}},
                       "required": ["coroutine"], "additionalProperties": False},
              "else": {"type": "string", "pattern": ops.NAME_PATTERN, "maxLength": ops.MAX_NAME,
                       "description": "a future or task name, or a mapping {coroutine}"}}
_HANDLER = {"type": "object", "description": "a mapping {match, do}",
            "properties": {
                "match": {"type": "array", "minItems": 1, "uniqueItems": True,
                          "description": "a list of exception class names",
                          "items": {"enum": list(ops.EXCEPTION_TYPES),
                                    "description": "an exception class name (%s)"
                                    % ", ".join(ops.EXCEPTION_TYPES)}},
                "do": {"$ref": "#/$defs/block"}},
            "required": ["match", "do"], "additionalProperties": False}

_NAMES2 = {"type": "array", "items": {"$ref": "#/$defs/arg.name"}, "minItems": 2, "maxItems": 2,
           "uniqueItems": True, "description": "a list of two different names"}


# The "shape" wording used in messages: {do, as?, loop?}
def _shape(op):
    parts = []
    for a in op.args:
        if a in op.exactly_one:            # {do | object, as?, loop?}
            if a == op.exactly_one[0]:
                parts.append(" | ".join(op.exactly_one))
        else:
            parts.append(a if a in op.required else a + "?")
    return "a mapping {" + ", ".join(parts) + "}"


_SHORT_DESC = {
    ops.SHORT_BLOCK: "a list of operations",
    ops.SHORT_NULL: "nothing",
    ops.SHORT_STRING: "a name",
    ops.SHORT_NUMBER: "a number",
    ops.SHORT_NAMES: "a list of two names",
    ops.SHORT_VALUE: "a string, number, boolean or null",
    ops.SHORT_BOOL: "true or false",
}


def _short_schema(name, op):
    desc = "%s, or %s" % (_SHORT_DESC[op.short], _shape(op))
    if op.short == ops.SHORT_STRING and op.args[op.short_key] == ops.LABEL:
        desc = "a label string, or " + _shape(op)
    if op.short == ops.SHORT_STRING and op.args[op.short_key] == ops.HANDLER:
        desc = "'record', 'raise' or null, or " + _shape(op)
    if op.short == ops.SHORT_STRING and op.args[op.short_key] == ops.POLICY:
        desc = "'default', or " + _shape(op)
    if op.short == ops.SHORT_BLOCK:
        return {"type": "array", "items": {"$ref": "#/$defs/operation"}, "description": desc}
    if op.short == ops.SHORT_NULL:
        return {"type": "null", "description": "nothing (`%s:`), or %s" % (name, _shape(op))}
    if op.short == ops.SHORT_NAMES:      # inlined, so a type error carries this description
        return dict(_NAMES2, description=desc)
    if op.short == ops.SHORT_VALUE:
        return {"type": ["string", "number", "boolean", "null"], "description": desc}
    kind = op.args[op.short_key]
    if kind == ops.AWAITABLE:             # `await: t`: only a name has a short form
        kind = ops.NAME
    sub = dict(ARG_SCHEMAS[kind])     # a string or number short form
    sub["description"] = desc
    return sub


def _args_schema(op, canonical=False):
    return {
        "type": "object",
        "description": _shape(op),
        "properties": {a: {"$ref": "#/$defs/arg.%s" % t} for a, t in op.args.items()},
        "required": list(op.required),
        "additionalProperties": False,
    }


def _budget_schema(key):
    _, maximum = ops.BUDGETS[key]
    if key == "time":
        return {"type": "number", "exclusiveMinimum": 0, "maximum": maximum,
                "description": "a number of seconds (> 0)"}
    return {"type": "integer", "minimum": 1, "maximum": maximum,
            "description": "an integer (>= 1)"}


def build(canonical=False):
    """The scenario schema; canonical=True gives the schema of the canonical JSON form
    (no short forms), used by the tests to check the normaliser's output."""
    defs = {}
    for t, s in ARG_SCHEMAS.items():
        defs["arg." + t] = s
    defs["names2"] = _NAMES2
    defs["awaitable"] = _AWAITABLE
    defs["handler"] = _HANDLER
    defs["block"] = {"type": "array", "items": {"$ref": "#/$defs/operation"},
                     "description": "a list of operations"}
    defs["operation"] = {
        "title": "operation",
        "type": "object",
        "description": "an operation: a mapping with one key, the operation name",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {name: {"$ref": "#/$defs/op.%s" % name} for name in ops.OPS},
        "additionalProperties": False,
    }
    for name, op in ops.OPS.items():
        args = _args_schema(op)
        if op.doc:
            args["$comment"] = op.doc
        defs["args." + name] = args
        if op.short is None or canonical:
            defs["op." + name] = {"$ref": "#/$defs/args." + name}
        else:
            defs["op." + name] = {"if": {"type": "object"},
                                  "then": {"$ref": "#/$defs/args." + name},
                                  "else": _short_schema(name, op)}
    version = {"type": "string", "pattern": ops.VERSION_PATTERN,
               "description": 'a quoted CPython minor version such as "3.8"'}
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aiospec scenario" + (" (canonical JSON form)" if canonical else
                                       " (YAML source form, short forms allowed)"),
        "$comment": "GENERATED by `python3 -m aiospec_spec.schemagen` from "
                    "oracle/aiospec_oracle/ops.py; do not edit by hand. See spec/README.md.",
        "type": "object",
        "description": "a scenario mapping",
        "required": ["id", "title", "clauses", "features", "level", "program"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": ops.ID_PATTERN,
                   "description": "an id such as 'tmr-0012' (a prefix of 2 to 16 lowercase "
                                  "letters and digits, a dash, four digits)"},
            "title": {"type": "string", "pattern": "^[^\\n]+" + ops.END,
                      "description": "a one-line title"},
            "clauses": {"type": "array", "minItems": 1, "uniqueItems": True,
                        "description": "a list of clause ids",
                        "items": {"type": "string", "pattern": ops.CLAUSE_PATTERN,
                                  "description": "a clause id such as 'ORD-01'"}},
            "features": {"type": "array", "uniqueItems": True,
                         "description": "a list of feature names (possibly empty)",
                         "items": {"type": "string", "pattern": "^[a-z][a-z0-9-]*" + ops.END,
                                   "description": "a feature name"}},
            "level": {"enum": ["must", "cpython"], "description": "'must' or 'cpython'"},
            "python": {"type": "object", "minProperties": 1, "additionalProperties": False,
                       "description": 'a mapping {min?: "3.X", max?: "3.Y"}',
                       "properties": {"min": version, "max": version}},
            "description": {"type": "string", "description": "free text"},
            "budget": {"type": "object", "additionalProperties": False,
                       "description": "a mapping {%s}" % ", ".join(k + "?" for k in ops.BUDGETS),
                       "properties": {k: _budget_schema(k) for k in ops.BUDGETS}},
            "program": {"$ref": "#/$defs/block", "minItems": 1},
        },
        "$defs": defs,
    }
    return schema


# ------------------------------------------------------------------------------- trace schema

_TRACE_NUM = {"description": 'a number, or "inf", "-inf", "nan" (how a trace writes them)',
              "anyOf": [{"type": "number"}, {"enum": list(ops.SPECIAL_NUMS)}]}
_TRACE_VALUE = {"type": ["string", "number", "boolean", "null"],
                "description": "a string, number, boolean or null"}
_BOOL = {"type": "boolean", "description": "true or false"}
_STR = {"type": "string", "description": "a string"}
_TNAME = {"type": "string", "pattern": ops.NAME_PATTERN, "description": "a scenario name"}

# ev -> its fields besides t and ev (all required).  TRACE.md's table, with the value-returning
# operations of spec/README.md spelt out.
TRACE_EVENTS = {
    "record": {"label": _STR},
    "error": {"op": {"enum": list(ops.OPS), "description": "an operation name"},
              "type": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*" + ops.END,
                       "description": "a Python exception class name"},
              "message": _STR},
    "blocked": {"op": {"enum": ["run_forever", "run_until_complete", "run"],
                       "description": "'run_forever', 'run_until_complete' or 'run'"}},
    "budget_exceeded": {"limit": {"enum": list(ops.BUDGETS),
                                  "description": "one of " + ", ".join(
                                      "'%s'" % k for k in ops.BUDGETS)}},
    "select": {"timeout": {"description": "a number or null",
                           "anyOf": [{"type": "null"}, _TRACE_NUM]}},
    "recv": {"fd": _TNAME, "data": {"type": ["string", "null"],
                                    "description": "ASCII text or null"}},
    "when": {"handle": _TNAME, "value": _TRACE_NUM},
    "run_until_complete": {"value": _TRACE_VALUE},
    "is_running": {"value": _BOOL},
    "is_closed": {"value": _BOOL},
    "time": {"value": _TRACE_NUM},
    "get_running_loop": {"value": {"type": ["string", "null"],
                                   "description": "a loop name or null"}},
    "get_event_loop": {"value": {"type": ["string", "null"],
                                 "description": "a loop name or null"}},
    "done": {"future": _TNAME, "value": _BOOL},
    "result": {"future": _TNAME, "value": _TRACE_VALUE},
    "remove_reader": {"fd": _TNAME, "value": _BOOL},
    "remove_writer": {"fd": _TNAME, "value": _BOOL},
    "contextvar_get": {"var": _TNAME, "value": _TRACE_VALUE},
    "cancel_future": {"future": _TNAME, "value": _BOOL},
    "cancelled": {"future": _TNAME, "value": _BOOL},
    "exception": {"future": _TNAME, "value": {"description": "an exception description or null",
                                              "anyOf": [{"type": "null"},
                                                        {"$ref": "#/$defs/exc"}]}},
    "cancelling": {"future": _TNAME, "value": {"type": "integer", "minimum": 0,
                                               "description": "an integer (>= 0)"}},
    "uncancel": {"future": _TNAME, "value": {"type": "integer", "minimum": 0,
                                             "description": "an integer (>= 0)"}},
    "current_task": {"value": {"type": ["string", "null"],
                               "description": "a task name, \"\" or null"}},
    "expired": {"timeout": _TNAME, "value": _BOOL},
    "get_exception_handler": {"value": {"enum": list(ops.HANDLER_POLICIES),
                                        "description": "'record', 'raise' or null"}},
    "get_debug": {"value": _BOOL},
    "coroutine_origin_depth": {"value": {"type": "integer", "minimum": 0,
                                         "description": "an integer (>= 0)"}},
    "handler": {"exception": {"description": "an exception description or null",
                              "anyOf": [{"type": "null"}, {"$ref": "#/$defs/exc"}]},
                "keys": {"type": "array", "items": _STR, "description": "a list of key names"},
                "message": {"type": ["string", "null"], "description": "a string or null"},
                "contextvar": _TRACE_VALUE},
    "log": {"exception": {"description": "an exception description or null",
                          "anyOf": [{"type": "null"}, {"$ref": "#/$defs/exc"}]},
            "level": {"enum": ["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"],
                      "description": "a logging level name"},
            "message": _STR},
    # A warning an operation emitted (feature warning-trace, Python only).
    "warning": {"category": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*" + ops.END,
                             "description": "a Python warning class name"},
                "message": _STR},
    "deadline": {"timeout": _TNAME, "value": {"description": "a number or null",
                                              "anyOf": [{"type": "null"}, _TRACE_NUM]}},
}

# Results that may be any value a future can hold: a gather's list, exception descriptions.
_ANY = {"$ref": "#/$defs/value"}
TRACE_EVENTS["result"]["value"] = _ANY
TRACE_EVENTS["run_until_complete"]["value"] = _ANY

# The await family: `value` or `raised`, exactly one; `await` names the future it awaited when
# it was given a name (TRACE.md).
OUTCOME_EVENTS = ("await", "sleep", "gather", "shield", "wait_for", "wait", "timeout",
                  "timeout_at", "task_group", "run")
OPTIONAL_FIELDS = {"await": ("future",), "handler": ("contextvar",)}
for _ev in OUTCOME_EVENTS:
    TRACE_EVENTS[_ev] = dict({"future": _TNAME} if _ev in OPTIONAL_FIELDS else {},
                             value=_ANY, raised={"$ref": "#/$defs/exc"})
# wait's value: the names of `of` in its order, split in two.
_NAME_LIST = {"type": "array", "items": _TNAME, "description": "a list of future names"}
TRACE_EVENTS["wait"]["value"] = {"type": "object", "description": "a mapping {done, pending}",
                                 "required": ["done", "pending"], "additionalProperties": False,
                                 "properties": {"done": _NAME_LIST, "pending": _NAME_LIST}}
# The scopes' outcome: null when nothing leaves them.
for _ev in ("timeout", "timeout_at", "task_group"):
    TRACE_EVENTS[_ev]["value"] = {"type": "null", "description": "null"}

_EXC = {"type": "object",
        "description": "an exception description {type, args, context?, cause?, exceptions?}",
        "required": ["type", "args"], "additionalProperties": False,
        "properties": {
            "type": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*" + ops.END,
                     "description": "a Python exception class name"},
            "args": {"type": "array", "items": {"$ref": "#/$defs/scalar"},
                     "description": "the exception's args (scalars; anything else as repr)"},
            "context": {"type": "string", "description": "the class name of __context__"},
            "cause": {"type": "string", "description": "the class name of __cause__"},
            "exceptions": {"type": "array", "items": {"$ref": "#/$defs/exc"},
                           "description": "an exception group's members, described"}}}
_VALUE = {"description": "a value: a scalar, a list of values or an exception description",
          "anyOf": [{"$ref": "#/$defs/scalar"},
                    {"type": "array", "items": {"$ref": "#/$defs/value"}},
                    {"$ref": "#/$defs/exc"}]}
_SCALAR = {"description": "a string, number, boolean or null",
           "anyOf": [{"type": ["string", "number", "boolean", "null"]},
                     {"enum": list(ops.SPECIAL_NUMS)}]}


def build_trace():
    kinds = []
    for ev, fields in TRACE_EVENTS.items():
        props = {"t": {"$ref": "#/$defs/num"}, "ev": {"const": ev}}
        props.update(fields)
        required = [f for f in fields if f not in OPTIONAL_FIELDS.get(ev, ())
                    and not (ev in OUTCOME_EVENTS and f in ("value", "raised"))]
        then = {"properties": props, "required": ["t", "ev"] + required,
                "additionalProperties": False}
        if ev in OUTCOME_EVENTS:
            then["oneOf"] = [{"required": ["value"]}, {"required": ["raised"]}]
        kinds.append({"if": {"properties": {"ev": {"const": ev}}}, "then": then})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aiospec trace file (spec/TRACE.md)",
        "$comment": "GENERATED by `python3 -m aiospec_spec.schemagen` from "
                    "tools/aiospec_spec/schemagen.py; do not edit by hand.",
        "type": "object",
        "description": "a trace mapping",
        "required": ["format", "scenario", "scenario_sha256", "producer", "regenerate", "events"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": "aiospec-trace/1", "description": "'aiospec-trace/1'"},
            "scenario": {"type": "string", "pattern": ops.ID_PATTERN,
                         "description": "a scenario id"},
            "scenario_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}" + ops.END,
                                "description": "64 lowercase hex digits"},
            "producer": {"type": "string", "minLength": 1,
                         "description": "a producer such as 'cpython-3.11.7'"},
            "regenerate": {"type": "string", "minLength": 1, "description": "a command"},
            "events": {"type": "array", "items": {"$ref": "#/$defs/event"},
                       "description": "a list of events"},
        },
        "$defs": {
            "num": _TRACE_NUM,
            "scalar": _SCALAR,
            "value": _VALUE,
            "exc": _EXC,
            "event": {
                "type": "object",
                "description": "an event mapping {t, ev, ...}",
                "required": ["t", "ev"],
                "properties": {"ev": {"enum": list(TRACE_EVENTS),
                                      "description": "an event kind (spec/TRACE.md)"}},
                "allOf": kinds,
            },
        },
    }


def render(schema):
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def outputs():
    """(path, text) of every generated schema file."""
    return [(Path(SCENARIO_SCHEMA), render(build())), (Path(TRACE_SCHEMA), render(build_trace()))]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    status = 0
    for path, text in outputs():
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                print("%s is stale: run python3 -m aiospec_spec.schemagen" % path,
                      file=sys.stderr)
                status = 1
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print("wrote %s" % path)
    return status


if __name__ == "__main__":
    sys.exit(main())
