#!/usr/bin/env python3
"""features.py - rp-features: point-in-time join against pandas merge_asof, online get.

    python3 bench/features.py [RP] [--events 10000000] [--rows 1000000]

1. EVENTS events (entity key, event time, value) over ENTITIES entities and
   ROWS entity rows (key, time), generated deterministically (random.Random(1))
   as CSV. The latest value of each entity as of each row's time:
   `rp-features historical` (events read from the CSV, entity rows from
   JSONL, output JSONL) against pandas: read_csv of both files, to_datetime,
   sort, merge_asof(by=key, direction='backward'), to_csv. Both include
   reading their inputs and writing their output; median of up to 3.
2. The same join with a windowed count and avg (7 days) instead: rp's time.
3. Online: materialize into SQLite, then `rp-features get --entities` with
   LOOKUPS single-entity rows (lookups per second, one process, one core);
   the same batch against a private redis-server (pipelined), and the p99
   of 200 single `get --entity` calls on each store.
pandas comes from Debian's python3-pandas; without it part 1 prints a skip
message. BENCH_FEATURES_EVENTS / BENCH_FEATURES_ROWS make quick runs.
"""

import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (Section, common_args, resolve_rp, have, measure,  # noqa: E402
                      run_once, table, fmt_time, fmt_ratio, log)

T0 = 1767225600  # 2026-01-01T00:00:00Z
SPAN = 90 * 86400

PANDAS = r'''
import sys, pandas as pd
ev = pd.read_csv(sys.argv[1], dtype={"k": "string", "v": "float64"})
ev["ts"] = pd.to_datetime(ev["ts"], format="%Y-%m-%dT%H:%M:%SZ", utc=True)
rows = pd.read_csv(sys.argv[2], dtype={"k": "string"})
rows["event_timestamp"] = pd.to_datetime(rows["event_timestamp"], format="%Y-%m-%dT%H:%M:%SZ", utc=True)
rows["_order"] = range(len(rows))
ev = ev.sort_values("ts", kind="stable")
rows = rows.sort_values("event_timestamp", kind="stable")
out = pd.merge_asof(rows, ev, left_on="event_timestamp", right_on="ts", by="k", direction="backward")
out = out.sort_values("_order").drop(columns=["_order", "ts"])
out.to_csv(sys.argv[3], index=False)
'''


def iso(t):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t))


