"""bench/ratios.py: naming, pairing (a backend/N variant with libuv at the same N), the scaling
table, and unavailable cases versus failed sanity checks. On synthetic Google Benchmark JSON."""

import importlib.util
import io
import unittest

from .util import REPO

_spec = importlib.util.spec_from_file_location("bench_ratios", REPO / "bench" / "ratios.py")
ratios = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ratios)


def run(name, ns, rep=0, family=0, instance=0):
    """One iteration run of `name` at `ns` ns/item."""
    return {"name": f"{name}/real_time", "run_name": f"{name}/real_time", "run_type": "iteration",
            "repetition_index": rep, "family_index": family, "per_family_instance_index": instance,
            "items_per_second": 1e9 / ns}


def skipped(name, message, family=0, instance=0):
    return {"name": f"{name}/real_time", "run_name": f"{name}/real_time", "run_type": "iteration",
            "family_index": family, "per_family_instance_index": instance,
            "error_occurred": True, "error_message": message}


IDLE = [
    # family 0: poll, 1: select, 2: epoll, 3: libuv; instances are N = 1, 64, 1024.
    run("BM_idle_pingpong/reference/poll/1", 100, family=0, instance=0),
    run("BM_idle_pingpong/reference/poll/64", 200, family=0, instance=1),
    run("BM_idle_pingpong/reference/poll/1024", 1000, family=0, instance=2),
    run("BM_idle_pingpong/reference/select/1", 110, family=1, instance=0),
    run("BM_idle_pingpong/reference/select/64", 300, family=1, instance=1),
    skipped("BM_idle_pingpong/reference/select/1024",
            "unavailable: select(2) cannot watch descriptors >= FD_SETSIZE (1024)", family=1, instance=2),
    run("BM_idle_pingpong/reference/epoll/1", 90, family=2, instance=0),
    run("BM_idle_pingpong/reference/epoll/64", 90, family=2, instance=1),
    run("BM_idle_pingpong/reference/epoll/1024", 90, family=2, instance=2),
    run("BM_idle_pingpong/libuv/1", 50, family=3, instance=0),
    run("BM_idle_pingpong/libuv/64", 50, family=3, instance=1),
    run("BM_idle_pingpong/libuv/1024", 60, family=3, instance=2),
]


class Naming(unittest.TestCase):
    def test_parse_name_strips_the_suffixes(self):
        self.assertEqual(ratios.parse_name("BM_idle_pingpong/reference/epoll/1024/real_time"),
                         ("idle_pingpong", "reference", "epoll/1024"))
        self.assertEqual(ratios.parse_name("BM_idle_pingpong/libuv/1024/real_time"),
                         ("idle_pingpong", "libuv", "1024"))
        self.assertEqual(ratios.parse_name("BM_call_soon_batch/reference/real_time"),
                         ("call_soon_batch", "reference", ""))

    def test_split_variant(self):
        self.assertEqual(ratios.split_variant("epoll/1024"), ("epoll", "1024"))
        self.assertEqual(ratios.split_variant("poll"), ("poll", ""))
        self.assertEqual(ratios.split_variant(""), ("", ""))


