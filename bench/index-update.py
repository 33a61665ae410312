#!/usr/bin/env python3
"""index-update.py - rp-index update: small changes to a big index, and a one-document edit through the whole pipeline.

    python3 bench/index-update.py [RP] [--chunks 100000] [--docs 10000] [--dim 384]

rp-embed and rp-index are looked for next to RP, then on PATH.

1. One-chunk update. --chunks (100,000) chunks of ~430 bytes (10 per
   document) are embedded once with the local provider (384 dimensions,
   untimed), and the index is built from them. Two versions of the chunk
   file that differ from it in one chunk's text, with their vectors (one
   embedding each, also untimed: "vectors cached" means the .rpv already
   holds every vector), are then applied in turn, so that every timed
   `rp-index update` replaces exactly one chunk (checked with --stats).
   The peers in the same run: the from-scratch build of the same 100,000
   chunks (`rp-index update` into an empty directory), and an update that
   changes nothing. Target (issue 11): under 100 ms.
2. Storage growth. One document's 10 chunks edited, one update: the bytes
   of the files that the new version adds to the index directory (named by
   their content, so a file of the old version is never rewritten) against
   the size of the index (`rp-index info`). Target: at most 5%.
3. A one-document edit through `rp repro`. --docs (10,000) markdown
   documents of ~10 sections each in corpus/, a pipeline extract -> chunk
   -> context -> embed -> index (the stages of pipelines/rag, the index a
   `persist: true` directory out), run once (untimed), then one line of one
   document is edited and `rp repro` runs again (median of 3, a different
   edit each time). Each stage's command is wrapped by a timer, so the
   table shows each stage's time and share of the whole; the rest is rp
   itself (hashing the outputs, storing them, the lock). The store's growth
   (.rp/cache) and the index's share of it are reported too.

Everything lives in one scratch directory under --tmp, deleted at the end.
"""

import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (Section, common_args, resolve_rp, measure, run_once, table,  # noqa: E402
                      fmt_time, fmt_ratio, fmt_kib, log, Failed)

MODEL = 'rp-lexical-v1'
WORDS = ("retrieval embedding cache vector index chunk model pipeline server request "
         "batch token river mountain ocean forest music guitar piano violin python rust "
         "compiler memory garden winter summer bridge castle engine planet orbit lantern "
         "harbor meadow copper silver window thunder").split()


def find_prog(rp, name):
    p = os.path.join(os.path.dirname(rp), name)
    if os.access(p, os.X_OK):
        return p
    p = shutil.which(name)
    if p:
        return p
    sys.exit('bench: no %s next to %s nor on PATH' % (name, rp))


