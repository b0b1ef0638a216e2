"""Unit tests for the KTAP parser (ktap.py) and the boot verdict and summary
logic (run.py), using sample logs and no QEMU.

Run with `python3 tests/harness/run.py hosttests` or
`python3 -m unittest discover -s tests/harness`.
"""

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ktap  # noqa: E402
import run   # noqa: E402


def sample(name: str) -> str:
    return (HERE / 'samples' / name).read_text()


def statuses(result: ktap.KtapResult) -> dict:
    return {t.name: t.status for t in result.tests}


class ParserTest(unittest.TestCase):
    def test_passing_nested_log(self):
        r = ktap.parse(sample('pass.log'))
        self.assertTrue(r.header_seen)
        self.assertEqual(statuses(r), {
            'frame.alloc_free': 'ok', 'frame.coalesce': 'ok',
            'heap.small': 'ok', 'heap.x': 'skip', 'heap.big': 'todo',
            'ktest.glob': 'ok'})
        self.assertEqual([t.suite for t in r.tests][:3],
                         ['frame', 'frame', 'heap'])
        self.assertEqual([s.name for s in r.suites], ['frame', 'heap', 'ktest'])
        self.assertEqual((r.passed, r.failed, r.skipped), (4, 0, 2))
        self.assertEqual(len(r.plans), 4)
        self.assertTrue(all(p.met for p in r.plans))
        self.assertEqual(r.errors, [])
        self.assertEqual(r.panic_text, [])
        self.assertEqual(r.last_line, '# tricolor: pass:3 fail:0 skip:2 total:5')

    def test_failure_reason_and_diagnostics(self):
        r = ktap.parse(sample('fail.log'))
        [failure] = r.failures
        self.assertEqual(failure.name, 'frame.coalesce')
        self.assertEqual(failure.suite, 'frame')
        self.assertEqual(failure.reason,
                         'expected 512 free order-0 pages, got 511')
        self.assertEqual(failure.diagnostics, [
            'frame.coalesce: tests/kernel/test_frame.c:42: expected 512, '
            'got 511', 'frame.coalesce: free list dump follows'])
        self.assertEqual(r.tests[0].diagnostics, [])
        self.assertTrue(all(p.met for p in r.plans))

    def test_skip_and_todo_reasons(self):
        r = ktap.parse(sample('pass.log'))
        by_name = {t.name: t for t in r.tests}
        self.assertEqual(by_name['heap.x'].reason, 'needs 2 CPUs')
        self.assertEqual(by_name['heap.big'].reason, 'not implemented yet')

    def test_truncated_log(self):
        r = ktap.parse(sample('truncated.log'))
        unmet = {(p.suite, p.expected, p.got) for p in r.plans if not p.met}
        self.assertEqual(unmet, {('heap', 4, 1), ('', 3, 1)})
        self.assertEqual(r.last_line, '[heap] growing arena to 64 KiB')

    def test_truncated_right_after_subtest_header(self):
        r = ktap.parse('KTAP version 1\n1..1\n    KTAP version 1\n'
                       '    # Subtest: heap\n')
        self.assertIn(('heap', None, 0),
                      [(p.suite, p.expected, p.got) for p in r.plans])

    def test_panic_inside_a_test(self):
        r = ktap.parse(sample('panic.log'))
        [failure] = r.failures
        self.assertEqual(failure.name, 'ktest.glob')
        self.assertEqual(failure.reason,
                         'panic: testinject: forced panic in ktest.glob')
        self.assertEqual(r.panic_text[0],
                         'panic: testinject: forced panic '
                         'in ktest.glob')
        self.assertIn('ffffffff80010000 ktest_run+0x80', r.panic_text)
        self.assertEqual(len(r.panic_text), 6)
        self.assertFalse(any(p.met for p in r.plans))

    def test_panic_in_test_names_is_not_panic_text(self):
        r = ktap.parse('KTAP version 1\n1..1\nok 1 panic_recover\n'
                       '# panic_recover: done\n')
        self.assertEqual(r.panic_text, [])

    def test_junk_bytes_carriage_returns_and_kernel_lines(self):
        log = (b'\x1b[2J\x1b[H\xff\xfe SeaBIOS junk\x00\r\n'
               b'KTAP version 1\r\n1..1\r\n'
               b'    KTAP version 1\r\n'
               b'[cpu1] AP online \xc3\x28\r\n'
               b'    # Subtest: smp\r\n    1..2\r\n'
               b'    ok 1 smp.ipi\r\n'
               b'\r\n\r\n'
               b'[sched] tick \x07\x07\r\n'
               b'    ok 2 smp.tlb_shootdown\r\n'
               b'ok 1 smp\r\n')
        r = ktap.parse(log)
        self.assertEqual(statuses(r), {'smp.ipi': 'ok',
                                       'smp.tlb_shootdown': 'ok'})
        self.assertTrue(all(p.met for p in r.plans))
        self.assertEqual(r.last_line, 'ok 1 smp')

    def test_header_after_unterminated_firmware_output(self):
        r = ktap.parse('Booting `Tricolor\'...KTAP version 1\n1..1\nok 1 a\n')
        self.assertTrue(r.header_seen)
        self.assertEqual(statuses(r), {'a': 'ok'})

    def test_results_before_the_header_are_ignored(self):
        r = ktap.parse('ok 1 not_a_test\n')
        self.assertFalse(r.header_seen)
        self.assertEqual(r.tests, [])

    def test_empty_selection(self):
        r = ktap.parse('boot\nKTAP version 1\n1..0\n')
        self.assertTrue(r.header_seen)
        self.assertEqual(r.tests, [])
        self.assertEqual([(p.expected, p.got, p.met) for p in r.plans],
                         [(0, 0, True)])

    def test_three_levels(self):
        r = ktap.parse('KTAP version 1\n1..1\n'
                       '    KTAP version 1\n    # Subtest: mm\n    1..2\n'
                       '        KTAP version 1\n        # Subtest: mm.vm\n'
                       '        1..1\n        ok 1 mm.vm.map\n'
                       '    ok 1 mm.vm\n'
                       '    not ok 2 mm.leaf # boom\n'
                       'not ok 1 mm\n')
        self.assertEqual(statuses(r), {'mm.vm.map': 'ok', 'mm.leaf': 'not ok'})
        self.assertEqual(r.tests[0].suite, 'mm.vm')
        self.assertEqual(r.tests[0].depth, 2)
        self.assertTrue(all(p.met for p in r.plans))

    def test_failed_suite_without_failed_test_counts(self):
        r = ktap.parse('KTAP version 1\n1..1\n'
                       '    KTAP version 1\n    # Subtest: vfs\n    1..1\n'
                       '    ok 1 vfs.open\n'
                       'not ok 1 vfs # suite exit: leaked 3 pages\n')
        self.assertEqual([(t.name, t.reason) for t in r.failures],
                         [('vfs', 'suite exit: leaked 3 pages')])

    def test_misnumbered_result_is_an_error(self):
        r = ktap.parse('KTAP version 1\n1..2\nok 1 a\nok 3 b\n')
        self.assertEqual(len(r.errors), 1)
        self.assertIn('numbered 3', r.errors[0])

    def test_nameless_result_and_dash_separator(self):
        r = ktap.parse('KTAP version 1\n1..2\nok 1 - a\nok 2 # SKIP why\n')
        self.assertEqual([(t.name, t.status, t.reason) for t in r.tests],
                         [('a', 'ok', ''), ('', 'skip', 'why')])


