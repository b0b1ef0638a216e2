// kprintf and friends: one formatting engine (kformat) with two sinks, the
// console and a bounded buffer, plus leveled log lines.

#include "kernel/printf.h"
#include "kernel/console.h"
#include "kernel/string.h"
#include "kernel/time.h"

struct spec {
	bool left, zero, plus, space, alt;
	int width;
	int prec;		// -1: none
	int len;		// 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t
};

static int emit_str(void (*emit)(void *, char), void *ctx, const char *s, size_t n,
		    const struct spec *sp)
{
	int pad = sp->width > (int)n ? sp->width - (int)n : 0;
	int out = 0;
	if (!sp->left)
		for (; pad > 0; pad--, out++)
			emit(ctx, ' ');
	for (size_t i = 0; i < n; i++, out++)
		emit(ctx, s[i]);
	for (; pad > 0; pad--, out++)
		emit(ctx, ' ');
	return out;
}

// Formats an unsigned magnitude with an optional sign/prefix, honouring
// width, precision (minimum digits) and the '0' and '-' flags.
static int emit_num(void (*emit)(void *, char), void *ctx, u64 v, unsigned base, bool upper,
		    const char *prefix, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int n = 0;
	do {
		buf[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (sp->prec == 0 && n == 1 && buf[0] == '0')
		n = 0;	// "%.0d" of zero prints no digits, as in C
	int plen = (int)strlen(prefix);
	int zeros = sp->prec > n ? sp->prec - n : 0;
	int total = plen + zeros + n;
	int pad = sp->width > total ? sp->width - total : 0;
	int out = 0;
	if (sp->zero && !sp->left && sp->prec < 0) {
		zeros += pad;
		pad = 0;
	}
	if (!sp->left)
		for (; pad > 0; pad--, out++)
			emit(ctx, ' ');
	for (int i = 0; i < plen; i++, out++)
		emit(ctx, prefix[i]);
	for (; zeros > 0; zeros--, out++)
		emit(ctx, '0');
	while (n > 0) {
		emit(ctx, buf[--n]);
		out++;
	}
	for (; pad > 0; pad--, out++)
		emit(ctx, ' ');
	return out;
}

static int parse_int(const char **fmt)
{
	int v = 0;
	while (**fmt >= '0' && **fmt <= '9') {
		if (v < 100000)
			v = v * 10 + (**fmt - '0');
		(*fmt)++;
	}
	return v;
}

int kformat(void (*emit)(void *ctx, char c), void *ctx, const char *fmt, va_list ap)
{
	int out = 0;
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(ctx, *fmt);
			out++;
			continue;
		}
		const char *start = fmt++;
		struct spec sp = {.prec = -1};
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else if (*fmt == '+')
				sp.plus = true;
			else if (*fmt == ' ')
				sp.space = true;
			else if (*fmt == '#')
				sp.alt = true;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = true;
				sp.width = -sp.width;
			}
			fmt++;
		} else {
			sp.width = parse_int(&fmt);
		}
		if (*fmt == '.') {
			fmt++;
			if (*fmt == '*') {
				sp.prec = va_arg(ap, int);
				fmt++;
			} else {
				sp.prec = parse_int(&fmt);
			}
		}
		for (;; fmt++) {
			if (*fmt == 'l')
				sp.len = sp.len >= 1 ? 2 : 1;
			else if (*fmt == 'h')
				sp.len = sp.len <= -1 ? -2 : -1;
			else if (*fmt == 'z' || *fmt == 't')
				sp.len = 3;
			else
				break;
		}

		u64 u;
		i64 s;
		char c;
		const char *str;
		switch (*fmt) {
		case 'd':
		case 'i':
			switch (sp.len) {
			case 0: s = va_arg(ap, int); break;
			case -1: s = (short)va_arg(ap, int); break;
			case -2: s = (signed char)va_arg(ap, int); break;
			case 1: s = va_arg(ap, long); break;
			case 3: s = va_arg(ap, i64); break;	// ssize_t / ptrdiff_t
			default: s = va_arg(ap, long long); break;
			}
			// Negate as unsigned so INT64_MIN does not overflow.
			u = s < 0 ? -(u64)s : (u64)s;
			out += emit_num(emit, ctx, u, 10, false,
					s < 0 ? "-" : sp.plus ? "+" : sp.space ? " " : "", &sp);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			switch (sp.len) {
			case 0: u = va_arg(ap, unsigned int); break;
			case -1: u = (unsigned short)va_arg(ap, unsigned int); break;
			case -2: u = (unsigned char)va_arg(ap, unsigned int); break;
			case 1: u = va_arg(ap, unsigned long); break;
			case 3: u = va_arg(ap, size_t); break;
			default: u = va_arg(ap, unsigned long long); break;
			}
			// '#': 0x/0X before nonzero hex, a leading 0 for octal (as in C).
			out += emit_num(emit, ctx, u, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16, *fmt == 'X',
					!sp.alt || u == 0 || *fmt == 'u' ? ""
					: *fmt == 'o'			 ? "0"
					: *fmt == 'x'			 ? "0x"
									 : "0X",
					&sp);
			break;
		case 'p': {
			struct spec p = sp;
			p.prec = 16;
			out += emit_num(emit, ctx, (u64)(uintptr_t)va_arg(ap, void *), 16, false, "0x", &p);
			break;
		}
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			out += emit_str(emit, ctx, str,
					sp.prec >= 0 ? strnlen(str, (size_t)sp.prec) : strlen(str), &sp);
			break;
		case 'c':
			c = (char)va_arg(ap, int);
			out += emit_str(emit, ctx, &c, 1, &sp);
			break;
		case '%':
			emit(ctx, '%');
			out++;
			break;
		default:
			// Unknown conversion: print it verbatim so the mistake shows.
			for (const char *p = start; p <= fmt && *p; p++, out++)
				emit(ctx, *p);
			if (!*fmt)
				return out;
			break;
		}
	}
	return out;
}

struct bufsink {
	char *buf;
	size_t size, pos;
};

static void buf_emit(void *ctx, char c)
{
	struct bufsink *b = ctx;
	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct bufsink b = {buf, size, 0};
	int n = kformat(buf_emit, &b, fmt, ap);
	if (size)
		buf[b.pos < size ? b.pos : size - 1] = 0;
	return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void console_emit(void *ctx, char c)
{
	(void)ctx;
	console_putc_locked(c);
}

int kvprintf(const char *fmt, va_list ap)
{
	bool f = console_lock();
	int n = kformat(console_emit, NULL, fmt, ap);
	console_unlock(f);
	return n;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

int log_level_max = LOG_INFO;

const char *log_level_name(enum log_level l)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	return (unsigned)l < ARRAY_SIZE(names) ? names[l] : "?";
}

// A log line: "[    1.234567] warning: text". The stamp is time since boot
// (zero until the TSC is calibrated); errors and warnings say so up front.
void klog(enum log_level level, const char *fmt, ...)
{
	if ((int)level > log_level_max)
		return;
	u64 ns = nanotime();
	va_list ap;
	va_start(ap, fmt);
	bool f = console_lock();
	kprintf_locked("[%5lu.%06lu] ", ns / 1000000000, ns / 1000 % 1000000);
	if (level <= LOG_WARN)
		kprintf_locked("%s: ", log_level_name(level));
	kformat(console_emit, NULL, fmt, ap);
	console_putc_locked('\n');
	console_unlock(f);
	va_end(ap);
}

int kprintf_locked(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kformat(console_emit, NULL, fmt, ap);
	va_end(ap);
	return n;
}
