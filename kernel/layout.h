// The kernel's virtual address layout, shared by C and assembly.
#pragma once

// The kernel image is linked at KERNEL_VMA + physical address (top 2 GiB,
// as -mcmodel=kernel requires) and loaded at physical 1 MiB.
#define KERNEL_VMA 0xffffffff80000000
#define KERNEL_PHYS 0x100000

// Direct map of all physical RAM (mm/vm.c). The boot page tables map the
// first 4 GiB here and identity; mm_init replaces them.
#define DIRECT_MAP 0xffff800000000000
#define BOOT_DIRECT_MAP_SIZE 0x100000000

// Kernel virtual range for vm_map (mm/vm.c): PML4 slots 384..447. Its
// last TiB is handed out by vm_map_phys for device registers and firmware
// tables (IOMAP_BASE..KVA_END).
#define KVA_BASE 0xffffc00000000000
#define KVA_END 0xffffe00000000000
#define IOMAP_BASE 0xffffdf0000000000
// The garbage-collected heap (mm/mheap.c): 256 GiB of the kernel virtual
// range, reserved; pages are backed with frames only while spans use them.
#define HEAP_BASE 0xffffd00000000000
#define HEAP_SIZE 0x4000000000
// Guarded kernel stacks (mm/stack.c): fixed-size slots from here.
#define KSTACK_BASE 0xffffe00000000000
#define KSTACK_SLOT_SIZE 0x10000	// 64 KiB: guard page + up to 15 pages
#define KSTACK_SLOTS 4096

// Lower-half address that is never mapped: the kernel has no user space
// and the boot identity map stops at 4 GiB. Tests fault on purpose here.
#define UNMAPPED_TEST_VA 0x00007f0000000000

#ifndef __ASSEMBLER__
#include "kernel/types.h"
static inline void *phys_to_virt(u64 pa) { return (void *)(pa + DIRECT_MAP); }
#endif
