"""Tricolor test harness: boot the kernel in QEMU and judge its KTAP output.

Subcommands:
  boot       boot QEMU once, parse COM1 (see ktap.py), print failures and a
             verdict; with --expect-fail, check that a deliberately broken
             boot is caught (a harness self-check)
  bench      boot with bench=GLOB benchtime=MS; print only the Go-format
             benchmark lines (see gobench.py) on stdout, for benchstat
  hosttests  run the harness's own unit tests (test_*.py next to this file)
  hosted     run a hosted test program (heap or collector; KTAP on stdout)
  fuzz       run the hosted heap fuzzer for a fixed number of inputs
  hostedbench  run the hosted benchmarks briefly: Go format, nothing else
  summary    combine the per-step result files into one report
  all        the whole `make test` sequence: STEPS below, then summary

Every step writes LOGDIR/NAME.json ({name, passed, failed, skipped, ok,
verdict, failures}), which `summary` reads. Relative paths are relative to
the repository root, so this works from any directory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import unittest
from dataclasses import dataclass, field
from pathlib import Path

import gobench
import hosted
import ktap

HARNESS_DIR = Path(__file__).resolve().parent
REPO = HARNESS_DIR.parent.parent
DEFAULT_LOGDIR = 'build/test-logs'
EXIT_PASS, EXIT_FAIL = 33, 35       # isa-debug-exit: (value << 1) | 1

# The `make test` sequence: (name, arguments of a subcommand of this script).
# `all` adds --name and --logdir itself.
KERNEL = 'build/kernel.elf'
HOSTED_TEST = 'build/hosted/asan/heap_test'
HOSTED_FUZZ = 'build/hosted/fuzz/fuzz_heap'
HOSTED_BENCH = 'build/hosted/bench/bench_heap'
HOSTED_GC_ASAN = 'build/hosted/asan/gc_test'
HOSTED_GC_TSAN = 'build/hosted/tsan/gc_test'
HOSTED_GC_BENCH = 'build/hosted/bench/gc_bench'
STEPS = [
    ('host', ['hosttests']),
    # The heap built for Linux user space (tests/hosted/, make hosted).
    ('hosted-asan', ['hosted', '--binary', HOSTED_TEST, '--cpus', '4']),
    ('hosted-asan-cpus1', ['hosted', '--binary', HOSTED_TEST, '--cpus', '1']),
    # The collector's tests on the same sources, every cycle checkmarked:
    # under ASan + UBSan, and under ThreadSanitizer (a race report fails).
    ('hosted-gc-asan', ['hosted', '--binary', HOSTED_GC_ASAN, '--cpus', '4',
                        '--cmdline', 'gccheckmark=1']),
    ('hosted-gc-tsan', ['hosted', '--binary', HOSTED_GC_TSAN, '--cpus', '2',
                        '--cmdline', 'gccheckmark=1']),
    ('hosted-gc-tsan-cpus4', ['hosted', '--binary', HOSTED_GC_TSAN,
                              '--cpus', '4', '--cmdline', 'gccheckmark=1']),
    ('hosted-fuzz', ['fuzz', '--binary', HOSTED_FUZZ, '--runs', '4000']),
    ('hosted-bench', ['hostedbench', '--binary', HOSTED_BENCH]),
    # One collector benchmark, once (all of them take a minute).
    ('hosted-gc-bench', ['hostedbench', '--binary', HOSTED_GC_BENCH,
                         '--bench', 'BenchmarkGCBench']),
    ('smp1', ['boot', '--kernel', KERNEL, '--smp', '1', '--append', 'test']),
    ('smp4-grub', ['boot', '--iso', 'build/tricolor-test.iso', '--smp', '4']),
    ('smp2', ['boot', '--kernel', KERNEL, '--smp', '2', '--append', 'test']),
    ('smp8', ['boot', '--kernel', KERNEL, '--smp', '8', '--append', 'test']),
    # More CPUs than the kernel supports: 64 come up, the rest are logged.
    # The collector's tests with its trace on (every gctrace line in Go's
    # format) and gccheckmark=1 (every cycle verified, not only the
    # mutation test's); and with every cycle fully stopped.
    ('gctrace-smp2', ['boot', '--kernel', KERNEL, '--smp', '2', '--append',
                      'test=gc.* gctrace=1 gccheckmark=1']),
    ('gcstw-smp2', ['boot', '--kernel', KERNEL, '--smp', '2', '--append',
                    'test=gc.* gcstoptheworld=1']),
    ('smp70', ['boot', '--kernel', KERNEL, '--smp', '70', '--append',
               'test=smp.all_cpus_online']),
    ('mem32M', ['boot', '--kernel', KERNEL, '--smp', '1', '--memory', '32M',
                '--append', 'test']),
    ('mem4G-smp4', ['boot', '--kernel', KERNEL, '--smp', '4', '--memory', '4G',
                    '--append', 'test']),
    ('selfcheck-mem4M', [
        'boot', '--kernel', KERNEL, '--smp', '1', '--memory', '4M',
        '--append', 'test',
        '--expect-fail', r'not enough memory: need \d+ KiB of usable RAM, '
                         r'have \d+ KiB']),
    ('selfcheck-fail', [
        'boot', '--kernel', KERNEL, '--smp', '1',
        '--append', 'test=ktest.* testinject=fail:ktest.glob',
        '--expect-fail', r'FAIL ktest\.glob: .*forced failure']),
    ('selfcheck-panic', [
        'boot', '--kernel', KERNEL, '--smp', '1',
        '--append', 'test=ktest.* testinject=panic:ktest.glob',
        '--expect-fail', r'FAIL ktest\.glob: panic']),
    ('selfcheck-pagefault', [
        'boot', '--kernel', KERNEL, '--smp', '1',
        '--append', 'test=ktest.* testinject=pagefault:ktest.glob',
        '--expect-fail', r'FAIL ktest\.glob: panic: unhandled page fault at 0x00007f0000000000']),
    ('selfcheck-timeout', [
        'boot', '--kernel', KERNEL, '--smp', '1',
        '--append', 'test=ktest.* testinject=hang:ktest.glob testtimeout=500',
        '--expect-fail', r'FAIL ktest\.glob: timeout after 500 ms']),
    ('selfcheck-triple', [
        'boot', '--kernel', KERNEL, '--smp', '1',
        '--append', 'test=ktest.* testinject=triple:ktest.glob',
        '--expect-fail', 'triple fault']),
]


def resolve(path: str | Path) -> Path:
    return REPO / path          # an absolute path stays as it is


def shown(path: Path) -> str:
    """A path as printed: relative to the repository root when inside it."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def counts(passed: int, failed: int, skipped: int) -> str:
    text = f'{passed} passed, {failed} failed'
    return text + (f', {skipped} skipped' if skipped else '')


