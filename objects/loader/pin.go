package loader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/cilium/ebpf"
)

// PinRequest says what bpftool's prog load or loadall pins.
type PinRequest struct {
	// Path is the pin path of the first program (prog load) or the
	// directory for every program (loadall, All set).
	Path string
	All  bool
	// PinMaps, when set, is a directory where every map is pinned.
	PinMaps string
	// AutoAttach attaches programs by section and pins the links instead.
	AutoAttach bool
	Attach     AttachOptions
}

// Pin is one object LoadAndPin left pinned.
type Pin struct {
	Kind string // "prog", "map" or "link"
	Name string // program or map name in the object
	Path string
	ID   uint32
	// Note explains a fallback, e.g. a program pinned because its section
	// has no automatic attach point.
	Note string
}

// LoadAndPin is LoadAndPinContext without a context: it cannot be stopped.
func LoadAndPin(obj *Object, lopts LoadOptions, req PinRequest) ([]Pin, error) {
	return LoadAndPinContext(context.Background(), obj, lopts, req)
}

// LoadAndPinContext is bpftool's prog load / loadall: load obj, then pin the first
// program at req.Path (or every program under it), attach first when
// req.AutoAttach and pin the links, and pin the maps under req.PinMaps.
// Every pin path is checked before anything is loaded; on any failure every
// pin made is removed and everything is closed, so nothing stays loaded.
// On success the pins are all that keeps the objects alive. ctx is checked
// between steps (see Stopped): once it is done, everything made so far,
// directories included, is removed and ctx's cause returned, so that a
// stopped load leaves the kernel and bpffs as they were.
func LoadAndPinContext(ctx context.Context, obj *Object, lopts LoadOptions, req PinRequest) (pins []Pin, err error) {
	progs := obj.Programs
	if lopts.Type != "" {
		progs = obj.all // the override gives every function a type
	} else if err := obj.checkTyped(); err != nil {
		return nil, err
	}
	if !req.All {
		progs = progs[:1]
	}

	// Plan every path first.
	var made []string // directories created by this call
	defer func() {
		if err != nil {
			for i := len(made) - 1; i >= 0; i-- {
				os.Remove(made[i])
			}
		}
	}()
	ensureDir := func(dir string) error {
		if dir == "" {
			return errors.New("empty pin directory path")
		}
		if _, serr := os.Stat(dir); serr == nil {
			return objects.CheckPinDir(dir)
		}
		if strings.Contains(filepath.Base(dir), ".") {
			return fmt.Errorf("pin directory %s: bpffs refuses names containing '.'", dir)
		}
		parent := filepath.Dir(dir)
		if _, serr := os.Stat(parent); serr != nil {
			return fmt.Errorf("pin directory %s: parent directory: %w", dir, serr)
		}
		if !objects.IsBPFFS(parent) {
			return fmt.Errorf("pin directory %s: %w", dir, objects.ErrNotBPFFS)
		}
		if merr := os.Mkdir(dir, 0o700); merr != nil {
			return fmt.Errorf("pin directory %s: %w", dir, merr)
		}
		made = append(made, dir)
		return nil
	}
	progPath := map[string]string{}
	taken := map[string]string{}
	claim := func(path, what string) error {
		if other, dup := taken[path]; dup {
			return fmt.Errorf("pin path %s: wanted by both %s and %s", path, other, what)
		}
		taken[path] = what
		return objects.CheckPinPath(path)
	}
	if req.All {
		if err = ensureDir(req.Path); err != nil {
			return nil, err
		}
		for _, p := range progs {
			progPath[p] = filepath.Join(req.Path, p)
		}
	} else {
		progPath[progs[0]] = req.Path
	}
	for _, p := range progs {
		if err = claim(progPath[p], "program "+p); err != nil {
			return nil, err
		}
	}
	mapPath := map[string]string{}
	if req.PinMaps != "" {
		if err = ensureDir(req.PinMaps); err != nil {
			return nil, err
		}
		for _, m := range obj.Maps {
			mapPath[m] = filepath.Join(req.PinMaps, obj.MapPinName(m))
			if err = claim(mapPath[m], "map "+m); err != nil {
				return nil, err
			}
		}
	}

	loaded, err := LoadContext(ctx, obj, lopts)
	if err != nil {
		return nil, err
	}
	var links []*Attachment
	defer func() {
		for _, a := range links {
			a.Link.Close()
		}
		if err != nil {
			for _, p := range pins {
				os.Remove(p.Path)
			}
			pins = nil
			loaded.Unload()
			return
		}
		loaded.Close()
	}()

	for _, name := range progs {
		if err = Stopped(ctx); err != nil {
			return pins, err
		}
		prog := loaded.Collection.Programs[name]
		if prog == nil {
			return pins, fmt.Errorf("program %s was not loaded", name)
		}
		path := progPath[name]
		pin := Pin{Kind: "prog", Name: name, Path: path}
		if req.AutoAttach {
			a, aerr := AttachBySection(obj.Spec.Programs[name], prog, req.Attach)
			switch {
			case aerr == nil:
				links = append(links, a)
				if perr := a.Link.Pin(path); perr != nil {
					return pins, fmt.Errorf("pin link of %s at %s: %w", name, path, perr)
				}
				pins = append(pins, Pin{Kind: "link", Name: name, Path: path, ID: a.LinkID, Note: a.Hook})
				continue
			case errors.Is(aerr, ErrNoAutoAttach) || errors.Is(aerr, ErrNeedsTarget):
				pin.Note = "program " + name + " does not support autoattach, falling back to pinning"
			default:
				return pins, aerr
			}
		}
		if perr := prog.Pin(path); perr != nil {
			return pins, fmt.Errorf("pin program %s at %s: %w", name, path, perr)
		}
		pin.ID, _ = objects.Programs.ID(prog)
		pins = append(pins, pin)
	}
	for _, name := range obj.Maps {
		path, ok := mapPath[name]
		if !ok {
			continue
		}
		if err = Stopped(ctx); err != nil {
			return pins, err
		}
		m := loaded.Collection.Maps[name]
		if perr := pinMapAgain(m, path); perr != nil {
			return pins, fmt.Errorf("pin map %s at %s: %w", name, path, perr)
		}
		id, _ := objects.Maps.ID(m)
		pins = append(pins, Pin{Kind: "map", Name: name, Path: path, ID: id})
	}
	if err = Stopped(ctx); err != nil {
		return pins, err
	}
	return pins, nil
}

// pinMapAgain pins m at path even when it is already pinned elsewhere
// (LIBBPF_PIN_BY_NAME): bpffs holds any number of pins of one object, and
// Map.Pin would move the existing pin instead.
func pinMapAgain(m *ebpf.Map, path string) error {
	if !m.IsPinned() {
		return m.Pin(path)
	}
	c, err := m.Clone()
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Pin(path)
}
