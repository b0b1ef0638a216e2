// Formatted output: kprintf to the console, ksnprintf into a buffer, and
// leveled log lines (pr_err .. pr_debug) with a boot-time stamp.
//
// Conversions: %d %i %u %x %X %o %p %s %c %%, length modifiers hh h l ll z t,
// flags '-' '0' '+' ' ' '#', field width and precision (numbers or '*').
// %p prints 0x and 16 hex digits. A NULL %s prints "(null)".
#pragma once

#include "kernel/types.h"

int kprintf(const char *fmt, ...) __printf(1, 2);
int kvprintf(const char *fmt, va_list ap);
// ksnprintf behaves like C99 snprintf: writes at most size bytes including
// the terminating NUL and returns the length the full output would have.
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

// The formatting engine: calls emit(ctx, c) once per output character and
// returns the number of characters produced.
int kformat(void (*emit)(void *ctx, char c), void *ctx, const char *fmt, va_list ap);

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern int log_level_max;		// lines above this level are dropped
const char *log_level_name(enum log_level l);

void klog(enum log_level level, const char *fmt, ...) __printf(2, 3);
#define pr_err(...) klog(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) klog(LOG_WARN, __VA_ARGS__)
#define pr_info(...) klog(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

// kprintf for callers that already hold the console lock (console.h), to
// print several lines that must not interleave with other CPUs' output.
int kprintf_locked(const char *fmt, ...) __printf(1, 2);
