package elfobj

import (
	"errors"
	"strings"

	"github.com/bpfkit/bpfkit/btf"
)

// btfTypeCount counts the types of a .BTF section with bpfkit's BTF
// parser, which checks every bound, so a hostile section only yields an
// error.
func btfTypeCount(b []byte) (int, error) {
	spec, err := btf.Parse(b, nil)
	if err != nil {
		// The section's column says "BTF: " already.
		return 0, errors.New(strings.TrimPrefix(err.Error(), "parse BTF: "))
	}
	return int(spec.End() - spec.FirstID()), nil
}
