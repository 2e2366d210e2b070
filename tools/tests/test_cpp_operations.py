"""The C++ interpreter's operation table (conformance/src/interpreter.cpp) against ops.py, the
single source of truth: the same operations with the same required and optional arguments. The
C++ table is read as text, so that this check needs no build."""

import os
import re
import unittest

from aiospec_oracle import ops

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(ROOT, 'conformance', 'src', 'interpreter.cpp')

# {"name", {{"req", ...}, {"opt", ...}, &Impl::op_name[, &Impl::op_name_async]}}
ENTRY = re.compile(r'\{"(\w+)",\s*\{\{([^{}]*)\},\s*\{([^{}]*)\},\s*(?:nullptr|&Impl::)', re.S)


def cpp_operations():
    with open(SOURCE, encoding='utf-8') as f:
        text = f.read()
    start = text.index('static const std::map<std::string, Spec> table = {')
    table = text[start:text.index('\n  };', start)]
    strings = lambda s: frozenset(re.findall(r'"(\w+)"', s))
    return {m.group(1): (strings(m.group(2)), strings(m.group(3))) for m in ENTRY.finditer(table)}


class CppOperationTable(unittest.TestCase):

    def test_same_operations(self):
        self.assertEqual(sorted(cpp_operations()), sorted(ops.OPS))

    def test_same_arguments(self):
        table = cpp_operations()
        for name, op in ops.OPS.items():
            with self.subTest(operation=name):
                required, optional = table[name]
                self.assertEqual(required, frozenset(op.required), 'required arguments')
                self.assertEqual(optional, frozenset(op.optional), 'optional arguments')


if __name__ == '__main__':
    unittest.main()
