"""python3 -m aiospec_matrix.browser DIR: check DIR/index.html in a real headless browser.

Debian's Chromium loads the page from disk; the DOM it dumps after the page's script ran must
hold exactly one cell per record of DIR/matrix.json, and opening a cell (the page's `#r=N`
link, the first record that is not a PASS) must show that record's detail. A screenshot goes to
DIR/screenshot.png, kept with the test output. Exit 0 checked, 1 the page is wrong, 2 bad
input, 77 (ctest's skip) no Chromium on this machine, said as such.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"]


def chromium(args, profile):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    return subprocess.run([binary, *FLAGS, "--user-data-dir=" + profile, *args],
                          capture_output=True, text=True, timeout=120)


def main(argv):
    if len(argv) != 1:
        print("usage: python3 -m aiospec_matrix.browser DIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    page, data_file = out / "index.html", out / "matrix.json"
    try:
        data = json.loads(data_file.read_text())
    except (OSError, ValueError) as exc:
        print("browser: %s: %s" % (data_file, exc), file=sys.stderr)
        return 2
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        print("browser: SKIP: no chromium on this machine (Debian package chromium; bootstrap/install-deps installs it)")
        return 77
    records = data["records"]
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        dom = chromium(["--dump-dom", url], profile).stdout
        cells = dom.count('<td class="cell ')
        if cells != len(records):
            print("browser: FAIL: the page shows %d cells, the reports have %d records" % (cells, len(records)))
            return 1
        pick = next((i for i, r in enumerate(records) if r["status"] != "PASS"), 0 if records else None)
        if pick is not None:
            r = records[pick]
            dom = chromium(["--dump-dom", url + "#r=%d" % pick], profile).stdout
            heading = "%s on %s · %s against cpython-%s: %s" % (r["scenario"], r["loop"], r.get("time", "virtual"),
                                                                 r["cpython"], r["status"])
            if heading not in dom:
                print("browser: FAIL: opening cell %d did not show its detail (%s)" % (pick, heading))
                return 1
        chromium(["--window-size=1600,1200", "--screenshot=" + str((out / "screenshot.png").resolve()), url], profile)
    if not (out / "screenshot.png").exists():
        print("browser: FAIL: chromium wrote no screenshot")
        return 1
    print("browser: %d cells for %d records; detail of record %s shown; screenshot %s"
          % (cells, len(records), pick, out / "screenshot.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
