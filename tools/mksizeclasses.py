#!/usr/bin/env python3
"""Writes mm/sizeclasses.h, the small-object size classes of the heap.

Usage: mksizeclasses.py [-o OUT]      (default: mm/sizeclasses.h; - is stdout)
       make sizeclasses               (the same)

The rules are those of Go's runtime/mksizeclasses.go, so the table is Go's
(Go 1.21: 68 classes, class 0 unused):

1. Candidate sizes run from 8 bytes to MAX_SMALL_SIZE in steps that grow
   with the size. The step starts at 8 and is chosen again at every power
   of two: 16 from 32 B, size/8 from 128 B, 256 from 2 KiB. (So 24 B is a
   class but 40 B is not: only the 8- and 24-byte classes are not 16-byte
   multiples.)
2. Each size gets the fewest heap pages (8 KiB each, see below) whose span
   leaves a tail, the bytes after the last whole object, of at most 1/8 of
   the span.
3. A size whose span has the same page count and object count as the class
   before it replaces that class's size: the larger size wastes nothing
   more per span.
4. Then every class grows to the largest multiple of LARGE_SIZE_DIV that
   still fits the same number of objects in its span (Go's example: 8448
   becomes 9472, six objects in seven pages either way).

Spans are counted in Go's 8 KiB heap pages (HEAP_PAGE_SHIFT 13), not in the
kernel's 4 KiB frames, so the table equals Go's; the heap turns heap pages
into frames (two per heap page).

Every class also gets a 32-bit division magic, ceil(2^32 / size): for every
offset n from 0 to the span's size, (n * magic) >> 32 == n / size. The
generator checks that for every such n and stops if it fails, as it stops
on any other broken property of the table. The output depends on nothing
but this file, so regenerating it must give the checked-in file byte for
byte (tests/harness/test_sizeclasses.py checks that).
"""
import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUTPUT = 'mm/sizeclasses.h'

MAX_SMALL_SIZE = 32 << 10       # larger objects get their own spans
SMALL_SIZE_DIV = 8              # size_to_class8 step, up to SMALL_SIZE_MAX
SMALL_SIZE_MAX = 1024
LARGE_SIZE_DIV = 128            # size_to_class128 step, above SMALL_SIZE_MAX
HEAP_PAGE_SHIFT = 13            # Go's page: spans are made of 8 KiB pages
HEAP_PAGE_SIZE = 1 << HEAP_PAGE_SHIFT
NUM_SIZE_CLASSES = 68           # with class 0; what the rules above give
MAX_TAIL_FRACTION = 8           # a span's tail is at most 1/8 of it


class GeneratorError(Exception):
    """The rules gave a table that breaks one of its promises."""


@dataclass(frozen=True)
class SizeClass:
    size: int                   # bytes per object
    npages: int                 # heap pages per span

    @property
    def span_bytes(self) -> int:
        return self.npages * HEAP_PAGE_SIZE

    @property
    def nobjs(self) -> int:
        return self.span_bytes // self.size if self.size else 0

    @property
    def tail_waste(self) -> int:
        return self.span_bytes - self.nobjs * self.size

    @property
    def divmagic(self) -> int:
        return divmagic(self.size) if self.size else 0


def is_power_of_two(x: int) -> bool:
    return x > 0 and x & (x - 1) == 0


def candidate_sizes():
    """Rule 1: the sizes worth a class, in increasing order."""
    step, size = 8, 8
    while size <= MAX_SMALL_SIZE:
        yield size
        if is_power_of_two(size):
            if size >= 2048:
                step = 256
            elif size >= 128:
                step = size // 8
            elif size >= 32:
                step = 16
        size += step


def tail_waste(size: int, npages: int) -> int:
    """Bytes left over after cutting npages heap pages into size-byte
    objects."""
    return npages * HEAP_PAGE_SIZE % size


