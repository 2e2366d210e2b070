"""Load scenarios: YAML 1.2 -> schema -> semantic checks -> canonical dict.

This is the only place in the project that reads scenario YAML.  ``load(path)`` returns the
canonical dict or raises LoadError whose diagnostics are one line each, whatever the input: an
unexpected exception becomes a one-line diagnostic naming the file (the C++ tools call ``load``
through the embedded interpreter and show that line).  ``load_text`` does the same for text in
memory (the loader fuzzer).  ``load_tree`` loads many files and adds the cross-file check (ids are
unique).

The limits of spec/README.md "Limits" are checked in the cheapest order: the size before reading,
control characters in the raw text before parsing, anchors/aliases/tags and depth while composing
(yaml12), strings and block depth on the data, then the schema and the semantic checks.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

# One definition of the hash for the whole project: the oracle writes it into every trace.
from aiospec_oracle.trace import scenario_sha256

from aiospec_oracle import ops

from . import paths
from .catalog import load_catalog
from .checks import Collector, semantic_errors
from .errors import Diagnostic, LoadError
from .normalise import normalise
from .validate import schema_errors
from .yaml12 import parse


@dataclass
class Scenario:
    path: Path                 # as given
    shown: str                 # as displayed in messages
    canonical: dict
    sha256: str
    id_pos: tuple              # (line, col) of the id value, for cross-file messages

    @property
    def id(self):
        return self.canonical["id"]

    @property
    def area(self):
        return Path(self.path).resolve().parent.name


def load_scenario(path, catalog=None) -> Scenario:
    """Load one file; raises LoadError (and nothing else)."""
    shown = _shown(path)
    return _guarded(shown, lambda: _load_file(path, shown, catalog))


def load_text(text, shown_name, catalog=None, path=None) -> Scenario:
    """Load a scenario from text (str, or bytes as read from a file), shown as ``shown_name``;
    the same checks as load_scenario.  ``path``, when given, is where the file would live (the
    id-prefix rule of spec/ depends on it).  Raises LoadError (and nothing else)."""
    return _guarded(shown_name, lambda: _load_source(text, shown_name, catalog, path))


def _shown(path):
    try:
        return paths.display(path)
    except Exception:               # e.g. a path the file system refuses to resolve
        return str(path)


def _guarded(shown, work):
    try:
        return work()
    except LoadError:
        raise
    except (RecursionError, MemoryError):
        # A pathological file must still end in a one-line error that names it.
        raise LoadError([Diagnostic(shown, 1, 1, (), "nested too deeply to be a scenario")]) \
            from None
    except Exception as exc:        # a loader bug: still one line naming the file
        text = " ".join(("%s: %s" % (type(exc).__name__, exc)).split())
        raise LoadError([Diagnostic(shown, 1, 1, (), "internal loader error: %s" % text[:300])]) \
            from None


def _load_file(path, shown, catalog):
    try:
        size = Path(path).stat().st_size
        if size > ops.MAX_FILE_BYTES:
            raise LoadError([_too_big(shown, size)])
        with open(path, "rb") as f:
            raw = f.read(ops.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LoadError([Diagnostic(shown, 1, 1, (), "cannot read: %s" % (
            exc.strerror or exc))]) from None
    return _load_source(raw, shown, catalog, path)


def _too_big(shown, size):
    return Diagnostic(shown, 1, 1, (), "file is %d bytes, more than the %d a scenario may have"
                      % (size, ops.MAX_FILE_BYTES))


# Control characters (Unicode category Cc) other than TAB, LF, CR; and surrogates, which only a
# str built in memory can hold (UTF-8 decoding refuses them).
_RAW_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# In string values: every control character (free text, `description`, may span lines).
_VALUE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TEXT_BAD = _RAW_BAD
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _position(text, index):
    """(line, col), 1-based, of text[index], counting lines as PyYAML does."""
    line, start = 1, 0
    for m in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, m.end()
    return line, index - start + 1


def _char_name(ch):
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return "a lone surrogate U+%04X" % code
    names = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL"}
    return "control character U+%04X%s" % (code, " (%s)" % names[code] if code in names else "")


def _load_source(source, shown, catalog, path):
    if isinstance(source, bytes):
        if len(source) > ops.MAX_FILE_BYTES:
            raise LoadError([_too_big(shown, len(source))])
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            good = source[:exc.start].decode("utf-8")
            line, col = _position(good, len(good))
            raise LoadError([Diagnostic(shown, line, col, (), "not UTF-8 text (byte 0x%02x)"
                                        % source[exc.start])]) from None
    else:
        text = source
        if len(text) > ops.MAX_FILE_BYTES or \
                len(text.encode("utf-8", "surrogatepass")) > ops.MAX_FILE_BYTES:
            raise LoadError([_too_big(shown, len(text.encode("utf-8", "surrogatepass")))])
    if text.startswith("\ufeff"):
        text = text[1:]               # a byte order mark is not content
    bad = _RAW_BAD.search(text)
    if bad:
        line, col = _position(text, bad.start())
        raise LoadError([Diagnostic(shown, line, col, (), "%s is not allowed in a scenario"
                                    % _char_name(bad.group()))])
    return _load_parsed(text, shown, catalog or load_catalog(), path)


# Arguments whose list value holds no operations directly (see _walk).
_NOT_BLOCKS = frozenset(arg for op in ops.OPS.values() for arg, kind in op.args.items()
                        if kind in (ops.AWAITABLES, ops.HANDLERS, ops.FUTURES)) | {"match"}


def _walk(data, marks, shown):
    """Strings without control characters or surrogates, blocks at most MAX_BLOCK_DEPTH deep.

    Iterative: the data may be as deep as yaml12.MAX_DEPTH allows."""
    diags = []
    pending = [((), data, 0)]
    while pending:
        path, value, depth = pending.pop()
        if isinstance(value, str):
            allowed = _VALUE_BAD if path[:1] != ("description",) else _TEXT_BAD
            bad = allowed.search(value)
            if bad:
                line, col = marks.at(path)
                diags.append(Diagnostic(shown, line, col, path, "%s is not allowed in a string"
                                        % _char_name(bad.group())))
        elif isinstance(value, list):
            if path[-1:] and path[-1] in _NOT_BLOCKS:
                # gather.of, try.except and a handler's match are lists, not blocks: the blocks
                # inside them (a coroutine, a handler's do) count one level each.
                pending.extend((path + (i,), v, depth) for i, v in enumerate(value))
                continue
            if depth + 1 > ops.MAX_BLOCK_DEPTH and path[:1] == ("program",):
                line, col = marks.at(path)
                diags.append(Diagnostic(shown, line, col, path, "blocks nested more than %d "
                                        "deep" % ops.MAX_BLOCK_DEPTH))
                continue
            pending.extend((path + (i,), v, depth + 1) for i, v in enumerate(value))
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str) and _VALUE_BAD.search(k):
                    line, col = marks.at(path + (k,), prefer_key=True)
                    diags.append(Diagnostic(shown, line, col, path, "%s is not allowed in a key"
                                            % _char_name(_VALUE_BAD.search(k).group())))
                    continue
                pending.append((path + (k,), v, depth))
    return diags


def _id_prefix_diags(canonical, marks, shown, path):
    """Inside spec/<area>/ an id has one of the project's prefixes (spec/README.md)."""
    sid = canonical.get("id")
    if path is None or not isinstance(sid, str) or "-" not in sid:
        return []
    try:
        inside = Path(path).resolve().parent.parent == paths.SPEC.resolve()
    except (OSError, RuntimeError):
        inside = False
    prefix = sid.split("-", 1)[0]
    if not inside or prefix in ops.PROJECT_PREFIXES:
        return []
    line, col = marks.at(("id",))
    return [Diagnostic(shown, line, col, ("id",), "id prefix '%s' is not one of the project's "
                       "(%s): scenarios of your own, with your own prefix, live outside spec/"
                       % (prefix, ", ".join(ops.PROJECT_PREFIXES)))]


