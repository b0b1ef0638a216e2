"""Unit tests for judging the hosted port's programs (hosted.py): the
KTAP heap tests, the libFuzzer run and the benchmark smoke run, from
canned outputs.

Run with `python3 tests/harness/run.py hosttests`.
"""

import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import hosted  # noqa: E402

KTAP_PASS = '''KTAP version 1
1..1
    KTAP version 1
    # Subtest: heap
    1..2
    ok 1 heap.a
    ok 2 heap.b # SKIP needs 2 CPUs
ok 1 heap
# heap_test: 1 passed, 0 failed, 1 skipped
'''

KTAP_FAIL = KTAP_PASS.replace('    ok 1 heap.a', '''    # heap.a: test_heap.c:12: object 0x10 not zeroed
    not ok 1 heap.a # test_heap.c:12: object 0x10 not zeroed''').replace(
    'ok 1 heap\n', 'not ok 1 heap\n')

ASAN_REPORT = '''=================================================================
==1234==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6020
READ of size 8 at 0x6020 thread T0
    #0 0x4f in span_sweep mm/mcentral.c:120
SUMMARY: AddressSanitizer: heap-buffer-overflow mm/mcentral.c:120 in span_sweep
'''

FUZZ_PASS = '''INFO: Seed: 1
INFO: Loaded 1 modules   (2345 inline 8-bit counters)
#2	INITED cov: 300 ft: 301 corp: 1/1b exec/s: 0 rss: 30Mb
#1024	pulse  cov: 480 ft: 2000 corp: 300/20Kb lim: 512 exec/s: 512 rss: 60Mb
#10000	DONE   cov: 525 ft: 3544 corp: 550/93Kb lim: 512 exec/s: 487 rss: 109Mb
Done 10000 runs in 20 second(s)
stat::number_of_executed_units: 10000
stat::average_exec_per_sec:     487
stat::new_units_added:          551
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              109
'''

FUZZ_CRASH = '''INFO: Seed: 1
#1024	pulse  cov: 480 ft: 2000 corp: 300/20Kb lim: 512 exec/s: 512 rss: 60Mb
fuzz_heap: step 77: new object 0x7f0000001000 (16 B) overlaps live 0x7f0000001000 (16 B)
==99== ERROR: libFuzzer: deadly signal
MS: 2 ChangeBit-CopyPart-; base unit: 0000
artifact_prefix='build/test-logs/hosted-fuzz-'; Test unit written to build/test-logs/hosted-fuzz-crash-abc
stat::number_of_executed_units: 1500
stat::peak_rss_mb:              61
'''


def run(status, out='', err=''):
    return hosted.Run(status, out, err)


class JudgeTestsTest(unittest.TestCase):
    def test_pass(self):
        j = hosted.judge_tests(run(0, KTAP_PASS), 60)
        self.assertTrue(j.ok)
        self.assertEqual((j.passed, j.failed, j.skipped), (1, 0, 1))

    def test_failed_test(self):
        j = hosted.judge_tests(run(1, KTAP_FAIL), 60)
        self.assertFalse(j.ok)
        self.assertEqual(j.failed, 1)
        self.assertEqual(j.failures, [
            'FAIL heap.a: test_heap.c:12: object 0x10 not zeroed'])

    def test_sanitizer_crash_names_the_error(self):
        cut = KTAP_PASS[:KTAP_PASS.index('    ok 2')]
        j = hosted.judge_tests(run(1, cut, ASAN_REPORT), 60)
        self.assertFalse(j.ok)
        self.assertGreaterEqual(j.failed, 1)
        self.assertIn('exited with status 1', j.verdict)
        self.assertIn('AddressSanitizer: heap-buffer-overflow', j.verdict)
        self.assertIn('plan 1..2 for suite heap not met: got 1 results',
                      j.failures)

    def test_timeout_and_no_output(self):
        j = hosted.judge_tests(run(None), 60)
        self.assertFalse(j.ok)
        self.assertEqual(j.verdict, 'timed out after 60 s')
        self.assertEqual(hosted.judge_tests(run(0, 'hello\n'), 60).verdict,
                         'no KTAP output')

    def test_exit_zero_but_no_tests(self):
        j = hosted.judge_tests(run(0, 'KTAP version 1\n1..0\n'), 60)
        self.assertFalse(j.ok)
        self.assertEqual(j.verdict, 'no tests ran')


class JudgeFuzzTest(unittest.TestCase):
    def test_stats(self):
        s = hosted.parse_fuzz(FUZZ_PASS)
        self.assertEqual((s.done_runs, s.seconds, s.executed),
                         (10000, 20, 10000))
        self.assertEqual((s.cov, s.ft, s.corp, s.peak_rss_mb),
                         (525, 3544, '550/93Kb', 109))
        self.assertEqual(hosted.fuzz_summary(s),
                         '10000 inputs, 20 s, cov 525 ft 3544 corpus '
                         '550/93Kb, peak RSS 109 MB')

    def test_pass(self):
        j = hosted.judge_fuzz(run(0, '', FUZZ_PASS), 10000, 300)
        self.assertTrue(j.ok)
        self.assertEqual((j.passed, j.failed), (1, 0))
        self.assertTrue(j.verdict.startswith('pass: 10000 inputs'))

    def test_crash_names_the_check_and_the_input(self):
        j = hosted.judge_fuzz(run(1, '', FUZZ_CRASH), 10000, 300)
        self.assertFalse(j.ok)
        self.assertEqual(j.failed, 1)
        self.assertIn('fuzz_heap: step 77: new object', j.verdict)
        self.assertIn('libFuzzer: deadly signal', j.verdict)
        self.assertIn('crash input build/test-logs/hosted-fuzz-crash-abc',
                      j.verdict)

    def test_too_few_runs(self):
        text = FUZZ_PASS.replace('10000', '9000')
        j = hosted.judge_fuzz(run(0, '', text), 10000, 300)
        self.assertFalse(j.ok)
        self.assertIn('ran 9000 of 10000 inputs', j.verdict)


class JudgeBenchTest(unittest.TestCase):
    GOOD = '\n'.join([
        'goos: linux', 'goarch: amd64', 'pkg: tricolor/hosted',
        'cpu: Intel(R) Xeon(R) Processor',
        '# machine before: a dependent add takes 0.500 ns',
        'BenchmarkAlloc/noscan/16B-2 \t 1000\t        17.00 ns/op\t  '
        '58823529 allocs/s',
        'BenchmarkAllocLarge/64KiB-2 \t   10\t      5000 ns/op\t    '
        '200000 allocs/s',
        'PASS', ''])

    def test_pass(self):
        j = hosted.judge_bench(run(0, self.GOOD, '# heap: 67 classes\n'), 60)
        self.assertTrue(j.ok)
        self.assertEqual(j.passed, 2)

    def test_stray_stdout_line(self):
        out = self.GOOD.replace('PASS', 'heap: 67 size classes\nPASS')
        j = hosted.judge_bench(run(0, out), 60)
        self.assertFalse(j.ok)
        self.assertIn("not Go benchmark format: 'heap: 67 size classes'",
                      j.verdict)

    def test_failed_benchmark(self):
        out = self.GOOD.replace('PASS', '--- FAIL: BenchmarkX-2\n'
                                '    bench_heap.c: 3 allocations failed\n'
                                'FAIL')
        j = hosted.judge_bench(run(1, out), 60)
        self.assertFalse(j.ok)
        self.assertEqual(j.failed, 1)


if __name__ == '__main__':
    unittest.main()
