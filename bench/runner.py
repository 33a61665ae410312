#!/usr/bin/env python3
"""runner.py - runner overhead of rp against GNU make, ninja, snakemake and doit.

    python3 bench/runner.py [RP] [--sizes 10,100,1000,5000] [--runners rp,make,...]

Generated pipelines (benchlib.chain / fanout / many_inputs), the same graph
written for every runner, every stage the same tiny shell command, all serial
(-j 1). For each runner and pipeline:

  full    first run from a fresh workspace (outputs and runner state removed)
  no-op   nothing changed
  touch   one input's mtime bumped, its bytes unchanged
  change  one input's bytes changed (the input of the chain's last stage, or
          of the first fan-out stage; the gather reruns after it)

Fast cases are the median of several runs. snakemake and doit skip the sizes
whose first run is predicted to exceed --cap seconds (default 60).
"""

import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (Section, common_args, resolve_rp, ensure_peers, have, measure,  # noqa: E402
                      runners, clean, chain, fanout, many_inputs, table, fmt_time,
                      fmt_ratio, fmt_kib, log, Failed)

SCENARIOS = ('full', 'no-op', 'touch', 'change')
SCEN_TEXT = {
    'full': 'first full run (fresh workspace)',
    'no-op': 'no-op (nothing changed)',
    'touch': 'after touching one input (mtime only, same bytes)',
    'change': 'after changing one input',
}
CAPPED = ('snakemake', 'doit')


def run_pipeline(p, d, names, R, cap, skip, res, notes, size, shape, max_size=0):
    p.write_all(d)
    leaf_in = os.path.join(d, p.leaf_in)
    leaf_out = os.path.join(d, p.leaf_out)
    for name in names:
        key = (shape, name)
        if key in skip:
            continue
        cmd, state = R[name]
        log('%s: %s' % (p.name, name))
        try:
            full = measure(cmd, d, prepare=lambda i: clean(d, state, p),
                           runs=3, min_runs=1, budget=10.0)
            res[(p.name, name, 'full')] = full
            res[(p.name, name, 'no-op')] = measure(cmd, d, runs=7, min_runs=3, budget=5.0)

            def touch(i):
                t = time.time()
                os.utime(leaf_in, (t, t))
            res[(p.name, name, 'touch')] = measure(cmd, d, prepare=touch, runs=7, min_runs=3, budget=5.0)

            def change(i):
                with open(leaf_in, 'w') as f:
                    f.write('%s %d %d\n' % (name, i, time.time_ns()))
            res[(p.name, name, 'change')] = measure(cmd, d, prepare=change, runs=7, min_runs=3, budget=5.0)
            if os.stat(leaf_out).st_mtime_ns < os.stat(leaf_in).st_mtime_ns:
                notes.append('%s on %s: %s is older than %s after the change run'
                             % (name, p.name, p.leaf_out, p.leaf_in))
        except Failed as e:
            log(str(e))
            notes.append('%s failed on %s: %s; larger sizes of this shape skipped'
                         % (name, p.name, e.reason))
            skip.add(key)
            clean(d, state, p)
            continue
        # Cap the slow peers: skip the next size if this one predicts > cap s.
        if name in CAPPED and size and size < max_size and full['median'] * 5 > cap:
            skip.add(key)
            notes.append('%s: sizes above %d skipped for the %s shape (first run at %d '
                         'took %s; 5x that would exceed %d s)'
                         % (name, size, shape, size, fmt_time(full['median']), cap))
        # rp leaves .rp behind: no reason to keep it for the next runner.
        clean(d, state, p)


