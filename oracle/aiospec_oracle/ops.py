"""The operation language of spec/README.md, as data.

This table is the single source of truth for the project's Python side: the interpreter
(interpreter.py) takes its operations, their arguments and what `raise` may throw from it; the
loader (tools/aiospec_spec) generates spec/schema/scenario.schema.json from it
(``python3 -m aiospec_spec.schemagen``), expands short forms with it and reads which names an
operation defines or uses from it.  A test fails when the checked-in schema drifts.

Standard library only, CPython 3.8+ and PyPy syntax: the oracle runs on every interpreter it
judges.  Dependencies point one way: tools import this module, never the other way round.
"""

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

# Argument types.  Each has a schema fragment in schemagen.ARG_SCHEMAS.
NAME = "name"            # NAME: [A-Za-z_][A-Za-z0-9_.{}-]*
NUM = "num"              # number, or "inf" / "-inf" / "nan"
AT = "at"                # number, or "inf" / "-inf" (external.at: never NaN)
BLOCK = "block"          # list of operations
LABEL = "label"          # any string
VALUE = "value"          # string, number, boolean or null
SECONDS = "seconds"      # non-negative number (burn)
TIMES = "times"          # integer >= 0
SIZE = "size"            # integer >= 1
VAR = "var"              # identifier used as {var} in repeat
NAMES2 = "names2"        # [a, b], two distinct NAMEs
LOOP_OR_NULL = "loop_or_null"   # NAME or null (set_event_loop)
ASCII = "ascii"          # ASCII text
EXCEPTION = "exception"  # one of RAISABLE
SETTABLE_EXCEPTION = "settable"   # one of SETTABLE (set_exception.type)
AWAITABLE = "awaitable"  # a NAME (future or task of the scenario) or {coroutine: BLOCK}
AWAITABLES = "awaitables"   # a list of AWAITABLE
TYPES = "types"          # a non-empty list of EXCEPTION_TYPES names (try.except[].match)
HANDLERS = "handlers"    # try.except: a list of {match: TYPES, do: BLOCK}
BOOL = "bool"            # true or false
NUM_OR_NULL = "num_or_null"     # NUM or null (wait_for.timeout: None waits forever)
FUTURES = "futures"      # a list of distinct NAMEs of futures or tasks, possibly empty (wait.of)
RETURN_WHEN = "return_when"     # FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED (wait)
TASK_FACTORY = "task_factory"   # "eager" (asyncio.eager_task_factory) or null (None)
HANDLER = "handler"      # set_exception_handler.handler: "record", "raise" or null
EXC_SPEC = "exc_spec"    # {type: one of RAISABLE, message?: LABEL}: an exception to put in a context
CONTEXT_KEYS = "context_keys"   # {name: string}: extra keys of a context (call_exception_handler)
CALLBACK_OBJECT = "callback_object"   # "coroutine", "coroutine-function" or a number (call_soon)
POLICY = "policy"        # set_event_loop_policy.policy: "default" (asyncio.DefaultEventLoopPolicy())

RETURN_WHEN_VALUES = ("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED")
TASK_FACTORIES = ("eager", None)
# What a scenario's exception handler does (set_exception_handler): record a `handler` event and
# return; record it, then raise; or null, set_exception_handler(None) (the default handler).
HANDLER_POLICIES = ("record", "raise", None)
# What call_soon's `object` schedules instead of a block (feature callback-checks, DBG-04).
CALLBACK_OBJECTS = ("coroutine", "coroutine-function")
# What set_event_loop_policy installs: a new asyncio.DefaultEventLoopPolicy() (no current loop,
# set_event_loop never called on it).
POLICIES = ("default",)
# The keys call_exception_handler's own arguments fill; `keys` may not name them.
CONTEXT_ARGS = ("message", "exception", "future", "task", "handle")
CONTEXT_KEY_PATTERN = r"^[a-z_][a-z0-9_]*(?![\s\S])"
MAX_CONTEXT_KEYS = 16

