// Memory-manager bring-up: memory map, page tables, frame allocator, in
// that order (see mm/frame.c for the overview).

#include "drivers/qemu_exit.h"
#include "kernel/printf.h"
#include "mm/mm.h"

void vm_init(struct memmap *mem, const struct bootinfo *bi);
void frame_init(struct memmap *m);

static struct memmap boot_memmap;

void mm_init(const struct bootinfo *bi)
{
	extern const char _kernel_end[];
	struct phys_range reserved[] = {
		{KERNEL_PHYS, (u64)_kernel_end - KERNEL_VMA},		// the kernel image
		{bi->info_phys, bi->info_phys + bi->info_len},		// the loader's boot info
	};
	memmap_build(bi->mmap, bi->nmmap, reserved, ARRAY_SIZE(reserved), &boot_memmap);
	u64 have = memmap_bytes(&boot_memmap);
	pr_info("mm: usable RAM %lu KiB in %u ranges after the first MiB, kernel and boot info (loader "
		"reported %lu KiB)", have >> 10, boot_memmap.n, bootinfo_usable_bytes(bi) >> 10);
	if (have < MM_MIN_RAM) {
		pr_err("mm: not enough memory: need %lu KiB of usable RAM, have %lu KiB", MM_MIN_RAM >> 10,
		       have >> 10);
		qemu_exit(QEMU_EXIT_FAILURE);
	}
	vm_init(&boot_memmap, bi);	// kernel page tables; the identity map goes away
	frame_init(&boot_memmap);	// every frame left goes to the buddy lists
	frame_print_stats();
	frame_print_buddyinfo();
}
