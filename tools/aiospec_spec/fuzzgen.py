"""Random valid scenarios for differential fuzzing (`aiospec fuzz`), and their minimiser.

``generate(seed, index)`` builds one canonical scenario from the operation table with
``random.Random`` seeded by (seed, index), so any program is reproducible from that pair alone.
The programs are meant to be valid and deterministic on CPython:

* names are bound before use in document order *and* in execution order (a handle is used only
  where the operation that bound it has certainly run and certainly succeeded), loops, futures and
  sockets are defined once, at top level;
* one socketpair; only one of its ends is ever watched (reader and writer on that one end are
  fine), so no iteration ever has two different ready descriptors, whose order is the selector's;
  the watched end is never closed, so no close_fd meets a registration (D4);
* every run ends: a stop is scheduled, or the loop blocks, or the (small) iteration budget stops it;
* the feature list is exactly what the operations need (from the table), plus ``select-trace`` in
  some programs and ``timer-heap-ties`` when more than one timer is scheduled;
* tasks are created at top level, on an open loop, or by a task group inside its own block; a
  coroutine awaits only futures and tasks of its own loop made before it (never itself:
  CPython's message for that names the task's repr), and raises only ordinary exceptions;
* a task group has one child (it cancels its children in set order, not deterministic for two);
* `run` (asyncio.run) happens at top level on a loop of its own; its main coroutine never
  leaves a second task behind for the teardown (CPython cancels those in set order, which is not
  deterministic): no gather, shield, wait_for, timeout scope, stop or fatal raise under it;
* timeout scopes and task groups make the program need CPython 3.11 (`python: {min: "3.11"}`);
  set_task_factory needs 3.12 and the fuzz oracle is the embedded CPython, so it is not drawn.

``to_yaml`` writes a canonical scenario as readable block YAML that the loader reads back to the
same canonical form; ``minimise`` is delta debugging over the operation tree against any
predicate (the fuzz driver passes one that re-runs both loops).
"""

import json
import math
import random
import re

from aiospec_oracle import ops
from aiospec_oracle.interpreter import substitute

__all__ = ["generate", "to_yaml", "load", "features_for", "minimise", "prepare", "FuzzInvalid"]

MAX_OPS_DEFAULT = 40
ITERATION_BUDGET = 400

# Numbers chosen to hit the rules: ties, zero, negative, non-dyadic, resolution-sized, day cap.
DELAYS = [0.0, 0.0, -1.0, -0.5, 1e-9, 1e-10, 0.1, 0.1, 0.3, 1 / 3, 0.5, 1.0, 1.0, 1.0, 2.0,
          2.5, 7.0, 86400.0, 100000.0]
WHENS = [-5.0, 0.0, 0.1, 0.5, 1.0, 1.0, 1.5, 2.0, 3.0, 1 / 3, 1e-9]
BURNS = [0.0, 1e-9, 0.1, 0.2, 1 / 3, 0.5, 1.0, 2.0]
VALUES = [None, True, False, 0, 1, -7, 42, 2 ** 53 + 1, 0.5, 0.1, -0.0, 1e16, 1e-5, "x", "",
          "done", "ü", "a b"]
LABEL_EXTRAS = ["é", "日本", "\u00a0", "tab\u2003space", "quote\"", "back\\slash", "😀"]
RAISE_COMMON = ["ValueError", "RuntimeError", "Exception"]
SLEEPS = [0.0, 0.0, 0.0, 0.1, 0.5, 1.0, 1.0]
TIMEOUTS = [None, 0.0, 0.5, 1.0, 1.0, 2.0]
MATCHES = ["CancelledError", "Exception", "BaseException", "ValueError", "TimeoutError"]
RAISE_RARE = ["KeyboardInterrupt", "SystemExit"]
# Programs that observe reports (handlers, the log, debug mode): their share, the thresholds
# (dyadic, crossed by some BURNS and not others) and the extra keys of a scenario's own report.
REPORTS_SHARE = 0.3
SLOW_DURATIONS = [0.25, 0.5, 1.0]
REPORT_KEYS = ["alpha", "zeta", "source", "protocol", "transport"]


class FuzzInvalid(Exception):
    """The loader refused a generated program: a generator bug."""


# ------------------------------------------------------------------------------------------------
# Generation


