#!/usr/bin/env python3
"""`make compare`: Tricolor's hosted build against Go, Boehm GC, glibc
malloc, jemalloc and mimalloc on the same workloads (tools/compare/
workloads.c and workloads.go), natively, on this machine.

Every round runs each workload once per program, Tricolor first and then
each peer, so a pair runs back to back under the same load (A B A B ...).
The table gives per workload and program: the median time over the rounds
and its min-max, the median peak RSS, the largest stop-the-world pause of
any round (Tricolor: its log of stops; Go: GODEBUG=gctrace=1, the two STW
phases of each cycle; Boehm: the world-stopped interval of each
collection; the malloc peers stop nothing), and the peer's time over
Tricolor's, taken round by round (the pair ran together), then the median.
The mark workloads time one full collection of a 256 MiB graph, so only
the collected programs run them.

With --kernel KERNEL, a second block runs the in-kernel counterparts under
QEMU (the harness's bench command, -smp 2): labelled "kernel under TCG
(emulated)" and never divided by a host number.

    compare.py --dir build/compare [--rounds 2] [--only GLOB] [--kernel build/kernel.elf]
"""

import argparse
import fnmatch
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent

# (name, arguments): the same for every program.
WORKLOADS = [
    ('binary-trees 18, 1 thread', ['binary-trees', '18', '1']),
    ('binary-trees 18, 2 threads', ['binary-trees', '18', '2']),
    ('binary-trees 20, 1 thread', ['binary-trees', '20', '1']),
    ('binary-trees 20, 2 threads', ['binary-trees', '20', '2']),
    ('GCBench', ['gcbench']),
    ('churn 16 B', ['churn', '16', '1']),
    ('churn 64 B', ['churn', '64', '1']),
    ('churn 256 B', ['churn', '256', '1']),
    ('churn 64 B, 2 threads', ['churn', '64', '2']),
    ('ring K=1000', ['ring', '1000']),
    ('ring K=1000000', ['ring', '1000000']),
    ('mark 256 MiB, chain', ['mark', 'chain']),
    ('mark 256 MiB, random', ['mark', 'random']),
    ('mark 256 MiB, tree', ['mark', 'tree']),
]

PROGRAMS = ['tricolor', 'go', 'boehm', 'glibc', 'jemalloc', 'mimalloc']
# Workloads that time a collection: only the collected programs run them.
COLLECTED = ['tricolor', 'go', 'boehm']
TIMEOUT_S = 300


def programs_for(args: list[str]) -> list[str]:
    return COLLECTED if args[0] == 'mark' else PROGRAMS


# gc 12 @0.123s 4%: 0.011+1.2+0.020 ms clock, ...: STW 1 + mark + STW 2
GCTRACE = re.compile(r'^gc \d+ @[\d.]+s \d+%: ([\d.]+)\+[\d.]+\+([\d.]+) ms clock', re.M)

# The in-kernel counterparts (tests/kernel/bench_gc.c), run with -smp 2:
# (workload, benchmark, benchtime in ms: 1 runs a whole-program one once).
KERNEL_BENCHES = [
    ('binary-trees 18, 2 threads', 'BenchmarkBinaryTrees/depth=18', 1),
    ('GCBench', 'BenchmarkGCBench', 1),
    ('churn 64 B (typed; 1 in 1024 kept)', 'BenchmarkAllocWithGC/64B', 1000),
]


@dataclass
class Run:
    time_ns: int
    rss_kib: int
    pause_ns: int           # -1: the program does not stop the world


def run_once(prog: Path, args: list[str]) -> Run:
    """One run. The program reports its peak RSS itself (VmHWM): a forked
    child's rusage would count this Python process's memory too."""
    env = dict(os.environ)
    if prog.name == 'wl-go':
        env['GODEBUG'] = 'gctrace=1'
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        p = subprocess.Popen([str(prog), *args], stdout=out, stderr=err, env=env)
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            pid, status, _ = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                os.wait4(p.pid, 0)
                sys.exit(f'compare: {prog.name} {" ".join(args)} timed out')
            time.sleep(0.005)
        p.returncode = os.waitstatus_to_exitcode(status)    # reaped here
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if p.returncode != 0:
        sys.exit(f'compare: {prog.name} {" ".join(args)} failed '
                 f'(status {p.returncode}): {stderr.strip()[-800:]}')
    vals = dict(line.split() for line in stdout.splitlines() if len(line.split()) == 2)
    pause = int(vals['max_pause_ns'])
    if prog.name == 'wl-go':
        stws = [float(x) for m in GCTRACE.finditer(stderr) for x in m.groups()]
        pause = int(max(stws) * 1e6) if stws else 0
    return Run(int(vals['time_ns']), int(vals['peak_rss_kib']), pause)


