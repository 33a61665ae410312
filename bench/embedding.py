#!/usr/bin/env python3
"""embedding.py - rp-embed: embedding cache lookups, and HTTP throughput.

    python3 bench/embedding.py [RP] [--chunks 100000] [--http-chunks 20000]
                               [--batch 64] [--concurrency 4] [--delay-ms 50]

rp-embed is looked for next to RP, then on PATH.

1. Cache lookups. 100,000 distinct chunks (chunks.jsonl as rp-chunk writes
   them, ~430-byte texts) are embedded once with the local provider to fill
   a fresh cache (untimed); then the same rp-embed command, every chunk a
   cache hit (checked with --stats), is timed (median of 3-5 runs). The
   lookup itself is timed inside that run: under gdb, breakpoints at the
   entry and the return of embcache_lookup() (which stages the keys in a
   temp table and joins it with the cache, calling back once per hit), and
   at the other phases (reading and checking the chunks, writing the output).
   Without gdb, strace's timestamps of the openat() of the cache and of the
   output give an upper bound (lookup + assembling the output). The reference
   (not a competitor: it does less) is python3's sqlite3 module on rp's own
   cache file: the same 100,000 keys (computed from the chunks with the key
   formula of rp-embed(1)), one `SELECT ... WHERE key = ?` each, in one read
   transaction; and the same bulk temp-table join rp does, from Python.
2. HTTP throughput. tests/servers/openai_stub.py answers after --delay-ms
   (50 ms) with at most --concurrency (4) requests served at once (--slots)
   and 16-dimension vectors (so that it stays cheap); rp-embed --provider
   openai --batch 64 --concurrency 4 embeds 20,000 chunks with a cold cache
   (median of 3, a fresh stub each run). The ideal is batch x concurrency /
   delay chunks per second. The stub's counters check that it received every
   chunk once, and give its own cost per request and how many requests it
   was serving on average. A Python client (threads, keep-alive
   http.client, the same batches) shows what the stub can serve at all; a
   run with twice the concurrency (the stub still serving 4) and one with a
   4x delay separate rp's share of any loss from the stub's.
Everything lives in one scratch directory under --tmp, deleted at the end.
"""

import hashlib
import http.client
import json
import math
import os
import random
import re
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (Section, common_args, resolve_rp, ensure_peers, have, measure,  # noqa: E402
                      run_once, table, fmt_time, fmt_ratio, fmt_kib, log, Failed)

HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, '..', 'tests', 'servers', 'openai_stub.py')
MODEL = 'rp-lexical-v1'
KEY_ENV = 'RP_BENCH_EMBED_KEY'
KEY = 'bench-key-not-secret'

WORDS = ("retrieval embedding cache vector index chunk model pipeline server request "
         "batch token river mountain ocean forest music guitar piano violin python rust "
         "compiler memory garden winter summer bridge castle engine planet orbit lantern "
         "harbor meadow copper silver window thunder").split()


def fmt_rate_n(x, unit='/s'):
    if x is None:
        return 'n/a'
    if x >= 1e6:
        return '%.2f M%s' % (x / 1e6, unit)
    if x >= 1e4:
        return '%.0fk%s' % (x / 1e3, unit)
    return '%.0f%s' % (x, unit)


def find_embed(rp):
    p = os.path.join(os.path.dirname(rp), 'rp-embed')
    if os.access(p, os.X_OK):
        return p
    p = shutil.which('rp-embed')
    if p:
        return p
    sys.exit('bench: no rp-embed next to %s nor on PATH' % rp)


