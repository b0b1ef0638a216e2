"""KTAP parser for Tricolor's test output on COM1.

Turns the serial log of a test boot into structured results: the leaf test
results, the plan of every (sub)test level and whether it was met, whether
a `KTAP version` header was seen at all, the last non-empty line of the log
and any kernel panic text.

Structure is taken from indentation (4 spaces per level): `KTAP version N`
or `# Subtest: NAME` opens a level, `1..N` is its plan, and an `ok` /
`not ok` line one level further out closes it. A result whose level holds
no results of its own is a leaf test; any nesting depth works. Lines before
the first header, kernel log lines, blank lines and junk are ignored, and
the parser never raises on bad input (truncated logs just leave plans
unmet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ANSI = re.compile(r'\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]')
_CONTROL = re.compile(r'[\x00-\x08\x0b-\x1f\x7f]')
_VERSION = re.compile(r'K?TAP version \d+$')
_SUBTEST = re.compile(r'# Subtest:\s*(.*)$')
_PLAN = re.compile(r'1\.\.(\d+)(?:\s.*)?$')
_RESULT = re.compile(r'(ok|not ok) (\d+)\b(.*)$')
_DIAGNOSTIC = re.compile(r'#(?: (.*))?$')
_DIRECTIVE = re.compile(r'(SKIP|TODO)\b:?\s*(.*)$', re.IGNORECASE)
# The kernel's panic() starts its report with exactly this (kernel/panic.c).
_PANIC = re.compile(r'^\s*panic(?: while panicking)?: ')
MAX_PANIC_LINES = 100


@dataclass
class TestResult:
    name: str
    status: str                 # 'ok', 'not ok', 'skip' or 'todo'
    reason: str = ''            # failure reason, or the SKIP/TODO reason
    diagnostics: list[str] = field(default_factory=list)
    suite: str = ''             # enclosing subtest's name ('' at top level)
    number: int = 0
    depth: int = 0


@dataclass
class Plan:
    suite: str                  # '' for the top level
    depth: int
    expected: int | None        # None: the level never printed a plan
    got: int = 0                # results seen at this level

    @property
    def met(self) -> bool:
        return self.expected is not None and self.got == self.expected


@dataclass
class KtapResult:
    tests: list[TestResult] = field(default_factory=list)   # leaves
    suites: list[TestResult] = field(default_factory=list)  # non-leaves
    plans: list[Plan] = field(default_factory=list)  # in closing order
    header_seen: bool = False
    last_line: str = ''
    panic_text: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # protocol errors

    def count(self, *statuses: str) -> int:
        return sum(t.status in statuses for t in self.tests)

    @property
    def passed(self) -> int:
        return self.count('ok')

    @property
    def failed(self) -> int:
        return self.count('not ok')

    @property
    def skipped(self) -> int:
        """SKIP and TODO results (TODO failures are expected ones)."""
        return self.count('skip', 'todo')

    @property
    def failures(self) -> list[TestResult]:
        return [t for t in self.tests if t.status == 'not ok']


@dataclass
class _Level:
    depth: int
    name: str = ''
    plan: int | None = None
    got: int = 0
    first_leaf: int = 0         # len(tests) when the level was opened


def clean_line(raw: str) -> str:
    """Drop terminal escapes, control characters and trailing blanks."""
    return _CONTROL.sub('', _ANSI.sub('', raw)).rstrip()


def _parse_result(match: re.Match, depth: int, suite: str,
                  diagnostics: list[str]) -> TestResult:
    rest = re.sub(r'^\s*(- )?', '', match.group(3))
    if rest.startswith('#'):                # nameless: "ok 1 # SKIP x"
        name, directive = '', rest[1:]
    else:
        name, _, directive = rest.partition(' # ')
    directive = directive.strip()
    status = 'ok' if match.group(1) == 'ok' else 'not ok'
    kind = _DIRECTIVE.match(directive)
    if kind:
        status, directive = kind.group(1).lower(), kind.group(2).strip()
    return TestResult(name.strip(), status, directive, diagnostics, suite,
                      int(match.group(2)), depth)


def parse(log: str | bytes) -> KtapResult:
    """Parse a whole serial log (bytes are decoded as UTF-8, lossily)."""
    if isinstance(log, bytes):
        log = log.decode('utf-8', errors='replace')
    res = KtapResult()
    stack: list[_Level] = []        # open levels, depths strictly rising
    pending: dict[int, list[str]] = {}  # diagnostics awaiting a result
    in_panic = False

    def close_from(depth: int) -> _Level | None:
        """Close open levels at >= depth; return the outermost closed."""
        closed = None
        while stack and stack[-1].depth >= depth:
            closed = stack.pop()
            res.plans.append(Plan(closed.name, closed.depth, closed.plan,
                                  closed.got))
        return closed

    def open_level(depth: int, name: str = '') -> _Level:
        close_from(depth)
        stack.append(_Level(depth, name, first_leaf=len(res.tests)))
        return stack[-1]

    def level_at(depth: int) -> _Level:
        close_from(depth + 1)
        if stack and stack[-1].depth == depth:
            return stack[-1]
        return open_level(depth)        # result/plan without a header

    for raw in log.splitlines():
        line = clean_line(raw)
        if not line.strip():
            continue
        res.last_line = line.strip()
        body = line.lstrip(' ')
        depth = (len(line) - len(body)) // 4

        if not res.header_seen:
            # The header may follow junk (e.g. firmware output that did not
            # end its line); it always starts the top level.
            if _VERSION.search(line):
                res.header_seen, in_panic = True, False
                open_level(0)
                continue
        elif _VERSION.match(body):
            open_level(depth)
            in_panic = False
            continue
        elif m := _SUBTEST.match(body):
            top = stack[-1] if stack else None
            if (top and top.depth == depth and not top.name
                    and top.got == 0 and top.plan is None):
                top.name = m.group(1).strip()
            else:
                open_level(depth, m.group(1).strip())
            in_panic = False
            continue
        elif m := _PLAN.match(body):
            level = level_at(depth)
            if level.plan is not None:
                res.errors.append(f'second plan 1..{m.group(1)} for '
                                  f'{level.name or "the top level"}')
            else:
                level.plan = int(m.group(1))
            in_panic = False
            continue
        elif m := _RESULT.match(body):
            child = close_from(depth + 1)
            level = level_at(depth)
            diags = [d for k in sorted(pending) if k >= depth
                     for d in pending.pop(k)]
            result = _parse_result(m, depth, level.name, diags)
            level.got += 1
            if result.number != level.got:
                res.errors.append(
                    f'{result.name or "result"} is numbered {result.number}'
                    f' but is result {level.got} of '
                    f'{level.name or "the top level"}')
            if child is None or child.got == 0:
                res.tests.append(result)
            else:
                res.suites.append(result)
                inner = res.tests[child.first_leaf:]
                # A failed suite with no failed test inside (say, its setup
                # failed) would otherwise go unnoticed: count it as a test.
                if result.status == 'not ok' and not any(
                        t.status == 'not ok' for t in inner):
                    res.tests.append(result)
            in_panic = False
            continue
        elif m := _DIAGNOSTIC.match(body):
            pending.setdefault(depth, []).append(m.group(1) or '')
            if in_panic and len(res.panic_text) < MAX_PANIC_LINES:
                res.panic_text.append(line.strip())
            continue

        # Anything else is kernel log output: only panic text matters.
        if _PANIC.match(line):
            in_panic = True
        if in_panic and len(res.panic_text) < MAX_PANIC_LINES:
            res.panic_text.append(line.strip())

    close_from(0)
    return res


def problems(res: KtapResult) -> list[tuple[str, list[str]]]:
    """What is wrong in parsed KTAP output: (headline, detail lines) for
    each failed test, unmet plan and KTAP error."""
    out = []
    for t in res.failures:
        out.append((f'FAIL {t.name or "(unnamed)"}: '
                    f'{t.reason or "(no reason)"}',
                    ['    ' + d for d in t.diagnostics]))
    for p in res.plans:
        where = f'suite {p.suite}' if p.suite else 'the top level'
        if p.expected is None:
            out.append((f'no plan for {where}: got {p.got} results', []))
        elif not p.met:
            out.append((f'plan 1..{p.expected} for {where} not met: '
                        f'got {p.got} results', []))
    for error in res.errors:
        out.append((f'KTAP error: {error}', []))
    return out
