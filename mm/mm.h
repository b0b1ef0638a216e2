// The memory manager's public interface: physical frames, kernel page
// tables, and guarded kernel stacks. See mm/frame.c for the frame
// allocator's design and mm/vm.c for the address-space layout.
#pragma once

#include "kernel/bootinfo.h"
#include "kernel/layout.h"
#include "kernel/types.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define MAX_ORDER 10			// orders 0..10: 4 KiB .. 4 MiB blocks
#define MAX_CPUS 64

// ---- boot memory map -> usable frame ranges (mm/memmap.c)

struct phys_range {
	u64 start, end;			// [start, end), page-aligned
};

#define MEMMAP_MAX (BOOT_MMAP_MAX + 16)
struct memmap {
	struct phys_range r[MEMMAP_MAX];
	u32 n;
	u32 dropped;			// ranges lost for lack of slots
};

// memmap_build: usable RAM from a normalized boot map, page-aligned inward,
// minus the first MiB and minus each reserved range (kernel image, boot
// information, ...). Result sorted and disjoint.
void memmap_build(const struct mem_range *map, u32 n, const struct phys_range *reserved, u32 nres,
		  struct memmap *out);
u64 memmap_bytes(const struct memmap *m);
// memmap_take: removes size bytes (page multiple) from the top of the
// highest range that has room below `limit` and returns their physical
// address, or 0 when none has room. For boot-time structures only.
u64 memmap_take(struct memmap *m, u64 size, u64 limit);

// ---- frame allocator (mm/frame.c)

// Who holds a frame; printed in stats and contract-violation panics.
enum frame_tag {
	FT_NONE,
	FT_PAGETABLE,
	FT_STACK,
	FT_HEAP,
	FT_META,
	FT_TEST,
	FT_NTAGS,
};
const char *frame_tag_name(enum frame_tag t);

// mm_init: builds the usable memory map from bootinfo, installs the
// kernel's page tables (mm/vm.c) and hands every remaining usable frame
// to the buddy allocator. Panics with "not enough memory" below MM_MIN_RAM.
void mm_init(const struct bootinfo *bi);
#define MM_MIN_RAM (8ul << 20)

// frame_alloc: a block of 2^order frames, aligned to its size, as a
// direct-map pointer; NULL when no block that large is free. Order-0
// requests go through this CPU's cache and take no lock when it has one.
// May be called with interrupts on or off; never sleeps.
void *frame_alloc(unsigned order, enum frame_tag tag);
void *frame_alloc_zeroed(unsigned order, enum frame_tag tag);
// frame_alloc_reclaim: frame_alloc for memory that may wait for the heap
// to give frames back: thread stacks. It never takes the last
// RECLAIM_RESERVE free frames, which stay for the allocations that cannot
// wait (page tables, metadata, the collector's work buffers while the
// reclaimer collects). When the free frames come near them and the caller
// may wait for other CPUs (interrupts on, preemptible), the reclaimer
// (the heap's, registered at boot) gives frames back first. NULL when
// even then it would eat into the reserve.
#define RECLAIM_RESERVE 64
void *frame_alloc_reclaim(unsigned order, enum frame_tag tag);
// frame_set_reclaimer: fn frees at least `want` bytes of frames if it
// can, and returns the bytes freed.
void frame_set_reclaimer(u64 (*fn)(u64 want));
// frame_free: p must be what frame_alloc(order) returned. Freeing a frame
// that is not allocated, with another order, unaligned or outside RAM
// panics with the address, order and CPU.
void frame_free(void *p, unsigned order);
// The same, bypassing the per-CPU cache (tests and benchmarks).
void *frame_alloc_buddy(unsigned order, enum frame_tag tag);
void frame_free_buddy(void *p, unsigned order);
// pcp_drain: returns this CPU's cached frames to the buddy lists.
void pcp_drain(void);

