package main

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/attachments"
)

const progAttachSpec = "ATTACH_TYPE := { sk_msg_verdict | sk_skb_verdict | sk_skb_stream_verdict |\n" +
	"                sk_skb_stream_parser | flow_dissector }\n" + progSpec + "\n" + mapSpec

// progAttachCommands are `prog attach` and `prog detach`.
func progAttachCommands() []*cli.Command {
	return []*cli.Command{{
		Name:      "attach",
		Usage:     "attach a program to a sockmap or sockhash, or as the flow dissector of this network namespace",
		ArgsUsage: "PROG ATTACH_TYPE [MAP]\n\n" + progAttachSpec,
		Action:    catchSignals(func(c *cli.Context) error { return progAttach(c, "prog attach", attachments.ProgAttach) }),
	}, {
		Name:      "detach",
		Usage:     "detach a program attached with prog attach",
		ArgsUsage: "PROG ATTACH_TYPE [MAP]\n\n" + progAttachSpec,
		Action:    catchSignals(func(c *cli.Context) error { return progAttach(c, "prog detach", attachments.ProgDetach) }),
	}}
}

// progAttach parses `PROG ATTACH_TYPE [MAP]` and calls do.
func progAttach(c *cli.Context, verb string, do func(*ebpf.Program, ebpf.AttachType, *ebpf.Map) error) error {
	words := c.Args().Slice()
	if len(words) < 3 {
		return fmt.Errorf("%s: expected PROG ATTACH_TYPE [MAP]", verb)
	}
	sel, rest, err := objects.Programs.ParseSelector(words)
	if err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	if len(rest) == 0 {
		return fmt.Errorf("%s: expected ATTACH_TYPE", verb)
	}
	typ, err := attachments.ParseProgAttachType(rest[0])
	if err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	rest = rest[1:]
	var m *ebpf.Map
	if attachments.NeedsMap(typ) {
		msel, more, err := objects.Maps.ParseSelector(rest)
		if err != nil {
			return fmt.Errorf("%s: %w", verb, err)
		}
		if m, err = objects.Maps.OpenOne(msel); err != nil {
			return fmt.Errorf("%s: %w", verb, err)
		}
		defer m.Close()
		rest = more
	}
	if err := noMoreArgs(rest); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	prog, err := objects.Programs.OpenOne(sel)
	if err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	defer prog.Close()
	if err := stopped(c); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	if err := do(prog, typ, m); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	return out(c).Null()
}
