"""Load scenarios: YAML 1.2 -> schema -> semantic checks -> canonical dict.

This is the only place in the project that reads scenario YAML.  ``load(path)`` returns the
canonical dict or raises LoadError whose diagnostics are one line each.  ``load_tree`` loads many
files and adds the cross-file check (ids are unique).
"""

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
    """Load one file; raises LoadError."""
    try:
        return _load_scenario(path, catalog)
    except RecursionError:
        # PyYAML and the schema walk recurse per nesting level; a pathological file must still
        # end in a one-line error that names it.
        raise LoadError([Diagnostic(paths.display(path), 1, 1, (),
                                    "nested too deeply to be a scenario")]) from None


def _load_scenario(path, catalog):
    shown = paths.display(path)
    catalog = catalog or load_catalog()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError([Diagnostic(shown, 1, 1, (), "cannot read: %s" % exc)])
    data, marks, diags = parse(text, shown)
    if data is None and diags:         # syntax error or empty file: nothing to validate
        raise LoadError(diags)
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
    if diags:
        raise LoadError(diags)
    return Scenario(Path(path), shown, canonical, scenario_sha256(canonical), marks.at(("id",)))


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
        elif t.is_dir():
            files.extend(sorted(t.rglob("*.yaml")))
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
