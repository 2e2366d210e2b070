"""yaml12: YAML 1.2 core scalars, duplicate keys, marks."""

import math
import unittest

from aiospec_spec.yaml12 import parse


def value(text):
    data, _, errors = parse("v: %s\n" % text, "t.yaml")
    assert not errors, errors
    return data["v"]


class Scalars(unittest.TestCase):

    def test_yaml11_booleans_are_strings(self):
        for word in ["on", "off", "yes", "no", "y", "n", "On", "NO", "Yes"]:
            with self.subTest(word=word):
                self.assertEqual(value(word), word)

    def test_core_booleans(self):
        for word, expected in [("true", True), ("True", True), ("FALSE", False)]:
            self.assertIs(value(word), expected)

    def test_null(self):
        for word in ["", "~", "null", "Null", "NULL"]:
            self.assertIsNone(value(word))

    def test_numbers(self):
        self.assertEqual(value("010"), 10)            # not octal as in YAML 1.1
        self.assertEqual(value("0o17"), 15)
        self.assertEqual(value("0x1f"), 31)
        self.assertEqual(value("-3"), -3)
        self.assertEqual(value("1e3"), 1000.0)        # a string in YAML 1.1
        self.assertEqual(value("0.25"), 0.25)
        self.assertEqual(value(".5"), 0.5)
        self.assertIsInstance(value("1.0"), float)

    def test_yaml11_only_forms_are_strings(self):
        for text in ["1_000", "0b101", "1:30", "2001-12-14", "+.5e", "0x", ".Inf.x"]:
            with self.subTest(text=text):
                self.assertIsInstance(value(text), str)

    def test_non_finite_rejected(self):
        for text, word in [(".inf", "inf"), ("-.Inf", "-inf"), (".nan", "nan")]:
            data, _, errors = parse("v: %s\n" % text, "t.yaml")
            self.assertEqual(len(errors), 1)
            self.assertIn('write the string "%s"' % word, str(errors[0]))
            self.assertTrue(math.isinf(data["v"]) or math.isnan(data["v"]))

    def test_quoted_stays_string(self):
        self.assertEqual(value('"3.10"'), "3.10")
        self.assertEqual(value("'true'"), "true")


class Structure(unittest.TestCase):

    def test_duplicate_key(self):
        _, _, errors = parse("a: 1\nb:\n  x: 1\n  x: 2\n", "t.yaml")
        self.assertEqual([str(e) for e in errors],
                         ["t.yaml:4:3: b: duplicate key 'x' (first at line 3)"])

    def test_non_string_key(self):
        _, _, errors = parse("1: a\n", "t.yaml")
        self.assertIn("keys must be strings, got 1", str(errors[0]))

    def test_merge_key_is_not_special(self):
        data, _, errors = parse("m:\n  <<: {x: 1}\n", "t.yaml")
        self.assertEqual(errors, [])
        self.assertEqual(data["m"], {"<<": {"x": 1}})

    def test_anchors_aliases_and_tags_are_refused_where_they_are(self):
        for text, expected in [
                ("base: &b {x: 1}\n", "t.yaml:1:7: YAML anchors (&b) are not allowed"),
                ("a: 1\nm: [1, *b]\n", "t.yaml:2:8: YAML aliases (*b) are not allowed"),
                ("a: !!python/object:os.system x\n",
                 "t.yaml:1:4: YAML tags (!!python/object:os.system) are not allowed"),
                ("a: !x 1\n", "t.yaml:1:4: YAML tags (!x) are not allowed"),
                ("a: ! 1\n", "t.yaml:1:4: YAML tags (!) are not allowed")]:
            with self.subTest(text=text):
                data, _, errors = parse(text, "t.yaml")
                self.assertIsNone(data)
                self.assertEqual(len(errors), 1)
                self.assertTrue(str(errors[0]).startswith(expected), str(errors[0]))

    def test_integers_beyond_64_bits(self):
        _, _, errors = parse("a: 9223372036854775808\nb: -9223372036854775808\n", "t.yaml")
        self.assertEqual([str(e) for e in errors],
                         ["t.yaml:1:4: a: integer 9223372036854775808 is out of range (64 bits)"])

    def test_marks(self):
        data, marks, _ = parse("top:\n  - a: 1\n  - {b: [x, y]}\n", "t.yaml")
        self.assertEqual(marks.at(("top", 0, "a")), (2, 8))
        self.assertEqual(marks.at(("top", 0, "a"), prefer_key=True), (2, 5))
        self.assertEqual(marks.at(("top", 1, "b", 1)), (3, 13))
        self.assertEqual(marks.at(("top", 9, "zz")), (2, 3))   # nearest existing ancestor

    def test_syntax_error_has_position(self):
        data, _, errors = parse("a: [1, 2\nb: 3\n", "t.yaml")
        self.assertIsNone(data)
        self.assertRegex(str(errors[0]), r"^t\.yaml:2:\d+: YAML syntax error: ")

    def test_recursive_alias(self):
        _, _, errors = parse("a: &x [*x]\n", "t.yaml")
        self.assertTrue(errors)


if __name__ == "__main__":
    unittest.main()
