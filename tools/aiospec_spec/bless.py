"""Running the oracle under other interpreters: `bless` and `fresh`.

bless: regenerate conformance/expected/cpython-X.Y/ with every CPython 3.8+ available.  The
traces are written by the oracle (`PY -m aiospec_oracle bless --bundle B --out DIR`), which runs
every applicable scenario twice, refuses nondeterminism, writes only changed files and removes
traces of ids that no longer apply.  This module only finds interpreters, compiles the bundle
once (YAML is never read by the oracle), runs one oracle per CPython minor version in parallel,
and streams their output with a `cpython-X.Y: ` prefix so interleaved lines stay attributable.

A version no native interpreter provides is judged by the runtime spec/oracles.yaml names for
it: `pyodide` is CPython for WebAssembly under Node (oracle/pyodide/driver.mjs, a `python -c/-m`
command for the builds pinned in oracle/pyodide/package.json). Node or the Pyodide package
missing: bless says which versions it skipped and why, and blesses the native ones.

fresh: the CI side of the same thing, for one version (`fresh --version 3.11`): run
`PY -m aiospec_oracle check` against the committed traces; exit 77 (ctest's skip code) when this
machine has no interpreter of that version, so a missing CPython is a skip, not a failure.
`fresh --version 3.12 --runtime pyodide` is the faithfulness check of the WebAssembly oracle: the
Pyodide build of a version that also has a native interpreter, against the native traces, where
only the differences patches.py explains (another patch release) are allowed.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import paths
from .bundle import EXIT_ERRORS, build_bundle, write_bundle
from .bundle import print_diags as _print_diags
from .catalog import load_catalog

MIN_VERSION = (3, 8)
_PROBE = "import sys; print(sys.implementation.name, *sys.version_info[:3])"
# Variables that would switch the oracle's loops into another mode (debug mode changes the
# scheduling checks, DBG-01) or change warnings; traces must not depend on the caller's shell.
_SCRUB = ("PYTHONASYNCIODEBUG", "PYTHONDEVMODE", "PYTHONWARNINGS", "PYTHONSTARTUP",
          "PYTHONHOME", "PYTHONPATH")


def probe(python):
    """(major, minor, micro) of a CPython interpreter, or None if it is not one / not runnable."""
    try:
        out = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, timeout=20,
                             env=_child_env(None))
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.stdout.split()
    if out.returncode != 0 or len(parts) != 4 or parts[0] != "cpython":
        return None
    return tuple(int(p) for p in parts[1:])


def candidates():
    """Interpreters to consider: /usr/bin/python3, python3.X on PATH, pyenv versions."""
    found = ["/usr/bin/python3"]
    for minor in range(MIN_VERSION[1], 30):
        p = shutil.which("python3.%d" % minor)
        # pyenv shims resolve through pyenv's own version selection, which may differ from
        # shell to shell; the real interpreters are found under ~/.pyenv/versions below.
        if p and "/shims/" not in p:
            found.append(p)
    found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin/python")))
    return found


def discover(explicit=()):
    """{(3, minor): (path, (3, minor, micro))}, newest patch per minor version.

    Explicit interpreters (--python) replace discovery; one that is not CPython 3.8+ is an
    error rather than silently skipped, since the user asked for it."""
    chosen, errors, seen = {}, [], set()
    for python in (explicit or candidates()):
        real = os.path.realpath(shutil.which(python) or python)
        if real in seen:
            continue
        seen.add(real)
        version = probe(python)
        if version is None or version[:2] < MIN_VERSION:
            if explicit:
                errors.append("%s: not a runnable CPython %d.%d+" % ((python,) + MIN_VERSION))
            continue
        key = version[:2]
        if key not in chosen or version > chosen[key][1]:
            chosen[key] = (python, version)
    return dict(sorted(chosen.items())), errors


PYODIDE_DRIVER = paths.REPO / "oracle" / "pyodide" / "driver.mjs"


def pyodide(minor):
    """(command, (3, minor, micro)) running the pinned Pyodide build of CPython 3.minor, or
    (None, why not)."""
    node = shutil.which("node")
    if node is None:
        return None, "no node on PATH (bootstrap/install-deps installs nodejs)"
    package = PYODIDE_DRIVER.parent / "node_modules" / ("pyodide-3.%d" % minor)
    try:
        info = json.loads((package / "pyodide-lock.json").read_text(encoding="utf-8"))["info"]
    except (OSError, ValueError, KeyError):
        return None, "no Pyodide for 3.%d in %s (bootstrap/install-deps runs npm ci there)" % (
            minor, paths.display(package.parent))
    micro = info["python"].split(".")[2]
    digits = len(micro) - len(micro.lstrip("0123456789"))
    version = (3, minor, int(micro[:digits]))
    return [node, str(PYODIDE_DRIVER), "3.%d" % minor], version


def by_runtime(native):
    """The versions spec/oracles.yaml gives another runtime and no native interpreter provides:
    ({(3, minor): (command, version)}, ["cpython-3.X: skipped: why"])."""
    chosen, skipped = {}, []
    for text, runtime in sorted(load_catalog().oracles["versions"].items()):
        key = tuple(int(x) for x in text.split("."))
        if key in native or runtime != "pyodide":
            continue
        command, version = pyodide(key[1])
        if command is None:
            skipped.append("cpython-%d.%d: skipped: %s" % (key + (version,)))
        else:
            chosen[key] = (command, version)
    return chosen, skipped


def _child_env(oracle_dir):
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    if oracle_dir is not None:
        env["PYTHONPATH"] = str(oracle_dir)
    env["PYTHONUNBUFFERED"] = "1"       # stream lines as the oracle prints them
    return env


class _Printer:
    def __init__(self, stream):
        self.stream = stream
        self.lock = threading.Lock()

    def line(self, text):
        with self.lock:
            print(text, file=self.stream, flush=True)


def _stream(cmd, oracle_dir, printer, prefix):
    """Run cmd from the repo root, printing each output line with prefix; its exit code."""
    try:
        proc = subprocess.Popen(cmd, cwd=str(paths.REPO), env=_child_env(oracle_dir),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace")
    except OSError as exc:
        printer.line("%scannot run %s: %s" % (prefix, cmd[0], exc))
        return 127
    for raw in proc.stdout:
        printer.line(prefix + raw.rstrip("\n"))
    return proc.wait()


def _run_one(command, version, bundle, out_dir, oracle_dir, printer, results, extra=()):
    tag = "cpython-%d.%d" % version[:2]
    cmd = command + ["-m", "aiospec_oracle", "bless", "--bundle", str(bundle), "--out", out_dir,
                     *extra]
    start = time.monotonic()
    printer.line("%s: %s (%d.%d.%d)" % (tag, " ".join(command), *version))
    code = _stream(cmd, oracle_dir, printer, tag + ": ")
    elapsed = time.monotonic() - start
    results[tag] = (code, elapsed)
    printer.line("%s: %s in %.1fs" % (tag, "ok" if code == 0 else "FAILED (exit %d)" % code,
                                       elapsed))


def cmd_bless(args, stream=None):
    stream = stream or sys.stdout
    oracle_dir = Path(getattr(args, "oracle", None) or paths.ORACLE)
    if not (oracle_dir / "aiospec_oracle").is_dir():
        print("bless: no aiospec_oracle package in %s" % paths.display(oracle_dir),
              file=sys.stderr)
        return 1
    interpreters, errors = discover(args.python)
    for e in errors:
        print("bless: " + e, file=sys.stderr)
    if errors:
        return 1
    if not interpreters:
        print("bless: no CPython %d.%d+ interpreter found" % MIN_VERSION, file=sys.stderr)
        return 1
    commands = {key: ([python], version) for key, (python, version) in interpreters.items()}
    skipped = []
    if not args.python:
        others, skipped = by_runtime(interpreters)
        commands.update(others)
        commands = dict(sorted(commands.items()))
    for line in skipped:
        print("bless: " + line, file=stream)
    if getattr(args, "list", False):
        for command, version in commands.values():
            print("cpython-%d.%d  %d.%d.%d  %s" % (version[:2] + version + (" ".join(command),)),
                  file=stream)
        return 0
    bundle, diags = build_bundle([str(paths.SPEC)])
    if diags:
        _print_diags(diags, sys.stderr)
        print("bless: the scenarios do not load (see above); nothing blessed", file=sys.stderr)
        return EXIT_ERRORS
    printer = _Printer(stream)
    printer.line("bless: %d scenarios, interpreters: %s" % (
        len(bundle["scenarios"]),
        ", ".join("%d.%d.%d" % v for _, v in commands.values())))
    results = {}
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aiospec-bless-") as tmp:
        bundle_path = Path(tmp) / "bundle.json"
        write_bundle(bundle, bundle_path)
        threads = []
        extra = ["--allow-patch-change"] if getattr(args, "allow_patch_change", False) else []
        for (major, minor), (command, version) in commands.items():
            out_dir = "conformance/expected/cpython-%d.%d" % (major, minor)
            t = threading.Thread(target=_run_one, args=(command, version, bundle_path, out_dir,
                                                        oracle_dir, printer, results, extra))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
    failed = sorted(tag for tag, (code, _) in results.items() if code != 0)
    total = time.monotonic() - start
    for tag in sorted(results, key=lambda t: tuple(int(x) for x in t.split("-")[1].split("."))):
        code, elapsed = results[tag]
        printer.line("  %-14s %-16s %6.1fs" % (tag, "ok" if code == 0 else "FAILED (%d)" % code,
                                               elapsed))
    printer.line("bless: %d interpreters, %d failed%s, total %.1fs" % (
        len(results), len(failed), (" (" + ", ".join(failed) + ")") if failed else "", total))
    # An oracle that could not start or run (a Pyodide that fails to start, exit 3) is exit 3;
    # any other refusal exit 1. The traces of the other versions are written all the same.
    codes = {results[tag][0] for tag in failed}
    return 0 if not failed else 3 if 3 in codes else 1


EXIT_SKIP = 77     # ctest SKIP_RETURN_CODE in oracle/CMakeLists.txt


def cmd_fresh(args, stream=None):
    stream = stream or sys.stdout
    try:
        wanted = tuple(int(x) for x in args.version.split("."))
        if len(wanted) != 2:
            raise ValueError
    except ValueError:
        print("fresh: --version is a minor version such as 3.11, not %r" % args.version,
              file=sys.stderr)
        return 1
    oracle_dir = Path(getattr(args, "oracle", None) or paths.ORACLE)
    interpreters, errors = discover(args.python)
    for e in errors:
        print("fresh: " + e, file=sys.stderr)
    if errors:
        return 1
    runtime = getattr(args, "runtime", None)
    extra = []
    declared = load_catalog().oracles["versions"].get("%d.%d" % wanted)
    if runtime == "pyodide" or (runtime is None and wanted not in interpreters and declared == "pyodide"):
        command, version = pyodide(wanted[1])
        if command is None:
            print("fresh: skipped: cpython-%d.%d: %s" % (wanted + (version,)), file=stream)
            return EXIT_SKIP
        if runtime == "pyodide":
            extra = ["--known-patch-differences"]   # another patch release than the native one
        python = " ".join(command)
    elif wanted not in interpreters:
        print("fresh: skipped: no CPython %d.%d interpreter on this machine (found: %s)" % (
            wanted + (", ".join("%d.%d.%d" % v for _, v in interpreters.values()) or "none",)),
            file=stream)
        return EXIT_SKIP
    else:
        python, version = interpreters[wanted]
        command = [python]
    expected = Path(args.expected) if args.expected else (
        paths.EXPECTED / ("cpython-%d.%d" % wanted))
    printer = _Printer(stream)
    printer.line("fresh: %s (%d.%d.%d) against %s" % (python, *version, paths.display(expected)))
    with tempfile.TemporaryDirectory(prefix="aiospec-fresh-") as tmp:
        bundle_path = args.bundle
        if not bundle_path:
            bundle, diags = build_bundle([str(paths.SPEC)])
            if diags:
                _print_diags(diags, sys.stderr)
                return EXIT_ERRORS
            bundle_path = Path(tmp) / "bundle.json"
            write_bundle(bundle, bundle_path)
        cmd = command + ["-m", "aiospec_oracle", "check", "--bundle", str(bundle_path),
                         "--expected", str(expected), *extra]
        return _stream(cmd, oracle_dir, printer, "")
