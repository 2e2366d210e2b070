"""Reports in, one static HTML page out.

The page carries its data as JSON in a <script type="application/json"> block and builds the
table with a few lines of JavaScript, so that 2000+ cells cost one small file and the browser
test checks what a browser really rendered (cells counted in the DOM after the script ran).
Nothing is fetched: the page opens from disk, offline.
"""

import html
import json
from pathlib import Path

STATUSES = ["PASS", "XFAIL", "FAIL", "XPASS", "ERROR", "FLAKY", "STALE", "UNSUPPORTED", "SKIP"]


def column_of(record):
    """The matrix column group of a record: the loop, and the time mode it was judged in."""
    return "%s · %s" % (record.get("loop", "?"), record.get("time", "virtual"))


def merge(reports):
    """(columns, records): every report's records, and one column entry per loop judged.

    A column carries the run_info of the report that produced it. A report whose loop could not
    run has no records and a `not_run` reason: it becomes a column that says so.
    """
    columns, records = {}, []
    for report in reports:
        info = report.get("run_info", {})
        if report.get("not_run"):
            columns[report["name"]] = {"name": report["name"], "info": info,
                                       "not_run": report["not_run"], "title": report.get("title", "")}
            continue
        for record in report.get("results", []):
            name = column_of(record)
            columns.setdefault(name, {"name": name, "info": info, "not_run": None,
                                      "title": report.get("title", "")})
            records.append(record)
    return list(columns.values()), records


def render(reports, out_dir, generated=""):
    """Write out_dir/index.html and out_dir/matrix.json; return the number of records (cells)."""
    columns, records = merge(reports)
    versions = sorted({r["cpython"] for r in records}, key=lambda v: tuple(int(x) for x in v.split(".")))
    scenarios = {}
    for r in records:
        scenarios.setdefault(r["scenario"], {"id": r["scenario"], "area": r.get("area", ""),
                                             "level": r.get("level", ""), "title": r.get("title", ""),
                                             "path": r.get("path", "")})
    data = {"columns": columns, "versions": versions, "statuses": STATUSES,
            "scenarios": sorted(scenarios.values(), key=lambda s: (s["area"], s["id"])),
            "records": records, "generated": generated}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "matrix.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    payload = json.dumps(data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
    page = (Path(__file__).with_name("page.html").read_text()
            .replace("@DATA@", payload)
            .replace("@GENERATED@", html.escape(generated)))
    (out / "index.html").write_text(page)
    return len(records)