# What `raise` and `set_exception` may throw: ordinary exceptions go to the loop's exception
# handler and the batch goes on; KeyboardInterrupt and SystemExit escape run_forever (ORD-08).
# In a coroutine body `raise` propagates, and `try` may catch it.
RAISABLE = ("Exception", "ValueError", "RuntimeError", "KeyboardInterrupt", "SystemExit",
            "CancelledError", "TimeoutError", "TypeError")
# What `set_exception` may set: RAISABLE, and StopIteration, which a Future refuses (FUT-05).
# Never raised: in a coroutine Python would turn it into RuntimeError (PEP 479).
SETTABLE = RAISABLE + ("StopIteration",)

# The `match` vocabulary of try.except, name -> direct parents (spec/README.md, "Coroutines").
# Mirrored by the C++ interpreter's table (a test compares the two).  The oracle maps each name
# to the real class: CancelledError, InvalidStateError and TimeoutError to asyncio's
# (asyncio.TimeoutError is an Exception subclass of its own on 3.8-3.10 and builtins.TimeoutError,
# an OSError, on 3.11+: only the names below are matchable, so Exception is its parent in every
# version).  BaseExceptionGroup and ExceptionGroup (what a TaskGroup raises) are the builtins on
# 3.11+ and private classes nothing raises before; ExceptionGroup has two parents.
EXCEPTION_TYPES = {
    "BaseException": (),
    "Exception": ("BaseException",),
    "ValueError": ("Exception",),
    "RuntimeError": ("Exception",),
    "TypeError": ("Exception",),
    "InvalidStateError": ("Exception",),
    "TimeoutError": ("Exception",),
    "CancelledError": ("BaseException",),
    "KeyboardInterrupt": ("BaseException",),
    "SystemExit": ("BaseException",),
    "BaseExceptionGroup": ("BaseException",),
    "ExceptionGroup": ("BaseExceptionGroup", "Exception"),
}


def exception_ancestors(name):
    """``name`` and every class above it in EXCEPTION_TYPES, nearest first (breadth first, each
    once: ExceptionGroup -> BaseExceptionGroup, Exception, BaseException)."""
    out, pending = [], [name]
    while pending:
        current = pending.pop(0)
        if current not in out:
            out.append(current)
            pending.extend(EXCEPTION_TYPES[current])
    return out

# Short-form kinds: what the value of `op: <value>` may be when it is not a mapping.
SHORT_BLOCK = "block"    # call_soon: [..]        -> {do: [..]}
SHORT_NULL = "null"      # run_forever:           -> {}
SHORT_STRING = "string"  # record: a              -> {label: "a"}
SHORT_NUMBER = "number"  # burn: 0.25             -> {seconds: 0.25}
SHORT_NAMES = "names"    # socketpair: [a, b]     -> {names: [a, b]}
SHORT_VALUE = "value"    # return: 1              -> {value: 1} (any VALUE, null included)
SHORT_BOOL = "bool"      # set_debug: true        -> {enabled: true}

# Kinds of scenario names, for the "defined somewhere" checks.
HANDLE, FUTURE, LOOP, FD = "handle", "future", "loop", "fd"
TIMEOUT, GROUP = "timeout", "task group"      # `as` of timeout / timeout_at, of task_group


@dataclass(frozen=True)
class Op:
    args: Dict[str, str]                  # argument -> type, in README order
    required: Tuple[str, ...] = ()
    short: Optional[str] = None           # SHORT_* kind, None = long form only
    short_key: Optional[str] = None       # argument the short value fills (None for null/block)
    feature: Optional[str] = None         # features.txt name the operation needs
    defines: Dict[str, str] = field(default_factory=dict)   # argument -> name kind it defines
    uses: Dict[str, str] = field(default_factory=dict)      # argument -> name kind it refers to
    doc: str = ""                         # one-line summary for schema descriptions
    python_only: bool = False             # only CPython runs it (its feature says so)
    coroutine_only: bool = False          # only inside a coroutine body ("C" in spec/README.md)
    coroutine_blocks: Tuple[str, ...] = ()   # BLOCK arguments that are coroutine bodies
    since: Optional[str] = None           # lowest CPython minor version with the operation
    arg_features: Dict[str, str] = field(default_factory=dict)   # argument -> feature it needs
    arg_since: Dict[str, str] = field(default_factory=dict)      # argument -> lowest CPython
    inline_blocks: Tuple[str, ...] = ()   # coroutine blocks that run inline in the coroutine
                                          # that runs the operation (try, timeout, task_group)
    exactly_one: Tuple[str, ...] = ()     # of these arguments exactly one is given (drop)
    only_with: Dict[str, Tuple[str, object]] = field(default_factory=dict)
                                          # argument -> (other argument, the value it needs)

    @property
    def optional(self):
        return tuple(a for a in self.args if a not in self.required)

    @property
    def blocks(self):
        """The arguments that hold a block of operations."""
        return tuple(a for a, t in self.args.items() if t == BLOCK)


