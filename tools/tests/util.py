"""Shared helpers: fixture locations and running the CLI as the Makefile does."""

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
TOOLS = TESTS.parent
REPO = TOOLS.parent
BAD = TESTS / "bad"
GOOD = TESTS / "good"
# The interpreter that has python3-yaml and python3-jsonschema (Debian packages).
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


def cli_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TOOLS), str(REPO / "oracle")])
    return env


def run_cli(*args, cwd=REPO):
    """Run `python3 -m aiospec_spec ARGS` from the repository root; CompletedProcess."""
    return subprocess.run([PYTHON, "-m", "aiospec_spec", *map(str, args)], cwd=str(cwd),
                          env=cli_env(), capture_output=True, text=True, timeout=300)


def expectation(path):
    """The regex of a bad fixture's first line `# expect: <regex>`."""
    first = Path(path).read_text(encoding="utf-8").splitlines()[0]
    prefix = "# expect: "
    if not first.startswith(prefix):
        raise AssertionError("%s: first line must be '# expect: <regex>'" % path)
    return first[len(prefix):]