def generate(d, n_events, n_rows, n_ent):
    rnd = random.Random(1)
    log('generating %d events, %d entity rows, %d entities' % (n_events, n_rows, n_ent))
    with open(os.path.join(d, 'events.csv'), 'w') as f:
        f.write('k,ts,v\n')
        w = f.write
        for _ in range(n_events):
            t = T0 + rnd.randrange(SPAN)
            w('e%d,%s,%d.%d\n' % (rnd.randrange(n_ent), iso(t), rnd.randrange(1000), rnd.randrange(10)))
    with open(os.path.join(d, 'rows.jsonl'), 'w') as fj, open(os.path.join(d, 'rows.csv'), 'w') as fc:
        fc.write('k,event_timestamp\n')
        for _ in range(n_rows):
            k, t = 'e%d' % rnd.randrange(n_ent), iso(T0 + rnd.randrange(SPAN))
            fj.write('{"k":"%s","event_timestamp":"%s"}\n' % (k, t))
            fc.write('%s,%s\n' % (k, t))
    with open(os.path.join(d, 'features.yaml'), 'w') as f:
        f.write('entities:\n  e: {join_keys: [k]}\n'
                'sources:\n  ev: {path: events.csv, timestamp: ts}\n'
                'views:\n  e:\n    entity: e\n    source: ev\n    features:\n'
                '      latest: {agg: last, column: v}\n'
                '      n_7d: {agg: count, window: 7d}\n'
                '      avg_7d: {agg: avg, column: v, window: 7d}\n')


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def p99_single(feat, d, store, keys, n=200):
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        subprocess.run([feat, 'get', '--defs', 'features.yaml', '--online', store, '--entity',
                        'k=' + keys[i % len(keys)], '--at', iso(T0 + SPAN)], cwd=d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[int(0.99 * (len(times) - 1))], statistics.median(times)


def main():
    ap = common_args(__doc__.splitlines()[0])
    ap.add_argument('--events', type=int, default=int(os.environ.get('BENCH_FEATURES_EVENTS', 10000000)))
    ap.add_argument('--rows', type=int, default=int(os.environ.get('BENCH_FEATURES_ROWS', 1000000)))
    ap.add_argument('--entities', type=int, default=0, help='default: rows / 10')
    ap.add_argument('--lookups', type=int, default=100000)
    a = ap.parse_args()
    rp = resolve_rp(a.rp)
    feat = os.path.join(os.path.dirname(rp), 'rp-features')
    if not os.access(feat, os.X_OK):
        feat = shutil.which('rp-features') or sys.exit('bench: no rp-features beside %s or on PATH' % rp)
    n_ent = a.entities or max(1, a.rows // 10)
    t0 = time.time()
    work = tempfile.mkdtemp(prefix='rp-bench-features.', dir=a.tmp)
    sec = Section('Feature store (rp-features)')
    try:
        d = work
        generate(d, a.events, a.rows, n_ent)
        hist = [feat, 'historical', '--defs', 'features.yaml', '--entities', 'rows.jsonl',
                '-o', 'out.jsonl']
        log('rp-features historical, latest value')
        rp_latest = measure(hist + ['--features', 'e:latest'], d, runs=3, min_runs=1, budget=60)
        log('rp-features historical, count and avg over 7d')
        rp_win = measure(hist + ['--features', 'e:n_7d,e:avg_7d'], d, runs=3, min_runs=1, budget=60)
        # Debian's python3-pandas lives in /usr/bin/python3, which need not be
        # the python3 running this script (pyenv, venv)
        pyd, pd_version = None, None
        for py in dict.fromkeys([sys.executable, '/usr/bin/python3']):
            r = subprocess.run([py, '-c', 'import pandas; print(pandas.__version__)'],
                               capture_output=True, text=True)
            if r.returncode == 0:
                pyd, pd_version = py, r.stdout.strip()
                break
        have_pandas = pyd is not None
        rows = [['rp-features historical, e:latest', fmt_time(rp_latest['median']),
                 '%.0f MiB' % (rp_latest['maxrss_kib'] / 1024), '']]
        if have_pandas:
            with open(os.path.join(d, 'asof.py'), 'w') as f:
                f.write(PANDAS)
            log('pandas merge_asof')
            pd_t = measure([pyd, 'asof.py', 'events.csv', 'rows.csv', 'out.csv'], d,
                           runs=3, min_runs=1, budget=60)
            rows.append(['pandas read_csv + merge_asof + to_csv (%s)' % pd_version,
                         fmt_time(pd_t['median']), '%.0f MiB' % (pd_t['maxrss_kib'] / 1024),
                         fmt_ratio(pd_t['median'], rp_latest['median'])])
            sec.target('point-in-time join %d events x %d rows: pandas / rp' % (a.events, a.rows),
                       fmt_ratio(pd_t['median'], rp_latest['median']), '> 1x',
                       pd_t['median'] > rp_latest['median'])
        else:
            print('bench: pandas is not installed (apt-get install python3-pandas): '
                  'skipping the merge_asof comparison', file=sys.stderr)
            rows.append(['pandas merge_asof', 'skipped: python3-pandas not installed', '', ''])
            sec.target('point-in-time join: pandas / rp', 'n/a (no pandas)', '> 1x', None)
        rows.append(['rp-features historical, e:n_7d + e:avg_7d (one sorted pass)',
                     fmt_time(rp_win['median']), '%.0f MiB' % (rp_win['maxrss_kib'] / 1024), ''])
        sec.add('### Point-in-time join: %d events, %d entity rows, %d entities\n\n' % (a.events, a.rows, n_ent)
                + 'Both read their inputs and write their output (rp: CSV events, JSONL rows and output; '
                'pandas: CSV in and out). Median of up to 3.\n\n'
                + table(['what', 'time', 'peak RSS', 'pandas / rp'], rows))

        # ---- online ---------------------------------------------------------
        at = iso(T0 + SPAN)
        rnd = random.Random(2)
        keys = ['e%d' % rnd.randrange(n_ent) for _ in range(a.lookups)]
        with open(os.path.join(d, 'lookups.jsonl'), 'w') as f:
            for k in keys:
                f.write('{"k":"%s"}\n' % k)
        stores = [('sqlite', os.path.join(d, 'online.db'))]
        redis = None
        if have('redis-server'):
            port = free_port()
            redis = subprocess.Popen(['redis-server', '--port', str(port), '--bind', '127.0.0.1',
                                      '--save', '', '--appendonly', 'no'],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            stores.append(('redis', 'redis://127.0.0.1:%d/0' % port))
        orows = []
        try:
            for name, store in stores:
                log('materialize into %s' % name)
                m = run_once([feat, 'materialize', '--defs', 'features.yaml', '--online', store, '--at', at], cwd=d)
                get = ['taskset', '-c', '0'] if have('taskset') else []
                get += [feat, 'get', '--defs', 'features.yaml', '--online', store,
                        '--entities', 'lookups.jsonl', '--at', at, '--json']
                log('batch get from %s' % name)
                g = measure(get, d, runs=3, min_runs=1, budget=20)
                rate = a.lookups / g['median']
                p99, p50 = p99_single(feat, d, store, keys)
                orows.append([name, fmt_time(m['time']), fmt_time(g['median']), '%.0f/s' % rate,
                              fmt_time(p50), fmt_time(p99)])
                if name == 'sqlite':
                    sec.target('online get from sqlite, one core', '%.0f lookups/s' % rate,
                               '>= 100,000/s', rate >= 100000)
        finally:
            if redis:
                redis.terminate()
                redis.wait()
        sec.add('### Online get: %d single-entity lookups (batch form, one process, pinned to one core)\n\n'
                % a.lookups + table(['store', 'materialize (%d entities)' % n_ent, 'batch get',
                                     'lookups/s', 'single get p50 (process)', 'p99'], orows)
                + '\nThe single gets are whole `rp-features get --entity` processes (200 runs).\n')
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sec.add('This benchmark took %s.' % fmt_time(time.time() - t0))
    sec.finish(a)


if __name__ == '__main__':
    main()
