"""python3 -m aiospec_spec {lint,coverage,compile,next-id,show,bless,fresh,loader-fuzz,expectations}  (PYTHONPATH=tools:oracle).

Exit codes: 0 clean, 2 any error in the scenarios/traces, 1 usage or environment problems
(bless/fresh: an oracle run failed or refused), 3 bless: an oracle could not start or run (a
Pyodide that fails to start: its one line, nothing written for that version), 77 fresh skipped
(no interpreter of that version). bless without Node or a Pyodide package says which versions it
skipped and why, and blesses the native ones (exit 0).
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

from aiospec_oracle import ops

from . import paths
from .catalog import load_catalog, no_oracle
from .errors import Diagnostic, LoadError
from .loader import discover, is_spec_root, load_scenario, load_tree
from aiospec_oracle.bundle import applies

from .bundle import EXIT_ERRORS, print_diags as _print_diags, build_bundle, write_bundle
from .traces import check_traces, trace_dirs

def _targets(args):
    return args.paths or [str(paths.SPEC)]


# ---------------------------------------------------------------------------------------- lint

def cmd_lint(args):
    if args.next_id:                       # older spelling of `next-id AREA`, kept as an alias
        return cmd_next_id(argparse.Namespace(area=args.next_id))
    catalog = load_catalog()
    targets = _targets(args)
    tree = load_tree(targets, catalog)
    diags = list(catalog.diagnostics) + list(tree.diagnostics)
    # Orphans can only be told apart when every scenario was loaded, i.e. the spec root.
    whole = any(Path(t).is_dir() and is_spec_root(t) for t in targets)
    trace_diags, have = check_traces(tree, whole_tree=whole)
    diags += trace_diags + _level_diags(tree, catalog)
    if whole:
        diags += _expectation_diags()
    _print_diags(diags, sys.stdout)
    if whole:
        missing = {}
        for d in trace_dirs():
            for s in tree.scenarios:
                ver = tuple(int(x) for x in d.name.split("-")[1].split("."))
                if applies(s.canonical, ver) and d.name not in have.get(s.id, ()) \
                        and "%d.%d" % ver not in no_oracle(catalog.oracles, s.canonical.get("features", ())):
                    missing.setdefault(d.name, []).append(s.id)
        for name, ids in sorted(missing.items(), key=lambda kv: int(kv[0].rsplit(".", 1)[1])):
            print("note: %d scenario(s) have no expected trace in %s yet (make bless): %s"
                  % (len(ids), name, " ".join(sorted(ids)[:8]) + (" ..." if len(ids) > 8 else "")))
    referenced = {c for s in tree.scenarios for c in s.canonical["clauses"]}
    errors = len(set(diags))
    print("lint: %d scenarios, %d clauses (%d referenced), %d errors"
          % (len(tree.scenarios), len(catalog.clauses), len(referenced & set(catalog.clauses)),
             errors))
    return EXIT_ERRORS if errors else 0


def _expectation_diags():
    """The loops' expectation files (conformance/expectations/*.yaml) are read as strictly as scenarios."""
    from .expectations import load as load_expectations
    diags = []
    for path in sorted((paths.REPO / "conformance" / "expectations").glob("*.yaml")):
        try:
            load_expectations(paths.display(path))
        except LoadError as exc:
            diags += exc.diagnostics
    return diags


def _level_diags(tree, catalog):
    """`level: must` claims the documentation promises the outcome: some clause must say so."""
    diags = []
    for s in tree.scenarios:
        clauses = [catalog.clauses.get(c, {}) for c in s.canonical["clauses"]]
        if s.canonical["level"] == "must" and not any(c.get("documented") for c in clauses):
            line, col = s.id_pos
            diags.append(Diagnostic(s.shown, line, col, ("level",),
                                    "level 'must' but none of its clauses is documented "
                                    "(use level 'cpython', or cite a documented clause)"))
    return diags


# ------------------------------------------------------------------------------------ coverage

