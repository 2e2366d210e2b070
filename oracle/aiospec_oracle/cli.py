"""Command line: ``python -m aiospec_oracle run|bless|check|host``.

host --loop MODULE:FACTORY [--time auto|virtual|interposed|real]
     [--pure-python] [--scale F]
    The loop host of spec/PROTOCOL.md (host.py): runs the scenarios it is
    sent on the loop FACTORY makes.  Nothing of asyncio is imported before
    host.py has decided about ``--pure-python``.

run FILE|- [--id ID]
    Run one canonical scenario (FILE is a scenario, or a bundle with
    ``--id``) and print its trace file.  Exit 0 once the trace is printed;
    1 when the printed trace ends in ``budget_exceeded`` (the run is an
    error, spec/README.md "budget"); 2 for unusable input (an invalid
    scenario included); 3 when the oracle itself failed (one line, no
    trace).

bless --bundle BUNDLE --out DIR [--allow-patch-change]
    For every scenario whose ``python`` range includes this interpreter
    and that this interpreter's runtime can run (the bundle's oracle
    table, spec/oracles.yaml): run it twice; refuse (exit 1, one line per
    scenario naming file and id, nothing written) if the runs differ or a
    trace ends in ``budget_exceeded``.  Refuse as well, printing what
    changed, when a trace another patch release produced (its
    ``producer``) would get other events, unless --allow-patch-change.
    Otherwise write DIR/<id>.json where the events or the scenario hash
    changed (so that another patch release does not rewrite every file
    just for ``producer``), delete DIR/*.json of ids that no longer apply
    or have no oracle here, print one line per new, changed or removed
    trace and a final count line.

check --bundle BUNDLE --expected DIR [--known-patch-differences]
    Freshness: every applicable scenario is run twice and both runs must
    equal the committed events, for the committed scenario hash; a missing
    file and a file of an id that does not apply are failures.  One line
    per failure with the first divergence, then exactly
    ``N passed, N failed`` (``, N skipped`` follows when scenarios did not
    apply, ``, N without an oracle here`` when the runtime cannot run
    them).  With --known-patch-differences, a failure that patches.py
    explains for this patch release is a ``KNOWN`` line, counted as
    ``N known patch differences``.  Exit 0 only when nothing failed.

Exit status 2, with a one-line message naming the file, for input that
cannot be read or is malformed.
"""

import argparse
import os
import sys

from .bundle import InputError, is_bundle, load_bundle, load_trace, parse_bundle, \
    read_json, applies
from .compare import first_divergence
from .exceptions import OracleFailure, ScenarioError
from .patches import differences
from .trace import producer, render_events, render_trace, scenario_sha256

__all__ = ('main',)

PROG = 'python -m aiospec_oracle'


def run_scenario(scenario):
    """api.run_scenario, imported when first needed (it imports asyncio)."""
    from .api import run_scenario as run
    return run(scenario)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['host']:
        # Its own argument parsing and error handling (one line, exit 2; see host.py).
        from .host import main as host_main
        return host_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except InputError as exc:
        print('%s: error: %s' % (PROG, exc), file=sys.stderr)
        return 2
    except _Failed as exc:
        print('%s: the oracle failed: %s' % (PROG, _one_line(exc)), file=sys.stderr)
        return 3
    except Exception as exc:          # a bug: still one line and exit 3, never a traceback
        print('%s: the oracle failed: %s: %s' % (PROG, type(exc).__name__, _one_line(exc)),
              file=sys.stderr)
        return 3


class _Failed(Exception):
    """The oracle could not run a scenario (exit 3)."""


def _one_line(exc):
    return ' '.join(str(exc).split()) or type(exc).__name__


def _parser():
    parser = argparse.ArgumentParser(
        prog=PROG, description='The CPython oracle of aiospec.')
    commands = parser.add_subparsers(dest='name', metavar='COMMAND')
    commands.required = True

    run = commands.add_parser('run', help='run one scenario, print its trace')
    run.add_argument('file', metavar='FILE',
                     help='canonical scenario JSON, or a bundle with --id; - for stdin')
    run.add_argument('--id', help='the scenario to run when FILE is a bundle')
    run.set_defaults(command=cmd_run)

    bless = commands.add_parser('bless', help='write the expected traces')
    bless.add_argument('--bundle', required=True)
    bless.add_argument('--out', required=True, metavar='DIR')
    bless.add_argument('--allow-patch-change', action='store_true',
                       help='replace traces another patch release of this version produced')
    bless.set_defaults(command=cmd_bless)

    check = commands.add_parser('check', help='check the expected traces are fresh')
    check.add_argument('--bundle', required=True)
    check.add_argument('--expected', required=True, metavar='DIR')
    check.add_argument('--known-patch-differences', action='store_true',
                       help="report patches.py's differences of this patch release as KNOWN")
    check.set_defaults(command=cmd_check)

    commands.add_parser('host', help='the loop host of spec/PROTOCOL.md (see host --help)')
    return parser


