"""Unit tests for the size-class generator (tools/mksizeclasses.py) and the
header it wrote (mm/sizeclasses.h): the checked-in header is what the
generator writes today, the classes are Go's, and the rules and checks of
the generator hold.

Run with `python3 tests/harness/run.py hosttests`.
"""

import contextlib
import difflib
import io
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / 'tools'))

import mksizeclasses as msc  # noqa: E402

HEADER = REPO / 'mm' / 'sizeclasses.h'

# The external reference: the table comment of Go 1.21's
# src/runtime/sizeclasses.go, one row per class 1..67: (bytes/obj, span in
# 8 KiB pages, objects, tail waste, max waste). Go prints bytes/span; here
# it is divided by 8192.
GO_CLASSES = [
    (8, 1, 1024, 0, '87.50%'),
    (16, 1, 512, 0, '43.75%'),
    (24, 1, 341, 8, '29.24%'),
    (32, 1, 256, 0, '21.88%'),
    (48, 1, 170, 32, '31.52%'),
    (64, 1, 128, 0, '23.44%'),
    (80, 1, 102, 32, '19.07%'),
    (96, 1, 85, 32, '15.95%'),
    (112, 1, 73, 16, '13.56%'),
    (128, 1, 64, 0, '11.72%'),
    (144, 1, 56, 128, '11.82%'),
    (160, 1, 51, 32, '9.73%'),
    (176, 1, 46, 96, '9.59%'),
    (192, 1, 42, 128, '9.25%'),
    (208, 1, 39, 80, '8.12%'),
    (224, 1, 36, 128, '8.15%'),
    (240, 1, 34, 32, '6.62%'),
    (256, 1, 32, 0, '5.86%'),
    (288, 1, 28, 128, '12.16%'),
    (320, 1, 25, 192, '11.80%'),
    (352, 1, 23, 96, '9.88%'),
    (384, 1, 21, 128, '9.51%'),
    (416, 1, 19, 288, '10.71%'),
    (448, 1, 18, 128, '8.37%'),
    (480, 1, 17, 32, '6.82%'),
    (512, 1, 16, 0, '6.05%'),
    (576, 1, 14, 128, '12.33%'),
    (640, 1, 12, 512, '15.48%'),
    (704, 1, 11, 448, '13.93%'),
    (768, 1, 10, 512, '13.94%'),
    (896, 1, 9, 128, '15.52%'),
    (1024, 1, 8, 0, '12.40%'),
    (1152, 1, 7, 128, '12.41%'),
    (1280, 1, 6, 512, '15.55%'),
    (1408, 2, 11, 896, '14.00%'),
    (1536, 1, 5, 512, '14.00%'),
    (1792, 2, 9, 256, '15.57%'),
    (2048, 1, 4, 0, '12.45%'),
    (2304, 2, 7, 256, '12.46%'),
    (2688, 1, 3, 128, '15.59%'),
    (3072, 3, 8, 0, '12.47%'),
    (3200, 2, 5, 384, '6.22%'),
    (3456, 3, 7, 384, '8.83%'),
    (4096, 1, 2, 0, '15.60%'),
    (4864, 3, 5, 256, '16.65%'),
    (5376, 2, 3, 256, '10.92%'),
    (6144, 3, 4, 0, '12.48%'),
    (6528, 4, 5, 128, '6.23%'),
    (6784, 5, 6, 256, '4.36%'),
    (6912, 6, 7, 768, '3.37%'),
    (8192, 1, 1, 0, '15.61%'),
    (9472, 7, 6, 512, '14.28%'),
    (9728, 6, 5, 512, '3.64%'),
    (10240, 5, 4, 0, '4.99%'),
    (10880, 4, 3, 128, '6.24%'),
    (12288, 3, 2, 0, '11.45%'),
    (13568, 5, 3, 256, '9.99%'),
    (14336, 7, 4, 0, '5.35%'),
    (16384, 2, 1, 0, '12.49%'),
    (18432, 9, 4, 0, '11.11%'),
    (19072, 7, 3, 128, '3.57%'),
    (20480, 5, 2, 0, '6.87%'),
    (21760, 8, 3, 256, '6.25%'),
    (24576, 3, 1, 0, '11.45%'),
    (27264, 10, 3, 128, '10.00%'),
    (28672, 7, 2, 0, '4.91%'),
    (32768, 4, 1, 0, '12.50%'),
]

