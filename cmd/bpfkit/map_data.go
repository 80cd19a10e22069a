package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/events"
	"github.com/bpfkit/bpfkit/objects/mapdata"
)

// mapDataCommands are the map verbs that read and change map contents, in
// bpftool's command-table order so that prefixes resolve as bpftool's do
// (`map d` is dump).
func mapDataCommands() []*cli.Command {
	data := "DATA := { [hex] BYTES | TYPED }   (TYPED: one word parsed with the map's BTF, e.g. 42, RED, '{\"a\":1}')"
	return []*cli.Command{
		{Name: "dump", Usage: "print every element", ArgsUsage: "MAP [hist]\n\n" + mapSpec +
			"\nhist prints a log2 histogram map (an array of counters indexed by slot, or values with a slots array) as bars", Action: mapDump},
		{Name: "update", Usage: "create or change an element", ArgsUsage: "MAP [key DATA] [value VALUE] [UPDATE_FLAGS]\n\n" + mapSpec + "\n" + data +
			"\nVALUE := { DATA | MAP | PROG }\nUPDATE_FLAGS := { any | exist | noexist }", Action: mapUpdate},
		{Name: "lookup", Usage: "print one element", ArgsUsage: "MAP [key DATA]\n\n" + mapSpec + "\n" + data, Action: mapLookup},
		{Name: "getnext", Usage: "print the key after KEY (or the first key)", ArgsUsage: "MAP [key DATA]\n\n" + mapSpec + "\n" + data, Action: mapGetNext},
		{Name: "delete", Usage: "delete an element", ArgsUsage: "MAP key DATA\n\n" + mapSpec + "\n" + data, Action: mapDelete},
		pinCommand(objects.Maps, "map", mapSpec),
		{Name: "event_pipe", Usage: "stream records from a perf event array or a ring buffer until Ctrl-C",
			ArgsUsage: "MAP [cpu N index M] [type NAME] [count N]\n\n" + mapSpec +
				"\ntype NAME decodes each record as the named BTF type (the BTF of the map, of the programs and maps loaded with it, then the kernel's)\ncount N stops after N records", Action: catchSignals(mapEventPipe)},
		{Name: "create", Usage: "create a map and pin it", ArgsUsage: "FILE type TYPE key KEY_SIZE value VALUE_SIZE entries MAX_ENTRIES name NAME [flags FLAGS] [inner_map MAP]", Action: catchSignals(mapCreate)},
		{Name: "peek", Usage: "print the head of a queue or the top of a stack", ArgsUsage: "MAP\n\n" + mapSpec, Action: mapLookup},
		{Name: "push", Usage: "push a value onto a stack", ArgsUsage: "MAP value VALUE\n\n" + mapSpec, Action: mapUpdate},
		{Name: "enqueue", Usage: "append a value to a queue", ArgsUsage: "MAP value VALUE\n\n" + mapSpec, Action: mapUpdate},
		{Name: "pop", Usage: "remove and print the top of a stack", ArgsUsage: "MAP\n\n" + mapSpec, Action: mapPop},
		{Name: "dequeue", Usage: "remove and print the head of a queue", ArgsUsage: "MAP\n\n" + mapSpec, Action: mapPop},
		{Name: "freeze", Usage: "make a map read-only for system calls", ArgsUsage: "MAP\n\n" + mapSpec, Action: mapFreeze},
	}
}

// openMapLayout opens the one map at the front of words and describes it.
func openMapLayout(words []string) (*ebpf.Map, mapdata.Layout, []string, error) {
	sel, rest, err := objects.Maps.ParseSelector(words)
	if err != nil {
		return nil, mapdata.Layout{}, nil, err
	}
	m, err := objects.Maps.OpenOne(sel)
	if err != nil {
		return nil, mapdata.Layout{}, nil, err
	}
	l, _, err := mapdata.LayoutOf(m)
	if err != nil {
		m.Close()
		return nil, mapdata.Layout{}, nil, err
	}
	return m, l, rest, nil
}

// mapDump is `map dump MAP`.
func mapDump(c *cli.Context) error {
	sel, rest, err := objects.Maps.ParseSelector(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("dump map: %w", err)
	}
	var hist bool
	if err := parseKeywords(rest, keyword{name: "hist", flag: &hist}); err != nil {
		return err
	}
	maps, err := objects.Maps.Open(sel)
	if err != nil {
		return fmt.Errorf("dump map: %w", err)
	}
	defer closeAll(maps)
	layouts := make([]mapdata.Layout, len(maps))
	for i, m := range maps {
		if layouts[i], _, err = mapdata.LayoutOf(m); err != nil {
			return fmt.Errorf("dump map: %w", err)
		}
		if err := mapdata.CheckDumpable(layouts[i].Type); err != nil {
			return fmt.Errorf("dump map: %w", err)
		}
	}
	if hist {
		return mapDumpHist(c, maps, layouts)
	}
	multi, hex := len(maps) > 1, false
	for _, l := range layouts {
		if multi && l.ValueType == nil {
			hex = true
		}
	}
	p := out(c).MapDump(multi, hex)
	for i, m := range maps {
		p.BeginMap(layouts[i])
		if err := mapdata.Dump(m, nil, p.Entry); err != nil {
			p.Flush()
			return kernelError(err, fmt.Errorf("dump map %d: %w", layouts[i].ID, err))
		}
		p.EndMap()
	}
	return p.Close()
}

