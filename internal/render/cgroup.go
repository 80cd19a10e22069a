package render

import (
	"fmt"
	"strconv"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/attachments"
)

// Cgroup: `cgroup show`, a table of the programs attached to a cgroup.
func (p *textPrinter) Cgroup(progs []attachments.CgroupProgram, effective bool) error {
	header, rows := cgroupRows(progs, effective)
	return table(p.w, header, rows)
}

// CgroupTree: `cgroup tree`, the same table with the cgroup of each
// program first.
func (p *textPrinter) CgroupTree(cgroups []attachments.CgroupPrograms, effective bool) error {
	header, _ := cgroupRows(nil, effective)
	header = append([]string{"CGROUP"}, header...)
	var rows [][]string
	for _, cg := range cgroups {
		_, r := cgroupRows(cg.Programs, effective)
		for _, row := range r {
			rows = append(rows, append([]string{cg.Path}, row...))
		}
	}
	return table(p.w, header, rows)
}

func cgroupRows(progs []attachments.CgroupProgram, effective bool) ([]string, [][]string) {
	header := []string{"ID", "ATTACH TYPE"}
	if !effective {
		header = append(header, "FLAGS")
	}
	header = append(header, "NAME", "ATTACH BTF")
	rows := make([][]string, 0, len(progs))
	for _, c := range progs {
		row := []string{strconv.FormatUint(uint64(c.ID), 10), c.AttachType.String()}
		if !effective {
			row = append(row, orDash(c.AttachFlags))
		}
		btf := "-"
		if c.AttachBTFName != "" {
			btf = c.AttachBTFName
		} else if c.AttachBTFID != 0 {
			btf = fmt.Sprintf("attach_btf_obj_id=%d attach_btf_id=%d", c.AttachBTFObjID, c.AttachBTFID)
		}
		rows = append(rows, append(row, orDash(c.Name), btf))
	}
	return header, rows
}

// cgroupProgJSON is one program of bpftool's `cgroup show -j`.
type cgroupProgJSON struct {
	ID             uint32           `json:"id"`
	AttachType     objects.TypeName `json:"attach_type"`
	AttachFlags    *string          `json:"attach_flags,omitempty"`
	Name           string           `json:"name"`
	AttachBTFName  *string          `json:"attach_btf_name,omitempty"`
	AttachBTFObjID uint32           `json:"attach_btf_obj_id"`
	AttachBTFID    uint32           `json:"attach_btf_id"`
}

func cgroupJSON(progs []attachments.CgroupProgram) []cgroupProgJSON {
	out := make([]cgroupProgJSON, len(progs))
	for i, c := range progs {
		out[i] = cgroupProgJSON{ID: c.ID, AttachType: c.AttachType, Name: c.Name,
			AttachBTFObjID: c.AttachBTFObjID, AttachBTFID: c.AttachBTFID}
		if c.HasAttachBTFName {
			n := c.AttachBTFName
			out[i].AttachBTFName = &n
		}
		if c.HasFlags {
			f := c.AttachFlags
			out[i].AttachFlags = &f
		}
	}
	return out
}

// Cgroup: bpftool's array of programs. Like bpftool, it has
// "attach_btf_name":"" for programs with no attach BTF. bpftool prints nothing at all for
// a cgroup without programs; bpfkit prints [].
func (p *jsonPrinter) Cgroup(progs []attachments.CgroupProgram, _ bool) error {
	return p.print(cgroupJSON(progs))
}

// CgroupTree: bpftool's [{"cgroup":PATH,"programs":[...]}].
func (p *jsonPrinter) CgroupTree(cgroups []attachments.CgroupPrograms, _ bool) error {
	type node struct {
		Cgroup   string           `json:"cgroup"`
		Programs []cgroupProgJSON `json:"programs"`
	}
	out := make([]node, len(cgroups))
	for i, cg := range cgroups {
		out[i] = node{cg.Path, cgroupJSON(cg.Programs)}
	}
	return p.print(out)
}