def _op(args, required=(), short=None, short_key=None, feature=None, defines=None, uses=None,
        doc="", python_only=False, coroutine_only=False, coroutine_blocks=(), since=None,
        arg_features=None, arg_since=None, inline_blocks=(), exactly_one=(), only_with=None):
    return Op(dict(args), tuple(required), short, short_key, feature, dict(defines or {}),
              dict(uses or {}), doc, python_only, coroutine_only, tuple(coroutine_blocks),
              since, dict(arg_features or {}), dict(arg_since or {}), tuple(inline_blocks),
              tuple(exactly_one), dict(only_with or {}))


def _c(args, required=(), short=None, short_key=None, defines=None, uses=None, doc="",
       coroutine_blocks=(), feature="tasks", since=None, inline_blocks=()):
    """An operation (of feature `tasks` unless said) that exists only inside a coroutine body."""
    return _op(args, required, short, short_key, feature, defines, uses, doc,
               coroutine_only=True, coroutine_blocks=coroutine_blocks, since=since,
               inline_blocks=inline_blocks)


_SCHEDULE = {"do": BLOCK, "as": NAME, "loop": NAME}
_LOOP_ONLY = {"loop": NAME}
_LOOP_USE = {"loop": LOOP}
# The context of call_exception_handler / default_exception_handler, in the order its keys go
# into the dict: message, exception, future, task, handle, then `keys` (sorted by name).
_CONTEXT = {"message": LABEL, "exception": EXC_SPEC, "future": NAME, "task": NAME,
            "handle": NAME, "keys": CONTEXT_KEYS, "loop": NAME}
_CONTEXT_USES = {"future": FUTURE, "task": FUTURE, "handle": HANDLE, "loop": LOOP}
_CONTEXT_FEATURES = {"future": "futures", "task": "tasks"}

