// kprintf formatting: each conversion, widths, flags, precision, 64-bit
// extremes and truncation, checked through ksnprintf.

#include "kernel/printf.h"
#include "kernel/string.h"
#include "tests/kernel/ktest.h"

// Formats into a static buffer and compares; reports the format on failure.
#define EXPECT_FMT(t, want, ...)                                                      \
	do {                                                                          \
		char buf_[128];                                                       \
		ksnprintf(buf_, sizeof(buf_), __VA_ARGS__);                           \
		if (strcmp(buf_, (want)) != 0)                                        \
			kt_fail((t), __FILE__, __LINE__, "format %s: got \"%s\", want \"%s\"", \
				#__VA_ARGS__, buf_, (want));                          \
	} while (0)

// No format attribute here, so a deliberately bad format compiles.
static int fmt_raw(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kvsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

KTEST(printf, decimal)
{
	EXPECT_FMT(t, "0", "%d", 0);
	EXPECT_FMT(t, "42", "%d", 42);
	EXPECT_FMT(t, "-42", "%d", -42);
	EXPECT_FMT(t, "2147483647", "%d", INT32_MAX);
	EXPECT_FMT(t, "-2147483648", "%d", INT32_MIN);
	EXPECT_FMT(t, "-7", "%i", -7);
	EXPECT_FMT(t, "+5 -5", "%+d %+d", 5, -5);
	EXPECT_FMT(t, "-1", "%hhd", 255);
}

KTEST(printf, unsigned_and_sizes)
{
	EXPECT_FMT(t, "4294967295", "%u", UINT32_MAX);
	EXPECT_FMT(t, "18446744073709551615", "%lu", UINT64_MAX);
	EXPECT_FMT(t, "18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	EXPECT_FMT(t, "12345", "%zu", (size_t)12345);
	EXPECT_FMT(t, "65535", "%hu", 0x1ffff);
	EXPECT_FMT(t, "17", "%o", 15);
}

KTEST(printf, int64_extremes)
{
	EXPECT_FMT(t, "-9223372036854775808", "%ld", INT64_MIN);
	EXPECT_FMT(t, "9223372036854775807", "%ld", INT64_MAX);
	EXPECT_FMT(t, "-9223372036854775808", "%lld", (long long)INT64_MIN);
	EXPECT_FMT(t, "ffffffffffffffff", "%llx", (unsigned long long)UINT64_MAX);
	EXPECT_FMT(t, "8000000000000000", "%lx", (u64)INT64_MIN);
}

KTEST(printf, hex)
{
	EXPECT_FMT(t, "deadbeef", "%x", 0xdeadbeefu);
	EXPECT_FMT(t, "DEADBEEF", "%X", 0xdeadbeefu);
	EXPECT_FMT(t, "0", "%x", 0);
	EXPECT_FMT(t, "0x1f 0X1F 0", "%#x %#X %#x", 31, 31, 0);
	EXPECT_FMT(t, "ffffffff80001234", "%lx", 0xffffffff80001234ul);
	EXPECT_FMT(t, "0x00001000", "%#010x", 0x1000);
}

KTEST(printf, width_and_padding)
{
	EXPECT_FMT(t, "   42", "%5d", 42);
	EXPECT_FMT(t, "42   |", "%-5d|", 42);
	EXPECT_FMT(t, "00042", "%05d", 42);
	EXPECT_FMT(t, "-0042", "%05d", -42);
	EXPECT_FMT(t, "  042", "%5.3d", 42);
	EXPECT_FMT(t, "    7", "%*d", 5, 7);
	EXPECT_FMT(t, "7    |", "%*d|", -5, 7);
	EXPECT_FMT(t, "000000ff", "%08x", 255);
	EXPECT_FMT(t, "12345", "%3d", 12345);	// width never truncates
}

KTEST(printf, strings_and_chars)
{
	EXPECT_FMT(t, "hello", "%s", "hello");
	EXPECT_FMT(t, "hel", "%.3s", "hello");
	EXPECT_FMT(t, "     hello", "%10s", "hello");
	EXPECT_FMT(t, "hello     |", "%-10s|", "hello");
	char buf[16];
	fmt_raw(buf, sizeof(buf), "%s", (char *)NULL);	// gcc rejects this as a literal
	KT_EXPECT_STREQ(t, buf, "(null)");
	fmt_raw(buf, sizeof(buf), "%-05d|", 42);	// '-' beats '0', as in C
	KT_EXPECT_STREQ(t, buf, "42   |");
	EXPECT_FMT(t, "x", "%c", 'x');
	EXPECT_FMT(t, "    x", "%5c", 'x');
	EXPECT_FMT(t, "100%", "100%%");
	EXPECT_FMT(t, "a1b2c", "a%db%dc", 1, 2);
}

KTEST(printf, pointer)
{
	EXPECT_FMT(t, "0xffffffff80001234", "%p", (void *)0xffffffff80001234ul);
	EXPECT_FMT(t, "0x0000000000000000", "%p", (void *)0);
	EXPECT_FMT(t, "0x00000000000000ff", "%p", (void *)0xff);
}

KTEST(printf, truncation_and_return_value)
{
	char buf[8];
	memset(buf, 'Z', sizeof(buf));
	KT_EXPECT_EQ(t, ksnprintf(buf, 5, "hello world"), 11);
	KT_EXPECT_STREQ(t, buf, "hell");
	KT_EXPECT_EQ(t, buf[5], 'Z');		// nothing written past size
	memset(buf, 'Z', sizeof(buf));
	KT_EXPECT_EQ(t, ksnprintf(buf, 0, "abc"), 3);
	KT_EXPECT_EQ(t, buf[0], 'Z');		// size 0 writes nothing
	KT_EXPECT_EQ(t, ksnprintf(buf, 1, "abc"), 3);
	KT_EXPECT_EQ(t, buf[0], 0);
	// An unknown conversion is printed as written, not skipped silently.
	fmt_raw(buf, sizeof(buf), "a%qb");
	KT_EXPECT_STREQ(t, buf, "a%qb");
	fmt_raw(buf, sizeof(buf), "x%");
	KT_EXPECT_STREQ(t, buf, "x%");
}
