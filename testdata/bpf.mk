# The one way bpfkit's test objects are compiled, included by every tree of
# them (testdata/, testdata/loader/, asm/testdata/): Debian's clang 14, one
# set of flags, and file names made relative to the building directory so
# that a rebuild anywhere is byte-identical to the committed objects.
CLANG      ?= clang-14
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -fdebug-prefix-map=$(CURDIR)=.
# Big-endian objects (clang -target bpfeb) for the assembler's round trip:
# the same flags with the other byte order.
BPFEB_CFLAGS := $(subst -target bpf ,-target bpfeb ,$(BPF_CFLAGS))