def tmpfs_first_runs(R, n, names):
    """First runs of the n-stage chain on /dev/shm: the runners without the
    scratch file system's cost of creating files. Diagnostic, not a target."""
    shm = '/dev/shm'
    if not os.path.isdir(shm) or not os.access(shm, os.W_OK):
        return None
    out = {}
    work = tempfile.mkdtemp(prefix='rp-bench-runner-shm.', dir=shm)
    try:
        p = chain(n)
        d = os.path.join(work, p.name)
        p.write_all(d)
        for name in names:
            cmd, state = R[name]
            log('%s on tmpfs: %s' % (p.name, name))
            try:
                out[name] = measure(cmd, d, prepare=lambda i: clean(d, state, p),
                                    runs=3, min_runs=1, budget=10.0)
            except Failed as e:
                log(str(e))
            clean(d, state, p)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main():
    ap = common_args(__doc__.splitlines()[0])
    ap.add_argument('--sizes', default=os.environ.get('BENCH_SIZES', '10,100,1000,5000'))
    ap.add_argument('--runners', default=os.environ.get('BENCH_RUNNERS',
                                                        'rp,make,ninja,snakemake,doit'))
    ap.add_argument('--cap', type=float, default=60.0)
    ap.add_argument('--no-files', action='store_true', help='skip the 100 x 100 files pipeline')
    a = ap.parse_args()
    rp = resolve_rp(a.rp)
    sizes = [int(s) for s in a.sizes.split(',') if s]
    want = [r for r in a.runners.split(',') if r]
    ensure_peers(*[r for r in want if r != 'rp'])
    R = runners(rp, jobs=1)
    names = [r for r in want if r == 'rp' or have(r)]
    notes = ['%s is not installed: its columns are empty' % r for r in want if r not in names]

    work = tempfile.mkdtemp(prefix='rp-bench-runner.', dir=a.tmp)
    res, skip = {}, set()
    t0 = time.time()
    try:
        for shape, gen in (('chain', chain), ('fanout', fanout)):
            for n in sizes:
                p = gen(n)
                run_pipeline(p, os.path.join(work, p.name), names, R, a.cap, skip, res, notes, n, shape,
                             max(sizes))
                shutil.rmtree(os.path.join(work, p.name))
        if not a.no_files:
            p = many_inputs(100, 100)
            run_pipeline(p, os.path.join(work, p.name), names, R, a.cap, set(), res, notes, 0, 'files')
    finally:
        shutil.rmtree(work, ignore_errors=True)
    shm_n = 1000 if 1000 in sizes else None
    shm = tmpfs_first_runs(R, shm_n, [r for r in ('rp', 'make', 'ninja') if r in names]) \
        if shm_n else None

    sec = Section('Runner overhead (serial, -j 1)')
    sec.add('Every stage is one tiny shell command (chain: `wc -c in/i.txt out/i-1.txt > out/i.txt`; '
            'fan-out: `cat in/i.txt > out/i.txt`, then a gather `cat out/*.txt > all.txt` '
            'over all of them; files: `cat in/sK/*.txt > out/sK.txt` over 100 listed inputs). '
            'rp runs `rp repro -j 1`, make `make -s -j1`, ninja `ninja -j 1`, snakemake '
            '`snakemake --cores 1` (one wildcard rule over the stage table), doit `doit run` '
            '(one task generator, file_dep/targets). Times are medians of up to 7 runs '
            '(first runs: up to 3); ratios are rp / peer. First runs are bound by process '
            'creation and, for rp, by the files it creates and fsyncs in .rp/; on a shared VM '
            'they vary by up to 2x from one run of this script to the next, so compare ratios '
            'within one table. This benchmark took %s.'
            % fmt_time(time.time() - t0))
    peers = [n for n in names if n != 'rp']

    def cell(pn, r, s):
        m = res.get((pn, r, s))
        return fmt_time(m['median']) if m else '—'

    def ratio(pn, r, s):
        a_, b_ = res.get((pn, 'rp', s)), res.get((pn, r, s))
        return fmt_ratio(a_['median'], b_['median']) if a_ and b_ else '—'

    for shape, title in (('chain', 'Chain'), ('fanout', 'Fan-out + gather')):
        for s in SCENARIOS:
            rows = []
            for n in sizes:
                pn = '%s-%d' % (shape, n)
                rows.append([n] + [cell(pn, r, s) for r in names] + [ratio(pn, r, s) for r in peers])
            sec.add('### %s: %s\n\n' % (title, SCEN_TEXT[s]) +
                    table(['stages'] + names + ['rp/' + r for r in peers], rows))
    if not a.no_files:
        pn = 'files-100x100'
        rows = [[SCEN_TEXT[s]] + [cell(pn, r, s) for r in names] + [ratio(pn, r, s) for r in peers]
                for s in SCENARIOS]
        sec.add('### 100 stages x 100 input files (10,000 tracked files)\n\n' +
                table(['case'] + names + ['rp/' + r for r in peers], rows))

    if shm:
        pn = 'chain-%d' % shm_n
        rows = []
        for where, get in (('scratch (%s)' % a.tmp, lambda r: res.get((pn, r, 'full'))),
                           ('tmpfs (/dev/shm)', lambda r: shm.get(r))):
            row = [where]
            for r in ('rp', 'make', 'ninja'):
                m = get(r)
                row.append(fmt_time(m['median']) if m else '—')
            rp_, mk_ = get('rp'), get('make')
            row.append(fmt_ratio(rp_['median'], mk_['median']) if rp_ and mk_ else '—')
            rows.append(row)
        sec.add('### First run of the %d-stage chain on tmpfs (diagnostic)\n\n'
                'The same first run with the workspace on /dev/shm, where creating a file '
                'costs little: rp creates 2 files in its store per stage (the stage\'s '
                'source and its output) besides the output the stage itself writes, so on a '
                'file system where a new inode is slow its first runs pay that three times '
                'where make and ninja pay it once. Not a target; it says how much of the '
                'first-run ratio above is the scratch file system.\n\n' % shm_n +
                table(['where', 'rp', 'make', 'ninja', 'rp/make'], rows))

    # Work after one change, beyond the no-op: should not grow with the pipeline.
    rows = []
    extra = {}
    for shape in ('chain', 'fanout'):
        for n in sizes:
            pn = '%s-%d' % (shape, n)
            row = ['%s %d' % (shape, n)]
            for r in ('rp', 'make', 'ninja'):
                c, z = res.get((pn, r, 'change')), res.get((pn, r, 'no-op'))
                e = c['median'] - z['median'] if c and z else None
                extra[(shape, n, r)] = e
                row.append(fmt_time(e) if e is not None else '—')
            rows.append(row)
    sec.add('### Work after one change beyond the no-op (change − no-op)\n\n'
            'The chain reruns one stage; the fan-out reruns one stage and the gather, '
            'whose own work (reading every output) grows with the pipeline.\n\n' +
            table(['pipeline', 'rp', 'make', 'ninja'], rows))

    # Memory.
    rows = []
    for shape in ('chain', 'fanout'):
        for n in sizes:
            pn = '%s-%d' % (shape, n)
            f, z = res.get((pn, 'rp', 'full')), res.get((pn, 'rp', 'no-op'))
            if not f or not z:
                continue
            rows.append(['%s %d' % (shape, n), fmt_kib(f['maxrss_kib']), fmt_kib(z['maxrss_kib']),
                         '%.1f KiB' % (z['maxrss_kib'] / n)])
    for shape in ('chain', 'fanout'):
        lo, hi = [n for n in sizes if n >= 100][:1], [n for n in sizes if n >= 1000][-1:]
        if lo and hi and lo[0] != hi[0]:
            a1, b1 = res.get(('%s-%d' % (shape, lo[0]), 'rp', 'no-op')), res.get(('%s-%d' % (shape, hi[0]), 'rp', 'no-op'))
            if a1 and b1:
                rows.append(['%s: marginal, %d → %d stages' % (shape, lo[0], hi[0]), '', '',
                             '%.1f KiB' % ((b1['maxrss_kib'] - a1['maxrss_kib']) / (hi[0] - lo[0]))])
    sec.add('### rp memory (peak RSS, as /usr/bin/time %M)\n\n'
            'The first run counts the stage commands too (the kernel reports the largest '
            'of rp and its children). Per stage = no-op peak RSS / stages; the marginal row '
            'is the growth per added stage.\n\n' +
            table(['pipeline', 'peak RSS, first run', 'peak RSS, no-op', 'per stage'], rows))

    # Targets.
    for n in (1000, 5000):
        for shape in ('chain', 'fanout'):
            pn = '%s-%d' % (shape, n)
            r_, k_ = res.get((pn, 'rp', 'no-op')), res.get((pn, 'ninja', 'no-op'))
            if n in sizes:
                sec.target('no-op, %s %d: rp / ninja' % (shape, n),
                           fmt_ratio(r_['median'], k_['median']) if r_ and k_ else 'n/a',
                           '≤ 2x', (r_['median'] <= 2 * k_['median']) if r_ and k_ else None)
                d_ = res.get((pn, 'doit', 'no-op'))
                sec.target('no-op, %s %d: rp / doit' % (shape, n),
                           fmt_ratio(r_['median'], d_['median']) if r_ and d_ else 'n/a (doit skipped)',
                           '≤ 0.1x', (r_['median'] * 10 <= d_['median']) if r_ and d_ else None)
    for n in (1000, 5000):
        for shape in ('chain', 'fanout'):
            pn = '%s-%d' % (shape, n)
            r_, m_ = res.get((pn, 'rp', 'full')), res.get((pn, 'make', 'full'))
            if n in sizes:
                sec.target('first run, %s %d: rp / make' % (shape, n),
                           fmt_ratio(r_['median'], m_['median']) if r_ and m_ else 'n/a',
                           '≤ 1.3x', (r_['median'] <= 1.3 * m_['median']) if r_ and m_ else None)
    small = [n for n in sizes if n >= 100][:1]
    big = sizes[-1:]
    if small and big and small[0] != big[0]:
        e1, e2 = extra.get(('chain', small[0], 'rp')), extra.get(('chain', big[0], 'rp'))
        sec.target('one change, chain: rp (change − no-op) at %d vs %d stages' % (big[0], small[0]),
                   '%s vs %s' % (fmt_time(e2), fmt_time(e1)) if e1 is not None and e2 is not None else 'n/a',
                   '≤ 2x + 5 ms (no growth)',
                   (e2 <= 2 * e1 + 0.005) if e1 is not None and e2 is not None else None)
    z = res.get(('%s-%d' % ('chain', sizes[-1]), 'rp', 'no-op'))
    sec.target('memory per stage stated', '%.1f KiB at %d stages' % (z['maxrss_kib'] / sizes[-1], sizes[-1])
               if z else 'n/a', 'stated', True if z else None)
    if notes:
        sec.add('### Notes\n\n' + ''.join('- %s\n' % n for n in notes))
    sec.finish(a)


if __name__ == '__main__':
    main()
