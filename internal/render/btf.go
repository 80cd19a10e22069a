package render

import (
	"bufio"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/internal/jsonw"
)

// BTFRaw: bpftool's raw dump of the types (all when roots is empty).
func (p *textPrinter) BTFRaw(spec *btf.Spec, roots []btf.TypeID) error {
	return btf.WriteRaw(p.w, spec, roots)
}

func (p *jsonPrinter) BTFRaw(spec *btf.Spec, roots []btf.TypeID) error {
	w := bufio.NewWriterSize(p.w, 64<<10)
	if err := btf.WriteRawJSON(jsonw.New(w, p.pretty), spec, roots); err != nil {
		return err
	}
	w.WriteByte('\n')
	return w.Flush()
}

// BTFC: the types as a C header, vmlinux.h style.
func (p *textPrinter) BTFC(spec *btf.Spec, opts btf.COptions) error {
	w := bufio.NewWriterSize(p.w, 256<<10)
	if err := btf.WriteC(w, spec, opts); err != nil {
		return err
	}
	return w.Flush()
}

func (p *jsonPrinter) BTFC(*btf.Spec, btf.COptions) error { return errNoJSON }
