"""Expectation files (conformance/expectations/README.md): the canonical form, and every malformed
file refused in one line with its position."""

import json
import pathlib
import tempfile
import unittest

from aiospec_spec.errors import LoadError
from aiospec_spec.expectations import canonical_json, load

GOOD = """\
loop: uvloop
expectations:
  tmr-0004:
    status: FAIL
    reason: "one sentence"
    upstream: https://github.com/MagicStack/uvloop/issues/1
    cpython: ["3.9", "3.8"]
    time: interposed
  ord-0008: {status: ERROR, reason: crashes}
"""

BAD = {
    "status": ("  ord-0008: {status: PASS, reason: x}\n", 3, "status must be one of FAIL ERROR FLAKY"),
    "no-reason": ("  ord-0008: {status: FAIL}\n", 3, "reason must say"),
    "unknown-key": ("  ord-0008: {status: FAIL, reason: x, why: y}\n", 3, "unknown key 'why'"),
    "bad-id": ("  ORD-8: {status: FAIL, reason: x}\n", 3, "is not a scenario id"),
    "cpython": ("  ord-0008: {status: FAIL, reason: x, cpython: [3.8]}\n", 3, "cpython must be"),
    "time": ("  ord-0008: {status: FAIL, reason: x, time: fast}\n", 3, "time must be one of"),
    "upstream": ("  ord-0008: {status: FAIL, reason: x, upstream: nope}\n", 3, "upstream must be"),
    "duplicate": ("  ord-0008: {status: FAIL, reason: x}\n  ord-0008: {status: FAIL, reason: y}\n", 4, "uplicate"),
}


class Expectations(unittest.TestCase):
    def write(self, tmp, text):
        path = pathlib.Path(tmp, "e.yaml")
        path.write_text(text)
        return path

    def test_canonical_form(self):
        with tempfile.TemporaryDirectory() as tmp:
            doc = json.loads(canonical_json(self.write(tmp, GOOD)))
        self.assertEqual(doc["loop"], "uvloop")
        self.assertEqual(list(doc["expectations"]), ["ord-0008", "tmr-0004"])
        self.assertEqual(doc["expectations"]["tmr-0004"]["cpython"], ["3.8", "3.9"])
        self.assertEqual(doc["expectations"]["ord-0008"], {"status": "ERROR", "reason": "crashes"})

    def test_empty_expectations(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.assertEqual(load(self.write(tmp, "loop: x\nexpectations: {}\n"))["expectations"], {})

    def test_every_malformed_file_is_one_line_with_its_position(self):
        for name, (entry, line, message) in BAD.items():
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                path = self.write(tmp, "loop: uvloop\nexpectations:\n" + entry)
                with self.assertRaises(LoadError) as caught:
                    load(path)
                text = str(caught.exception)
                self.assertEqual(len(text.splitlines()), 1, text)
                self.assertRegex(text, r"^%s:%d:\d+: " % (path, line))
                self.assertIn(message, text)

    def test_not_a_mapping_and_no_loop(self):
        with tempfile.TemporaryDirectory() as tmp:
            for text in ("- a\n", "expectations: {}\n", "loop: x\nother: 1\n"):
                with self.assertRaises(LoadError):
                    load(self.write(tmp, text))


if __name__ == "__main__":
    unittest.main()
