	.section .ksyms, "a"
	.balign 8
	.globl ksyms_count, ksyms_addr, ksyms_name_off, ksyms_names
ksyms_count:
	.quad 0
ksyms_addr:
ksyms_name_off:
ksyms_names:
	.byte 0
