"""benchlib.py - shared helpers of the rp benchmarks (standard library only).

Every benchmark script (runner.py, parallel.py, hashing.py, ...) imports this
module. It gives:

  * timing of a command: wall time around fork/exec/wait4, the peak RSS the
    kernel reports for the child (ru_maxrss, KiB, as /usr/bin/time %M) and
    the bytes it read through read(2) (rchar of /proc/self/io, which the
    kernel adds to the parent when it reaps the child);
  * repeated timing with a prepare step and a median (hyperfine's model,
    without needing hyperfine);
  * generated pipelines: one stage table written as rp.yaml, a Makefile,
    build.ninja, a Snakefile and a dodo.py, so every runner gets the same graph;
  * markdown tables, targets (met / not met) and the machine / versions block
    that run-all.sh puts on top of RESULTS.md.

A benchmark prints its section (markdown) on stdout, writes it to --md FILE
when asked, and writes its targets as JSON lines to --targets FILE; run-all.sh
gathers them with `python3 benchlib.py report`.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


# ---------------------------------------------------------------- output

def log(*a):
    print('[bench]', *a, file=sys.stderr, flush=True)


def fmt_time(s):
    if s is None:
        return 'n/a'
    if s < 1e-3:
        return '%.0f µs' % (s * 1e6)
    if s < 1:
        return '%.1f ms' % (s * 1e3)
    if s < 100:
        return '%.2f s' % s
    return '%.0f s' % s


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return 'n/a'
    r = a / b
    if r >= 10:
        return '%.0fx' % r
    if r >= 0.1:
        return '%.2fx' % r
    return '%.3fx' % r


def fmt_kib(k):
    if k is None:
        return 'n/a'
    if k >= 1024:
        return '%.1f MiB' % (k / 1024)
    return '%d KiB' % k


def fmt_rate(bps):
    if bps is None:
        return 'n/a'
    return '%.2f GB/s' % (bps / 1e9) if bps >= 1e8 else '%.1f MB/s' % (bps / 1e6)


def cell_text(c):
    return str(c).replace('|', '\\|')


def table(header, rows):
    out = ['| ' + ' | '.join(header) + ' |',
           '| ' + ' | '.join('---' if i == 0 else '---:' for i in range(len(header))) + ' |']
    for r in rows:
        out.append('| ' + ' | '.join(cell_text(c) for c in r) + ' |')
    return '\n'.join(out) + '\n'


class Section:
    """The markdown section and the targets of one benchmark."""

    def __init__(self, title):
        self.parts = ['## ' + title + '\n']
        self.targets = []

    def add(self, text):
        self.parts.append(text if text.endswith('\n') else text + '\n')

    def target(self, name, value, goal, met):
        """met: True, False or None (could not be measured)."""
        self.targets.append({'name': name, 'value': value, 'goal': goal, 'met': met})

    def targets_table(self):
        rows = [(t['name'], t['value'], t['goal'], met_text(t['met'])) for t in self.targets]
        return table(('target', 'measured', 'goal', 'status'), rows)

    def finish(self, args):
        if self.targets:
            self.add('### Targets\n\n' + self.targets_table())
        text = '\n'.join(self.parts)
        print(text)
        if getattr(args, 'md', None):
            with open(args.md, 'w') as f:
                f.write(text)
        if getattr(args, 'targets', None):
            with open(args.targets, 'w') as f:
                for t in self.targets:
                    f.write(json.dumps(t) + '\n')


def met_text(met):
    return {True: 'met', False: '**not met**', None: 'not measured'}[met]


# ---------------------------------------------------------------- arguments

def common_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument('rp', nargs='?', default=None,
                    help='the rp binary (default: rp on PATH)')
    ap.add_argument('--md', help='also write the markdown section to this file')
    ap.add_argument('--targets', help='write the targets as JSON lines to this file')
    ap.add_argument('--tmp', default=os.environ.get('BENCH_TMP', '/tmp'),
                    help='where scratch workspaces go (default: $BENCH_TMP or /tmp)')
    return ap


def resolve_rp(path):
    if path is None:
        path = shutil.which('rp')
        if path is None:
            sys.exit('bench: no rp on PATH; pass the binary as first argument')
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        sys.exit('bench: %s is not executable' % path)
    return path


def have(prog):
    return shutil.which(prog) is not None


def ensure_peers(*packages):
    """Install missing Debian packages (best effort, through install-peers.sh)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'install-peers.sh')
    subprocess.run(['sh', script] + list(packages), stdout=sys.stderr)


# ---------------------------------------------------------------- timing

