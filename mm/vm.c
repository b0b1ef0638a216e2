// Kernel page tables: the direct map of all RAM, the kernel image with
// W^X permissions, and 4 KiB mappings in the kernel virtual range.
//
// Address space (kernel/layout.h):
//   0x0000000000000000..      unmapped: the kernel has no user half, so NULL
//                             and other low addresses fault
//   DIRECT_MAP (ffff8000..)   all RAM (usable and ACPI ranges) plus the first
//                             MiB, read/write, never executable; 1 GiB pages
//                             where the CPU has them, else 2 MiB, 4 KiB at
//                             unaligned edges
//   KVA_BASE (ffffc000..)     vm_map/vm_unmap/vm_protect, 4 KiB pages; the
//                             last TiB (IOMAP_BASE) for vm_map_phys
//   KSTACK_BASE (ffffe000..)  guarded kernel stacks (mm/stack.c)
//   KERNEL_VMA (ffffffff8..)  the image: text RX, rodata R, data+bss RW,
//                             symbols R; 4 KiB pages
//
// vm_init builds these tables from boot memory (below 4 GiB, reachable
// through the boot direct map), turns on EFER.NXE and switches CR3; after
// that page-table pages come from the frame allocator.

#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "mm/mm.h"

#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull
#define MSR_EFER 0xc0000080
#define EFER_NXE (1ull << 11)

// Guards every page table reachable from kernel_pml4. Taken with
// spin_lock: no interrupt handler maps or unmaps.
// Lock order: vm_lock, then the frame zone lock (page-table pages are
// allocated while vm_lock is held); never the other way round.
static struct spinlock vm_lock = SPINLOCK_INIT("kernel page tables");
static u64 *kernel_pml4;
static u64 direct_bytes;
static u64 npages[3];			// direct-map pages by size: 4K, 2M, 1G

// Page-table pages: from boot memory until the frame allocator runs.
static struct memmap *boot_mem;

static u64 pt_alloc(void)
{
	if (boot_mem) {
		u64 pa = memmap_take(boot_mem, PAGE_SIZE, BOOT_DIRECT_MAP_SIZE);
		if (pa)
			memset(phys_to_virt(pa), 0, PAGE_SIZE);
		return pa;
	}
	void *p = frame_alloc_zeroed(0, FT_PAGETABLE);
	return p ? virt_to_phys(p) : 0;
}

static inline unsigned pt_index(u64 va, int level)	// level 4 = PML4 .. 1 = PT
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

// entry: the entry for va at `level` (3 = PDPT .. 1 = PT), creating the
// tables above it when create. NULL if a table is missing (and !create),
// out of memory, or a large page covers va above that level.
static u64 *entry(u64 va, int level, bool create)
{
	u64 *table = kernel_pml4;
	for (int l = 4; l > level; l--) {
		u64 *e = &table[pt_index(va, l)];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			u64 pa = pt_alloc();
			if (!pa)
				return NULL;
			// Intermediate entries allow everything; leaves decide.
			*e = pa | PTE_P | PTE_W;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = phys_to_virt(*e & PTE_ADDR);
	}
	return &table[pt_index(va, level)];
}

static u64 leaf_flags(u64 prot)
{
	u64 f = PTE_P | (prot & (PTE_W | PTE_PCD | PTE_PWT));
	return (prot & VM_EXEC) ? f : f | PTE_NX;
}

// map_large: maps [pa, end) at va with the largest pages alignment allows.
static void map_direct_range(u64 pa, u64 end, bool have_1g)
{
	while (pa < end) {
		u64 va = DIRECT_MAP + pa;
		u64 *e;
		if (have_1g && !(pa & (SZ_1G - 1)) && end - pa >= SZ_1G && (e = entry(va, 3, true)) && !*e) {
			*e = pa | PTE_P | PTE_W | PTE_PS | PTE_NX;
			pa += SZ_1G;
			npages[2]++;
		} else if (!(pa & (SZ_2M - 1)) && end - pa >= SZ_2M && (e = entry(va, 2, true)) && !*e) {
			*e = pa | PTE_P | PTE_W | PTE_PS | PTE_NX;
			pa += SZ_2M;
			npages[1]++;
		} else if ((e = entry(va, 1, true))) {
			if (!*e) {
				*e = pa | PTE_P | PTE_W | PTE_NX;
				npages[0]++;
			}
			pa += SZ_4K;
		} else {
			// Either out of boot memory or an overlap with a large page
			// mapped for a neighbouring range: that page covers pa already.
			if (!vm_translate(va, &(u64){0}))
				panic("mm: out of memory building the direct map at %#lx", pa);
			pa = ALIGN_UP(pa + 1, SZ_4K);
		}
	}
}

