// Command-line parsing: a table of known options, each with a kind that
// says how its value parses. Values are checked fully (no trailing junk,
// no overflow) before anything is stored.

#include "kernel/cmdline.h"
#include "kernel/printf.h"
#include "kernel/string.h"

struct kconfig kconfig;

enum optkind { OPT_BOOL, OPT_INT, OPT_PERCENT, OPT_BYTES, OPT_GLOB, OPT_INJECT };

struct option {
	const char *name;
	enum optkind kind;
	size_t off;		// offset of the value in struct kconfig
	size_t flag_off;	// OPT_GLOB: offset of the bool that turns it on
	i64 min, max;		// OPT_INT range
};

#define F(field) offsetof(struct kconfig, field)
static const struct option options[] = {
	{"gctrace", OPT_INT, F(gctrace), 0, 0, 2},
	{"gccheckmark", OPT_BOOL, F(gccheckmark), 0, 0, 0},
	{"gcstoptheworld", OPT_INT, F(gcstoptheworld), 0, 0, 2},
	{"clobberfree", OPT_BOOL, F(clobberfree), 0, 0, 0},
	{"stwtrace", OPT_INT, F(stwtrace_us), 0, 0, 1000000},
	{"gcpercent", OPT_PERCENT, F(gcpercent), 0, 0, 0},
	{"memlimit", OPT_BYTES, F(memlimit), 0, 0, 0},
	{"loglevel", OPT_INT, F(loglevel), 0, LOG_ERR, LOG_DEBUG},
	{"test", OPT_GLOB, F(test_glob), F(test), 0, 0},
	{"bench", OPT_GLOB, F(bench_glob), F(bench), 0, 0},
	{"benchtime", OPT_INT, F(benchtime_ms), 0, 1, 600000},
	{"testinject", OPT_INJECT, F(inject), 0, 0, 0},
	{"testtimeout", OPT_INT, F(testtimeout_ms), 0, 1, 3600000},
};
#undef F

static const char *const inject_names[] = {"none", "fail", "panic", "pagefault", "hang", "triple"};

const char *testinject_name(enum testinject m)
{
	return (unsigned)m < ARRAY_SIZE(inject_names) ? inject_names[m] : "?";
}

void kconfig_defaults(struct kconfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->gcpercent = 100;
	cfg->memlimit = UINT64_MAX;
	cfg->loglevel = LOG_INFO;
	cfg->testtimeout_ms = 60000;
	cfg->benchtime_ms = 1000;
}

static __printf(2, 3) void warn(struct cmdline_diag *d, const char *fmt, ...)
{
	if (d->warnings < CMDLINE_DIAG_KEEP) {
		va_list ap;
		va_start(ap, fmt);
		kvsnprintf(d->msg[d->warnings], sizeof(d->msg[0]), fmt, ap);
		va_end(ap);
	}
	d->warnings++;
}

