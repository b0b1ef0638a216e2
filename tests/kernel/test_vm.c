// Kernel page tables: W^X on the kernel image, NULL faults, the direct map
// covers RAM, vm_map/unmap/protect, and guard pages below kernel stacks.

#include "kernel/bootinfo.h"
#include "kernel/layout.h"
#include "kernel/printf.h"
#include "kernel/setjmp.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "mm/mm.h"
#include "tests/kernel/ktest.h"

static bool report_has(struct kt *t, const char *s)
{
	return strstr(t->fault.report, s) != NULL;
}

KTEST(vm, kernel_text_is_read_only)
{
	volatile u8 *text = (volatile u8 *)kprintf;
	u8 before = *text;
	if (KT_FAULT_TRY(t)) {
		*text = 0xcc;
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "wrote to kernel text at %p", text);
	}
	KT_EXPECT_EQ(t, t->fault.vector, T_PAGE_FAULT);
	KT_EXPECT_EQ(t, t->fault.cr2, (u64)text);
	KT_EXPECT_EQ(t, t->fault.error & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
	KT_EXPECT(t, report_has(t, "write to read-only page"), "report: %s", t->fault.report);
	KT_EXPECT_EQ(t, *text, before);
}

KTEST(vm, rodata_is_read_only)
{
	static const char msg[] = "constant";
	if (KT_FAULT_TRY(t)) {
		*(volatile char *)msg = 'C';
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "wrote to rodata");
	}
	KT_EXPECT_EQ(t, t->fault.cr2, (u64)msg);
	KT_EXPECT(t, report_has(t, "write to read-only page"), "report: %s", t->fault.report);
}

KTEST(vm, data_is_not_executable)
{
	static u8 code[16] = {0xc3};	// ret, in .data
	void (*fn)(void) = (void (*)(void))(void *)code;
	if (KT_FAULT_TRY(t)) {
		fn();
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "executed from the data section");
	}
	KT_EXPECT_EQ(t, t->fault.vector, T_PAGE_FAULT);
	KT_EXPECT_EQ(t, t->fault.rip, (u64)code);
	KT_EXPECT_EQ(t, t->fault.cr2, (u64)code);
	KT_EXPECT(t, t->fault.error & PF_FETCH, "error %#lx lacks the fetch bit", t->fault.error);
	KT_EXPECT(t, report_has(t, "instruction fetch from NX page"), "report: %s", t->fault.report);
}

KTEST(vm, null_is_unmapped)
{
	if (KT_FAULT_TRY(t)) {
		(void)*(volatile u64 *)0;
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "reading address 0 did not fault");
	}
	KT_EXPECT_EQ(t, t->fault.cr2, 0);
	KT_EXPECT(t, report_has(t, "not-present page"), "report: %s", t->fault.report);
}

KTEST(vm, direct_map_covers_ram)
{
	u64 flags;
	for (u32 i = 0; i < bootinfo.nmmap; i++) {
		const struct mem_range *r = &bootinfo.mmap[i];
		if (r->type != MEM_USABLE)
			continue;
		u64 s = ALIGN_UP(r->base, PAGE_SIZE), e = ALIGN_DOWN(r->base + r->len, PAGE_SIZE);
		for (u64 pa = s; pa < e; pa += MAX((e - s) / 8, PAGE_SIZE)) {
			KT_EXPECT(t, vm_translate(DIRECT_MAP + pa, &flags) == pa, "direct map of %#lx", pa);
			KT_EXPECT(t, (flags & (PTE_NX | PTE_W)) == (PTE_NX | PTE_W), "direct map of %#lx: flags %#lx",
				  pa, flags);
		}
		KT_EXPECT(t, vm_translate(DIRECT_MAP + e - 8, &flags) == e - 8, "direct map of %#lx", e - 8);
	}
	// Above RAM nothing is mapped.
	KT_EXPECT_EQ(t, vm_translate(DIRECT_MAP + (1ull << 45), &flags), 0);
}

KTEST(vm, map_protect_unmap)
{
	u64 va = KVA_BASE + 0x1234000, flags;
	u64 *page = frame_alloc_zeroed(0, FT_TEST);
	KT_ASSERT(t, page, "out of memory");
	KT_ASSERT(t, vm_map(va, virt_to_phys(page), PAGE_SIZE, VM_READ | VM_WRITE) == 0, "vm_map failed");
	KT_EXPECT_EQ(t, vm_translate(va, &flags), virt_to_phys(page));
	*(volatile u64 *)va = 0x5eed;
	KT_EXPECT_EQ(t, page[0], 0x5eed);	// the same frame through the direct map
	KT_EXPECT_EQ(t, vm_map(va, virt_to_phys(page), PAGE_SIZE, VM_READ), -1);	// already mapped

	KT_ASSERT(t, vm_protect(va, PAGE_SIZE, VM_READ) == 0, "vm_protect failed");
	if (KT_FAULT_TRY(t)) {
		*(volatile u64 *)va = 1;
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "wrote to a page protected read-only");
	}
	KT_EXPECT_EQ(t, t->fault.cr2, va);
	KT_EXPECT_EQ(t, *(volatile u64 *)va, 0x5eed);	// still readable

	vm_unmap(va, PAGE_SIZE);
	KT_EXPECT_EQ(t, vm_translate(va, &flags), 0);
	if (KT_FAULT_TRY(t)) {
		(void)*(volatile u64 *)va;
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "read an unmapped page (stale TLB entry?)");
	}
	KT_EXPECT(t, report_has(t, "not-present page"), "report: %s", t->fault.report);
	KT_EXPECT_EQ(t, vm_protect(va, PAGE_SIZE, VM_READ), -1);	// nothing mapped
	frame_free(page, 0);
}

