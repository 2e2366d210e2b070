"""Loader fuzzing: mutate the committed scenarios and check every outcome is honest.

``python3 -m aiospec_spec loader-fuzz --seed S --count N [--out DIR] [--limit SECONDS]``

Each input is a committed scenario (spec/<area>/*.yaml, as bytes) with one to four mutations:
byte flips, deletions, duplications and truncations, insertions of YAML syntax (anchors, aliases,
tags, brackets, colons, document markers), huge or non-finite numbers, deep nesting, control
bytes, surrogate escapes and bytes that are not UTF-8.  ``load_text`` must give, within the time
limit (signal based), either a Scenario or a LoadError whose every diagnostic is one printable
line starting with the input's name and `:line:col: `; an "internal loader error" (an exception
the loader did not expect, wrapped) counts as a finding too.  Each finding is written to DIR for
reproduction (`python3 -m aiospec_spec lint DIR/finding-N.yaml`) and described in one line.

Exit 0 when nothing was found, 1 otherwise, 2 for bad arguments.
"""

import random
import re
import signal
import sys
import time
from pathlib import Path

from . import paths
from .catalog import load_catalog
from .errors import LoadError
from .loader import Scenario, discover, load_text

TOKENS = [
    b"&a ", b"*a", b"&b [1, 2]", b"*b", b"!!python/object:os.system ", b"!!binary ", b"!x ",
    b"! ", b"!!str ", b"{", b"}", b"[", b"]", b":", b": ", b"- ", b"-", b",", b"? ", b"|", b">",
    b"'", b'"', b"#", b"\n", b"  ", b"\t", b"\r", b"\r\n", b"---\n", b"...\n", b"%YAML 1.1\n",
    b"%TAG ! tag:x,2000:\n", b"<<: ", b"~", b"null", b".nan", b".inf", b"-.inf", b"nan", b"inf",
    b"1e999", b"-1e999", b"1" * 400, b"9" * 5000, b"9223372036854775808",
    b"-9223372036854775809", b"0x" + b"f" * 40, b"0o777", b"1_000", b"4294967298", b"1e300",
    b"\x00", b"\x01", b"\x07", b"\x08", b"\x0b", b"\x0c", b"\x1b", b"\x7f", b"\xc2\x85",
    b"\xc2\x9f", b"\xe2\x80\xa8", b"\xef\xbb\xbf", b"\xef\xbf\xbe", b"\xef\xbf\xbf",
    b'"\\ud800"', b'"\\udfff"', b'"a\\x00b"', b'"\\x1b[31m"', b'"\\u0085"', b'"\\N"', b'"\\_"',
    b'"\\U0010ffff"', b'"\\U00110000"', b'"\\',
    b"\xff", b"\xfe", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf",
    b"[" * 200, b"[" * 1000, b"{a: " * 150, b"- " * 120, b"[" * 40 + b"]" * 40,
    b"record: ", b"call_soon: ", b"repeat: {times: 100001, do: []}", b"new_loop: main",
    b"cancel: h", b"as: h", b"socketpair: [a, a]", b"x" * 300, b"\xf0\x9f\x98\x80",
]

_NUMBER = re.compile(rb"(?<![A-Za-z0-9_.])[0-9]+(?:\.[0-9]+)?")
_HUGE = [b"1" * 30, b"1e309", b"-0", b"100001", b"65537", b"0", b"-1", b"1e-400", b"99999999999999999999"]