def write_result(logdir: Path, name: str, **fields) -> None:
    data = {'name': name, 'passed': 0, 'failed': 0, 'skipped': 0,
            'ok': False, 'verdict': '', 'failures': []}
    data.update(fields)
    (logdir / f'{name}.json').write_text(json.dumps(data, indent=2) + '\n')


# ---------------------------------------------------------------- judging

@dataclass
class Verdict:
    ok: bool
    verdict: str                # 'pass', or why the boot failed
    report: list[str] = field(default_factory=list)    # lines to print
    failures: list[str] = field(default_factory=list)  # headlines only
    suites: list[str] = field(default_factory=list)    # one line per suite
    passed: int = 0
    failed: int = 0
    skipped: int = 0


def exit_reason(status: int | None, timeout_s: float | None) -> str:
    if status is None:
        return f'timed out after {timeout_s:g} s'
    if status == 0:
        return ('QEMU exited with status 0: triple fault '
                '(the CPU reset with -no-reboot)')
    if status == EXIT_FAIL:
        return f'QEMU exited with status {EXIT_FAIL}: kernel reported failure'
    if status < 0:
        return f'QEMU was killed by signal {-status}'
    if status == 1:
        return 'QEMU exited with status 1 (a QEMU error: see its output)'
    return f'QEMU exited with status {status}'