def _load_parsed(text, shown, catalog, path):
    data, marks, diags = parse(text, shown)
    if data is None and diags:         # syntax error or empty file: nothing to validate
        raise LoadError(diags)
    walked = _walk(data, marks, shown)     # before the schema, which recurses per level
    if walked:
        raise LoadError(diags + walked)
    # Problems found while building the data (duplicate keys, `.inf`) left a usable value in
    # place, so schema validation still runs and the author sees everything at once; schema
    # errors on a node the YAML layer already complained about are dropped as echoes.
    yaml_paths = {d.path for d in diags}
    diags = diags + [d for d in schema_errors(data, marks, shown, paths.SCENARIO_SCHEMA)
                     if not any(d.path[:len(p)] == p and p for p in yaml_paths)]
    if diags:
        raise LoadError(diags)
    collector = Collector()
    canonical = normalise(data, collector)
    diags = semantic_errors(data, canonical, collector, catalog, shown, marks)
    diags += _id_prefix_diags(canonical, marks, shown, path)
    if diags:
        raise LoadError(diags)
    return Scenario(Path(path if path is not None else shown), shown, canonical,
                    scenario_sha256(canonical), marks.at(("id",)))


def load(path, catalog=None) -> dict:
    """The canonical dict of one scenario file; raises LoadError."""
    return load_scenario(path, catalog).canonical


