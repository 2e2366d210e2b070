"""The fuzz generator (tools/aiospec_spec/fuzzgen.py): valid, reproducible programs, a YAML writer
the loader reads back exactly, and a minimiser checked against fake comparators."""

import json
import unittest

from aiospec_spec import fuzzgen
from aiospec_spec.errors import LoadError

SAMPLE = 150


def _ops(block):
    return list(fuzzgen._walk(block))


class Generator(unittest.TestCase):
    def test_a_program_is_a_function_of_seed_and_index(self):
        self.assertEqual(fuzzgen.generate(7, 3), fuzzgen.generate(7, 3))
        self.assertNotEqual(fuzzgen.generate(7, 3), fuzzgen.generate(7, 4))
        self.assertNotEqual(fuzzgen.generate(7, 3), fuzzgen.generate(8, 3))
        # Independent of what was generated before it.
        fuzzgen.generate(7, 2)
        self.assertEqual(fuzzgen.generate(7, 3), fuzzgen.generate(7, 3))

    def test_every_program_loads_back_to_itself(self):
        for index in range(SAMPLE):
            canonical = fuzzgen.generate(1, index)
            with self.subTest(index=index):
                self.assertEqual(json.loads(fuzzgen.check(canonical)), canonical)

    def test_features_are_exactly_what_the_operations_need(self):
        optional = {"select-trace", "timer-heap-ties", "log-trace"}
        for index in range(40):
            canonical = fuzzgen.generate(2, index)
            needed = [f for f in canonical["features"] if f not in optional]
            for feature in needed:
                with self.subTest(index=index, dropped=feature):
                    fewer = dict(canonical, features=[f for f in canonical["features"] if f != feature])
                    with self.assertRaises(LoadError):
                        fuzzgen.load(fuzzgen.to_yaml(fewer))

    def test_float_specials_in_every_float_argument(self):
        # Found by the long fuzz run: external.at "inf" (a float type of its own in the new
        # table) was not seen as needing float-specials, and the loader refused the program.
        program = [{"external": {"at": "-inf", "do": [{"record": {"label": "x"}}]}}]
        self.assertIn("float-specials", fuzzgen.features_for(program))
        fuzzgen.check(fuzzgen.scenario(program))

    def test_the_generator_covers_the_language(self):
        seen = set()
        for index in range(400):
            seen.update(name for name, _ in _ops(fuzzgen.generate(3, index)["program"]))
        python_only = {name for name, op in fuzzgen.ops.OPS.items() if op.python_only}
        # CPython 3.12+ (3.15+) only, and the fuzz oracle is the embedded CPython (3.11 on
        # Debian 12).
        newer_than_the_fuzz_oracle = {"set_task_factory", "cancel_task_group"}
        missing = (set(fuzzgen.ops.OPS) - python_only - newer_than_the_fuzz_oracle - seen)
        self.assertEqual(missing, set())

    def test_newer_operations_set_the_python_range(self):
        for index in range(SAMPLE):
            canonical = fuzzgen.generate(7, index)
            since = [fuzzgen.ops.since_of(n, a) for n, a in _ops(canonical["program"])]
            if any(since):
                self.assertEqual(canonical["python"], {"min": "3.11"}, index)
            else:
                self.assertNotIn("python", canonical, index)

    def test_a_task_group_has_one_child_to_cancel(self):
        for index in range(SAMPLE):
            children = {}
            for name, args in _ops(fuzzgen.generate(9, index)["program"]):
                if name == "create_task" and "group" in args:
                    children[args["group"]] = children.get(args["group"], 0) + 1
            self.assertTrue(all(n == 1 for n in children.values()), (index, children))

    def test_a_run_leaves_nothing_for_its_teardown_to_cancel_in_set_order(self):
        spawning = {"gather", "shield", "wait_for", "timeout", "timeout_at", "stop"}
        for index in range(SAMPLE):
            for name, args in _ops(fuzzgen.generate(8, index)["program"]):
                if name == "run":
                    inside = {n for n, _ in _ops(args["do"])}
                    self.assertEqual(inside & spawning, set(), index)

    def test_io_rules(self):
        """One socketpair; registrations on one end only; that end is never closed."""
        for index in range(SAMPLE):
            program = fuzzgen.generate(4, index)["program"]
            ops = _ops(program)
            pairs = [a["names"] for n, a in ops if n == "socketpair"]
            self.assertLessEqual(len(pairs), 1)
            watched = {a["fd"] for n, a in ops if n in ("add_reader", "add_writer")}
            self.assertLessEqual(len(watched), 1, index)
            closed = {a["fd"] for n, a in ops if n == "close_fd"}
            self.assertFalse(watched & closed, index)

    def test_external_times_are_never_nan(self):
        for index in range(400):
            for name, args in _ops(fuzzgen.generate(8, index)["program"]):
                if name == "external":
                    self.assertNotEqual(args["at"], "nan", index)

    def test_definitions_only_at_top_level_and_once(self):
        for index in range(SAMPLE):
            program = fuzzgen.generate(5, index)["program"]
            top = [next(iter(op)) for op in program]
            nested = [n for n, _ in _ops(program)]
            for kind in ("new_loop", "new_future", "socketpair"):
                self.assertEqual(top.count(kind), nested.count(kind), (index, kind))
            names = [a["name"] for n, a in _ops(program) if n in ("new_loop", "new_future")]
            self.assertEqual(len(names), len(set(names)))

    def test_max_ops_bounds_the_program(self):
        for index in range(30):
            small = fuzzgen.generate(6, index, max_ops=5)
            # The run phases add a few operations of their own (a stop, the run); a program that
            # observes reports a handler, debug mode and a threshold per loop (3 loops at most)
            # and a drop per future (2 at most) and per task (one per operation at most).
            self.assertLessEqual(fuzzgen.size(small), 5 + 3 * 6 + 3 * 3 + 2 + 5)


