"""The loader: bad fixtures give one precise line each, good ones normalise as README says."""

import json
import os
import tempfile
import unittest
from pathlib import Path

import jsonschema

from aiospec_spec import paths, schemagen
from aiospec_spec.errors import LoadError
from aiospec_spec.loader import discover, load, load_tree

from .util import BAD, GOOD, REPO, expectation, run_cli


def _bad_fixtures():
    return sorted(BAD.glob("*.yaml"))


def _one_error(path):
    try:
        load(path)
    except LoadError as exc:
        return [str(d) for d in exc.diagnostics]
    return []


class BadFixtures(unittest.TestCase):
    """Each tools/tests/bad/*.yaml starts with `# expect: <regex>`: exactly one error line,
    matching the regex (searched), and the CLI exits 2 printing that line."""

    def setUp(self):
        self._cwd = os.getcwd()
        os.chdir(REPO)          # messages show paths relative to the working directory

    def tearDown(self):
        os.chdir(self._cwd)

    def test_fixtures_exist(self):
        self.assertGreaterEqual(len(_bad_fixtures()), 10)

    def test_each_bad_fixture(self):
        for path in _bad_fixtures():
            with self.subTest(fixture=path.name):
                lines = _one_error(path)
                self.assertEqual(len(lines), 1, "expected exactly one error, got:\n" +
                                 "\n".join(lines))
                self.assertRegex(lines[0], expectation(path))
                self.assertEqual(lines[0].count("\n"), 0)

    def test_cli_exit_2(self):
        for path in _bad_fixtures():
            with self.subTest(fixture=path.name):
                proc = run_cli("lint", path.relative_to(REPO))
                self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                self.assertRegex(proc.stdout, "(?m)" + expectation(path).rstrip("$") + "$")
                self.assertRegex(proc.stdout, r"(?m)^lint: 0 scenarios, \d+ clauses "
                                              r"\(0 referenced\), 1 errors$")

    def test_duplicate_id_across_files(self):
        d = BAD / "dup-id"
        tree = load_tree([d])
        lines = [str(x) for x in tree.diagnostics]
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], expectation(d / "b.yaml"))
        self.assertIn("a.yaml", lines[0])
        self.assertIn("b.yaml", lines[0])
        proc = run_cli("lint", d.relative_to(REPO))
        self.assertEqual(proc.returncode, 2)
        self.assertRegex(proc.stdout, r"(?m)^lint: 1 scenarios, .* 1 errors$")

    def test_compile_refuses_bad_input(self):
        out = REPO / "tools" / "tests" / "_should_not_exist.json"
        proc = run_cli("compile", "--out", out, BAD / "unknown-op.yaml")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unknown operation 'cal_soon'", proc.stderr)
        self.assertFalse(out.exists())

    def test_show_bad_input(self):
        proc = run_cli("show", BAD / "missing-field.yaml")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("'delay' is required", proc.stderr)


HEADER = """id: io-0001
title: t
clauses: [ORD-04]
features: [fd-io, futures, threads, policies, multiple-loops, float-specials]
level: must
program:
"""


class Messages(unittest.TestCase):
    """One operation line -> the one error line it must give (after the location)."""

    CASES = [
        ("- socketpair: a", "program[0].socketpair: expected a list of two names, or a mapping "
                            "{names}, got 'a'"),
        ("- socketpair: [a, a]", "program[0].socketpair: duplicate entries: 'a'"),
        ("- socketpair: [a]", "program[0].socketpair: needs at least 2 items"),
        ("- burn: -1", "program[0].burn: expected a value >= 0, got -1"),
        ("- repeat: {times: 1.5, do: []}", "program[0].repeat.times: expected an integer (>= 0), "
                                           "got 1.5"),
        ("- set_event_loop: {loop: 5}", "program[0].set_event_loop.loop: expected a loop name or "
                                        "null, got 5"),
        ("- record: {}", "program[0].record: 'label' is required"),
        ("- {}", "program[0]: empty mapping: an operation needs a name"),
        ("- {record: a, stop: }", "program[0]: an operation is a mapping with exactly one key, "
                                  "the operation name; got 2 keys (record, stop)"),
        ("- run_forever: 1", "program[0].run_forever: expected nothing (`run_forever:`), or a "
                             "mapping {loop?}, got 1"),
        ("- send: {fd: a, data: caf\u00e9}", "program[0].send.data: expected ASCII text"),
        ("- call_soon: [{record: [x]}]", "program[0].call_soon[0].record: expected a label "
                                         "string, or a mapping {label}, got a list"),
        ("- call_soon: {do: [], loop: nope}", "program[0].call_soon.loop: loop 'nope' is not "
                                              "defined by any new_loop or run `as:` in this scenario"),
        ("- new_future: f\n- set_result: {future: f, value: [1]}",
         "program[1].set_result.value: expected a string, number, boolean or null, got a list"),
        ("- call_soon: [{cancel: 't{i}'}]\n- repeat: {times: 2, do: [{call_later: "
         "{delay: 1, as: 't{i}', do: []}}]}", None),                 # templates match
        ("- repeat: {times: 2, var: j, do: [{call_soon: {as: 'h{j}', do: []}}]}\n"
         "- cancel: h1", None),
    ]

    def test_messages(self):
        with tempfile.TemporaryDirectory() as tmp:
            for i, (ops_text, expected) in enumerate(self.CASES):
                with self.subTest(case=ops_text):
                    f = Path(tmp) / ("c%d.yaml" % i)
                    body = "\n".join("  " + line for line in ops_text.split("\n"))
                    f.write_text(HEADER + body + "\n", encoding="utf-8")
                    try:
                        load(f)
                        lines = []
                    except LoadError as exc:
                        lines = [str(d) for d in exc.diagnostics]
                    if expected is None:
                        self.assertEqual(lines, [])
                        continue
                    self.assertEqual(len(lines), 1, lines)
                    self.assertRegex(lines[0], r"^\S+:\d+:\d+: ")
                    self.assertIn(expected, lines[0])


