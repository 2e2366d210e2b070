"""Real loops judged for real (issue 6): each check is one CTest test, `test_real_loops.py NAME`.

  uvloop-repeatable   uvloop under interposed time, judged 5 times: the same status and message
                      for every scenario x CPython version in every run
  LOOP                `aiospec report` on that loop exits 0: every result is a PASS, UNSUPPORTED,
                      SKIP or an XFAIL its expectation file explains (a loop of
                      tools/aiospec_matrix/loops.py: uvloop, cpython-asyncio-pure, pypy-asyncio,
                      cpython-asyncio-interposed, libuv, asio, asio-interposed)

A loop this machine does not have is a skip (exit 77) that says what is missing.
Usage: test_real_loops.py NAME BUILD_DIR
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "aiospec_matrix", ".."))
from aiospec_matrix.loops import LOOPS, arguments, missing  # noqa: E402  (the matrix's loop table: one source of truth)

SKIP = 77


def report(aiospec, args, json_path):
    proc = subprocess.run([aiospec, "report", *args, "--json", json_path], capture_output=True, text=True,
                          timeout=900)
    return proc


def records(json_path):
    with open(json_path) as f:
        doc = json.load(f)
    return doc, [(r["scenario"], r["cpython"], r["status"], r.get("message", "")) for r in doc["results"]]


def loop_entry(name):
    for loop in LOOPS:
        if loop["name"] == name:
            return loop
    raise SystemExit("unknown loop %s" % name)


def main():
    name, build = sys.argv[1], sys.argv[2]
    aiospec = os.path.join(build, "tools", "aiospec")
    loop = loop_entry("uvloop" if name == "uvloop-repeatable" else name)
    args = arguments(loop, build)
    why = missing(loop, build)
    if why:
        print("SKIP: %s: %s" % (name, why))
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "report.json")
        if name != "uvloop-repeatable":
            proc = report(aiospec, args, out)
            sys.stdout.write(proc.stdout[-6000:])
            sys.stderr.write(proc.stderr[-3000:])
            if proc.returncode != 0:
                print("FAIL: aiospec report %s exited %d" % (" ".join(args), proc.returncode))
                return 1
            doc, got = records(out)
            print("%s: %d records, run_info %s" % (name, len(got), json.dumps(doc["run_info"], sort_keys=True)))
            return 0
        runs = []
        for i in range(5):
            proc = report(aiospec, args, out)
            if proc.returncode not in (0, 1):
                print("FAIL: run %d: aiospec report exited %d: %s" % (i + 1, proc.returncode, proc.stderr[-2000:]))
                return 1
            doc, got = records(out)
            runs.append(got)
            counts = {}
            for _, _, status, _ in got:
                counts[status] = counts.get(status, 0) + 1
            print("run %d: exit %d, %s" % (i + 1, proc.returncode, json.dumps(counts, sort_keys=True)))
        for i, run in enumerate(runs[1:], start=2):
            if run != runs[0]:
                diff = [(a, b) for a, b in zip(runs[0], run) if a != b][:5]
                print("FAIL: run %d differs from run 1: %s" % (i, diff))
                return 1
        print("uvloop: 5 runs, %d records each, identical statuses and messages" % len(runs[0]))
        return 0


if __name__ == "__main__":
    sys.exit(main())