# -- run -------------------------------------------------------------------------

def cmd_run(args):
    data = read_json(args.file)
    if is_bundle(data):
        if args.id is None:
            raise InputError('%s: is a bundle: give --id' % args.file)
        found = [e for e in parse_bundle(data, args.file) if e.id == args.id]
        if not found:
            raise InputError('%s: no scenario with id %r' % (args.file, args.id))
        scenario = found[0].scenario
    else:
        scenario = data
        if not isinstance(scenario, dict) or not isinstance(scenario.get('id'), str):
            raise InputError('%s: not a canonical scenario (no id)' % args.file)
        if args.id is not None and scenario['id'] != args.id:
            raise InputError('%s: is scenario %r, not %r'
                             % (args.file, scenario['id'], args.id))
    try:
        trace = run_scenario(scenario)
    except ScenarioError as exc:
        raise InputError('%s (%s): %s' % (args.file, scenario['id'], exc)) from None
    except OracleFailure as exc:
        raise _Failed('%s (%s): %s' % (args.file, scenario['id'], _one_line(exc))) from None
    sys.stdout.write(render_trace(trace))
    events = trace['events']
    if events and events[-1]['ev'] == 'budget_exceeded':
        print('%s: %s (%s): budget exceeded (%s)'
              % (PROG, args.file, scenario['id'], events[-1]['limit']), file=sys.stderr)
        return 1
    return 0


# -- bless and check ---------------------------------------------------------------

def _run_twice(entry):
    """Run ``entry`` twice; return (first trace, problem or None)."""
    try:
        first = run_scenario(entry.scenario)
        second = run_scenario(entry.scenario)
    except ScenarioError as exc:
        return None, 'invalid scenario: %s' % exc
    divergence = first_divergence(first['events'], second['events'])
    if divergence is not None:
        return first, 'not deterministic: run 2 differs from run 1: %s' % divergence
    return first, None


def _trace_file(directory, sid):
    return os.path.join(directory, sid + '.json')


def _json_ids(directory):
    if not os.path.isdir(directory):
        return []
    return sorted(name[:-len('.json')] for name in os.listdir(directory)
                  if name.endswith('.json'))


def _same_trace(old, new):
    return (old.get('scenario_sha256') == new['scenario_sha256']
            and render_events(old['events']) == render_events(new['events']))


def cmd_bless(args):
    entries = load_bundle(args.bundle)
    applicable = [e for e in entries if applies(e.scenario)]
    runnable = [e for e in applicable if e.no_oracle is None]
    traces = {}
    refusals = []
    for entry in runnable:
        trace, problem = _run_twice(entry)
        if problem is None and trace['events'] and \
                trace['events'][-1]['ev'] == 'budget_exceeded':
            problem = 'budget exceeded (%s)' % trace['events'][-1]['limit']
        if problem is not None:
            refusals.append('%s (%s): %s' % (entry.path, entry.id, problem))
        else:
            traces[entry.id] = (entry, trace)
    if refusals:
        for line in refusals:
            print('refused: ' + line, file=sys.stderr)
        print('bless refused: %d scenario(s) cannot be blessed; nothing written'
              % len(refusals), file=sys.stderr)
        return 1

    plan, patch_changes = _plan(args.out, traces)
    for sid, entry, old, trace in patch_changes:
        divergence = first_divergence(old['events'], trace['events']) or 'the scenario changed'
        print('patch-level change: %s (%s): %s -> %s: %s'
              % (sid, entry.path, old.get('producer'), producer(), divergence), file=sys.stderr)
    if patch_changes and not args.allow_patch_change:
        print('bless refused: %d trace(s) of another patch release would change (above); '
              'nothing written; --allow-patch-change replaces them'
              % len(patch_changes), file=sys.stderr)
        return 1

    os.makedirs(args.out, exist_ok=True)
    counts = {'new': 0, 'changed': 0, 'removed': 0, 'unchanged': 0}
    for sid, entry, status, trace in plan:
        counts[status] += 1
        if status != 'unchanged':
            _write(_trace_file(args.out, sid), render_trace(trace))
            print('%-8s %s (%s)' % (status, sid, entry.path))
    for sid in _json_ids(args.out):
        if sid not in traces:
            os.remove(_trace_file(args.out, sid))
            counts['removed'] += 1
            print('%-8s %s' % ('removed', sid))
    without = len(applicable) - len(runnable)
    print('%s: %d traces in %s: %d new, %d changed, %d removed, %d unchanged; '
          '%d scenario(s) not applicable%s'
          % (producer(), len(traces), args.out, counts['new'], counts['changed'],
             counts['removed'], counts['unchanged'], len(entries) - len(applicable),
             '; %d without an oracle here (%s)' % (without, _reasons(applicable))
             if without else ''))
    return 0


