"""YAML reading with YAML 1.2 core-schema scalars and source marks.

PyYAML implements YAML 1.1, where `on`, `no`, `yes`, `off` are booleans, `010` is octal and
`1_000` an integer.  Scenario labels and names like `on`/`no` must stay strings, so this module
uses a SafeLoader subclass whose implicit resolvers are those of the YAML 1.2 core schema.

Construction is done here, not by PyYAML's constructor, so that every value's position can be
kept: ``parse`` returns the data plus a ``Marks`` table mapping a data path (tuple of keys and
indices) to the (line, column) of its node, and of its key when it is a mapping value.  Duplicate
keys, non-string keys, non-finite floats and integers beyond 64 bits are rejected with a position.

Anchors, aliases and tags are refused by the composer, at the event that carries them and before
any node is built: an alias bomb ("billion laughs") never expands.  The composer also refuses
nodes nested deeper than MAX_DEPTH, so that nothing downstream recurses without bound.
"""

import math
import re

import yaml

from .errors import Diagnostic

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"

# YAML 1.2.2 section 10.3.2 (core schema) regular expressions.
_CORE = [
    (NULL, r"^(?:~|null|Null|NULL|)$", list("~nN") + [""]),
    (BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (FLOAT, r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?(?:\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN)$", list("-+.0123456789")),
]


# Deepest node nesting the composer accepts: blocks may nest 32 deep (ops.MAX_BLOCK_DEPTH), each
# level being a list, an operation mapping and an argument mapping.
MAX_DEPTH = 104

INT64 = (-2 ** 63, 2 ** 63 - 1)


class Refused(yaml.MarkedYAMLError):
    """Something the scenario language does not allow, found while composing."""

    def __init__(self, mark, problem):
        super().__init__(problem=problem, problem_mark=mark)


def _shown_tag(tag):
    core = "tag:yaml.org,2002:"
    return "!!" + tag[len(core):] if tag.startswith(core) else tag


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema implicit resolvers (and no merge key `<<`), no
    anchors, aliases or tags, and bounded nesting."""

    yaml_implicit_resolvers = {}

    def fetch_flow_collection_start(self, TokenClass):
        # The scanner looks ahead over every open flow collection on a line (its simple-key
        # bookkeeping is quadratic in their number): stop it before the composer would.
        if self.flow_level >= MAX_DEPTH:
            raise Refused(self.get_mark(), "nested more than %d levels deep" % MAX_DEPTH)
        super().fetch_flow_collection_start(TokenClass)

    def compose_document(self):
        self._depth = 0
        return super().compose_document()

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise Refused(event.start_mark, "YAML aliases (*%s) are not allowed in a scenario"
                          % event.anchor)
        if event.anchor is not None:
            raise Refused(event.start_mark, "YAML anchors (&%s) are not allowed in a scenario"
                          % event.anchor)
        if getattr(event, "tag", None) is not None:
            raise Refused(event.start_mark, "YAML tags (%s) are not allowed in a scenario"
                          % _shown_tag(event.tag))
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH and not isinstance(event, yaml.ScalarEvent):
                raise Refused(event.start_mark, "nested more than %d levels deep" % MAX_DEPTH)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


for _tag, _regexp, _first in _CORE:
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def _int(text):
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)   # decimal, leading zeros allowed by the core schema ("010" == 10)


def _float(text):
    low = text.lower()
    if low.endswith(".inf"):
        return -math.inf if low.startswith("-") else math.inf
    if low == ".nan":
        return math.nan
    return float(text)


class Marks:
    """Source positions of a parsed document, keyed by data path."""

    def __init__(self):
        self.value = {}   # path -> (line, col) of the value node (1-based)
        self.key = {}     # path -> (line, col) of the key node, for mapping values

    def at(self, path, prefer_key=False):
        """Position for a data path; falls back to the nearest enclosing node."""
        path = tuple(path)
        if prefer_key and path in self.key:
            return self.key[path]
        while path:
            if path in self.value:
                return self.value[path]
            path = path[:-1]
        return self.value.get((), (1, 1))


def _pos(mark):
    return (mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, loader, file):
        self.loader = loader
        self.file = file
        self.marks = Marks()
        self.errors = []
        self._active = set()   # node ids being built, to refuse recursive aliases

    def error(self, node_or_pos, path, message):
        pos = _pos(node_or_pos.start_mark) if hasattr(node_or_pos, "start_mark") else node_or_pos
        self.errors.append(Diagnostic(self.file, pos[0], pos[1], path, message))

    def build(self, node, path):
        self.marks.value[path] = _pos(node.start_mark)
        if id(node) in self._active:
            self.error(node, path, "recursive YAML alias")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                if node.tag != SEQ:
                    self.error(node, path, "unsupported YAML tag %s" % node.tag)
                return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
            return self._scalar(node, path)
        finally:
            self._active.discard(id(node))

    def _mapping(self, node, path):
        if node.tag != MAP:
            self.error(node, path, "unsupported YAML tag %s" % node.tag)
        result = {}
        first = {}
        for key_node, value_node in node.value:
            key = self._scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                shown = "a mapping or list" if key is None and not isinstance(
                    key_node, yaml.ScalarNode) else _show_scalar(key)
                self.error(key_node, path, "keys must be strings, got %s" % shown)
                continue
            if key in first:
                # repr: a key may hold a line separator (U+2028), which a message must not
                self.error(key_node, path, "duplicate key %s (first at line %d)"
                           % (repr(key), first[key]))
                continue
            first[key] = key_node.start_mark.line + 1
            self.marks.key[path + (key,)] = _pos(key_node.start_mark)
            result[key] = self.build(value_node, path + (key,))
        return result

    def _scalar(self, node, path):
        tag = node.tag
        text = node.value
        if tag == STR:
            return text
        if tag == NULL:
            return None
        if tag == BOOL:
            return text.lower() == "true"
        try:
            if tag == INT:
                value = _int(text)
                if not INT64[0] <= value <= INT64[1]:
                    self.error(node, path, "integer %s is out of range (64 bits)"
                               % (text if len(text) <= 24 else text[:21] + "..."))
                    return 0
                return value
            if tag == FLOAT:
                value = _float(text)
                if not math.isfinite(value):
                    word = "nan" if math.isnan(value) else ("-inf" if value < 0 else "inf")
                    self.error(node, path, "'%s' is not allowed: write the string \"%s\""
                               % (text, word))
                return value
        except ValueError:
            self.error(node, path, "bad %s scalar '%s'" % (tag.rsplit(":", 1)[-1], text))
            return None
        self.error(node, path, "unsupported YAML tag %s" % tag)
        return None


def _show_scalar(v):
    if v is None:
        return "null"
    if v is True or v is False:
        return "true" if v else "false"
    return repr(v)


def parse(text, file):
    """Parse one YAML document.  Returns (data, marks, diagnostics)."""
    try:
        loader = Yaml12Loader(text)
    except yaml.reader.ReaderError as exc:      # the reader checks the characters up front
        index = exc.position if isinstance(exc.position, int) else 0
        before = text[:index] if isinstance(text, str) else ""
        line = before.count("\n") + 1
        col = index - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
        return None, Marks(), [Diagnostic(file, line, col, (), "character U+%04X is not allowed "
                                          "in a scenario" % char)]
    except yaml.YAMLError as exc:
        return None, Marks(), [Diagnostic(file, 1, 1, (), "YAML error: %s" % _one_line(exc))]
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = _pos(mark) if mark else (1, 1)
        # PyYAML splits its message into context ("while parsing a flow sequence", where it
        # started) and problem ("expected ',' or ']'", where it failed); the position is the
        # problem's, and the context's line is worth keeping for unclosed brackets.
        what = exc.problem or "syntax error"
        if isinstance(exc, Refused):
            return None, Marks(), [Diagnostic(file, line, col, (), what)]
        if exc.context and exc.context_mark and exc.context_mark is not mark:
            what = "%s (line %d), %s" % (exc.context, exc.context_mark.line + 1, what)
        elif exc.context:
            what = "%s, %s" % (exc.context, what)
        return None, Marks(), [Diagnostic(file, line, col, (), "YAML syntax error: "
                                          + _one_line(what))]
    except yaml.YAMLError as exc:
        return None, Marks(), [Diagnostic(file, 1, 1, (), "YAML error: %s" % _one_line(exc))]
    except (ValueError, OverflowError) as exc:
        # PyYAML's scanner lets a few of these out: "\U00110000" reaches chr().
        line, col = _pos(loader.get_mark())
        what = ("an escape beyond U+10FFFF" if "chr()" in str(exc) else _one_line(exc))
        return None, Marks(), [Diagnostic(file, line, col, (), "YAML syntax error: " + what)]
    finally:
        loader.dispose()
    if node is None:
        return None, Marks(), [Diagnostic(file, 1, 1, (), "empty file")]
    builder = _Builder(loader, file)
    data = builder.build(node, ())
    return data, builder.marks, builder.errors


def _one_line(text):
    return " ".join(str(text).split())
