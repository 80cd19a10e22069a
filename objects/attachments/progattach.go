package attachments

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/objects"
)

// progAttachTypes are the attach types of `prog attach|detach`, in the
// kernel's order (which decides prefixes), with the older names bpftool
// still takes by prefix and the program type each needs.
var progAttachTypes = []struct {
	typ   ebpf.AttachType
	old   string
	ptype ebpf.ProgramType
}{
	{ebpf.AttachSkSKBStreamParser, "stream_parser", ebpf.SkSKB},
	{ebpf.AttachSkSKBStreamVerdict, "stream_verdict", ebpf.SkSKB},
	{ebpf.AttachSkMsgVerdict, "msg_verdict", ebpf.SkMsg},
	{ebpf.AttachFlowDissector, "", ebpf.FlowDissector},
	{ebpf.AttachSkSKBVerdict, "skb_verdict", ebpf.SkSKB},
}

// ParseProgAttachType parses the ATTACH_TYPE of `prog attach`: libbpf's
// name (sk_msg_verdict, sk_skb_verdict, sk_skb_stream_verdict,
// sk_skb_stream_parser, flow_dissector) or a prefix of the older one
// (msg_verdict, skb_verdict, stream_verdict, stream_parser).
func ParseProgAttachType(word string) (ebpf.AttachType, error) {
	for _, a := range progAttachTypes {
		if objects.AttachTypeName(a.typ).Name == word || (word != "" && a.old != "" && strings.HasPrefix(a.old, word)) {
			return a.typ, nil
		}
	}
	return 0, fmt.Errorf("invalid attach/detach type: %s (expected sk_msg_verdict, sk_skb_verdict, sk_skb_stream_verdict, sk_skb_stream_parser or flow_dissector)", word)
}

// NeedsMap reports whether attach type t attaches to a map (of sockets),
// as all but flow_dissector do.
func NeedsMap(t ebpf.AttachType) bool { return t != ebpf.AttachFlowDissector }

// ProgAttach attaches prog to the sockmap or sockhash m as t, or, for
// flow_dissector (m nil), to the current network namespace, with
// BPF_PROG_ATTACH as bpftool's `prog attach` does.
func ProgAttach(prog *ebpf.Program, t ebpf.AttachType, m *ebpf.Map) error {
	target, err := checkProgAttach(prog, t, m)
	if err != nil {
		return err
	}
	err = link.RawAttachProgram(link.RawAttachProgramOptions{Target: target, Program: prog, Attach: t})
	if errors.Is(err, unix.EEXIST) && t == ebpf.AttachFlowDissector {
		return fmt.Errorf("this network namespace's flow dissector is held by a link, or another namespace has one and this is the root namespace: %w", errnoOf(err))
	}
	if err != nil {
		return fmt.Errorf("%w", objects.PermissionHint(errnoOf(err)))
	}
	return nil
}

// ProgDetach detaches prog from m (or the network namespace) as t.
func ProgDetach(prog *ebpf.Program, t ebpf.AttachType, m *ebpf.Map) error {
	target, err := checkProgAttach(prog, t, m)
	if err != nil {
		return err
	}
	err = link.RawDetachProgram(link.RawDetachProgramOptions{Target: target, Program: prog, Attach: t})
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("the program is not attached there as %s: %w", objects.AttachTypeName(t), errnoOf(err))
	}
	if err != nil {
		return fmt.Errorf("%w", objects.PermissionHint(errnoOf(err)))
	}
	return nil
}

// checkProgAttach checks what the kernel would refuse with a bare EINVAL
// (the program's type and the map's) and returns the attach target: the
// map, or 0 (the current network namespace) for the flow dissector.
func checkProgAttach(prog *ebpf.Program, t ebpf.AttachType, m *ebpf.Map) (int, error) {
	for _, a := range progAttachTypes {
		if a.typ == t {
			if err := checkProgType(prog, a.ptype, objects.AttachTypeName(t).String()); err != nil {
				return 0, err
			}
		}
	}
	if !NeedsMap(t) {
		return 0, nil
	}
	if m == nil {
		return 0, fmt.Errorf("%s needs a MAP (a sockmap or sockhash)", objects.AttachTypeName(t))
	}
	if m.Type() != ebpf.SockMap && m.Type() != ebpf.SockHash {
		return 0, fmt.Errorf("%s attaches to a sockmap or sockhash, not a %s map", objects.AttachTypeName(t), objects.MapTypeName(m.Type()))
	}
	return m.FD(), nil
}
