// Boot entry. One ELF boots two ways:
//  - GRUB `multiboot2`: the Multiboot2 header below; entry _start with
//    EAX = 0x36d76289, EBX = physical address of the boot information.
//  - `qemu -kernel`: the PVH ELF note; entry pvh_start with EBX = physical
//    address of struct hvm_start_info.
// Both arrive in 32-bit protected mode with paging off. We build early page
// tables (identity + direct map of the first 4 GiB, kernel at -2 GiB),
// enter long mode, switch to the higher half and call kmain(magic, info).

#include "kernel/layout.h"

#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define MB2_TAG_END 0
#define MB2_TAG_INFO_REQ 1
#define PVH_BOOT_MAGIC 0x336ec578
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define V2P(x) ((x) - KERNEL_VMA)

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

// ---------------------------------------------------------------- headers
	.section .multiboot, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	.balign 8
mb2_info_req:				// ask for command line, loader name, memory map
	.short MB2_TAG_INFO_REQ, 0
	.long mb2_info_req_end - mb2_info_req
	.long 1, 2, 6
mb2_info_req_end:

	.balign 8
mb2_end_tag:
	.short MB2_TAG_END, 0
	.long mb2_end_tag_end - mb2_end_tag
mb2_end_tag_end:
mb2_header_end:

	.section .note.Xen, "a"
	.balign 4
	.long pvh_name_end - pvh_name	// namesz
	.long pvh_desc_end - pvh_desc	// descsz
	.long XEN_ELFNOTE_PHYS32_ENTRY
pvh_name:
	.asciz "Xen"
pvh_name_end:
	.balign 4
pvh_desc:
	.long pvh_start
pvh_desc_end:
	.balign 4

// ---------------------------------------------------------------- 32-bit
	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	mov %eax, %edi			// Multiboot2 magic
	mov %ebx, %esi			// boot information
	jmp common32

	.globl pvh_start
pvh_start:
	cli
	mov $PVH_BOOT_MAGIC, %edi
	mov %ebx, %esi

common32:
	cld
	// Long mode needs CPUID leaf 0x80000001 with the LM bit (29).
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	test $(1 << 29), %edx
	jz no_long_mode

	// Zero the early page tables (they live in .boot.bss, which a loader
	// may or may not clear).
	push %edi
	mov $boot_pt_start, %edi
	mov $(boot_pt_end - boot_pt_start) / 4, %ecx
	xor %eax, %eax
	rep stosl
	pop %edi

	// Four page directories of 2 MiB pages map physical 0..4 GiB.
	mov $boot_pd, %ebx
	xor %ecx, %ecx			// entry index 0..2047
1:	mov %ecx, %eax
	shl $21, %eax			// low 32 bits of index * 2 MiB
	or $(PTE_P | PTE_W | PTE_PS), %eax
	mov %eax, (%ebx, %ecx, 8)
	mov %ecx, %eax
	shr $11, %eax			// high bits: index * 2 MiB >> 32
	mov %eax, 4(%ebx, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 1b

	// boot_pdpt[0..3] -> the four directories (first 4 GiB).
	mov $boot_pdpt, %ebx
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $12, %eax
	add $boot_pd + (PTE_P | PTE_W), %eax
	mov %eax, (%ebx, %ecx, 8)
	inc %ecx
	cmp $4, %ecx
	jne 2b

	// boot_pdpt_high[510..511] -> first 2 GiB at KERNEL_VMA.
	mov $boot_pdpt_high, %ebx
	movl $boot_pd + (PTE_P | PTE_W), 510 * 8(%ebx)
	movl $boot_pd + 4096 + (PTE_P | PTE_W), 511 * 8(%ebx)

	// PML4: identity (slot 0), direct map (slot 256), kernel (slot 511).
	mov $boot_pml4, %ebx
	movl $boot_pdpt + (PTE_P | PTE_W), (%ebx)
	movl $boot_pdpt + (PTE_P | PTE_W), 256 * 8(%ebx)
	movl $boot_pdpt_high + (PTE_P | PTE_W), 511 * 8(%ebx)

	mov %cr4, %eax
	or $(1 << 5), %eax		// PAE
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx		// EFER
	rdmsr
	or $(1 << 8), %eax		// LME
	wrmsr
	mov %cr0, %eax
	or $((1 << 31) | (1 << 16) | 1), %eax	// PG, WP, PE
	mov %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_mode_low

no_long_mode:
	// Nothing to print with yet; write a note to COM1 and stop.
	mov $no_lm_msg, %esi
	mov $0x3f8, %dx
3:	lodsb
	test %al, %al
	jz 4f
	out %al, %dx
	jmp 3b
4:	hlt
	jmp 4b

	.code64
long_mode_low:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	movabs $long_mode_high, %rax
	jmp *%rax

	.section .boot.rodata, "a"
no_lm_msg:
	.asciz "tricolor: this CPU has no long mode (x86-64); halting\r\n"
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00209A0000000000		// 0x08: 64-bit code, DPL 0
	.quad 0x0000920000000000		// 0x10: data
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .boot.bss, "aw", @nobits
	.balign 4096
boot_pt_start:
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pdpt_high:	.skip 4096
boot_pd:	.skip 4 * 4096
boot_pt_end:

// ---------------------------------------------------------------- 64-bit
	.text
	.globl long_mode_high
long_mode_high:
	movabs $boot_stack_top, %rsp
	xor %ebp, %ebp			// terminates backtraces
	mov %edi, %edi			// zero-extend magic and info address:
	mov %esi, %esi			// upper halves are undefined after the switch
	call kmain
5:	cli
	hlt
	jmp 5b

	.bss
	.balign 16
	.globl boot_stack, boot_stack_top
boot_stack:
	.skip 32768
boot_stack_top:
