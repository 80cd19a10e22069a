# bpfkit build, test and benchmark targets. Run as root on a BPF-capable kernel.
GO       ?= go
BIN      ?= bin/bpfkit
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
export CGO_ENABLED := 0

.PHONY: all build test demo bench bench-btf lint testdata check-testdata fuzz clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/bpfkit

# The whole test suite. Privileged tests need root; BPFKIT_STRICT=1 turns
# their skips into failures.
test:
	$(GO) test -count=1 -p 1 ./...

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
	$(MAKE) -C asm/testdata CLANG=$(CLANG)

testdata/%.bpf.o: testdata/%.bpf.c testdata/bpfkit.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Not BPF: an ordinary x86-64 object that bpfkit elf must refuse.
testdata/malformed/x86_64.o: testdata/malformed/x86_64.c
	$(CLANG) -target x86_64-linux-gnu -O2 -c $< -o $@

# CI: rebuild every object from scratch and fail if any differs from git.
check-testdata:
	rm -f $(BPF_OBJECTS) testdata/malformed/x86_64.o testdata/loader/*.bpf.o asm/testdata/*.bpf.o
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

# The map dump benchmark: bpfkit vs bpftool on 1M-entry maps (needs root).
bench: build
	$(GO) run ./bench/mapdump -bpfkit $(BIN)
	$(GO) run ./bench/proglist -bpfkit $(BIN)
	$(GO) run ./bench/btfdump -bpfkit $(BIN)
	$(GO) run ./bench/featureprobe -bpfkit $(BIN)

# Only the BTF benchmark: vmlinux.h (format c) and the raw dump vs bpftool.
bench-btf: build
	$(GO) run ./bench/btfdump -bpfkit $(BIN)
