"""Judging the hosted port's programs (tests/hosted/, built by
tests/hosted/hosted.mk): the heap's unit tests under ASan + UBSan, which
print KTAP like a test boot; a short libFuzzer run; a benchmark smoke run
whose output must be Go's format.

Pure functions here; run.py runs the programs and writes the results.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field

import gobench
import ktap

# What a sanitizer, libFuzzer, our panic() or a CHECK in the fuzz target
# prints first when a program dies: the line that says why.
_CRASH = re.compile(
    r'(==\d+==ERROR: .*|.*runtime error: .*|panic: .*|fuzz_heap: step .*'
    r'|==\d+== ERROR: libFuzzer: .*|heap_test: a test timed out.*'
    r'|SUMMARY: .*)$')


@dataclass
class Run:
    status: int | None          # exit status; None: killed on timeout
    out: str
    err: str
    start_error: str | None = None


def run_program(cmd: list[str], cwd, timeout_s: float) -> Run:
    try:
        p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, errors='replace',
                           timeout=timeout_s)
        return Run(p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired as e:
        def text(b):
            if isinstance(b, bytes):
                return b.decode('utf-8', errors='replace')
            return b or ''
        return Run(None, text(e.stdout), text(e.stderr))
    except OSError as e:
        return Run(None, '', '', start_error=f'could not run {cmd[0]}: {e}')


def crash_lines(text: str, limit: int = 3) -> list[str]:
    """The first few lines that say why a program died."""
    found = []
    for line in text.splitlines():
        m = _CRASH.match(line.strip())
        if m and m.group(1) not in found:
            found.append(m.group(1))
        if len(found) == limit:
            break
    return found


def exit_problem(run: Run, timeout_s: float) -> str | None:
    if run.start_error:
        return run.start_error
    if run.status is None:
        return f'timed out after {timeout_s:g} s'
    if run.status < 0:
        return f'killed by signal {-run.status}'
    if run.status != 0:
        return f'exited with status {run.status}'
    return None


@dataclass
class Judged:
    ok: bool
    verdict: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    report: list[str] = field(default_factory=list)


def judge_tests(run: Run, timeout_s: float) -> Judged:
    """A KTAP test program passes iff it exits 0, prints KTAP, meets every
    plan, fails no test and passes at least one."""
    res = ktap.parse(run.out)
    j = Judged(False, '', res.passed, res.failed, res.skipped)
    for line, details in ktap.problems(res):
        j.failures.append(line)
        j.report.extend([line, *details])
    why = exit_problem(run, timeout_s)
    complete = res.header_seen and all(p.met for p in res.plans)
    if run.status == 1 and complete and res.failed:
        why = None          # its own verdict: some test failed
    if why:
        why = '; '.join([why, *crash_lines(run.err + '\n' + run.out)])
    elif not res.header_seen:
        why = 'no KTAP output'
    elif j.failures:
        why = 'tests failed'
    elif res.passed == 0:
        why = 'no tests ran'
    if why is None:
        j.ok, j.verdict = True, 'pass'
        return j
    j.verdict = why
    if why != 'tests failed':
        j.failures.append(why)
        j.report.append(why)
    j.failed = max(j.failed, 1)
    return j


@dataclass
class FuzzStats:
    done_runs: int | None = None    # "Done N runs in S second(s)"
    seconds: int | None = None
    executed: int | None = None     # stat::number_of_executed_units
    cov: int | None = None          # the last status line's counters
    ft: int | None = None
    corp: str | None = None
    peak_rss_mb: int | None = None
    artifact: str | None = None     # a crash input libFuzzer wrote


_DONE = re.compile(r'Done (\d+) runs in (\d+) second')
_STATUS = re.compile(r'#\d+\s+\S+\s+cov: (\d+) ft: (\d+) corp: (\S+)')
_STAT = re.compile(r'stat::(\w+):\s+(\d+)')
_ARTIFACT = re.compile(r'Test unit written to (\S+)')


def parse_fuzz(text: str) -> FuzzStats:
    s = FuzzStats()
    for line in text.splitlines():
        if m := _DONE.search(line):
            s.done_runs, s.seconds = int(m.group(1)), int(m.group(2))
        elif m := _STATUS.search(line):
            s.cov, s.ft, s.corp = int(m.group(1)), int(m.group(2)), m.group(3)
        elif m := _STAT.search(line):
            if m.group(1) == 'number_of_executed_units':
                s.executed = int(m.group(2))
            elif m.group(1) == 'peak_rss_mb':
                s.peak_rss_mb = int(m.group(2))
        elif m := _ARTIFACT.search(line):
            s.artifact = m.group(1)
    return s


def fuzz_summary(s: FuzzStats) -> str:
    parts = []
    if s.executed is not None:
        parts.append(f'{s.executed} inputs')
    if s.seconds is not None:
        parts.append(f'{s.seconds} s')
    if s.cov is not None:
        parts.append(f'cov {s.cov} ft {s.ft} corpus {s.corp}')
    if s.peak_rss_mb is not None:
        parts.append(f'peak RSS {s.peak_rss_mb} MB')
    return ', '.join(parts) or 'no libFuzzer statistics'


def judge_fuzz(run: Run, runs: int, timeout_s: float) -> Judged:
    """A fuzz run passes iff libFuzzer exits 0 having executed all runs."""
    text = run.err + '\n' + run.out
    s = parse_fuzz(text)
    why = exit_problem(run, timeout_s)
    if why:
        why = '; '.join([why, *crash_lines(text)])
        if s.artifact:
            why += f'; crash input {s.artifact}'
    elif s.done_runs is None or (s.executed or 0) < runs:
        why = (f'libFuzzer ran {s.executed} of {runs} inputs '
               f'(no "Done {runs} runs" line)')
    if why is None:
        return Judged(True, 'pass: ' + fuzz_summary(s), passed=1)
    return Judged(False, why, failed=1, failures=[why],
                  report=[why, fuzz_summary(s)])


def judge_bench(run: Run, timeout_s: float) -> Judged:
    """A benchmark smoke run passes iff it exits 0 and every stdout line
    is Go's format (a header, a result, PASS) or a # comment, with PASS."""
    res = gobench.extract(run.out)
    stray = [line for line in run.out.splitlines()
             if line and not line.startswith('#') and line not in res.lines]
    why = exit_problem(run, timeout_s)
    if why:
        why = '; '.join([why, *crash_lines(run.err + '\n' + run.out)])
    elif stray:
        why = f'not Go benchmark format: {stray[0]!r}'
    else:
        why = gobench.problem(res)
        if why is None and res.results == 0:
            why = 'no benchmark ran'
    if why is None:
        return Judged(True, 'pass', passed=res.results)
    return Judged(False, why, passed=res.results,
                  failed=max(len(res.failed), 1), failures=[why],
                  report=[why])