def judge(status: int | None, log_text: str | bytes, *,
          timeout_s: float | None = None, log_path: str = '(no log)',
          start_error: str | None = None) -> Verdict:
    """Judge one boot from QEMU's exit status (None: it timed out) and the
    COM1 log. A boot passes only if QEMU exited 33, a KTAP header was seen,
    every plan was met, no test failed and at least one test passed."""
    res = ktap.parse(log_text)
    v = Verdict(False, '', passed=res.passed, failed=res.failed,
                skipped=res.skipped)

    width = max((len(su.name) for su in res.suites), default=0)
    for su in res.suites:
        inner = [t for t in res.tests if t.suite == su.name]
        c = [sum(t.status == st for t in inner) for st in ('ok', 'not ok')]
        v.suites.append(f'  {su.status:<6}  {su.name:<{width}}  ' + counts(
            c[0], c[1], sum(t.status in ('skip', 'todo') for t in inner)))

    def problem(line: str, details=()) -> None:
        v.report.append(line)
        v.report.extend(details)
        v.failures.append(line)

    for line, details in ktap.problems(res):
        problem(line, details)
    if res.panic_text:
        v.report.append('panic text:')
        v.report.extend('    ' + line for line in res.panic_text)

    if start_error:
        reasons = [start_error]
    elif status != EXIT_PASS:
        reasons = [exit_reason(status, timeout_s)]
        if not res.header_seen:
            reasons.append('no KTAP output')
    elif not res.header_seen:
        reasons = [f'no KTAP output (though QEMU exited with status '
                   f'{EXIT_PASS})']
    else:
        reasons = []
        if v.failures:
            reasons.append(f'QEMU exited with status {EXIT_PASS} (kernel '
                           'reported success) but the KTAP output shows '
                           'failures')
        elif res.passed == 0:
            reasons.append('no tests ran')
        elif res.panic_text:
            reasons.append('the kernel printed panic text')

    if not reasons:
        v.ok, v.verdict = True, 'pass'
        return v
    v.verdict = '; '.join(reasons)
    last = res.last_line[:200]
    for line in (f'verdict: {v.verdict}',
                 f'  last kernel output: "{last}"' if last
                 else '  last kernel output: (none)',
                 f'  log: {log_path}'):
        problem(line)
    v.failed = max(v.failed, 1)     # a failed boot never reports "0 failed"
    return v


_SIZE = re.compile(r'(\d+)([KMGT]?)B?$')
_MANAGED = re.compile(r'mm: frames: (\d+) managed')


def memory_bytes(size: str) -> int:
    """QEMU's -m value in bytes ("512M", "4G"; a bare number is MiB)."""
    m = _SIZE.match(size.strip().upper())
    if not m:
        raise ValueError(f'bad memory size {size!r}')
    shift = {'': 20, 'K': 10, 'M': 20, 'G': 30, 'T': 40}[m.group(2)]
    return int(m.group(1)) << shift


def ram_problem(log_text: str | bytes, memory: str) -> str | None:
    """Checks the frame total the kernel logged against the RAM QEMU gave:
    it may be short by what firmware, the first MiB, the kernel and its
    boot-time tables take (at most 1/32 of RAM plus 4 MiB), never above."""
    if isinstance(log_text, bytes):
        log_text = log_text.decode('utf-8', errors='replace')
    m = _MANAGED.search(log_text)
    if not m:
        return None         # the kernel stopped before mm_init: judged already
    managed, ram = int(m.group(1)) << 12, memory_bytes(memory)
    if managed > ram or managed < ram - ram // 32 - (4 << 20):
        return (f'frame totals: the kernel manages {managed >> 10} KiB but '
                f'QEMU gave {ram >> 10} KiB (-m {memory})')
    return None


_CPUS_ONLINE = re.compile(r'smp: (\d+) CPUs? online')


# MAX_CPUS in mm/mm.h: more CPUs than this are logged and left offline.
KERNEL_MAX_CPUS = 64


