"""The loader's limits (spec/README.md "Limits"), names (D3) and own-prefix scenarios.

Every bad input must end in LoadError whose diagnostics are one line each, `file:line:col: ...`,
well under a second; the CLI prints them and exits 2.  Big inputs are generated here.
"""

import os
import re
import tempfile
import time
import unittest
from pathlib import Path

from aiospec_spec.errors import LoadError
from aiospec_spec.loader import load, load_text

from .util import REPO, run_cli

HEADER = """id: io-0001
title: t
clauses: [ORD-04]
features: [fd-io, futures, threads, multiple-loops, float-specials]
level: must
program:
"""


def body(text):
    return HEADER + "\n".join("  " + line for line in text.split("\n")) + "\n"


class LimitTestCase(unittest.TestCase):

    def refused(self, text, shown="s.yaml"):
        """The one-line diagnostics of loading ``text``; asserts the time and the shape."""
        start = time.monotonic()
        with self.assertRaises(LoadError) as cm:
            load_text(text, shown)
        self.assertLess(time.monotonic() - start, 1.0)
        lines = [str(d) for d in cm.exception.diagnostics]
        for line in lines:
            self.assertRegex(line, r"^%s:\d+:\d+: " % shown)
            self.assertNotIn("\n", line)
        return lines

    def one(self, text):
        lines = self.refused(text)
        self.assertEqual(len(lines), 1, lines)
        return lines[0]