def chunk_texts(n):
    r = random.Random(11)
    return ['Doc %d part %d: ' % (i // 10, i % 10) + ' '.join(r.choice(WORDS) for _ in range(60))
            for i in range(n)]


def write_chunks(path, texts):
    with open(path, 'w') as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({'chunk_id': 'd%06d#%d' % (i // 10, i % 10), 'doc_id': 'd%06d' % (i // 10),
                                'ordinal': i % 10, 'text': text,
                                'content_hash': hashlib.sha256(text.encode()).hexdigest()},
                               sort_keys=True, separators=(',', ':')) + '\n')


def run(cmd, cwd, env=None):
    """Run cmd untimed; raise Failed with its stderr when it fails. Returns stdout."""
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise Failed('%s failed (exit %d):\n%s' % (' '.join(cmd), p.returncode, p.stderr[-2000:]))
    return p.stdout


def info(rpi, ix, cwd):
    return json.loads(run([rpi, 'info', ix, '--json'], cwd))


def dir_files(d):
    return {n: os.path.getsize(os.path.join(d, n)) for n in os.listdir(d)}


def du(d):
    total = 0
    for root, _, files in os.walk(d):
        for n in files:
            try:
                total += os.lstat(os.path.join(root, n)).st_size
            except OSError:
                pass
    return total


def fmt_bytes(b):
    return fmt_kib(b / 1024) if b >= 1024 else '%d B' % b


# ---------------------------------------------------------------- parts 1 and 2

def part_update(a, rpe, rpi, work, sec, notes):
    n = a.chunks
    texts = chunk_texts(n)
    k = n // 2 + 3                       # the chunk the one-chunk versions change
    versions = {}
    log('index-update: %d chunks, embedding them (untimed)' % n)
    for name, edit in (('c0', None), ('c1', 'first'), ('c2', 'second')):
        t = list(texts)
        if edit:
            t[k] = t[k] + ' Edited, the %s time.' % edit
        write_chunks(os.path.join(work, name + '.jsonl'), t)
        run([rpe, name + '.jsonl', '-o', name + '.rpv', '--model', MODEL, '--cache', 'emb.db'], work)
        versions[name] = (name + '.jsonl', name + '.rpv')

    def update(ix, v, *extra):
        return [rpi, 'update', ix, '--vectors', versions[v][1], '--chunks', versions[v][0]] + list(extra)

    log('index-update: from-scratch builds')
    scratch = measure(update('scratch', 'c0'), work, runs=3, min_runs=3, budget=60,
                      prepare=lambda i: shutil.rmtree(os.path.join(work, 'scratch'), ignore_errors=True))
    run(update('ix', 'c0'), work)
    size0 = info(rpi, 'ix', work)['bytes']

    log('index-update: one-chunk updates')
    order = ['c1', 'c2']
    one = []
    for i in range(9):
        r = run_once(update('ix', order[i % 2], '--stats', 'stats.json'), cwd=work)
        st = json.load(open(os.path.join(work, 'stats.json')))
        if (st['updated'], st['added'], st['deleted']) != (1, 0, 0):
            notes.append('a one-chunk update reported %s' % st)
        one.append(r)
    one_t = statistics.median(r['time'] for r in one)
    one_rss = max(r['maxrss_kib'] for r in one)
    one_rchar = statistics.median(r['rchar'] for r in one) if one[0]['rchar'] is not None else None
    noop = measure(update('ix', order[8 % 2]), work, runs=7, min_runs=3, budget=10)
    ix_info = info(rpi, 'ix', work)

    rows = [['from-scratch build, %d chunks' % n, fmt_time(scratch['median']), '1x'],
            ['update, nothing changed', fmt_time(noop['median']), fmt_ratio(noop['median'], scratch['median'])],
            ['**update, one chunk changed**', fmt_time(one_t), fmt_ratio(one_t, scratch['median'])]]
    sec.add('### One-chunk update of a %s-chunk index\n' % format(n, ','))
    sec.add('%s chunks x %d dimensions (index %s, %d segments after the updates); every run '
            'reads the whole chunk file (%s) and .rpv (%s). Median of 9 one-chunk updates '
            '(alternating two versions, each replacing one chunk), of 3 builds, of the no-op.'
            % (format(n, ','), a.dim, fmt_bytes(size0), ix_info['segments'],
               fmt_bytes(os.path.getsize(os.path.join(work, 'c0.jsonl'))),
               fmt_bytes(os.path.getsize(os.path.join(work, 'c0.rpv')))))
    sec.add(table(['rp-index update', 'time', 'vs from-scratch'], rows))
    sec.add('One-chunk update: peak RSS %s, %s read.' % (
        fmt_kib(one_rss), fmt_bytes(one_rchar) if one_rchar is not None else 'n/a'))
    sec.target('one-chunk update, %s-chunk index' % format(n, ','), fmt_time(one_t), '< 100 ms',
               one_t < 0.100)

    # part 2: one document's 10 chunks edited
    log('index-update: one-document edit, storage growth')
    t = list(texts)
    t[k] = t[k] + ' Edited, the first time.'   # what the index holds now (c1)
    doc = (n // 10) // 3
    for j in range(doc * 10, doc * 10 + 10):
        t[j] = t[j] + ' This document was edited.'
    write_chunks(os.path.join(work, 'c3.jsonl'), t)
    run([rpe, 'c3.jsonl', '-o', 'c3.rpv', '--model', MODEL, '--cache', 'emb.db'], work)
    versions['c3'] = ('c3.jsonl', 'c3.rpv')
    before = dir_files(os.path.join(work, 'ix'))
    size_before = info(rpi, 'ix', work)['bytes']
    run(update('ix', 'c3', '--stats', 'stats.json'), work)
    st = json.load(open(os.path.join(work, 'stats.json')))
    after = dir_files(os.path.join(work, 'ix'))
    added = {f: s for f, s in after.items() if f not in before or f == 'MANIFEST.json'}
    added_bytes = sum(added.values())
    pct = 100.0 * added_bytes / size_before
    sec.add('### Storage growth of a one-document edit\n')
    sec.add('One document (10 chunks) edited, `rp-index update`: %d updated. The new version '
            'adds these files to the index directory (every other file is the old version\'s, '
            'unchanged; in rp\'s store, objects are named by content, so the store grows by '
            'the same files):' % st['updated'])
    sec.add(table(['file', 'bytes'], sorted([[f, format(s, ',')] for f, s in added.items()])
                  + [['**total**', '%s (%.3f%% of the index\'s %s)' % (format(added_bytes, ','), pct,
                                                                         fmt_bytes(size_before))]]))
    sec.target('bytes a one-document edit adds / index size', '%.3f%%' % pct, '<= 5%', pct <= 5.0)


# ---------------------------------------------------------------- part 3

PIPELINE = '''stages:
  extract:
    cmd: {T} extract rp extract --strict corpus -o build/docs.jsonl
    deps: [corpus]
    outs: [build/docs.jsonl]
  chunk:
    cmd: {T} chunk rp chunk build/docs.jsonl -o build/chunks.jsonl --strategy markdown --size 800 --overlap 100 --unit chars
    deps: [build/docs.jsonl]
    outs: [build/chunks.jsonl]
  context:
    cmd: {T} context rp context build/chunks.jsonl -o build/contextual.jsonl --method headings
    deps: [build/chunks.jsonl]
    outs: [build/contextual.jsonl]
  embed:
    cmd: {T} embed rp embed build/contextual.jsonl -o build/vectors.rpv --model rp-lexical-v1 --dimensions {DIM}
    deps: [build/contextual.jsonl]
    outs: [build/vectors.rpv]
  index:
    cmd: {T} index rp index update build/index --vectors build/vectors.rpv --chunks build/contextual.jsonl --stats build/index-stats.json
    deps: [build/vectors.rpv, build/contextual.jsonl]
    outs:
    - build/index: {{persist: true}}
    - build/index-stats.json: {{cache: false}}
'''

TIMER = '''#!/bin/sh
# stage-timer NAME CMD...: runs CMD, appends "NAME START_NS END_NS" to $RP_BENCH_STAGE_TIMES
n=$1; shift
s=$(date +%s%N)
"$@"; r=$?
echo "$n $s $(date +%s%N)" >> "$RP_BENCH_STAGE_TIMES"
exit $r
'''

STAGES = ['extract', 'chunk', 'context', 'embed', 'index']


def write_doc(path, d, edit=0):
    r = random.Random(1000 + d)
    parts = ['# Document %d\n' % d]
    for s in range(10):
        para = ' '.join(r.choice(WORDS) for _ in range(100))
        if edit and s == 4:
            para += ' Edited line %d.' % edit
        parts.append('## Section %d of document %d\n\n%s.\n' % (s, d, para))
    with open(path, 'w') as f:
        f.write('\n'.join(parts))


def stage_times(path):
    t = {}
    try:
        for line in open(path):
            name, s, e = line.split()
            t[name] = t.get(name, 0) + (int(e) - int(s)) / 1e9
    except OSError:
        pass
    return t


def part_pipeline(a, rp, work, sec, notes):
    ws = os.path.join(work, 'ws')
    os.makedirs(os.path.join(ws, 'corpus'))
    timer = os.path.join(work, 'stage-timer')
    with open(timer, 'w') as f:
        f.write(TIMER)
    os.chmod(timer, 0o755)
    times_file = os.path.join(work, 'stage-times')
    env = dict(os.environ, RP_BENCH_STAGE_TIMES=times_file,
               PATH=os.path.dirname(rp) + os.pathsep + os.environ.get('PATH', ''))
    log('index-update: writing %d documents' % a.docs)
    for d in range(a.docs):
        write_doc(os.path.join(ws, 'corpus', 'doc%05d.md' % d), d)
    with open(os.path.join(ws, 'rp.yaml'), 'w') as f:
        f.write(PIPELINE.format(T=timer, DIM=a.dim))
    run([rp, 'init'], ws, env=env)
    log('index-update: first rp repro (untimed: embeds everything)')
    t0 = time.perf_counter()
    run([rp, 'repro'], ws, env=env)
    first = time.perf_counter() - t0
    first_stages = stage_times(times_file)
    ix = info(find_prog(rp, 'rp-index'), 'build/index', ws)

    runs = []
    doc = a.docs // 2
    for i in range(1, 4):
        write_doc(os.path.join(ws, 'corpus', 'doc%05d.md' % doc), doc, edit=i)
        os.unlink(times_file)
        cache_before = du(os.path.join(ws, '.rp', 'cache'))
        ix_before = dir_files(os.path.join(ws, 'build', 'index'))
        log('index-update: rp repro after edit %d' % i)
        r = run_once([rp, 'repro'], cwd=ws, env=env)
        st = json.load(open(os.path.join(ws, 'build', 'index-stats.json')))
        ix_after = dir_files(os.path.join(ws, 'build', 'index'))
        ix_new = sum(s for f, s in ix_after.items() if f not in ix_before or f == 'MANIFEST.json')
        runs.append({'time': r['time'], 'stages': stage_times(times_file), 'stats': st,
                     'store': du(os.path.join(ws, '.rp', 'cache')) - cache_before, 'ix_new': ix_new,
                     'rss': r['maxrss_kib']})
    runs.sort(key=lambda x: x['time'])
    med = runs[len(runs) // 2]
    total = med['time']
    rows = []
    accounted = 0.0
    for s in STAGES:
        t = med['stages'].get(s)
        if t is None:
            rows.append([s, 'not run', '', fmt_time(first_stages.get(s))])
            continue
        accounted += t
        rows.append([s, fmt_time(t), '%.0f%%' % (100 * t / total), fmt_time(first_stages.get(s))])
    rows.append(['rp itself (hashing, storing outputs, lock)', fmt_time(total - accounted),
                 '%.0f%%' % (100 * (total - accounted) / total),
                 fmt_time(first - sum(first_stages.values()))])
    rows.append(['**whole `rp repro`**', fmt_time(total), '100%', fmt_time(first)])
    st = med['stats']
    sec.add('### A one-document edit through `rp repro`\n')
    sec.add('%s documents (%s chunks, index %s), one line of one document edited; the index '
            'update reported added %d, updated %d, deleted %d, unchanged %d. Median of 3 runs '
            '(a different edit each); the last column is the first run, which embedded every '
            'chunk (the peer: the same pipeline from nothing).'
            % (format(a.docs, ','), format(ix['chunks'], ','), fmt_bytes(ix['bytes']),
               st['added'], st['updated'], st['deleted'], st['unchanged']))
    sec.add(table(['stage', 'time', 'share', 'first run'], rows))
    sec.add('Edit run / first run: %s. The store (.rp/cache) grew by %s in the median run, of '
            'which the index\'s new files are %s (%.3f%% of the index); the rest are the other '
            'stages\' outputs, which are single files rewritten whole.'
            % (fmt_ratio(total, first), fmt_bytes(med['store']), fmt_bytes(med['ix_new']),
               100.0 * med['ix_new'] / ix['bytes']))


def main():
    ap = common_args(__doc__.splitlines()[0])
    ap.add_argument('--chunks', type=int, default=int(os.environ.get('BENCH_INDEX_CHUNKS', 100000)))
    ap.add_argument('--docs', type=int, default=int(os.environ.get('BENCH_INDEX_DOCS', 10000)))
    ap.add_argument('--dim', type=int, default=384)
    ap.add_argument('--skip-pipeline', action='store_true', help='parts 1 and 2 only')
    a = ap.parse_args()
    rp = resolve_rp(a.rp)
    rpe, rpi = find_prog(rp, 'rp-embed'), find_prog(rp, 'rp-index')
    t0 = time.time()
    work = tempfile.mkdtemp(prefix='rp-bench-index-update.', dir=a.tmp)
    sec = Section('Index updates (rp-index update)')
    notes = []
    try:
        part_update(a, rpe, rpi, work, sec, notes)
        if not a.skip_pipeline:
            part_pipeline(a, rp, work, sec, notes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sec.add('This benchmark took %s.' % fmt_time(time.time() - t0))
    if notes:
        sec.add('Notes:\n\n' + ''.join('- %s\n' % x for x in notes))
    sec.finish(a)


if __name__ == '__main__':
    main()
