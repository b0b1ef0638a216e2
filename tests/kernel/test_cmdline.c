// Command-line parsing: good options, unknown, malformed and overlong ones.
// A rejected option must leave the configuration exactly as it was.

#include "kernel/cmdline.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "tests/kernel/ktest.h"

static struct kconfig cfg, defaults;
static struct cmdline_diag d;

static void parse(const char *s)
{
	kconfig_defaults(&cfg);
	cmdline_parse(s, &cfg, &d);
}

KTEST(cmdline, good_options)
{
	parse("gctrace=1 gccheckmark=1 gcstoptheworld=2 clobberfree=1 gcpercent=50 "
	      "memlimit=64MiB loglevel=3 test=frame.* bench testtimeout=2500 benchtime=250 stwtrace=50");
	KT_EXPECT_EQ(t, d.warnings, 0);
	KT_EXPECT_EQ(t, d.options, 12);
	KT_EXPECT_EQ(t, cfg.gctrace, 1);
	KT_EXPECT_EQ(t, cfg.gccheckmark, true);
	KT_EXPECT_EQ(t, cfg.gcstoptheworld, 2);
	KT_EXPECT_EQ(t, cfg.clobberfree, true);
	KT_EXPECT_EQ(t, cfg.stwtrace_us, 50);
	KT_EXPECT_EQ(t, cfg.gcpercent, 50);
	KT_EXPECT_EQ(t, cfg.memlimit, 64ull << 20);
	KT_EXPECT_EQ(t, cfg.loglevel, 3);
	KT_EXPECT_EQ(t, cfg.test, true);
	KT_EXPECT_STREQ(t, cfg.test_glob, "frame.*");
	KT_EXPECT_EQ(t, cfg.bench, true);
	KT_EXPECT_STREQ(t, cfg.bench_glob, "*");	// bare: everything
	KT_EXPECT_EQ(t, cfg.testtimeout_ms, 2500);
	KT_EXPECT_EQ(t, cfg.benchtime_ms, 250);
}

KTEST(cmdline, defaults)
{
	parse("");
	KT_EXPECT_EQ(t, d.warnings, 0);
	KT_EXPECT_EQ(t, d.options, 0);
	KT_EXPECT_EQ(t, cfg.gcpercent, 100);
	KT_EXPECT_EQ(t, cfg.memlimit, UINT64_MAX);
	KT_EXPECT_EQ(t, cfg.test, false);
	KT_EXPECT_EQ(t, cfg.benchtime_ms, 1000);
	parse("   \t  ");
	KT_EXPECT_EQ(t, d.warnings, 0);
}

KTEST(cmdline, values)
{
	parse("gcpercent=off memlimit=1GiB");
	KT_EXPECT_EQ(t, cfg.gcpercent, -1);
	KT_EXPECT_EQ(t, cfg.memlimit, 1ull << 30);
	parse("memlimit=18446744073709551615 gctrace=1 gctrace=2");
	KT_EXPECT_EQ(t, cfg.memlimit, UINT64_MAX);
	KT_EXPECT_EQ(t, cfg.gctrace, 2);	// the later option wins
	parse("memlimit=4096B memlimit=3KiB");
	KT_EXPECT_EQ(t, cfg.memlimit, 3072);
	parse("testinject=hang:frame.*");
	KT_EXPECT_EQ(t, cfg.inject, INJECT_HANG);
	KT_EXPECT_STREQ(t, cfg.inject_glob, "frame.*");
	KT_EXPECT_EQ(t, d.warnings, 0);
}

KTEST(cmdline, unknown_options_warn)
{
	parse("foo=bar gctrace=1 baz GCTRACE=1");
	KT_EXPECT_EQ(t, d.warnings, 3);
	KT_EXPECT_EQ(t, cfg.gctrace, 1);	// the good option still applies
	KT_EXPECT(t, strstr(d.msg[0], "unknown option 'foo'") != NULL, "warning \"%s\"", d.msg[0]);
	KT_EXPECT(t, strstr(d.msg[1], "'baz'") != NULL, "warning \"%s\"", d.msg[1]);
	KT_EXPECT(t, strstr(d.msg[2], "'GCTRACE'") != NULL, "names are case-sensitive: \"%s\"", d.msg[2]);
}

KTEST(cmdline, malformed_options_change_nothing)
{
	static const char *const bad[] = {
		"=5", "=", "gctrace=", "gctrace", "gctrace=abc", "gctrace=9", "gctrace=1x",
		"gctrace=-1", "gccheckmark=2", "gccheckmark=yes", "gcpercent=-1", "gcpercent=",
		"gcpercent=99999999999", "memlimit=12XB", "memlimit=MiB", "memlimit=",
		"memlimit=99999999999999999999", "memlimit=17179869184TiB", "loglevel=4",
		"testinject=bogus:x", "testinject=fail:", "testinject=fail", "testtimeout=0",
		"test=", "bench=", "benchtime=1s", "benchtime=0", "stwtrace=-1", "stwtrace=1000001",
		"stwtrace=us",
	};
	kconfig_defaults(&defaults);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		parse(bad[i]);
		KT_EXPECT(t, d.warnings == 1, "\"%s\": %d warnings, want 1", bad[i], d.warnings);
		KT_EXPECT(t, d.options == 0, "\"%s\" was applied", bad[i]);
		KT_EXPECT(t, memcmp(&cfg, &defaults, sizeof(cfg)) == 0, "\"%s\" changed the configuration",
			  bad[i]);
	}
}

KTEST(cmdline, overlong_options)
{
	static char line[CMDLINE_MAX];
	// One option longer than CMDLINE_OPT_MAX, then a good one.
	memset(line, 'x', 300);
	strlcpy(line + 300, " gctrace=1", sizeof(line) - 300);
	parse(line);
	KT_EXPECT_EQ(t, d.warnings, 1);
	KT_EXPECT(t, strstr(d.msg[0], "too long") != NULL, "warning \"%s\"", d.msg[0]);
	KT_EXPECT_EQ(t, cfg.gctrace, 1);
	// A glob longer than the pattern buffer is refused, not cut.
	strlcpy(line, "test=", sizeof(line));
	memset(line + 5, 'a', 200);
	line[205] = 0;
	parse(line);
	KT_EXPECT_EQ(t, d.warnings, 1);
	KT_EXPECT_EQ(t, cfg.test, false);
	// Many bad options: all are counted, the first few kept for printing.
	parse("a b c d e f g h i j k l");
	KT_EXPECT_EQ(t, d.warnings, 12);
	KT_EXPECT(t, strstr(d.msg[CMDLINE_DIAG_KEEP - 1], "'h'") != NULL, "8th warning \"%s\"",
		  d.msg[CMDLINE_DIAG_KEEP - 1]);
}

KTEST(cmdline, booted_line_applied)
{
	// This run was started with a `test` option, so the live configuration
	// must say so (the harness passes "test" or "test=GLOB").
	KT_EXPECT_EQ(t, kconfig.test, true);
	KT_EXPECT(t, kconfig.test_glob[0] != 0, "empty test glob");
}
