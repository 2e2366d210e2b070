"""Short forms -> canonical form (spec/README.md, "canonical" columns).

Runs on data that already passed the source schema.  Every operation becomes a one-key object
whose value is an object of arguments; ``do`` blocks are normalised recursively.  Defaults are
NOT filled in (``run_forever:`` -> ``{}``, not ``{"loop": "main"}``), as README's examples show.

Numbers: NUM and seconds arguments become floats and integer arguments ints, so that `delay: 1`
and `delay: 1.0` give the same canonical JSON (and the same scenario_sha256), and CPython never
sees an int deadline it would echo back as "2" where a C++ double renders "2.0".

``visit`` is called for every operation, in document order (pre-order: an operation before the
operations of its blocks), with (name, canonical args without blocks yet, source path of each
argument, source path of the operation, ``Where`` it sits); the semantic checks use it to find
names, needed features and misplaced coroutine operations with positions.

Blocks nest in three more ways than ``do``: an AWAITABLE's ``{coroutine: BLOCK}`` (await, shield,
wait_for; each item of gather's ``of``), try's ``except[].do`` and ``finally``.
"""

from aiospec_oracle import ops


def _short_to_args(op, value):
    if op.short == ops.SHORT_BLOCK:
        return {"do": value}
    if op.short == ops.SHORT_NULL:
        return {}
    return {op.short_key: value}


def _coerce(kind, value):
    if kind in ops.FLOAT_TYPES and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind in ops.INT_TYPES and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return value


class Where:
    """Where an operation sits: in a coroutine body (``coroutine``), and in an except block of
    that coroutine (``handling``, lexically, up to the coroutine's own body)."""

    __slots__ = ("coroutine", "handling")

    def __init__(self, coroutine=False, handling=False):
        self.coroutine = coroutine
        self.handling = handling


TOP = Where()


def _awaitable(value, path, visit):
    """An AWAITABLE: a name as it is, {coroutine: BLOCK} with its block normalised."""
    if isinstance(value, dict):
        body_path = path + ("coroutine",)
        return {"coroutine": normalise_block(value["coroutine"], body_path, visit,
                                             Where(True, False))}
    return value


def _nested(name, arg, kind, value, arg_path, visit, where):
    """The canonical value of an argument that holds blocks inside a structure."""
    if kind == ops.AWAITABLE:
        return _awaitable(value, arg_path, visit)
    if kind == ops.AWAITABLES:
        return [_awaitable(v, arg_path + (i,), visit) for i, v in enumerate(value)]
    if kind == ops.HANDLERS:
        inside = Where(True, True)
        return [{"match": list(h["match"]),
                 "do": normalise_block(h["do"], arg_path + (i, "do"), visit, inside)}
                for i, h in enumerate(value)]
    return value


_STRUCTURED = (ops.AWAITABLE, ops.AWAITABLES, ops.HANDLERS)


def normalise_block(block, path, visit=None, where=TOP):
    out = []
    for i, item in enumerate(block):
        (name, value), = item.items()
        op = ops.OPS[name]
        op_path = path + (i, name)
        if isinstance(value, dict):
            args = dict(value)
            arg_paths = {a: op_path + (a,) for a in args}
            do_path = op_path + ("do",)
        else:
            args = _short_to_args(op, value)
            arg_paths = {a: op_path for a in args}
            do_path = op_path
        canonical = {}
        for arg in op.args:            # README argument order, for readable `show` output
            if arg in args:
                kind = op.args[arg]
                canonical[arg] = None if kind == ops.BLOCK else _coerce(kind, args[arg])
        if visit is not None:          # pre-order: an operation before the ones of its blocks
            visit(name, canonical, arg_paths, op_path, where)
        for arg in op.args:
            if arg not in args:
                continue
            kind = op.args[arg]
            if kind == ops.BLOCK:
                if arg in op.coroutine_blocks:
                    # An inline block (try.do / try.finally, a timeout's or a task group's do)
                    # keeps the except-block state where it is; a task's body (create_task, run)
                    # starts a new coroutine.
                    inner = Where(True, where.handling if arg in op.inline_blocks else False)
                elif name == "repeat":
                    inner = where      # the copies run here and now: coroutine code in a coroutine
                else:
                    inner = TOP        # a callback body, even inside a coroutine
                sub_path = do_path if arg == "do" else op_path + (arg,)
                canonical[arg] = normalise_block(args[arg], sub_path, visit, inner)
            elif kind in _STRUCTURED:
                canonical[arg] = _nested(name, arg, kind, args[arg], arg_paths[arg], visit,
                                         where)
        out.append({name: canonical})
    return out


def normalise(scenario, visit=None):
    """The canonical dict of a validated source scenario (keys in README order)."""
    out = {}
    for key in ops.TOP_KEYS:
        if key not in scenario:
            continue
        value = scenario[key]
        if key == "program":
            value = normalise_block(value, ("program",), visit)
        elif key == "budget":
            value = {k: (float(v) if k == "time" else int(v)) for k, v in value.items()}
        elif isinstance(value, (list, dict)):
            value = type(value)(value)
        out[key] = value
    return out