class JudgeTest(unittest.TestCase):
    def test_pass(self):
        v = run.judge(33, sample('pass.log'))
        self.assertTrue(v.ok, v.report)
        self.assertEqual(v.verdict, 'pass')
        self.assertEqual((v.passed, v.failed, v.skipped), (4, 0, 2))
        self.assertEqual(v.report, [])

    def test_failing_test_reported_with_diagnostics(self):
        v = run.judge(35, sample('fail.log'), log_path='x.com1.log')
        self.assertFalse(v.ok)
        self.assertEqual(v.report[:3], [
            'FAIL frame.coalesce: expected 512 free order-0 pages, got 511',
            '    frame.coalesce: tests/kernel/test_frame.c:42: expected '
            '512, got 511',
            '    frame.coalesce: free list dump follows'])
        self.assertIn('verdict: QEMU exited with status 35: kernel reported '
                      'failure', v.report)
        self.assertIn('  last kernel output: "ok 2 heap"', v.report)
        self.assertIn('  log: x.com1.log', v.report)
        self.assertEqual((v.passed, v.failed, v.skipped), (1, 1, 1))

    def test_truncated_log_names_plans_and_last_line(self):
        v = run.judge(33, sample('truncated.log'))
        self.assertFalse(v.ok)
        self.assertIn('plan 1..4 for suite heap not met: got 1 results',
                      v.report)
        self.assertIn('plan 1..3 for the top level not met: got 1 results',
                      v.report)
        self.assertIn('  last kernel output: "[heap] growing arena to 64 KiB"',
                      v.report)

    def test_triple_fault(self):
        v = run.judge(0, sample('truncated.log'), log_path='t.com1.log')
        self.assertFalse(v.ok)
        self.assertTrue(v.verdict.startswith(
            'QEMU exited with status 0: triple fault (the CPU reset with '
            '-no-reboot)'))
        self.assertIn('  log: t.com1.log', v.report)
        self.assertGreaterEqual(v.failed, 1)

    def test_triple_fault_before_any_output(self):
        v = run.judge(0, 'Tricolor 0.1 booting\n')
        self.assertIn('triple fault', v.verdict)
        self.assertIn('no KTAP output', v.verdict)
        self.assertIn('  last kernel output: "Tricolor 0.1 booting"',
                      v.report)
        self.assertEqual((v.passed, v.failed), (0, 1))

    def test_timeout(self):
        v = run.judge(None, sample('truncated.log'), timeout_s=120)
        self.assertFalse(v.ok)
        self.assertEqual(v.verdict, 'timed out after 120 s')

    def test_panic(self):
        v = run.judge(35, sample('panic.log'))
        self.assertFalse(v.ok)
        self.assertEqual(v.report[0], 'FAIL ktest.glob: panic: testinject: '
                         'forced panic in ktest.glob')
        self.assertIn('panic text:', v.report)
        self.assertIn('    RAX=0000000000000000 RBX=0000000000000001',
                      v.report)

    def test_status_33_with_failing_test_is_a_failure(self):
        v = run.judge(33, sample('fail.log'))
        self.assertFalse(v.ok)
        self.assertIn('kernel reported success', v.verdict)

    def test_status_33_with_zero_tests_is_a_failure(self):
        v = run.judge(33, 'KTAP version 1\n1..0\n')
        self.assertFalse(v.ok)
        self.assertEqual(v.verdict, 'no tests ran')
        self.assertEqual(v.failed, 1)

    def test_status_33_with_only_skips_is_a_failure(self):
        v = run.judge(33, 'KTAP version 1\n1..1\nok 1 a # SKIP no\n')
        self.assertEqual(v.verdict, 'no tests ran')

    def test_status_33_without_ktap(self):
        v = run.judge(33, b'\xff\xfeboot\n')
        self.assertFalse(v.ok)
        self.assertIn('no KTAP output', v.verdict)

    def test_status_33_with_panic_text(self):
        v = run.judge(33, 'KTAP version 1\n1..1\nok 1 a\npanic: odd\n')
        self.assertEqual(v.verdict, 'the kernel printed panic text')

    def test_other_statuses(self):
        self.assertIn('status 1 ', run.judge(1, '').verdict)
        self.assertIn('status 7', run.judge(7, '').verdict)
        self.assertIn('signal 9', run.judge(-9, '').verdict)

    def test_passing_log_with_bad_exit_status(self):
        v = run.judge(35, sample('pass.log'))
        self.assertFalse(v.ok)
        self.assertEqual(v.failed, 1)

    def test_start_error(self):
        v = run.judge(None, '', start_error='boot image not found: k.elf')
        self.assertEqual(v.verdict, 'boot image not found: k.elf')
        self.assertIn('  last kernel output: (none)', v.report)


