#!/usr/bin/env python3
"""This tree's loop_bench against another revision's, in one run: what a change did.

Usage: python3 bench/against.py REV [--build DIR] [--rounds N] [--filter REGEX]

Builds loop_bench at REV (its sources from `git archive`, configured as `make bench` builds,
RelWithDebInfo, under DIR/bench-against/<commit>, kept for the next call), then runs that binary
and DIR/bench/loop_bench in turns, N rounds (5 by default), each run of each case
--benchmark_min_time=0.2. For every case both binaries have it prints ns/item at REV and now (the
median over the rounds), now/REV (< 1: faster now) and the min..max of the per-round ratios.
Numbers from different runs are not comparable; these two sides ran in turns under the same load.
Stdlib only.
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ratios import ns_per_item, render_table  # noqa: E402  (bench/ is not a package)

REPO = pathlib.Path(__file__).resolve().parent.parent
MIN_TIME = "0.2"


def samples_of(document, into):
    """Adds one Google Benchmark JSON document's ns/item per case to `into` {run_name: [ns]}."""
    for run in document.get("benchmarks", []):
        if run.get("error_occurred") or run.get("run_type", "iteration") != "iteration":
            continue
        value = ns_per_item(run)
        if value is not None:
            into.setdefault(run.get("run_name", run["name"]), []).append(value)


def compare(then, now):
    """[(case, ns then, ns now, now/then, (min, max) of per-round ratios)] for the cases both have,
    in `now`'s order."""
    rows = []
    for name, now_ns in now.items():
        then_ns = then.get(name)
        if not then_ns:
            continue
        per_round = [n / t for n, t in zip(now_ns, then_ns)]
        rows.append((name, statistics.median(then_ns), statistics.median(now_ns),
                     statistics.median(now_ns) / statistics.median(then_ns),
                     (min(per_round), max(per_round))))
    return rows


def render(rev, rows, rounds):
    header = ["case", f"{rev} ns/item", "now ns/item", f"now/{rev}", f"min..max ({rounds} rounds)"]
    table = [header] + [[name.removesuffix("/real_time"), f"{t:.1f}", f"{n:.1f}", f"{r:.2f}",
                         f"{lo:.2f}..{hi:.2f}"] for name, t, n, r, (lo, hi) in rows]
    return render_table(table) + [f"now/{rev} < 1: faster now. Same machine, same run, in turns."]


def git(*args):
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout


def build_at(commit, build_dir):
    """DIR/bench-against/<commit>/build/bench/loop_bench, built once."""
    root = build_dir / "bench-against" / commit
    binary = root / "build" / "bench" / "loop_bench"
    if binary.exists():
        return binary
    source = root / "src"
    source.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, stdout=archive)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(source)
    if not (source / "bench" / "CMakeLists.txt").exists():
        raise SystemExit(f"against.py: {commit[:12]} has no bench/ (loop_bench came later)")
    log = root / "build.log"
    with open(log, "w", encoding="utf-8") as out:
        for command in (["cmake", "-S", str(source), "-B", str(root / "build"), "-G", "Ninja",
                         "-DCMAKE_BUILD_TYPE=RelWithDebInfo", f"-DPython3_EXECUTABLE={sys.executable}"],
                        ["ninja", "-C", str(root / "build"), "bench/loop_bench"]):
            if subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                raise SystemExit(f"against.py: building loop_bench at {commit[:12]} failed; see {log}")
    return binary


def run_once(binary, pattern):
    args = [str(binary), f"--benchmark_min_time={MIN_TIME}", "--benchmark_format=json"]
    if pattern:
        args.append(f"--benchmark_filter={pattern}")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("rev")
    parser.add_argument("--build", default=str(REPO / "build"), metavar="DIR")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--filter", default="", metavar="REGEX")
    args = parser.parse_args(argv[1:])
    try:
        commit = git("rev-parse", "--verify", args.rev + "^{commit}").strip()
    except subprocess.CalledProcessError:
        print(f"against.py: {args.rev}: not a revision of this repository", file=sys.stderr)
        return 2
    build_dir = pathlib.Path(args.build).resolve()
    now_binary = build_dir / "bench" / "loop_bench"
    if not now_binary.exists():
        print(f"against.py: {now_binary}: not built (make build)", file=sys.stderr)
        return 2
    then_binary = build_at(commit, build_dir)
    then, now = {}, {}
    for _ in range(args.rounds):
        samples_of(run_once(then_binary, args.filter), then)
        samples_of(run_once(now_binary, args.filter), now)
    rows = compare(then, now)
    if not rows:
        print("against.py: no case ran on both sides", file=sys.stderr)
        return 1
    for line in render(args.rev, rows, args.rounds):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
