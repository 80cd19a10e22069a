package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/attachments"
)

const cgroupAttachSpec = `ATTACH_TYPE := { cgroup_inet_ingress | cgroup_inet_egress |
                cgroup_inet_sock_create | cgroup_sock_ops |
                cgroup_device | cgroup_inet4_bind |
                cgroup_inet6_bind | cgroup_inet4_post_bind |
                cgroup_inet6_post_bind | cgroup_inet4_connect |
                cgroup_inet6_connect | cgroup_unix_connect |
                cgroup_inet4_getpeername | cgroup_inet6_getpeername |
                cgroup_unix_getpeername | cgroup_inet4_getsockname |
                cgroup_inet6_getsockname | cgroup_unix_getsockname |
                cgroup_udp4_sendmsg | cgroup_udp6_sendmsg |
                cgroup_unix_sendmsg | cgroup_udp4_recvmsg |
                cgroup_udp6_recvmsg | cgroup_unix_recvmsg |
                cgroup_sysctl | cgroup_getsockopt |
                cgroup_setsockopt | cgroup_inet_sock_release }
ATTACH_FLAGS := { multi | override }
` + progSpec

func cgroupCommand() *cli.Command {
	show := &cli.Command{
		Name:      "show",
		Aliases:   []string{"list"},
		Usage:     "list the programs attached to a cgroup (v2)",
		ArgsUsage: "CGROUP [effective]",
		Action:    cgroupShow,
	}
	tree := &cli.Command{
		Name:      "tree",
		Usage:     "list the programs of every cgroup under CGROUP_ROOT (default: the cgroup v2 mount)",
		ArgsUsage: "[CGROUP_ROOT] [effective]",
		Action:    cgroupTree,
	}
	attach := &cli.Command{
		Name:      "attach",
		Usage:     "attach a program to a cgroup",
		ArgsUsage: "CGROUP ATTACH_TYPE PROG [ATTACH_FLAGS]\n\n" + cgroupAttachSpec,
		Action:    catchSignals(cgroupAttach),
	}
	detach := &cli.Command{
		Name:      "detach",
		Usage:     "detach a program from a cgroup",
		ArgsUsage: "CGROUP ATTACH_TYPE PROG\n\n" + cgroupAttachSpec,
		Action:    catchSignals(cgroupDetach),
	}
	return &cli.Command{
		Name:        "cgroup",
		Usage:       "programs attached to cgroups: show, tree, attach, detach",
		ArgsUsage:   "COMMAND",
		Subcommands: []*cli.Command{show, tree, attach, detach},
	}
}

// parseEffective parses the optional `effective` keyword.
func parseEffective(words []string) (bool, error) {
	var effective bool
	for _, w := range words {
		if _, ok := matchKeyword(w, "effective"); !ok {
			return false, fmt.Errorf("expected no more arguments, 'effective', got: '%s'", w)
		}
		if effective {
			return false, fmt.Errorf("duplicated argument: %s", w)
		}
		effective = true
	}
	return effective, nil
}

// cgroupShow is `cgroup show CGROUP [effective]`.
func cgroupShow(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) == 0 {
		return fmt.Errorf("cgroup show: expected CGROUP")
	}
	effective, err := parseEffective(words[1:])
	if err != nil {
		return fmt.Errorf("cgroup show: %w", err)
	}
	progs, err := attachments.CgroupShow(words[0], effective)
	if err != nil {
		return fmt.Errorf("cgroup show: %w", err)
	}
	return out(c).Cgroup(progs, effective)
}

// cgroupTree is `cgroup tree [CGROUP_ROOT] [effective]`.
func cgroupTree(c *cli.Context) error {
	words := c.Args().Slice()
	root := ""
	if len(words) > 0 {
		root, words = words[0], words[1:]
	}
	effective, err := parseEffective(words)
	if err != nil {
		return fmt.Errorf("cgroup tree: %w", err)
	}
	tree, err := attachments.CgroupTree(root, effective)
	if err != nil {
		return fmt.Errorf("cgroup tree: %w", err)
	}
	return out(c).CgroupTree(tree, effective)
}

// cgroupAttach is `cgroup attach CGROUP ATTACH_TYPE PROG [multi|override]`.
func cgroupAttach(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) < 4 {
		return fmt.Errorf("cgroup attach: too few parameters: expected CGROUP ATTACH_TYPE PROG")
	}
	typ, err := attachments.ParseCgroupAttachType(words[1])
	if err != nil {
		return fmt.Errorf("cgroup attach: %w", err)
	}
	sel, rest, err := objects.Programs.ParseSelector(words[2:])
	if err != nil {
		return fmt.Errorf("cgroup attach: %w", err)
	}
	mode := attachments.CgroupExclusive
	for _, w := range rest {
		switch kw, _ := matchKeyword(w, "multi", "override"); kw {
		case "multi":
			mode |= attachments.CgroupMulti
		case "override":
			mode |= attachments.CgroupOverride
		default:
			return fmt.Errorf("cgroup attach: unknown option: %s", w)
		}
	}
	prog, err := objects.Programs.OpenOne(sel)
	if err != nil {
		return fmt.Errorf("cgroup attach: %w", err)
	}
	defer prog.Close()
	if err := stopped(c); err != nil {
		return fmt.Errorf("cgroup attach: %w", err)
	}
	if err := attachments.CgroupAttach(words[0], typ, prog, mode); err != nil {
		return fmt.Errorf("cgroup attach: %w", err)
	}
	return out(c).Null()
}

// cgroupDetach is `cgroup detach CGROUP ATTACH_TYPE PROG`.
func cgroupDetach(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) < 4 {
		return fmt.Errorf("cgroup detach: too few parameters: expected CGROUP ATTACH_TYPE PROG")
	}
	typ, err := attachments.ParseCgroupAttachType(words[1])
	if err != nil {
		return fmt.Errorf("cgroup detach: %w", err)
	}
	sel, rest, err := objects.Programs.ParseSelector(words[2:])
	if err != nil {
		return fmt.Errorf("cgroup detach: %w", err)
	}
	if err := noMoreArgs(rest); err != nil {
		return fmt.Errorf("cgroup detach: %w", err)
	}
	prog, err := objects.Programs.OpenOne(sel)
	if err != nil {
		return fmt.Errorf("cgroup detach: %w", err)
	}
	defer prog.Close()
	if err := stopped(c); err != nil {
		return fmt.Errorf("cgroup detach: %w", err)
	}
	if err := attachments.CgroupDetach(words[0], typ, prog); err != nil {
		return fmt.Errorf("cgroup detach: %w", err)
	}
	return out(c).Null()
}
