"""The matrix renderer: one cell per record, a column per loop judged, a loop that could not run
shown as such (the browser check of the real page is the CTest test loops/matrix-browser)."""

import json
import tempfile
import unittest
from pathlib import Path

from aiospec_matrix.cli import main
from aiospec_matrix.render import merge, render


def record(scenario, loop, version, status, time="virtual"):
    return {"scenario": scenario, "loop": loop, "cpython": version, "status": status, "time": time,
            "area": "timers", "level": "cpython", "title": "t", "path": "spec/timers/x.yaml", "message": ""}


REPORT = {"format": "aiospec-report/2", "run_info": {"loop": "uvloop", "loop_version": "0.17.0"},
          "results": [record("tmr-0004", "uvloop", "3.11", "XFAIL", "interposed"),
                      record("tmr-0004", "uvloop", "3.12", "FAIL", "interposed"),
                      record("tmr-0005", "uvloop", "3.12", "PASS", "interposed")]}
NOT_RUN = {"name": "pypy-asyncio", "title": "PyPy", "not_run": "pypy3 is not on PATH (Debian package pypy3)"}


class Render(unittest.TestCase):
    def test_one_cell_per_record_and_a_column_per_loop(self):
        columns, records = merge([REPORT, NOT_RUN])
        self.assertEqual([c["name"] for c in columns], ["uvloop · interposed", "pypy-asyncio"])
        self.assertEqual(len(records), 3)
        self.assertEqual(columns[1]["not_run"], NOT_RUN["not_run"])

    def test_the_page_embeds_every_record_and_says_what_did_not_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.assertEqual(render([REPORT, NOT_RUN], tmp), 3)
            data = json.loads((Path(tmp) / "matrix.json").read_text())
            self.assertEqual(data["versions"], ["3.11", "3.12"])
            page = (Path(tmp) / "index.html").read_text()
            self.assertIn("pypy3 is not on PATH", page)
            self.assertNotIn("@DATA@", page)

    def test_a_message_cannot_close_the_data_block(self):
        hostile = json.loads(json.dumps(REPORT))
        hostile["results"][0]["message"] = "</script><script>alert(1)</script>"
        with tempfile.TemporaryDirectory() as tmp:
            render([hostile], tmp)
            page = (Path(tmp) / "index.html").read_text()
            self.assertEqual(page.count("</script>"), 2)   # the data block's and the code's own

    def test_an_unreadable_report_is_exit_2(self):
        with tempfile.TemporaryDirectory() as tmp:
            bad = Path(tmp) / "bad.json"
            bad.write_text("{not json")
            self.assertEqual(main(["--render", str(bad), "--out", tmp]), 2)
            self.assertEqual(main(["--loops", "no-such-loop", "--out", tmp]), 2)


if __name__ == "__main__":
    unittest.main()