def _plan(directory, traces):
    """([(id, entry, new|changed|unchanged, trace)], [(id, entry, old, trace)] of the changed
    traces that another patch release produced)."""
    plan, patch_changes = [], []
    for sid in sorted(traces):
        entry, trace = traces[sid]
        filename = _trace_file(directory, sid)
        old = None
        if not os.path.exists(filename):
            status = 'new'
        else:
            try:
                old = load_trace(filename)
            except InputError:
                old = None                      # unreadable: rewritten
            status = 'unchanged' if old is not None and _same_trace(old, trace) else 'changed'
        if status == 'changed' and old is not None and _other_patch(old.get('producer')) \
                and render_events(old['events']) != render_events(trace['events']):
            patch_changes.append((sid, entry, old, trace))
        plan.append((sid, entry, status, trace))
    return plan, patch_changes


def _other_patch(committed):
    """Whether ``committed`` (a trace's producer) is another patch release of this minor."""
    mine = producer()
    minor = mine[:mine.rindex('.') + 1]            # 'cpython-3.13.'
    return isinstance(committed, str) and committed.startswith(minor) and committed != mine


def _reasons(entries):
    """'needs threads: 9, needs fd-io: 11' for the entries without an oracle here."""
    counts = {}
    for e in entries:
        if e.no_oracle is not None:
            key = e.no_oracle.split(' (')[0]
            counts[key] = counts.get(key, 0) + 1
    return ', '.join('%s: %d' % kv for kv in sorted(counts.items()))


def _write(filename, text):
    """Replace ``filename`` with ``text`` atomically."""
    temporary = filename + '.tmp'
    with open(temporary, 'w', encoding='ascii', newline='\n') as f:
        f.write(text)
    os.replace(temporary, filename)


def cmd_check(args):
    entries = load_bundle(args.bundle)
    known_here = differences(sys.version_info) if args.known_patch_differences else {}
    passed = failed = known = skipped = without = 0
    applicable = set()
    for entry in entries:
        if not applies(entry.scenario):
            skipped += 1
            continue
        applicable.add(entry.id)
        if entry.no_oracle is not None:
            # A trace another runtime made may be there (this version's native one): not judged.
            without += 1
            continue
        problem = _check_one(entry, args.expected)
        if problem is None:
            passed += 1
        elif entry.id in known_here:
            known += 1
            print('KNOWN %s (%s): %s; %s' % (entry.id, entry.path, known_here[entry.id], problem))
        else:
            failed += 1
            print('FAIL %s (%s): %s' % (entry.id, entry.path, problem))
    for sid in _json_ids(args.expected):
        if sid not in applicable:
            failed += 1
            print('FAIL %s: stale trace %s: no applicable scenario has this id'
                  % (sid, _trace_file(args.expected, sid)))
    line = '%d passed, %d failed' % (passed, failed)
    if known:
        line += ', %d known patch differences' % known
    if skipped:
        line += ', %d skipped' % skipped
    if without:
        line += ', %d without an oracle here (%s)' % (
            without, _reasons([e for e in entries if e.id in applicable]))
    print(line)
    return 0 if failed == 0 else 1


def _check_one(entry, directory):
    """The first problem with ``entry``'s committed trace, or None."""
    filename = _trace_file(directory, entry.id)
    if not os.path.exists(filename):
        return 'no expected trace %s (run make bless)' % filename
    expected = load_trace(filename)
    if expected.get('scenario') != entry.id:
        return '%s is the trace of %r' % (filename, expected.get('scenario'))
    sha = scenario_sha256(entry.scenario)
    if expected.get('scenario_sha256') != sha:
        return ('the scenario changed since its trace was blessed '
                '(scenario_sha256 %s in %s, %s now; run make bless)'
                % (expected.get('scenario_sha256'), filename, sha))
    for run in (1, 2):
        try:
            actual = run_scenario(entry.scenario)
        except ScenarioError as exc:
            return 'invalid scenario: %s' % exc
        divergence = first_divergence(expected['events'], actual['events'])
        if divergence is not None:
            return 'run %d: %s' % (run, divergence)
    return None
