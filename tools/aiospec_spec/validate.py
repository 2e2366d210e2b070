"""JSON Schema validation with errors mapped to source positions and plain wording.

jsonschema's own messages ("Additional properties are not allowed ('x' was unexpected)",
"... is not valid under any of the given schemas") do not say what to write instead; here each
error kind is reworded, using the failing subschema's ``description`` (see schemagen) when it
has one, and placed on the node that is wrong (for an unknown key: the key itself).
"""

import difflib
import json
from functools import lru_cache

import jsonschema

from aiospec_oracle import ops
from .errors import Diagnostic, show_value


@lru_cache(maxsize=None)
def validator_for(schema_path):
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    return jsonschema.Draft202012Validator(schema)


def suggest(word, choices, template=" (did you mean '%s'?)"):
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return template % close[0] if close else ""


def _expected(error):
    desc = error.schema.get("description") if isinstance(error.schema, dict) else None
    if desc:
        return "expected %s, got %s" % (desc, show_value(error.instance))
    return None


def messages(error):
    """Yield (path, prefer_key_mark, message) for one jsonschema error."""
    path = tuple(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    inst = error.instance
    is_op = schema.get("title") == "operation"

    if kind == "required":
        for key in error.validator_value:
            if isinstance(inst, dict) and key not in inst:
                yield path, False, "'%s' is required" % key
        return
    if kind == "additionalProperties":
        known = schema.get("properties", {})
        for key in inst:
            if key in known:
                continue
            if is_op:
                hint = suggest(key, known)
                siblings = [k for k in inst if k in ops.OPS and key in ops.OPS[k].args]
                if siblings:   # `as:` written at the indentation of the operation name
                    hint = (" ('%s' is an argument of %s: move it into its mapping)"
                            % (key, siblings[0]))
                yield path + (key,), True, "unknown operation '%s'%s" % (key, hint)
            else:
                yield path + (key,), True, "unknown key '%s'%s" % (key, suggest(key, known))
        return
    if is_op and kind == "maxProperties":
        if any(k not in ops.OPS for k in inst):
            return      # the unknown-operation error for the extra key says it better
        yield path, False, ("an operation is a mapping with exactly one key, the operation name; "
                            "got %d keys (%s)" % (len(inst), ", ".join(inst)))
        return
    if is_op and kind == "minProperties":
        yield path, False, "empty mapping: an operation needs a name"
        return
    if is_op and kind == "type":
        hint = ""
        if isinstance(inst, str) and inst in ops.OPS:
            hint = " (write '%s:' with a colon)" % inst
        yield path, False, "expected an operation such as `record: a`, got %s%s" % (
            show_value(inst), hint)
        return
    if kind == "maxLength" and isinstance(inst, str):
        yield path, False, "longer than %d characters (%d): at most %d are allowed" % (
            error.validator_value, len(inst), error.validator_value)
        return
    bounds = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
    if kind in bounds:
        yield path, False, "expected a value %s %s, got %s" % (
            bounds[kind], show_value(error.validator_value), show_value(inst))
        return
    if kind in ("type", "enum", "const", "anyOf", "oneOf", "pattern"):
        text = _expected(error)
        if text and isinstance(inst, float) and schema.get("pattern") == ops.VERSION_PATTERN:
            text += " (unquoted, 3.10 reads as the number 3.1)"
        if text:
            yield path, False, text
            return
    if kind == "uniqueItems":
        seen, dups = [], []
        for item in inst:
            if item in seen and item not in dups:
                dups.append(item)
            seen.append(item)
        yield path, False, "duplicate entries: %s" % ", ".join(show_value(d) for d in dups)
        return
    if kind == "minItems":
        yield path, False, ("must not be empty" if error.validator_value == 1
                            else "needs at least %d items" % error.validator_value)
        return
    if kind == "maxItems":
        yield path, False, "has more than %d items" % error.validator_value
        return
    if kind == "minProperties":
        yield path, False, "must not be empty"
        return
    yield path, False, error.message


def schema_errors(data, marks, file, schema_path):
    """Diagnostics for ``data`` against the schema at ``schema_path``."""
    out = []
    for error in validator_for(str(schema_path)).iter_errors(data):
        for path, prefer_key, message in messages(error):
            line, col = marks.at(path, prefer_key=prefer_key)
            shown = path[:-1] if prefer_key else path
            out.append(Diagnostic(file, line, col, shown, message))
    return out
