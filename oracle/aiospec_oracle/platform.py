"""What the interpreter running the oracle lacks, and the two stand-ins the loop core needs there.

CPython compiled to WebAssembly (Pyodide, ``sys.platform == 'emscripten'``) has asyncio and its
C accelerator, but no threads and no sockets: ``socket.socketpair()`` fails (``OSError(28)``),
so ``SelectorEventLoop()`` cannot make its self-pipe, and there is no real selector to delegate
registrations to. Everything else of the loop core is the interpreter's own code, as natively.

The stand-ins are exactly what the oracle's loop asks of them on Linux, and no more:

* ``MemorySelector.self_pipe``: the two ends of the loop's self-pipe (``_ssock``/``_csock``). A byte sent on one
  end is readable on the other; ``recv`` on an empty pipe raises ``BlockingIOError`` as a
  non-blocking socket does, which is how ``_read_from_self`` ends its loop.
* ``MemorySelector``: registrations by file descriptor, and readiness of the self-pipe only (the
  one descriptor there is). Its ``select`` treats the timeout with the arithmetic of Linux's
  default selector (``selectors.EpollSelector.select``), so that a timeout that selector rejects
  (a NaN) is rejected with the same exception and message.

Which scenarios cannot run here is not discovered by a failing run: spec/oracles.yaml says what
each runtime lacks (features of spec/features.txt), the bundle carries that table, and
``RUNTIME`` names this interpreter's row.
"""

import math
import selectors
import sys

__all__ = ('NATIVE', 'RUNTIME', 'MemorySelector')

NATIVE = sys.platform != 'emscripten'
RUNTIME = 'native' if NATIVE else 'pyodide'     # a runtime of spec/oracles.yaml

# The self-pipe's descriptor: a number no real descriptor of this process has.
_SELF_PIPE_FD = 1 << 20


class _PipeEnd:
    def __init__(self, buffer, fd):
        self._buffer = buffer
        self._fd = fd
        self._closed = False

    def fileno(self):
        return -1 if self._closed else self._fd

    def setblocking(self, flag):
        pass

    def send(self, data):
        self._buffer.extend(data)
        return len(data)

    def recv(self, size):
        if not self._buffer:
            raise BlockingIOError(11, 'Resource temporarily unavailable')
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def close(self):
        self._closed = True


class MemorySelector(selectors._BaseSelectorImpl):
    """Registrations in memory; only the self-pipe's reading end (``self_pipe``) becomes ready."""

    def __init__(self):
        super().__init__()
        self._pipe = bytearray()

    def self_pipe(self):
        """(ssock, csock): what ``socket.socketpair()`` gives ``_make_self_pipe`` natively."""
        return _PipeEnd(self._pipe, _SELF_PIPE_FD), _PipeEnd(self._pipe, _SELF_PIPE_FD + 1)

    def select(self, timeout=None):
        # selectors.EpollSelector.select's timeout arithmetic (the Linux DefaultSelector).
        if timeout is None:
            timeout = -1
        elif timeout <= 0:
            timeout = 0
        else:
            timeout = math.ceil(timeout * 1e3) * 1e-3
        key = self._fd_to_key.get(_SELF_PIPE_FD)
        if key is not None and key.events & selectors.EVENT_READ and self._pipe:
            return [(key, selectors.EVENT_READ)]
        return []