// mapDumpHist is `map dump MAP hist`: the map's log2 histograms as bars.
func mapDumpHist(c *cli.Context, maps []*ebpf.Map, layouts []mapdata.Layout) error {
	for i, m := range maps {
		l := layouts[i]
		shape, err := mapdata.HistShapeOf(l, true)
		if err != nil {
			return fmt.Errorf("dump map %d (%s): %w", l.ID, l.Name, err)
		}
		var entries []*mapdata.Entry
		err = mapdata.Dump(m, nil, func(e *mapdata.Entry) error {
			entries = append(entries, e.Clone())
			return nil
		})
		if err != nil {
			return fmt.Errorf("dump map %d: %w", l.ID, err)
		}
		hists, err := mapdata.Histograms(l, shape, entries)
		if err != nil {
			return fmt.Errorf("dump map %d: %w", l.ID, err)
		}
		if err := out(c).MapHist(l, hists); err != nil {
			return err
		}
	}
	return nil
}

// errText is glibc's strerror of the errno in err, as bpftool prints it.
func errText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return render.Strerror(errno)
	}
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return render.Strerror(unix.ENOENT)
	}
	return err.Error()
}

// mapLookup is `map lookup MAP [key DATA]` and `map peek MAP`.
func mapLookup(c *cli.Context) error {
	m, l, rest, err := openMapLayout(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("lookup map: %w", err)
	}
	defer m.Close()
	if err := checkQueueVerb(c, l, rest); err != nil {
		return err
	}
	in, err := mapdata.ParseElem(rest, l, mapdata.ElemParts{Key: l.KeySize > 0})
	if err != nil {
		return fmt.Errorf("lookup map: %w", err)
	}
	e, err := mapdata.Lookup(m, l, in.Key, false)
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		// bpftool's answer: the key and "Not found", or null.
		out(c).MapEntryMissing(in.Key)
		return silentExit{code: errnoExit(unix.ENOENT)}
	}
	if err != nil {
		return kernelError(err, fmt.Errorf("lookup failed: %s", errText(err)))
	}
	return out(c).MapEntry(l, e)
}

// checkQueueVerb refuses peek, push, enqueue, pop and dequeue on a map
// type that has no such operation, before the kernel answers with
// ENOTSUPP or the parser with a missing key. lookup and update pass.
func checkQueueVerb(c *cli.Context, l mapdata.Layout, rest []string) error {
	switch verb := c.Command.Name; verb {
	case "peek", "push", "enqueue", "pop", "dequeue":
		key := len(rest) > 0 && rest[0] == "key"
		if err := mapdata.CheckQueueVerb(l.Type, verb, key); err != nil {
			return fmt.Errorf("%s map: %w", verb, err)
		}
	}
	return nil
}

// mapPop is `map pop MAP` and `map dequeue MAP`.
func mapPop(c *cli.Context) error {
	m, l, rest, err := openMapLayout(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("pop map: %w", err)
	}
	defer m.Close()
	if err := checkQueueVerb(c, l, rest); err != nil {
		return err
	}
	if err := noMoreArgs(rest); err != nil {
		return err
	}
	e, err := mapdata.Lookup(m, l, nil, true)
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return kernelError(err, errors.New("empty map"))
	}
	if err != nil {
		return kernelError(err, fmt.Errorf("pop failed: %s", errText(err)))
	}
	return out(c).MapEntry(l, e)
}

// mapGetNext is `map getnext MAP [key DATA]`.
func mapGetNext(c *cli.Context) error {
	m, l, rest, err := openMapLayout(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("getnext map: %w", err)
	}
	defer m.Close()
	in, err := mapdata.ParseElem(rest, l, mapdata.ElemParts{OptKey: true})
	if err != nil {
		return fmt.Errorf("getnext map: %w", err)
	}
	var key any
	if in.HasKey {
		key = in.Key
	}
	next := make([]byte, l.KeySize)
	if err := m.NextKey(key, next); err != nil {
		return kernelError(err, fmt.Errorf("can't get next key: %s", errText(err)))
	}
	return out(c).NextKey(in.Key, in.HasKey, next)
}

