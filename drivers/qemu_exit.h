// QEMU's isa-debug-exit device (iobase 0xf4): writing V makes QEMU exit
// with status (V << 1) | 1. On a machine without it the write is ignored
// and the caller halts instead.
#pragma once

#include "kernel/types.h"

#define QEMU_EXIT_SUCCESS 0x10	// QEMU exit status 33
#define QEMU_EXIT_FAILURE 0x11	// QEMU exit status 35

void __noreturn qemu_exit(u8 code);
