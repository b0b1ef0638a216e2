#!/usr/bin/env python3
"""Writes the kernel's embedded symbol table as an assembly file.

Usage: mksyms.py [--nm NM] KERNEL.ELF OUT.S   (table of KERNEL.ELF's functions)
       mksyms.py --empty OUT.S                (empty table for the first link)

The kernel is linked twice: once with an empty table, then with the table
generated from that first image. The table is the image's last segment
(linker.ld), so it moves no function; the Makefile checks that the text
symbols of both links agree.
"""
import argparse
import subprocess
import sys

KERNEL_VMA = 0xFFFFFFFF80000000


def functions(nm, elf):
    out = subprocess.run([nm, "-n", "--defined-only", elf], check=True,
                         capture_output=True, text=True).stdout
    best = {}
    lines = [l.split() for l in out.splitlines()]
    # The end of text (a linker-script marker) bounds the table.
    etext = next(int(p[0], 16) for p in lines if len(p) == 3 and p[2] == "_etext")
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] not in "TtWw":
            continue
        addr = int(parts[0], 16)
        if addr < KERNEL_VMA or addr >= etext:
            continue  # 32-bit boot code (never in a 64-bit backtrace), or past text
        name = parts[2]
        # One name per address: prefer a global symbol, then one that is not
        # a linker-script marker such as _text.
        rank = (parts[1] in "TW", not name.startswith("_"))
        if addr not in best or rank > best[addr][0]:
            best[addr] = (rank, name)
    return sorted((a, n) for a, (_, n) in best.items())


def write(out, syms):
    lines = ['\t.section .ksyms, "a"', "\t.balign 8",
             "\t.globl ksyms_count, ksyms_addr, ksyms_name_off, ksyms_names",
             f"ksyms_count:\n\t.quad {len(syms)}", "ksyms_addr:"]
    lines += [f"\t.quad 0x{a:x}" for a, _ in syms]
    lines.append("ksyms_name_off:")
    off = 0
    for _, n in syms:
        lines.append(f"\t.long {off}")
        off += len(n) + 1
    lines.append("ksyms_names:")
    lines += [f'\t.asciz "{n}"' for _, n in syms]
    if not syms:
        lines.append("\t.byte 0")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--empty", action="store_true")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    if a.empty:
        write(a.files[0], [])
    elif len(a.files) == 2:
        write(a.files[1], functions(a.nm, a.files[0]))
    else:
        ap.error("expected KERNEL.ELF OUT.S")
    return 0


if __name__ == "__main__":
    sys.exit(main())