// mapUpdate is `map update`, `map push` and `map enqueue`.
func mapUpdate(c *cli.Context) error {
	m, l, rest, err := openMapLayout(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("update map: %w", err)
	}
	defer m.Close()
	if err := checkQueueVerb(c, l, rest); err != nil {
		return err
	}
	in, err := mapdata.ParseElem(rest, l, mapdata.ElemParts{Key: l.KeySize > 0, Value: true, Flags: true})
	if err != nil {
		return fmt.Errorf("update map: %w", err)
	}
	var key, value any
	if l.KeySize > 0 {
		key = in.Key
	}
	switch {
	case in.ValueRef != nil && l.Type == ebpf.ProgramArray:
		sel, _, err := objects.Programs.ParseSelector(in.ValueRef)
		if err != nil {
			return fmt.Errorf("update map: value: %w", err)
		}
		p, err := objects.Programs.OpenOne(sel)
		if err != nil {
			return fmt.Errorf("update map: value: %w", err)
		}
		defer p.Close()
		value = p
	case in.ValueRef != nil:
		sel, _, err := objects.Maps.ParseSelector(in.ValueRef)
		if err != nil {
			return fmt.Errorf("update map: value: %w", err)
		}
		inner, err := objects.Maps.OpenOne(sel)
		if err != nil {
			return fmt.Errorf("update map: value: %w", err)
		}
		defer inner.Close()
		value = inner
	case mapdata.IsPerCPU(l.Type):
		value = mapdata.PerCPUValue(in.Value, l.PossibleCPUs)
	default:
		value = in.Value
	}
	if err := m.Update(key, value, in.Flags); err != nil {
		if info, ierr := objects.DescribeMap(m); ierr == nil && info.Frozen != 0 && errors.Is(err, unix.EPERM) {
			return kernelError(err, fmt.Errorf("update failed: %s: the map is frozen, user space can no longer change it", errText(err)))
		}
		return kernelError(err, fmt.Errorf("update failed: %s", errText(err)))
	}
	return out(c).Null()
}

// mapDelete is `map delete MAP key DATA`.
func mapDelete(c *cli.Context) error {
	m, l, rest, err := openMapLayout(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("delete map: %w", err)
	}
	defer m.Close()
	in, err := mapdata.ParseElem(rest, l, mapdata.ElemParts{Key: true})
	if err != nil {
		return fmt.Errorf("delete map: %w", err)
	}
	if err := m.Delete(in.Key); err != nil {
		return kernelError(err, fmt.Errorf("delete failed: %s", errText(err)))
	}
	return out(c).Null()
}

// mapFreeze is `map freeze MAP`.
func mapFreeze(c *cli.Context) error {
	m, _, rest, err := openMapLayout(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("freeze map: %w", err)
	}
	defer m.Close()
	if err := noMoreArgs(rest); err != nil {
		return err
	}
	if err := m.Freeze(); err != nil {
		return kernelError(err, fmt.Errorf("failed to freeze map: %s", errText(err)))
	}
	return out(c).Null()
}

func parseU32Arg(words []string, what string) (uint32, error) {
	if len(words) < 2 {
		return 0, fmt.Errorf("%s: missing value", what)
	}
	v, err := strconv.ParseUint(words[1], 0, 32)
	if err != nil {
		return 0, fmt.Errorf("can't parse %s: %s", what, words[1])
	}
	return uint32(v), nil
}