static void map_image(u64 start, u64 end, u64 prot)
{
	for (u64 va = ALIGN_DOWN(start, SZ_4K); va < end; va += SZ_4K) {
		u64 *e = entry(va, 1, true);
		if (!e)
			panic("mm: out of memory mapping the kernel image at %#lx", va);
		*e = (va - KERNEL_VMA) | leaf_flags(prot);
	}
}

void vm_init(struct memmap *mem, const struct bootinfo *bi)
{
	extern const char _text[], _etext[], _rodata[], _erodata[], _data[], _ebss[], _ksyms[],
		_kernel_end[];
	boot_mem = mem;
	u64 pa = pt_alloc();
	if (!pa)
		panic("mm: not enough memory below 4 GiB for page tables");
	kernel_pml4 = phys_to_virt(pa);

	// The first MiB (BIOS data, ROM areas ACPI code will search) and every
	// RAM range: usable or ACPI. Reserved and MMIO ranges are left out; a
	// device is mapped uncached with vm_map when a driver wants it.
	bool have_1g = boot_cpu.huge_1g;
	map_direct_range(0, 1ul << 20, have_1g);
	for (u32 i = 0; i < bi->nmmap; i++) {
		const struct mem_range *r = &bi->mmap[i];
		if (r->type != MEM_USABLE && r->type != MEM_ACPI_RECLAIMABLE && r->type != MEM_ACPI_NVS)
			continue;
		u64 s = ALIGN_DOWN(r->base, SZ_4K), e = ALIGN_UP(r->base + r->len, SZ_4K);
		map_direct_range(MAX(s, 1ul << 20), e, have_1g);
		direct_bytes += e - s;
	}

	map_image((u64)_text, (u64)_etext, VM_READ | VM_EXEC);
	map_image((u64)_rodata, (u64)_erodata, VM_READ);
	map_image((u64)_data, (u64)_ebss, VM_READ | VM_WRITE);
	map_image((u64)_ksyms, (u64)_kernel_end, VM_READ);

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);	// before any NX entry is live
	__asm__ volatile("mov %0, %%cr3" ::"r"(pa) : "memory");
	boot_mem = NULL;
	pr_info("mm: direct map: %lu MiB of RAM with %lu 1G, %lu 2M and %lu 4K pages", direct_bytes >> 20,
		npages[2], npages[1], npages[0]);
	pr_info("mm: kernel image W^X: text %p-%p RX, rodata %p-%p R, data %p-%p RW", _text, _etext,
		_rodata, _erodata, _data, _ebss);
}

void vm_load_kernel_page_table(void)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(virt_to_phys(kernel_pml4)) : "memory");
}

void vm_copy_kernel_half(u64 *pml4)
{
	spin_lock(&vm_lock);
	memcpy(pml4 + 256, kernel_pml4 + 256, 256 * sizeof(u64));
	spin_unlock(&vm_lock);
}

u64 vm_direct_map_bytes(void)
{
	return direct_bytes;
}

