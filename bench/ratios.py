#!/usr/bin/env python3
"""Reference loop vs libuv, as ratios, from one loop_bench run's Google Benchmark JSON.

Usage: python3 bench/ratios.py build/bench.json

Pairs every BM_<case>/reference[/<variant>] with BM_<case>/libuv and prints ns per item for each
side and the ratio reference/libuv (> 1: the reference is slower). With --benchmark_repetitions,
each side is the median of its repetitions and the min..max of the per-repetition ratios is
shown too. Ratios compare two loops in the same process on the same machine at about the same
time; absolute numbers from different runs or machines are not comparable. Stdlib only.
"""

import json
import statistics
import sys

# Parts of a run name that Google Benchmark appends and that are not part of our naming.
_SUFFIX_PREFIXES = ("real_time", "process_time", "manual_time", "repeats:", "min_time:",
                    "iterations:", "threads:")
_GOOD_BUILD_TYPES = ("Release", "RelWithDebInfo", "MinSizeRel")


def parse_name(run_name):
    """'BM_socketpair_pingpong/reference/poll/real_time' -> ('socketpair_pingpong', 'reference', 'poll')."""
    parts = [p for p in run_name.split("/") if not p.startswith(_SUFFIX_PREFIXES)]
    if len(parts) < 2:
        return None
    case = parts[0][3:] if parts[0].startswith("BM_") else parts[0]
    return case, parts[1], "/".join(parts[2:])


def ns_per_item(run):
    ips = run.get("items_per_second")
    return 1e9 / ips if ips else None


def collect(benchmarks):
    """{(case, side, variant): [ns/item per repetition]}, in registration order, plus the failed runs."""
    samples, medians, errors, order = {}, {}, [], {}
    for run in benchmarks:
        key = parse_name(run.get("run_name", run["name"]))
        if key is None:
            continue
        # family_index is the registration order, also under --benchmark_enable_random_interleaving.
        order.setdefault(key, run.get("family_index", len(order)))
        if run.get("error_occurred"):
            errors.append(f"{run['name']}: {run.get('error_message', 'error')}")
            continue
        value = ns_per_item(run)
        if value is None:
            continue
        if run.get("run_type", "iteration") == "iteration":
            samples.setdefault(key, []).append(value)
        elif run.get("aggregate_name") == "median":
            medians[key] = value  # only used when the iterations were not reported
    for key, value in medians.items():
        samples.setdefault(key, [value])
    return dict(sorted(samples.items(), key=lambda item: order[item[0]])), errors


def context_line(ctx):
    load = ", ".join(f"{x:.2f}" for x in ctx.get("load_avg", []))
    scaling = "on" if ctx.get("cpu_scaling_enabled") else "off"
    return (f"machine: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs @ "
            f"{ctx.get('mhz_per_cpu', '?')} MHz, CPU scaling {scaling}, load avg {load or '?'}; "
            f"build {ctx.get('aiospec_build_type', '?')}, sanitize {ctx.get('aiospec_sanitize', '?')}, "
            f"libuv {ctx.get('libuv_version', '?')}, Google Benchmark library "
            f"{ctx.get('library_build_type', '?')}; {ctx.get('date', '')}")


def warnings_for(ctx):
    out = []
    build = ctx.get("aiospec_build_type")
    if build and build not in _GOOD_BUILD_TYPES:
        out.append(f"the reference was built as {build}: its numbers are not worth comparing")
    if ctx.get("aiospec_sanitize", "none") not in ("none", ""):
        out.append(f"sanitizers ({ctx['aiospec_sanitize']}) instrument the reference loop and the "
                   "bench's own code, not libuv: the ratios are meaningless")
    cpus, load = ctx.get("num_cpus"), ctx.get("load_avg")
    if cpus and load and load[0] > 0.5 * cpus:
        out.append(f"1-minute load {load[0]:.2f} on {cpus} CPUs: the machine was busy, expect noise")
    if ctx.get("cpu_scaling_enabled"):
        out.append("CPU frequency scaling is on: expect noise")
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        print(f"ratios.py: cannot read {argv[1]}: {e}", file=sys.stderr)
        return 2

    ctx = data.get("context", {})
    samples, errors = collect(data.get("benchmarks", []))
    libuv = {(case, variant): v for (case, side, variant), v in samples.items() if side == "libuv"}

    rows = []
    unpaired = []
    for (case, side, variant), ref in samples.items():
        if side != "reference":
            continue
        # A reference variant (a backend) pairs with the libuv run of the same variant if there is
        # one, else with the case's plain libuv run.
        uv = libuv.get((case, variant)) or libuv.get((case, ""))
        if uv is None:
            unpaired.append(f"{case}/reference{'/' + variant if variant else ''}")
            continue
        ref_med, uv_med = statistics.median(ref), statistics.median(uv)
        per_rep = [r / u for r, u in zip(ref, uv)]
        spread = f"{min(per_rep):.2f}..{max(per_rep):.2f}" if len(per_rep) > 1 else ""
        rows.append((case, variant, ref_med, uv_med, ref_med / uv_med, spread, len(ref)))

    print(context_line(ctx))
    for w in warnings_for(ctx):
        print(f"warning: {w}")
    if not rows:
        print("ratios.py: no reference/libuv pairs in this file", file=sys.stderr)
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        return 1

    reps = max(r[6] for r in rows)
    header = ["case", "variant", "reference ns/item", "libuv ns/item", "ratio ref/libuv"]
    if reps > 1:
        header.append(f"ratio min..max ({reps} reps)")
    table = [header]
    for case, variant, ref_med, uv_med, ratio, spread, _ in rows:
        line = [case, variant or "-", f"{ref_med:.1f}", f"{uv_med:.1f}", f"{ratio:.2f}"]
        if reps > 1:
            line.append(spread or "-")
        table.append(line)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for n, line in enumerate(table):
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print("ratio > 1: the reference loop is slower; < 1: faster. Same run, same machine only.")

    for name in unpaired:
        print(f"warning: {name} has no libuv peer in this file")
    for e in errors:
        print(f"error: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