OPS: Dict[str, Op] = {
    # Recording and the world
    "record": _op({"label": LABEL}, ["label"], SHORT_STRING, "label",
                  doc="record an event with a label"),
    "burn": _op({"seconds": SECONDS}, ["seconds"], SHORT_NUMBER, "seconds",
                doc="the running callback takes this many virtual seconds"),
    "raise": _op({"type": EXCEPTION, "message": LABEL}, ["type"], SHORT_STRING, "type",
                 doc="raise an exception of that class (message optional) from here"),
    "repeat": _op({"times": TIMES, "var": VAR, "do": BLOCK}, ["times", "do"],
                  doc="run a block N times, substituting {i} (or {var}) in its strings"),
    "in_thread": _op({"do": BLOCK}, ["do"], SHORT_BLOCK, feature="threads",
                     doc="run a block on a new thread and wait for it"),
    "external": _op({"at": AT, "do": BLOCK}, ["at", "do"], feature="threads",
                    doc="run a block on a new thread when the loop polls at or after time 'at'"),
    # Scheduling callbacks
    # `object` (feature callback-checks, Python only) schedules a coroutine, a coroutine
    # function or a number instead of a block: debug mode refuses them (DBG-04).
    "call_soon": _op({"do": BLOCK, "object": CALLBACK_OBJECT, "as": NAME, "loop": NAME}, (),
                     SHORT_BLOCK, defines={"as": HANDLE}, uses=_LOOP_USE,
                     arg_features={"object": "callback-checks"}, exactly_one=("do", "object"),
                     doc="loop.call_soon"),
    "call_soon_threadsafe": _op(_SCHEDULE, ["do"], SHORT_BLOCK, feature="threads",
                                defines={"as": HANDLE}, uses=_LOOP_USE,
                                doc="loop.call_soon_threadsafe"),
    "call_later": _op({"delay": NUM, **_SCHEDULE}, ["delay", "do"], defines={"as": HANDLE},
                      uses=_LOOP_USE, doc="loop.call_later"),
    "call_at": _op({"when": NUM, **_SCHEDULE}, ["when", "do"], defines={"as": HANDLE},
                   uses=_LOOP_USE, doc="loop.call_at"),
    "cancel": _op({"handle": NAME}, ["handle"], SHORT_STRING, "handle", uses={"handle": HANDLE},
                  doc="Handle.cancel()"),
    "when": _op({"handle": NAME}, ["handle"], SHORT_STRING, "handle", uses={"handle": HANDLE},
                doc="TimerHandle.when(), recorded"),
    # Running and stopping
    "run_forever": _op(_LOOP_ONLY, (), SHORT_NULL, uses=_LOOP_USE, doc="loop.run_forever()"),
    "run_until_complete": _op({"future": NAME, "loop": NAME}, ["future"], SHORT_STRING, "future",
                              feature="futures", uses={"future": FUTURE, "loop": LOOP},
                              doc="loop.run_until_complete(future), result recorded"),
    "stop": _op(_LOOP_ONLY, (), SHORT_NULL, uses=_LOOP_USE, doc="loop.stop()"),
    "close": _op(_LOOP_ONLY, (), SHORT_NULL, uses=_LOOP_USE, doc="loop.close()"),
    "is_running": _op(_LOOP_ONLY, (), SHORT_NULL, uses=_LOOP_USE,
                      doc="loop.is_running(), recorded"),
    "is_closed": _op(_LOOP_ONLY, (), SHORT_NULL, uses=_LOOP_USE, doc="loop.is_closed(), recorded"),
    "time": _op(_LOOP_ONLY, (), SHORT_NULL, uses=_LOOP_USE, doc="loop.time(), recorded"),
    "new_loop": _op({"name": NAME}, ["name"], SHORT_STRING, "name", feature="multiple-loops",
                    defines={"name": LOOP}, doc="a second loop sharing the virtual clock"),
    "get_running_loop": _op({}, (), SHORT_NULL, feature="running-loop",
                            doc="asyncio.get_running_loop(), recorded"),
    # Futures
    "new_future": _op({"name": NAME, "loop": NAME}, ["name"], SHORT_STRING, "name",
                      feature="futures", defines={"name": FUTURE}, uses=_LOOP_USE,
                      doc="loop.create_future()"),
    "set_result": _op({"future": NAME, "value": VALUE}, ["future", "value"], feature="futures",
                      uses={"future": FUTURE}, doc="Future.set_result(value)"),
    "add_done_callback": _op({"future": NAME, "do": BLOCK}, ["future", "do"], feature="futures",
                             uses={"future": FUTURE}, doc="Future.add_done_callback"),
    "done": _op({"future": NAME}, ["future"], SHORT_STRING, "future", feature="futures",
                uses={"future": FUTURE}, doc="Future.done(), recorded"),
    "result": _op({"future": NAME}, ["future"], SHORT_STRING, "future", feature="futures",
                  uses={"future": FUTURE}, doc="Future.result(), recorded"),
    "set_exception": _op({"future": NAME, "type": SETTABLE_EXCEPTION, "message": LABEL},
                         ["future", "type"], feature="futures", uses={"future": FUTURE},
                         doc="Future.set_exception(type(message))"),
    "cancel_future": _op({"future": NAME, "message": LABEL}, ["future"], SHORT_STRING, "future",
                         feature="futures", uses={"future": FUTURE},
                         doc="Future.cancel(message) / Task.cancel(message), recorded"),
    "cancelled": _op({"future": NAME}, ["future"], SHORT_STRING, "future", feature="futures",
                     uses={"future": FUTURE}, doc="Future.cancelled(), recorded"),
    "exception": _op({"future": NAME}, ["future"], SHORT_STRING, "future", feature="futures",
                     uses={"future": FUTURE}, doc="Future.exception(), recorded"),
    # Coroutines and tasks.  `create_task.do` and an AWAITABLE's `coroutine` are coroutine
    # bodies, and so are the blocks of a `try` (which is itself only in a coroutine body).
    "create_task": _op({"do": BLOCK, "as": NAME, "loop": NAME, "group": NAME}, ["do"],
                       feature="tasks", defines={"as": FUTURE},
                       uses={"loop": LOOP, "group": GROUP}, coroutine_blocks=("do",),
                       arg_features={"group": "task-groups"}, arg_since={"group": "3.11"},
                       doc="loop.create_task(a coroutine running the block), or "
                           "TaskGroup.create_task with 'group'"),
    "current_task": _op({}, (), SHORT_NULL, feature="tasks",
                        doc="asyncio.current_task(), recorded as its name"),
    "cancelling": _op({"future": NAME}, ["future"], SHORT_STRING, "future", feature="tasks",
                      uses={"future": FUTURE}, doc="Task.cancelling() (3.11+), recorded"),
    "uncancel": _op({"future": NAME}, ["future"], SHORT_STRING, "future", feature="tasks",
                    uses={"future": FUTURE}, doc="Task.uncancel() (3.11+), recorded"),
    "await": _c({"on": AWAITABLE}, ["on"], SHORT_STRING, "on", uses={"on": FUTURE},
                doc="await a future, a task or a new coroutine; outcome recorded"),
    "sleep": _c({"delay": NUM, "result": VALUE}, ["delay"], SHORT_NUMBER, "delay",
                doc="await asyncio.sleep(delay, result); outcome recorded"),
    "gather": _c({"of": AWAITABLES, "return_exceptions": BOOL, "as": NAME}, ["of"],
                 defines={"as": FUTURE}, uses={"of": FUTURE},
                 doc="await asyncio.gather(*of); 'as' names the gathering future"),
    "shield": _c({"on": AWAITABLE, "as": NAME}, ["on"], defines={"as": FUTURE},
                 uses={"on": FUTURE},
                 doc="await asyncio.shield(on); 'as' names the outer future"),
    "wait_for": _c({"on": AWAITABLE, "timeout": NUM_OR_NULL}, ["on", "timeout"],
                   uses={"on": FUTURE}, doc="await asyncio.wait_for(on, timeout)"),
    "return": _c({"value": VALUE}, ["value"], SHORT_VALUE, "value",
                 doc="end the coroutine with this value (finally blocks run)"),
    "try": _c({"do": BLOCK, "except": HANDLERS, "finally": BLOCK}, ["do"],
              coroutine_blocks=("do", "finally"), inline_blocks=("do", "finally"),
              doc="try/except/finally with asyncio's exception classes"),
    "reraise": _c({}, (), SHORT_NULL, doc="raise the exception being handled again"),
    "wait": _c({"of": FUTURES, "return_when": RETURN_WHEN, "timeout": NUM_OR_NULL}, ["of"],
               uses={"of": FUTURE},
               doc="await asyncio.wait(of, timeout=, return_when=); done and pending recorded"),
    # Timeout scopes (3.11+): `do` runs inline, inside `async with asyncio.timeout(...)`.
    "timeout": _c({"delay": NUM_OR_NULL, "do": BLOCK, "as": NAME}, ["delay", "do"],
                  defines={"as": TIMEOUT}, coroutine_blocks=("do",), inline_blocks=("do",),
                  feature="timeouts", since="3.11",
                  doc="async with asyncio.timeout(delay) around the block; outcome recorded"),
    "timeout_at": _c({"when": NUM_OR_NULL, "do": BLOCK, "as": NAME}, ["when", "do"],
                     defines={"as": TIMEOUT}, coroutine_blocks=("do",), inline_blocks=("do",),
                     feature="timeouts", since="3.11",
                     doc="async with asyncio.timeout_at(when) around the block; outcome recorded"),
    "reschedule": _op({"timeout": NAME, "when": NUM_OR_NULL}, ["timeout", "when"],
                      feature="timeouts", uses={"timeout": TIMEOUT}, since="3.11",
                      doc="Timeout.reschedule(when)"),
    "expired": _op({"timeout": NAME}, ["timeout"], SHORT_STRING, "timeout", feature="timeouts",
                   uses={"timeout": TIMEOUT}, since="3.11", doc="Timeout.expired(), recorded"),
    "deadline": _op({"timeout": NAME}, ["timeout"], SHORT_STRING, "timeout", feature="timeouts",
                    uses={"timeout": TIMEOUT}, since="3.11", doc="Timeout.when(), recorded"),
    # Task groups (3.11+): `do` runs inline, inside `async with asyncio.TaskGroup()`.
    "task_group": _c({"do": BLOCK, "as": NAME}, ["do"], defines={"as": GROUP},
                     coroutine_blocks=("do",), inline_blocks=("do",), feature="task-groups",
                     since="3.11",
                     doc="async with asyncio.TaskGroup() around the block; outcome recorded"),
    # TaskGroup.cancel() (3.15+): on a group the scenario named (entered, since the name is bound
    # after __aenter__), from the body, a child, or a callback; returns None.
    "cancel_task_group": _op({"group": NAME}, ["group"], SHORT_STRING, "group",
                             feature="task-groups", uses={"group": GROUP}, since="3.15",
                             doc="TaskGroup.cancel(): cancel the children and the body"),
    # Eager tasks (3.12+) and asyncio.run.
    "set_task_factory": _op({"factory": TASK_FACTORY, "loop": NAME}, ["factory"], SHORT_STRING,
                            "factory", feature="eager-tasks", uses=_LOOP_USE, since="3.12",
                            doc="loop.set_task_factory(asyncio.eager_task_factory or None)"),
    # `value` instead of `do` hands asyncio.run a plain value, which is no awaitable: ValueError
    # before 3.14, TypeError from it (LIF-08).
    "run": _op({"do": BLOCK, "value": VALUE, "as": NAME}, (), feature="runner",
               defines={"as": LOOP}, coroutine_blocks=("do",), exactly_one=("do", "value"),
               doc="asyncio.run(a coroutine running the block, or a plain value) on a new "
                   "loop; outcome recorded"),
    # I/O on socket pairs
    "socketpair": _op({"names": NAMES2}, ["names"], SHORT_NAMES, "names", feature="fd-io",
                      defines={"names": FD}, doc="two connected non-blocking stream sockets"),
    "add_reader": _op({"fd": NAME, "do": BLOCK, "loop": NAME}, ["fd", "do"], feature="fd-io",
                      uses={"fd": FD, "loop": LOOP}, doc="loop.add_reader"),
    "add_writer": _op({"fd": NAME, "do": BLOCK, "loop": NAME}, ["fd", "do"], feature="fd-io",
                      uses={"fd": FD, "loop": LOOP}, doc="loop.add_writer"),
    "remove_reader": _op({"fd": NAME, "loop": NAME}, ["fd"], SHORT_STRING, "fd", feature="fd-io",
                         uses={"fd": FD, "loop": LOOP}, doc="loop.remove_reader, recorded"),
    "remove_writer": _op({"fd": NAME, "loop": NAME}, ["fd"], SHORT_STRING, "fd", feature="fd-io",
                         uses={"fd": FD, "loop": LOOP}, doc="loop.remove_writer, recorded"),
    "send": _op({"fd": NAME, "data": ASCII}, ["fd", "data"], feature="fd-io", uses={"fd": FD},
                doc="send ASCII text on a socket"),
    "recv": _op({"fd": NAME, "size": SIZE}, ["fd"], SHORT_STRING, "fd", feature="fd-io",
                uses={"fd": FD}, doc="receive up to size bytes (default 4096), recorded"),
    "close_fd": _op({"fd": NAME}, ["fd"], SHORT_STRING, "fd", feature="fd-io", uses={"fd": FD},
                    doc="close a socket"),
    # Exception handlers (feature exception-handler).  `handler: raise` raises `type`
    # (default RuntimeError) with `message` (default 'handler failed') after recording.
    # `var` (feature handler-context, Python only): the handler also records the value of that
    # context variable as it sees it (EXC-03: the context it runs in).
    "set_exception_handler": _op({"handler": HANDLER, "type": EXCEPTION, "message": LABEL,
                                  "var": NAME, "loop": NAME}, ["handler"], SHORT_STRING,
                                 "handler", feature="exception-handler", uses=_LOOP_USE,
                                 arg_features={"var": "handler-context"},
                                 only_with={"type": ("handler", "raise"),
                                            "message": ("handler", "raise"),
                                            "var": ("handler", "record")},
                                 doc="loop.set_exception_handler(a recording handler, a "
                                     "raising one, or None)"),
    "get_exception_handler": _op(_LOOP_ONLY, (), SHORT_NULL, feature="exception-handler",
                                 uses=_LOOP_USE,
                                 doc="loop.get_exception_handler(), recorded as the policy set"),
    "call_exception_handler": _op(_CONTEXT, (), SHORT_NULL, feature="exception-handler",
                                  uses=_CONTEXT_USES, arg_features=_CONTEXT_FEATURES,
                                  doc="loop.call_exception_handler(context)"),
    "default_exception_handler": _op(_CONTEXT, (), SHORT_NULL, feature="exception-handler",
                                     uses=_CONTEXT_USES, arg_features=_CONTEXT_FEATURES,
                                     doc="loop.default_exception_handler(context)"),
    # The scenario lets go of a future or task (the name becomes unbound), then the garbage is
    # collected: what its finalizer reports happens inside this operation (EXC-08).
    "drop": _op({"future": NAME, "task": NAME}, (), uses={"future": FUTURE, "task": FUTURE},
                arg_features={"future": "futures", "task": "tasks"},
                exactly_one=("future", "task"),
                doc="forget a future or task, then gc.collect()"),
    # Debug mode (feature debug).
    "set_debug": _op({"enabled": BOOL, "loop": NAME}, ["enabled"], SHORT_BOOL, "enabled",
                     feature="debug", uses=_LOOP_USE, doc="loop.set_debug(enabled)"),
    "get_debug": _op(_LOOP_ONLY, (), SHORT_NULL, feature="debug", uses=_LOOP_USE,
                     doc="loop.get_debug(), recorded"),
    "slow_callback_duration": _op({"seconds": SECONDS, "loop": NAME}, ["seconds"],
                                  SHORT_NUMBER, "seconds", feature="debug", uses=_LOOP_USE,
                                  doc="loop.slow_callback_duration = seconds"),
    # Python-only operations.  README gives no short forms for these; the no-argument
    # get_event_loop accepts `get_event_loop:` like get_running_loop does.
    "contextvar_set": _op({"var": NAME, "value": VALUE}, ["var", "value"], feature="contextvars",
                          doc="ContextVar.set(value)", python_only=True),
    "contextvar_get": _op({"var": NAME}, ["var"], feature="contextvars",
                          doc="ContextVar.get(None), recorded", python_only=True),
    "set_event_loop": _op({"loop": LOOP_OR_NULL}, ["loop"], feature="policies",
                          uses={"loop": LOOP}, doc="asyncio.set_event_loop(loop or None)",
                          python_only=True),
    "get_event_loop": _op({}, (), SHORT_NULL, feature="policies",
                          doc="asyncio.get_event_loop(), recorded", python_only=True),
    # The policy API (deprecated in 3.14).  The policy object is the host's: nothing recorded.
    "set_event_loop_policy": _op({"policy": POLICY}, ["policy"], SHORT_STRING, "policy",
                                 feature="policies",
                                 doc="asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())",
                                 python_only=True),
    "get_event_loop_policy": _op({}, (), SHORT_NULL, feature="policies",
                                 doc="asyncio.get_event_loop_policy(), not recorded",
                                 python_only=True),
    "coroutine_origin_depth": _op({}, (), SHORT_NULL, feature="coroutine-origin",
                                  doc="sys.get_coroutine_origin_tracking_depth(), recorded",
                                  python_only=True),
}