# Go 1.21's size_to_class8 and size_to_class128, as they are.
GO_SIZE_TO_CLASS8 = [
    0, 1, 2, 3, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18, 19, 19, 19, 19, 20, 20, 20,
    20, 21, 21, 21, 21, 22, 22, 22, 22, 23, 23, 23, 23, 24, 24, 24, 24, 25,
    25, 25, 25, 26, 26, 26, 26, 27, 27, 27, 27, 27, 27, 27, 27, 28, 28, 28,
    28, 28, 28, 28, 28, 29, 29, 29, 29, 29, 29, 29, 29, 30, 30, 30, 30, 30,
    30, 30, 30, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
    31, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32]

GO_SIZE_TO_CLASS128 = [
    32, 33, 34, 35, 36, 37, 37, 38, 38, 39, 39, 40, 40, 40, 41, 41, 41, 42,
    43, 43, 44, 44, 44, 44, 44, 45, 45, 45, 45, 45, 45, 46, 46, 46, 46, 47,
    47, 47, 47, 47, 47, 48, 48, 48, 49, 49, 50, 51, 51, 51, 51, 51, 51, 51,
    51, 51, 51, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 53, 53, 54, 54, 54,
    54, 55, 55, 55, 55, 55, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 57,
    57, 57, 57, 57, 57, 57, 57, 57, 57, 58, 58, 58, 58, 58, 58, 59, 59, 59,
    59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 60, 60, 60, 60, 60,
    60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 61, 61, 61, 61, 61, 62, 62,
    62, 62, 62, 62, 62, 62, 62, 62, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65,
    65, 65, 65, 65, 65, 65, 65, 65, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67,
    67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67]

CLASSES = msc.make_classes()        # once: each call checks every offset