def cmd_coverage(args):
    """Which clauses the scenarios cover, per clause area, and the scenarios per spec area."""
    catalog = load_catalog()
    tree = load_tree(_targets(args), catalog)
    if tree.diagnostics:
        _print_diags(tree.diagnostics, sys.stderr)
        return EXIT_ERRORS
    by_clause = {}
    for s in tree.scenarios:
        for c in s.canonical["clauses"]:
            by_clause.setdefault(c, []).append(s.id)
    areas = {}
    for cid, entry in catalog.clauses.items():
        areas.setdefault(entry.get("area", "?"), []).append(cid)
    print("%-13s %8s %8s  %s" % ("clause area", "clauses", "covered", "not covered"))
    for area, ids in areas.items():
        missing = [c for c in ids if c not in by_clause]
        print("%-13s %8d %8d  %s" % (area, len(ids), len(ids) - len(missing), " ".join(missing)))
    print()
    counts = {}
    for s in tree.scenarios:
        per = counts.setdefault(s.area, {"must": 0, "cpython": 0})
        per[s.canonical["level"]] += 1
    print("%-13s %9s %5s %8s" % ("spec area", "scenarios", "must", "cpython"))
    for area, per in sorted(counts.items()):
        print("%-13s %9d %5d %8d" % (area, per["must"] + per["cpython"], per["must"], per["cpython"]))
    print("%-13s %9d" % ("total", len(tree.scenarios)))
    if args.verbose:
        print()
        for cid in catalog.clauses:
            print("%-7s %s" % (cid, " ".join(sorted(by_clause.get(cid, []))) or "-"))
    return 0


# ------------------------------------------------------------------------------------- compile

