package btf

import (
	"io"
	"os"
	"testing"
)

func BenchmarkParseVmlinux(b *testing.B) {
	data, err := os.ReadFile(vmlinuxPath)
	if err != nil {
		b.Skip("no kernel BTF")
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCVmlinux(b *testing.B) {
	s, err := ParseFile(vmlinuxPath, nil)
	if err != nil {
		b.Skip("no kernel BTF")
	}
	for b.Loop() {
		if err := WriteC(io.Discard, s, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawVmlinux(b *testing.B) {
	s, err := ParseFile(vmlinuxPath, nil)
	if err != nil {
		b.Skip("no kernel BTF")
	}
	for b.Loop() {
		if err := WriteRaw(io.Discard, s, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawJSONVmlinux(b *testing.B) {
	s, err := ParseFile(vmlinuxPath, nil)
	if err != nil {
		b.Skip("no kernel BTF")
	}
	for b.Loop() {
		if err := writeRawJSONTo(io.Discard, s, nil, true); err != nil {
			b.Fatal(err)
		}
	}
}