class SelfCheckTest(unittest.TestCase):
    def check(self, status, log, regex):
        v = run.judge(status, log)
        return run.check_selfcheck(v, '\n'.join(v.report), regex)

    def test_expected_failure_seen(self):
        ok, _ = self.check(35, sample('panic.log'), r'FAIL ktest\.glob: panic')
        self.assertTrue(ok)
        ok, _ = self.check(0, 'boot\n', 'triple fault')
        self.assertTrue(ok)

    def test_boot_passed(self):
        ok, why = self.check(33, sample('pass.log'), 'anything')
        self.assertFalse(ok)
        self.assertIn('meant to fail', why)

    def test_wrong_failure(self):
        ok, why = self.check(0, 'boot\n', r'FAIL ktest\.glob: panic')
        self.assertFalse(ok)
        self.assertIn('does not match', why)


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.logdir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def call(self, *argv):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = run.main(list(argv))
        return status, out.getvalue()

    def write(self, name, **fields):
        run.write_result(self.logdir, name, **fields)

    def test_summary_totals_line(self):
        self.write('host', passed=30, ok=True, verdict='pass')
        self.write('smp1', passed=11, failed=2, skipped=2, ok=False,
                   failures=['FAIL frame.coalesce: boom'])
        self.write('stale', passed=100, ok=True)     # not listed: ignored
        status, out = self.call('summary', '--logdir', str(self.logdir),
                                '--names', 'host,smp1,smp2')
        lines = out.splitlines()
        self.assertEqual(status, 1)
        self.assertEqual(lines[-1], '41 passed, 3 failed, 2 skipped')
        self.assertIn('  host  ok    30 passed, 0 failed', lines)
        self.assertIn('  smp2  FAIL  did not run', lines)
        self.assertIn('  smp1: FAIL frame.coalesce: boom', lines)

    def test_summary_all_ok(self):
        self.write('a', passed=3, ok=True)
        self.write('b', passed=4, ok=True)
        status, out = self.call('summary', '--logdir', str(self.logdir))
        self.assertEqual(status, 0)
        self.assertEqual(out.splitlines()[-1], '7 passed, 0 failed')

    def test_boot_with_missing_image_fails_without_qemu(self):
        status, out = self.call('boot', '--name', 'x', '--kernel',
                                str(self.logdir / 'nope.elf'),
                                '--logdir', str(self.logdir))
        self.assertEqual(status, 1)
        self.assertIn('boot image not found', out)
        self.assertEqual(out.splitlines()[-1], 'x: 0 passed, 1 failed')
        result = json.loads((self.logdir / 'x.json').read_text())
        self.assertFalse(result['ok'])
        self.assertEqual(result['failed'], 1)

    def test_qemu_command_line(self):
        args = argparse.Namespace(
            smp=2, memory='512M', iso=None, kernel='build/kernel.elf',
            append='test=frame.*')
        com1, com2 = run.REPO / 'l/a.com1.log', run.REPO / 'l/a.com2.bin'
        with mock.patch.dict(os.environ, {'ACCEL': 'kvm', 'QEMU': ''}):
            cmd = run.qemu_command(args, com1, com2)
        self.assertEqual(cmd, [
            'qemu-system-x86_64', '-machine', 'q35', '-accel', 'kvm',
            '-smp', '2', '-m', '512M', '-no-reboot', '-display', 'none',
            '-monitor', 'none', '-serial', 'file:l/a.com1.log',
            '-serial', 'file:l/a.com2.bin',
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
            '-kernel', 'build/kernel.elf', '-append', 'test=frame.*'])
        args.iso, args.kernel = 'build/t.iso', None
        with mock.patch.dict(os.environ, {'ACCEL': '', 'QEMU': ''}):
            cmd = run.qemu_command(args, com1, com2)
        self.assertEqual(cmd[3:5], ['-accel', 'tcg,thread=multi'])
        self.assertEqual(cmd[-2:], ['-cdrom', 'build/t.iso'])