def cpus_problem(log_text: str | bytes, smp: int) -> str | None:
    """Checks the CPU count the kernel logged at boot ("smp: N CPUs
    online (...)", once smp_init is done) against QEMU's -smp. A missing
    line is a problem too: the kernel stopped before bringing up its CPUs,
    or no longer says how many it brought up."""
    if isinstance(log_text, bytes):
        log_text = log_text.decode('utf-8', errors='replace')
    m = _CPUS_ONLINE.search(log_text)
    if not m:
        return (f'no "smp: N CPUs online" line: the kernel never said how '
                f'many CPUs it brought up (QEMU was given {smp})')
    n = int(m.group(1))
    want = min(smp, KERNEL_MAX_CPUS)
    if n != want:
        limit = (f' (the kernel supports {KERNEL_MAX_CPUS})'
                 if smp > KERNEL_MAX_CPUS else '')
        return (f'kernel brought up {n} CPU{"" if n == 1 else "s"}, QEMU '
                f'was given {smp}{limit}')
    return None


# One gctrace=1 line, exactly Go's format (CONVENTIONS.md): millisecond
# numbers are whole, or have at most three decimals.
_MS = r'(?:\d+|\d+\.\d{1,3})'
GCTRACE_LINE = re.compile(
    rf'^gc \d+ @\d+\.\d{{3}}s \d+%: {_MS}\+{_MS}\+{_MS} ms clock, '
    rf'{_MS}\+{_MS}/{_MS}/{_MS}\+{_MS} ms cpu, \d+->\d+->\d+ MB, \d+ MB goal, '
    rf'\d+ MB stacks, \d+ MB globals, \d+ P( \(forced\))?$')


def gctrace_problem(log_text: str | bytes) -> str | None:
    """With gctrace=1 the kernel prints one line per cycle; every line
    starting with "gc <digit>" must be in Go's format, and there must be
    at least one."""
    if isinstance(log_text, bytes):
        log_text = log_text.decode('utf-8', errors='replace')
    lines = [ln for ln in log_text.splitlines() if re.match(r'gc \d', ln)]
    if not lines:
        return 'gctrace=1 but no gctrace line was printed'
    for ln in lines:
        if not GCTRACE_LINE.match(ln):
            return f'gctrace line not in Go\'s format: {ln!r}'
    return None


def check_selfcheck(v: Verdict, text: str, regex: str) -> tuple[bool, str]:
    """A self-check passes iff the boot failed and REGEX matches TEXT (what
    the harness printed about it)."""
    if v.ok:
        return False, 'the boot passed, but it was meant to fail'
    if not re.search(regex, text, re.MULTILINE):
        return False, (f'the boot failed, but /{regex}/ does not match the '
                       'harness output above')
    return True, 'boot failed as expected'


# ---------------------------------------------------------------- boot

def accel_args() -> list[str]:
    accel = os.environ.get('ACCEL') or 'tcg'
    return ['-accel', 'tcg,thread=multi' if accel == 'tcg' else accel]


def qemu_command(args, com1: Path, com2: Path) -> list[str]:
    cmd = [os.environ.get('QEMU') or 'qemu-system-x86_64',
           '-machine', 'q35', *accel_args(), '-smp', str(args.smp),
           '-m', args.memory, '-no-reboot', '-display', 'none',
           '-monitor', 'none', '-serial', f'file:{shown(com1)}',
           '-serial', f'file:{shown(com2)}',
           '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']
    if args.iso:
        return cmd + ['-cdrom', shown(resolve(args.iso))]
    append = 'test' if args.append is None else args.append
    return cmd + ['-kernel', shown(resolve(args.kernel)), '-append', append]


