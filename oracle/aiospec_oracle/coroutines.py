"""The coroutine half of the interpreter: coroutine bodies, the await family, try/except/finally,
`return` and `reraise`, the task operations, and the exception chaining that makes the scenario's
coroutines see what one Python frame per coroutine would.

``Coroutines`` is a mixin of ``interpreter.Interpreter``: the seam is the interpreter's plain
operations (``_invoke``, ``_parse``, names, ``world``), which a coroutine body uses for every
operation that is not coroutine-only; this module adds the ``_cop_*`` operations (run only inside
a coroutine body, awaited) and the ``_op_*`` task operations that may run anywhere.
"""

import asyncio
import collections.abc
import inspect

from .exceptions import Abort, Return
from . import ops
from .values import (EXCEPTION_CLASSES, FUTURE, GROUP, TIMEOUT, _fail, _num, _value, Hold,
                     describe, trace_value)


# Every exception a scenario coroutine's frame has handled in this run (``_Frame.active`` of all
# of them, kept): what the interpreter's own frames may have chained a passing exception to (see
# _restore). Emptied when a run starts.
_HANDLED_IN_THIS_RUN = []


class _Active(list):
    """A frame's ``active`` list; what enters it is remembered in _HANDLED_IN_THIS_RUN."""

    def append(self, exc):
        super().append(exc)
        _HANDLED_IN_THIS_RUN.append(exc)


class _Frame:
    """What one running coroutine body knows about itself, as Python's frame would: the
    exceptions its except blocks are handling (``handling``, innermost last: `reraise` raises
    the last), and every exception it is handling in the sense of implicit chaining
    (``active``: those, and the exception in flight while a `finally` block runs)."""

    __slots__ = ('handling', 'active')

    def __init__(self):
        self.handling = []
        self.active = _Active()


class _Resumable(collections.abc.Coroutine):
    """A scenario coroutine as asyncio drives it: the coroutine object of ``_coroutine``, and how
    its task last resumed it.  Python chains an exception that reaches the coroutine's frame on
    the path of a throw (gen_throw hands it on, 3.9+) but not one raised on the path of a send,
    whose context was set where it was raised; _outcome asks which path it was."""

    __slots__ = ('coro', 'resumptions', 'thrown', '__weakref__')

    def __init__(self, coro):
        self.coro = coro
        self.resumptions = 0      # sends and throws so far
        self.thrown = False       # the latest one was a throw

    def send(self, value):
        self.resumptions += 1
        self.thrown = False
        return self.coro.send(value)

    def throw(self, *args):
        self.resumptions += 1
        self.thrown = True
        return self.coro.throw(*args)

    def close(self):
        return self.coro.close()

    @property
    def started(self):
        """Has it run (sent to by its task, or awaited by another coroutine)?"""
        return inspect.getcoroutinestate(self.coro) != inspect.CORO_CREATED

    def __await__(self):
        return (yield from self.coro.__await__())


def _resumptions():
    """The current task's scenario coroutine and its resumptions so far (None outside one)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None, 0
    root = task.get_coro() if task is not None else None
    if isinstance(root, _Resumable):
        return root, root.resumptions
    return None, 0


def _settle(exc):
    """Record ``exc``'s context as the scenario's coroutine sees it now (see _appeared)."""
    exc._aiospec_context = exc.__context__


def _restore(exc):
    """Undo what the interpreter's own frames did to ``exc.__context__`` since it was settled:
    each interpreter frame that handles an exception re-chains a thrown exception passing
    through it (3.9+), where Python's one frame per coroutine would not.  Those frames handle
    only exceptions a scenario frame handles or handled (a `finally` block's exception in
    flight stays handled by the interpreter's frame after the block ends); a context that is
    none of them was given by asyncio's own code (wait_for raising a child's exception while it
    handles the cancel that woke it, found by the fuzzer): Python's, kept, and settled."""
    if not hasattr(exc, '_aiospec_context'):
        return
    now = exc.__context__
    if now is exc._aiospec_context:
        return
    if now is None or any(now is handled for handled in _HANDLED_IN_THIS_RUN):
        exc.__context__ = exc._aiospec_context
    else:
        exc._aiospec_context = now