class _Gen:
    def __init__(self, rnd, max_ops):
        self.r = rnd
        self.left = max_ops
        self.labels = 0
        self.handles = 0
        self.loops = ["main"]            # defined loops (all, in order)
        self.closed = set()              # closed at top level so far
        self.futures = {}                # name -> loop
        self.sock = None                 # (watched end, other end) or None
        self.timers = 0
        self.top_handles = []            # (name, is_timer) bound at top level, loop open
        self.uses_threads = self.r.random() < 0.35
        self.uses_futures = self.r.random() < 0.35
        self.uses_fd = self.r.random() < 0.3
        self.uses_loops = self.r.random() < 0.25
        self.uses_running = self.r.random() < 0.2
        self.uses_specials = self.r.random() < 0.1
        self.uses_tasks = self.r.random() < 0.35
        self.tasks = {}                  # name -> loop, created at top level
        self.task_bodies = {}            # name -> its coroutine body
        self.scopes = 0                  # timeout scopes and task groups made so far
        self.runs = []                   # the loops of `run`s (closed once made)
        self.reports = None              # _Reports when the program observes reports (generate)

    # -- small pieces ----------------------------------------------------------------------------

    def chance(self, p):
        return self.r.random() < p

    def label(self, template=None):
        self.labels += 1
        text = "r%d" % self.labels
        if template:
            text += "-" + template
        elif self.chance(0.03):
            text += self.r.choice(LABEL_EXTRAS)
        return text

    def record(self, template=None):
        return {"record": {"label": self.label(template)}}

    def num(self, pool, nan=True):
        if self.uses_specials and self.chance(0.08):
            return self.r.choice(["inf", "-inf", "inf", "nan"] if nan else ["inf", "-inf"])
        if self.chance(0.1):
            return round(self.r.uniform(-1, 3), self.r.choice([1, 2, 3]))
        return float(self.r.choice(pool))

    def open_loops(self):
        return [l for l in self.loops if l not in self.closed]

    def loop_arg(self, args, loop):
        if loop != "main":
            args["loop"] = loop
        return args

    def pick_loop(self, prefer=None):
        if prefer is not None and (len(self.loops) == 1 or self.chance(0.75)):
            return prefer
        return self.r.choice(self.loops)

    # -- blocks ----------------------------------------------------------------------------------

    def block(self, ctx, lo=1, hi=4):
        """A list of operations. ctx: dict(depth, loop=running loop or None, top, thread, local)."""
        out = []
        n = self.r.randint(lo, hi)
        local = list(ctx.get("local", []))
        inner = dict(ctx, local=local)
        for _ in range(n):
            if self.left <= 0:
                break
            op = self.op(inner)
            if isinstance(op, list):
                out.extend(op)
            elif op is not None:
                out.append(op)
        return out

    def callback_block(self, ctx, loop, extra=None):
        sub = {"depth": ctx["depth"] + 1, "loop": loop, "top": False, "thread": False,
               "local": [], "in_run": ctx.get("in_run", False)}
        body = self.block(sub, 0 if self.left < 3 else 1, 3)
        if extra:
            body.extend(extra)
        return body

    def schedule(self, ctx, kind=None, loop=None, body_extra=None, bind=True):
        """call_soon / call_later / call_at (or threadsafe) on some loop."""
        self.left -= 1
        if kind is None:
            kinds = ["call_soon", "call_later", "call_later", "call_at"]
            if self.uses_threads:
                kinds.append("call_soon_threadsafe")
            kind = self.r.choice(kinds)
        if loop is None:
            loop = self.pick_loop(ctx.get("loop"))
        args = {}
        if kind == "call_later":
            args["delay"] = self.num(DELAYS)
        elif kind == "call_at":
            args["when"] = self.num(WHENS)
        args["do"] = self.callback_block(ctx, loop, body_extra)
        # A handle name is used later only where its binding certainly ran and succeeded: at top
        # level on a loop not closed, or in a callback on its own (running, so open) loop.
        can_use = (ctx["top"] and loop not in self.closed) or (
            not ctx["top"] and not ctx["thread"] and loop == ctx.get("loop"))
        if bind and self.chance(0.4):
            self.handles += 1
            is_timer = kind in ("call_later", "call_at")
            name = ("t%d" if is_timer else "h%d") % self.handles
            if ctx.get("template") and self.chance(0.5):
                name += "-{%s}" % ctx["template"]
            args["as"] = name
            if can_use:
                if ctx["top"] and ctx["depth"] == 0:
                    self.top_handles.append((name, is_timer))
                ctx["local"].append((name, is_timer))
        if kind in ("call_later", "call_at"):
            self.timers += 1
        return {kind: self.loop_arg(args, loop)}

    def handle_names(self, ctx, timers_only=False):
        names = list(ctx.get("local", []))
        return [n for n, t in names if t or not timers_only]

    # -- one operation ---------------------------------------------------------------------------

    def op(self, ctx):
        if self.left <= 0:
            return None
        if ctx.get("coroutine"):
            return self.coroutine_op(ctx)
        depth = ctx["depth"]
        choices = [("record", 5), ("schedule", 6 if depth < 4 else 1), ("burn", 2),
                   ("is_running", 1), ("time", 1.5)]
        if not ctx.get("in_run"):
            choices.append(("stop", 2))
        if self.handle_names(ctx):
            choices.append(("cancel", 3))
        if self.handle_names(ctx, True):
            choices.append(("when", 1.5))
        if not ctx["thread"]:
            choices.append(("raise", 1.5 if ctx["loop"] else 0.3))
            if depth < 4:
                choices.append(("repeat", 1))
        if ctx["loop"] is not None and not ctx["thread"]:
            choices.append(("nested_run", 0.4))
        if ctx["top"] and depth == 0 and self.open_loops():
            choices.append(("storm", 0.35))
        if self.uses_threads and not ctx["thread"] and depth < 4:
            choices.append(("in_thread", 1))
            if ctx["top"]:
                choices.append(("external", 1))
        if self.uses_futures and self.futures:
            choices += [("set_result", 2), ("set_exception", 0.5), ("done", 1), ("result", 1)]
            if not ctx["thread"] and depth < 4:
                choices.append(("add_done_callback", 1.5))
        if self.sock is not None:
            choices += [("send", 2), ("recv", 2)]
            if not ctx["thread"] and depth < 4:
                choices += [("add_io", 2)]
            choices += [("remove_io", 1)]
        if self.uses_running:
            choices.append(("get_running_loop", 1))
        if self.uses_tasks and not ctx["thread"]:
            if ctx["top"] and depth == 0 and self.open_loops():
                choices.append(("create_task", 4))
            if ctx["top"] and depth == 0:
                choices.append(("run", 0.6))
            if self.tasks:
                choices += [("cancel_task", 1.5), ("ask_task", 1.5)]
        if len(self.loops) > 1:
            choices.append(("is_closed", 0.5))
        if self.reports is not None and not ctx["thread"]:
            choices += [("call_exception_handler", 0.8), ("ask_reports", 0.3)]
            if self.reports.debug and ctx["loop"] is not None and depth < 4:
                choices.append(("in_thread", 1.5))     # where DBG-03's check applies
        if ctx["thread"]:
            choices = [c for c in choices if c[0] in ("record", "schedule", "time", "is_running",
                                                     "set_result", "done", "send", "recv")]
            choices.append(("threadsafe", 6))
            if self.reports is not None and self.reports.debug and ctx.get("running") is not None:
                # A thread of a running callback: debug mode's thread check (DBG-03) refuses
                # call_soon / call_later here; the callback waits for the thread, so no race.
                choices.append(("unsafe_from_thread", 4))
        return self.weighted(choices, ctx)

    def weighted(self, choices, ctx):
        """The operation of one of `choices` ((name, weight), ...), drawn by weight."""
        total = sum(w for _, w in choices)
        pick = self.r.uniform(0, total)
        for what, w in choices:
            pick -= w
            if pick <= 0:
                break
        return getattr(self, "op_" + what)(ctx)

    def op_record(self, ctx):
        self.left -= 1
        return self.record(ctx.get("template") and "{%s}" % ctx["template"])

    def op_burn(self, ctx):
        self.left -= 1
        return {"burn": {"seconds": float(self.r.choice(BURNS))}}

    def op_stop(self, ctx):
        self.left -= 1
        return {"stop": self.loop_arg({}, self.pick_loop(ctx.get("loop")))}

    def op_is_running(self, ctx):
        self.left -= 1
        return {"is_running": self.loop_arg({}, self.pick_loop(ctx.get("loop")))}

    def op_is_closed(self, ctx):
        self.left -= 1
        return {"is_closed": self.loop_arg({}, self.pick_loop(ctx.get("loop")))}

    def op_time(self, ctx):
        self.left -= 1
        return {"time": self.loop_arg({}, self.pick_loop(ctx.get("loop")))}

    def op_schedule(self, ctx):
        if ctx["thread"]:
            return self.schedule(ctx, "call_soon_threadsafe", bind=False)
        return self.schedule(ctx)

    def op_unsafe_from_thread(self, ctx):
        return self.schedule(ctx, self.r.choice(["call_soon", "call_later"]), loop=ctx["running"],
                             bind=False)

    def op_threadsafe(self, ctx):
        return self.schedule(ctx, "call_soon_threadsafe", bind=False)

    def op_cancel(self, ctx):
        self.left -= 1
        return {"cancel": {"handle": self.r.choice(self.handle_names(ctx))}}

    def op_when(self, ctx):
        self.left -= 1
        return {"when": {"handle": self.r.choice(self.handle_names(ctx, True))}}

    def op_raise(self, ctx):
        self.left -= 1
        rare = self.chance(0.08) and not ctx.get("in_run")
        kind = self.r.choice(RAISE_RARE) if rare else self.r.choice(RAISE_COMMON)
        args = {"type": kind}
        if self.chance(0.6):
            args["message"] = self.r.choice(["boom", "", "bad value", "x" * 3, "ünï"])
        return {"raise": args}

    def op_call_exception_handler(self, ctx):
        self.left -= 1
        r = self.reports.r
        args = {}
        if r.random() < 0.8:
            args["message"] = r.choice(["custom report", "", "m"])
        if r.random() < 0.5:
            args["exception"] = {"type": r.choice(RAISE_COMMON), "message": r.choice(["boom", ""])}
        if self.futures and r.random() < 0.3:
            args["future"] = r.choice(sorted(self.futures))
        if self.tasks and r.random() < 0.3:
            args["task"] = r.choice(sorted(self.tasks))
        if r.random() < 0.4:
            args["keys"] = {k: r.choice(["x", "1", ""]) for k in r.sample(REPORT_KEYS, r.randint(1, 3))}
        name = "default_exception_handler" if r.random() < 0.2 else "call_exception_handler"
        return {name: self.loop_arg(args, self.pick_loop(ctx.get("loop")))}

    def op_ask_reports(self, ctx):
        self.left -= 1
        what = self.reports.r.choice(["get_exception_handler", "get_debug"])
        return {what: self.loop_arg({}, self.pick_loop(ctx.get("loop")))}

    def op_repeat(self, ctx):
        self.left -= 1
        var = None
        used = ctx.get("template")
        if used:
            var = "j" if used == "i" else "k"
        args = {"times": self.r.choice([0, 1, 2, 2, 3, 5])}
        if var or self.chance(0.2):
            args["var"] = var or "n"
        sub = dict(ctx, depth=ctx["depth"] + 1, template=args.get("var", "i"),
                   templates=list(ctx.get("templates", [])) + [args.get("var", "i")],
                   top=ctx["top"] and False, local=list(ctx.get("local", [])))
        # A handle bound in the body is usable only later in the same copy of the body.
        sub["top"] = False if not ctx["top"] else True
        saved_top = list(self.top_handles)
        args["do"] = self.block(sub, 1, 3)
        self.top_handles = saved_top
        return {"repeat": args}

    def op_storm(self, ctx):
        """Many timers, many of them ties, many cancelled: heap order among ties, the lazy clean-up
        of cancelled head timers, and the heap compaction CPython does at the start of an
        iteration with more than 100 timers of which more than half are cancelled."""
        self.left -= 5
        self.storms = getattr(self, "storms", 0) + 1
        n = self.storms
        loop = self.r.choice(self.open_loops())
        out = []

        def timers(times, delay, name, record):
            self.timers += times
            args = {"delay": delay, "do": [{"record": {"label": record}}]}
            if name:
                args["as"] = name
            return {"repeat": {"times": times, "do": [{"call_later": self.loop_arg(args, loop)}]}}

        near = float(self.r.choice([0.0, 0.5, 1.0, 1.0, 2.0]))
        if self.chance(0.5):
            # One group: ties, some cancelled.
            times = self.r.choice([8, 30, 101, 110, 150])
            name = "q%d-{i}" % n
            out.append(timers(times, near, name, name))
            cancelled = self.r.choice([0, times // 2, times // 2 + 1, times - 1, times])
        else:
            # Ties that survive, then far timers of which a varying share is cancelled.
            out.append(timers(self.r.choice([3, 10, 17]), near, None, "q%d-tie-{i}" % n))
            times = self.r.choice([60, 110, 210])
            name = "q%d-far-{i}" % n
            out.append(timers(times, float(self.r.choice([5.0, 100.0])), name, name))
            cancelled = self.r.choice([times // 3, times // 2, int(times * 0.7), times - 1, times])
        if cancelled:
            out.append({"repeat": {"times": cancelled, "do": [{"cancel": {"handle": name}}]}})
        return out

    def op_nested_run(self, ctx):
        self.left -= 1
        loop = self.pick_loop(ctx.get("loop"))
        if self.futures and self.chance(0.4):
            f = self.r.choice(sorted(self.futures))
            return {"run_until_complete": self.loop_arg({"future": f}, loop)}
        return {"run_forever": self.loop_arg({}, loop)}

    def op_in_thread(self, ctx):
        self.left -= 1
        # `running`: the loop whose callback waits for this thread (None at top level).
        sub = {"depth": ctx["depth"] + 1, "loop": None, "top": False, "thread": True, "local": [],
               "running": ctx.get("loop")}
        return {"in_thread": {"do": self.block(sub, 1, 3)}}

    def op_external(self, ctx):
        self.left -= 1
        sub = {"depth": ctx["depth"] + 1, "loop": None, "top": False, "thread": True, "local": []}
        return {"external": {"at": self.num(WHENS + [4.0, 10.0], nan=False), "do": self.block(sub, 1, 2)}}

    def op_set_result(self, ctx):
        self.left -= 1
        return {"set_result": {"future": self.r.choice(sorted(self.futures)),
                               "value": self.r.choice(VALUES)}}

    def op_set_exception(self, ctx):
        self.left -= 1
        args = {"future": self.r.choice(sorted(self.futures)), "type": self.r.choice(RAISE_COMMON)}
        if self.chance(0.5):
            args["message"] = self.r.choice(["boom", ""])
        return {"set_exception": args}

    def op_done(self, ctx):
        self.left -= 1
        return {"done": {"future": self.r.choice(sorted(self.futures))}}

    def op_result(self, ctx):
        self.left -= 1
        return {"result": {"future": self.r.choice(sorted(self.futures))}}

    def op_add_done_callback(self, ctx):
        self.left -= 1
        f = self.r.choice(sorted(self.futures))
        return {"add_done_callback": {"future": f,
                                      "do": self.callback_block(ctx, self.futures[f])}}

    def op_send(self, ctx):
        self.left -= 1
        watched, other = self.sock
        end = other if self.chance(0.75) else watched
        return {"send": {"fd": end, "data": self.r.choice(["x", "hello", "ab", "0123456789", ""])}}

    def op_recv(self, ctx):
        self.left -= 1
        watched, other = self.sock
        args = {"fd": watched if self.chance(0.7) else other}
        if self.chance(0.5):
            args["size"] = self.r.choice([1, 2, 3, 5, 4096])
        return {"recv": args}

    def op_add_io(self, ctx):
        self.left -= 1
        watched, _ = self.sock
        kind = "add_reader" if self.chance(0.6) else "add_writer"
        loop = self.pick_loop(ctx.get("loop"))
        # A writer is always ready and a reader with data stays ready: the callback usually
        # removes itself, drains, or stops, so that the loop does not spin to the budget.
        extra = []
        roll = self.r.random()
        if roll < 0.45:
            extra = [{("remove_reader" if kind == "add_reader" else "remove_writer"):
                      self.loop_arg({"fd": watched}, loop)}]
        elif roll < 0.7 and kind == "add_reader":
            extra = [{"recv": {"fd": watched}}]
        elif roll < 0.9:
            extra = [{"stop": self.loop_arg({}, loop)}]
        args = {"fd": watched, "do": self.callback_block(ctx, loop, extra)}
        return {kind: self.loop_arg(args, loop)}

    def op_remove_io(self, ctx):
        self.left -= 1
        watched, _ = self.sock
        kind = self.r.choice(["remove_reader", "remove_writer"])
        return {kind: self.loop_arg({"fd": watched}, self.pick_loop(ctx.get("loop")))}

    def op_get_running_loop(self, ctx):
        self.left -= 1
        return {"get_running_loop": {}}

    # -- coroutines and tasks ----------------------------------------------------------------------

    def coroutine_block(self, ctx, lo=1, hi=4):
        """A coroutine body on ctx's loop (running whenever the body runs)."""
        sub = {"depth": ctx["depth"] + 1, "loop": ctx["loop"], "top": False, "thread": False,
               "local": [], "coroutine": True, "handling": ctx.get("handling", False),
               "in_run": ctx.get("in_run", False), "timeouts": list(ctx.get("timeouts", [])),
               "template": ctx.get("template"), "templates": list(ctx.get("templates", []))}
        return self.block(sub, lo, hi)

    def awaitables(self, loop):
        """Names a coroutine on `loop` may await: its loop's futures and tasks made so far."""
        return sorted([f for f, l in self.futures.items() if l == loop] +
                      [t for t, l in self.tasks.items() if l == loop])

    def awaitable(self, ctx):
        names = self.awaitables(ctx["loop"])
        if names and self.chance(0.5):
            return self.r.choice(names)
        inner = dict(ctx, handling=False)
        return {"coroutine": self.coroutine_block(inner, 0 if self.left < 3 else 1, 3)}

    def coroutine_op(self, ctx):
        depth = ctx["depth"]
        choices = [("record", 5), ("sleep", 4), ("burn", 0.5), ("time", 0.5), ("raise", 1),
                   ("current_task", 0.5), ("return", 0.4)]
        if depth < 5:
            choices += [("await", 2), ("try", 1.5), ("schedule", 1.5), ("repeat", 0.5),
                        ("task_group", 0.6)]
            if not ctx.get("in_run"):
                choices += [("gather", 1), ("shield", 0.5), ("wait_for", 1), ("timeout", 0.8)]
            if self.awaitables(ctx["loop"]):
                choices.append(("wait", 0.8))
        if ctx.get("timeouts"):
            choices.append(("ask_timeout", 2))
        if self.tasks:
            choices += [("cancel_task", 1.5), ("ask_task", 1)]
        if ctx.get("handling"):
            choices.append(("reraise", 0.5))
        if self.uses_futures and self.futures:
            choices += [("set_result", 1), ("done", 0.5)]
        return self.weighted(choices, ctx)

    def op_create_task(self, ctx):
        self.left -= 1
        loop = self.r.choice(self.open_loops())
        body = self.coroutine_block(dict(ctx, loop=loop, handling=False))
        if self.chance(0.3):
            body.append({"return": {"value": self.r.choice(VALUES)}})
        name = "k%d" % (len(self.tasks) + 1)
        self.tasks[name] = loop          # bound after its own body: it never awaits itself
        self.task_bodies[name] = body
        return {"create_task": self.loop_arg({"do": body, "as": name}, loop)}

    def op_cancel_task(self, ctx):
        self.left -= 1
        args = {"future": self.r.choice(sorted(self.tasks))}
        if self.chance(0.5):
            args["message"] = self.r.choice(["bye", "", "stop it"])
        if self.chance(0.3):
            # Take the request back at once: what uncancel() and cancelling() count.
            return [{"cancel_future": args}, {"uncancel": {"future": args["future"]}}]
        return {"cancel_future": args}

    def op_ask_task(self, ctx):
        self.left -= 1
        what = self.r.choice(["done", "cancelled", "result", "exception", "cancelling", "uncancel"])
        return {what: {"future": self.r.choice(sorted(self.tasks))}}

    def op_current_task(self, ctx):
        self.left -= 1
        return {"current_task": {}}

    def op_sleep(self, ctx):
        self.left -= 1
        args = {"delay": float(self.r.choice(SLEEPS))}
        if self.chance(0.2):
            args["result"] = self.r.choice(VALUES)
        return {"sleep": args}

    def op_await(self, ctx):
        self.left -= 1
        return {"await": {"on": self.awaitable(ctx)}}

    def op_gather(self, ctx):
        self.left -= 1
        args = {"of": [self.awaitable(ctx) for _ in range(self.r.randint(1, 3))]}
        if self.chance(0.5):
            args["return_exceptions"] = self.chance(0.5)
        return {"gather": args}

    def op_shield(self, ctx):
        self.left -= 1
        return {"shield": {"on": self.awaitable(ctx)}}

    def op_wait_for(self, ctx):
        self.left -= 1
        timeout = self.r.choice(TIMEOUTS)
        return {"wait_for": {"on": self.awaitable(ctx),
                             "timeout": None if timeout is None else float(timeout)}}

    def op_return(self, ctx):
        self.left -= 1
        return {"return": {"value": self.r.choice(VALUES)}}

    def op_reraise(self, ctx):
        self.left -= 1
        return {"reraise": {}}

    def op_try(self, ctx):
        self.left -= 1
        args = {"do": self.coroutine_block(ctx)}
        if self.chance(0.8):
            handlers = []
            for _ in range(self.r.randint(1, 2)):
                match = sorted(set(self.r.choice(MATCHES) for _ in range(self.r.randint(1, 2))))
                handlers.append({"match": match,
                                 "do": self.coroutine_block(dict(ctx, handling=True), 0, 2)})
            args["except"] = handlers
        if "except" not in args or self.chance(0.4):
            args["finally"] = self.coroutine_block(dict(ctx, handling=False), 1, 2)
        return {"try": args}

    def op_wait(self, ctx):
        self.left -= 1
        names = self.awaitables(ctx["loop"])
        args = {"of": self.r.sample(names, self.r.randint(1, min(3, len(names))))}
        if self.chance(0.7):
            args["return_when"] = self.r.choice(["FIRST_COMPLETED", "FIRST_EXCEPTION",
                                                 "ALL_COMPLETED"])
        if self.chance(0.5):
            timeout = self.r.choice(TIMEOUTS)
            args["timeout"] = None if timeout is None else float(timeout)
        return {"wait": args}

    def op_timeout(self, ctx):
        """timeout or timeout_at, named half the time; the name is used inside its block."""
        self.left -= 1
        self.scopes += 1
        name = self.scope_name("o", ctx)
        inner = dict(ctx, timeouts=list(ctx.get("timeouts", [])) + [name])
        if self.chance(0.5):
            op, args = "timeout", {"delay": self.r.choice(TIMEOUTS)}
            if args["delay"] is not None:
                args["delay"] = float(args["delay"])
        else:
            op, args = "timeout_at", {"when": float(self.r.choice(WHENS))
                                      if self.chance(0.9) else None}
        args["do"] = self.coroutine_block(inner)
        args["as"] = name
        return {op: args}

    def scope_name(self, prefix, ctx):
        """A timeout's or group's name; inside repeats every copy of every one gets its own."""
        name = "%s%d" % (prefix, self.scopes)
        return name + "".join("-{%s}" % t for t in ctx.get("templates", []))

    def op_ask_timeout(self, ctx):
        self.left -= 1
        name = self.r.choice(ctx["timeouts"])
        roll = self.r.random()
        if roll < 0.4:
            when = self.r.choice(WHENS + [None])
            return {"reschedule": {"timeout": name, "when": None if when is None else float(when)}}
        return {("expired" if roll < 0.7 else "deadline"): {"timeout": name}}

    def op_task_group(self, ctx):
        """A task group with one child: TaskGroup._abort cancels the children in set order,
        which is not deterministic once two of them are pending."""
        self.left -= 1
        self.scopes += 1
        name = self.scope_name("g", ctx)
        body = [self.op_group_task(ctx, name)] + self.coroutine_block(ctx, 0, 3)
        return {"task_group": {"do": body, "as": name}}

    def op_group_task(self, ctx, group):
        """The child of a group whose block is running (its name is never used elsewhere)."""
        self.left -= 1
        body = self.coroutine_block(dict(ctx, handling=False), 1, 3)
        if self.chance(0.3):
            body.append({"return": {"value": self.r.choice(VALUES)}})
        return {"create_task": {"do": body, "group": group}}

    def op_run(self, ctx):
        """asyncio.run at top level, on a loop of its own that is closed afterwards."""
        self.left -= 1
        name = "r%d" % (len(self.runs) + 1)
        self.runs.append(name)
        self.loops.append(name)
        inner = {"depth": 0, "loop": name, "top": False, "thread": False, "local": [],
                 "coroutine": True, "handling": False, "in_run": True}
        body = self.block(inner, 1, 4)
        if self.chance(0.3):
            body.append({"return": {"value": self.r.choice(VALUES)}})
        self.closed.add(name)
        return {"run": {"do": body, "as": name}}

    # -- the program -----------------------------------------------------------------------------

    def program(self):
        prog = []
        top = {"depth": 0, "loop": None, "top": True, "thread": False, "local": []}
        if self.uses_loops:
            for i in range(self.r.randint(1, 2)):
                name = "l%d" % (i + 1)
                prog.append({"new_loop": {"name": name}})
                self.loops.append(name)
        if self.uses_futures:
            for i in range(self.r.randint(1, 2)):
                name = "f%d" % i
                loop = self.r.choice(self.loops)
                prog.append({"new_future": self.loop_arg({"name": name}, loop)})
                self.futures[name] = loop
        if self.reports is not None:
            prog.extend(self.reports.prologue(self.loops))
        if self.uses_fd:
            ends = ["a", "b"] if self.chance(0.5) else ["s1", "s0"]
            prog.append({"socketpair": {"names": ends}})
            self.sock = (ends[0], ends[1]) if self.chance(0.5) else (ends[1], ends[0])
        for phase in range(self.r.randint(1, 3)):
            top["local"] = [h for h in self.top_handles]
            for _ in range(self.r.randint(1, 6)):
                if self.left <= 0:
                    break
                op = self.op(top)
                if isinstance(op, list):
                    prog.extend(op)
                elif op is not None:
                    prog.append(op)
                self.top_handles = list(top["local"])
            prog.extend(self.run_phase(top))
            if self.chance(0.1) and self.sock is not None:
                prog.append({"close_fd": {"fd": self.sock[1]}})
                self.sock = None      # the closed end is never named again (D4), nor watched
            if len(self.open_loops()) > 1 and self.chance(0.15):
                victim = self.r.choice(self.open_loops())
                prog.append({"close": self.loop_arg({}, victim)})
                self.closed.add(victim)
                self.top_handles = [h for h in self.top_handles]  # bound earlier: still bound
        # Things recorded after the runs, on the main thread outside any loop.
        if self.chance(0.5):
            prog.append(self.r.choice([{"time": {}}, {"is_running": {}}, {"is_closed": {}}]))
        if self.reports is not None:
            # Last, so that no callback left behind names what is dropped.
            prog.extend(self.reports.epilogue(self.futures, self.tasks, self.task_bodies,
                                              self.closed))
        return prog

    def run_phase(self, top):
        """Something that makes it stop (or not), then one run operation at top level."""
        out = []
        loop = self.r.choice(self.open_loops() if self.chance(0.9) else self.loops)
        roll = self.r.random()
        if roll < 0.55:
            out.append({"call_later": self.loop_arg(
                {"delay": self.num(DELAYS[:14]), "do": [self.record(), {"stop": self.loop_arg({}, loop)}]}
                if self.chance(0.5) else
                {"delay": self.num(DELAYS[:14]), "do": [{"stop": self.loop_arg({}, loop)}]}, loop)})
            self.timers += 1
        elif roll < 0.7:
            out.append({"call_soon": self.loop_arg({"do": [{"stop": self.loop_arg({}, loop)}]}, loop)})
        elif roll < 0.78:
            out.append({"stop": self.loop_arg({}, loop)})
        # else: rely on stops inside the program, on blocking, or on the budget
        if self.tasks and self.chance(0.4):
            out.append({"run_until_complete": self.loop_arg(
                {"future": self.r.choice(sorted(self.tasks))}, loop)})
        elif self.futures and self.chance(0.4):
            f = self.r.choice(sorted(self.futures))
            if self.chance(0.5):
                out.append({"call_later": self.loop_arg(
                    {"delay": self.num([0.0, 0.5, 1.0, 1.0, 2.0]),
                     "do": [{"set_result": {"future": f, "value": self.r.choice(VALUES)}}]},
                    self.futures[f] if self.chance(0.8) else loop)})
                self.timers += 1
            out.append({"run_until_complete": self.loop_arg({"future": f}, loop)})
        else:
            out.append({"run_forever": self.loop_arg({}, loop)})
        return out


class _Reports:
    """What a program that observes reports adds: a handler (or the default one with the log
    traced), maybe debug mode with a slow-callback threshold that the burns cross, and at the end
    the drop of some futures and tasks. Drawn from a generator of its own, so that programs
    without reports stay what they were for every seed."""

    def __init__(self, rnd):
        self.r = rnd
        self.handler = rnd.choice(["record", "record", "null", "raise"])
        self.debug = rnd.random() < 0.35
        # Debug mode's warnings are log records only: a debug program traces the log.
        self.log_trace = self.handler == "null" or self.debug or rnd.random() < 0.5

    def prologue(self, loops):
        out = []
        for loop in loops:
            args = {} if loop == "main" else {"loop": loop}
            if self.handler != "null":
                out.append({"set_exception_handler": dict(args, handler=self.handler)})
            if self.debug:
                out.append({"set_debug": dict(args, enabled=True)})
                out.append({"slow_callback_duration": dict(args, seconds=self.r.choice(SLOW_DURATIONS))})
        return out

    # Tasks that may be caught in a cycle through the frame or the closures of one of asyncio's
    # own coroutines when they are dropped are not dropped: a task that may still wait inside one
    # of these, and any task of a loop closed meanwhile (close empties the timer heap, so a task
    # in sleep is left in a cycle with its future). The reference loop's collect_garbage does not
    # know those edges and does not collect such a cycle, which CPython's collector does (fuzz
    # seed 201 index 2196: a task in asyncio.wait dropped with the future it waits on; index 1139:
    # a task asleep on a closed loop; CPython reports each destroyed, the reference nothing).
    # A known gap of the reference, not a rule of the suite.
    UNCOLLECTED_WAITS = frozenset(("wait", "gather", "shield", "wait_for", "task_group"))

    def epilogue(self, futures, tasks, bodies, closed):
        named = [("future", f) for f in sorted(futures)]
        named += [("task", t) for t in sorted(tasks)
                  if tasks[t] not in closed
                  and not any(n in self.UNCOLLECTED_WAITS for n, _ in _walk(bodies.get(t, [])))]
        return [{"drop": {kind: name}} for kind, name in named if self.r.random() < 0.8]


def _walk(block):
    """Every operation of a program, pre-order: (name, args)."""
    for op in block:
        (name, args), = op.items()
        yield name, args
        for _, inner, _ in ops.sub_blocks(name, args):
            yield from _walk(inner)


def features_for(program, select_trace=False, heap_ties=None, log_trace=False):
    """The features a program needs: from the operation table, plus the optional ones."""
    needed = {"log-trace"} if log_trace else set()
    timers = 0
    for name, args in _walk(program):
        op = ops.OPS[name]
        needed.update(ops.features_of(name, args))
        if args.get("loop", "main") != "main":
            needed.add("multiple-loops")
        for arg, kind in op.args.items():
            if kind in ops.FLOAT_TYPES and isinstance(args.get(arg), str):
                needed.add("float-specials")
        if name in ("call_later", "call_at"):
            timers += 1
    if select_trace:
        needed.add("select-trace")
    if heap_ties if heap_ties is not None else timers > 1:
        needed.add("timer-heap-ties")
    return sorted(needed)


def python_for(program):
    """The lowest CPython the program's operations exist in: None when every version has them."""
    since = [ops.since_of(name, args) for name, args in _walk(program)]
    since = [s for s in since if s]
    return max(since, key=lambda v: tuple(map(int, v.split(".")))) if since else None


def scenario(program, select_trace=False, title="a fuzzed program", iterations=ITERATION_BUDGET,
             log_trace=False):
    out = {
        "id": "ord-9999",
        "title": title,
        "clauses": ["ORD-01"],
        "features": features_for(program, select_trace, log_trace=log_trace),
        "level": "cpython",
        "budget": {"iterations": iterations},
        "program": program,
    }
    minimum = python_for(program)
    if minimum:
        out["python"] = {"min": minimum}
    return out


def generate(seed, index, max_ops=MAX_OPS_DEFAULT):
    """The canonical scenario number `index` of `seed`."""
    rnd = random.Random("aiospec-fuzz:%d:%d" % (seed, index))
    gen = _Gen(rnd, max(1, max_ops))
    reports = random.Random("aiospec-fuzz-reports:%d:%d" % (seed, index))
    if reports.random() < REPORTS_SHARE:
        gen.reports = _Reports(reports)
        # Tasks are what most reports are about (never retrieved, destroyed pending).
        gen.uses_tasks = gen.uses_tasks or reports.random() < 0.5
    program = gen.program()
    for name, _ in _walk(program):
        assert name in ops.OPS, name         # the generator only speaks the table's language
    return scenario(program, select_trace=rnd.random() < 0.2,
                    title="fuzz seed %d index %d" % (seed, index),
                    log_trace=gen.reports is not None and gen.reports.log_trace)


# ------------------------------------------------------------------------------------------------
# YAML

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "inf", "nan"}


def _scalar(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("a non-finite float is written as a string in canonical form")
        text = repr(value)
        return text if ("." in text or "e" in text) else text + ".0"
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _RESERVED:
            return value
        return json.dumps(value, ensure_ascii=False)
    raise TypeError("not a scalar: %r" % (value,))


def _is_block(value):
    """A list of operations (not a list of handlers, awaitables or names)."""
    return isinstance(value, list) and all(
        isinstance(v, dict) and len(v) == 1 and next(iter(v)) in ops.OPS for v in value)


def _flow(value):
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join("%s: %s" % (k, _flow(v)) for k, v in value.items()) + "}"
    return _scalar(value)


def _op_lines(op, indent):
    (name, args), = op.items()
    spec = ops.OPS.get(name)
    pad = " " * indent
    short = spec.short if spec else None
    if not args and short == ops.SHORT_NULL:
        return [pad + "- %s:" % name]
    if short in (ops.SHORT_STRING, ops.SHORT_NUMBER) and list(args) == [spec.short_key]:
        value = args[spec.short_key]
        if not (short == ops.SHORT_NUMBER and isinstance(value, str)) \
                and not isinstance(value, (dict, list)):
            return [pad + "- %s: %s" % (name, _scalar(value))]
    if short == ops.SHORT_NAMES and list(args) == [spec.short_key]:
        return [pad + "- %s: %s" % (name, _flow(args[spec.short_key]))]
    if short == ops.SHORT_BLOCK and list(args) == ["do"]:
        if not args["do"]:
            return [pad + "- %s: []" % name]
        lines = [pad + "- %s:" % name]
        for sub in args["do"]:
            lines.extend(_op_lines(sub, indent + 4))
        return lines
    scalars = {k: v for k, v in args.items() if not _is_block(v) or not v}
    blocks = {k: v for k, v in args.items() if _is_block(v) and v}
    if not blocks:
        return [pad + "- %s: %s" % (name, _flow({k: v for k, v in args.items()}) if args else "{}")]
    lines = [pad + "- %s:" % name]
    for k, v in scalars.items():
        lines.append(pad + "    %s: %s" % (k, _flow(v)))
    for k, v in blocks.items():
        lines.append(pad + "    %s:" % k)
        for sub in v:
            lines.extend(_op_lines(sub, indent + 6))
    return lines


def to_yaml(canonical, comment=None):
    """A canonical scenario as block YAML that loads back to the same canonical form."""
    lines = []
    if comment:
        lines += ["# " + line if line else "#" for line in comment.splitlines()]
    for key in ops.TOP_KEYS:
        if key not in canonical:
            continue
        value = canonical[key]
        if key == "program":
            lines.append("program:")
            for op in value:
                lines.extend(_op_lines(op, 2))
            if not value:
                lines[-1] = "program: []"
        elif key == "description":
            lines.append("description: %s" % _scalar(value))
        else:
            lines.append("%s: %s" % (key, _flow(value)))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------
# Loading


def load(text, name="fuzz.yaml"):
    """Canonical form of YAML text through the real loader; raises the loader's LoadError."""
    from .loader import load_text
    return load_text(text, name).canonical


def prepare(seed, index, max_ops=MAX_OPS_DEFAULT):
    """For the C++ driver: (yaml text, canonical JSON text); raises FuzzInvalid."""
    canonical = generate(seed, index, max_ops)
    text = to_yaml(canonical)
    return text, check(canonical, text)


def check(canonical, text=None):
    """Canonical JSON text of what the loader makes of `canonical` written as YAML."""
    from .errors import LoadError
    text = text if text is not None else to_yaml(canonical)
    try:
        loaded = load(text)
    except LoadError as exc:
        raise FuzzInvalid(str(exc).splitlines()[0] if str(exc) else "refused") from None
    return json.dumps(loaded)


def oracle(canonical_text):
    """CPython's trace of a canonical scenario: ("ok", trace JSON) or ("scenario-error", msg)."""
    from aiospec_oracle import api
    from aiospec_oracle.exceptions import ScenarioError
    try:
        return "ok", api.run_scenario_json(canonical_text)
    except ScenarioError as exc:
        return "scenario-error", str(exc)


# ------------------------------------------------------------------------------------------------
# Minimising: delta debugging over the operation tree


def _blocks(program):
    """Every block of the program (lists of operations), outermost first, as (owner, key)."""
    out = [(None, None, program)]

    def visit(block):
        for op in block:
            (_, args), = op.items()
            for key, value in args.items():
                if _is_block(value):
                    out.append((args, key, value))
                    visit(value)
    visit(program)
    return out


def _copy(x):
    return json.loads(json.dumps(x))


def _candidates(program):
    """Simpler programs, biggest cuts first. Each is a fresh copy."""
    # 1. Remove chunks of operations from each block (ddmin: halves, quarters, ... singles).
    nblocks = len(_blocks(program))
    for b in range(nblocks):
        n = len(_blocks(program)[b][2])
        size = n
        while size >= 1:
            for start in range(0, n, size):
                cand = _copy(program)
                block = _blocks(cand)[b][2]
                del block[start:start + size]
                yield cand
            size //= 2
    # 2. Per operation: unwrap its blocks into its place, or empty them; repeat: fewer times.
    for b in range(nblocks):
        n = len(_blocks(program)[b][2])
        for i in range(n):
            op = _blocks(program)[b][2][i]
            (name, args), = op.items()
            for key, value in args.items():
                if _is_block(value) and value:
                    cand = _copy(program)
                    block = _blocks(cand)[b][2]
                    inner = block[i][name][key]
                    if name == "repeat":
                        inner = substitute(inner, "{%s}" % args.get("var", "i"), "0")
                    block[i:i + 1] = inner
                    yield cand
                    cand = _copy(program)
                    _blocks(cand)[b][2][i][name][key] = []
                    yield cand
            if name == "repeat" and args["times"] > 1:
                for times in (1, args["times"] // 2, args["times"] - 1):
                    if 1 <= times < args["times"]:
                        cand = _copy(program)
                        _blocks(cand)[b][2][i][name]["times"] = times
                        yield cand
            # Optional arguments: no handle name, the main loop, no message, the default size.
            for key in ("as", "loop", "message", "size", "var"):
                if key in args:
                    cand = _copy(program)
                    del _blocks(cand)[b][2][i][name][key]
                    yield cand
            # 3. Simpler numbers and values.
            for key, value in args.items():
                for simpler in _simpler(value):
                    cand = _copy(program)
                    _blocks(cand)[b][2][i][name][key] = simpler
                    yield cand


def _simpler(value):
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, float):
        out = []
        for v in (0.0, 1.0, float(round(value)), float(int(value))):
            if v != value and not math.isnan(v) and v not in out and abs(v) <= abs(value):
                out.append(v)
        return out
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return [0.0, 1.0]
    if isinstance(value, int):
        return [v for v in (0, 1) if v != value and abs(v) < abs(value)]
    return []


def _size(program):
    return sum(1 for _ in _walk(program))


def size(canonical):
    """How many operations a scenario's program holds, nested ones included."""
    return _size(canonical["program"])


def minimise(canonical, still_fails, max_tests=3000):
    """A smaller scenario for which still_fails(candidate) is true, or `canonical` itself.

    still_fails receives a canonical scenario (features recomputed for the candidate) and must
    answer whether it still loads and still shows the failure. Greedy: the first simpler
    candidate that fails replaces the current one, until no candidate fails (a 1-minimal
    program for these transformations) or max_tests predicate calls were made.
    Returns (scenario, tests made).
    """
    select_trace = "select-trace" in canonical.get("features", [])
    log_trace = "log-trace" in canonical.get("features", [])
    base = {k: v for k, v in canonical.items() if k not in ("features", "program")}

    def make(program, select):
        c = _copy(base)
        c["features"] = features_for(program, select, log_trace=log_trace)
        c["program"] = program
        # Keep the key order of the original (it is the order the YAML is written in).
        return {k: c[k] for k in canonical if k in c}

    best = _copy(canonical)
    tests = 0
    progress = True
    while progress and tests < max_tests:
        progress = False
        options = []
        if select_trace:
            options.append(("drop-select", best["program"]))
        for cand in _candidates(best["program"]):
            options.append(("program", cand))
            if len(options) > 4000:
                break
        for what, program in options:
            if tests >= max_tests:
                break
            if what == "drop-select":
                trial = make(program, False)
            else:
                trial = make(program, select_trace)
            if trial == best:
                continue
            tests += 1
            try:
                failing = still_fails(trial)
            except Exception:           # a candidate the loader refuses, and the like
                failing = False
            if failing:
                if what == "drop-select":
                    select_trace = False
                best = trial
                progress = True
                break
    return best, tests
