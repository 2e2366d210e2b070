"""aiospec_spec: the project's only reader of scenario YAML.

load(path) -> canonical dict (raises LoadError, whose diagnostics are one line each);
load_tree(paths) for many files with the cross-file checks; the CLI is `python3 -m aiospec_spec`.
"""

from .errors import Diagnostic, LoadError
from .loader import load, load_scenario, load_tree

__all__ = ["Diagnostic", "LoadError", "load", "load_scenario", "load_tree"]