def pages_for(size: int) -> int:
    """Rule 2: the fewest heap pages with a tail of at most 1/8 of the
    span."""
    npages = 1
    while (tail_waste(size, npages)
           > npages * HEAP_PAGE_SIZE // MAX_TAIL_FRACTION):
        npages += 1
    return npages


def make_classes() -> list[SizeClass]:
    """The classes, index = class number; class 0 is a placeholder (size 0,
    no pages) for "not a small object"."""
    classes = [SizeClass(0, 0)]
    for size in candidate_sizes():
        c = SizeClass(size, pages_for(size))
        prev = classes[-1]
        if (len(classes) > 1 and prev.npages == c.npages
                and prev.nobjs == c.span_bytes // c.size):
            classes[-1] = c         # rule 3
        else:
            classes.append(c)
    for i in range(1, len(classes)):    # rule 4
        c = classes[i]
        grown = c.span_bytes // c.nobjs // LARGE_SIZE_DIV * LARGE_SIZE_DIV
        if grown > c.size:
            classes[i] = SizeClass(grown, c.npages)
    check_classes(classes)
    return classes


def check_classes(classes: list[SizeClass]) -> None:
    """Everything the heap relies on; raises GeneratorError."""
    if len(classes) != NUM_SIZE_CLASSES:
        raise GeneratorError(f'{len(classes)} classes, expected '
                             f'{NUM_SIZE_CLASSES}: the rules changed')
    if classes[-1].size != MAX_SMALL_SIZE:
        raise GeneratorError(f'the last class is {classes[-1].size} B, '
                             f'not MAX_SMALL_SIZE ({MAX_SMALL_SIZE})')
    for i, c in enumerate(classes[1:], 1):
        what = f'class {i} ({c.size} B, {c.npages} pages)'
        if c.size <= classes[i - 1].size:
            raise GeneratorError(f'{what}: not larger than class {i - 1}')
        # Class sizes on the lookup tables' grid make the lookups exact.
        grid = SMALL_SIZE_DIV if c.size <= SMALL_SIZE_MAX else LARGE_SIZE_DIV
        if c.size % grid:
            raise GeneratorError(f'{what}: not a multiple of {grid}')
        if c.tail_waste * MAX_TAIL_FRACTION > c.span_bytes:
            raise GeneratorError(f'{what}: tail of {c.tail_waste} B is over '
                                 f'1/{MAX_TAIL_FRACTION} of the span')
        if not 1 <= c.npages <= 255 or c.nobjs > 0xffff:
            raise GeneratorError(f'{what}: does not fit the table types')
        check_divmagic(c.size, c.span_bytes, c.divmagic)


def divmagic(size: int) -> int:
    """ceil(2^32 / size): the multiplier that turns a division by size
    into a multiply and a shift, for the offsets of one span."""
    return -(-(1 << 32) // size)


def check_divmagic(size: int, span_bytes: int, magic: int) -> None:
    """Raises GeneratorError unless (n * magic) >> 32 == n // size for
    every n in 0..span_bytes, and magic fits in 32 bits."""
    if not 0 < magic < 1 << 32:
        raise GeneratorError(f'size {size}: magic {magic:#x} does not fit '
                             f'in 32 bits')
    index, start = 0, 0             # n // size, and where that index began
    for n in range(span_bytes + 1):
        if n - start == size:
            index, start = index + 1, n
        if (n * magic) >> 32 != index:
            raise GeneratorError(
                f'size {size}: ({n} * {magic:#x}) >> 32 is '
                f'{(n * magic) >> 32}, but {n} / {size} is {index}')


def smallest_class(classes: list[SizeClass], size: int) -> int:
    """The smallest class holding size bytes; size 0 gets class 1."""
    return next(i for i, c in enumerate(classes) if i and c.size >= size)


def lookup_tables(classes):
    """size_to_class8 (by (size + 7) / 8, size <= SMALL_SIZE_MAX) and
    size_to_class128 (by (size - SMALL_SIZE_MAX + 127) / 128): each entry
    is the class for the largest size of its bucket, which is every size's
    smallest class because class sizes lie on the grid."""
    class8 = [smallest_class(classes, i * SMALL_SIZE_DIV)
              for i in range(SMALL_SIZE_MAX // SMALL_SIZE_DIV + 1)]
    class128 = [smallest_class(classes, SMALL_SIZE_MAX + i * LARGE_SIZE_DIV)
                for i in range((MAX_SMALL_SIZE - SMALL_SIZE_MAX)
                               // LARGE_SIZE_DIV + 1)]
    return class8, class128


def lookup(class8, class128, size: int) -> int:
    """What size_to_class() in the header computes."""
    if size <= SMALL_SIZE_MAX:
        return class8[(size + SMALL_SIZE_DIV - 1) // SMALL_SIZE_DIV]
    if size <= MAX_SMALL_SIZE:
        return class128[(size - SMALL_SIZE_MAX + LARGE_SIZE_DIV - 1)
                        // LARGE_SIZE_DIV]
    return 0


def check_lookup(classes, class8, class128) -> None:
    want = 1
    for size in range(MAX_SMALL_SIZE + 1):
        while classes[want].size < size:
            want += 1
        got = lookup(class8, class128, size)
        if got != want:
            raise GeneratorError(f'size {size}: lookup gives class {got}, '
                                 f'the smallest fit is {want}')


def max_waste(classes: list[SizeClass], i: int) -> float:
    """The worst fraction of class i's span that is not asked-for bytes:
    every object one byte more than the class below, plus the tail."""
    c = classes[i]
    below = classes[i - 1].size
    return ((c.size - below - 1) * c.nobjs + c.tail_waste) / c.span_bytes


def min_align(size: int) -> int:
    """The alignment every object of this size has in a span: the largest
    power of two dividing size, at most a heap page (spans are heap-page
    aligned)."""
    return min(size & -size, HEAP_PAGE_SIZE)


def table_comment(classes: list[SizeClass]) -> list[str]:
    lines = ['// class  bytes/obj  bytes/span  objects  tail waste  '
             'max waste  min align']
    for i, c in enumerate(classes[1:], 1):
        lines.append(f'// {i:5}  {c.size:9}  {c.span_bytes:10}  '
                     f'{c.nobjs:7}  {c.tail_waste:10}  '
                     f'{100 * max_waste(classes, i):8.2f}%  '
                     f'{min_align(c.size):9}')
    return lines


def c_array(decl: str, values) -> list[str]:
    """A static const array, values wrapped at 100 columns."""
    head = f'static const {decl} __attribute__((unused)) = {{'
    if len(head) > 100:
        head = f'static const {decl}\n\t__attribute__((unused)) = {{'
    lines = head.split('\n')
    line = '\t'
    for v in values:
        item = f'{v},'
        if len(line.expandtabs(8)) + 1 + len(item) > 100:
            lines.append(line)
            line = '\t'
        line += item if line == '\t' else ' ' + item
    lines += [line, '};']
    return lines


HEADER = '''\
// Code generated by tools/mksizeclasses.py (make sizeclasses); DO NOT EDIT.
// Size classes of the small-object heap: per class the object size, the
// span size and the division magic, and the size-to-class lookup.
//
// The classes are Go's (runtime/sizeclasses.go, Go 1.21): 67 sizes from
// 8 B to MAX_SMALL_SIZE, each with a span that wastes at most 1/8 of itself
// in its tail. tools/mksizeclasses.py says how they are chosen. Class 0 is
// not a size: it stands for "large object" (more than MAX_SMALL_SIZE, its
// own span) and its entries are 0.
//
// Spans are counted in heap pages of HEAP_PAGE_SIZE (8 KiB, Go's page),
// not in the kernel's 4 KiB frames: a span of class_to_npages[c] heap pages
// is class_to_npages[c] * 2 frames.
//
// The arrays are static const in this header, so the compiler can fold a
// lookup with a constant class, and it drops the arrays a file does not use
// (at -O2; __attribute__((unused)) keeps -Wall quiet about them).
#pragma once

#include "kernel/types.h"

'''

FOOTER = '''
// The smallest class whose objects hold size bytes: the class of an
// allocation of size bytes. Size 0 gets class 1 (8 bytes), like size 1;
// a size above MAX_SMALL_SIZE gets 0, "large object".
static inline unsigned size_to_class(size_t size)
{
	if (size <= SMALL_SIZE_MAX)
		return size_to_class8[(size + SMALL_SIZE_DIV - 1) / SMALL_SIZE_DIV];
	if (size <= MAX_SMALL_SIZE)
		return size_to_class128[(size - SMALL_SIZE_MAX + LARGE_SIZE_DIV - 1) / LARGE_SIZE_DIV];
	return 0;
}

// The index of the object at byte offset off of a span of class c (c != 0,
// off <= the span's size), without a divide: off / class_to_size[c].
static inline u32 sizeclass_object_index(unsigned c, u32 off)
{
	return (u32)(((u64)off * class_to_divmagic[c]) >> 32);
}
'''


def class_of_macro(classes: list[SizeClass]) -> list[str]:
    """SIZE_CLASS_OF(n): the lookup as one conditional expression."""
    terms = [f'(n) <= {c.size} ? {i} :' for i, c in enumerate(classes) if i]
    lines, line = [], '\t('
    for t in terms:
        if len(line) + len(t) > 72:
            lines.append(line.rstrip())
            line = '\t '
        line += t + ' '
    lines.append(line + '0)')
    width = max(len(x.expandtabs(8)) for x in lines) + 1
    body = [x + ' ' * (width - len(x.expandtabs(8))) + '\\'
            for x in lines[:-1]] + [lines[-1]]
    return ['', '// SIZE_CLASS_OF(n): size_to_class(n) as a constant '
            'expression, for static',
            '// initializers (GC_TYPE records a type\'s span class at '
            'compile time). It',
            '// names n once per class: give it constants.',
            '#define SIZE_CLASS_OF(n)' + ' ' * (width - 24) + '\\'] + body


def render(classes: list[SizeClass]) -> str:
    class8, class128 = lookup_tables(classes)
    check_lookup(classes, class8, class128)
    out = HEADER.splitlines()
    out += table_comment(classes)
    out += ['', f'#define NUM_SIZE_CLASSES {len(classes)}\t// classes '
            f'0..{len(classes) - 1}; 0 is "large"']
    for name, value, why in [
            ('MAX_SMALL_SIZE', MAX_SMALL_SIZE, 'the largest small object'),
            ('SMALL_SIZE_DIV', SMALL_SIZE_DIV, 'size_to_class8 step'),
            ('SMALL_SIZE_MAX', SMALL_SIZE_MAX, 'size_to_class8 up to this'),
            ('LARGE_SIZE_DIV', LARGE_SIZE_DIV, 'size_to_class128 step'),
            ('HEAP_PAGE_SHIFT', HEAP_PAGE_SHIFT, "Go's page, the span unit"),
            ('HEAP_PAGE_SIZE', HEAP_PAGE_SIZE, '8 KiB, two 4 KiB frames')]:
        out.append(f'#define {name} {value}\t// {why}')
    out.append('')
    out += ['// Bytes per object.']
    out += c_array('u16 class_to_size[NUM_SIZE_CLASSES]',
                   [c.size for c in classes])
    out += ['', '// Span size in heap pages (HEAP_PAGE_SIZE each).']
    out += c_array('u8 class_to_npages[NUM_SIZE_CLASSES]',
                   [c.npages for c in classes])
    out += ['', '// Objects per span.']
    out += c_array('u16 class_to_nobjs[NUM_SIZE_CLASSES]',
                   [c.nobjs for c in classes])
    out += ['', '// ceil(2^32 / size): (off * magic) >> 32 == off / size for '
            'every offset', '// 0..span size (checked by the generator).']
    out += c_array('u32 class_to_divmagic[NUM_SIZE_CLASSES]',
                   [c.divmagic for c in classes])
    out += ['', '// Class by (size + 7) / 8, for size <= SMALL_SIZE_MAX. '
            "Entry 0 is 1, where Go's",
            '// is 0: size 0 gets the 8-byte class.']
    out += c_array('u8 size_to_class8[SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1]',
                   class8)
    out += ['', '// Class by (size - SMALL_SIZE_MAX + 127) / 128, for '
            'SMALL_SIZE_MAX < size <= MAX_SMALL_SIZE.']
    out += c_array('u8 size_to_class128[(MAX_SMALL_SIZE - SMALL_SIZE_MAX) '
                   '/ LARGE_SIZE_DIV + 1]', class128)
    out += FOOTER.splitlines()
    out += class_of_macro(classes)
    return '\n'.join(out) + '\n'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-o', '--output', default=str(REPO / OUTPUT),
                        help=f'where to write (default: {OUTPUT}; - is '
                        'stdout)')
    args = parser.parse_args(argv)
    try:
        text = render(make_classes())
    except GeneratorError as e:
        print(f'mksizeclasses: {e}', file=sys.stderr)
        return 1
    if args.output == '-':
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
