"""Unit tests for the benchmark side of the harness: extracting Go-format
lines from a COM1 log (gobench.py) and `run.py bench`, with QEMU mocked.

Run with `python3 tests/harness/run.py hosttests`.
"""

import contextlib
import io
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gobench  # noqa: E402
import run      # noqa: E402


def sample(name: str) -> str:
    return (HERE / 'samples' / name).read_text()


GO_LINES = [
    'goos: tricolor',
    'goarch: amd64',
    'pkg: tricolor/kernel',
    'cpu: QEMU Virtual CPU version 2.5+',
    'BenchmarkNanotime      \t 3576630\t        71.3 ns/op',
    'BenchmarkKsnprintf     \t  139512\t      1708 ns/op\t  18.73 MB/s',
    'BenchmarkAlloc/16B-4   \t50000000\t         7.90 ns/op'
    '\t         1.00 allocs/op',
    'PASS',
]


class ExtractTest(unittest.TestCase):
    def test_passing_log_keeps_only_go_lines(self):
        r = gobench.extract(sample('bench-pass.log'))
        self.assertEqual(r.lines, GO_LINES)
        self.assertEqual(r.results, 3)
        self.assertEqual(r.outcome, 'PASS')
        self.assertEqual(r.failed, [])
        self.assertIsNone(gobench.problem(r))

    def test_carriage_returns_and_junk_bytes(self):
        log = sample('bench-pass.log').replace('\n', '\r\n')
        log = '\x1b[2J\x00' + log
        r = gobench.extract(log.encode() + b'\xff\xfe')
        self.assertEqual(r.lines, GO_LINES)

    def test_failed_benchmark_and_its_messages(self):
        r = gobench.extract(sample('bench-fail.log'))
        self.assertEqual(r.lines[-4:], [
            '--- FAIL: BenchmarkKsnprintf',
            '    bench_kernel.c:30: ksnprintf gave "x" (1), want '
            '"-12345 tricolor ffffffff80104a2b"',
            '    (and 2 more failures)',
            'FAIL'])
        self.assertEqual(r.results, 1)
        self.assertEqual(r.failed, ['BenchmarkKsnprintf'])
        self.assertEqual(r.outcome, 'FAIL')
        self.assertIn('BenchmarkKsnprintf', gobench.problem(r))

    SKIP_LOG = '\n'.join([
        'goos: tricolor',
        'BenchmarkSTW/idle-1    \t  500000\t      2000 ns/op',
        '--- SKIP: BenchmarkIPIRoundTrip',
        '    bench_smp.c:120: needs 2 CPUs, 1 online',
        '[    1.200000] info: a kernel line ends the messages',
        '    KTAP-looking indented line, not a message',
        'PASS', ''])

    def test_skipped_benchmark_is_neither_pass_nor_fail(self):
        r = gobench.extract(self.SKIP_LOG)
        self.assertEqual(r.lines, [
            'goos: tricolor',
            'BenchmarkSTW/idle-1    \t  500000\t      2000 ns/op',
            '--- SKIP: BenchmarkIPIRoundTrip',
            '    bench_smp.c:120: needs 2 CPUs, 1 online',
            'PASS'])
        self.assertEqual(r.skipped, ['BenchmarkIPIRoundTrip'])
        self.assertEqual(r.failed, [])
        self.assertEqual(r.results, 1)
        self.assertIsNone(gobench.problem(r))

    def test_skip_and_fail_together(self):
        r = gobench.extract('\n'.join([
            '--- SKIP: BenchmarkA', '    a.c:1: no CPUs',
            '--- FAIL: BenchmarkB', '    b.c:2: broken', 'FAIL']))
        self.assertEqual(r.skipped, ['BenchmarkA'])
        self.assertEqual(r.failed, ['BenchmarkB'])
        self.assertEqual(gobench.problem(r),
                         'the kernel printed FAIL (failed: BenchmarkB)')

    def test_truncated_log(self):
        text = sample('bench-pass.log')
        r = gobench.extract(text[:text.index('BenchmarkKsnprintf')])
        self.assertIsNone(r.outcome)
        self.assertEqual(r.results, 1)
        self.assertEqual(gobench.problem(r),
                         'the kernel printed no PASS or FAIL line')
        self.assertTrue(r.last_line.startswith('[    0.912000] warning'))

    def test_not_go_lines(self):
        r = gobench.extract('\n'.join([
            '[    0.05] cpu: AuthenticAMD "QEMU"',    # a log line
            'BenchmarkX is starting',                # no iteration count
            'BenchmarkX\t12\t3.5',                   # value without unit
            'PASSED', 'cpu:', ' PASS']))
        self.assertEqual(r.lines, [])
        self.assertIsNone(r.outcome)


class BenchCommandTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.logdir = Path(self.tmp.name)
        self.kernel = self.logdir / 'kernel.elf'
        self.kernel.write_bytes(b'\x7fELF')

    def tearDown(self):
        self.tmp.cleanup()

    def bench(self, log: str, status, *extra):
        """Run `run.py bench` with QEMU replaced by writing log to COM1."""
        seen = {}

        def fake_qemu(cmd, timeout_s):
            seen['cmd'], seen['timeout'] = cmd, timeout_s
            com1 = cmd[cmd.index('-serial') + 1].removeprefix('file:')
            (run.REPO / com1).write_text(log)
            return status, ''

        out, err = io.StringIO(), io.StringIO()
        with mock.patch.object(run, 'run_qemu', fake_qemu), \
                contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            rc = run.main(['bench', '--kernel', str(self.kernel),
                           '--logdir', str(self.logdir), *extra])
        return rc, out.getvalue(), err.getvalue(), seen

    def test_pass_prints_only_go_lines(self):
        rc, out, err, seen = self.bench(
            sample('bench-pass.log'), run.EXIT_PASS,
            '--bench', 'BenchmarkN*', '--benchtime', '200',
            '--append', 'loglevel=1')
        self.assertEqual(rc, 0)
        self.assertEqual(out.splitlines(), GO_LINES)
        self.assertIn('# qemu: ', err)
        cmd = seen['cmd']
        self.assertEqual(cmd[cmd.index('-append') + 1],
                         'bench=BenchmarkN* benchtime=200 loglevel=1')
        self.assertEqual(cmd[cmd.index('-smp') + 1], '1')
        self.assertEqual(seen['timeout'], 1800)

    def test_skip_passes_and_is_printed(self):
        rc, out, err, _ = self.bench(ExtractTest.SKIP_LOG, run.EXIT_PASS)
        self.assertEqual(rc, 0)
        self.assertIn('--- SKIP: BenchmarkIPIRoundTrip', out.splitlines())
        self.assertEqual(out.splitlines()[-1], 'PASS')
        self.assertIn('# note: skipped BenchmarkIPIRoundTrip', err)

    def test_failed_benchmark_fails(self):
        rc, out, err, _ = self.bench(sample('bench-fail.log'), run.EXIT_FAIL)
        self.assertEqual(rc, 1)
        self.assertEqual(out.splitlines()[-1], 'FAIL')
        self.assertIn('kernel reported failure', err)

    def test_pass_line_needs_status_33(self):
        rc, _, err, _ = self.bench(sample('bench-pass.log'), None)
        self.assertEqual(rc, 1)
        self.assertIn('timed out after 1800 s', err)
        rc, _, err, _ = self.bench(sample('bench-pass.log'), 0)
        self.assertEqual(rc, 1)
        self.assertIn('triple fault', err)

    def test_status_33_needs_pass_line(self):
        text = sample('bench-pass.log').replace('PASS\n', '')
        rc, _, err, _ = self.bench(text, run.EXIT_PASS)
        self.assertEqual(rc, 1)
        self.assertIn('no PASS or FAIL line', err)

    def test_bad_arguments(self):
        with self.assertRaises(SystemExit), \
                contextlib.redirect_stderr(io.StringIO()):
            run.main(['bench', '--bench', 'a b'])
        with self.assertRaises(SystemExit), \
                contextlib.redirect_stderr(io.StringIO()):
            run.main(['bench', '--benchtime', '0'])


if __name__ == '__main__':
    unittest.main()
