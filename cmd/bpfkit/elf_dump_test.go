package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// elfDumpRun runs a command line in-process and returns its stdout and
// error.
func elfDumpRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := newApp(&stdout, &stderr).Run(append([]string{"bpfkit"}, args...))
	return stdout.String(), err
}

// TestElfDumpGolden keeps `elf dump` of the disassembler's object in golden
// files: all programs with source lines and opcodes, one section, one
// program, and JSON.
func TestElfDumpGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"elf_dump_lines.golden", []string{"elf", "dump", disasmObject, "linum", "opcodes"}},
		{"elf_dump_lines_program.golden", []string{"elf", "dump", disasmObject, "program", "second_prog"}},
		{"elf_dump_socket_section.golden", []string{"elf", "dump", testutil.Object(t, "socket"), "section", "socket"}},
		{"elf_dump_lines_program.json.golden", []string{"-p", "elf", "dump", disasmObject, "prog", "second_prog", "linum"}},
	} {
		out, err := elfDumpRun(t, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		testutil.Golden(t, tc.golden, []byte(out))
	}
}

func TestElfDumpErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"elf", "dump"}, "expected an object file"},
		{[]string{"elf", "dump", "/nonexistent.o"}, "no such file"},
		{[]string{"elf", "dump", disasmObject, "program", "nope"}, "no program nope in"},
		{[]string{"elf", "dump", disasmObject, "section", "xdp"}, "no programs in section xdp"},
		{[]string{"elf", "dump", disasmObject, "section", "socket", "program", "x"}, "at most one"},
		{[]string{"elf", "dump", disasmObject, "bogus"}, "unknown argument 'bogus'"},
		{[]string{"elf", "dump", "elf_dump_test.go"}, "not an ELF file"},
	} {
		_, err := elfDumpRun(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
