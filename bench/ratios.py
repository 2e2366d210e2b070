#!/usr/bin/env python3
"""Reference loop vs libuv, as ratios, from one loop_bench run's Google Benchmark JSON.

Usage: python3 bench/ratios.py build/bench.json

Pairs every BM_<case>/reference[/<backend>][/<N>] with BM_<case>/libuv[/<N>] (the same N) and
prints ns per item for each side and the ratio reference/libuv (> 1: the reference is slower).
With --benchmark_repetitions, each side is the median of its repetitions and the min..max of the
per-repetition ratios is shown too. Cases run at several N (idle_pingpong) also get a scaling
table: backend x N, ns per item and the ratio to libuv at the same N. Ratios compare two loops in
the same process on the same machine at about the same time; absolute numbers from different
runs or machines are not comparable. Stdlib only.

Runs named BM_<case>/floor/<mechanism> are the case's work on the bare system calls of one
readiness mechanism, no loop (bench/floor_cases.cpp). They get a table of their own: each floor,
what the reference on that backend and libuv (on epoll) add to it, and floor/libuv, the ratio
the reference on that backend would have if its loop cost nothing.

A case that reports SkipWithError("unavailable: ...") could not run on this machine (select(2)
past FD_SETSIZE, a kernel without io_uring): listed as not run. Any other error is a case that
failed its own sanity check, and makes the exit status 1.
"""

import json
import statistics
import sys

# Parts of a run name that Google Benchmark appends and that are not part of our naming.
_SUFFIX_PREFIXES = ("real_time", "process_time", "manual_time", "repeats:", "min_time:",
                    "iterations:", "threads:")
_GOOD_BUILD_TYPES = ("Release", "RelWithDebInfo", "MinSizeRel")
UNAVAILABLE = "unavailable: "


def parse_name(run_name):
    """'BM_idle_pingpong/reference/epoll/1024/real_time' -> ('idle_pingpong', 'reference', 'epoll/1024')."""
    parts = [p for p in run_name.split("/") if not p.startswith(_SUFFIX_PREFIXES)]
    if len(parts) < 2:
        return None
    case = parts[0][3:] if parts[0].startswith("BM_") else parts[0]
    return case, parts[1], "/".join(parts[2:])


def split_variant(variant):
    """A reference variant 'epoll/1024' -> ('epoll', '1024'); 'poll' -> ('poll', ''); '' -> ('', '').

    The first part is the backend, the rest the case's arguments (what a libuv run is named by).
    """
    backend, _, args = variant.partition("/")
    return backend, args


def ns_per_item(run):
    ips = run.get("items_per_second")
    return 1e9 / ips if ips else None


def collect(benchmarks):
    """({(case, side, variant): [ns/item per repetition]} in registration order, errors, unavailable).

    errors: ['name: message'] for failed sanity checks; unavailable: {(case, side, variant):
    reason} for the cases that could not run here. Each is listed once, not once per repetition.
    """
    samples, medians, order = {}, {}, {}
    errors, unavailable = [], {}
    for run in benchmarks:
        key = parse_name(run.get("run_name", run["name"]))
        if key is None:
            continue
        # family_index is the registration order, also under --benchmark_enable_random_interleaving;
        # per_family_instance_index orders the N of one family.
        order.setdefault(key, (run.get("family_index", len(order)), run.get("per_family_instance_index", 0)))
        if run.get("error_occurred"):
            message = run.get("error_message", "error")
            if message.startswith(UNAVAILABLE):
                unavailable.setdefault(key, message[len(UNAVAILABLE):])
            else:
                line = f"{run.get('run_name', run['name'])}: {message}"
                if line not in errors:
                    errors.append(line)
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
    return dict(sorted(samples.items(), key=lambda item: order[item[0]])), errors, unavailable


def libuv_peer(libuv, case, variant):
    """The libuv samples a reference run of `variant` pairs with, or None.

    The libuv run of the same variant if there is one; else the one named by the variant's
    arguments without its backend ('epoll/1024' -> libuv '1024', 'poll' -> plain libuv).
    """
    if (case, variant) in libuv:
        return libuv[(case, variant)]
    return libuv.get((case, split_variant(variant)[1]))