// mapCreate is `map create FILE type T key N value N entries N name NAME
// [flags F] [inner_map MAP]`.
func mapCreate(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) == 0 {
		return fmt.Errorf("create map: expected FILE")
	}
	file := words[0]
	words = words[1:]
	spec := &ebpf.MapSpec{}
	typeSet := false
	var inner *ebpf.Map
	defer func() {
		if inner != nil {
			inner.Close()
		}
	}()
	for len(words) > 0 {
		kw, ok := matchKeyword(words[0], "type", "name", "key", "value", "entries", "flags", "inner_map", "offload_dev", "dev")
		if !ok {
			return fmt.Errorf("create map: unknown arg %s", words[0])
		}
		if len(words) < 2 {
			return fmt.Errorf("create map: '%s' needs a value", kw)
		}
		var err error
		switch kw {
		case "type":
			if typeSet {
				return fmt.Errorf("create map: map type already specified")
			}
			t, ok := objects.MapTypeByName(words[1])
			if !ok {
				return fmt.Errorf("create map: unrecognized map type: %s", words[1])
			}
			spec.Type, typeSet = t, true
		case "name":
			if err := objects.CheckObjectName(words[1]); err != nil {
				return fmt.Errorf("create map: %w", err)
			}
			spec.Name = words[1]
		case "key":
			spec.KeySize, err = parseU32Arg(words, "key size")
		case "value":
			spec.ValueSize, err = parseU32Arg(words, "value size")
		case "entries":
			spec.MaxEntries, err = parseU32Arg(words, "max entries")
		case "flags":
			spec.Flags, err = parseU32Arg(words, "flags")
		case "inner_map":
			var sel objects.Selector
			var rest []string
			if sel, rest, err = objects.Maps.ParseSelector(words[1:]); err != nil {
				return fmt.Errorf("create map: inner_map: %w", err)
			}
			if inner, err = objects.Maps.OpenOne(sel); err != nil {
				return fmt.Errorf("create map: inner_map: %w", err)
			}
			words = rest
			continue
		case "offload_dev", "dev":
			return fmt.Errorf("create map: offloaded maps are not supported")
		}
		if err != nil {
			return fmt.Errorf("create map: %w", err)
		}
		words = words[2:]
	}
	if spec.Name == "" {
		return fmt.Errorf("create map: map name not specified")
	}
	if !typeSet {
		return fmt.Errorf("create map: map type not specified")
	}
	if inner != nil {
		info, err := objects.DescribeMap(inner)
		if err != nil {
			return fmt.Errorf("create map: inner_map: %w", err)
		}
		spec.InnerMap = &ebpf.MapSpec{
			Name: info.Name, Type: ebpf.MapType(info.Type.Value), KeySize: info.BytesKey,
			ValueSize: info.BytesValue, MaxEntries: info.MaxEntries, Flags: info.Flags,
		}
	}
	if err := ensureBPFFS(c); err != nil {
		return fmt.Errorf("create map: %w", err)
	}
	// The map first: without privilege that is what to say. Then the
	// pin path, before the kernel's bare EACCES or EEXIST.
	m, err := ebpf.NewMap(spec)
	if err != nil {
		return fmt.Errorf("map create failed: %w", objects.PrivilegeHint(err, "creating a map"))
	}
	defer m.Close()
	if err := objects.CheckPinPath(file); err != nil {
		return kernelError(err, fmt.Errorf("create map: %w", err))
	}
	if err := stopped(c); err != nil {
		return fmt.Errorf("create map: %w", err)
	}
	if err := m.Pin(file); err != nil {
		return fmt.Errorf("create map: pin: %w", err)
	}
	if err := stopped(c); err != nil {
		os.Remove(file)
		return fmt.Errorf("create map: %w", err)
	}
	return out(c).Null()
}

// mapEventPipe is `map event_pipe MAP [cpu N index M] [type NAME] [count N]`.
func mapEventPipe(c *cli.Context) error {
	m, _, rest, err := openMapLayout(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("event_pipe: %w", err)
	}
	defer m.Close()
	opts := events.Options{CPU: -1, Index: -1}
	var typ ebpfbtf.Type
	limit := -1
	for len(rest) > 0 {
		kw, ok := matchKeyword(rest[0], "cpu", "index", "type", "count")
		if !ok {
			return fmt.Errorf("event_pipe: unknown arg %s", rest[0])
		}
		if len(rest) < 2 {
			return fmt.Errorf("event_pipe: '%s' needs a value", kw)
		}
		switch kw {
		case "cpu", "index", "count":
			v, err := strconv.ParseUint(rest[1], 0, 31)
			if err != nil {
				return fmt.Errorf("event_pipe: can't parse %s: %s", kw, rest[1])
			}
			switch kw {
			case "cpu":
				opts.CPU = int(v)
			case "index":
				opts.Index = int(v)
			default:
				limit = int(v)
			}
		case "type":
			if typ, err = mapdata.FindBTFType(m, rest[1]); err != nil {
				return fmt.Errorf("event_pipe: %w", err)
			}
		}
		rest = rest[2:]
	}
	if (opts.CPU >= 0) != (opts.Index >= 0) {
		return fmt.Errorf("event_pipe: cpu and index must be specified together")
	}
	r, err := events.Open(m, opts)
	if err != nil {
		return fmt.Errorf("event_pipe: %w", err)
	}
	out(c).Info("Warning: this reader takes the buffer's records away from the program that normally reads them.")
	// A signal, or a reader of stdout that went away, ends the pipe at
	// once, not at the next record.
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	if f, ok := c.App.Writer.(*os.File); ok {
		go watchClosed(ctx, cancel, f)
	}
	go func() {
		<-ctx.Done()
		r.Close()
	}()
	defer r.Close()
	p := out(c).Events(typ)
	for n := 0; limit < 0 || n < limit; n++ {
		rec, err := r.Read()
		if errors.Is(err, events.ErrClosed) {
			break
		}
		if err != nil {
			p.Close()
			return fmt.Errorf("event_pipe: %w", err)
		}
		if err := p.Print(rec); err != nil {
			p.Close()
			return fmt.Errorf("event_pipe: %w", err)
		}
	}
	return p.Close()
}