struct frame_stats {
	u64 managed;			// frames under the allocator
	u64 free;			// free in the buddy lists
	u64 pcp;			// free in per-CPU caches (all CPUs)
	u64 reserved;			// descriptors of non-RAM or boot-time frames
	u64 blocks[MAX_ORDER + 1];	// free blocks per order
	u64 by_tag[FT_NTAGS];		// allocated frames per owner tag
};
void frame_stats(struct frame_stats *s);
u64 frame_pcp_count(unsigned cpu);
// frame_check: verifies the allocator's invariants (every free block
// aligned to its order and on the right list, no two free buddies, counts
// add up). Returns true, or false with the first violation in why.
bool frame_check(char *why, size_t size);
void frame_print_buddyinfo(void);	// Linux /proc/buddyinfo format
void frame_print_stats(void);

// ---- kernel page tables (mm/vm.c)

#define PTE_P 0x001ull
#define PTE_W 0x002ull
#define PTE_U 0x004ull
#define PTE_PWT 0x008ull
#define PTE_PCD 0x010ull
#define PTE_A 0x020ull
#define PTE_D 0x040ull
#define PTE_PS 0x080ull
#define PTE_G 0x100ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

// Protections for vm_map/vm_protect.
#define VM_READ 0
#define VM_WRITE PTE_W
#define VM_EXEC 0x1000000000000000ull	// software bit: leave NX clear
#define VM_NOCACHE (PTE_PCD | PTE_PWT)

// vm_map: maps [va, va+len) to [pa, pa+len) with 4 KiB pages in the kernel
// virtual range (KVA_BASE..KVA_END). Returns 0, or -1 (nothing mapped)
// when page-table memory runs out or the range is not free.
int vm_map(u64 va, u64 pa, u64 len, u64 prot);
// vm_unmap: unmaps [va, va+len) (4 KiB pages) and flushes the TLBs of all
// CPUs; interrupts must be on when other CPUs are online.
void vm_unmap(u64 va, u64 len);
// vm_unmap_private: the same without the shootdown, for pages this CPU
// mapped and no other CPU can have used yet; any interrupt state.
void vm_unmap_private(u64 va, u64 len);
// vm_protect: changes the protection of mapped 4 KiB pages; -1 if any
// page in the range is unmapped (then nothing changed).
int vm_protect(u64 va, u64 len, u64 prot);
// vm_translate: physical address va maps to, and its leaf entry's flags
// (with PTE_PS for large pages); 0 with *flags = 0 if unmapped.
u64 vm_translate(u64 va, u64 *flags);
// vm_map_phys: maps physical [pa, pa+len) (any alignment) at a fresh
// address in IOMAP_BASE..KVA_END and returns the address of pa there, or
// NULL when the range or page-table memory runs out. For firmware tables
// and device registers (VM_NOCACHE); the mapping is permanent.
void *vm_map_phys(u64 pa, u64 len, u64 prot);
// tlb_flush_page/tlb_flush_all: this CPU only. vm_unmap and vm_protect
// also shoot the range down on the other CPUs (kernel/smp.h), so they
// need interrupts on once more than one CPU is online.
void tlb_flush_page(u64 va);
void tlb_flush_all(void);
// For AP bring-up: switch this CPU to the kernel's page table; copy the
// kernel half (PML4 slots 256..511) into another top-level table.
void vm_load_kernel_page_table(void);
void vm_copy_kernel_half(u64 *pml4);
u64 vm_direct_map_bytes(void);		// RAM mapped in the direct map

static inline u64 virt_to_phys(const void *p)
{
	u64 v = (u64)p;
	// Kernel image addresses sit at KERNEL_VMA + phys; others in the direct map.
	return v >= KERNEL_VMA ? v - KERNEL_VMA : v - DIRECT_MAP;
}

// ---- guarded kernel stacks (mm/stack.c)

struct kstack {
	u64 bottom, top;		// usable [bottom, top); guard page below bottom
	int slot;
};
#define KSTACK_MAX_PAGES 15

// stack_alloc: a stack of `pages` pages with an unmapped guard page below,
// labelled with owner (copied) for fault reports. -1 on out of memory.
int stack_alloc(struct kstack *s, unsigned pages, const char *owner);
void stack_free(struct kstack *s);
// stack_guard_owner: if va is in a stack's guard page, its owner, else NULL.
const char *stack_guard_owner(u64 va);