def seconds(ns: float) -> str:
    if ns >= 1e9:
        return f'{ns / 1e9:.2f} s'
    return f'{ns / 1e6:.1f} ms'


def pause_text(ns: int) -> str:
    if ns < 0:
        return '-'
    return f'{ns / 1e3:.0f} us' if ns < 10_000_000 else f'{ns / 1e6:.0f} ms'


def versions() -> list[str]:
    def first_line(cmd: list[str]) -> str:
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return 'unknown'

    def dpkg(pkg: str) -> str:
        v = first_line(['dpkg-query', '-W', '-f=${Version}', pkg])
        return f'{pkg} {v}'

    cpu = 'unknown'
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    return [f'date: {time.strftime("%Y-%m-%d")}', f'cpu: {cpu} x {os.cpu_count()}',
            f'compiler: {first_line(["clang", "--version"])}', f'go: {first_line(["go", "version"])}',
            'peers: ' + ', '.join(dpkg(p) for p in ('libgc-dev', 'libjemalloc-dev', 'libmimalloc-dev', 'libc6'))]


def host_table(bindir: Path, rounds: int, only: str) -> None:
    progs = {name: bindir / f'wl-{name}' for name in PROGRAMS}
    for name, path in progs.items():
        if not path.exists():
            sys.exit(f'compare: {path} is missing (make compare builds it)')
    work = [(n, a) for n, a in WORKLOADS if fnmatch.fnmatch(n, only)]
    runs: dict[tuple[str, str], list[Run]] = {}
    for r in range(rounds):
        for wname, args in work:
            for pname in programs_for(args):   # Tricolor first: each pair back to back
                print(f'# round {r + 1}/{rounds}: {wname}: {pname}', file=sys.stderr, flush=True)
                runs.setdefault((wname, pname), []).append(run_once(progs[pname], args))
    print(f'{"workload":<28} {"program":<9} {"median":>9} {"min-max":>19} {"peak RSS":>9} '
          f'{"max STW":>8} {"x Tricolor":>10}')
    for wname, wargs in work:
        base = runs[(wname, 'tricolor')]
        for pname in programs_for(wargs):
            rs = runs[(wname, pname)]
            times = [x.time_ns for x in rs]
            ratio = statistics.median(x.time_ns / b.time_ns for x, b in zip(rs, base))
            pause = max(x.pause_ns for x in rs)
            print(f'{wname:<28} {pname:<9} {seconds(statistics.median(times)):>9} '
                  f'{seconds(min(times)) + " - " + seconds(max(times)):>19} '
                  f'{statistics.median(x.rss_kib for x in rs) / 1024:>6.0f} MB '
                  f'{pause_text(pause):>8} {"" if pname == "tricolor" else f"{ratio:.2f}":>10}', flush=True)
        print()


BENCH_LINE = re.compile(r'^(Benchmark\S+)-\d+\s+\d+\s+(.*)$')


def kernel_table(kernel: Path) -> None:
    print('kernel under TCG (emulated): in-kernel benchmarks (make bench BENCH_SMP=2); '
          'emulated time, not comparable with the numbers above')
    for wname, bench, ms in KERNEL_BENCHES:
        cmd = [sys.executable, str(REPO / 'tests/harness/run.py'), 'bench', '--kernel', str(kernel),
               '--smp', '2', '--memory', '512M', '--bench', bench, '--benchtime', str(ms)]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        line = next((m for m in (BENCH_LINE.match(x) for x in r.stdout.splitlines()) if m), None)
        if r.returncode != 0 or not line:
            print(f'{wname:<36} {bench}: failed (status {r.returncode})')
            continue
        print(f'{wname:<36} {line.group(1)}  {" ".join(line.group(2).split())}', flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--dir', type=Path, default=REPO / 'build/compare', help='the built programs')
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--only', default='*', help='workloads whose name matches this glob')
    ap.add_argument('--kernel', type=Path, help='also run the in-kernel counterparts under QEMU')
    args = ap.parse_args()
    if args.rounds < 1:
        sys.exit('compare: --rounds must be at least 1')
    for line in versions():
        print(f'# {line}')
    print(f'# {args.rounds} rounds; time = the workload alone; peak RSS = the whole process')
    host_table(args.dir, args.rounds, args.only)
    if args.kernel:
        kernel_table(args.kernel)
    return 0


if __name__ == '__main__':
    sys.exit(main())
