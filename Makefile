# Tricolor: build the kernel, the GRUB ISO, and run or test it in QEMU.
#
#   make run     boot the GRUB ISO, console on this terminal (Ctrl-A X quits)
#   make test    host tests + in-kernel self-tests on -smp 1, 2, 4 and 8 (and
#                70: 64 CPUs supported),
#                -m 32M and 4G, one boot through GRUB, harness self-checks;
#                ends with "N passed, N failed"
#   make debug   QEMU paused with a gdb stub; prints the gdb command
#   make bench   in-kernel benchmarks; only Go's `go test -bench` lines go
#                to stdout (BENCH=GLOB, BENCHTIME=MS, BENCH_SMP, default 1)
#   make iso     build/tricolor.iso        make clean
#   make sizeclasses   regenerate mm/sizeclasses.h (checked in) with
#                tools/mksizeclasses.py; `make test` checks it is current
#   make fuzz FUZZTIME=S   fuzz the heap (hosted build) for S seconds
#   make bench-hosted  the heap's and the collector's benchmarks at native
#                speed (BENCH, BENCHTIME, BENCH_CPUS)
#   make hosted  build the hosted port's programs (tests/hosted/hosted.mk)
#   make compare  native side-by-side benchmarks against Go, Boehm GC,
#                glibc, jemalloc and mimalloc (tools/compare/, ROUNDS=2)
#
# Variables: CMDLINE (kernel command line for run/debug/bench), SMP, MEM,
# ACCEL=kvm (opt-in; TCG is the default, see docs/debugging.md).

BUILD := build
CC := gcc
LD := ld
NM := nm
PYTHON := python3
QEMU := qemu-system-x86_64

SMP ?= 4
NPROC := $(shell nproc 2>/dev/null || echo 1)
MEM ?= 512M
CMDLINE ?=
BENCH ?= *
BENCHTIME ?= 1000
BENCH_SMP ?= 1
ACCEL ?= tcg
ifeq ($(ACCEL),kvm)
QEMU_ACCEL := -accel kvm
else
QEMU_ACCEL := -accel tcg,thread=multi
endif

CFLAGS := -std=gnu11 -O2 -g -ffreestanding -nostdlib -fno-builtin-printf \
	-mno-red-zone -mcmodel=kernel -mgeneral-regs-only -fno-pie -fno-pic \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-stack-protector \
	-fno-asynchronous-unwind-tables -Wall -Wextra -Werror -I.
ASFLAGS := -g -I. -D__ASSEMBLER__
LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments --build-id=none -T linker.ld

