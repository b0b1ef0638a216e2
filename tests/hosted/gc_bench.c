// The collector's benchmarks at native speed: the kernel's
// (tests/kernel/bench_gc.c, built here unchanged through
// tests/hosted/kcompat/) with the kernel's runner (tests/kernel/kbench.c),
// over the hosted build of mm/ and gc/ (-O2, no sanitizers). Go-format
// lines on stdout; the collector's log on stderr.
//
//	gc_bench [-bench GLOB] [-benchtime MS] [-cpus P] [-cmdline 'gcpercent=200 ...']

#include <stdio.h>
#include <stdlib.h>

#include "gc/gc.h"
#include "kernel/cmdline.h"
#include "mm/heap.h"
#include "tests/hosted/kcompat/kcompat.h"
#include "tests/kernel/kbench.h"

int main(int argc, char **argv)
{
	const char *glob = "*", *cmdline = "";
	long benchtime_ms = 1000;
	unsigned ncpus = 2;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-bench") && i + 1 < argc)
			glob = argv[++i];
		else if (!strcmp(argv[i], "-benchtime") && i + 1 < argc)
			benchtime_ms = atol(argv[++i]);
		else if (!strcmp(argv[i], "-cpus") && i + 1 < argc)
			ncpus = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "-cmdline") && i + 1 < argc)
			cmdline = argv[++i];
		else {
			fprintf(stderr, "usage: %s [-bench GLOB] [-benchtime MS] [-cpus P] [-cmdline 'OPTIONS']\n",
				argv[0]);
			return 2;
		}
	}
	if (benchtime_ms < 1 || benchtime_ms > 600000) {
		fprintf(stderr, "gc_bench: -benchtime: need 1..600000 ms\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	hosted_init(ncpus);
	hosted_cpu_enter(0);
	hosted_gc_start(cmdline);
	kconfig.benchtime_ms = (int)benchtime_ms;
	return kbench_run_all(glob, hosted_print_bench_header) ? 1 : 0;
}