class RamCheckTest(unittest.TestCase):
    LOG = '[    0.06] mm: frames: {} managed (508 MiB), 0 free\n'

    def test_sizes(self):
        self.assertEqual(run.memory_bytes('512M'), 512 << 20)
        self.assertEqual(run.memory_bytes('4G'), 4 << 30)
        self.assertEqual(run.memory_bytes('64'), 64 << 20)
        with self.assertRaises(ValueError):
            run.memory_bytes('lots')

    def test_within_reserved_areas(self):
        self.assertIsNone(run.ram_problem(self.LOG.format(130298), '512M'))
        self.assertIsNone(run.ram_problem(self.LOG.format(7778), '32M'))

    def test_too_little_or_too_much(self):
        self.assertIn('QEMU gave', run.ram_problem(self.LOG.format(1000), '512M'))
        self.assertIn('QEMU gave', run.ram_problem(self.LOG.format(140000), '512M'))

    def test_no_line_no_verdict(self):
        self.assertIsNone(run.ram_problem(b'panic: early\n', '512M'))


class GctraceCheckTest(unittest.TestCase):
    """gctrace=1 lines against Go's format (the first sample is Go's own,
    from CONVENTIONS.md)."""
    GO = ('gc 21 @0.023s 11%: 0.013+0.21+0.016 ms clock, '
          '0.026+0.036/0.023/0.11+0.032 ms cpu, 3->3->1 MB, 4 MB goal, '
          '0 MB stacks, 0 MB globals, 2 P')

    def test_go_format_accepted(self):
        self.assertIsNone(run.gctrace_problem(self.GO + '\n'))
        self.assertIsNone(run.gctrace_problem(
            'boot line\n' + self.GO.replace('2 P', '8 P (forced)') + '\n'
            'gc 2 @12.345s 0%: 12+1.5+0.10 ms clock, 24+0/3.0/0+0.20 ms '
            'cpu, 10->12->4 MB, 8 MB goal, 1 MB stacks, 0 MB globals, 2 P\n'))

    def test_wrong_format_rejected(self):
        for bad in (self.GO.replace('0.013', '0.0131'),     # 4 decimals
                    self.GO.replace(' MB goal', 'MB goal'),
                    self.GO.replace('@0.023s', '@0.02s'),
                    self.GO + ' (forced'):
            self.assertIn('not in Go', run.gctrace_problem(bad))

    def test_missing_lines(self):
        self.assertEqual(run.gctrace_problem('no cycles here\n'),
                         'gctrace=1 but no gctrace line was printed')


