"""Run every scenario of a bundle through a Python loop host and compare with committed traces.

    PYTHONPATH=oracle python3 oracle/tests/host_run.py --bundle build/spec-bundle.json \
        --expected conformance/expected/cpython-3.11 [--interpreter PY] [--preload LIB] \
        -- --loop uvloop:new_event_loop --time interposed

Prints one line per scenario whose trace differs (id and first divergence), per skipped or
errored scenario, then a count line and the wall time. Exit 0 when nothing differs, 1 otherwise.
Used by the tests (test_host.py) and to measure loops by hand; it is not the harness (the C++
`aiospec report` is), only a small driver of the protocol.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.dirname(HERE)
sys.path.insert(0, ORACLE)

from aiospec_oracle.bundle import applies, load_bundle, load_trace  # noqa: E402
from aiospec_oracle.compare import first_divergence  # noqa: E402


def start_host(interpreter, host_args, preload=None, env=None):
    environment = dict(os.environ if env is None else env)
    environment['PYTHONPATH'] = ORACLE
    if preload:
        environment['LD_PRELOAD'] = preload
        environment['AIOSPEC_INTERPOSE_LIB'] = preload
    return subprocess.Popen([interpreter, '-m', 'aiospec_oracle', 'host'] + list(host_args),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=environment, universal_newlines=True,
                            bufsize=1)


def ask(process, request):
    process.stdin.write(json.dumps(request) + '\n')
    process.stdin.flush()
    line = process.stdout.readline()
    if not line:
        raise RuntimeError('host exited: %s' % process.stderr.read().strip())
    return json.loads(line)


def run_all(interpreter, host_args, bundle, expected_dir, preload=None, version=None,
            only=None):
    """Returns (handshake, results): results maps id -> ('same'|'differs'|'skipped'|'errored'|
    'missing', detail)."""
    process = start_host(interpreter, host_args, preload)
    results = {}
    try:
        hello = ask(process, {'cmd': 'start', 'version': 1})
        for seq, entry in enumerate(load_bundle(bundle)):
            if only is not None and entry.id not in only:
                continue
            if not applies(entry.scenario, version):
                continue
            path = os.path.join(expected_dir, entry.id + '.json')
            if not os.path.exists(path):
                results[entry.id] = ('missing', 'no trace in %s' % expected_dir)
                continue
            answer = ask(process, {'cmd': 'run', 'seq': seq, 'scenario': entry.scenario})
            if 'trace' in answer:
                events = answer['trace']['events']
                divergence = first_divergence(load_trace(path)['events'], events)
                results[entry.id] = ('same', None) if divergence is None \
                    else ('differs', divergence)
            elif 'skipped' in answer:
                results[entry.id] = ('skipped', answer['skipped']['reason'])
            else:
                results[entry.id] = ('errored', json.dumps(answer.get('errored', answer)))
        process.stdin.write(json.dumps({'cmd': 'stop'}) + '\n')
        process.stdin.flush()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return hello, results


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--bundle', required=True)
    parser.add_argument('--expected', required=True)
    parser.add_argument('--interpreter', default=sys.executable)
    parser.add_argument('--preload')
    parser.add_argument('--version', help='X.Y: the python range the traces belong to')
    parser.add_argument('host_args', nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    host_args = [a for a in args.host_args if a != '--']
    version = tuple(int(p) for p in args.version.split('.')) if args.version else None
    started = time.time()
    hello, results = run_all(args.interpreter, host_args, args.bundle, args.expected,
                             args.preload, version)
    seconds = time.time() - started
    counts = {}
    for sid in sorted(results):
        status, detail = results[sid]
        counts[status] = counts.get(status, 0) + 1
        if status != 'same':
            print('%-8s %s: %s' % (status, sid, detail))
    impl = hello['implementation']
    print('%s %s (%s, %s time): %s; %.1f s' % (
        impl['name'], impl['version'], impl['runtime'], impl['time'],
        ', '.join('%d %s' % (n, s) for s, n in sorted(counts.items())), seconds))
    return 0 if counts.get('differs', 0) == 0 and counts.get('errored', 0) == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
