"""The compiled bundle and the diagnostics printer, shared by cli.py and bless.py.

Kept apart from both so that neither imports the other (bless is imported lazily by cli).
"""

import json
import os
from pathlib import Path

from aiospec_oracle.bundle import BUNDLE_FORMAT

from . import paths
from .catalog import load_catalog
from .errors import Diagnostic
from .loader import load_tree

EXIT_ERRORS = 2


def print_diags(diags, stream):
    for d in sorted(set(diags), key=Diagnostic.sort_key):
        print(d, file=stream)


def build_bundle(targets):
    """(bundle dict, diagnostics)."""
    catalog = load_catalog()
    tree = load_tree(targets, catalog)
    diags = list(catalog.diagnostics) + list(tree.diagnostics)
    entries = [{"path": paths.repo_relative(s.path), "area": s.area, "sha256": s.sha256,
                "scenario": s.canonical} for s in tree.scenarios]
    entries.sort(key=lambda e: e["path"])
    return {"format": BUNDLE_FORMAT, "oracles": catalog.oracles, "scenarios": entries}, diags


def write_bundle(bundle, out):
    text = json.dumps(bundle, indent=1, sort_keys=True, ensure_ascii=True) + "\n"
    out = Path(out)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)           # readers never see a half-written bundle