class Since(unittest.TestCase):
    """Operations that exist from a CPython version on (ops.Op.since, arg_since), create_task's
    group and loop, wait.of: one line each."""

    HEAD = ("id: cxl-0001\ntitle: t\nclauses: [CXL-09]\nlevel: cpython\n"
            "features: [futures, tasks, timeouts, task-groups, eager-tasks, runner]\n")
    CASES = [
        ("", "- create_task: {do: [{timeout: {delay: 1, do: []}}]}",
         """program[0].create_task.do[0].timeout: 'timeout' needs CPython 3.11+; set python: """
         """{min: "3.11"}"""),
        ('python: {min: "3.11"}\n', "- create_task: {do: [{timeout: {delay: 1, do: []}}]}",
         None),
        ('python: {min: "3.11"}\n', "- set_task_factory: eager",
         """program[0].set_task_factory: 'set_task_factory' needs CPython 3.12+; set python: """
         """{min: "3.12"}"""),
        ('python: {min: "3.12"}\n', "- set_task_factory: eager\n- set_task_factory: {factory: null}",
         None),
        ("", "- create_task: {do: [{task_group: {as: g, do: [{create_task: {group: g, do: []}}]}}]}",
         "'task_group' needs CPython 3.11+"),
        ('python: {min: "3.11"}\n',
         "- create_task: {do: [{task_group: {as: g, do: [{create_task: {group: g, loop: main, do: []}}]}}]}",
         "create_task: 'group' and 'loop' exclude each other"),
        ("", "- new_future: f\n- create_task: {do: [{wait: {of: [f, f]}}]}",
         "program[1].create_task.do[0].wait.of: duplicate entries: 'f'"),
        ("", "- new_future: f\n- create_task: {do: [{wait: {of: [f], return_when: FIRST}}]}",
         "expected one of FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED"),
        ("", "- run: {do: [{wait: {of: []}}], as: r}", None),
        ("", "- run: {do: [], as: r}\n- is_closed: {loop: r}",
         "loop 'r' needs feature 'multiple-loops'"),
        ('python: {min: "3.11"}\n', "- expired: t", "timeout 't' is not defined"),
    ]

    def test_messages(self):
        with tempfile.TemporaryDirectory() as tmp:
            for i, (python, ops_text, expected) in enumerate(self.CASES):
                with self.subTest(case=ops_text, python=python):
                    f = Path(tmp) / ("s%d.yaml" % i)
                    body = "\n".join("  " + line for line in ops_text.split("\n"))
                    f.write_text(self.HEAD + python + "program:\n" + body + "\n",
                                 encoding="utf-8")
                    try:
                        load(f)
                        lines = []
                    except LoadError as exc:
                        lines = [str(d) for d in exc.diagnostics]
                    if expected is None:
                        self.assertEqual(lines, [])
                        continue
                    self.assertEqual(len(lines), 1, lines)
                    self.assertIn(expected, lines[0])


