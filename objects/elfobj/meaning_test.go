package elfobj

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// elfFacts flattens what the reader says an object means, one fact a line,
// so tests can look for the facts they know from the C source.
func elfFacts(f *File) string {
	var b strings.Builder
	for _, s := range f.Sections {
		fmt.Fprintf(&b, "section %s [%s]: %s\n", s.Name, s.Kind, s.BPF)
	}
	for _, p := range f.Programs {
		fmt.Fprintf(&b, "program %s: type=%s attach=%s to=%s sub=%v maps=%s calls=%s license=%s source=%s\n",
			p.Name, p.Type, p.AttachType, p.AttachTo, p.Subprogram, strings.Join(p.Maps, ","), strings.Join(p.Calls, ","), p.License, p.Source)
	}
	for _, m := range f.Maps {
		fmt.Fprintf(&b, "map %s: %s key=%d:%s value=%d:%s max=%d flags=%#x inner=%s contents=%s\n",
			m.Name, m.Type, m.KeySize, m.KeyType, m.ValueSize, m.ValueType, m.MaxEntries, m.Flags, m.InnerMap, strings.Join(m.Contents, ","))
	}
	for _, g := range f.Globals {
		fmt.Fprintf(&b, "global %s in %s@%d: %s = %s\n", g.Name, g.Section, g.Offset, g.Type, g.Value)
	}
	for _, rs := range f.Relocations {
		for _, r := range rs.Entries {
			fmt.Fprintf(&b, "reloc %s %s %s: %s\n", rs.Section, r.Type, r.Symbol, r.RefersTo)
		}
	}
	return b.String()
}

// TestELFBPFMeaning checks the BPF column and listings against what the
// test programs' sources say, for every kind of section and reference.
func TestELFBPFMeaning(t *testing.T) {
	want := map[string][]string{
		"tracepoint": {
			"section tracepoint/syscalls/sys_enter_openat [program]: tracepoint syscalls/sys_enter_openat: count_openat (27 insns)",
			"program log_exec: type=tracepoint attach= to=sched/sched_process_exec",
			`section license [license]: license "GPL"`,
			"section .rodata [data]: read-only globals: target_pid",
			"section .maps [maps]: maps: openat_count",
			"map openat_count: hash key=4:__u32 value=8:__u64 max=1024",
			"global target_pid in .rodata@0: const volatile __u32 = 0",
			`reloc .reltp/sched/sched_process_exec R_BPF_64_64 .rodata: global log_exec.____fmt "exec by pid %d"`,
			"section .llvm_addrsig [addrsig]",
			"section .symtab [symbols]: symbol table: 23 symbols",
			"section .strtab [strings]",
			"section .debug_info [debug]",
		},
		"raw_tp": {
			"program on_sys_enter: type=raw_tracepoint attach= to=sys_enter",
			"program on_sched_switch: type=raw_tracepoint attach= to=sched_switch",
			"map syscalls: percpu_array",
		},
		"kprobe": {
			"program unlink_enter: type=kprobe attach= to=do_unlinkat",
			"reloc .relkprobe/do_unlinkat R_BPF_64_64 LINUX_KERNEL_VERSION: kconfig LINUX_KERNEL_VERSION",
			"global LINUX_KERNEL_VERSION in .kconfig@0: unsigned int = (set by the loader",
			"map inflight: lru_hash key=4:__u32 value=16:struct entry max=4096",
			"line infos, 4 CO-RE relocations", // the task_struct and pt_regs reads
			"; .kconfig externs: LINUX_KERNEL_VERSION\n",
		},
		"uprobe": {
			"program readline_enter: type=kprobe attach= to=/bin/bash:readline",
			"map events: ringbuf key=0: value=0: max=4096",
			"license=Dual BSD/GPL",
		},
		"fentry": {
			"program fentry_unlinkat: type=tracing attach=trace_fentry to=do_unlinkat",
			"program fexit_unlinkat: type=tracing attach=trace_fexit to=do_unlinkat",
			"map start: lru_percpu_hash",
			"section .bss [data]: globals: calls",
		},
		"xdp": {
			"section .text [subprograms]: subprograms: is_blocked (12 insns), checksum_words (12 insns)",
			"section xdp [program]: xdp: xdp_filter (35 insns), xdp_pass (2 insns)",
			"program xdp_filter: type=xdp attach=xdp to= sub=false maps=.data,jump_table,blocked calls=is_blocked,checksum_words",
			"program is_blocked: type= attach= to= sub=true maps=blocked",
			"reloc .relxdp R_BPF_64_32 .text: call is_blocked",
			"reloc .relxdp R_BPF_64_32 .text: call checksum_words",
			"reloc .rel.text R_BPF_64_64 blocked: map blocked",
			"map blocked: lpm_trie key=8:struct ipv4_lpm_key value=4:__u32 max=128 flags=0x1",
			"map jump_table: prog_array",
			"global packets in .data@0: __u64 = 1",
		},
		"tc": {
			"section tc [program]: sched_cls: tc_ingress",
			"global cfg in .rodata@0: const volatile struct config = {mark=66, min_len=64, enabled=1}",
			`global greeting in .rodata@8: const char[8] = "bpfkit"`,
			"global drop_verdict in .data@0: int = 2",
			"global seen in .bss@0: __u32[4] = [0, 0, 0, 0]",
			"map lengths: queue key=0: value=4:__u32 max=64",
			"map marks: stack",
			"map samples: perf_event_array",
			"reloc .reltc R_BPF_64_64 drop_verdict: global drop_verdict",
		},
		"socket": {
			"program count_bytes: type=socket_filter",
			"map bytes: array key=4:__u32 value=8:__u64 max=256",
		},
		"cgroup": {
			"program cg_ingress: type=cgroup_skb attach=cgroup_inet_ingress",
			"program cg_egress: type=cgroup_skb attach=cgroup_inet_egress",
			"map per_direction: array_of_maps key=4:__u32 value=4: max=2 flags=0x0 inner=per_direction_inner: array key 4 value 8 max_entries 1 contents=0: inner_counter",
			"map per_ifindex: hash_of_maps",
			"map cookies: percpu_hash",
			"reloc .rel.maps R_BPF_64_ABS64 inner_counter: inner map inner_counter",
		},
	}
	for obj, facts := range want {
		f := mustOpen(t, testutil.Object(t, obj))
		if f.BPFError != "" {
			t.Errorf("%s: %s", obj, f.BPFError)
		}
		all := elfFacts(f)
		for _, fact := range facts {
			if !strings.Contains(all, fact) {
				t.Errorf("%s: missing %q in:\n%s", obj, fact, all)
				break
			}
		}
	}
}

