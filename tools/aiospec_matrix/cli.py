"""Run the loops, render the page.

Exit status: 0 the page was written (whatever the loops scored: the page is the result),
2 bad input (an unreadable report, an unknown loop name), 3 `aiospec` itself could not run.
"""

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

from .loops import LOOPS, arguments, missing
from .render import render


def _last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""


def run_loop(aiospec, loop, out_dir):
    """One loop's report (as a dict), or a not_run entry saying why there is none."""
    build = Path(aiospec).resolve().parent.parent
    why = missing(loop, build)
    if why:
        return {"name": loop["name"], "title": loop["title"], "not_run": why}
    path = Path(out_dir) / ("report-%s.json" % loop["name"])
    if path.exists():
        path.unlink()
    started = time.monotonic()
    proc = subprocess.run([aiospec, "report", *arguments(loop, build), "--json", str(path)],
                          capture_output=True, text=True)
    seconds = time.monotonic() - started
    (Path(out_dir) / ("report-%s.txt" % loop["name"])).write_text(proc.stdout + proc.stderr)
    if not path.exists():
        # exit 2/3 before any result: the loop could not be started at all.
        return {"name": loop["name"], "title": loop["title"],
                "not_run": "aiospec report exited %d: %s" % (proc.returncode, _last_line(proc.stderr))}
    report = json.loads(path.read_text())
    report["title"] = loop["title"]
    print("matrix: %-28s exit %d, %4d records in %5.1f s" % (loop["name"], proc.returncode,
                                                           len(report.get("results", [])), seconds))
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="aiospec_matrix")
    parser.add_argument("--aiospec", default="build/tools/aiospec", help="the aiospec CLI to run")
    parser.add_argument("--out", default="build/matrix", help="where index.html and the reports go")
    parser.add_argument("--loops", help="comma-separated loop names (default: all of loops.py)")
    parser.add_argument("--render", nargs="+", metavar="REPORT", help="render these reports, run nothing")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    started = time.monotonic()
    if args.render:
        reports = []
        for name in args.render:
            try:
                reports.append(json.loads(Path(name).read_text()))
            except (OSError, ValueError) as exc:
                print("aiospec_matrix: %s: cannot read report: %s" % (name, exc), file=sys.stderr)
                return 2
    else:
        chosen = LOOPS
        if args.loops:
            wanted = args.loops.split(",")
            unknown = [w for w in wanted if w not in {l["name"] for l in LOOPS}]
            if unknown:
                print("aiospec_matrix: unknown loop(s) %s; known: %s"
                      % (", ".join(unknown), ", ".join(l["name"] for l in LOOPS)), file=sys.stderr)
                return 2
            chosen = [l for l in LOOPS if l["name"] in wanted]
        try:
            reports = [run_loop(args.aiospec, loop, out) for loop in chosen]
        except OSError as exc:
            print("aiospec_matrix: cannot run %s: %s" % (args.aiospec, exc), file=sys.stderr)
            return 3
        for r in reports:
            if r.get("not_run"):
                print("matrix: %-28s not run: %s" % (r["name"], r["not_run"]))
    cells = render(reports, out, generated)
    print("matrix: %d cells, %s/index.html, %.1f s" % (cells, out, time.monotonic() - started))
    return 0