class CpusCheckTest(unittest.TestCase):
    """The CPU count the kernel logs against QEMU's -smp, from sample log
    lines in the kernel's format, and through `run.py boot` with QEMU
    replaced by writing a log."""
    BOOT = ('[    0.121862] cpu 1 online (apic id 1)\n'
            '[    0.142745] cpu 2 online (apic id 2)\n'
            '[    0.249369] smp: {} online (4 usable in the MADT), xAPIC\n')

    def test_count_matches(self):
        self.assertIsNone(run.cpus_problem(self.BOOT.format('4 CPUs'), 4))
        self.assertIsNone(run.cpus_problem(
            '[    0.01] smp: 1 CPU online (1 usable in the MADT), xAPIC\n',
            1))
        self.assertIsNone(run.cpus_problem(
            self.BOOT.format('8 CPUs').encode() + b'\xff\r\n', 8))

    def test_count_differs(self):
        self.assertEqual(run.cpus_problem(self.BOOT.format('3 CPUs'), 4),
                         'kernel brought up 3 CPUs, QEMU was given 4')
        self.assertEqual(run.cpus_problem(self.BOOT.format('1 CPU'), 2),
                         'kernel brought up 1 CPU, QEMU was given 2')
        self.assertEqual(run.cpus_problem(self.BOOT.format('8 CPUs'), 4),
                         'kernel brought up 8 CPUs, QEMU was given 4')

    def test_more_cpus_than_the_kernel_supports(self):
        self.assertIsNone(run.cpus_problem(self.BOOT.format('64 CPUs'), 70))
        self.assertEqual(run.cpus_problem(self.BOOT.format('63 CPUs'), 70),
                         'kernel brought up 63 CPUs, QEMU was given 70 '
                         '(the kernel supports 64)')
        self.assertEqual(run.cpus_problem(self.BOOT.format('70 CPUs'), 70),
                         'kernel brought up 70 CPUs, QEMU was given 70 '
                         '(the kernel supports 64)')

    def test_missing_line(self):
        # "cpu N online" lines alone do not say how many came up.
        text = self.BOOT.split('[    0.249369]')[0] + 'panic: in smp_init\n'
        problem = run.cpus_problem(text, 4)
        self.assertIn('no "smp: N CPUs online" line', problem)
        self.assertIn('QEMU was given 4', problem)
        self.assertIsNotNone(run.cpus_problem(b'', 1))

    def boot(self, log: str, smp: int):
        """`run.py boot --smp SMP` with QEMU replaced: writes log to COM1
        and exits 33."""
        with tempfile.TemporaryDirectory() as tmp:
            logdir = Path(tmp)
            kernel = logdir / 'kernel.elf'
            kernel.write_bytes(b'\x7fELF')

            def fake_qemu(cmd, timeout_s):
                com1 = cmd[cmd.index('-serial') + 1].removeprefix('file:')
                (run.REPO / com1).write_text(log)
                return run.EXIT_PASS, ''

            out = io.StringIO()
            with mock.patch.object(run, 'run_qemu', fake_qemu), \
                    contextlib.redirect_stdout(out):
                status = run.main(['boot', '--name', 'b', '--kernel',
                                   str(kernel), '--smp', str(smp),
                                   '--logdir', str(logdir)])
            result = json.loads((logdir / 'b.json').read_text())
        return status, out.getvalue(), result

    def test_boot_step_fails_on_a_wrong_count(self):
        log = self.BOOT.format('3 CPUs') + sample('pass.log')
        status, out, result = self.boot(log, 4)
        self.assertEqual(status, 1)
        self.assertIn('kernel brought up 3 CPUs, QEMU was given 4',
                      out.splitlines())
        self.assertFalse(result['ok'])
        self.assertEqual(result['verdict'],
                         'kernel brought up 3 CPUs, QEMU was given 4')
        self.assertEqual(result['failures'],
                         ['kernel brought up 3 CPUs, QEMU was given 4'])
        self.assertEqual(result['failed'], 1)

    def test_boot_step_fails_without_the_line(self):
        status, out, result = self.boot(sample('pass.log'), 4)
        self.assertEqual(status, 1)
        self.assertIn('no "smp: N CPUs online" line', out)
        self.assertFalse(result['ok'])

    def test_boot_step_passes_with_the_right_count(self):
        log = self.BOOT.format('4 CPUs') + sample('pass.log')
        status, out, result = self.boot(log, 4)
        self.assertEqual(status, 0, out)
        self.assertTrue(result['ok'])
        self.assertEqual(result['verdict'], 'pass')


if __name__ == '__main__':
    unittest.main()