def cmd_compile(args):
    bundle, diags = build_bundle(_targets(args))
    if diags:
        _print_diags(diags, sys.stderr)
        print("compile: %d errors, bundle not written" % len(set(diags)), file=sys.stderr)
        return EXIT_ERRORS
    write_bundle(bundle, args.out)
    print("compile: %d scenarios -> %s" % (len(bundle["scenarios"]), paths.display(args.out)),
          file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------- next-id

_ID_LINE = re.compile(r"^id:\s*['\"]?([a-z]+-[0-9]{4})", re.M)


def next_id(area, spec_dir=None, expected=None):
    prefix = ops.AREAS.get(area, area)
    if prefix not in ops.AREAS.values():
        raise ValueError("unknown area '%s' (one of: %s)" % (area, ", ".join(ops.AREAS)))
    used = set()
    # Text scan, not load(): a half-written or broken scenario still owns its id.
    files, _ = discover([spec_dir or paths.SPEC])
    for f in files:
        try:
            used.update(_ID_LINE.findall(f.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            pass
    # Traces keep ids of scenarios that were deleted, until lint makes someone remove them.
    for d in trace_dirs(expected):
        used.update(p.stem for p in d.glob("*.json"))
    numbers = [int(i.split("-")[1]) for i in used if i.split("-")[0] == prefix]
    return "%s-%04d" % (prefix, max(numbers, default=0) + 1)


def cmd_next_id(args):
    try:
        print(next_id(args.area))
    except ValueError as exc:
        print("next-id: %s" % exc, file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------------------- show

def cmd_show(args):
    try:
        s = load_scenario(args.file)
    except LoadError as exc:
        _print_diags(exc.diagnostics, sys.stderr)
        return EXIT_ERRORS
    print(json.dumps(s.canonical, indent=2, ensure_ascii=True))
    return 0


def _cmd_bless(args):
    from .bless import cmd_bless    # imported lazily: subprocess/threading are not needed to lint
    return cmd_bless(args)


def _cmd_fresh(args):
    from .bless import cmd_fresh
    return cmd_fresh(args)


# --------------------------------------------------------------------------------------- parser

def _cmd_loader_fuzz(args):
    from .loader_fuzz import cmd_loader_fuzz
    return cmd_loader_fuzz(args)


def cmd_expectations(args):
    """Print the canonical JSON of an expectation file (what `aiospec report` reads)."""
    from .expectations import canonical_json
    print(canonical_json(args.file))
    return 0


def make_parser():
    p = argparse.ArgumentParser(prog="python3 -m aiospec_spec",
                                description="Load, check and compile aiospec scenarios.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lint = sub.add_parser("lint", help="check scenarios, clauses and expected traces")
    lint.add_argument("paths", nargs="*", help="files or directories (default: spec/)")
    lint.add_argument("--next-id", metavar="AREA", help="same as `next-id AREA`")
    lint.set_defaults(func=cmd_lint)

    cov = sub.add_parser("coverage", help="clauses covered per area, scenarios per area")
    cov.add_argument("paths", nargs="*", help="files or directories (default: spec/)")
    cov.add_argument("-v", "--verbose", action="store_true", help="list the scenarios of every clause")
    cov.set_defaults(func=cmd_coverage)

    comp = sub.add_parser("compile", help="write the canonical JSON bundle")
    comp.add_argument("--out", required=True, help="bundle file to write")
    comp.add_argument("paths", nargs="*", help="files or directories (default: spec/)")
    comp.set_defaults(func=cmd_compile)

    nid = sub.add_parser("next-id", help="print the next free id of an area")
    nid.add_argument("area", help="ordering, timers, lifecycle or io (or ord, tmr, lif, io)")
    nid.set_defaults(func=cmd_next_id)

    show = sub.add_parser("show", help="print the canonical JSON of one scenario")
    show.add_argument("file")
    show.set_defaults(func=cmd_show)

    bless = sub.add_parser("bless", help="regenerate conformance/expected with every CPython")
    bless.add_argument("--python", action="append", metavar="PY", default=[],
                       help="interpreter to use (repeatable); default: discover 3.8+")
    bless.add_argument("--list", action="store_true",
                       help="only print the interpreters that would be used")
    bless.add_argument("--allow-patch-change", action="store_true",
                       help="replace traces that another patch release of the version produced")
    bless.add_argument("--oracle", metavar="DIR", help=argparse.SUPPRESS)   # tests: fake oracle
    bless.set_defaults(func=_cmd_bless)
    fresh = sub.add_parser("fresh", help="check the committed traces of one CPython version "
                                         "(exit 77 when it is not installed)")
    fresh.add_argument("--version", required=True, metavar="X.Y")
    fresh.add_argument("--bundle", help="compiled bundle to use (default: compile spec/)")
    fresh.add_argument("--expected", metavar="DIR",
                       help="trace directory (default: conformance/expected/cpython-X.Y)")
    fresh.add_argument("--python", action="append", metavar="PY", default=[],
                       help="interpreter(s) to choose from; default: discover 3.8+")
    fresh.add_argument("--runtime", choices=["pyodide"],
                       help="judge with the Pyodide build of the version (the faithfulness check)")
    fresh.add_argument("--oracle", metavar="DIR", help=argparse.SUPPRESS)
    fresh.set_defaults(func=_cmd_fresh)
    exp = sub.add_parser("expectations", help="check an expectation file and print it as canonical JSON")
    exp.add_argument("file")
    exp.set_defaults(func=cmd_expectations)
    lfz = sub.add_parser("loader-fuzz", help="mutate the committed scenarios; every outcome must "
                                             "be a scenario or one-line errors")
    lfz.add_argument("--seed", type=int, default=1)
    lfz.add_argument("--count", type=int, default=2000)
    lfz.add_argument("--out", default="loader-fuzz-findings", metavar="DIR",
                     help="where offending inputs are written (default: %(default)s)")
    lfz.add_argument("--limit", type=float, default=2.0, metavar="SECONDS",
                     help="time limit per input (default: %(default)s)")
    lfz.set_defaults(func=_cmd_loader_fuzz)
    return p


def main(argv=None):
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        return 1
    except LoadError as exc:            # the catalogue, or anything else the loader refused
        _print_diags(exc.diagnostics, sys.stderr)
        return EXIT_ERRORS
    except (RecursionError, MemoryError, Exception) as exc:   # a bug: one line, no traceback
        print("aiospec_spec: internal error: %s: %s" % (type(exc).__name__,
                                                        " ".join(str(exc).split())),
              file=sys.stderr)
        return 1
