"""clauses.yaml, features.txt and the generated schemas."""

import hashlib
import json
import re
import unittest

import jsonschema

from aiospec_oracle import trace as oracle_trace
from aiospec_oracle import ops
from aiospec_spec import loader, paths, schemagen
from aiospec_spec.catalog import load_catalog

# The inventory's clause ids (asyncio-semantics.md): area prefix -> count.
INVENTORY = {"ORD": 10, "TMR": 10, "FUT": 6, "TSK": 10, "CXL": 12, "EXC": 8, "DBG": 9, "LIF": 12}


class Clauses(unittest.TestCase):

    def setUp(self):
        self.cat = load_catalog()

    def test_catalogue_is_clean(self):
        self.assertEqual([str(d) for d in self.cat.diagnostics], [])

    def test_every_inventory_clause(self):
        expected = {"%s-%02d" % (p, n) for p, count in INVENTORY.items()
                    for n in range(1, count + 1)}
        # The inventory's clauses, plus the project's own I/O readiness clauses (IOR-NN) and
        # TSK-11 (a task's outcome is its coroutine's, issue 7: documented, not in the
        # inventory, which lists only what loops get wrong), TSK-12 (asyncio.wait, issue 7),
        # CXL-13 (TaskGroup.cancel(), new in 3.15) and LIF-13 (the policy API's deprecation in
        # 3.14), both after the inventory.
        expected |= {"TSK-11", "TSK-12", "CXL-13", "LIF-13"}
        self.assertEqual({c for c in self.cat.clauses if not c.startswith("IOR-")}, expected)
        self.assertTrue({"IOR-01", "IOR-02", "IOR-03", "IOR-04"} <= set(self.cat.clauses))

    def test_entries(self):
        for cid, entry in self.cat.clauses.items():
            with self.subTest(clause=cid):
                self.assertNotIn("\n", entry["statement"])
                self.assertIsInstance(entry["documented"], bool)
                self.assertLessEqual(len(entry["statement"]), 240)

    def test_features(self):
        self.assertIn("threads", self.cat.features)
        for op in ops.OPS.values():
            if op.feature:
                self.assertIn(op.feature, self.cat.features)


class Schemas(unittest.TestCase):

    def test_generated_schemas_are_up_to_date(self):
        for path, text in schemagen.outputs():
            with self.subTest(path=path.name):
                self.assertTrue(path.exists(), "run python3 -m aiospec_spec.schemagen")
                self.assertEqual(path.read_text(encoding="utf-8"), text,
                                 "%s is stale: run python3 -m aiospec_spec.schemagen" % path)

    def test_schemas_are_valid_2020_12(self):
        for path in (paths.SCENARIO_SCHEMA, paths.TRACE_SCHEMA):
            jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))

    def test_every_operation_in_schema(self):
        schema = json.loads(paths.SCENARIO_SCHEMA.read_text())
        self.assertEqual(set(schema["$defs"]["operation"]["properties"]), set(ops.OPS))
        for name in ops.OPS:
            self.assertIn("args." + name, schema["$defs"])
            self.assertFalse(schema["$defs"]["args." + name]["additionalProperties"])

    def test_operations_agree_with_the_oracle(self):
        try:
            from aiospec_oracle.interpreter import OPERATIONS
        except ImportError:
            self.skipTest("oracle not importable")
        self.assertEqual(set(OPERATIONS), set(ops.OPS))
        for name, (required, optional) in OPERATIONS.items():
            with self.subTest(op=name):
                self.assertEqual(set(required), set(ops.OPS[name].required))
                self.assertEqual(set(required) | set(optional), set(ops.OPS[name].args))


class CppTwins(unittest.TestCase):
    """The C++ interpreter's copies of the operation language's tables, read from its source:
    a table changed on one side only fails here, not in a scenario run."""

    def source(self, relative):
        return (paths.REPO / relative).read_text()

    def test_operation_table(self):
        text = self.source("conformance/src/interpreter.cpp")
        rows = re.findall(r'\{"(\w+)",\s*\{\{([^}]*)\},\s*\{([^}]*)\},\s*(?:&Impl::|nullptr)', text)
        names = lambda part: {n for n in re.findall(r'"(\w+)"', part)}
        table = {name: (names(req), names(opt)) for name, req, opt in rows}
        self.assertEqual(set(table), set(ops.OPS))
        for name, (required, optional) in table.items():
            with self.subTest(op=name):
                self.assertEqual(required, set(ops.OPS[name].required))
                self.assertEqual(required | optional, set(ops.OPS[name].args))
                coroutine_only = re.search(r'\{"%s", \{[^\n]*nullptr, &Impl::' % name, text)
                self.assertEqual(bool(coroutine_only), ops.OPS[name].coroutine_only)

    def test_exception_types(self):
        text = self.source("conformance/src/detail/python_exceptions.cpp")
        rows = re.findall(r'\{"(\w+)", \{([^}]*)\}\}', text)
        table = {name: tuple(re.findall(r'"(\w+)"', bases)) for name, bases in rows}
        self.assertEqual(table, dict(ops.EXCEPTION_TYPES))

    def test_raisable(self):
        text = self.source("conformance/src/interpreter.cpp")
        block = re.search(r"bool raisable\(const std::string& type\) \{(.*?)\n\}", text, re.S).group(1)
        self.assertEqual(set(re.findall(r'"(\w+)"', block)), set(ops.RAISABLE))


    def test_settable(self):
        """set_exception takes RAISABLE and StopIteration; the C++ interpreter says so once."""
        self.assertEqual(set(ops.SETTABLE) - set(ops.RAISABLE), {"StopIteration"})
        text = self.source("conformance/src/interpreter.cpp")
        self.assertIn('!raisable(type) && type != "StopIteration"', text)


class Hashing(unittest.TestCase):

    def test_formula(self):
        """The loader's hash is the oracle's, and it is the formula TRACE.md documents."""
        s = {"b": [1.0, "x"], "a": {"z": None, "y": True}}
        self.assertIs(loader.scenario_sha256, oracle_trace.scenario_sha256)
        self.assertEqual(loader.scenario_sha256(s),
                         hashlib.sha256(b'{"a":{"y":true,"z":null},"b":[1.0,"x"]}').hexdigest())


if __name__ == "__main__":
    unittest.main()
