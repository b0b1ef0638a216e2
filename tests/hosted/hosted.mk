# The hosted port (tests/hosted/, docs/architecture.md): the heap's and the
# collector's sources, unchanged, built for Linux user space with clang:
#
#   build/hosted/asan/heap_test     heap unit tests under AddressSanitizer + UBSan
#   build/hosted/asan/gc_test       the collector's tests (tests/kernel/test_gc.c)
#                                   under AddressSanitizer + UBSan
#   build/hosted/tsan/gc_test       the same under ThreadSanitizer
#   build/hosted/fuzz/fuzz_heap     libFuzzer target (ASan + UBSan)
#   build/hosted/bench/bench_heap   -O2, no sanitizers: native-speed benchmarks
#   build/hosted/bench/gc_bench     the collector's benchmarks (tests/kernel/
#                                   bench_gc.c), -O2, no sanitizers
#
#   make fuzz FUZZTIME=SECONDS        fuzz for that long (default 60)
#   make bench-hosted BENCH=GLOB      Go-format lines on stdout (BENCHTIME=MS,
#                                     BENCH_CPUS: the collector's, default 2)
#
# -I tests/hosted/include comes before -I ., so "mm/platform.h" means the
# hosted platform (tests/hosted/include/mm/platform.h) for every heap file.
# The kernel's test files also need tests/hosted/kcompat (kernel names they
# use beyond the platform); the heap files never see it. `make test` runs
# the unit tests, a short fuzz run and every benchmark briefly
# (tests/harness/run.py, steps hosted-*).

HOSTED_CC := clang
HOSTED := $(BUILD)/hosted
FUZZTIME ?= 60
# CPU slots of the collector benchmarks (the issue's comparisons are 2 threads).
BENCH_CPUS ?= 2

# The heap: exactly the files the kernel's heap is made of.
HEAP_SRCS := mm/malloc.c mm/mheap.c mm/mcentral.c mm/mstats.c mm/heap_test.c mm/fixalloc.c
# The only headers they may include (heap-deps.ok checks the .d files).
HEAP_ALLOWED_HEADERS := kernel/types.h kernel/list.h tests/hosted/include/mm/platform.h mm/heap.h \
	mm/malloc_internal.h mm/fixalloc.h mm/sizeclasses.h
HOSTED_PLAT_SRCS := tests/hosted/platform.c kernel/glob.c
# The collector: exactly the files the kernel's collector is made of.
GC_SRCS := gc/gc.c gc/mark.c gc/barrier.c gc/special.c

HOSTED_CFLAGS := -std=gnu11 -g -fno-omit-frame-pointer -Wall -Wextra -Werror \
	-I tests/hosted/include -I .
HOSTED_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
HOSTED_MODE_asan := -O1 $(HOSTED_SAN)
# Comparison tracing is left out: the heap's invariant checks are loops of
# comparisons, and tracing them made the fuzzer ~3x slower; the input
# format has no magic values for it to find.
HOSTED_MODE_fuzz := -O1 $(HOSTED_SAN) -fsanitize=fuzzer-no-link -fno-sanitize-coverage=trace-cmp
# The benchmarks map the heap range read-write once (HOSTED_HEAP_GUARD=0,
# see tests/hosted/platform.c); the test builds keep uncommitted pages
# PROT_NONE.
HOSTED_MODE_bench := -O2 -DHOSTED_HEAP_GUARD=0
HOSTED_MODE_tsan := -O1 -fsanitize=thread
# The .gcroots (GC_ROOT globals) and .kbench sections get the bounds the
# kernel's linker script gives them.
HOSTED_SECTIONS_LD := tests/hosted/sections.ld

hosted_objs = $(patsubst %.c,$(HOSTED)/$(1)/%.o,$(2))

HOSTED_TEST_SRCS := $(HEAP_SRCS) $(HOSTED_PLAT_SRCS) tests/hosted/runner.c tests/hosted/heap_test.c \
	tests/kernel/test_heap.c
HOSTED_TEST := $(HOSTED)/asan/heap_test
HOSTED_GC_TEST_SRCS := $(HEAP_SRCS) $(GC_SRCS) $(HOSTED_PLAT_SRCS) kernel/cmdline.c tests/hosted/runner.c \
	tests/hosted/gc_start.c tests/hosted/gc_test.c tests/kernel/test_gc.c
HOSTED_GC_TESTS := $(HOSTED)/asan/gc_test $(HOSTED)/tsan/gc_test
HOSTED_GC_BENCH_SRCS := $(HEAP_SRCS) $(GC_SRCS) $(HOSTED_PLAT_SRCS) kernel/cmdline.c tests/kernel/kbench.c \
	tests/kernel/bench_gc.c tests/hosted/gc_start.c tests/hosted/gc_bench.c
HOSTED_GC_BENCH := $(HOSTED)/bench/gc_bench
HOSTED_FUZZ := $(HOSTED)/fuzz/fuzz_heap
HOSTED_BENCH := $(HOSTED)/bench/bench_heap
HOSTED_TEST_OBJS := $(call hosted_objs,asan,$(HOSTED_TEST_SRCS))
HOSTED_FUZZ_OBJS := $(call hosted_objs,fuzz,$(HEAP_SRCS) $(HOSTED_PLAT_SRCS) tests/hosted/fuzz_heap.c)
HOSTED_BENCH_OBJS := $(call hosted_objs,bench,$(HEAP_SRCS) $(HOSTED_PLAT_SRCS) tests/hosted/bench_heap.c)
HOSTED_ALL_OBJS := $(HOSTED_TEST_OBJS) $(HOSTED_FUZZ_OBJS) $(HOSTED_BENCH_OBJS) \
	$(foreach m,asan tsan,$(call hosted_objs,$(m),$(HOSTED_GC_TEST_SRCS))) \
	$(call hosted_objs,bench,$(HOSTED_GC_BENCH_SRCS))

