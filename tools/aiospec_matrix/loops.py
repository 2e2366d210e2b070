"""The loops the matrix judges, and how to tell whether this machine has each.

One entry per column group. `args` are the `aiospec report` options that select the loop, or
`host` a loop host this build makes (its path under the build directory) with the `time` mode to
judge it in; `needs` is a check that returns None when the loop can run here, else why not (the
matrix then shows the loop as "not installed" instead of running it). `arguments(loop, build)`
and `missing(loop, build)` give both for any entry.
"""

import os
import shutil
import subprocess

DEBIAN_PYTHON = "/usr/bin/python3"


def _python_module(python, module):
    def check():
        if not os.access(python, os.X_OK):
            return "%s is not installed" % python
        probe = subprocess.run([python, "-c", "import " + module], capture_output=True, text=True)
        if probe.returncode != 0:
            return "%s cannot import %s (Debian package python3-%s)" % (python, module, module)
        return None
    return check


def _program(name, package):
    def check():
        return None if shutil.which(name) else "%s is not on PATH (Debian package %s)" % (name, package)
    return check


LOOPS = [
    {"name": "reference",
     "title": "aiospec reference loop (select and poll backends), virtual time",
     "args": ["--loop", "reference", "--backend", "select", "--backend", "poll"],
     "needs": None},
    {"name": "uvloop",
     "title": "uvloop 0.17 (Debian python3-uvloop) on Debian's python3, interposed time",
     "args": ["--loop", "python:uvloop:new_event_loop", "--interpreter", DEBIAN_PYTHON,
              "--time", "interposed"],
     "needs": _python_module(DEBIAN_PYTHON, "uvloop")},
    {"name": "cpython-asyncio-pure",
     "title": "CPython's pure-Python asyncio (the _asyncio accelerator blocked), virtual time",
     "args": ["--loop", "python:asyncio:SelectorEventLoop", "--interpreter", DEBIAN_PYTHON,
              "--pure-python", "--time", "virtual"],
     "needs": None},
    {"name": "pypy-asyncio",
     "title": "PyPy 3.9's asyncio (Debian pypy3), virtual time",
     "args": ["--loop", "python:asyncio:SelectorEventLoop", "--interpreter", "/usr/bin/pypy3",
              "--time", "virtual"],
     "needs": _program("pypy3", "pypy3")},
    {"name": "libuv",
     "title": "libuv 1.44 (Debian libuv1-dev) through conformance/adapters/libuv, interposed time",
     "host": "conformance/adapters/libuv/aiospec-libuv-host", "time": "interposed",
     "needs": None},
    {"name": "asio",
     "title": "standalone Asio 1.22 (Debian libasio-dev, select reactor) through conformance/adapters/asio, virtual time",
     "host": "conformance/adapters/asio/aiospec-asio-host", "time": "virtual",
     "needs": None},
    {"name": "asio-interposed",
     "title": "standalone Asio 1.22 (select reactor) on steady_timer, unchanged, interposed time",
     "host": "conformance/adapters/asio/aiospec-asio-host", "time": "interposed",
     "needs": None},
    {"name": "cpython-asyncio-interposed",
     "title": "CPython's own asyncio under the interposition library: the self-check of interposed time",
     "args": ["--loop", "python:asyncio:SelectorEventLoop", "--interpreter", DEBIAN_PYTHON,
              "--time", "interposed"],
     "needs": None},
]


def arguments(loop, build):
    """The `aiospec report` options that judge `loop` with the hosts of `build`."""
    if "host" not in loop:
        return loop["args"]
    host = os.path.join(os.path.abspath(build), loop["host"])
    return ["--loop", "cmd:exec %s --time %s" % (host, loop["time"]), "--time", loop["time"]]


def missing(loop, build):
    """None when `loop` can run here, else why not."""
    if "host" in loop:
        host = os.path.join(os.path.abspath(build), loop["host"])
        if not os.access(host, os.X_OK):
            return "%s is not built (its library is missing: see bootstrap/install-deps)" % host
    return loop["needs"]() if loop["needs"] else None
