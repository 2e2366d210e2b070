"""Normalising the messages of exception handlers and log records (spec/TRACE.md, "Reprs in
messages").

What asyncio writes into a report holds host details: file paths and line numbers (``created
at``, a coroutine's ``defined at``, a source traceback), addresses (``0x7f…``), the loop's time in
a timer's ``when=``, the loop's class, a task's coroutine.  ``normalise`` keeps what every loop
can reproduce and drops the rest, the same way for every loop: the C++ interpreter implements
these rules too, and both are tested against the vectors of spec/normalisation.json.

The rules, in order, on the whole text:

1. a line ending in ``created at (most recent call last):`` is kept, and the indented lines
   after it (two spaces: ``  File "…", line 3, in f`` and the source line) are removed;
2. `` created at <path>:<line>`` is removed;
3. `` at <path>:<line>`` is removed (a callback's or a coroutine's source; never `` at 0x…``);
4. what reprlib left of a repr it shortened keeps no location: ``<Future finis...events.py:422>``
   becomes ``<Future finis...>``;
5. ``0x<hex digits>`` becomes ``0x?``;
6. angle-bracket reprs, matched as balanced pairs, are rewritten innermost first (_rewrite).

The result of normalise is a fixed point: normalise(normalise(s)) == normalise(s).
"""

import re

__all__ = ('normalise',)

_TRACEBACK_HEAD = 'created at (most recent call last):'
_CREATED_AT = re.compile(r' created at [^\s<>]+:\d+(?!\d)')
_SOURCE_AT = re.compile(r' at (?!0x)[^\s<>]+:\d+(?!\d)')
# reprlib.repr keeps the last 14 characters of a long repr: a location, or part of one.
_SHORTENED_TAIL = re.compile(r'\.\.\.[^<>]*?:\d+>')
_ADDRESS = re.compile(r'0x[0-9a-fA-F]+')

_TASK = re.compile(r'<Task (\S+)(.*)>\Z', re.S)
_TASK_NAME = re.compile(r" name='([^']*)'")
_FUTURE = re.compile(r'<(\w*Future) ([^\s>]+).*>\Z', re.S)
_HANDLE = re.compile(r'<(Handle|TimerHandle) (.*)>\Z', re.S)
_WHEN = re.compile(r'(?:^| )when=[^\s>]+')
_LOOP = re.compile(r'<[\w.]+( running=(?:True|False) closed=(?:True|False) debug=(?:True|False))>\Z')
_COUNTER_NAME = re.compile(r'Task-\d+\Z')


def _drop_tracebacks(text):
    out, skipping = [], False
    for line in text.split('\n'):
        if skipping and line.startswith('  '):
            continue
        skipping = line.endswith(_TRACEBACK_HEAD)
        out.append(line)
    return '\n'.join(out)


def _rewrite(group):
    """One balanced ``<…>`` whose inner reprs are already rewritten."""
    m = _TASK.match(group)
    if m:
        name = _TASK_NAME.search(m.group(2))
        if name is None:
            return '<Task %s>' % m.group(1)
        shown = 'Task-?' if _COUNTER_NAME.match(name.group(1)) else name.group(1)
        return "<Task %s name='%s'>" % (m.group(1), shown)
    m = _FUTURE.match(group)
    if m:
        return '<%s %s>' % (m.group(1), m.group(2))
    m = _HANDLE.match(group)
    if m:
        rest = _WHEN.sub('', m.group(2)).strip(' ')
        return '<%s %s>' % (m.group(1), rest) if rest else '<%s>' % m.group(1)
    m = _LOOP.match(group)
    if m:
        return '<EventLoop%s>' % m.group(1)
    return group


def _reprs(text):
    """Rule 6: every balanced <…> rewritten, innermost first; an unmatched < or > is text."""
    stack = [[]]
    for ch in text:
        if ch == '<':
            stack.append(['<'])
        elif ch == '>' and len(stack) > 1:
            group = ''.join(stack.pop()) + '>'
            stack[-1].append(_rewrite(group))
        else:
            stack[-1].append(ch)
    while len(stack) > 1:               # a < never closed: its text stays as it is
        inner = ''.join(stack.pop())
        stack[-1].append(inner)
    return ''.join(stack[0])


def normalise(text):
    """The normal form of a handler's or a log record's message (see the module docstring)."""
    if text is None:
        return None
    text = _drop_tracebacks(text)
    text = _CREATED_AT.sub('', text)
    text = _SOURCE_AT.sub('', text)
    text = _SHORTENED_TAIL.sub('...>', text)
    text = _ADDRESS.sub('0x?', text)
    return _reprs(text)
