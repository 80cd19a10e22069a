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

// benchVmlinux times write on the kernel's BTF.
func benchVmlinux(b *testing.B, write func(*Spec) error) {
	s, err := ParseFile(vmlinuxPath, nil)
	if err != nil {
		b.Skip("no kernel BTF")
	}
	for b.Loop() {
		if err := write(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCVmlinux(b *testing.B) {
	benchVmlinux(b, func(s *Spec) error { return WriteC(io.Discard, s, COptions{}) })
}

func BenchmarkRawVmlinux(b *testing.B) {
	benchVmlinux(b, func(s *Spec) error { return WriteRaw(io.Discard, s, nil) })
}

func BenchmarkRawJSONVmlinux(b *testing.B) {
	benchVmlinux(b, func(s *Spec) error { return writeRawJSONTo(io.Discard, s, nil, true) })
}
