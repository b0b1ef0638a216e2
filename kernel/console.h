// The console: COM1. Output is serialized by one lock so lines from
// different CPUs do not interleave; a panicking CPU may break the lock.
#pragma once

#include "kernel/types.h"

void console_init(void);
// console_lock returns the interrupt state to hand to console_unlock.
bool console_lock(void);
void console_unlock(bool irqs_were_on);
void console_putc_locked(char c);	// '\n' goes out as "\r\n"
void console_write(const char *s, size_t n);
// console_panic_mode: from now on console_lock never waits long (the
// holder may be the CPU that crashed). Used by panic().
void console_panic_mode(void);
// console_getc: next byte received on COM1, or -1 when none is buffered.
int console_getc(void);
