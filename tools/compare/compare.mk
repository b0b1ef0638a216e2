# `make compare` (docs/PERFORMANCE.md): the same workloads
# (tools/compare/workloads.c and workloads.go) built for Tricolor's hosted
# port and for each peer, run interleaved by tools/compare/compare.py,
# which prints one table. ROUNDS (default 2: one round of everything takes
# about 4.5 minutes on this machine class) runs of every pair.
#
#   build/compare/wl-tricolor   mm/ and gc/ in the hosted build (-O2)
#   build/compare/wl-go         Go (Debian's golang-go)
#   build/compare/wl-boehm      Boehm GC (libgc-dev)
#   build/compare/wl-glibc      glibc malloc/free
#   build/compare/wl-jemalloc   jemalloc (libjemalloc-dev)
#   build/compare/wl-mimalloc   mimalloc (libmimalloc-dev)

COMPARE := $(BUILD)/compare
ROUNDS ?= 2
COMPARE_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror
COMPARE_PROGS := $(addprefix $(COMPARE)/wl-,tricolor go boehm glibc jemalloc mimalloc)
COMPARE_TRICOLOR_OBJS := $(call hosted_objs,bench,$(HEAP_SRCS) $(GC_SRCS) $(HOSTED_PLAT_SRCS) kernel/cmdline.c \
	tests/hosted/gc_start.c tools/compare/workloads.c)

$(call hosted_objs,bench,tools/compare/workloads.c): HOSTED_EXTRA := -I tests/hosted/kcompat -DPEER_TRICOLOR

$(COMPARE)/wl-tricolor: $(COMPARE_TRICOLOR_OBJS) $(HOSTED_SECTIONS_LD)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTED_CC) -O2 -Wl,-T,$(HOSTED_SECTIONS_LD) -o $@ $(filter %.o,$^) -lpthread

$(COMPARE)/wl-boehm: LIBS := -lgc
$(COMPARE)/wl-jemalloc: LIBS := -ljemalloc
$(COMPARE)/wl-mimalloc: LIBS := -lmimalloc
$(COMPARE)/wl-%: tools/compare/workloads.c tools/compare/compare.mk
	@mkdir -p $(dir $@)
	$(Q)$(HOSTED_CC) $(COMPARE_CFLAGS) -DPEER_$(shell echo $* | tr a-z A-Z) -o $@ $< $(LIBS) -lpthread

# GOCACHE and HOME inside build/: the build needs no writable home.
$(COMPARE)/wl-go: tools/compare/workloads.go
	@mkdir -p $(COMPARE)/gocache
	$(Q)cd $(COMPARE) && HOME=$(abspath $(COMPARE)) GOCACHE=$(abspath $(COMPARE)/gocache) GO111MODULE=off \
		go build -o wl-go $(abspath $<)

# KERNEL_BLOCK=1 adds the in-kernel counterparts under QEMU (a few minutes).
.PHONY: compare
compare: deps $(if $(KERNEL_BLOCK),$(KERNEL))
	@tools/ensure-deps.sh compare
	@$(MAKE) -s $(COMPARE_PROGS)
	@$(PYTHON) tools/compare/compare.py --dir $(COMPARE) --rounds $(ROUNDS) $(if $(KERNEL_BLOCK),--kernel $(KERNEL))

-include $(patsubst %.o,%.d,$(call hosted_objs,bench,tools/compare/workloads.c))