class Yaml(unittest.TestCase):
    def test_awkward_scalars_round_trip(self):
        program = [
            {"record": {"label": "on"}}, {"record": {"label": "123"}}, {"record": {"label": "a: b"}},
            {"record": {"label": "em\u2003space \"q\" é 😀"}}, {"record": {"label": "null"}},
            {"call_later": {"delay": "inf", "do": []}},
            {"call_later": {"delay": 1e-10, "as": "t-{i}", "do": [{"record": {"label": "-"}}]}},
            {"burn": {"seconds": 0.1}},
        ]
        canonical = fuzzgen.scenario(program)
        self.assertEqual(json.loads(fuzzgen.check(canonical)), canonical)

    def test_comment_lines(self):
        text = fuzzgen.to_yaml(fuzzgen.scenario([{"record": {"label": "a"}}]), "one\ntwo")
        self.assertTrue(text.startswith("# one\n# two\nid: "))


def _labels(program):
    return [a["label"] for n, a in _ops(program) if n == "record"]


class Minimiser(unittest.TestCase):
    """The minimiser against fake comparators: it must shrink to what the predicate needs."""

    def program(self):
        return fuzzgen.scenario([
            {"record": {"label": "noise-1"}},
            {"call_soon": {"do": [{"record": {"label": "noise-2"}}, {"burn": {"seconds": 0.5}}]}},
            {"call_later": {"delay": 2.5, "as": "t1", "do": [
                {"call_soon": {"do": [{"record": {"label": "needle"}}, {"record": {"label": "noise-3"}}]}},
                {"stop": {}}]}},
            {"repeat": {"times": 5, "do": [{"record": {"label": "r{i}"}}]}},
            {"cancel": {"handle": "t1"}},
            {"run_forever": {}},
        ], select_trace=True)

    def test_removes_and_unwraps_down_to_the_needle(self):
        calls = []

        def fails(candidate):
            calls.append(candidate)
            return "needle" in _labels(candidate["program"])

        best, tests = fuzzgen.minimise(self.program(), fails)
        self.assertEqual(best["program"], [{"record": {"label": "needle"}}])
        self.assertEqual(best["features"], [])          # recomputed, select-trace dropped
        self.assertEqual(tests, len(calls))

    def test_keeps_structure_the_predicate_needs(self):
        def fails(candidate):
            program = candidate["program"]
            timers = [a for n, a in _ops(program) if n == "call_later"]
            return any("needle" in _labels(t["do"]) for t in timers)

        best, _ = fuzzgen.minimise(self.program(), fails)
        # The needle stays inside a timer, the timer's number is simplified, the rest is gone.
        self.assertEqual(best["program"], [{"call_later": {"delay": 0.0, "do": [{"record": {"label": "needle"}}]}}])

    def test_reduces_repeat_times(self):
        def fails(candidate):
            reps = [a for n, a in _ops(candidate["program"]) if n == "repeat"]
            return any(len(r["do"]) and r["times"] >= 2 for r in reps)

        best, _ = fuzzgen.minimise(self.program(), fails)
        self.assertEqual(best["program"], [{"repeat": {"times": 2, "do": [{"record": {"label": "r{i}"}}]}}])

    def test_a_candidate_that_raises_is_not_kept(self):
        def fails(candidate):
            if len(candidate["program"]) < 6:
                raise RuntimeError("loader refused it")
            return True

        best, _ = fuzzgen.minimise(self.program(), fails)
        self.assertEqual(len(best["program"]), 6)

    def test_stops_after_max_tests(self):
        calls = []

        def fails(candidate):
            calls.append(1)
            return False

        best, tests = fuzzgen.minimise(self.program(), fails, max_tests=7)
        self.assertEqual((tests, len(calls)), (7, 7))
        self.assertEqual(best, self.program())

    def test_result_of_a_real_program_loads(self):
        canonical = fuzzgen.generate(1, 11)
        best, _ = fuzzgen.minimise(canonical, lambda c: fuzzgen.size(c) >= 3 and bool(fuzzgen.check(c)))
        self.assertEqual(fuzzgen.size(best), 3)
        fuzzgen.check(best)


if __name__ == "__main__":
    unittest.main()