class GeneratedHeaderTest(unittest.TestCase):
    def test_regenerating_gives_the_checked_in_header(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / 'sizeclasses.h'
            r = subprocess.run(
                [sys.executable, str(REPO / 'tools' / 'mksizeclasses.py'),
                 '-o', str(out)], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            fresh, kept = out.read_bytes(), HEADER.read_bytes()
        if fresh != kept:
            diff = difflib.unified_diff(
                kept.decode(errors='replace').splitlines(),
                fresh.decode(errors='replace').splitlines(),
                'mm/sizeclasses.h (checked in)', 'tools/mksizeclasses.py',
                lineterm='')
            self.fail('mm/sizeclasses.h is stale or edited by hand; run '
                      '`make sizeclasses` and commit it:\n'
                      + '\n'.join(list(diff)[:40]))

    def test_first_line_says_generated(self):
        first = HEADER.read_text().splitlines()[0]
        self.assertIn('generated by tools/mksizeclasses.py', first)
        self.assertIn('DO NOT EDIT', first)

    def test_header_declares_the_interface(self):
        text = HEADER.read_text()
        for define in ['NUM_SIZE_CLASSES 68', 'MAX_SMALL_SIZE 32768',
                       'SMALL_SIZE_DIV 8', 'SMALL_SIZE_MAX 1024',
                       'LARGE_SIZE_DIV 128', 'HEAP_PAGE_SHIFT 13',
                       'HEAP_PAGE_SIZE 8192']:
            self.assertIn(f'\n#define {define}\t', text)
        for decl in [
                'static const u16 class_to_size[NUM_SIZE_CLASSES]',
                'static const u8 class_to_npages[NUM_SIZE_CLASSES]',
                'static const u16 class_to_nobjs[NUM_SIZE_CLASSES]',
                'static const u32 class_to_divmagic[NUM_SIZE_CLASSES]',
                'static const u8 size_to_class8[SMALL_SIZE_MAX / '
                'SMALL_SIZE_DIV + 1]',
                'static const u8 size_to_class128[(MAX_SMALL_SIZE - '
                'SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1]',
                'static inline unsigned size_to_class(size_t size)',
                '#include "kernel/types.h"']:
            self.assertIn(decl, text)


class GoTableTest(unittest.TestCase):
    def test_sizes_and_pages_are_gos(self):
        self.assertEqual(len(CLASSES), 68)
        self.assertEqual(CLASSES[0], msc.SizeClass(0, 0))
        self.assertEqual([(c.size, c.npages) for c in CLASSES[1:]],
                         [(row[0], row[1]) for row in GO_CLASSES])

    def test_objects_and_waste_are_gos(self):
        for i, (size, npages, objects, tail, worst) in enumerate(
                GO_CLASSES, 1):
            c = CLASSES[i]
            with self.subTest(cls=i, size=size):
                self.assertEqual(c.nobjs, objects)
                self.assertEqual(c.tail_waste, tail)
                self.assertEqual(f'{100 * msc.max_waste(CLASSES, i):.2f}%',
                                 worst)

    def test_comment_table_rows(self):
        rows = msc.table_comment(CLASSES)
        self.assertEqual(len(rows), 68)     # a heading and 67 classes
        self.assertEqual(rows[3].split()[1:], [
            '3', '24', '8192', '341', '8', '29.24%', '8'])
        self.assertEqual(rows[67].split()[1:], [
            '67', '32768', '32768', '1', '0', '12.50%', '8192'])

    def test_lookup_tables_are_gos_but_size_0(self):
        class8, class128 = msc.lookup_tables(CLASSES)
        self.assertEqual(class128, GO_SIZE_TO_CLASS128)
        self.assertEqual(class8[1:], GO_SIZE_TO_CLASS8[1:])
        self.assertEqual(GO_SIZE_TO_CLASS8[0], 0)
        self.assertEqual(class8[0], 1)      # size 0 gets the 8-byte class

    def test_divmagic_is_gos_formula(self):
        # Go writes it as ^uint32(0)/size + 1.
        for c in CLASSES[1:]:
            self.assertEqual(c.divmagic, 0xffffffff // c.size + 1, c.size)
        self.assertEqual(CLASSES[0].divmagic, 0)


class RulesTest(unittest.TestCase):
    def test_candidate_size_steps(self):
        sizes = list(msc.candidate_sizes())
        self.assertEqual(sizes[:6], [8, 16, 24, 32, 48, 64])
        steps = {b - a for a, b in zip(sizes, sizes[1:]) if a >= 2048}
        self.assertEqual(steps, {256})
        for lo, hi, step in [(32, 128, 16), (128, 256, 16), (256, 512, 32),
                             (1024, 2048, 128)]:
            self.assertEqual(
                [s for s in sizes if lo <= s <= hi],
                list(range(lo, hi + 1, step)), f'{lo}..{hi}')
        self.assertEqual(sizes[-1], msc.MAX_SMALL_SIZE)

    def test_pages_for_is_the_fewest_with_a_small_tail(self):
        self.assertEqual(msc.pages_for(1024), 1)
        self.assertEqual(msc.pages_for(1408), 2)    # one page: tail 1152
        self.assertEqual(msc.pages_for(8448), 7)    # Go's example
        self.assertEqual(msc.pages_for(32768), 4)
        for size in msc.candidate_sizes():
            n = msc.pages_for(size)
            span = n * msc.HEAP_PAGE_SIZE
            self.assertLessEqual(msc.tail_waste(size, n) * 8, span, size)
            if n > 1:
                self.assertGreater(msc.tail_waste(size, n - 1) * 8,
                                   span - msc.HEAP_PAGE_SIZE, size)

    def test_tail_waste_is_at_most_an_eighth_of_the_span(self):
        for i, c in enumerate(CLASSES[1:], 1):
            self.assertLessEqual(c.tail_waste * 8, c.span_bytes, f'class {i}')

    def test_max_waste_within_gos_bound_from_128_bytes(self):
        # Go's promise: round-up and tail waste are each at most 1/8, so an
        # object costs at most 1.125 * 1.125 times its size. Below 128 B
        # the alignment steps cost more (the 8-byte class: 87.5%).
        bound = 1 - 1 / (1.125 * 1.125)
        worst = max(msc.max_waste(CLASSES, i)
                    for i, c in enumerate(CLASSES) if c.size >= 128)
        self.assertLessEqual(worst, bound)
        self.assertAlmostEqual(worst, 0.1665, places=4)   # class 45, 4864 B

    def test_neighbours_differ_in_pages_or_objects(self):
        # Rule 3 merged any two that did not.
        for i in range(2, len(CLASSES)):
            a, b = CLASSES[i - 1], CLASSES[i]
            self.assertNotEqual((a.npages, a.nobjs), (b.npages, b.nobjs), i)

    def test_classes_are_as_large_as_their_object_count_allows(self):
        # Rule 4: the next multiple of LARGE_SIZE_DIV would not fit as many
        # objects in the span.
        for i, c in enumerate(CLASSES[1:], 1):
            grown = (c.size // msc.LARGE_SIZE_DIV + 1) * msc.LARGE_SIZE_DIV
            self.assertLess(c.span_bytes // grown, c.nobjs, f'class {i}')
        self.assertEqual(CLASSES[52].size, 9472)    # 8448 before rule 4

    def test_lookup_is_the_smallest_fit(self):
        class8, class128 = msc.lookup_tables(CLASSES)
        msc.check_lookup(CLASSES, class8, class128)
        self.assertEqual(msc.lookup(class8, class128, 0), 1)
        self.assertEqual(msc.lookup(class8, class128, 1025), 33)
        self.assertEqual(msc.lookup(class8, class128, 32768), 67)
        self.assertEqual(msc.lookup(class8, class128, 32769), 0)


class ChecksTest(unittest.TestCase):
    """The generator refuses a table that breaks its promises."""

    def test_divmagic_check_accepts_every_class(self):
        for c in CLASSES[1:]:
            msc.check_divmagic(c.size, c.span_bytes, c.divmagic)

    def test_divmagic_check_rejects_a_wrong_magic(self):
        with self.assertRaisesRegex(msc.GeneratorError,
                                    r'size 24: \(24 \* 0xaaaaaaa\)'):
            msc.check_divmagic(24, 8192, msc.divmagic(24) - 1)

    def test_divmagic_check_rejects_a_span_too_large_for_32_bits(self):
        # 9472's magic is right up to offset 625150, 76+ heap pages; its
        # span is 7. Each offset must be checked, not only the span's end.
        msc.check_divmagic(9472, 76 * 8192, msc.divmagic(9472))
        with self.assertRaisesRegex(msc.GeneratorError, r'\(625151 \*'):
            msc.check_divmagic(9472, 77 * 8192, msc.divmagic(9472))
        with self.assertRaisesRegex(msc.GeneratorError, 'fit in 32 bits'):
            msc.check_divmagic(1, 8192, msc.divmagic(1))

    def broken(self, classes, pattern):
        with self.assertRaisesRegex(msc.GeneratorError, pattern):
            msc.check_classes(classes)

    def test_check_rejects_broken_tables(self):
        msc.check_classes(CLASSES)
        c = list(CLASSES)
        self.broken(c[:-1], '67 classes, expected 68')
        self.broken(c[:35] + [msc.SizeClass(1408, 1)] + c[36:],
                    r'class 35 \(1408 B, 1 pages\): tail of 1152 B')
        self.broken(c[:5] + [c[6], c[5]] + c[7:], 'class 6 .*not larger')
        self.broken(c[:40] + [msc.SizeClass(2600, 1)] + c[41:],
                    'class 40 .*not a multiple of 128')
        self.broken(c[:-1] + [msc.SizeClass(32640, 4)], 'not MAX_SMALL_SIZE')

    def test_a_failing_check_writes_nothing(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / 'sizeclasses.h'
            err = io.StringIO()
            with mock.patch.object(msc, 'NUM_SIZE_CLASSES', 67), \
                    contextlib.redirect_stderr(err):
                self.assertEqual(msc.main(['-o', str(out)]), 1)
            self.assertFalse(out.exists())
            self.assertIn('68 classes, expected 67', err.getvalue())


if __name__ == '__main__':
    unittest.main()
