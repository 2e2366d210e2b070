"""Where things live in the repository.

Located from this file (tools/aiospec_spec/ -> repo root) rather than from the working
directory, so the loader finds clauses.yaml and the schema wherever it is run from.
"""

import os
from pathlib import Path

REPO = Path(os.environ.get("AIOSPEC_ROOT") or Path(__file__).resolve().parents[2])
SPEC = REPO / "spec"
CLAUSES = SPEC / "clauses.yaml"
FEATURES = SPEC / "features.txt"
ORACLES = SPEC / "oracles.yaml"
SCENARIO_SCHEMA = SPEC / "schema" / "scenario.schema.json"
TRACE_SCHEMA = SPEC / "schema" / "trace.schema.json"
EXPECTED = REPO / "conformance" / "expected"
ORACLE = REPO / "oracle"


def display(path):
    """A path as shown in messages: relative to the working directory when below it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def repo_relative(path):
    """A POSIX path relative to the repository root (bundle 'path' field)."""
    p = Path(path).resolve()
    try:
        return p.relative_to(REPO.resolve()).as_posix()
    except ValueError:
        return p.as_posix()