def read_rchar():
    try:
        with open('/proc/self/io') as f:
            for line in f:
                if line.startswith('rchar:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Failed(Exception):
    """A command failed; .reason is the most telling line of its stderr."""

    def __init__(self, msg, reason=''):
        super().__init__(msg)
        self.reason = reason or msg.splitlines()[0]


def failure_reason(stderr_tail, rc):
    lines = [x.strip() for x in stderr_tail.splitlines() if x.strip()]
    for pat in (r'\w+Error: \S', r'error: \S', r'Error'):
        for x in lines:
            if re.search(pat, x):
                return '%s (exit %d)' % (x[:200], rc)
    return '%s (exit %d)' % (lines[-1][:200] if lines else 'no message', rc)


def run_once(cmd, cwd=None, env=None, shell=False, check=True):
    """Run cmd once. Returns dict(time, maxrss_kib, rchar, rc)."""
    err = tempfile.TemporaryFile()
    r0 = read_rchar()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, shell=shell,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    _, status, ru = os.wait4(p.pid, 0)
    t = time.perf_counter() - t0
    r1 = read_rchar()
    p.returncode = os.waitstatus_to_exitcode(status)
    res = {'time': t, 'maxrss_kib': ru.ru_maxrss, 'rc': p.returncode,
           'rchar': (r1 - r0) if r0 is not None and r1 is not None else None}
    if check and p.returncode != 0:
        err.seek(0)
        tail = err.read()[-2000:].decode(errors='replace')
        err.close()
        raise Failed('%s failed (exit %d) in %s:\n%s' % (
            cmd if isinstance(cmd, str) else ' '.join(cmd), p.returncode, cwd, tail),
            failure_reason(tail, p.returncode))
    err.close()
    return res


def measure(cmd, cwd=None, prepare=None, runs=7, min_runs=3, budget=8.0,
            env=None, shell=False, check=True):
    """Median of up to `runs` runs, stopping early once `budget` seconds are
    spent (but not before `min_runs`, unless one run alone exceeds the budget).
    prepare(i) runs untimed before run i. Returns a dict with median, min,
    max, n, maxrss_kib (highest), rchar (median) and times."""
    times, rss, rch = [], [], []
    spent = 0.0
    for i in range(runs):
        if prepare:
            prepare(i)
        r = run_once(cmd, cwd=cwd, env=env, shell=shell, check=check)
        times.append(r['time'])
        rss.append(r['maxrss_kib'])
        if r['rchar'] is not None:
            rch.append(r['rchar'])
        spent += r['time']
        if spent > budget and (len(times) >= min_runs or r['time'] > budget):
            break
    return {'median': statistics.median(times), 'min': min(times), 'max': max(times),
            'n': len(times), 'maxrss_kib': max(rss),
            'rchar': statistics.median(rch) if rch else None, 'times': times}


# ---------------------------------------------------------------- pipelines

class Pipeline:
    """A stage graph: stages[name] = (cmd, deps, outs), plus the input files,
    the final outputs, and one input to touch or change (`leaf_in`) with the
    output of the stage that reads it (`leaf_out`)."""

    def __init__(self, name):
        self.name = name
        self.stages = {}
        self.order = []
        self.inputs = {}
        self.final = []
        self.leaf_in = None
        self.leaf_out = None

    def stage(self, name, cmd, deps, outs):
        self.stages[name] = (cmd, list(deps), list(outs))
        self.order.append(name)

    # --- writers: one per runner -------------------------------------------

    def write_inputs(self, d):
        made = set()
        for path, text in self.inputs.items():
            parent = os.path.dirname(path)
            if parent not in made:
                os.makedirs(os.path.join(d, parent), exist_ok=True)
                made.add(parent)
            with open(os.path.join(d, path), 'w') as f:
                f.write(text)

    def write_all(self, d):
        os.makedirs(d, exist_ok=True)
        self.write_inputs(d)
        self.write_rp(d)
        self.write_make(d)
        self.write_ninja(d)
        self.write_json(d)
        self.write_snakemake(d)
        self.write_doit(d)

    def write_rp(self, d):
        with open(os.path.join(d, 'rp.yaml'), 'w') as f:
            f.write('stages:\n')
            for n in self.order:
                cmd, deps, outs = self.stages[n]
                f.write('  %s:\n    cmd: %s\n    deps: [%s]\n    outs: [%s]\n' % (
                    n, yaml_quote(cmd), ', '.join(deps), ', '.join(outs)))

    def write_make(self, d):
        with open(os.path.join(d, 'Makefile'), 'w') as f:
            f.write('.SUFFIXES:\nMAKEFLAGS += -r\n.PHONY: all\nall: %s\n' % ' '.join(self.final))
            for n in self.order:
                cmd, deps, outs = self.stages[n]
                f.write('%s: %s\n\t%s\n' % (' '.join(outs), ' '.join(deps), cmd))

    def write_ninja(self, d):
        with open(os.path.join(d, 'build.ninja'), 'w') as f:
            f.write('rule run\n  command = $cmd\n')
            for n in self.order:
                cmd, deps, outs = self.stages[n]
                f.write('build %s: run %s\n  cmd = %s\n' % (
                    ' '.join(outs), ' '.join(deps), cmd.replace('$', '$$')))
            f.write('default %s\n' % ' '.join(self.final))

    def write_json(self, d):
        with open(os.path.join(d, 'stages.json'), 'w') as f:
            json.dump({'final': self.final,
                       'stages': [[n] + list(self.stages[n]) for n in self.order]}, f)

    def write_snakemake(self, d):
        # One wildcard rule over the stage table (idiomatic, and kinder to
        # snakemake's parser than thousands of explicit rules).
        with open(os.path.join(d, 'Snakefile'), 'w') as f:
            f.write('''import json
_P = json.load(open("stages.json"))
S = {o: (deps, cmd) for _n, cmd, deps, outs in _P["stages"] for o in outs}

rule all:
    input: _P["final"]

rule stage:
    input: lambda w: S[w.o][0]
    output: "{o}"
    wildcard_constraints: o="out/.*|all\\\\.txt"
    params: cmd=lambda w: S[w.o][1]
    shell: "{params.cmd}"
''')

    def write_doit(self, d):
        with open(os.path.join(d, 'dodo.py'), 'w') as f:
            f.write('''import json
_P = json.load(open("stages.json"))
DOIT_CONFIG = {"verbosity": 0}

def task_s():
    for name, cmd, deps, outs in _P["stages"]:
        yield {"name": name, "actions": [cmd], "file_dep": deps, "targets": outs}
''')


def yaml_quote(s):
    return "'" + s.replace("'", "''") + "'"


def chain(n):
    """n stages in a line; stage i reads its own input and stage i-1's output."""
    p = Pipeline('chain-%d' % n)
    for i in range(n):
        p.inputs['in/%d.txt' % i] = '%d\n' % i
        deps = ['in/%d.txt' % i] + (['out/%d.txt' % (i - 1)] if i else [])
        p.stage('s%d' % i, 'wc -c %s > out/%d.txt' % (' '.join(deps), i), deps, ['out/%d.txt' % i])
    p.final = ['out/%d.txt' % (n - 1)]
    p.leaf_in, p.leaf_out = 'in/%d.txt' % (n - 1), 'out/%d.txt' % (n - 1)
    return p


def fanout(n, cmd='cat in/{i}.txt > out/{i}.txt'):
    """n-1 independent stages, then one gather stage that reads all of them."""
    p = Pipeline('fanout-%d' % n)
    outs = []
    for i in range(n - 1):
        p.inputs['in/%d.txt' % i] = '%d\n' % i
        o = 'out/%d.txt' % i
        p.stage('s%d' % i, cmd.format(i=i), ['in/%d.txt' % i], [o])
        outs.append(o)
    p.stage('gather', 'cat out/*.txt > all.txt', outs, ['all.txt'])
    p.final = ['all.txt']
    p.leaf_in, p.leaf_out = 'in/0.txt', 'out/0.txt'
    return p


def many_inputs(nstages=100, nfiles=100):
    """nstages independent stages, each reading nfiles small inputs."""
    p = Pipeline('files-%dx%d' % (nstages, nfiles))
    for s in range(nstages):
        deps = []
        for j in range(nfiles):
            path = 'in/s%d/f%d.txt' % (s, j)
            p.inputs[path] = '%d %d\n' % (s, j)
            deps.append(path)
        p.stage('s%d' % s, 'cat in/s%d/*.txt > out/s%d.txt' % (s, s), deps, ['out/s%d.txt' % s])
        p.final.append('out/s%d.txt' % s)
    p.leaf_in, p.leaf_out = 'in/s0/f0.txt', 'out/s0.txt'
    return p


# --------------------------------------------------------------- runners

def runners(rp, jobs=1):
    """name -> (command, state files that make a workspace fresh)."""
    j = str(jobs)
    return {
        'rp': ([rp, 'repro', '-j', j], ['.rp', 'rp.lock']),
        'make': (['make', '-s', '-j' + j], []),
        'ninja': (['ninja', '-j', j], ['.ninja_log', '.ninja_deps']),
        'snakemake': (['snakemake', '--cores', j, '--quiet'], ['.snakemake']),
        'doit': (['doit', 'run', '-n', j] if jobs > 1 else ['doit', 'run'],
                 ['.doit.db', '.doit.db.db', '.doit.db.dat', '.doit.db.dir', '.doit.db.bak']),
    }


def clean(d, state, pipeline):
    """Make d a fresh workspace for one runner: no outputs, no runner state."""
    for s in state + ['out', 'all.txt']:
        p = os.path.join(d, s)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)
    os.makedirs(os.path.join(d, 'out'))