def is_spec_root(directory):
    d = Path(directory)
    return (d / "clauses.yaml").exists() or d.resolve() == paths.SPEC.resolve()


def discover(targets) -> (List[Path], List[Diagnostic]):
    """Scenario files under the given files/directories, sorted.

    In the spec root only the area directories hold scenarios (clauses.yaml and schema/ are
    not scenarios); a YAML file elsewhere in it is reported rather than silently skipped.
    """
    files, diags = [], []
    for target in targets:
        t = Path(target)
        if t.is_file():
            files.append(t)
        elif t.is_dir() and is_spec_root(t):
            before = len(files)
            for f in sorted(t.rglob("*.y*ml")):
                rel = f.relative_to(t)
                if len(rel.parts) == 1:
                    continue                    # clauses.yaml and friends
                if rel.parts[0] in ops.AREAS and f.suffix == ".yaml":
                    files.append(f)
                elif rel.parts[0] != "schema":
                    why = ("use the .yaml extension" if f.suffix == ".yml" else
                           "not in an area directory (%s)" % ", ".join(ops.AREAS))
                    diags.append(Diagnostic(paths.display(f), 1, 1, (), why))
            if len(files) == before:
                diags.append(Diagnostic(paths.display(t), 1, 1, (), "no scenario here (no "
                                        "*.yaml file in an area directory)"))
        elif t.is_dir():
            found = sorted(t.rglob("*.yaml"))
            if not found:
                diags.append(Diagnostic(paths.display(t), 1, 1, (),
                                        "no scenario here (no *.yaml file in this directory)"))
            files.extend(found)
        else:
            diags.append(Diagnostic(paths.display(t), 1, 1, (), "no such file or directory"))
    seen, unique = set(), []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return sorted(unique, key=lambda f: paths.repo_relative(f)), diags


@dataclass
class Tree:
    scenarios: List[Scenario] = field(default_factory=list)
    diagnostics: List[Diagnostic] = field(default_factory=list)
    by_id: Dict[str, Scenario] = field(default_factory=dict)


def load_tree(targets, catalog=None) -> Tree:
    """Load every scenario under targets; collects diagnostics instead of raising."""
    catalog = catalog or load_catalog()
    tree = Tree()
    files, tree.diagnostics = discover(targets)
    for f in files:
        try:
            s = load_scenario(f, catalog)
        except LoadError as exc:
            tree.diagnostics.extend(exc.diagnostics)
            continue
        other: Optional[Scenario] = tree.by_id.get(s.id)
        if other is not None:
            tree.diagnostics.append(Diagnostic(
                s.shown, s.id_pos[0], s.id_pos[1], ("id",),
                "duplicate id '%s': also used by %s:%d:%d" % (s.id, other.shown, *other.id_pos)))
            continue
        tree.by_id[s.id] = s
        tree.scenarios.append(s)
    return tree