class Limits(LimitTestCase):

    def test_raw_control_characters(self):
        for ch, name in (("\x00", "U+0000 (NUL)"), ("\x1b", "U+001B (ESC)"), ("\x7f", "DEL"),
                         ("\x85", "U+0085")):
            with self.subTest(ch=repr(ch)):
                line = self.one(body("- record: a%sb" % ch))
                self.assertRegex(line, r"^s\.yaml:7:14: control character .*" + re.escape(name))

    def test_raw_nul_byte_in_a_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(tmp) / "nul.yaml"
            f.write_bytes(body("- record: a").encode() + b"\x00\n")
            with self.assertRaises(LoadError) as cm:
                load(f)
            self.assertRegex(str(cm.exception), r"nul\.yaml:8:1: control character U\+0000")
            proc = run_cli("lint", f)
            self.assertEqual(proc.returncode, 2)
            self.assertNotIn("Traceback", proc.stdout + proc.stderr)

    def test_not_utf8(self):
        lines = self.refused(body("- record: caf").encode() + b"\xe9\n")
        self.assertEqual(lines, ["s.yaml:8:1: not UTF-8 text (byte 0xe9)"])

    def test_escapes_in_strings(self):
        self.assertRegex(self.one(body('- record: "a\\ud800"')),
                         r"^s\.yaml:7:13: program\[0\]\.record: a lone surrogate U\+D800 is not "
                         r"allowed in a string$")
        self.assertRegex(self.one(body('- record: "a\\x07"')),
                         r"program\[0\]\.record: control character U\+0007 is not allowed")
        self.assertRegex(self.one(body('- record: "a\\nb"')), r"control character U\+000A")
        # Free text may span lines.
        load_text(HEADER.replace("program:", 'description: "two\\nlines"\nprogram:')
                  + "  - record: a\n", "s.yaml")

    def test_big_file_is_refused_before_parsing(self):
        text = body("- record: a") + "# " + "x" * (50 * 1024 * 1024) + "\n"
        self.assertRegex(self.one(text), r"^s\.yaml:1:1: file is \d+ bytes, more than the "
                                         r"262144 a scenario may have$")
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(tmp) / "big.yaml"
            with open(f, "w") as out:
                out.write(text)
            start = time.monotonic()
            with self.assertRaises(LoadError):
                load(f)
            self.assertLess(time.monotonic() - start, 0.5)

    def test_alias_bomb(self):
        lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        for i in range(1, 10):
            prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
            lines.append("%s: &%s [%s]" % (cur, cur, ",".join(["*" + prev] * 9)))
        self.assertEqual(self.refused("\n".join(lines) + "\n"),
                         ["s.yaml:1:4: YAML anchors (&a) are not allowed in a scenario"])

    def test_deep_nesting(self):
        self.assertRegex(self.one("a: " + "[" * 100000 + "]" * 100000 + "\n"),
                         r"nested more than 104 levels deep$")
        self.assertRegex(self.one("a: " + "{b: " * 5000 + "1" + "}" * 5000 + "\n"),
                         r"nested more than 104 levels deep$")
        deep = "- record: x"
        for _ in range(32):
            deep = "- call_soon:\n" + "\n".join("  " + l for l in deep.split("\n"))
        self.assertRegex(self.one(body(deep)), r": blocks nested more than 32 deep$")
        ok = "- record: x"
        for _ in range(31):
            ok = "- call_soon:\n" + "\n".join("  " + l for l in ok.split("\n"))
        load_text(body(ok), "s.yaml")

    def test_deep_nesting_through_coroutines(self):
        """A create_task body, an awaitable's coroutine, gather's items and a handler's block
        count one block level each; the lists of, except and match do not.  (Mostly
        create_task levels: the others take more YAML levels, whose own limit of 104 comes
        first.)"""
        def nest(levels):
            text = "[{record: x}]"
            kinds = ["[{await: {on: {coroutine: %s}}}]",
                     "[{gather: {of: [{coroutine: %s}]}}]",
                     "[{try: {do: [{record: y}], except: [{match: [ValueError], do: %s}]}}]"]
            for level in range(levels - 2):       # the program and the outer create_task
                text = (kinds[level] if level < 3 else "[{create_task: {do: %s}}]") % text
            return HEADER.replace("fd-io, ", "tasks, ") + "  - create_task: {do: %s}\n" % text
        load_text(nest(32), "s.yaml")
        self.assertRegex(self.one(nest(33)), r": blocks nested more than 32 deep$")

    def test_caps(self):
        cases = [
            ("- record: " + "x" * 257, "program[0].record: longer than 256 characters (257)"),
            ("- raise: {type: ValueError, message: %s}" % ("m" * 257),
             "program[0].raise.message: longer than 256 characters"),
            ("- new_future: " + "f" * 65, "program[0].new_future: longer than 64 characters"),
            ("- socketpair: [a, b]\n- send: {fd: a, data: %s}" % ("d" * 4097),
             "program[1].send.data: longer than 4096 characters"),
            ("- socketpair: [a, b]\n- recv: {fd: a, size: 4294967298}",
             "program[1].recv.size: expected a value <= 65536, got 4294967298"),
            ("- repeat: {times: 1000000000000, do: []}",
             "program[0].repeat.times: expected a value <= 100000"),
            ("- external: {at: nan, do: []}", "program[0].external.at: expected a number or one "
                                              "of the strings \"inf\", \"-inf\" (not \"nan\")"),
        ]
        for text, expected in cases:
            with self.subTest(expected=expected):
                self.assertIn(expected, self.one(body(text)))
        load_text(body("- record: " + "x" * 256), "s.yaml")
        load_text(body("- repeat: {times: 100000, do: []}"), "s.yaml")

    def test_budget_maxima(self):
        for key, too_big in (("iterations", 1000001), ("callbacks", 1000001),
                             ("operations", 10000001), ("events", 1000001), ("time", 1e13)):
            with self.subTest(key=key):
                text = HEADER.replace("program:", "budget: {%s: %r}\nprogram:" % (key, too_big))
                self.assertIn("budget.%s: expected a value <=" % key,
                              self.one(text + "  - record: a\n"))
        load_text(HEADER.replace("program:", "budget: {operations: 10000000, events: 5}\n"
                                             "program:") + "  - record: a\n", "s.yaml")

    def test_empty_directory(self):
        with tempfile.TemporaryDirectory() as tmp:
            for command in (["lint"], ["compile", "--out", os.path.join(tmp, "b.json")]):
                with self.subTest(command=command[0]):
                    proc = run_cli(*command, tmp)
                    self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                    self.assertRegex(proc.stdout + proc.stderr,
                                     r"(?m)^\S+:1:1: no scenario here \(no \*\.yaml file")

    def test_internal_errors_become_one_line(self):
        from unittest import mock
        with mock.patch("aiospec_spec.loader.normalise", side_effect=KeyError("boom")):
            self.assertEqual(self.refused(body("- record: a")),
                             ["s.yaml:1:1: internal loader error: KeyError: 'boom'"])

    def test_fixtures_end_quickly_through_the_cli(self):
        # One process per command: lint, show and compile of a raw ESC byte.
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(tmp) / "esc.yaml"
            f.write_bytes(body("- record: a\x1bb").encode())
            for command in (["lint", f], ["show", f],
                            ["compile", "--out", Path(tmp) / "b.json", f]):
                with self.subTest(command=command[0]):
                    proc = run_cli(*command)
                    self.assertEqual(proc.returncode, 2)
                    out = (proc.stdout + proc.stderr).splitlines()
                    self.assertTrue(any(l.endswith("esc.yaml:7:14: control character U+001B "
                                                   "(ESC) is not allowed in a scenario")
                                        for l in out), out)
                    self.assertNotIn("Traceback", proc.stderr)