def _mutate(rng, data):
    kind = rng.randrange(9)
    n = len(data)
    at = rng.randrange(n + 1) if n else 0
    if kind == 0 and n:                                      # flip bits of one byte
        return data[:at] + bytes([data[min(at, n - 1)] ^ (1 << rng.randrange(8))]) \
            + data[min(at, n - 1) + 1:]
    if kind == 1 and n:                                      # delete a range
        return data[:at] + data[at + rng.randint(1, 40):]
    if kind == 2 and n:                                      # duplicate a range
        piece = data[at:at + rng.randint(1, 80)]
        where = rng.randrange(n + 1)
        return data[:where] + piece * rng.randint(1, 3) + data[where:]
    if kind == 3:                                            # truncate
        return data[:at]
    if kind == 4:                                            # duplicate or drop a line
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            lines.insert(i, lines[i])
        else:
            del lines[i]
        return b"\n".join(lines)
    if kind == 5:                                            # replace a number
        numbers = list(_NUMBER.finditer(data))
        if numbers:
            m = rng.choice(numbers)
            return data[:m.start()] + rng.choice(_HUGE) + data[m.end():]
    return data[:at] + rng.choice(TOKENS) + data[at:]        # insert YAML syntax or bytes


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that the loader's safety net cannot catch it."""


def _on_alarm(signum, frame):
    raise _Timeout()


def _problem(outcome, shown):
    """Why ``outcome`` of load_text is not honest, or None."""
    if isinstance(outcome, Scenario):
        return None
    if not isinstance(outcome, LoadError):
        return "raised %s: %s" % (type(outcome).__name__, " ".join(str(outcome).split())[:200])
    head = re.compile(re.escape(shown) + r":[0-9]+:[0-9]+: ")
    if not outcome.diagnostics:
        return "LoadError without diagnostics"
    for d in outcome.diagnostics:
        line = str(d)
        if not head.match(line):
            return "diagnostic does not start with file:line:col: %r" % line[:200]
        if re.search("[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ud800-\\udfff]", line):
            return "diagnostic is not one printable line: %r" % line[:200]
        if "internal loader error" in line:
            return line[:300]
    return None


def run(seed, count, out_dir, limit=2.0, stream=sys.stdout, seeds=None):
    """Fuzz ``count`` inputs; returns the number of findings."""
    rng = random.Random(seed)
    catalog = load_catalog()
    if seeds is None:
        files, _ = discover([paths.SPEC])
        seeds = [(f.name, f.read_bytes()) for f in files]
    if not seeds:
        print("loader-fuzz: no scenario to mutate", file=stream)
        return 1
    counts = {"loaded": 0, "refused": 0, "findings": 0}
    slowest = (0.0, None)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    start = time.monotonic()
    try:
        for n in range(count):
            name, data = seeds[rng.randrange(len(seeds))]
            for _ in range(rng.randint(1, 4)):
                data = _mutate(rng, data)
            shown = "fuzz-%d-%s" % (n, name)
            t0 = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                outcome = load_text(data, shown, catalog)
            except _Timeout:
                outcome = _Timeout()
            except BaseException as exc:          # noqa: anything at all is a finding
                outcome = exc
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.monotonic() - t0
            if elapsed > slowest[0]:
                slowest = (elapsed, shown)
            if isinstance(outcome, _Timeout):
                problem = "took more than %.1fs" % limit
            else:
                problem = _problem(outcome, shown)
            if problem is None:
                counts["loaded" if isinstance(outcome, Scenario) else "refused"] += 1
                continue
            counts["findings"] += 1
            out = Path(out_dir)
            out.mkdir(parents=True, exist_ok=True)
            target = out / ("finding-%d-%d.yaml" % (seed, n))
            target.write_bytes(data)
            print("loader-fuzz: finding %s (from %s): %s" % (paths.display(target), name,
                                                              problem), file=stream)
    finally:
        signal.signal(signal.SIGALRM, previous)
    total = time.monotonic() - start
    print("loader-fuzz: seed %d: %d inputs in %.1fs (%.0f inputs/s): %d loaded, %d refused, "
          "%d findings; slowest %.3fs" % (seed, count, total, count / total if total else 0,
                                          counts["loaded"], counts["refused"],
                                          counts["findings"], slowest[0]), file=stream)
    return counts["findings"]


def cmd_loader_fuzz(args):
    if args.count < 0 or args.limit <= 0:
        print("loader-fuzz: --count must be >= 0 and --limit > 0", file=sys.stderr)
        return 2
    return 1 if run(args.seed, args.count, args.out, args.limit) else 0
