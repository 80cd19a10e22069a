# bpfkit build, test and benchmark targets. Run as root on a BPF-capable kernel.
GO       ?= go
BIN      ?= bin/bpfkit
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
# urfave/cli's man page and Markdown generators, which bpfkit does not use,
# pull in a Markdown parser whose package initialisation every command
# would pay (about 5 ms here).
TAGS     := urfave_cli_no_docs
export CGO_ENABLED := 0

.PHONY: all build test race demo bench bench-btf lint testdata check-testdata fuzz clean vmtest vmtest-kernel vmrun vmtool

all: build

build:
	$(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/bpfkit

# The whole test suite. Privileged tests need root; BPFKIT_STRICT=1 turns
# their skips into failures.
test:
	$(GO) test -count=1 -p 1 ./...

# The suite under the race detector (RACE_PKG: the whole suite unless
# told). The detector needs cgo (gcc); the shipped binary (build) stays
# static and cgo-free. CI runs it on the packages where goroutines share
# state (.ci/run says which and why).
RACE_PKG ?= ./...
race:
	CGO_ENABLED=1 $(GO) test -race -timeout 30m -count=1 -p 1 $(RACE_PKG)

# The teaching demo: a hand-written program on sys_enter_openat.
demo: build
	./$(BIN) asm demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin

# Test objects: testdata/bpf.mk holds the compiler and flags of every tree.
include testdata/bpf.mk
BPF_SOURCES  := $(wildcard testdata/*.bpf.c)
BPF_OBJECTS  := $(BPF_SOURCES:.c=.o)

testdata: $(BPF_OBJECTS) testdata/malformed/x86_64.o
	$(MAKE) -C testdata/loader CLANG=$(CLANG)
	$(MAKE) -C testdata/attach CLANG=$(CLANG)
	$(MAKE) -C testdata/learner CLANG=$(CLANG)
	$(MAKE) -C asm/testdata CLANG=$(CLANG)
	$(MAKE) -C testdata/kernel CLANG=$(CLANG)

testdata/%.bpf.o: testdata/%.bpf.c testdata/bpfkit.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Not BPF: an ordinary x86-64 object that bpfkit elf must refuse.
testdata/malformed/x86_64.o: testdata/malformed/x86_64.c
	$(CLANG) -target x86_64-linux-gnu -O2 -c $< -o $@

# CI: rebuild every object from scratch and fail if any differs from git.
check-testdata:
	rm -f $(BPF_OBJECTS) testdata/malformed/x86_64.o testdata/loader/*.bpf.o testdata/attach/*.bpf.o testdata/learner/*.bpf.o testdata/learner/readline asm/testdata/*.bpf.o asm/testdata/*.bpfeb.o testdata/kernel/*.bpf.o
	$(MAKE) testdata
	git diff --exit-code -- testdata asm/testdata
	@test -z "$$(git status --porcelain -- testdata asm/testdata)" || { git status --short -- testdata asm/testdata; exit 1; }

# Run every Fuzz target of every package for FUZZTIME each
# (FUZZTIME=2m make fuzz); the list comes from go test -list.
FUZZTIME ?= 60s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for fz in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$fz"; \
			$(GO) test -run '^$$' -fuzz "^$$fz\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# The benchmarks: map dump, prog/map/link list and btf dump, bpfkit vs
# bpftool in the same run (needs root; bench/README.md).
bench: build
	$(GO) run ./bench/mapdump -bpfkit $(BIN)
	$(GO) run ./bench/lists -bpfkit $(BIN)
	$(GO) run ./bench/btfdump -bpfkit $(BIN)
	$(GO) run ./bench/featureprobe -bpfkit $(BIN)
	$(GO) run ./bench/metrics -bpfkit $(BIN)

# Only the BTF benchmark: vmlinux.h (format c) and the raw dump vs bpftool.
bench-btf: build
	$(GO) run ./bench/btfdump -bpfkit $(BIN)

# The kernel matrix (docs/testing.md): the tests, or a command, in a qemu
# guest booting a Debian cloud kernel (the newest of the KERNEL series apt
# knows, or exactly KERNEL_PKG), the host's root shared read-only.
#   make vmtest [KERNEL=6.1] [RUN=regex] [SKIP=regex] [PKG='./cmd/bpfkit ./objects']
#   make vmrun CMD='bpfkit prog loadall testdata/loader/kprobe.bpf.o /sys/fs/bpf/k autoattach && bpfkit link'
# Kernel packages, test binaries and run files go to .cache/vm (git-ignored).
KERNEL     ?= 6.1
KERNEL_PKG ?=
PKG        ?= ./...
RUN        ?=
# Tests to leave out in the guest (a regex, as go test -skip takes).
SKIP       ?=
CMD        ?= uname -r
VM_TIMEOUT ?= 30m
VM_ACCEL   ?= auto
# TCG's threads: single, or multi (which locks 6.1 guests up: docs/testing.md).
VM_TCG_THREAD ?= single
# What each kernel must be able to do (internal/testutil/kernel.go): there,
# a test that Requires one of these fails instead of skipping.
VM_REQUIRE_6.1  := kprobes,kretprobes,ksyscall,trampolines,fmod_ret,lsm,uprobes
VM_REQUIRE_6.12 := $(VM_REQUIRE_6.1),kprobe_multi,isa_v4
VM_REQUIRE      ?= $(VM_REQUIRE_$(KERNEL))
VMTEST     := .cache/vm/vmtest
VM_FLAGS    = -kernel '$(KERNEL)' -kernel-pkg '$(KERNEL_PKG)' -timeout $(VM_TIMEOUT) \
	-accel $(VM_ACCEL) -tcg-thread $(VM_TCG_THREAD) -require '$(VM_REQUIRE)' -bpfkit $(BIN)

# Regexes and commands reach the tool through the environment, unexpanded.
vmtest: export VMTEST_PKG = $(value PKG)
vmtest: export VMTEST_RUN = $(value RUN)
vmtest: export VMTEST_SKIP = $(value SKIP)
vmrun:  export VMTEST_CMD = $(value CMD)
vmtest-kernel: export VMTEST_SKIP = $(value FILE_ORACLES)|$(value GUEST_SLOW)

# Tests of files alone (ELF and BTF files against readelf, llvm-objdump and
# bpftool, the assembler's round trips, hostile and malformed files, fuzz
# seeds): they answer the same on every kernel, so the guest need not run
# them again.
FILE_ORACLES := ^(TestELF|TestElf|TestSectionTableAgreesWithCilium|TestC(Objects|Split|Unsorted|Vmlinux|Roots)|TestCiliumObjectsMatchBpftool|TestRaw(ELFObjects|Split|Vmlinux)MatchesBpftool|TestHostileBTF|TestMalformedObjects|TestCountExtHostile|TestBigEndianObjects|TestRoundTrip$$|Fuzz)

# Tests CI's guest run leaves out. They cost minutes under TCG and check
# nothing the kernel decides: they build Go code with the guest's empty
# build cache (gen go's bindings; go list for the layering rule) or draw
# bpftool 7.8's `visual` graphs of xlated code the other oracle tests
# compare there.
GUEST_SLOW := ^(TestGenGo|TestLibrariesDoNotPrint|TestVisualMatchesBpftool78|TestProgDumpVisualSharedObjects)$$

vmtool:
	$(GO) build -o $(VMTEST) ./internal/vmtest

vmtest: build vmtool
	$(VMTEST) $(VM_FLAGS) test -pkg "$$VMTEST_PKG" -run "$$VMTEST_RUN" -skip "$$VMTEST_SKIP"

# The guest suite less FILE_ORACLES: what CI runs in the guest.
vmtest-kernel: build vmtool
	$(VMTEST) $(VM_FLAGS) test -pkg ./... -skip "$$VMTEST_SKIP"

vmrun: build vmtool
	$(VMTEST) $(VM_FLAGS) run "$$VMTEST_CMD"