def pair_rows(samples):
    """[(case, variant, ref_median, libuv_median, ratio, (min, max) or None, reps)], unpaired names."""
    libuv = {(case, variant): v for (case, side, variant), v in samples.items() if side == "libuv"}
    rows, unpaired = [], []
    for (case, side, variant), ref in samples.items():
        if side != "reference":
            continue
        uv = libuv_peer(libuv, case, variant)
        if uv is None:
            unpaired.append(f"{case}/reference{'/' + variant if variant else ''}")
            continue
        ref_med, uv_med = statistics.median(ref), statistics.median(uv)
        per_rep = [r / u for r, u in zip(ref, uv)]
        spread = (min(per_rep), max(per_rep)) if len(per_rep) > 1 else None
        rows.append((case, variant, ref_med, uv_med, ref_med / uv_med, spread, len(ref)))
    return rows, unpaired


def floor_rows(samples):
    """{case: [(mechanism, floor ns, reference ns or None, libuv ns or None, floor/libuv or None,
    (min, max) of the per-repetition floor/libuv or None)]}.

    libuv is given on the epoll row only: libuv on Linux waits with epoll, so that is its floor.
    """
    out = {}
    for (case, side, mechanism), floor in samples.items():
        if side != "floor":
            continue
        floor_ns = statistics.median(floor)
        ref = samples.get((case, "reference", mechanism))
        uv = samples.get((case, "libuv", ""))
        uv_ns = statistics.median(uv) if uv else None
        per_rep = [f / u for f, u in zip(floor, uv)] if uv else []
        out.setdefault(case, []).append((
            mechanism, floor_ns,
            statistics.median(ref) if ref else None,
            uv_ns if mechanism == "epoll" else None,
            floor_ns / uv_ns if uv_ns else None,
            (min(per_rep), max(per_rep)) if len(per_rep) > 1 else None))
    return out


def render_floor(case, rows):
    """The floor table of one case: ns per item, and what each loop adds to its mechanism's."""
    header = ["mechanism", "floor ns", "reference ns", "reference - floor", "libuv ns", "libuv - floor",
              "floor / libuv", "min..max"]
    table = [header]
    for mechanism, floor_ns, ref_ns, uv_ns, floor_ratio, spread in rows:
        table.append([
            mechanism, f"{floor_ns:.0f}",
            f"{ref_ns:.0f}" if ref_ns is not None else "-",
            f"{ref_ns - floor_ns:.0f}" if ref_ns is not None else "-",
            f"{uv_ns:.0f}" if uv_ns is not None else "-",
            f"{uv_ns - floor_ns:.0f}" if uv_ns is not None else "-",
            f"{floor_ratio:.2f}" if floor_ratio is not None else "-",
            f"{spread[0]:.2f}..{spread[1]:.2f}" if spread else "-"])
    return ([f"kernel floor: {case}, ns per item on the bare system calls (no loop), and what each loop adds"]
            + render_table(table)
            + ["floor / libuv: the least reference/libuv ratio a loop on that mechanism can have "
               "(its own cost zero)."])


def _int_or_none(text):
    try:
        return int(text)
    except ValueError:
        return None


def scaling_curves(samples, unavailable):
    """{case: {"ns": [N...], "rows": [(backend, {N: (ns, ratio or None) | str reason})]}}.

    For every case whose runs are named by an integer N (BM_<case>/reference/<backend>/<N>,
    BM_<case>/libuv/<N>) at more than one N. Backends keep their registration order; libuv is the
    last row (ratio None). A backend that could not run at some N has the reason in that cell.
    """
    curves = {}
    keys = list(samples) + [k for k in unavailable if k not in samples]
    for case, side, variant in keys:
        backend, args = split_variant(variant) if side == "reference" else ("libuv", variant)
        n = _int_or_none(args)
        if n is None:
            continue
        curve = curves.setdefault(case, {"ns": set(), "backends": []})
        curve["ns"].add(n)
        if backend not in curve["backends"]:
            curve["backends"].append(backend)
    result = {}
    for case, curve in curves.items():
        ns = sorted(curve["ns"])
        if len(ns) < 2:
            continue
        backends = [b for b in curve["backends"] if b != "libuv"]
        if "libuv" in curve["backends"]:
            backends.append("libuv")
        rows = []
        for backend in backends:
            cells = {}
            for n in ns:
                key = (case, "libuv", str(n)) if backend == "libuv" else (case, "reference", f"{backend}/{n}")
                uv = samples.get((case, "libuv", str(n)))
                if key in samples:
                    ns_item = statistics.median(samples[key])
                    ratio = None if backend == "libuv" or uv is None else ns_item / statistics.median(uv)
                    cells[n] = (ns_item, ratio)
                elif key in unavailable:
                    cells[n] = unavailable[key]
            rows.append((backend, cells))
        result[case] = {"ns": ns, "rows": rows}
    return result


