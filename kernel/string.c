// Memory and string routines. gcc may emit calls to memset/memcpy/memmove/
// memcmp even in freestanding code, so these must exist with these names.

#include "kernel/string.h"

// Word-at-a-time, eight words per iteration: under the emulator every
// loop iteration costs about as much as several stores, so the loops are
// unrolled by hand. The attribute keeps gcc from turning the loops back
// into calls to these very functions.
#define NO_LOOP_TO_CALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LOOP_TO_CALL void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;
	for (; n && ((u64)d & 7); n--)
		*d++ = (u8)c;
	u64 w = 0x0101010101010101ull * (u8)c;
	u64 *q = (u64 *)d;
	for (; n >= 64; n -= 64, q += 8) {
		q[0] = w, q[1] = w, q[2] = w, q[3] = w;
		q[4] = w, q[5] = w, q[6] = w, q[7] = w;
	}
	for (; n >= 8; n -= 8)
		*q++ = w;
	d = (u8 *)q;
	while (n--)
		*d++ = (u8)c;
	return dst;
}

NO_LOOP_TO_CALL void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;
	if ((((u64)d ^ (u64)s) & 7) == 0) {	// same alignment: words in the middle
		for (; n && ((u64)d & 7); n--)
			*d++ = *s++;
		u64 *qd = (u64 *)d;
		const u64 *qs = (const u64 *)s;
		for (; n >= 64; n -= 64, qd += 8, qs += 8) {
			qd[0] = qs[0], qd[1] = qs[1], qd[2] = qs[2], qd[3] = qs[3];
			qd[4] = qs[4], qd[5] = qs[5], qd[6] = qs[6], qd[7] = qs[7];
		}
		for (; n >= 8; n -= 8)
			*qd++ = *qs++;
		d = (u8 *)qd;
		s = (const u8 *)qs;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else if (d > s) {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a < (u8)*b ? -1 : 1;
		if (!*a)
			break;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, SIZE_MAX);
}

char *strstr(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);
	for (; *haystack; haystack++)
		if (strncmp(haystack, needle, n) == 0)
			return (char *)haystack;
	return n == 0 ? (char *)haystack : NULL;
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

const char *kbasename(const char *path)
{
	const char *base = path;
	for (const char *p = path; *p; p++)
		if (*p == '/')
			base = p + 1;
	return base;
}
