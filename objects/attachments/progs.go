package attachments

import (
	"github.com/bpfkit/bpfkit/objects"
)

// progName returns the full name of the program with id, "" when it is
// gone or has no name.
func progName(id uint32) string {
	p, err := objects.Programs.DescribeOne(objects.Selector{Kind: objects.SelectID, ID: id})
	if err != nil {
		return ""
	}
	return p.Name
}
