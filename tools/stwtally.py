#!/usr/bin/env python3
"""Tally `stwtrace=US` lines (kernel/smp.c) from serial logs.

Each line names the CPU a slow stop of the world waited for, where its
IPI found it and where it parked. This sums the waits by (how it parked,
the first function below the parking machinery, the preempt count when
the IPI came), largest total first. "late" is the part of the waits
after that CPU had parked: the stopping CPU itself was slow to see it
(under TCG, its vCPU not running).

    python3 tools/stwtally.py build/test-logs/NAME.com1.log [...]

how: "preempt_enable" (a region ended and saw the request), "irqexit"
(the IPI's own exit parked it), "idle" (the idle loop parked it).
A preempt count of "-" means the CPU parked before its IPI came.
"""
import collections
import re
import sys

LINE = re.compile(r"stwtrace: stop \d+ waited (\d+) us for cpu \d+: (.*)")
IPI = re.compile(r"IPI came at \d+ us in .*?\(preempt count (\d+)\)")
PARK = re.compile(r"parked at (\d+) us in (.*?)(?:, before its IPI came)?$")
MACHINERY = {"stw_park", "preempt_pending_work", "sched_irq_exit", "alltraps", "stw_idle_enter", "schedule",
             "spin_unlock", "spin_unlock_irqrestore"}


def main(paths):
    waits = collections.defaultdict(list)
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                m = LINE.search(line)
                park = m and PARK.search(m.group(2).rstrip())
                if not park:
                    continue
                frames = [x.split("+")[0] for x in park.group(2).split(" < ")]
                site = next((x for x in frames if x not in MACHINERY), "?")
                how = ("idle" if "stw_idle_enter" in frames else
                       "irqexit" if "sched_irq_exit" in frames else "preempt_enable")
                ipi = IPI.search(m.group(2))
                wait = int(m.group(1))
                waits[(how, site, ipi.group(1) if ipi else "-")].append((wait, wait - int(park.group(1))))
    print(f"{'total us':>8} {'late us':>7} {'stops':>5} {'max us':>6}  how / where / preempt count at the IPI")
    for (how, site, count), v in sorted(waits.items(), key=lambda kv: -sum(w for w, _ in kv[1])):
        total, late = sum(w for w, _ in v), sum(x for _, x in v)
        print(f"{total:8d} {late:7d} {len(v):5d} {max(w for w, _ in v):6d}  {how} / {site} / {count}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