static const char map_phys_probe[] = "vm_map_phys sees the same bytes";

KTEST(vm, map_phys_aliases_memory)
{
	// The kernel's rodata is permanent memory, so a lasting alias is safe.
	u64 pa = virt_to_phys(map_phys_probe);
	const char *p = vm_map_phys(pa, sizeof(map_phys_probe), VM_READ);
	KT_ASSERT(t, p != NULL, "vm_map_phys(%#lx) failed", pa);
	KT_EXPECT(t, (u64)p >= IOMAP_BASE && (u64)p < KVA_END, "mapped at %p", p);
	KT_EXPECT_EQ(t, (u64)p & 0xfff, pa & 0xfff);
	KT_EXPECT_STREQ(t, p, map_phys_probe);
	u64 flags;
	KT_EXPECT_EQ(t, vm_translate((u64)p, &flags), pa);
	KT_EXPECT(t, !(flags & PTE_W), "read-only mapping has flags %#lx", flags);
	KT_EXPECT(t, vm_map_phys(pa, 0, VM_READ) == NULL, "zero-length mapping succeeded");
}

KTEST(vm, stack_alloc_free)
{
	struct frame_stats a, b;
	pcp_drain();
	frame_stats(&a);
	struct kstack s;
	KT_ASSERT(t, stack_alloc(&s, 4, "test-stack") == 0, "stack_alloc failed");
	u64 flags;
	KT_EXPECT_EQ(t, s.top - s.bottom, 4 * PAGE_SIZE);
	KT_EXPECT(t, vm_translate(s.bottom, &flags) != 0, "stack bottom unmapped");
	KT_EXPECT(t, vm_translate(s.top - 8, &flags) != 0, "stack top unmapped");
	KT_EXPECT_EQ(t, vm_translate(s.bottom - 8, &flags), 0);	// the guard page
	const char *o = stack_guard_owner(s.bottom - 8);
	KT_EXPECT(t, o && strcmp(o, "test-stack") == 0, "guard owner %s", o ? o : "(none)");
	KT_EXPECT(t, stack_guard_owner(s.bottom) == NULL, "a mapped stack page counted as guard");
	memset((void *)s.bottom, 0x77, s.top - s.bottom);
	stack_free(&s);
	pcp_drain();
	frame_stats(&b);
	// Page-table pages made for the first stack in a slot region stay.
	KT_EXPECT(t, b.free + b.by_tag[FT_PAGETABLE] >= a.free + a.by_tag[FT_PAGETABLE] &&
			     b.by_tag[FT_STACK] == a.by_tag[FT_STACK],
		  "frames lost: %lu free now, %lu before; %lu stack frames now, %lu before", b.free, a.free,
		  b.by_tag[FT_STACK], a.by_tag[FT_STACK]);
}

// Recurses until `limit` (never reached: the stack is far smaller).
static volatile u64 limit = UINT64_MAX;

static __noinline u64 recurse(u64 depth)
{
	volatile u8 pad[256];
	pad[0] = (u8)depth;
	if (depth >= limit)
		return 0;
	return recurse(depth + 1) + pad[0];
}

static void overflow(void *arg)
{
	(void)arg;
	recurse(0);
}

KTEST(vm, stack_overflow_hits_guard_page)
{
	struct kstack s;
	KT_ASSERT(t, stack_alloc(&s, 2, "overflow-test") == 0, "stack_alloc failed");
	if (KT_FAULT_TRY(t)) {
		call_on_stack((void *)s.top, overflow, NULL);
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "recursion without end returned");
	}
	// Running into the guard faults; the CPU cannot push the page-fault
	// frame on the same stack, so it is a double fault on its own stack.
	KT_EXPECT(t, t->fault.vector == T_PAGE_FAULT || t->fault.vector == T_DOUBLE_FAULT, "vector %lu",
		  t->fault.vector);
	KT_EXPECT(t, t->fault.cr2 < s.bottom && t->fault.cr2 >= s.bottom - PAGE_SIZE,
		  "cr2 %#lx is not in the guard page below %#lx", t->fault.cr2, s.bottom);
	KT_EXPECT(t, report_has(t, "stack overflow") && report_has(t, "overflow-test's stack"),
		  "report does not name the stack overflow: %s", t->fault.report);
	stack_free(&s);
}