# ---------------------------------------------------------------- machine

def sh_out(cmd):
    try:
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60)
        return (r.stdout or r.stderr).strip()
    except Exception:
        return ''


def scratch_fs(path):
    """'ext4 on /dev/vda (mount options)' for the filesystem holding path."""
    best = ('', '', '', '')
    try:
        for line in open('/proc/mounts'):
            dev, mnt, fstype, opts = line.split()[:4]
            if (path == mnt or path.startswith(mnt.rstrip('/') + '/')) and len(mnt) >= len(best[1]):
                best = (dev, mnt, fstype, opts)
    except OSError:
        pass
    if not best[2]:
        return 'unknown'
    extra = ''
    if best[2] == 'ext4':
        try:
            jt = open('/sys/fs/ext4/%s/journal_task' % os.path.basename(best[0])).read().strip()
            extra = ', no journal' if jt == '<none>' else ', journal'
        except OSError:
            pass
    return '%s on %s%s (%s)' % (best[2], best[0], extra, best[3])


def machine_info(rp, load_start=None, tmp='/tmp'):
    cpu = ''
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    mem = ''
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemTotal'):
                mem = '%.1f GiB' % (int(line.split()[1]) / 1024 / 1024)
    osname = ''
    if os.path.exists('/etc/os-release'):
        for line in open('/etc/os-release'):
            if line.startswith('PRETTY_NAME='):
                osname = line.split('=', 1)[1].strip().strip('"')
    rows = [
        ('date', datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')),
        ('cores (nproc)', sh_out('nproc')),
        ('CPU', cpu),
        ('memory', mem),
        ('OS / kernel', '%s / %s' % (osname, platform.release())),
        ('scratch filesystem (%s)' % tmp, scratch_fs(os.path.realpath(tmp))),
        ('load average (1, 5, 15 min) at start / end',
         '%s / %s' % (load_start or 'n/a', ' '.join(open('/proc/loadavg').read().split()[:3]))),
    ]
    versions = [
        ('rp', sh_out('%s --version' % rp).splitlines()[0] if sh_out('%s --version' % rp) else ''),
        ('GNU make', sh_out('make --version').splitlines()[0] if have('make') else 'missing'),
        ('ninja', sh_out('ninja --version') if have('ninja') else 'missing'),
        ('snakemake', sh_out('snakemake --version') if have('snakemake') else 'missing'),
        ('doit', sh_out('doit --version').splitlines()[0] if have('doit') else 'missing'),
        ('OpenSSL', sh_out('openssl version') if have('openssl') else 'missing'),
        ('sha256sum', sh_out('sha256sum --version').splitlines()[0] if have('sha256sum') else 'missing'),
        ('python3', platform.python_version()),
    ]
    return (table(('machine', ''), rows) + '\n' + table(('tool', 'version'), versions))


def report(argv):
    ap = argparse.ArgumentParser(prog='benchlib.py report')
    ap.add_argument('--rp', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--elapsed', type=float)
    ap.add_argument('--load-start')
    ap.add_argument('--tmp', default=os.environ.get('BENCH_TMP', '/tmp'))
    ap.add_argument('dir', help='directory holding NN-name.md and NN-name.targets')
    a = ap.parse_args(argv)
    mds = sorted(glob.glob(os.path.join(a.dir, '*.md')))
    targets = []
    for md in mds:
        tf = md[:-3] + '.targets'
        if os.path.exists(tf):
            for line in open(tf):
                if line.strip():
                    targets.append(json.loads(line))
    out = ['# rp benchmark results\n',
           'Generated by `bench/run-all.sh` (`make bench`); do not edit by hand. '
           'Every figure is measured on this machine in the same run as its peers; '
           'a ratio is rp / peer (below 1 means rp is faster). '
           'See [README.md](README.md) for what each benchmark does, and its '
           '[profile notes](README.md#profile-notes) for what stands in the way of the '
           'targets that are not met.\n']
    if a.elapsed:
        out.append('Total run time: %s.\n' % fmt_time(a.elapsed))
    out.append('## Machine\n\n' + machine_info(a.rp, a.load_start, a.tmp))
    if targets:
        met = sum(1 for t in targets if t['met'] is True)
        out.append('## Targets (%d of %d met)\n\n' % (met, len(targets)) +
                   table(('target', 'measured', 'goal', 'status'),
                         [(t['name'], t['value'], t['goal'], met_text(t['met'])) for t in targets]))
    for md in mds:
        out.append(open(md).read())
    with open(a.out, 'w') as f:
        f.write('\n'.join(out))
    print('wrote', a.out)


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == 'report':
        report(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == 'machine':
        print(machine_info(resolve_rp(sys.argv[2] if len(sys.argv) > 2 else None)))
    else:
        sys.exit('usage: benchlib.py report --rp RP --out FILE DIR | machine [RP]')