def write_chunks(path, n):
    """n distinct chunks in rp-chunk's JSONL (10 per document); returns the texts."""
    r = random.Random(5)
    texts = []
    with open(path, 'w') as f:
        for i in range(n):
            text = 'Doc %d part %d: ' % (i // 10, i % 10) + ' '.join(r.choice(WORDS) for _ in range(60))
            texts.append(text)
            f.write(json.dumps({'chunk_id': 'd%06d#%d' % (i // 10, i % 10), 'doc_id': 'd%06d' % (i // 10),
                                'ordinal': i % 10, 'text': text,
                                'content_hash': hashlib.sha256(text.encode()).hexdigest()},
                               sort_keys=True, separators=(',', ':')) + '\n')
    return texts


def cache_key(provider, model, dims, input_type, text):
    """embcache_key() as rp-embed(1) describes it."""
    h = hashlib.sha256()
    for field in (b'rp-embed-key-v1', provider.encode(), model.encode(), str(dims).encode(),
                  input_type.encode(), text.encode()):
        h.update(struct.pack('<Q', len(field)))
        h.update(field)
    return h.digest()


# ---------------------------------------------------------------- part 1

GDB_SCRIPT = r'''
import gdb, json, time
marks = []

def cpu():
    """Time the inferior's main thread has spent on a CPU, in seconds."""
    try:
        with open('/proc/%d/schedstat' % gdb.selected_inferior().pid) as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None
gdb.execute('set pagination off')
gdb.execute('set confirm off')
for f in ('jsonl_open', 'embcache_open', 'embcache_lookup', 'rpv_init', 'rpv_write'):
    gdb.Breakpoint(f, internal=True)
gdb.execute('run', to_string=True)
while gdb.selected_inferior().pid:
    name = gdb.selected_frame().name()
    marks.append([name, time.perf_counter(), cpu()])
    if name == 'embcache_lookup':
        gdb.execute('finish', to_string=True)
        marks.append(['embcache_lookup:end', time.perf_counter(), cpu()])
    gdb.execute('continue', to_string=True)
marks.append(['exit', time.perf_counter(), None])
code = gdb.convenience_variable('_exitcode')
with open(OUT, 'w') as f:
    json.dump({'marks': marks, 'exit': None if code is None else int(code)}, f)
'''

PHASES = [  # (label, from mark, to mark)
    ('read chunks, check content_hash, compute keys', 'jsonl_open', 'embcache_open'),
    ('open the cache', 'embcache_open', 'embcache_lookup'),
    ('**cache lookup** (embcache_lookup)', 'embcache_lookup', 'embcache_lookup:end'),
    ('list misses (none)', 'embcache_lookup:end', 'rpv_init'),
    ('assemble the output in memory', 'rpv_init', 'rpv_write'),
    ('write vectors.rpv (checksum, fsync), free, exit', 'rpv_write', 'exit'),
]


def gdb_phases(cmd, cwd, runs=3):
    """Median duration of each phase of PHASES over `runs` runs under gdb, and the
    median CPU time of the lookup (main thread, schedstat); None if it fails."""
    script = os.path.join(cwd, 'phases.gdb.py')
    out = os.path.join(cwd, 'phases.json')
    with open(script, 'w') as f:
        f.write('OUT = %r\n' % out + GDB_SCRIPT)
    per = {p[0]: [] for p in PHASES}
    cpu = []
    for _ in range(runs):
        if os.path.exists(out):
            os.unlink(out)
        subprocess.run(['gdb', '-q', '-batch', '-nx', '-x', script, '--args'] + cmd, cwd=cwd,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            res = json.load(open(out))
        except (OSError, ValueError):
            return None
        t = dict((m[0], m[1]) for m in res['marks'])
        c = dict((m[0], m[2]) for m in res['marks'])
        if res.get('exit') not in (0, None) or any(a not in t or b not in t for _, a, b in PHASES):
            return None
        for label, a, b in PHASES:
            per[label].append(t[b] - t[a])
        if c.get('embcache_lookup') is not None and c.get('embcache_lookup:end') is not None:
            cpu.append(c['embcache_lookup:end'] - c['embcache_lookup'])
    return {k: statistics.median(v) for k, v in per.items()}, statistics.median(cpu) if cpu else None


def strace_phases(cmd, cwd, cache, runs=3):
    """Fallback without gdb: (read+keys, lookup+assemble) from openat timestamps."""
    log_path = os.path.join(cwd, 'strace.log')
    a, b = [], []
    for _ in range(runs):
        subprocess.run(['strace', '-f', '-ttt', '-e', 'trace=openat', '-o', log_path] + cmd, cwd=cwd,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t_in = t_db = t_out = None
        for line in open(log_path):
            m = re.match(r'\d+\s+([0-9.]+)\s+openat\(AT_FDCWD, "([^"]*)"', line)
            if not m:
                continue
            t, path = float(m.group(1)), m.group(2)
            if t_in is None and path.endswith('chunks.jsonl'):
                t_in = t
            elif t_db is None and path.endswith(os.path.basename(cache)):
                t_db = t
            elif t_out is None and '.rpv.tmp' in path:
                t_out = t
        if None in (t_in, t_db, t_out):
            return None
        a.append(t_db - t_in)
        b.append(t_out - t_db)
    return {'read chunks, check content_hash, compute keys': statistics.median(a),
            'open cache + lookup + assemble output (upper bound of the lookup)': statistics.median(b)}


def py_lookups(db, keys, runs=3):
    """Median seconds of len(keys) point SELECTs, and of the bulk temp-table join, from Python."""
    con = sqlite3.connect(db, isolation_level=None)
    for p in ('PRAGMA cache_size=-65536', 'PRAGMA mmap_size=1073741824', 'PRAGMA temp_store=MEMORY'):
        con.execute(p)
    point, bulk, found, cpoint, cbulk = [], [], 0, [], []
    for _ in range(runs):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        con.execute('BEGIN')
        cur = con.cursor()
        n = 0
        for k in keys:
            row = cur.execute('SELECT provider, model, dims, vector FROM embeddings WHERE key = ?',
                              (k,)).fetchone()
            if row is not None:
                n += 1
        con.execute('COMMIT')
        point.append(time.perf_counter() - t0)
        cpoint.append(time.thread_time() - c0)
        found = n
        c0 = time.thread_time()
        t0 = time.perf_counter()
        con.execute('CREATE TEMP TABLE IF NOT EXISTS want(key BLOB PRIMARY KEY, i INTEGER) WITHOUT ROWID')
        con.execute('BEGIN')
        con.executemany('INSERT OR IGNORE INTO temp.want(key, i) VALUES(?, ?)',
                        ((k, i) for i, k in enumerate(keys)))
        m = 0
        for row in con.execute('SELECT w.i, e.provider, e.model, e.dims, e.vector FROM temp.want AS w '
                               'CROSS JOIN main.embeddings AS e ON e.key = w.key'):
            m += 1
        con.execute('COMMIT')
        con.execute('DELETE FROM temp.want')
        bulk.append(time.perf_counter() - t0)
        cbulk.append(time.thread_time() - c0)
    con.close()
    return (statistics.median(point), statistics.median(bulk), found,
            statistics.median(cpoint), statistics.median(cbulk))


def part_cache(a, embed, work, sec, notes):
    n = a.chunks
    chunks = os.path.join(work, 'chunks.jsonl')
    cache = os.path.join(work, 'cache.db')
    log('embedding: writing %d chunks' % n)
    texts = write_chunks(chunks, n)
    base = [embed, 'chunks.jsonl', '-o', 'vectors.rpv', '--model', MODEL, '--dimensions', str(a.cache_dims),
            '--cache', cache]
    log('embedding: filling the cache (local provider, untimed)')
    fill = run_once(base + ['--stats', 'fill.json'], cwd=work)
    st = json.load(open(os.path.join(work, 'fill.json')))
    if st['embedded'] != n:
        raise Failed('the first run embedded %s of %d chunks' % (st['embedded'], n))
    log('embedding: cached runs')
    cmd = base + ['--stats', 'cached.json']
    hits = []

    def check(_i=None):
        p = os.path.join(work, 'cached.json')
        if os.path.exists(p):
            hits.append(json.load(open(p))['hits'])
            os.unlink(p)
    m = measure(cmd, cwd=work, prepare=check, runs=5, min_runs=3, budget=12.0)
    check()
    all_hits = bool(hits) and all(h == n for h in hits)
    if not all_hits:
        notes.append('the cached runs had %s cache hits of %d chunks' % (hits, n))
    phases, how, c_lookup = None, None, None
    if have('gdb'):
        log('embedding: phases of a cached run (gdb)')
        res, how = gdb_phases(cmd, work), 'gdb'
        if res:
            phases, c_lookup = res
        else:
            notes.append('gdb could not time the phases (ptrace not allowed?); strace used instead')
    if phases is None and have('strace'):
        log('embedding: phases of a cached run (strace)')
        phases, how = strace_phases(cmd, work, cache), 'strace'
    # the reference: python3's sqlite3 on rp's own cache file
    keys = [cache_key('local', MODEL, a.cache_dims, '', t) for t in texts]
    log('embedding: python3 sqlite3 reference')
    t_point, t_bulk, found, c_point, c_bulk = py_lookups(cache, keys)
    if found != n:
        notes.append('only %d of the %d keys computed with the formula of rp-embed(1) are in the cache; '
                     'the reference then looked up the stored keys in random order' % (found, n))
        con = sqlite3.connect(cache)
        keys = [r[0] for r in con.execute('SELECT key FROM embeddings')]
        con.close()
        random.Random(1).shuffle(keys)
        t_point, t_bulk, found, c_point, c_bulk = py_lookups(cache, keys)

    t_lookup = None
    if phases:
        t_lookup = phases.get(PHASES[2][0])
    whole = m['median']
    sec.add('### Embedding cache: %s cached chunks\n' % format(n, ','))
    sec.add('%s distinct chunks (texts of ~%d bytes, %d-dimension vectors: a %.0f MB cache) embedded '
            'once with the local provider to fill a fresh cache (that run took %s, untimed), then the '
            'same `rp-embed` command again: every chunk a cache hit (%s by `--stats`). Whole run: '
            'median of %d runs. Phases of the cached run: median of 3 runs %s. The reference is python3\'s '
            'sqlite3 module (SQLite %s) on rp\'s cache file, in the same minute, with rp\'s cache '
            'pragmas: it only fetches rows, so it is a yardstick for the SQLite work, not a competitor.'
            % (format(n, ','), statistics.mean(len(t.encode()) for t in texts[:1000]), a.cache_dims,
               os.path.getsize(cache) / 1e6, fmt_time(fill['time']),
               'checked' if all_hits else '**not all hits**', m['n'],
               {'gdb': 'under gdb, with breakpoints at the functions named',
                'strace': 'from strace\'s openat() timestamps (gdb not installed)'}.get(how, '(not measured)'),
               sqlite3.sqlite_version))
    def cpu_cells(c):
        return [fmt_time(c), fmt_rate_n(n / c)] if c else ['', '']
    rows = [['rp-embed, whole cached run', fmt_time(whole), fmt_rate_n(n / whole)] + cpu_cells(None) +
            [fmt_ratio(whole, t_point), fmt_ratio(whole, t_bulk)]]
    if t_lookup:
        rows.append(['rp-embed, embcache_lookup() alone', fmt_time(t_lookup), fmt_rate_n(n / t_lookup)] +
                    cpu_cells(c_lookup) + [fmt_ratio(t_lookup, t_point), fmt_ratio(t_lookup, t_bulk)])
    rows.append(['python3 sqlite3: one SELECT by key per chunk (reference)', fmt_time(t_point),
                 fmt_rate_n(n / t_point)] + cpu_cells(c_point) + ['', ''])
    rows.append(['python3 sqlite3: rp\'s temp-table join (reference)', fmt_time(t_bulk),
                 fmt_rate_n(n / t_bulk)] + cpu_cells(c_bulk) + ['', ''])
    sec.add(table(['%s lookups' % format(n, ','), 'time', 'lookups/s', 'CPU time', 'lookups/CPU-s',
                   'rp / point SELECTs', 'rp / join'], rows))
    sec.add('CPU time is the time the looking-up thread spent on a CPU (schedstat for rp-embed\'s main '
            'thread, thread_time() for Python): unlike the wall time, it does not grow when other '
            'processes take the cores. Ratios are of wall times.')
    if phases:
        prow = [[k, fmt_time(v), '%.0f%%' % (100 * v / whole)] for k, v in phases.items()]
        sec.add(table(['phase of the cached run (%s)' % how, 'time', 'of the whole run (%s)' % fmt_time(whole)],
                      prow))
    sec.add('Peak RSS of the cached run: %s (the vectors are held three times: as looked up, as the '
            'records of the output, and encoded for writing).' % fmt_kib(m['maxrss_kib']))
    if t_lookup and how == 'gdb':
        sec.target('embedding cache lookups (%s cached chunks)' % format(n, ','),
                   '%s (embcache_lookup%s; whole run %s chunks/s)'
                   % (fmt_rate_n(n / t_lookup),
                      ', %s per CPU-second' % fmt_rate_n(n / c_lookup, '') if c_lookup else '',
                      fmt_rate_n(n / whole, '')),
                   '≥ 200k/s', n / t_lookup >= 200e3 if all_hits else None)
    else:
        # without the exact lookup time only the whole run (a lower bound) is known
        lb = n / (phases[list(phases)[1]] if phases else whole)
        sec.target('embedding cache lookups (%s cached chunks)' % format(n, ','),
                   '≥ %s (lower bound: %s; whole run %s chunks/s)'
                   % (fmt_rate_n(lb), 'lookup + output assembly' if phases else 'whole run',
                      fmt_rate_n(n / whole, '')),
                   '≥ 200k/s', True if lb >= 200e3 and all_hits else None)
    return texts


# ---------------------------------------------------------------- part 2

class Stub:
    """tests/servers/openai_stub.py on a port the kernel chooses."""

    def __init__(self, work, delay_ms, slots, dims):
        self.dir = tempfile.mkdtemp(prefix='stub.', dir=work)
        port_file = os.path.join(self.dir, 'port')
        self.p = subprocess.Popen([sys.executable, STUB, '--port-file', port_file, '--delay-ms', str(delay_ms),
                                   '--slots', str(slots), '--dims', str(dims), '--expect-key', KEY],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            if self.p.poll() is not None:
                raise Failed('the stub server exited at once (exit %d)' % self.p.returncode)
            time.sleep(0.025)
        else:
            self.stop()
            raise Failed('the stub server did not start')
        self.port = int(open(port_file).read())
        self.base = 'http://127.0.0.1:%d/v1' % self.port

    def stats(self):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        c.request('GET', '/stats')
        s = json.loads(c.getresponse().read())
        c.close()
        return s

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def rp_http_run(embed, work, chunks_file, n, delay_ms, slots, batch, conc, dims):
    """One cold-cache rp-embed run against a fresh stub: a dict of figures."""
    cache = os.path.join(work, 'http-cache.db')
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(cache + suffix):
            os.unlink(cache + suffix)
    stub = Stub(work, delay_ms, slots, dims)
    try:
        # rp sends a key only to hosts the user's own config allows
        # (DESIGN.md, Trust): a private XDG_CONFIG_HOME allows the stub's
        xdg = os.path.join(work, 'xdg')
        os.makedirs(os.path.join(xdg, 'rp'), exist_ok=True)
        with open(os.path.join(xdg, 'rp', 'config'), 'w') as f:
            f.write('credentials:\n  %s: ["%s"]\n' % (KEY_ENV, stub.base.split('/')[2]))
        env = dict(os.environ, **{KEY_ENV: KEY, 'XDG_CONFIG_HOME': xdg})
        cmd = [embed, chunks_file, '-o', 'http.rpv', '--provider', 'openai', '--model', 'bench-model',
               '--base-url', stub.base, '--api-key-env', KEY_ENV, '--batch', str(batch),
               '--concurrency', str(conc), '--cache', cache, '--stats', 'http.json']
        r = run_once(cmd, cwd=work, env=env)
        s = stub.stats()
    finally:
        stub.stop()
    st = json.load(open(os.path.join(work, 'http.json')))
    phase = s['last_reply'] - s['first_post'] if s.get('requests') else None
    return {'time': r['time'], 'stats': st, 'stub': s, 'phase': phase,
            'served': (s['requests'] * delay_ms / 1000.0 + s.get('busy_seconds', 0)) / phase if phase else None}


def py_client_run(work, texts, delay_ms, slots, batch, conc, dims):
    """The same batches from a Python client (conc threads, keep-alive): seconds."""
    bodies = [json.dumps({'model': 'bench-model', 'input': texts[i:i + batch]}).encode()
              for i in range(0, len(texts), batch)]
    stub = Stub(work, delay_ms, slots, dims)
    lock = threading.Lock()
    nxt = [0]
    errors = []

    def worker():
        c = http.client.HTTPConnection('127.0.0.1', stub.port, timeout=60)
        while True:
            with lock:
                if nxt[0] >= len(bodies):
                    break
                b = bodies[nxt[0]]
                nxt[0] += 1
            c.request('POST', '/v1/embeddings', b, {'Content-Type': 'application/json',
                                                    'Authorization': 'Bearer ' + KEY})
            resp = c.getresponse()
            data = resp.read()
            if resp.status != 200:
                errors.append(resp.status)
            else:
                json.loads(data)
        c.close()
    try:
        t0 = time.perf_counter()
        ts = [threading.Thread(target=worker) for _ in range(conc)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        t = time.perf_counter() - t0
        s = stub.stats()
    finally:
        stub.stop()
    if errors or s['ok_inputs'] != len(texts):
        raise Failed('the Python client got statuses %s, the stub counted %s inputs'
                     % (sorted(set(errors)), s['ok_inputs']))
    return t


def part_http(a, embed, work, texts, sec, notes):
    n = min(a.http_chunks, len(texts))
    B, C, D = a.batch, a.concurrency, a.delay_ms
    chunks_file = os.path.join(work, 'http-chunks.jsonl')
    with open(os.path.join(work, 'chunks.jsonl')) as fi, open(chunks_file, 'w') as fo:
        for i, line in zip(range(n), fi):
            fo.write(line)
    sub = texts[:n]
    nreq = math.ceil(n / B)
    ideal = B * C / (D / 1000.0)
    log('embedding: rp-embed against the stub (%d ms, %d slots), 3 runs' % (D, C))
    runs = [rp_http_run(embed, work, chunks_file, n, D, C, B, C, a.dims) for _ in range(3)]
    bad = []
    for r in runs:
        s, st = r['stub'], r['stats']
        if (s['ok_inputs'] != n or s['inputs'] != n or s['requests'] != nreq or st['embedded'] != n
                or st['hits'] != 0 or s['auth_ok'] != s['requests'] or s.get('max_serving', 0) > C):
            bad.append('stub: %d requests, %d inputs, %d ok, %d auth_ok, max %s served at once; '
                       'rp-embed: %d embedded, %d hits' % (s['requests'], s['inputs'], s['ok_inputs'],
                                                          s['auth_ok'], s.get('max_serving'),
                                                          st['embedded'], st['hits']))
    if bad:
        notes.extend(bad)
    med = sorted(runs, key=lambda r: r['time'])[1]
    t_rp = med['time']
    log('embedding: Python reference client')
    t_py = statistics.median(py_client_run(work, sub, D, C, B, C, a.dims) for _ in range(3))
    log('embedding: diagnostics (2x concurrency; 4x delay)')
    over = rp_http_run(embed, work, chunks_file, n, D, C, B, 2 * C, a.dims)
    n4 = max(B * C, n // 4)
    chunks4 = os.path.join(work, 'http-chunks4.jsonl')
    with open(chunks_file) as fi, open(chunks4, 'w') as fo:
        for i, line in zip(range(n4), fi):
            fo.write(line)
    slow = rp_http_run(embed, work, chunks4, n4, 4 * D, C, B, C, a.dims)
    ideal4 = B * C / (4 * D / 1000.0)
    s = med['stub']
    per_req = s.get('busy_seconds', 0) / max(s['requests'], 1)
    stub_ideal = B * C / (D / 1000.0 + per_req)

    sec.add('### HTTP throughput: openai provider against a %d ms server\n' % D)
    sec.add('`rp-embed --provider openai --batch %d --concurrency %d` on %s chunks with a cold cache, against '
            'tests/servers/openai_stub.py answering after %d ms, serving at most %d requests at once '
            '(`--slots %d`), %d-dimension vectors (median of 3 runs, a fresh stub and cache each). '
            'The ideal is %d x %d / %g s = %s chunks/s (%s for the %s chunks). Every run sent %d requests '
            'and the stub counted %s inputs%s. "HTTP phase" is from the stub\'s first request to its last '
            'reply; "served at once" is the mean number of requests the stub was serving over that phase '
            '(the ideal is %d).'
            % (B, C, format(n, ','), D, C, C, a.dims, B, C, D / 1000.0, fmt_rate_n(ideal, ''),
               fmt_time(n / ideal), format(n, ','), nreq,
               format(s['ok_inputs'], ','), ', each once' if not bad else ' (**mismatch, see notes**)', C))

    def row(label, conc, t, ideal_rate, phase=None, served=None, ref=None):
        rate = n_of[label] / t
        return [label, str(conc), fmt_time(t), fmt_rate_n(rate, ''), '%.0f%%' % (100 * rate / ideal_rate),
                fmt_time(phase) if phase else '', '%.2f' % served if served else '',
                fmt_ratio(t, ref) if ref else '']
    n_of = {}
    rows = []
    lab = 'rp-embed, whole run'
    n_of[lab] = n
    rows.append(row(lab, C, t_rp, ideal, med['phase'], med['served'], t_py))
    lab = 'rp-embed, HTTP phase only'
    n_of[lab] = n
    rows.append(row(lab, C, med['phase'], ideal, ref=t_py))
    lab = 'Python http.client, %d threads (reference)' % C
    n_of[lab] = n
    rows.append(row(lab, C, t_py, ideal))
    lab = 'rp-embed --concurrency %d (stub still serves %d)' % (2 * C, C)
    n_of[lab] = n
    rows.append(row(lab, 2 * C, over['time'], ideal, over['phase'], over['served'], t_py))
    sec.add(table(['client, %d ms, %d slots' % (D, C), 'concurrency', 'time', 'chunks/s', 'of ideal',
                   'HTTP phase', 'served at once', 'time / Python client'], rows))
    lab = 'rp-embed, %d ms delay, %s chunks' % (4 * D, format(n4, ','))
    n_of[lab] = n4
    sec.add(table(['slower server: %d ms, %d slots' % (4 * D, C), 'concurrency', 'time', 'chunks/s',
                   'of ideal (%s/s)' % fmt_rate_n(ideal4, ''), 'HTTP phase', 'served at once', ''],
                  [row(lab, C, slow['time'], ideal4, slow['phase'], slow['served'])]))
    sec.add('The stub\'s own cost (parsing the request, %d vectors, JSON) is %.1f ms a request, beyond the '
            '%d ms sleep: against this stub the best possible is %s chunks/s (%.0f%% of the ideal). '
            'rp-embed\'s own time: fixed costs outside the HTTP phase %s (reading and checking the chunks, '
            'writing the output).'
            % (B, per_req * 1000, D, fmt_rate_n(stub_ideal, ''), 100 * stub_ideal / ideal,
               fmt_time(t_rp - med['phase'])))
    eff = n / t_rp / ideal
    sec.target('HTTP embedding throughput (batch %d, %d in flight, %d ms server)' % (B, C, D),
               '%.0f%% of ideal (%s of %s chunks/s; HTTP phase alone %.0f%%)'
               % (100 * eff, fmt_rate_n(n / t_rp, ''), fmt_rate_n(ideal, ''),
                  100 * n / med['phase'] / ideal),
               '≥ 90%', eff >= 0.9 if not bad else None)
    return {'rp': med, 't_py': t_py, 'over': over, 'slow': slow, 'eff': eff}


def main():
    ap = common_args(__doc__.splitlines()[0])
    ap.add_argument('--chunks', type=int, default=int(os.environ.get('BENCH_EMBED_CHUNKS', 100000)),
                    help='cached chunks of the lookup benchmark (default 100000)')
    ap.add_argument('--cache-dims', type=int, default=384,
                    help='vector dimension of the lookup benchmark (default 384, the local model\'s)')
    ap.add_argument('--http-chunks', type=int, default=int(os.environ.get('BENCH_EMBED_HTTP_CHUNKS', 20000)))
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--concurrency', type=int, default=4)
    ap.add_argument('--delay-ms', type=int, default=50)
    ap.add_argument('--dims', type=int, default=16, help='vector dimension of the stub (default 16)')
    a = ap.parse_args()
    rp = resolve_rp(a.rp)
    embed = find_embed(rp)
    if not have('gdb'):
        ensure_peers('strace')
    t0 = time.time()
    work = tempfile.mkdtemp(prefix='rp-bench-embedding.', dir=a.tmp)
    sec = Section('Embedding (rp-embed)')
    notes = []
    try:
        texts = part_cache(a, embed, work, sec, notes)
        part_http(a, embed, work, texts, sec, notes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sec.parts.insert(1, 'rp-embed: `%s`. This benchmark took %s.\n' % (embed, fmt_time(time.time() - t0)))
    if notes:
        sec.add('Notes:\n\n' + ''.join('- %s\n' % x for x in notes))
    sec.finish(a)


if __name__ == '__main__':
    main()