def render_table(table, left=1):
    """Lines of a text table; the first `left` columns left-aligned, the rest right-aligned."""
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = []
    for n, line in enumerate(table):
        cells = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def render_ratios(rows):
    reps = max(r[6] for r in rows)
    header = ["case", "variant", "reference ns/item", "libuv ns/item", "ratio ref/libuv"]
    if reps > 1:
        header.append(f"ratio min..max ({reps} reps)")
    table = [header]
    for case, variant, ref_med, uv_med, ratio, spread, _ in rows:
        line = [case, variant or "-", f"{ref_med:.1f}", f"{uv_med:.1f}", f"{ratio:.2f}"]
        if reps > 1:
            line.append(f"{spread[0]:.2f}..{spread[1]:.2f}" if spread else "-")
        table.append(line)
    return render_table(table, left=2)


def render_curve(case, curve):
    """The backend x N table of one case: 'ns (ratio to libuv)', and growth from the smallest N."""
    ns = curve["ns"]
    header = ["backend"] + [f"N={n}" for n in ns] + [f"N={ns[-1]} / N={ns[0]}"]
    table, notes = [header], []
    for backend, cells in curve["rows"]:
        line = [backend]
        for n in ns:
            cell = cells.get(n)
            if cell is None:
                line.append("-")
            elif isinstance(cell, str):
                notes.append(f"{backend} at N={n}: not run: {cell}")
                line.append("not run")
            else:
                ns_item, ratio = cell
                line.append(f"{ns_item:.0f}" + (f" ({ratio:.2f})" if ratio is not None else ""))
        first, last = cells.get(ns[0]), cells.get(ns[-1])
        if isinstance(first, tuple) and isinstance(last, tuple):
            line.append(f"x{last[0] / first[0]:.2f}")
        else:
            line.append("-")
        table.append(line)
    lines = [f"scaling: {case}, ns per item (ratio to libuv at the same N)"]
    lines += render_table(table)
    lines += [f"  {note}" for note in notes]
    return lines


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


def report(data, out=sys.stdout, err=sys.stderr):
    """Print the ratios and scaling tables of one loop_bench JSON document; the exit status."""
    ctx = data.get("context", {})
    samples, errors, unavailable = collect(data.get("benchmarks", []))
    rows, unpaired = pair_rows(samples)

    print(context_line(ctx), file=out)
    for w in warnings_for(ctx):
        print(f"warning: {w}", file=out)
    if not rows:
        print("ratios.py: no reference/libuv pairs in this file", file=err)
        for e in errors:
            print(f"error: {e}", file=err)
        return 1

    for line in render_ratios(rows):
        print(line, file=out)
    print("ratio > 1: the reference loop is slower; < 1: faster. Same run, same machine only.", file=out)

    curves = scaling_curves(samples, unavailable)
    for case, curve in curves.items():
        print(file=out)
        for line in render_curve(case, curve):
            print(line, file=out)
    floors = floor_rows(samples)
    for case, rows_of_case in floors.items():
        print(file=out)
        for line in render_floor(case, rows_of_case):
            print(line, file=out)
    in_curves = {(case, side, variant) for (case, side, variant) in unavailable if case in curves}
    if curves or floors:
        print(file=out)
    for (case, side, variant), reason in unavailable.items():
        if (case, side, variant) not in in_curves:
            print(f"not run: {case}/{side}{'/' + variant if variant else ''}: {reason}", file=out)
    for name in unpaired:
        print(f"warning: {name} has no libuv peer in this file", file=out)
    for e in errors:
        print(f"error: {e}", file=out)
    return 1 if errors else 0


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
    return report(data)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