# Kernel test files, kernel/cmdline.c and the runner that hosts them see
# the kernel names.
HOSTED_KCOMPAT_SRCS := tests/kernel/test_heap.c tests/kernel/test_gc.c kernel/cmdline.c tests/hosted/runner.c \
	tests/hosted/heap_test.c tests/hosted/gc_test.c
$(foreach m,asan tsan,$(call hosted_objs,$(m),$(HOSTED_KCOMPAT_SRCS))) \
	$(call hosted_objs,bench,kernel/cmdline.c tests/kernel/kbench.c tests/kernel/bench_gc.c \
		tests/hosted/gc_bench.c): HOSTED_EXTRA := -I tests/hosted/kcompat

define hosted_mode_rule
$(HOSTED)/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC    $$< ($(1))")
	$$(Q)$$(HOSTED_CC) $$(HOSTED_EXTRA) $$(HOSTED_CFLAGS) $$(HOSTED_MODE_$(1)) -MMD -MP -c $$< -o $$@
endef
$(foreach m,asan tsan fuzz bench,$(eval $(call hosted_mode_rule,$(m))))
$(HOSTED_ALL_OBJS): tests/hosted/hosted.mk	# flags changed: rebuild

$(HOSTED_TEST): $(HOSTED_TEST_OBJS)
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(HOSTED_CC) $(HOSTED_MODE_asan) -o $@ $^ -lpthread

define hosted_gc_test_rule
$(HOSTED)/$(1)/gc_test: $(call hosted_objs,$(1),$(HOSTED_GC_TEST_SRCS)) $(HOSTED_SECTIONS_LD)
	@$$(if $$(Q),echo "  LD    $$@")
	$$(Q)$$(HOSTED_CC) $$(HOSTED_MODE_$(1)) -Wl,-T,$$(HOSTED_SECTIONS_LD) -o $$@ $$(filter %.o,$$^) -lpthread
endef
$(foreach m,asan tsan,$(eval $(call hosted_gc_test_rule,$(m))))

$(HOSTED_GC_BENCH): $(call hosted_objs,bench,$(HOSTED_GC_BENCH_SRCS)) $(HOSTED_SECTIONS_LD)
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(HOSTED_CC) -O2 -Wl,-T,$(HOSTED_SECTIONS_LD) -o $@ $(filter %.o,$^) -lpthread

$(HOSTED_FUZZ): $(HOSTED_FUZZ_OBJS)
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(HOSTED_CC) $(HOSTED_SAN) -fsanitize=fuzzer -o $@ $^ -lpthread

$(HOSTED_BENCH): $(HOSTED_BENCH_OBJS)
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(HOSTED_CC) -O2 -o $@ $^ -lpthread

# The heap files include nothing but the platform header and their own:
# no kernel header, no hosted-only path. Checked on every hosted build.
$(HOSTED)/heap-deps.ok: $(call hosted_objs,asan,$(HEAP_SRCS))
	@sed -e 's/\\$$//' -e 's/^[^:]*://' $(patsubst %.o,%.d,$^) | tr ' ' '\n' | grep '\.h$$' | sort -u > $@.list
	@bad=$$(grep -vxF $(foreach h,$(HEAP_ALLOWED_HEADERS),-e $(h)) $@.list); \
	if [ -n "$$bad" ]; then echo "error: heap sources include headers outside the platform interface:" $$bad; exit 1; fi
	@if grep -n 'HOSTED\|__linux__\|tests/hosted' $(HEAP_SRCS) mm/malloc_internal.h mm/heap.h mm/fixalloc.h; then \
		echo "error: hosted-only code in the heap sources"; exit 1; fi
	@touch $@

.PHONY: hosted fuzz bench-hosted
hosted: $(HOSTED_TEST) $(HOSTED_GC_TESTS) $(HOSTED_FUZZ) $(HOSTED_BENCH) $(HOSTED_GC_BENCH) $(HOSTED)/heap-deps.ok

# Fuzz for FUZZTIME seconds, keeping what it finds in build/hosted/corpus;
# a crash leaves its input in build/hosted/ (crash-*), to replay with
# build/hosted/fuzz/fuzz_heap FILE.
fuzz: deps $(HOSTED_FUZZ) $(HOSTED)/heap-deps.ok
	@mkdir -p $(HOSTED)/corpus
	cd $(HOSTED) && ./fuzz/fuzz_heap -max_total_time=$(FUZZTIME) -max_len=4096 \
		-print_final_stats=1 corpus

bench-hosted: deps $(HOSTED_BENCH) $(HOSTED_GC_BENCH) $(HOSTED)/heap-deps.ok
	@$(HOSTED_BENCH) -bench '$(BENCH)' -benchtime $(BENCHTIME)
	@$(HOSTED_GC_BENCH) -bench '$(BENCH)' -benchtime $(BENCHTIME) -cpus $(BENCH_CPUS)

-include $(HOSTED_ALL_OBJS:.o=.d)
