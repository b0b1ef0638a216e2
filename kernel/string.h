// Memory and string routines the compiler and the kernel need (no libc).
#pragma once

#include "kernel/types.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *haystack, const char *needle);
// strlcpy copies at most size-1 bytes and always terminates (size > 0).
// Returns strlen(src), so truncation is detectable as result >= size.
size_t strlcpy(char *dst, const char *src, size_t size);
// kbasename: the part of a path after its last '/' ("a/b/c.c" -> "c.c").
const char *kbasename(const char *path);
