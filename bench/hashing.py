#!/usr/bin/env python3
"""hashing.py - rp's SHA-256 of a big file and of many small files.

    python3 bench/hashing.py [RP] [--big-mib 2048] [--files 100000]

1. A 2 GiB file of random bytes (made once with head -c from /dev/urandom,
   page cache warm) as the only dependency of a one-stage pipeline: rp's rate
   is size / (`rp status --rehash` - `rp status`), against
   `openssl speed -evp sha256 -bytes 16384 -seconds 3` (one core) and
   `sha256sum FILE`.
2. 100,000 files of 4 KiB in one directory dependency: `rp status --rehash`
   against `find DIR -type f -print0 | xargs -0 -P2 -n 1000 sha256sum`.
3. A second `rp status` over the unchanged files: its time, the bytes it
   read (rchar) and, when strace is there, how many of the files it opened.
   The state cache should make it read none of them.
Everything lives in one scratch directory, deleted at the end.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (Section, common_args, resolve_rp, ensure_peers, have, measure,  # noqa: E402
                      run_once, table, fmt_time, fmt_ratio, fmt_rate, log)


def openssl_rate(seconds=3):
    """Bytes per second of `openssl speed -evp sha256 -bytes 16384`, one core."""
    out = subprocess.run(['openssl', 'speed', '-evp', 'sha256', '-bytes', '16384',
                          '-seconds', str(seconds)], capture_output=True, text=True).stdout
    for line in out.splitlines()[::-1]:
        m = re.match(r'^\s*sha256\s+([0-9.]+)k\s*$', line)
        if m:
            return float(m.group(1)) * 1000
    return None


def write_pipeline(d, stage, cmd, dep, out):
    with open(os.path.join(d, 'rp.yaml'), 'w') as f:
        f.write('stages:\n  %s:\n    cmd: %s\n    deps: [%s]\n    outs: [%s]\n' % (stage, cmd, dep, out))


def strace_opens(rp, d, under):
    """How many files below `under` one `rp status` opens, and how many read
    calls it makes; None without strace."""
    if not have('strace'):
        return None, None
    log_path = os.path.join(d, '.strace.log')
    subprocess.run(['strace', '-f', '-e', 'trace=openat,open,read,pread64', '-o', log_path, rp, 'status'],
                   cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    opens = reads = 0
    with open(log_path) as f:
        for line in f:
            if 'open' in line and ('"%s/' % under) in line:
                opens += 1
            if ' read(' in line or ' pread64(' in line or line.startswith('read(') or line.startswith('pread64('):
                reads += 1
    os.unlink(log_path)
    return opens, reads


def main():
    ap = common_args(__doc__.splitlines()[0])
    ap.add_argument('--big-mib', type=int, default=int(os.environ.get('BENCH_BIG_MIB', 2048)))
    ap.add_argument('--files', type=int, default=int(os.environ.get('BENCH_FILES', 100000)))
    ap.add_argument('--file-kib', type=int, default=4)
    a = ap.parse_args()
    rp = resolve_rp(a.rp)
    ensure_peers('openssl', 'sha256sum', 'strace')
    t0 = time.time()
    work = tempfile.mkdtemp(prefix='rp-bench-hashing.', dir=a.tmp)
    sec = Section('Hashing')
    r = {}
    try:
        # ---- one big file -------------------------------------------------
        d = os.path.join(work, 'big')
        os.makedirs(d)
        big = os.path.join(d, 'big.bin')
        size = a.big_mib * 1024 * 1024
        log('making %d MiB of random bytes' % a.big_mib)
        subprocess.run('head -c %dM /dev/urandom > big.bin' % a.big_mib, shell=True, cwd=d, check=True)
        write_pipeline(d, 'size', "'wc -c < big.bin > size.txt'", 'big.bin', 'size.txt')
        run_once([rp, 'repro', '-j', '1'], cwd=d)
        subprocess.run(['cat', big], stdout=subprocess.DEVNULL)  # page cache warm
        log('rp status / rp status --rehash on the big file')
        r['big_noop'] = measure([rp, 'status'], d, runs=5)
        # openssl right before and right after rp, so that both see the same
        # machine (these VMs are shared); the mean of the two.
        log('openssl speed, rp status --rehash, openssl speed, sha256sum')
        o1 = openssl_rate(3) if have('openssl') else None
        r['big_rehash'] = measure([rp, 'status', '--rehash'], d, runs=5, min_runs=5, budget=10)
        o2 = openssl_rate(3) if have('openssl') else None
        r['openssl'] = (o1 + o2) / 2 if o1 and o2 else (o1 or o2)
        r['sha256sum_big'] = measure(['sha256sum', big], d, runs=3, min_runs=3, budget=5)
        os.unlink(big)
        rp_t = r['big_rehash']['median'] - r['big_noop']['median']
        rp_rate = size / rp_t
        sums_rate = size / r['sha256sum_big']['median']
        rows = [
            ['rp status --rehash − rp status (%s)' % fmt_time(r['big_noop']['median']),
             fmt_time(rp_t), fmt_rate(rp_rate), ''],
            ['openssl speed -evp sha256 -bytes 16384 (one core)',
             fmt_time(size / r['openssl']) if r['openssl'] else 'n/a', fmt_rate(r['openssl']),
             '%.0f%%' % (100 * rp_rate / r['openssl']) if r['openssl'] else 'n/a'],
            ['sha256sum', fmt_time(r['sha256sum_big']['median']), fmt_rate(sums_rate),
             '%.0f%%' % (100 * rp_rate / sums_rate)],
        ]
        sec.add('### One %d MiB file (page cache warm)\n\n' % a.big_mib +
                table(['what', 'time', 'rate', 'rp rate as % of it'], rows))
        sec.target('big file: rp rate / OpenSSL one-core rate',
                   '%.0f%% (%s vs %s)' % (100 * rp_rate / r['openssl'], fmt_rate(rp_rate),
                                          fmt_rate(r['openssl'])) if r['openssl'] else 'n/a',
                   '≥ 90%', (rp_rate >= 0.9 * r['openssl']) if r['openssl'] else None)
        shutil.rmtree(d)

        # ---- many small files ----------------------------------------------
        d = os.path.join(work, 'many')
        fdir = os.path.join(d, 'files')
        os.makedirs(fdir)
        nbytes = a.file_kib * 1024
        log('making %d files of %d KiB' % (a.files, a.file_kib))
        with open('/dev/urandom', 'rb') as rnd:
            for i in range(a.files):
                with open(os.path.join(fdir, 'f%06d.bin' % i), 'wb') as f:
                    f.write(rnd.read(nbytes))
        total = a.files * nbytes
        write_pipeline(d, 'count', "'ls files | wc -l > count.txt'", 'files', 'count.txt')
        log('first rp repro over the files')
        r['many_first'] = run_once([rp, 'repro', '-j', '2'], cwd=d)
        log('rp status --rehash over the files')
        r['many_rehash'] = measure([rp, 'status', '--rehash'], d, runs=3, min_runs=3, budget=10)
        log('find | xargs -P2 sha256sum')
        peer = 'find files -type f -print0 | xargs -0 -P2 -n 1000 sha256sum > /dev/null'
        r['many_peer'] = measure(peer, d, shell=True, runs=3, min_runs=3, budget=10)
        log('second rp status over the unchanged files')
        r['many_status'] = measure([rp, 'status'], d, runs=5, min_runs=3, budget=5)
        opens, reads = strace_opens(rp, d, 'files')
        db = os.path.join(d, '.rp', 'state.db')
        dbsize = os.path.getsize(db) if os.path.exists(db) else 0
        rt, pt = r['many_rehash']['median'], r['many_peer']['median']
        st = r['many_status']
        rows = [
            ['rp repro -j 2 (first run: hash, save the files to the store as '
             'cache.save_sources asks, run the stage)',
             fmt_time(r['many_first']['time']), '', ''],
            ['rp status --rehash', fmt_time(rt), fmt_rate(total / rt), fmt_ratio(rt, pt)],
            ['`%s`' % peer.replace(' > /dev/null', ''), fmt_time(pt), fmt_rate(total / pt), ''],
            ['rp status (state cache)', fmt_time(st['median']), '', fmt_ratio(st['median'], pt)],
        ]
        sec.add('### %d files of %d KiB in one directory dependency\n\n' % (a.files, a.file_kib) +
                table(['what', 'time', 'rate', 'rp / find+xargs'], rows))
        rows = [['bytes read (rchar), rp status --rehash', '%.1f MiB' % (r['many_rehash']['rchar'] / 2**20)],
                ['bytes read (rchar), rp status', '%.1f MiB' % (st['rchar'] / 2**20)],
                ['size of the files / of .rp/state.db', '%.1f MiB / %.1f MiB' % (total / 2**20, dbsize / 2**20)]]
        if opens is not None:
            rows.append(['files below files/ opened by rp status (strace)', str(opens)])
            rows.append(['read/pread64 calls of rp status (strace)', str(reads)])
        sec.add('Does the second status read the files? rchar counts every byte read through '
                'read(2), page cache included (the kernel adds a reaped child\'s count to its parent).\n\n'
                + table(['measure', 'value'], rows))
        sec.target('%d files: rp status --rehash / find + xargs -P2 sha256sum' % a.files, fmt_ratio(rt, pt),
                   '≤ 1.2x', rt <= 1.2 * pt)
        if opens is not None:
            no_read = opens == 0
            value = '%d files opened, %.1f MiB read, %s' % (opens, st['rchar'] / 2**20, fmt_time(st['median']))
        else:
            no_read = st['rchar'] < 0.01 * total
            value = '%.1f MiB read of %.1f MiB, %s' % (st['rchar'] / 2**20, total / 2**20, fmt_time(st['median']))
        sec.target('second status over unchanged files reads none of them', value, 'no reads', no_read)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sec.add('This benchmark took %s.' % fmt_time(time.time() - t0))
    sec.finish(a)


if __name__ == '__main__':
    main()