class Normalisation(unittest.TestCase):

    def test_short_forms_equal_long_forms(self):
        short = load(GOOD / "short-forms.yaml")
        long_ = load(GOOD / "long-forms.yaml")
        self.assertEqual(json.dumps(short, sort_keys=True), json.dumps(long_, sort_keys=True))

    def test_coroutine_short_forms_expand_to_the_long_forms(self):
        short = load(GOOD / "coroutines-short.yaml")
        long_ = load(GOOD / "coroutines-long.yaml")
        self.assertEqual(json.dumps(short, sort_keys=True), json.dumps(long_, sort_keys=True))
        body = short["program"][5]["create_task"]["do"]
        self.assertEqual(body[0], {"await": {"on": "f"}})
        self.assertEqual(body[1], {"sleep": {"delay": 0.0}})
        self.assertEqual(body[6]["shield"]["on"], {"coroutine": [{"sleep": {"delay": 1.0}}]})
        self.assertEqual(body[8]["try"]["finally"], [{"return": {"value": None}}])
        self.assertEqual(body[9], {"return": {"value": "done"}})

    def test_canonical_shapes(self):
        s = load(GOOD / "short-forms.yaml")
        prog = s["program"]
        self.assertEqual(prog[0], {"record": {"label": "a"}})
        self.assertEqual(prog[1], {"burn": {"seconds": 1.0}})
        self.assertEqual(prog[3]["call_soon"]["do"][1], {"cancel": {"handle": "h"}})
        self.assertEqual(prog[4], {"call_soon_threadsafe": {"do": [{"stop": {}}]}})
        self.assertEqual(prog[8], {"run_forever": {}})          # defaults are not filled in
        self.assertEqual(prog[12], {"socketpair": {"names": ["r", "w"]}})
        self.assertEqual(prog[15], {"recv": {"fd": "r"}})
        self.assertEqual(prog[17], {"get_event_loop": {}})

    def test_numbers(self):
        s = load(GOOD / "short-forms.yaml")
        later = s["program"][5]["call_later"]
        self.assertIsInstance(later["delay"], float)           # `delay: 2` -> 2.0
        self.assertEqual(s["program"][6]["call_at"]["when"], "inf")
        self.assertIsInstance(s["budget"]["time"], float)
        self.assertIsInstance(s["budget"]["iterations"], int)
        self.assertIsInstance(s["program"][-1]["repeat"]["times"], int)

    def test_canonical_output_matches_canonical_schema(self):
        validator = jsonschema.Draft202012Validator(schemagen.build(canonical=True))
        for f in [GOOD / "short-forms.yaml", GOOD / "yaml12-scalars.yaml",
                  GOOD / "coroutines-short.yaml"]:
            with self.subTest(f=f.name):
                errors = list(validator.iter_errors(load(f)))
                self.assertEqual(errors, [], [e.message for e in errors])

    def test_yaml12_scalars_stay_strings(self):
        s = load(GOOD / "yaml12-scalars.yaml")
        labels = [op["record"]["label"] for op in s["program"] if "record" in op]
        self.assertEqual(labels, ["on", "no", "yes", "off", "y", "true"])
        values = [op["set_result"]["value"] for op in s["program"] if "set_result" in op]
        self.assertEqual(values, [10, 31, 1000.0, True, None, "2001-12-14", "1_000", "NO"])
        self.assertIs(type(values[0]), int)

    def test_show_prints_canonical_json(self):
        proc = run_cli("show", GOOD / "short-forms.yaml")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout), load(GOOD / "short-forms.yaml"))


class SpecTree(unittest.TestCase):
    """Every scenario in the real spec/ tree loads and is canonical-schema clean."""

    def test_every_spec_file_loads(self):
        files, diags = discover([paths.SPEC])
        if not files:
            self.skipTest("no scenarios under spec/ yet")
        self.assertEqual([str(d) for d in diags], [])
        tree = load_tree([paths.SPEC])
        self.assertEqual([str(d) for d in tree.diagnostics], [])
        validator = jsonschema.Draft202012Validator(schemagen.build(canonical=True))
        for s in tree.scenarios:
            with self.subTest(path=s.shown):
                self.assertEqual([e.message for e in validator.iter_errors(s.canonical)], [])


if __name__ == "__main__":
    unittest.main()


class CopiedScenarios(unittest.TestCase):
    """Scenarios that are one program under two python ranges, because a range is one interval
    of minor versions and the behaviour has a hole (lif-0028 up to 3.12, lif-0040 from 3.14:
    3.13.0-3.13.2 have gh-130145). The copies must not drift apart."""

    COPIES = [("lifecycle/failed-nested-run-keeps-state.yaml",
               "lifecycle/failed-nested-run-keeps-state-3-14.yaml")]

    def test_same_program(self):
        for first, second in self.COPIES:
            with self.subTest(first=first):
                a, b = (load(paths.SPEC / name) for name in (first, second))
                self.assertEqual(a["program"], b["program"])
                self.assertEqual((a["clauses"], a["features"], a["level"]),
                                 (b["clauses"], b["features"], b["level"]))