# Arguments whose canonical value is a float even when YAML wrote an integer: CPython keeps an
# int deadline as an int (call_at(2) -> when() == 2), which would render "2" in a trace where a
# C++ double renders "2.0".  Normalising here removes that difference at the source.
FLOAT_TYPES = (NUM, AT, SECONDS, NUM_OR_NULL)
INT_TYPES = (TIMES, SIZE)

SPECIAL_NUMS = ("inf", "-inf", "nan")

# Patterns end with (?![\s\S]) rather than $: in Python's re (which jsonschema uses) `$` also
# matches before a final newline, so "ord-0001\n" would pass; ECMA-262 has no \Z, and this
# lookahead means "end of input" in both dialects.
END = r"(?![\s\S])"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.{}-]*" + END
VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*" + END
# Any scenario id; inside spec/<area>/ the prefix must be one of PROJECT_PREFIXES (a loop
# author's own scenarios, elsewhere, use their own prefix).
ID_PATTERN = r"^[a-z][a-z0-9]{1,15}-[0-9]{4}" + END
PROJECT_PREFIXES = ("ord", "tmr", "lif", "io", "fut", "tsk", "cxl", "exc", "dbg")
CLAUSE_PATTERN = r"^[A-Z]{3}-[0-9]{2}" + END
VERSION_PATTERN = r"^3\.([89]|[1-9][0-9])" + END