class Pairing(unittest.TestCase):
    def test_backend_and_n_pairs_with_libuv_at_the_same_n(self):
        samples, errors, _ = ratios.collect(IDLE)
        self.assertEqual(errors, [])
        rows, unpaired = ratios.pair_rows(samples)
        self.assertEqual(unpaired, [])
        by_variant = {(case, variant): (ref, uv, ratio) for case, variant, ref, uv, ratio, _, _ in rows}
        self.assertEqual(by_variant[("idle_pingpong", "epoll/1024")], (90, 60, 1.5))
        self.assertEqual(by_variant[("idle_pingpong", "poll/64")], (200, 50, 4.0))
        self.assertNotIn(("idle_pingpong", "select/1024"), by_variant)

    def test_a_backend_variant_pairs_with_the_plain_libuv_run(self):
        samples, _, _ = ratios.collect([
            run("BM_socketpair_pingpong/reference/poll", 300, family=0),
            run("BM_socketpair_pingpong/reference/io_uring", 200, family=1),
            run("BM_socketpair_pingpong/libuv", 100, family=2),
            run("BM_call_soon_batch/reference", 30, family=3),
            run("BM_call_soon_batch/libuv", 10, family=4),
        ])
        rows, unpaired = ratios.pair_rows(samples)
        self.assertEqual(unpaired, [])
        self.assertEqual([(r[0], r[1], r[4]) for r in rows],
                         [("socketpair_pingpong", "poll", 3.0), ("socketpair_pingpong", "io_uring", 2.0),
                          ("call_soon_batch", "", 3.0)])

    def test_an_n_without_a_libuv_run_is_unpaired_not_paired_with_another_n(self):
        samples, _, _ = ratios.collect([run("BM_idle_pingpong/reference/poll/64", 200),
                                        run("BM_idle_pingpong/libuv/1", 50, family=1)])
        rows, unpaired = ratios.pair_rows(samples)
        self.assertEqual(rows, [])
        self.assertEqual(unpaired, ["idle_pingpong/reference/poll/64"])

    def test_repetitions_give_the_median_and_the_spread_of_per_repetition_ratios(self):
        runs = []
        for rep, (ref, uv) in enumerate([(100, 50), (120, 40), (90, 60)]):
            runs += [run("BM_many_ready/reference/epoll", ref, rep=rep),
                     run("BM_many_ready/libuv", uv, rep=rep, family=1)]
        rows, _ = ratios.pair_rows(ratios.collect(runs)[0])
        (case, variant, ref_med, uv_med, ratio, spread, reps), = rows
        self.assertEqual((ref_med, uv_med, ratio, reps), (100, 50, 2.0, 3))
        self.assertEqual(spread, (1.5, 3.0))


class Curves(unittest.TestCase):
    def test_backend_by_n_with_ratios_and_reasons(self):
        samples, _, unavailable = ratios.collect(IDLE)
        curve = ratios.scaling_curves(samples, unavailable)["idle_pingpong"]
        self.assertEqual(curve["ns"], [1, 64, 1024])
        rows = dict(curve["rows"])
        self.assertEqual([b for b, _ in curve["rows"]], ["poll", "select", "epoll", "libuv"])
        self.assertEqual(rows["poll"][1024], (1000, 1000 / 60))
        self.assertEqual(rows["epoll"][1], (90, 90 / 50))
        self.assertEqual(rows["libuv"][64], (50, None))
        self.assertIn("FD_SETSIZE", rows["select"][1024])

    def test_cases_with_one_n_or_none_have_no_curve(self):
        samples, _, unavailable = ratios.collect([run("BM_many_ready/reference/poll", 10),
                                                  run("BM_many_ready/libuv", 5, family=1)])
        self.assertEqual(ratios.scaling_curves(samples, unavailable), {})

    def test_rendered_table(self):
        samples, _, unavailable = ratios.collect(IDLE)
        lines = ratios.render_curve("idle_pingpong", ratios.scaling_curves(samples, unavailable)["idle_pingpong"])
        text = "\n".join(lines)
        self.assertIn("N=1024 / N=1", lines[1])
        poll = next(line for line in lines if line.startswith("poll"))
        self.assertEqual(poll.split()[1:], ["100", "(2.00)", "200", "(4.00)", "1000", "(16.67)", "x10.00"])
        epoll = next(line for line in lines if line.startswith("epoll"))
        self.assertTrue(epoll.endswith("x1.00"))
        select = next(line for line in lines if line.startswith("select"))
        self.assertIn("not run", select)
        self.assertIn("select at N=1024: not run: select(2) cannot watch descriptors >= FD_SETSIZE", text)


