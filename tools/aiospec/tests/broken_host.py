"""A loop host that misbehaves on purpose, in Python (test_loops.py): it forwards every line to a
real host (the C++ aiospec-host) and back, except when scenario ID is run or at start-up.

    broken_host.py [--fault MODE --on ID] [--start exit] [--claim-time real] [--jitter S]
                   [--flaky ID] [--late ID] -- HOST [ARGS...]

MODE: crash (killed by SIGSEGV), raise (a Python exception: traceback, exit 1), hang, garbage,
wrong-seq, malformed-trace. --start exit: one line on stderr, exit 2 (a host that cannot start).
To imitate a loop on the real clock: --claim-time real says so in the handshake, --jitter S adds
S seconds to every "t" and `time` value, --flaky ID changes a label of ID in every other run, from the first, --late ID
makes every event of ID late by a different amount in each run (always beyond the tolerance).
Standard library only.
"""

import json
import os
import signal
import subprocess
import sys
import time


def main(argv):
    split = argv.index("--")
    opts, host = argv[:split], argv[split + 1:]
    options = dict(zip(opts[::2], opts[1::2]))
    if options.get("--start") == "exit":
        print("broken_host.py: cannot start: no module named 'nosuchloop'", file=sys.stderr)
        return 2
    fault, target = options.get("--fault"), options.get("--on")
    jitter = float(options.get("--jitter", "0"))
    flaky, flaky_runs = options.get("--flaky"), 0
    late, late_runs = options.get("--late"), 0
    real = subprocess.Popen(host, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("cmd") == "run" and request["scenario"].get("id") == target:
            print("broken_host.py: %s on %s" % (fault, target), file=sys.stderr, flush=True)
            if fault == "crash":
                os.kill(os.getpid(), signal.SIGSEGV)
            if fault == "raise":
                raise RuntimeError("the loop under test blew up")
            if fault == "hang":
                while True:
                    time.sleep(3600)      # the host hangs; the harness's limit ends it
            if fault == "garbage":
                sys.stdout.write("<html>not a trace</html>\n")
                sys.stdout.flush()
                continue
            if fault == "malformed-trace":
                sys.stdout.write(json.dumps({"seq": request["seq"], "trace": {"events": ["a", "b"]}}) + "\n")
                sys.stdout.flush()
                continue
        real.stdin.write(line)
        real.stdin.flush()
        if request.get("cmd") == "stop":
            break
        answer = real.stdout.readline()
        if request.get("cmd") == "start" and options.get("--claim-time"):
            data = json.loads(answer)
            data["implementation"]["time"] = options["--claim-time"]
            answer = json.dumps(data) + "\n"
        if request.get("cmd") == "run" and (jitter or flaky or late):
            data = json.loads(answer)
            for event in data.get("trace", {}).get("events", []):
                if isinstance(event.get("t"), float):
                    event["t"] += jitter
                if event.get("ev") == "time" and isinstance(event.get("value"), float):
                    event["value"] += jitter
            if request["scenario"].get("id") == late:
                late_runs += 1
                for event in data.get("trace", {}).get("events", []):
                    event["t"] += 0.5 + 0.25 * late_runs
            if request["scenario"].get("id") == flaky:
                flaky_runs += 1
                records = [e for e in data.get("trace", {}).get("events", []) if e.get("ev") == "record"]
                if flaky_runs % 2 == 1 and records:
                    records[0]["label"] = "flaky"
            answer = json.dumps(data) + "\n"
        if fault == "wrong-seq" and request.get("cmd") == "run" and request["scenario"].get("id") == target:
            data = json.loads(answer)
            data["seq"] += 1
            answer = json.dumps(data) + "\n"
        sys.stdout.write(answer)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