def _throw_chains():
    """Does this Python chain an exception thrown into a suspended generator (coroutine) with
    the exception that generator is handling?  CPython 3.9+ does (gen_send_ex chains with the
    frame's own handled exception); CPython 3.8 does not (nor does PyPy 3.9 for a plain
    generator).  Probed, not assumed from the version, since the oracle also runs on PyPy
    (host.py)."""
    def gen():
        try:
            raise ValueError
        except ValueError:
            yield
    g = gen()
    next(g)
    try:
        g.throw(KeyError())
    except KeyError as exc:
        return exc.__context__ is not None
    return False


THROW_CHAINS = _throw_chains()


def chain(exc, handled):
    """Implicit chaining as CPython's _PyErr_SetObject does it: ``exc`` appears while
    ``handled`` is being handled; a cycle through ``handled``'s context chain is cut."""
    if handled is None or handled is exc:
        return
    link = handled
    while link.__context__ is not None:
        if link.__context__ is exc:
            link.__context__ = None
            break
        link = link.__context__
    exc.__context__ = handled


def _foreign(exc):
    """Exceptions of the interpreter, not of the scenario: never matched by `except`, never
    recorded as an outcome, and no `finally` block runs for them (the run is ending)."""
    return isinstance(exc, (Abort, Return, GeneratorExit))