// parse_u64: decimal digits only, the whole string, no overflow.
static bool parse_u64(const char *s, u64 *out)
{
	u64 v = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		u64 digit = (u64)(*s - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

// parse_bytes: N with an optional B, KiB, MiB, GiB or TiB suffix (the
// suffixes GOMEMLIMIT accepts), no overflow.
static bool parse_bytes(const char *s, u64 *out)
{
	static const struct { const char *sfx; unsigned shift; } units[] = {
		{"B", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40},
	};
	char num[32];
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, s, n);
	num[n] = 0;
	u64 v;
	if (!parse_u64(num, &v))
		return false;
	unsigned shift = 0;
	if (s[n]) {
		size_t i;
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (strcmp(s + n, units[i].sfx) == 0)
				break;
		if (i == ARRAY_SIZE(units))
			return false;
		shift = units[i].shift;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

static bool apply(const struct option *o, const char *val, struct kconfig *cfg, struct cmdline_diag *d)
{
	char *base = (char *)cfg;
	u64 u;
	switch (o->kind) {
	case OPT_BOOL:
		if (!val || (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)) {
			warn(d, "option %s needs =0 or =1, got %s%s; ignored", o->name, val ? "=" : "no value",
			     val ? val : "");
			return false;
		}
		*(bool *)(base + o->off) = val[0] == '1';
		return true;
	case OPT_INT:
		if (!val || !parse_u64(val, &u) || (i64)u < o->min || (i64)u > o->max || u > INT32_MAX) {
			warn(d, "option %s needs an integer in %ld..%ld, got %s%s; ignored", o->name, o->min,
			     o->max, val ? "=" : "no value", val ? val : "");
			return false;
		}
		if (o->off == offsetof(struct kconfig, testtimeout_ms))
			*(u32 *)(base + o->off) = (u32)u;
		else
			*(int *)(base + o->off) = (int)u;
		return true;
	case OPT_PERCENT:
		if (val && strcmp(val, "off") == 0) {
			*(int *)(base + o->off) = -1;
			return true;
		}
		if (!val || !parse_u64(val, &u) || u > 1000000) {
			warn(d, "option %s needs a percentage 0..1000000 or off, got %s%s; ignored", o->name,
			     val ? "=" : "no value", val ? val : "");
			return false;
		}
		*(int *)(base + o->off) = (int)u;
		return true;
	case OPT_BYTES:
		if (!val || !parse_bytes(val, &u)) {
			warn(d, "option %s needs a byte count (N, NKiB, NMiB, NGiB, NTiB), got %s%s; ignored",
			     o->name, val ? "=" : "no value", val ? val : "");
			return false;
		}
		*(u64 *)(base + o->off) = u;
		return true;
	case OPT_GLOB:
		if (val && (!*val || strlen(val) >= CMDLINE_GLOB_MAX)) {
			warn(d, "option %s: pattern %s; ignored", o->name,
			     *val ? "too long" : "empty");
			return false;
		}
		*(bool *)(base + o->flag_off) = true;
		strlcpy(base + o->off, val ? val : "*", CMDLINE_GLOB_MAX);
		return true;
	case OPT_INJECT: {
		const char *colon = val ? strstr(val, ":") : NULL;
		size_t i = 1;
		if (colon)
			for (; i < ARRAY_SIZE(inject_names); i++)
				if (strlen(inject_names[i]) == (size_t)(colon - val) &&
				    strncmp(val, inject_names[i], (size_t)(colon - val)) == 0)
					break;
		if (!colon || i == ARRAY_SIZE(inject_names) || !colon[1] ||
		    strlen(colon + 1) >= CMDLINE_GLOB_MAX) {
			warn(d, "option %s needs MODE:GLOB with MODE fail, panic, pagefault, hang or "
				"triple; ignored", o->name);
			return false;
		}
		cfg->inject = (enum testinject)i;
		strlcpy(cfg->inject_glob, colon + 1, CMDLINE_GLOB_MAX);
		return true;
	}
	}
	return false;
}

static void parse_option(const char *tok, size_t len, struct kconfig *cfg, struct cmdline_diag *d)
{
	if (len >= CMDLINE_OPT_MAX) {
		warn(d, "option of %zu characters starting '%.24s' is too long (max %d); ignored", len, tok,
		     CMDLINE_OPT_MAX - 1);
		return;
	}
	char buf[CMDLINE_OPT_MAX];
	memcpy(buf, tok, len);
	buf[len] = 0;
	char *val = NULL;
	for (char *p = buf; *p; p++)
		if (*p == '=') {
			*p = 0;
			val = p + 1;
			break;
		}
	if (!buf[0]) {
		warn(d, "malformed option '%s' (no name); ignored", tok[0] == '=' ? "=..." : buf);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (strcmp(options[i].name, buf) == 0) {
			if (apply(&options[i], val, cfg, d))
				d->options++;
			return;
		}
	warn(d, "unknown option '%s'; ignored", buf);
}

void cmdline_parse(const char *s, struct kconfig *cfg, struct cmdline_diag *d)
{
	memset(d, 0, sizeof(*d));
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		const char *start = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n')
			s++;
		if (s > start)
			parse_option(start, (size_t)(s - start), cfg, d);
	}
}

void cmdline_init(const char *s)
{
	struct cmdline_diag d;
	kconfig_defaults(&kconfig);
	cmdline_parse(s, &kconfig, &d);
	log_level_max = kconfig.loglevel;
	for (int i = 0; i < d.warnings && i < CMDLINE_DIAG_KEEP; i++)
		pr_warn("cmdline: %s", d.msg[i]);
	if (d.warnings > CMDLINE_DIAG_KEEP)
		pr_warn("cmdline: %d more warnings not shown", d.warnings - CMDLINE_DIAG_KEEP);
}