class Names(LimitTestCase):

    def test_document_order(self):
        self.assertIn("program[0].cancel: handle 'h' is used before it is defined (line 8)",
                      self.one(body("- cancel: h\n- call_soon: {as: h, do: []}")))
        self.assertIn("future 'f' is used before it is defined (line 8)",
                      self.one(body("- done: f\n- new_future: f")))
        # A callback runs later: it may name what the program defines after it (ORD-05).
        load_text(body("- call_soon: [{cancel: h}]\n- call_soon: {as: h, do: []}"), "s.yaml")
        # Inside the definition's own block, the name is bound.
        load_text(body("- call_soon: {as: h, do: [{cancel: h}]}"), "s.yaml")

    def test_defined_once(self):
        self.assertIn("program[1].new_loop: loop 'l' is already defined (line 7)",
                      self.one(body("- new_loop: l\n- new_loop: l")))
        self.assertIn("socket 'b' is already defined (line 7)",
                      self.one(body("- socketpair: [a, b]\n- socketpair: [c, b]")))
        self.assertIn("loop 'main' cannot be defined",
                      self.one(body("- new_loop: main")))
        load_text(body("- call_soon: {as: h, do: []}\n- call_soon: {as: h, do: []}"), "s.yaml")

    def test_definitions_in_a_repeat_need_the_placeholder(self):
        self.assertIn("future 'f' is defined inside a repeat: put {i} in the name",
                      self.one(body("- repeat: {times: 2, do: [{new_future: f}]}")))
        self.assertIn("put {j} in the name",
                      self.one(body("- repeat: {times: 2, var: j, do: [{repeat: {times: 2, "
                                    "do: [{new_future: 'f{i}'}]}}]}")))
        load_text(body("- repeat: {times: 2, do: [{new_future: 'f{i}'}, {done: 'f{i}'}]}"),
                  "s.yaml")


class OwnPrefix(unittest.TestCase):
    """A loop author's scenarios outside spec/ with their own prefix lint, show and compile."""

    def test_outside_spec(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp) / "mine"
            d.mkdir()
            (d / "a.yaml").write_text(HEADER.replace("io-0001", "myloop-0001")
                                      .replace("level: must", "level: cpython")
                                      + "  - record: a\n", encoding="utf-8")
            proc = run_cli("lint", d)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("lint: 1 scenarios", proc.stdout)
            proc = run_cli("show", d / "a.yaml")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn('"id": "myloop-0001"', proc.stdout)
            proc = run_cli("compile", "--out", Path(tmp) / "b.json", d)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("myloop-0001", (Path(tmp) / "b.json").read_text())
            (d / "b.yaml").write_text(HEADER.replace("io-0001", "MyLoop-1")
                                      + "  - record: a\n", encoding="utf-8")
            proc = run_cli("lint", d / "b.yaml")
            self.assertEqual(proc.returncode, 2)
            self.assertIn("id: expected an id such as 'tmr-0012'", proc.stdout)

    def test_inside_spec_the_prefix_is_the_projects(self):
        text = HEADER.replace("io-0001", "myloop-0001") + "  - record: a\n"
        lines = []
        try:
            load_text(text, "spec/io/x.yaml", path=REPO / "spec" / "io" / "x.yaml")
        except LoadError as exc:
            lines = [str(d) for d in exc.diagnostics]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("id: id prefix 'myloop' is not one of the project's (ord, tmr, lif, io, "
                      "fut, tsk, cxl, exc, dbg)", lines[0])


if __name__ == "__main__":
    unittest.main()