// TestELFEveryCodeRelocationExplained: in every object of the corpus,
// each relocation against code says what it refers to, and every section
// has a kind.
func TestELFEveryCodeRelocationExplained(t *testing.T) {
	for _, path := range elfCorpus(t) {
		f := mustOpen(t, path)
		for _, s := range f.Sections {
			if s.Kind == "" {
				t.Errorf("%s: section %s has no kind", shortName(path), s.Name)
			}
		}
		for _, rs := range f.Relocations {
			if !strings.Contains(f.Sections[rs.TargetIndex].Flags, "X") {
				continue
			}
			for _, r := range rs.Entries {
				if !strings.Contains(r.RefersTo, " ") {
					t.Errorf("%s: %s at 0x%x (%s %s) refers to %q", shortName(path), rs.Section, r.Offset, r.Type, r.Symbol, r.RefersTo)
				}
			}
		}
	}
}

// TestSectionTableAgreesWithCilium: the fallback table gives the same
// program type, attach type and target as cilium/ebpf for every program in
// the corpus.
func TestSectionTableAgreesWithCilium(t *testing.T) {
	n := 0
	for _, path := range elfCorpus(t) {
		f := mustOpen(t, path)
		if f.BPFError != "" {
			continue
		}
		for _, p := range f.Programs {
			if p.Subprogram || p.Type == "" {
				continue
			}
			prog, attach, target, ok := sectionProgType(p.Section)
			if !ok && p.Type == "unspec" {
				continue // no loader knows the name
			}
			if p.Type == "struct_ops" {
				// cilium/ebpf names the struct member from .struct_ops.
				target = p.AttachTo
			}
			if !ok || prog != p.Type || attach != p.AttachType || target != p.AttachTo {
				t.Errorf("%s: section %s: table says %s/%s/%s, cilium/ebpf %s/%s/%s",
					shortName(path), p.Section, prog, attach, target, p.Type, p.AttachType, p.AttachTo)
			}
			n++
		}
	}
	t.Logf("%d programs compared", n)
	if _, _, _, ok := sectionProgType("not_a_section"); ok {
		t.Error("unknown section name matched")
	}
}
