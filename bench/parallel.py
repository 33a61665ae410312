#!/usr/bin/env python3
"""parallel.py - the fan-out at -j 2: rp against make -j 2 and ninja -j 2.

    python3 bench/parallel.py [RP] [--stages 200] [--sleep 0.05]

A fan-out of independent stages that each sleep (so that running two at once
matters) and copy one input, then one gather. Every runner starts from a
fresh workspace; the time is the median of 3 first runs. The ideal is
stages x sleep / 2: the sleeps alone, perfectly packed on two slots.
"""

import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (Section, common_args, resolve_rp, ensure_peers, have, measure,  # noqa: E402
                      runners, clean, fanout, table, fmt_time, fmt_ratio, log, Failed)


def main():
    ap = common_args(__doc__.splitlines()[0])
    ap.add_argument('--stages', type=int, default=int(os.environ.get('BENCH_PAR_STAGES', 200)))
    ap.add_argument('--sleep', type=float, default=0.05)
    ap.add_argument('--jobs', type=int, default=2)
    a = ap.parse_args()
    rp = resolve_rp(a.rp)
    ensure_peers('make', 'ninja')
    t0 = time.time()
    n, j = a.stages, a.jobs
    p = fanout(n + 1, cmd='sleep %g; cat in/{i}.txt > out/{i}.txt' % a.sleep)
    work = tempfile.mkdtemp(prefix='rp-bench-parallel.', dir=a.tmp)
    res, notes = {}, []
    names = ['rp', 'make', 'ninja']
    try:
        p.write_all(work)
        for jobs in (1, j):
            R = runners(rp, jobs=jobs)
            for name in names:
                if name != 'rp' and not have(name):
                    notes.append('%s is not installed' % name)
                    continue
                if jobs == 1 and name != 'rp':
                    continue  # the serial figure is only a reference for rp's speedup
                cmd, state = R[name]
                log('parallel -j%d: %s' % (jobs, name))
                try:
                    res[(name, jobs)] = measure(cmd, work, prepare=lambda i: clean(work, state, p),
                                                runs=1 if jobs == 1 else 3, min_runs=1, budget=30.0)
                except Failed as e:
                    notes.append('%s -j %d failed: %s' % (name, jobs, str(e).splitlines()[0]))
                clean(work, state, p)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ideal = n * a.sleep / j
    sec = Section('Parallelism (fan-out at -j %d)' % j)
    sec.add('%d independent stages `sleep %g; cat in/i.txt > out/i.txt`, then one gather, from a '
            'fresh workspace each time (median of 3). The ideal is the sleeps alone packed on '
            '%d slots: %s. Efficiency = ideal / time. This benchmark took %s.'
            % (n, a.sleep, j, fmt_time(ideal), fmt_time(time.time() - t0)))
    rows = []
    rp_j = res.get(('rp', j))
    for name in names:
        m = res.get((name, j))
        if not m:
            rows.append([name, '—', '—', '—'])
            continue
        rows.append(['%s -j %d' % (name, j), fmt_time(m['median']), '%.0f%%' % (100 * ideal / m['median']),
                     fmt_ratio(rp_j['median'], m['median']) if rp_j and name != 'rp' else ''])
    s1 = res.get(('rp', 1))
    if s1:
        rows.append(['rp -j 1 (reference)', fmt_time(s1['median']), '', ''])
    sec.add(table(['runner', 'time', 'efficiency', 'rp / peer'], rows))
    if s1 and rp_j:
        sec.add('rp speedup from -j 1 to -j %d: %.2fx.' % (j, s1['median'] / rp_j['median']))
    # The issue sets no numeric target here: the ratios are reported only.
    if notes:
        sec.add('Notes:\n\n' + ''.join('- %s\n' % x for x in notes))
    sec.finish(a)


if __name__ == '__main__':
    main()