SRCS_C := $(wildcard kernel/*.c drivers/*.c mm/*.c gc/*.c tests/kernel/*.c)
SRCS_S := $(wildcard boot/*.S kernel/*.S)
OBJS := $(patsubst %,$(BUILD)/%.o,$(basename $(SRCS_S) $(SRCS_C)))
DEPS := $(OBJS:.o=.d)

KERNEL := $(BUILD)/kernel.elf
ISO := $(BUILD)/tricolor.iso
TEST_ISO := $(BUILD)/tricolor-test.iso
QEMU_COMMON := -machine q35 $(QEMU_ACCEL) -smp $(SMP) -m $(MEM) -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04

.PHONY: all run test debug iso clean deps kernel bench sizeclasses
all: $(KERNEL)
kernel: $(KERNEL)

deps:
	@tools/ensure-deps.sh

# Tests run in the order they are written: keep gcc from reordering the
# KTEST() descriptors in their section.
$(BUILD)/tests/kernel/%.o: CFLAGS += -fno-toplevel-reorder

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS    $<")
	$(Q)$(CC) $(ASFLAGS) -MMD -MP -c $< -o $@

# Two links: the first with an empty symbol table, the second with the
# table of the first's functions. The table is the last segment, so the
# check below (text symbols identical in both) cannot fail unless the
# linker script changes; it guards that.
$(BUILD)/ksyms0.S: tools/mksyms.py
	@mkdir -p $(BUILD)
	$(Q)$(PYTHON) tools/mksyms.py --empty $@
$(BUILD)/kernel.pass1.elf: $(OBJS) $(BUILD)/ksyms0.o linker.ld
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(LD) $(LDFLAGS) -o $@ $(OBJS) $(BUILD)/ksyms0.o
$(BUILD)/ksyms.S: $(BUILD)/kernel.pass1.elf tools/mksyms.py
	@$(if $(Q),echo "  SYMS  $@")
	$(Q)$(PYTHON) tools/mksyms.py --nm $(NM) $< $@
$(KERNEL): $(BUILD)/kernel.pass1.elf $(BUILD)/ksyms.o
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(LD) $(LDFLAGS) -o $@ $(OBJS) $(BUILD)/ksyms.o
	@$(NM) -n $(BUILD)/kernel.pass1.elf | grep -i ' t ' > $(BUILD)/syms1.txt
	@$(NM) -n $@ | grep -i ' t ' > $(BUILD)/syms2.txt
	@cmp -s $(BUILD)/syms1.txt $(BUILD)/syms2.txt || \
		{ echo "error: embedding the symbol table moved functions"; rm -f $@; exit 1; }

# grub.cfg is rewritten only when the command line changes.
define make_iso
	@mkdir -p $(BUILD)/$(1)/boot/grub
	@sed 's|@CMDLINE@|$(2)|' boot/grub.cfg.in > $(BUILD)/$(1)/grub.cfg.new
	@cmp -s $(BUILD)/$(1)/grub.cfg.new $(BUILD)/$(1)/boot/grub/grub.cfg || \
		mv $(BUILD)/$(1)/grub.cfg.new $(BUILD)/$(1)/boot/grub/grub.cfg
	@rm -f $(BUILD)/$(1)/grub.cfg.new
	@cp $(KERNEL) $(BUILD)/$(1)/boot/kernel.elf
	@echo "  ISO   $(3)"
	$(Q)grub-mkrescue -o $(3) $(BUILD)/$(1) 2> $(BUILD)/$(1).log || { cat $(BUILD)/$(1).log; exit 1; }
endef

iso: deps $(KERNEL)
	$(call make_iso,isodir,$(CMDLINE),$(ISO))

$(TEST_ISO): $(KERNEL) boot/grub.cfg.in
	$(call make_iso,isodir-test,test,$(TEST_ISO))

run: iso
	@echo "Booting $(ISO) (console on this terminal; Ctrl-A X quits QEMU)"
	$(QEMU) $(QEMU_COMMON) -display none -cdrom $(ISO) \
		-serial mon:stdio -serial file:$(BUILD)/com2.bin

debug: deps $(KERNEL)
	@echo "QEMU is paused with a gdb stub on :1234. In another terminal:"
	@echo "  gdb $(KERNEL) -ex 'target remote :1234' -ex 'hbreak kmain' -ex continue"
	$(QEMU) $(QEMU_COMMON) -display none -kernel $(KERNEL) -append "$(CMDLINE)" \
		-serial mon:stdio -serial file:$(BUILD)/com2.bin -s -S

# The build runs on every core (about half the time on two), the tests
# one step at a time.
test: deps
	@$(MAKE) -s -j$(NPROC) $(KERNEL) $(TEST_ISO) hosted
	@$(PYTHON) tests/harness/run.py all

bench: deps $(KERNEL)
	@$(PYTHON) tests/harness/run.py bench --kernel $(KERNEL) --smp $(BENCH_SMP) \
		--memory $(MEM) --bench '$(BENCH)' --benchtime $(BENCHTIME) \
		$(if $(CMDLINE),--append '$(CMDLINE)')

# The size-class table is generated but checked in (docs/decisions.md), so
# a build needs no generator run; this target reruns it.
sizeclasses:
	$(PYTHON) tools/mksizeclasses.py -o mm/sizeclasses.h

clean:
	rm -rf $(BUILD)

include tests/hosted/hosted.mk
include tools/compare/compare.mk

-include $(DEPS)