void tlb_flush_page(u64 va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

void tlb_flush_all(void)
{
	// Reloading CR3 drops every non-global translation (none are global).
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

u64 vm_translate(u64 va, u64 *flags)
{
	u64 *table = kernel_pml4;
	*flags = 0;
	for (int l = 4; l >= 1; l--) {
		u64 e = table[pt_index(va, l)];
		if (!(e & PTE_P))
			return 0;
		if (l == 1 || (e & PTE_PS)) {
			u64 size = 1ull << (12 + 9 * (l - 1));
			*flags = e & ~PTE_ADDR;
			return (e & PTE_ADDR & ~(size - 1)) | (va & (size - 1));
		}
		table = phys_to_virt(e & PTE_ADDR);
	}
	return 0;
}

static bool in_mappable_range(u64 va, u64 len)
{
	u64 stack_end = KSTACK_BASE + (u64)KSTACK_SLOTS * KSTACK_SLOT_SIZE;
	if (len == 0 || (va | len) & (SZ_4K - 1) || va + len < va)
		return false;
	return (va >= KVA_BASE && va + len <= KVA_END) || (va >= KSTACK_BASE && va + len <= stack_end);
}

static void unmap_locked(u64 va, u64 len)
{
	for (u64 a = va; a < va + len; a += SZ_4K) {
		u64 *e = entry(a, 1, false);
		if (e && *e) {
			*e = 0;
			tlb_flush_page(a);
		}
	}
}

int vm_map(u64 va, u64 pa, u64 len, u64 prot)
{
	if (!in_mappable_range(va, len) || (pa & (SZ_4K - 1)))
		panic("vm_map(%#lx, %#lx, %#lx) on cpu %u: range outside the kernel virtual range or "
		      "unaligned", va, pa, len, this_cpu_id());
	spin_lock(&vm_lock);
	int r = 0;
	u64 a;
	for (a = va; a < va + len; a += SZ_4K) {
		u64 *e = entry(a, 1, true);
		if (!e || *e) {
			r = -1;	// out of page-table memory, or already mapped
			break;
		}
		*e = (pa + (a - va)) | leaf_flags(prot);
	}
	if (r < 0 && a > va)
		unmap_locked(va, a - va);
	spin_unlock(&vm_lock);
	return r;
}

// Next free address for vm_map_phys; guarded by iomap_lock. Mappings are
// never taken back, so a bump pointer is the whole allocator.
static struct spinlock iomap_lock = SPINLOCK_INIT("iomap");
static u64 iomap_next = IOMAP_BASE;

void *vm_map_phys(u64 pa, u64 len, u64 prot)
{
	u64 first = pa & ~(SZ_4K - 1), end = (pa + len + SZ_4K - 1) & ~(SZ_4K - 1);
	if (len == 0 || end <= first)
		return NULL;
	bool irq = spin_lock_irqsave(&iomap_lock);
	u64 va = iomap_next;
	bool room = end - first <= KVA_END - va;
	if (room)
		iomap_next += end - first;
	spin_unlock_irqrestore(&iomap_lock, irq);
	if (!room || vm_map(va, first, end - first, prot) < 0)
		return NULL;	// the address range is lost; mapping failures are rare
	return (void *)(va + (pa - first));
}

void vm_unmap(u64 va, u64 len)
{
	if (!in_mappable_range(va, len))
		panic("vm_unmap(%#lx, %#lx) on cpu %u: range outside the kernel virtual range or unaligned",
		      va, len, this_cpu_id());
	spin_lock(&vm_lock);
	unmap_locked(va, len);
	spin_unlock(&vm_lock);
	tlb_shootdown(va, len);
}

void vm_unmap_private(u64 va, u64 len)
{
	if (!in_mappable_range(va, len))
		panic("vm_unmap_private(%#lx, %#lx) on cpu %u: range outside the kernel virtual range or "
		      "unaligned", va, len, this_cpu_id());
	spin_lock(&vm_lock);
	unmap_locked(va, len);
	spin_unlock(&vm_lock);
}

int vm_protect(u64 va, u64 len, u64 prot)
{
	if (!in_mappable_range(va, len))
		panic("vm_protect(%#lx, %#lx) on cpu %u: range outside the kernel virtual range or "
		      "unaligned", va, len, this_cpu_id());
	spin_lock(&vm_lock);
	int r = 0;
	for (u64 a = va; a < va + len && r == 0; a += SZ_4K) {
		u64 *e = entry(a, 1, false);
		if (!e || !(*e & PTE_P))
			r = -1;
	}
	for (u64 a = va; a < va + len && r == 0; a += SZ_4K) {
		u64 *e = entry(a, 1, false);
		*e = (*e & PTE_ADDR) | leaf_flags(prot);
		tlb_flush_page(a);
	}
	spin_unlock(&vm_lock);
	if (r == 0)
		tlb_shootdown(va, len);
	return r;
}
