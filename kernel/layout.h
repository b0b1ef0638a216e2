// The kernel's virtual address layout, shared by C and assembly.
#pragma once

// The kernel image is linked at KERNEL_VMA + physical address (top 2 GiB,
// as -mcmodel=kernel requires) and loaded at physical 1 MiB.
#define KERNEL_VMA 0xffffffff80000000
#define KERNEL_PHYS 0x100000

// Direct map of physical memory. The boot page tables map the first
// 4 GiB here (and identity-map it until the memory issue replaces them).
#define DIRECT_MAP 0xffff800000000000
#define BOOT_DIRECT_MAP_SIZE 0x100000000

// Lower-half address that is never mapped: the kernel has no user space
// and the boot identity map stops at 4 GiB. Tests fault on purpose here.
#define UNMAPPED_TEST_VA 0x00007f0000000000

#ifndef __ASSEMBLER__
#include "kernel/types.h"
static inline void *phys_to_virt(u64 pa) { return (void *)(pa + DIRECT_MAP); }
#endif