def run_qemu(cmd: list[str], timeout_s: float) -> tuple[int | None, str]:
    """Run QEMU from the repo root; return (exit status, or None if it was
    killed on timeout; what it printed)."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors='replace',
                            start_new_session=True)

    def kill() -> str:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)   # QEMU's own group only
        return proc.communicate()[0]

    try:
        out, _ = proc.communicate(timeout=timeout_s)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        return None, kill()
    except BaseException:       # e.g. ^C: never leave QEMU behind
        kill()
        raise


def log_files(logdir_arg: str, name: str) -> tuple[Path, Path, Path]:
    """The COM1 log, COM2 file and result file of one boot, stale copies
    removed."""
    logdir = resolve(logdir_arg)
    logdir.mkdir(parents=True, exist_ok=True)
    files = (logdir / f'{name}.com1.log', logdir / f'{name}.com2.bin',
             logdir / f'{name}.json')
    for stale in files:
        stale.unlink(missing_ok=True)
    return files


def boot_image(cmd: list[str], image: Path, timeout_s: float,
               out=None) -> tuple[int | None, str | None]:
    """Runs QEMU on image; returns (exit status or None on timeout, why
    QEMU could not run or None). QEMU's last lines go to out (stdout by
    default, looked up at call time so redirections apply)."""
    if not image.is_file():
        return None, f'boot image not found: {shown(image)}'
    try:
        status, output = run_qemu(cmd, timeout_s)
    except OSError as e:
        return None, f'could not start QEMU: {e}'
    for line in output.splitlines()[-20:]:
        print('# qemu says: ' + line, file=out or sys.stdout)
    return status, None


def cmd_boot(args) -> int:
    name = args.name or Path(args.kernel or args.iso).stem
    com1, com2, _ = log_files(args.logdir, name)
    logdir = com1.parent

    cmd = qemu_command(args, com1, com2)
    print('# qemu: ' + shlex.join(cmd), flush=True)
    if args.iso and args.append is not None:
        print("# note: --append is ignored with --iso (the command line is "
              "in the ISO's grub.cfg)")
    status, start_error = boot_image(cmd, resolve(args.kernel or args.iso),
                                     args.timeout)
    log = com1.read_bytes() if com1.is_file() else b''
    v = judge(status, log, timeout_s=args.timeout, log_path=shown(com1),
              start_error=start_error)
    problems = [ram_problem(log, args.memory)]
    if start_error is None:     # QEMU ran, so the kernel had its chance
        problems.append(cpus_problem(log, args.smp))
        if args.append and re.search(r'(^| )gctrace=1( |$)', args.append):
            problems.append(gctrace_problem(log))
    for problem in filter(None, problems):
        v.ok = False
        if v.verdict == 'pass':
            v.verdict = problem
        v.report.append(problem)
        v.failures.append(problem)
        v.failed = max(v.failed, 1)

    own_output = v.suites + v.report + [f'{name}: ' +
                             counts(v.passed, v.failed, v.skipped)]
    print('\n'.join(own_output), flush=True)
    result = dict(passed=v.passed, failed=v.failed, skipped=v.skipped,
                  ok=v.ok, verdict=v.verdict, failures=v.failures,
                  log=shown(com1), command=shlex.join(cmd))
    if args.expect_fail:
        ok, why = check_selfcheck(v, '\n'.join(own_output), args.expect_fail)
        line = (f'harness self-check ok ({why})' if ok else
                f'harness self-check FAILED: {why}')
        print(f'{name}: {line}')
        result.update(passed=int(ok), failed=int(not ok), skipped=0, ok=ok,
                      verdict=why, failures=[] if ok else [line] + v.failures,
                      boot_verdict=v.verdict)
    write_result(logdir, name, **result)
    return 0 if result['ok'] else 1


def cmd_bench(args) -> int:
    """Boot with `bench=GLOB benchtime=MS`. Only the Go-format lines go to
    stdout (ready for benchstat); everything else goes to stderr. Passes
    iff QEMU exits 33 and the kernel printed PASS."""
    if not args.bench or re.search(r'\s', args.bench):
        sys.exit(f'--bench: need a glob without spaces, got {args.bench!r}')
    if not 1 <= args.benchtime <= 600000:
        sys.exit(f'--benchtime: need 1..600000 ms, got {args.benchtime}')
    com1, com2, _ = log_files(args.logdir, args.name)
    append = f'bench={args.bench} benchtime={args.benchtime}'
    if args.append:
        append += ' ' + args.append
    cmd = qemu_command(argparse.Namespace(
        smp=args.smp, memory=args.memory, iso=None, kernel=args.kernel,
        append=append), com1, com2)
    err = sys.stderr
    print('# qemu: ' + shlex.join(cmd), file=err, flush=True)
    status, reason = boot_image(cmd, resolve(args.kernel), args.timeout, err)
    log = com1.read_bytes() if com1.is_file() else b''
    res = gobench.extract(log)
    if res.lines:
        print('\n'.join(res.lines), flush=True)
    if reason is None and status != EXIT_PASS:
        reason = exit_reason(status, args.timeout)
    if reason is None:
        reason = gobench.problem(res)
    if reason is None:
        if res.results == 0 and not res.skipped:
            print(f'# note: no benchmark matches {args.bench}', file=err)
        if res.skipped:
            print(f'# note: skipped {", ".join(res.skipped)}', file=err)
        return 0
    print(f'bench: FAIL: {reason}', file=err)
    panic_text = ktap.parse(log).panic_text
    if panic_text:
        print('panic text:', file=err)
        print('\n'.join('    ' + line for line in panic_text), file=err)
    print(f'  last kernel output: "{res.last_line[:200]}"', file=err)
    print(f'  log: {shown(com1)}', file=err, flush=True)
    return 1


# ---------------------------------------------------------------- others

def cmd_hosttests(args) -> int:
    logdir = resolve(args.logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    tests = unittest.defaultTestLoader.discover(
        str(HARNESS_DIR), pattern='test_*.py', top_level_dir=str(HARNESS_DIR))
    r = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(tests)
    failed = ([t.id() for t, _ in r.failures + r.errors]
              + [t.id() for t in r.unexpectedSuccesses])
    skipped = len(r.skipped)
    passed = max(r.testsRun - len(failed) - skipped, 0)
    ok = r.wasSuccessful() and r.testsRun > 0
    print(f'{args.name}: ' + counts(passed, len(failed), skipped), flush=True)
    write_result(logdir, args.name, passed=passed, failed=len(failed),
                 skipped=skipped, ok=ok, verdict='pass' if ok else 'failed',
                 failures=[f'FAIL {t}' for t in failed]
                 or ([] if ok else ['no host tests ran']))
    return 0 if ok else 1


def finish_hosted(args, run: hosted.Run, j: hosted.Judged,
                  cmd: list[str]) -> int:
    """Keeps the program's output as LOGDIR/NAME.log, prints the verdict
    and writes the step's result."""
    logdir = resolve(args.logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    log = logdir / f'{args.name}.log'
    log.write_text(run.out + ('\n--- stderr ---\n' + run.err if run.err
                              else ''))
    for line in j.report:
        print(line)
    if not j.ok:
        print(f'  log: {shown(log)}')
    print(f'{args.name}: {j.verdict}')
    print(f'{args.name}: ' + counts(j.passed, j.failed, j.skipped),
          flush=True)
    write_result(logdir, args.name, passed=j.passed, failed=j.failed,
                 skipped=j.skipped, ok=j.ok, verdict=j.verdict,
                 failures=j.failures, log=shown(log), command=shlex.join(cmd))
    return 0 if j.ok else 1


def cmd_hosted(args) -> int:
    """A hosted test program: judged like a test boot (KTAP), but from a
    process's exit status."""
    cmd = [shown(resolve(args.binary)), '-cpus', str(args.cpus)]
    if args.run:
        cmd += ['-run', args.run]
    if args.cmdline:
        cmd += ['-cmdline', args.cmdline]
    print('# run: ' + shlex.join(cmd), flush=True)
    run = hosted.run_program(cmd, REPO, args.timeout)
    return finish_hosted(args, run, hosted.judge_tests(run, args.timeout), cmd)


def cmd_fuzz(args) -> int:
    """A fixed number of fuzz inputs from a fixed seed, starting from an
    empty corpus each time, so two runs of the same code do the same."""
    logdir = resolve(args.logdir)
    corpus = logdir / f'{args.name}.corpus'
    if corpus.exists():
        for f in corpus.iterdir():
            f.unlink()
    corpus.mkdir(parents=True, exist_ok=True)
    cmd = [shown(resolve(args.binary)), f'-runs={args.runs}', '-seed=1',
           f'-max_len={args.max_len}', '-len_control=0',
           '-print_final_stats=1',
           f'-artifact_prefix={shown(logdir)}/{args.name}-', shown(corpus)]
    print('# run: ' + shlex.join(cmd), flush=True)
    run = hosted.run_program(cmd, REPO, args.timeout)
    return finish_hosted(args, run,
                         hosted.judge_fuzz(run, args.runs, args.timeout), cmd)


def cmd_hostedbench(args) -> int:
    """Every benchmark of a hosted benchmark program for about a
    millisecond (one iteration, for those that take longer): they run,
    they do not fail, and stdout is Go's format and comments only."""
    cmd = [shown(resolve(args.binary)), '-bench', args.bench, '-benchtime',
           str(args.benchtime)]
    print('# run: ' + shlex.join(cmd), flush=True)
    run = hosted.run_program(cmd, REPO, args.timeout)
    return finish_hosted(args, run, hosted.judge_bench(run, args.timeout),
                         cmd)


def load_result(logdir: Path, name: str) -> dict:
    """One step's result; a missing or broken file is one failure, with
    the problem in 'missing'."""
    path = logdir / f'{name}.json'
    try:
        data = json.loads(path.read_text())
        return {k: data[k] for k in
                ('passed', 'failed', 'skipped', 'ok', 'failures')}
    except FileNotFoundError:
        why = 'did not run'
    except (OSError, ValueError, KeyError, TypeError) as e:
        why = f'unreadable result file {shown(path)}: {e!r}'
    return dict(passed=0, failed=1, skipped=0, ok=False, failures=[why],
                missing=why)


def cmd_summary(args) -> int:
    logdir = resolve(args.logdir)
    names = ([n for n in args.names.split(',') if n] if args.names else
             sorted(p.stem for p in logdir.glob('*.json')))
    results = {name: load_result(logdir, name) for name in names}
    width = max(map(len, names), default=0)
    seconds = getattr(args, 'seconds', None) or {}
    print('test summary:')
    for name, r in results.items():
        text = r.get('missing') or counts(r['passed'], r['failed'],
                                          r['skipped'])
        took = f'{seconds[name]:6.1f} s  ' if name in seconds else ''
        print(f'  {name:<{width}}  {"ok" if r["ok"] else "FAIL":<4}  '
              f'{took}{text}')
    failing = [(n, r) for n, r in results.items() if not r['ok']]
    if failing:
        print('failures:')
    for name, r in failing:
        for line in r['failures'] or ['failed']:
            print(f'  {name}: {line}')
    if not names:
        print(f'no test results in {shown(logdir)}')
    total = {k: sum(r[k] for r in results.values())
             for k in ('passed', 'failed', 'skipped')}
    print(counts(**total), flush=True)
    return 0 if names and not failing else 1


def cmd_all(args) -> int:
    only = set(filter(None, args.only.split(','))) if args.only else None
    known = {name for name, _ in STEPS}
    if only and only - known:
        sys.exit(f'unknown step(s): {", ".join(sorted(only - known))}; '
                 f'known: {", ".join(n for n, _ in STEPS)}')
    steps = [(n, a) for n, a in STEPS if only is None or n in only]
    logdir = resolve(args.logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    seconds = {}    # wall time per step, for the summary
    for name, step in steps:
        (logdir / f'{name}.json').unlink(missing_ok=True)
        argv = [sys.executable, str(Path(__file__).resolve()), *step,
                '--name', name, '--logdir', str(logdir)]
        if args.timeout is not None and step[0] == 'boot':
            argv += ['--timeout', str(args.timeout)]
        print(f'=== {name}', flush=True)
        start = time.monotonic()
        subprocess.run(argv, cwd=REPO, stdin=subprocess.DEVNULL)
        seconds[name] = time.monotonic() - start
    print('=== summary', flush=True)
    return cmd_summary(argparse.Namespace(
        logdir=args.logdir, names=','.join(n for n, _ in steps),
        seconds=seconds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)

    boot = sub.add_parser('boot', help='boot QEMU once and judge the run')
    image = boot.add_mutually_exclusive_group(required=True)
    image.add_argument('--kernel', help='PVH kernel ELF (-kernel/-append)')
    image.add_argument('--iso', help='bootable ISO (-cdrom); its grub.cfg '
                       'holds the command line, so --append is ignored')
    boot.add_argument('--name', help='names the log and result files')
    boot.add_argument('--append', help='kernel command line (default: test)')
    boot.add_argument('--smp', type=int, default=4)
    boot.add_argument('--memory', default='512M')
    boot.add_argument('--timeout', type=float, default=120,
                      help='wall-clock seconds before QEMU is killed')
    boot.add_argument('--expect-fail', metavar='REGEX',
                      help='self-check: pass iff the boot fails and REGEX '
                      'matches the harness output')

    bench = sub.add_parser('bench', help='boot with bench=GLOB; print the '
                           "Go-format results (for benchstat) on stdout")
    bench.add_argument('--kernel', default=KERNEL, help='PVH kernel ELF')
    bench.add_argument('--name', default='bench',
                       help='names the log files')
    bench.add_argument('--bench', default='*', metavar='GLOB',
                       help='whole benchmark names, e.g. BenchmarkNano* '
                       '(default: all)')
    bench.add_argument('--benchtime', type=int, default=1000, metavar='MS',
                       help='target milliseconds per benchmark')
    bench.add_argument('--append', help='more kernel command-line options')
    bench.add_argument('--smp', type=int, default=1)
    bench.add_argument('--memory', default='512M')
    # Every benchmark at once takes ~10 minutes under TCG (BinaryTrees
    # depth 20 alone several): the limit only catches hangs.
    bench.add_argument('--timeout', type=float, default=1800,
                       help='wall-clock seconds before QEMU is killed')

    host = sub.add_parser('hosttests', help="run the harness's unit tests")
    host.add_argument('--name', default='host')

    hst = sub.add_parser('hosted', help='run a hosted test program')
    hst.add_argument('--binary', default=HOSTED_TEST)
    hst.add_argument('--name', default='hosted')
    hst.add_argument('--cpus', type=int, default=4,
                     help='CPU slots of the simulated machine')
    hst.add_argument('--run', metavar='GLOB', help='tests to run')
    hst.add_argument('--cmdline', metavar='OPTIONS',
                     help="kernel command-line options (gccheckmark=1 ...)")
    hst.add_argument('--timeout', type=float, default=300)

    fz = sub.add_parser('fuzz', help='run the hosted heap fuzzer briefly')
    fz.add_argument('--binary', default=HOSTED_FUZZ)
    fz.add_argument('--name', default='fuzz')
    fz.add_argument('--runs', type=int, default=10000)
    fz.add_argument('--max-len', type=int, default=512,
                    help='input bytes (each is about one operation)')
    fz.add_argument('--timeout', type=float, default=300)

    hb = sub.add_parser('hostedbench', help='run the hosted benchmarks '
                        'briefly and check their output format')
    hb.add_argument('--binary', default=HOSTED_BENCH)
    hb.add_argument('--name', default='hostedbench')
    hb.add_argument('--bench', default='*', metavar='GLOB')
    hb.add_argument('--benchtime', type=int, default=1, metavar='MS')
    hb.add_argument('--timeout', type=float, default=300)

    summary = sub.add_parser('summary', help='report on LOGDIR/*.json')
    summary.add_argument('--names', help='comma-separated results to '
                         'report (a missing one counts as a failure)')

    every = sub.add_parser('all', help='hosttests, every boot, summary')
    every.add_argument('--only', help='comma-separated step names to run')
    every.add_argument('--timeout', type=float,
                       help='override the timeout of every boot')

    for p in (boot, bench, host, hst, fz, hb, summary, every):
        p.add_argument('--logdir', default=DEFAULT_LOGDIR,
                       help=f'log and result directory (default: '
                       f'{DEFAULT_LOGDIR})')
    args = parser.parse_args(argv)
    handlers = {'boot': cmd_boot, 'bench': cmd_bench,
                'hosttests': cmd_hosttests, 'hosted': cmd_hosted,
                'fuzz': cmd_fuzz, 'hostedbench': cmd_hostedbench,
                'summary': cmd_summary, 'all': cmd_all}
    return handlers[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
