package attachments

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/objects"
)

// NetHook is a hook of `net attach|detach`: an XDP mode or a tcx
// direction.
type NetHook struct {
	// Name is bpftool's word for it: xdp, xdpgeneric, xdpdrv, xdpoffload,
	// tcx_ingress, tcx_egress.
	Name string
	// xdpFlags is the XDP mode flag (0 lets the kernel choose); tcx the
	// attach type of tcx hooks.
	xdpFlags uint32
	tcx      ebpf.AttachType
}

// NetHooks are the hooks `net attach` knows, in bpftool's order (which
// decides prefixes).
var NetHooks = []NetHook{
	{Name: "xdp"},
	{Name: "xdpgeneric", xdpFlags: unix.XDP_FLAGS_SKB_MODE},
	{Name: "xdpdrv", xdpFlags: unix.XDP_FLAGS_DRV_MODE},
	{Name: "xdpoffload", xdpFlags: unix.XDP_FLAGS_HW_MODE},
	{Name: "tcx_ingress", tcx: ebpf.AttachTCXIngress},
	{Name: "tcx_egress", tcx: ebpf.AttachTCXEgress},
}

// IsXDP reports whether the hook is an XDP mode.
func (h NetHook) IsXDP() bool { return h.tcx == 0 }

// ParseNetHook parses bpftool's ATTACH_TYPE of `net attach`, by prefix.
func ParseNetHook(word string) (NetHook, error) {
	names := make([]string, len(NetHooks))
	for i, h := range NetHooks {
		names[i] = h.Name
	}
	name, ok := objects.MatchPrefix(word, names...)
	if !ok {
		return NetHook{}, fmt.Errorf("invalid net attach/detach type: %s (expected xdp, xdpgeneric, xdpdrv, xdpoffload, tcx_ingress or tcx_egress)", word)
	}
	for _, h := range NetHooks {
		if h.Name == name {
			return h, nil
		}
	}
	panic("unreachable")
}

// NetAttachOptions are the keywords of `net attach`.
type NetAttachOptions struct {
	// Overwrite replaces the XDP program already there.
	Overwrite bool
	// Prepend puts a tcx program before the others.
	Prepend bool
}

// NetAttach attaches prog to hook h of the device named dev, as bpftool's
// `net attach` does: through netlink for XDP (no link: the program stays
// until detached), with BPF_PROG_ATTACH for tcx.
func NetAttach(h NetHook, prog *ebpf.Program, dev string, opts NetAttachOptions) error {
	if opts.Overwrite && !h.IsXDP() {
		return errors.New("'overwrite' is only supported for xdp types")
	}
	if opts.Prepend && h.IsXDP() {
		return errors.New("'prepend' is only supported for tcx_ingress/tcx_egress")
	}
	want := ebpf.XDP
	if !h.IsXDP() {
		want = ebpf.SchedCLS
	}
	if err := checkProgType(prog, want, h.Name); err != nil {
		return err
	}
	index, err := DeviceIndex(dev)
	if err != nil {
		return err
	}
	if h.IsXDP() {
		flags := h.xdpFlags
		if !opts.Overwrite {
			flags |= unix.XDP_FLAGS_UPDATE_IF_NOEXIST
		}
		l := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: index, Name: dev}}
		err := netlink.LinkSetXdpFdWithFlags(l, prog.FD(), int(flags))
		if errors.Is(err, unix.EBUSY) && !opts.Overwrite {
			return fmt.Errorf("interface %s attach failed: %s already has an XDP program (add 'overwrite' to replace it): %w", h.Name, dev, err)
		}
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("interface %s attach failed: %s has an XDP program in another mode (detach it first): %w", h.Name, dev, err)
		}
		if err != nil {
			return fmt.Errorf("interface %s attach failed: %w", h.Name, objects.PermissionHint(err))
		}
		return nil
	}
	attach := link.RawAttachProgramOptions{Target: index, Program: prog, Attach: h.tcx}
	if opts.Prepend {
		attach.Anchor = link.Head()
	}
	err = link.RawAttachProgram(attach)
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("interface %s attach failed: the program is already attached to %s: %w", h.Name, dev, errnoOf(err))
	}
	if errors.Is(err, unix.EINVAL) {
		// A kernel without tcx (before Linux 6.6) cannot list them either.
		if _, qerr := objects.ProgQuery(index, uint32(h.tcx), 0); errors.Is(qerr, unix.EINVAL) {
			return fmt.Errorf("interface %s attach failed: this kernel has no tcx hooks (Linux 6.6 added them): %w", h.Name, errnoOf(err))
		}
	}
	if err != nil {
		return fmt.Errorf("interface %s attach failed: %w", h.Name, objects.PermissionHint(errnoOf(err)))
	}
	return nil
}

// NetDetach detaches the program of hook h from the device named dev: the
// XDP program of that mode, or the last tcx program attached without a
// link.
func NetDetach(h NetHook, dev string) error {
	index, err := DeviceIndex(dev)
	if err != nil {
		return err
	}
	if h.IsXDP() {
		l := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: index, Name: dev}}
		if err := netlink.LinkSetXdpFdWithFlags(l, -1, int(h.xdpFlags)); err != nil {
			return fmt.Errorf("interface %s detach failed: %w", h.Name, objects.PermissionHint(err))
		}
		return nil
	}
	if err := objects.ProgDetach(index, 0, uint32(h.tcx)); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("interface %s detach failed: no program attached to %s without a link: %w", h.Name, dev, err)
		}
		return fmt.Errorf("interface %s detach failed: %w", h.Name, objects.PermissionHint(err))
	}
	return nil
}

// checkProgType fails unless prog has type want, which hook needs.
func checkProgType(prog *ebpf.Program, want ebpf.ProgramType, hook string) error {
	info, err := prog.Info()
	if err != nil {
		return fmt.Errorf("get program info: %w", err)
	}
	if info.Type != want {
		id, _ := info.ID()
		return fmt.Errorf("program %d has type %s: %s takes %s programs", id,
			objects.ProgTypeName(info.Type), hook, objects.ProgTypeName(want))
	}
	return nil
}
