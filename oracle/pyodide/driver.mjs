// A `python` command for CPython compiled to WebAssembly (Pyodide), under Node.
//
//   node oracle/pyodide/driver.mjs X.Y -c CODE
//   node oracle/pyodide/driver.mjs X.Y -m MODULE [ARGS...]
//
// X.Y picks one of the pinned Pyodide builds of package.json (installed by bootstrap/install-deps
// with `npm ci`, lock file committed). The interpreter sees the host's files where the host has
// them: the working directory, every PYTHONPATH entry and the temporary directory are mounted at
// their own paths (NODEFS), so `-m aiospec_oracle bless --bundle /tmp/... --out conformance/...`
// reads and writes real files. stdout and stderr are passed through byte for byte; the exit status
// is Python's (SystemExit). A Pyodide that cannot start: one line on stderr, exit 3.
//
// Before the command runs, what Pyodide adds to a plain CPython is taken away again: its WebLoop
// policy (asyncio's default policy comes back, as a fresh interpreter has it) and the running
// WebLoop, if one is set. What Pyodide cannot give (threads, socketpairs) is the oracle's business
// (aiospec_oracle/platform.py), never patched here.

import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const PROG = "aiospec pyodide";

function fail(message, code = 3) {
  process.stderr.write(`${PROG}: ${message}\n`);
  process.exit(code);
}

const [version, mode, target, ...rest] = process.argv.slice(2);
if (!/^3\.\d+$/.test(version ?? "") || (mode !== "-c" && mode !== "-m") || target === undefined) {
  fail("usage: driver.mjs X.Y -c CODE | -m MODULE [ARGS...]", 2);
}

let loadPyodide;
try {
  const require = createRequire(path.join(here, "package.json"));
  const entry = require.resolve(`pyodide-${version}/pyodide.mjs`);
  ({ loadPyodide } = await import(entry));
} catch (e) {
  fail(`no Pyodide for CPython ${version} in ${path.join(here, "node_modules")} (run bootstrap/install-deps)`);
}

const write = (stream) => ({ write: (buffer) => { stream.write(buffer); return buffer.length; }, isatty: false });
let py;
try {
  const env = { HOME: "/home/pyodide", PYTHONHASHSEED: "0" };
  for (const key of ["PYTHONUNBUFFERED"]) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  py = await loadPyodide({ env, enableRunUntilComplete: false, stdout: () => {}, stderr: () => {} });
  py.setStdout(write(process.stdout));
  py.setStderr(write(process.stderr));
  py.setStdin({ error: true });
  const mounted = new Set();
  const mount = (dir) => {
    const real = path.resolve(dir);
    if (mounted.has(real) || [...mounted].some((m) => real.startsWith(m + path.sep))) return;
    py.FS.mkdirTree(real);
    py.FS.mount(py.FS.filesystems.NODEFS, { root: real }, real);
    mounted.add(real);
  };
  const pythonpath = (process.env.PYTHONPATH ?? "").split(":").filter(Boolean).map((p) => path.resolve(p));
  for (const dir of [process.cwd(), ...pythonpath, os.tmpdir()]) mount(dir);
  py.globals.set("_aiospec_argv", py.toPy([mode === "-c" ? "-c" : target, ...rest]));
  py.globals.set("_aiospec_path", py.toPy(pythonpath));
  py.globals.set("_aiospec_cwd", process.cwd());
} catch (e) {
  fail(`Pyodide ${version} did not start: ${String(e.message ?? e).split("\n")[0]}`);
}

const prologue = `
import os, sys
os.chdir(_aiospec_cwd)
sys.argv[:] = list(_aiospec_argv)
sys.path[:0] = list(_aiospec_path)
import asyncio.events
asyncio.events._set_running_loop(None)
asyncio.events._event_loop_policy = None
del _aiospec_argv, _aiospec_path, _aiospec_cwd
`;
const command = mode === "-c"
  ? `exec(compile(${JSON.stringify(target)}, "<string>", "exec"), {"__name__": "__main__"})`
  : `import runpy; runpy.run_module(${JSON.stringify(target)}, run_name="__main__", alter_sys=True)`;
let status = 0;
try {
  py.runPython(prologue);
  py.runPython(`
import sys
def _aiospec_main():
    try:
        ${command}
    except SystemExit as e:
        code = e.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException:
        import traceback
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0
`);
  status = py.runPython("_aiospec_main()");
} catch (e) {
  fail(`Pyodide ${version} failed: ${String(e.message ?? e).split("\n").filter(Boolean).pop()}`);
}
process.exitCode = status;