# Area directory -> id prefix of scenarios born there.
AREAS = {"ordering": "ord", "timers": "tmr", "lifecycle": "lif", "io": "io",
         "futures": "fut", "tasks": "tsk", "cancellation": "cxl", "exceptions": "exc",
         "debug": "dbg"}

TOP_KEYS = ("id", "title", "clauses", "features", "level", "python", "description", "budget",
            "program")

# Budgets (spec/README.md "budget"): key -> (default, largest value a scenario may set).
BUDGETS = {
    "iterations": (10000, 1000000),
    "callbacks": (100000, 1000000),
    "time": (31536000.0, 1e12),
    "operations": (100000, 10000000),
    "events": (10000, 1000000),
}

# Static limits (spec/README.md "Limits"); the loader refuses a scenario beyond them.
MAX_FILE_BYTES = 262144
MAX_REPEAT_TIMES = 100000
MAX_BLOCK_DEPTH = 32
MAX_LABEL = 256              # label, raise.message
MAX_NAME = 64                # handle, future, loop, socket, placeholder and context variable names
MAX_SEND_DATA = 4096
MAX_RECV_SIZE = 65536


def _version_key(version):
    return tuple(int(part) for part in version.split("."))


def features_of(name, args):
    """The features one operation needs: its own, and those of the arguments it was given."""
    op = OPS[name]
    needed = {op.feature} if op.feature else set()
    needed.update(f for arg, f in op.arg_features.items() if arg in args)
    return needed