class Floor(unittest.TestCase):
    RUNS = [
        run("BM_socketpair_pingpong/reference/epoll", 1800, family=0),
        run("BM_socketpair_pingpong/reference/io_uring", 2000, family=1),
        run("BM_socketpair_pingpong/libuv", 1700, family=2),
        run("BM_socketpair_pingpong/floor/epoll", 1600, family=3),
        run("BM_socketpair_pingpong/floor/io_uring", 1785, family=4),
        run("BM_socketpair_pingpong/floor/select", 1650, family=5),
    ]

    def test_each_floor_with_what_the_loops_add_and_floor_over_libuv(self):
        samples, errors, _ = ratios.collect(self.RUNS)
        self.assertEqual(errors, [])
        rows = {row[0]: row for row in ratios.floor_rows(samples)["socketpair_pingpong"]}
        self.assertEqual([round(x) for x in rows["epoll"][1:4]], [1600, 1800, 1700])  # libuv's floor is epoll's
        self.assertEqual([round(x) for x in rows["io_uring"][1:3]], [1785, 2000])
        self.assertIsNone(rows["io_uring"][3])
        self.assertAlmostEqual(rows["io_uring"][4], 1.05)
        self.assertEqual(rows["select"][2], None)                       # no reference run of it

    def test_floors_are_not_pairs_and_get_their_own_table(self):
        samples, _, _ = ratios.collect(self.RUNS)
        rows, unpaired = ratios.pair_rows(samples)
        self.assertEqual([r[1] for r in rows], ["epoll", "io_uring"])
        self.assertEqual(unpaired, [])
        out = io.StringIO()
        self.assertEqual(ratios.report({"benchmarks": self.RUNS}, out=out, err=io.StringIO()), 0)
        text = out.getvalue()
        self.assertIn("kernel floor: socketpair_pingpong", text)
        io_uring = next(line for line in text.splitlines() if line.startswith("io_uring"))
        self.assertEqual(io_uring.split(), ["io_uring", "1785", "2000", "215", "-", "-", "1.05", "-"])

    def test_repetitions_give_floor_over_libuv_its_spread(self):
        runs = []
        for rep, (floor, uv) in enumerate([(1800, 1700), (1900, 1700), (1700, 1700)]):
            runs += [run("BM_socketpair_pingpong/floor/io_uring", floor, rep=rep, family=0),
                     run("BM_socketpair_pingpong/libuv", uv, rep=rep, family=1)]
        (row,) = ratios.floor_rows(ratios.collect(runs)[0])["socketpair_pingpong"]
        self.assertAlmostEqual(row[4], 1800 / 1700)
        self.assertAlmostEqual(row[5][0], 1.0)
        self.assertAlmostEqual(row[5][1], 1900 / 1700)


class Report(unittest.TestCase):
    def test_unavailable_is_not_an_error_but_a_failed_check_is(self):
        out = io.StringIO()
        self.assertEqual(ratios.report({"benchmarks": IDLE}, out=out, err=io.StringIO()), 0)
        self.assertIn("scaling: idle_pingpong", out.getvalue())
        failed = IDLE + [skipped("BM_many_ready/reference/poll", "many_ready: a pair did not complete", family=9)] * 2
        out = io.StringIO()
        self.assertEqual(ratios.report({"benchmarks": failed}, out=out, err=io.StringIO()), 1)
        self.assertEqual(out.getvalue().count("error: BM_many_ready/reference/poll/real_time"), 1)

    def test_an_unavailable_backend_outside_a_curve_is_listed_as_not_run(self):
        out = io.StringIO()
        data = {"benchmarks": [run("BM_many_ready/reference/poll", 10), run("BM_many_ready/libuv", 5, family=2),
                               skipped("BM_many_ready/reference/io_uring",
                                       "unavailable: backend io_uring: io_uring_setup: EPERM", family=1)]}
        self.assertEqual(ratios.report(data, out=out, err=io.StringIO()), 0)
        self.assertIn("not run: many_ready/reference/io_uring: backend io_uring: io_uring_setup: EPERM",
                      out.getvalue())


if __name__ == "__main__":
    unittest.main()
