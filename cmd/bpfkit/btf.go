package main

import (
	"errors"
	"fmt"
	"github.com/bpfkit/bpfkit/internal/infile"
	"io"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/pin"
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

const (
	vmlinuxBTF     = "/sys/kernel/btf/vmlinux"
	sysfsBTFPrefix = "/sys/kernel/btf/"
)

func btfCommand() *cli.Command {
	show := &cli.Command{
		Name:      "show",
		Aliases:   []string{"list"},
		Usage:     "list BTF objects loaded in the kernel",
		ArgsUsage: "[id ID]",
		Action:    btfShow,
	}
	dump := &cli.Command{
		Name:  "dump",
		Usage: "print BTF types, as bpftool's raw dump or as a C header (vmlinux.h)",
		ArgsUsage: "BTF_SRC [format {raw | c [unsorted]}] [root_id ID]...\n\n" +
			"BTF_SRC := { id ID | prog PROG | map MAP [key | value | kv | all] | file FILE }\n" +
			progSpecUsage + "\n" + mapSpec,
		Action: btfDump,
	}
	return &cli.Command{
		Name:        "btf",
		Usage:       "inspect BTF objects and files, and generate vmlinux.h",
		ArgsUsage:   "COMMAND",
		Action:      showOrUnknown(btfShow, "id"),
		Subcommands: []*cli.Command{show, dump},
	}
}

const progSpecUsage = "PROG := { id ID | pinned FILE | tag TAG | name NAME }"

// btfShow is `btf show [id ID]`.
func btfShow(c *cli.Context) error {
	words := c.Args().Slice()
	var id uint32
	if len(words) > 0 {
		if _, ok := matchKeyword(words[0], "id"); !ok {
			return fmt.Errorf("expected 'id', got: '%s'", words[0])
		}
		if len(words) < 2 {
			return errors.New("'id' needs a value")
		}
		n, err := strconv.ParseUint(words[1], 0, 32)
		if err != nil || n == 0 {
			return fmt.Errorf("can't parse %s as ID", words[1])
		}
		id = uint32(n)
		if err := noMoreArgs(words[2:]); err != nil {
			return err
		}
	}
	objs, err := objects.ListBTF(id)
	if err != nil {
		return fmt.Errorf("show btf: %w", err)
	}
	return out(c).BTFObjects(objs, id != 0)
}

// btfSource is what `btf dump` reads: a kernel BTF object or a file, and
// the root types to print (all when empty).
type btfSource struct {
	id    uint32
	file  string
	roots []btf.TypeID
	what  string
}

// parseBTFSource parses BTF_SRC from the front of words.
func parseBTFSource(words []string) (*btfSource, []string, error) {
	if len(words) == 0 {
		return nil, nil, errors.New("expected BTF source: id ID, prog PROG, map MAP or file FILE")
	}
	kind, ok := matchKeyword(words[0], "id", "prog", "map", "file")
	if !ok {
		return nil, nil, fmt.Errorf("unrecognized BTF source specifier: '%s'", words[0])
	}
	if len(words) < 2 {
		return nil, nil, fmt.Errorf("'%s' needs a value", kind)
	}
	src := &btfSource{}
	switch kind {
	case "id":
		n, err := strconv.ParseUint(words[1], 0, 32)
		if err != nil {
			return nil, nil, fmt.Errorf("can't parse %s as ID", words[1])
		}
		src.id = uint32(n)
		return src, words[2:], nil
	case "file":
		if words[1] == "" {
			return nil, nil, errors.New("'file' needs a path, got an empty one")
		}
		src.file, src.what = words[1], words[1]
		return src, words[2:], nil
	case "prog":
		info, rest, err := describeSelected(objects.Programs, words[1:])
		if err != nil {
			return nil, nil, err
		}
		return src, rest, src.objectBTF("program", info.ID, info.BTFID)
	}
	info, rest, err := describeSelected(objects.Maps, words[1:])
	if err != nil {
		return nil, nil, err
	}
	if err := src.objectBTF("map", info.ID, info.BTFID); err != nil {
		return nil, nil, err
	}
	key, value := btf.TypeID(info.BTFKeyTypeID), btf.TypeID(info.BTFValueTypeID)
	part := "kv"
	if len(rest) > 0 {
		if p, ok := matchKeyword(rest[0], "key", "value", "kv", "all"); ok {
			part, rest = p, rest[1:]
		}
	}
	if info.BTFVmlinuxValueTypeID != 0 && part != "key" && part != "all" {
		// A struct_ops map: its value type is in the kernel's BTF.
		src.id, src.file = 0, vmlinuxBTF
		src.roots = []btf.TypeID{btf.TypeID(info.BTFVmlinuxValueTypeID)}
		return src, rest, nil
	}
	switch part {
	case "key":
		src.roots = []btf.TypeID{key}
	case "value":
		src.roots = []btf.TypeID{value}
	case "kv":
		src.roots = []btf.TypeID{key, value}
	}
	return src, rest, nil
}

// describeSelected parses the selector at the front of words and describes
// the one object it selects.
func describeSelected[T pin.Pinner, I any](noun *objects.Noun[T, I], words []string) (*I, []string, error) {
	sel, rest, err := noun.ParseSelector(words)
	if err != nil {
		return nil, nil, err
	}
	info, err := noun.DescribeOne(sel)
	return info, rest, err
}

// objectBTF makes the source the BTF object of a program or map.
func (s *btfSource) objectBTF(noun string, id, btfID uint32) error {
	if btfID == 0 {
		return fmt.Errorf("%s %d has no BTF", noun, id)
	}
	s.id, s.what = btfID, fmt.Sprintf("%s %d", noun, id)
	return nil
}

// load reads and parses the source's BTF. Module BTF, from the kernel or
// from /sys/kernel/btf/<module>, is split BTF on top of vmlinux; an object
// file's BTF is its .BTF section.
func (s *btfSource) load(c *cli.Context) (*btf.Spec, error) {
	if s.file != "" {
		if isELF(s.file) {
			return objectBTF(c, s.file)
		}
		var base *btf.Spec
		if strings.HasPrefix(s.file, sysfsBTFPrefix) && s.file != vmlinuxBTF {
			var err error
			if base, err = btf.ParseFile(vmlinuxBTF, nil); err != nil {
				return nil, fmt.Errorf("load vmlinux BTF: %w", err)
			}
		}
		return btf.ParseFile(s.file, base)
	}
	data, obj, err := objects.BTFData(s.id)
	if err != nil {
		return nil, err
	}
	var base *btf.Spec
	if obj.IsModule() {
		if base, err = btf.ParseFile(vmlinuxBTF, nil); err != nil {
			return nil, fmt.Errorf("load vmlinux BTF: %w", err)
		}
	}
	return btf.Parse(data, base)
}

// isELF reports whether the file at path starts with the ELF magic.
func isELF(path string) bool {
	f, _, err := infile.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && string(magic) == "\x7fELF"
}

// objectBTF parses the .BTF section of a BPF object file (or of the BPF
// object a skeleton embeds).
func objectBTF(c *cli.Context, path string) (*btf.Spec, error) {
	f, err := elfobj.Open(path)
	if err != nil {
		return nil, err
	}
	noteEmbedded(c, path, f)
	data, ok := f.SectionData(".BTF")
	if !ok {
		return nil, errors.New("ELF file has no .BTF section")
	}
	return btf.Parse(data, nil)
}

// btfDump is `btf dump BTF_SRC [format {raw | c [unsorted]}] [root_id ID]...`.
func btfDump(c *cli.Context) error {
	src, words, err := parseBTFSource(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("dump btf: %w", err)
	}
	format := "raw"
	var roots []btf.TypeID
	unsorted := false
	for len(words) > 0 {
		// bpftool 7.8 takes `unsorted` anywhere among the options, as a
		// prefix too, and ignores it for raw dumps and root_id.
		kw, ok := matchKeyword(words[0], "format", "root_id", "unsorted")
		if !ok {
			return fmt.Errorf("dump btf: unrecognized option: '%s'", words[0])
		}
		if kw == "unsorted" {
			unsorted = true
			words = words[1:]
			continue
		}
		if len(words) < 2 {
			return fmt.Errorf("dump btf: expecting value for '%s' option", kw)
		}
		if kw == "root_id" {
			n, err := strconv.ParseUint(words[1], 0, 32)
			if err != nil {
				return fmt.Errorf("dump btf: can't parse root_id %s", words[1])
			}
			roots = append(roots, btf.TypeID(n))
			words = words[2:]
			continue
		}
		switch words[1] {
		case "raw", "c":
			format = words[1]
		default:
			return fmt.Errorf("dump btf: unrecognized format specifier: '%s', possible values: raw, c", words[1])
		}
		words = words[2:]
	}
	if len(roots) > 0 {
		src.roots = roots
	}
	if format == "c" {
		if err := out(c).TextOnly(errors.New("dump btf: JSON output for C-syntax dump is not supported")); err != nil {
			return err
		}
	}
	what := "dump btf: "
	if src.what != "" {
		what += src.what + ": "
	}
	spec, err := src.load(c)
	if err != nil {
		return fmt.Errorf("%s%w", what, err)
	}
	for _, id := range src.roots {
		if spec.Type(id) == nil {
			return fmt.Errorf("%sno type with ID %d", what, id)
		}
	}
	if format == "c" {
		if err := out(c).BTFC(spec, btf.COptions{Roots: src.roots, Unsorted: unsorted}); err != nil {
			return fmt.Errorf("dump btf: %w", err)
		}
		return nil
	}
	return out(c).BTFRaw(spec, src.roots)
}