def since_of(name, args):
    """The lowest CPython that has the operation with the arguments it was given (None: all)."""
    op = OPS[name]
    versions = [op.since] if op.since else []
    versions += [v for arg, v in op.arg_since.items() if arg in args]
    return max(versions, key=_version_key) if versions else None


def sub_blocks(name, args):
    """Every block an operation's (canonical) arguments hold, nested ones included:
    ``(path, block, coroutine)`` with ``path`` the keys and indices from the arguments to the
    block (``("do",)``, ``("on", "coroutine")``, ``("of", 1, "coroutine")``,
    ``("except", 0, "do")``) and ``coroutine`` true when the block is a coroutine body.

    Tolerant of malformed arguments (the interpreter counts operations before checking them):
    what is not shaped like a block is skipped."""
    op = OPS.get(name)
    if op is None or not isinstance(args, dict):
        return
    for arg, kind in op.args.items():
        value = args.get(arg)
        if kind == BLOCK and isinstance(value, list):
            yield (arg,), value, arg in op.coroutine_blocks
        elif kind == AWAITABLE and isinstance(value, dict) \
                and isinstance(value.get("coroutine"), list):
            yield (arg, "coroutine"), value["coroutine"], True
        elif kind == AWAITABLES and isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict) and isinstance(item.get("coroutine"), list):
                    yield (arg, i, "coroutine"), item["coroutine"], True
        elif kind == HANDLERS and isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict) and isinstance(item.get("do"), list):
                    yield (arg, i, "do"), item["do"], True


# The operations only a coroutine body may hold ("C" in spec/README.md).
COROUTINE_ONLY = frozenset(name for name, op in OPS.items() if op.coroutine_only)