class Coroutines:
    """The coroutine operations of ``Interpreter`` (a mixin: see the module docstring)."""

    def _future_name(self, future):
        """The scenario's name for a future or task, "" for one it did not name.  A task still
        being made by a `create_task` with `as` (an eager task's first step runs inside
        create_task, before it returns) has that name already: it is the task whose coroutine
        is the one that create_task was given."""
        for name, candidate in self._futures.items():
            if candidate is future:
                return name
        get_coro = getattr(future, 'get_coro', None)
        if get_coro is not None:
            coro = get_coro()
            for name, creating in reversed(self._creating):
                if creating is coro:
                    return name
        return ''

    def _new_coroutine(self, op, block):
        """A new coroutine object whose body is ``block`` (not started)."""
        if not isinstance(block, list):
            _fail('%s: a coroutine body must be a list of operations, not %r' % (op, block))
        coro = _Resumable(self._coroutine(block))
        self._coroutines.append(Hold(coro, weak_once_started=self._reports_traced()))
        return coro

    def _awaitable(self, op, key, value):
        """An AWAITABLE: the future or task named, or a new coroutine object."""
        if isinstance(value, str):
            return self._lookup(self._futures, FUTURE, op, value)
        if isinstance(value, dict) and list(value) == ['coroutine']:
            return self._new_coroutine(op, value['coroutine'])
        _fail('%s: %s must be a future name or {coroutine: [...]}, not %r' % (op, key, value))

    def _keep(self, future):
        # Where reports are traced, futures live as long as CPython keeps them (EXC-08): a name
        # holds them, and `drop` lets go.
        if not self._reports_traced():
            self._kept.append(future)
        return future

    def _op_create_task(self, op, args):
        group = args.get('group')
        if group is not None:
            if 'loop' in args:
                _fail("create_task: 'group' and 'loop' exclude each other")
            group = self._lookup(self._groups, GROUP, op, group)
            create = group.create_task
        else:
            create = self._loop(op, args).create_task
        name = args.get('as')
        if name is not None:
            name = self._unbound(self._futures, FUTURE, op, self._name(op, 'as', name))
        coro = self._new_coroutine(op, args['do'])
        self._creating.append((name, coro))
        try:
            # A named task carries the scenario's name, which reports show (`<Task pending
            # name='t'>`); an unnamed one keeps asyncio's Task-<n>.
            task = self._keep(create(coro) if name is None else create(coro, name=name))
        finally:
            self._creating.pop()
        if name is not None:
            self._futures[name] = task

    def _op_current_task(self, op, args):
        task = asyncio.current_task()
        self.world.record('current_task',
                          value=None if task is None else self._future_name(task))

    def _op_cancelling(self, op, args):
        task = self._lookup(self._futures, FUTURE, op, args['future'])
        self.world.record('cancelling', future=args['future'], value=task.cancelling())

    def _op_uncancel(self, op, args):
        task = self._lookup(self._futures, FUTURE, op, args['future'])
        self.world.record('uncancel', future=args['future'], value=task.uncancel())

    def _timeout(self, op, args):
        return self._lookup(self._timeouts, TIMEOUT, op, args['timeout'])

    def _op_reschedule(self, op, args):
        timeout = self._timeout(op, args)
        when = args['when']
        if when is not None:
            when = self._clock.loop_time(_num(op, 'when', when))
        timeout.reschedule(when)

    def _op_expired(self, op, args):
        self.world.record('expired', timeout=args['timeout'],
                          value=self._timeout(op, args).expired())

    def _op_deadline(self, op, args):
        when = self._timeout(op, args).when()
        self.world.record('deadline', timeout=args['timeout'],
                          value=None if when is None else float(self._clock.scenario_time(when)))

    def _op_cancel_task_group(self, op, args):
        # 3.15+; older TaskGroups have no cancel() and the AttributeError is recorded.
        self._lookup(self._groups, GROUP, op, args['group']).cancel()

    def _op_set_task_factory(self, op, args):
        loop = self._loop(op, args)
        factory = args['factory']
        if factory not in ops.TASK_FACTORIES:
            _fail("set_task_factory: factory must be 'eager' or null")
        loop.set_task_factory(None if factory is None else asyncio.eager_task_factory)

    async def _coroutine(self, block):
        """The coroutine of a body: runs it; `return` ends it with a value."""
        frame = _Frame()
        try:
            await self._run_coroutine_block(block, frame)
        except Return as ret:
            return ret.value
        except BaseException as exc:
            _restore(exc)
            raise
        return None

    async def _run_coroutine_block(self, block, frame):
        if not isinstance(block, list):
            _fail('a block must be a list of operations, not %r' % (block,))
        for op in block:
            await self._run_coroutine_op(op, frame)

    async def _run_coroutine_op(self, op, frame):
        """One operation of a coroutine body.  What raises propagates (a `try` may catch it):
        a plain operation records its `error` event first, the await family its outcome,
        `raise` nothing."""
        if self._ended:
            return
        self.world.count_operations(1)
        name, args = self._parse(op)
        coroutine_op = self._coroutine_ops.get(name)
        if coroutine_op is not None:
            await coroutine_op(name, args, frame)
            return
        self._invoke(name, args, in_coroutine=True)

    async def _outcome(self, op, fields, make, frame, helper=False):
        """Await what ``make()`` gives; record ``{"ev": op, **fields, "value"|"raised"}``.
        ``helper``: what is awaited is a coroutine of asyncio's (sleep, wait_for, wait)."""
        root, before = _resumptions()
        try:
            value = await make()
        except BaseException as exc:
            if _foreign(exc):
                raise
            thrown = root is not None and root.resumptions != before and root.thrown
            self._appeared(exc, frame, helper and not thrown)
            self.world.record(op, raised=describe(exc), **fields)
            raise
        self.world.record(op, value=trace_value(value), **fields)

    @staticmethod
    def _appeared(exc, frame, helper=False):
        """``exc`` came out of an await of the coroutine ``frame`` belongs to.  If it was
        raised inside the awaited object (a done future, an inline coroutine), Python chained
        it when it was raised; if it was thrown in (anything that arrives after the task
        suspended), CPython 3.9+ chain it with the coroutine's handled exception on the way
        into the coroutine's frame, before the await returns: do that here, so that the
        outcome recorded is what the coroutine sees.

        ``helper``: the exception came out of one of asyncio's coroutines (sleep, wait_for,
        wait) on the path of a send.  Then one that already has a context was raised by that
        coroutine while it handled one of its own (wait_for's TimeoutError from the
        CancelledError of its inner): Python gave it that context there, and it stays.  On the
        path of a throw it is chained like a thrown one (wait_for re-raising its child's
        exception while it handles the cancel thrown in).  Both found by the fuzzer; the C++
        interpreter's yield_from rule."""
        _restore(exc)
        if THROW_CHAINS and frame.active and not (helper and exc.__context__ is not None):
            chain(exc, frame.active[-1])
        _settle(exc)

    def _bind_future(self, op, args, future):
        name = args.get('as')
        if name is not None:
            self._futures[name] = future
        return future

    def _check_unbound_as(self, op, args):
        name = args.get('as')
        if name is not None:
            self._unbound(self._futures, FUTURE, op, self._name(op, 'as', name))

    async def _cop_await(self, op, args, frame):
        on = args['on']
        awaitable = self._awaitable(op, 'on', on)
        fields = {'future': on} if isinstance(on, str) else {}

        async def make():
            return await awaitable
        await self._outcome(op, fields, make, frame)

    async def _cop_sleep(self, op, args, frame):
        delay = self._clock.loop_delay(_num(op, 'delay', args['delay']))
        result = _value(op, 'result', args.get('result'))

        async def make():
            return await asyncio.sleep(delay, result)
        await self._outcome(op, {}, make, frame, helper=True)

    async def _cop_gather(self, op, args, frame):
        children = args['of']
        if not isinstance(children, list):
            _fail('gather: of must be a list of awaitables')
        flag = args.get('return_exceptions', False)
        if not isinstance(flag, bool):
            _fail('gather: return_exceptions must be true or false')
        self._check_unbound_as(op, args)
        awaitables = [self._awaitable(op, 'of', child) for child in children]

        async def make():
            gathering = self._keep(asyncio.gather(*awaitables, return_exceptions=flag))
            return await self._bind_future(op, args, gathering)
        await self._outcome(op, {}, make, frame)

    async def _cop_shield(self, op, args, frame):
        self._check_unbound_as(op, args)
        inner = self._awaitable(op, 'on', args['on'])

        async def make():
            # shield(arg) begins with ensure_future(arg): done here first, the same call at the
            # same moment, so that the task it makes of a coroutine is kept like the scenario's
            # (its failure, which only the cancelled outer future saw, is never reported then).
            # gather retrieves its children's exceptions itself and never logs them as pending.
            outer = self._keep(asyncio.shield(self._keep(asyncio.ensure_future(inner))))
            return await self._bind_future(op, args, outer)
        await self._outcome(op, {}, make, frame)

    async def _cop_wait_for(self, op, args, frame):
        timeout = args['timeout']
        if timeout is not None:
            timeout = self._clock.loop_delay(_num(op, 'timeout', timeout))
        inner = self._awaitable(op, 'on', args['on'])

        async def make():
            return await asyncio.wait_for(inner, timeout)
        await self._outcome(op, {}, make, frame, helper=True)

    async def _cop_wait(self, op, args, frame):
        names = args['of']
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            _fail('wait: of must be a list of future names')
        if len(set(names)) != len(names):
            _fail('wait: of names a future more than once')
        futures = [self._lookup(self._futures, FUTURE, op, name) for name in names]
        timeout = args.get('timeout')
        if timeout is not None:
            timeout = self._clock.loop_delay(_num(op, 'timeout', timeout))
        return_when = args.get('return_when', 'ALL_COMPLETED')
        if return_when not in ops.RETURN_WHEN_VALUES:
            _fail('wait: return_when must be one of %s' % ', '.join(ops.RETURN_WHEN_VALUES))

        async def make():
            done, pending = await asyncio.wait(futures, timeout=timeout,
                                               return_when=getattr(asyncio, return_when))
            return {'done': [n for n, f in zip(names, futures) if f in done],
                    'pending': [n for n, f in zip(names, futures) if f in pending]}
        await self._outcome(op, {}, make, frame, helper=True)

    async def _cop_timeout(self, op, args, frame):
        delay = args['delay']
        if delay is not None:
            delay = self._clock.loop_delay(_num(op, 'delay', delay))
        await self._scope(op, args, lambda: asyncio.timeout(delay), self._timeouts, TIMEOUT,
                          frame)

    async def _cop_timeout_at(self, op, args, frame):
        when = args['when']
        if when is not None:
            when = self._clock.loop_time(_num(op, 'when', when))
        await self._scope(op, args, lambda: asyncio.timeout_at(when), self._timeouts, TIMEOUT,
                          frame)

    async def _cop_task_group(self, op, args, frame):
        await self._scope(op, args, asyncio.TaskGroup, self._groups, GROUP, frame)

    async def _scope(self, op, args, make, table, kind, frame):
        """``async with make() [as <as>]: <do>``, the block run inline in this coroutine, and the
        outcome recorded when the scope's exit is done: ``value`` null when nothing leaves it
        (or a `return` goes on), else ``raised``, what leaves it.  The exit runs however the
        block ends (normally, by `return`, by the loop's exception), except for the suite's own
        stops, which skip it and record nothing."""
        name = args.get('as')
        if name is not None:
            self._unbound(table, kind, op, self._name(op, 'as', name))
        try:
            manager = make()
            entered = await manager.__aenter__()
        except BaseException as exc:
            if _foreign(exc):
                raise
            self._appeared(exc, frame)
            self.world.record(op, raised=describe(exc))
            raise
        if name is not None:
            table[name] = entered
        returning = None
        try:
            await self._run_coroutine_block(args['do'], frame)
        except Return as ret:
            returning = ret
        except BaseException as exc:
            if _foreign(exc):
                raise
            _restore(exc)
            try:
                suppress = await manager.__aexit__(type(exc), exc, exc.__traceback__)
            except BaseException as error:
                if _foreign(error):
                    raise
                # What Python's `async with` does: the exit ran while `exc` was being handled.
                _restore(error)
                if error is not exc:
                    chain(error, exc)
                _settle(error)
                self.world.record(op, raised=describe(error))
                raise
            _settle(exc)        # the exit may have changed its context (3.13's TimeoutError)
            if suppress:
                self.world.record(op, value=None)
                return
            self.world.record(op, raised=describe(exc))
            raise
        try:
            await manager.__aexit__(None, None, None)
        except BaseException as error:
            if _foreign(error):
                raise
            self._appeared(error, frame)
            self.world.record(op, raised=describe(error))
            raise
        self.world.record(op, value=None)
        if returning is not None:
            raise returning

    async def _cop_return(self, op, args, frame):
        raise Return(_value(op, 'value', args['value']))

    async def _cop_reraise(self, op, args, frame):
        if not frame.handling:
            _fail('reraise: only inside an except block')
        exc = frame.handling[-1]
        _restore(exc)           # the same object again: Python leaves its context alone
        raise exc

    def _handlers(self, op, handlers):
        if not isinstance(handlers, list):
            _fail('try: except must be a list of {match, do}')
        out = []
        for handler in handlers:
            if (not isinstance(handler, dict) or sorted(handler) != ['do', 'match']
                    or not isinstance(handler['match'], list)):
                _fail('try: an except handler must be {match: [TYPE, ...], do: [...]}')
            classes = []
            for name in handler['match']:
                if name not in EXCEPTION_CLASSES:
                    _fail('try: unknown exception type %r in match' % (name,))
                classes.append(EXCEPTION_CLASSES[name])
            out.append((tuple(classes), handler['do']))
        return out

    async def _run_finally(self, final, frame, in_flight=None):
        """A `finally` block; ``in_flight`` is the exception leaving the try, handled (for
        chaining) while the block runs."""
        if final is None:
            return
        if in_flight is None:
            await self._run_coroutine_block(final, frame)
            return
        frame.active.append(in_flight)
        try:
            await self._run_coroutine_block(final, frame)
        finally:
            frame.active.pop()

    async def _cop_try(self, op, args, frame):
        """try/except/finally as Python runs it: a handler runs while its exception is being
        handled (what it raises gets that as __context__, natively), a `finally` block runs
        while the exception that leaves the try is in flight, or after a normal end or a
        `return` with nothing in flight.  The interpreter's own exceptions (Return aside) are
        never matched and run no `finally`."""
        handlers = self._handlers(op, args.get('except', []))
        final = args.get('finally')
        returning = None
        try:
            await self._run_coroutine_block(args['do'], frame)
        except Return as ret:
            returning = ret
        except BaseException as exc:
            if _foreign(exc):
                raise
            _restore(exc)
            body = next((do for classes, do in handlers if isinstance(exc, classes)), None)
            if body is None:
                await self._run_finally(final, frame, exc)
                _restore(exc)
                raise
            returning = await self._handle(exc, body, final, frame)
        await self._run_finally(final, frame)
        if returning is not None:
            raise returning

    async def _handle(self, exc, body, final, frame):
        """Run an except block for ``exc``; a Return it ends with is given back.  If it raises,
        the `finally` block runs while that exception is in flight."""
        frame.handling.append(exc)
        frame.active.append(exc)
        try:
            await self._run_coroutine_block(body, frame)
        except Return as ret:
            frame.handling.pop()
            frame.active.pop()
            return ret
        except BaseException as error:
            frame.handling.pop()
            frame.active.pop()
            if not _foreign(error):
                _restore(error)
                await self._run_finally(final, frame, error)
                _restore(error)
            raise
        frame.handling.pop()
        frame.active.pop()
        return None

    async def _cop_repeat(self, op, args, frame):
        """`repeat` in a coroutine body: its copies are coroutine code (they may await)."""
        for copy in self._repeat_copies(op, args):
            await self._run_coroutine_block(copy, frame)
