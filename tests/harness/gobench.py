"""Go benchmark output in Tricolor's COM1 log (`bench=GLOB` boots).

The kernel prints `go test -bench` format (tests/kernel/kbench.c) among its
log lines. extract() keeps only the Go lines, so the result can go straight
to benchstat:

    goos: tricolor              header (goos, goarch, pkg, cpu)
    BenchmarkName-P  N  V ns/op [V MB/s] [V unit]...
    --- FAIL: BenchmarkName     a failed benchmark, then its indented
        file.c:12: reason       messages
    --- SKIP: BenchmarkName     a skipped benchmark (neither passed nor
        file.c:12: reason       failed), as `go test -v -bench` prints it
    PASS or FAIL                the run's outcome
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ktap import clean_line

_HEADER = re.compile(r'(goos|goarch|pkg|cpu): \S.*$')
# Name, iterations, then value-unit pairs (Go's benchfmt).
_RESULT = re.compile(r'Benchmark\S*\s+\d+(\s+[-+]?[0-9.]+(e[-+]?\d+)?\s+\S+)*\s*$')
_MESSAGES_HEAD = re.compile(r'--- (FAIL|SKIP): Benchmark\S*\s*$')
_OUTCOME = re.compile(r'(PASS|FAIL)$')


@dataclass
class BenchRun:
    lines: list[str] = field(default_factory=list)   # the Go lines, in order
    results: int = 0            # Benchmark result lines
    failed: list[str] = field(default_factory=list)  # names that failed
    skipped: list[str] = field(default_factory=list)  # names that skipped
    outcome: str | None = None  # 'PASS', 'FAIL', or None if never printed
    last_line: str = ''         # last non-empty line of the log


def extract(log: str | bytes) -> BenchRun:
    """The Go-format lines of a COM1 log. Tabs are kept (Go's columns);
    kernel log lines, boot messages and junk are dropped."""
    if isinstance(log, bytes):
        log = log.decode('utf-8', errors='replace')
    run = BenchRun()
    in_messages = False
    for raw in log.splitlines():
        line = clean_line(raw)
        if line.strip():
            run.last_line = line.strip()
        if in_messages and line.startswith('    ') and line.strip():
            run.lines.append(line)      # a message of the failed or skipped benchmark
            continue
        in_messages = False
        if _HEADER.match(line) or _RESULT.match(line):
            run.lines.append(line)
            run.results += line.startswith('Benchmark')
        elif m := _MESSAGES_HEAD.match(line):
            run.lines.append(line)
            names = run.failed if m.group(1) == 'FAIL' else run.skipped
            names.append(line.split()[2])
            in_messages = True
        elif _OUTCOME.match(line):
            run.lines.append(line)
            run.outcome = line
    return run


def problem(run: BenchRun) -> str | None:
    """None if the kernel reported a passing run (PASS and no failed
    benchmark), else what is wrong. QEMU's exit status is judged apart."""
    if run.outcome is None:
        return 'the kernel printed no PASS or FAIL line'
    if run.outcome != 'PASS' or run.failed:
        names = ', '.join(run.failed) or 'no benchmark named'
        return f'the kernel printed {run.outcome} (failed: {names})'
    return None
