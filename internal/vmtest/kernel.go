package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// kernel is a Debian kernel package unpacked in the cache.
type kernel struct {
	Package string // e.g. linux-image-6.1.0-57-cloud-amd64-unsigned
	Release string // uname -r, e.g. 6.1.0-57-cloud-amd64
	Root    string // the unpacked package: boot/, lib/modules/RELEASE/
}

func (k *kernel) vmlinuz() string { return filepath.Join(k.Root, "boot", "vmlinuz-"+k.Release) }
func (k *kernel) modDir() string  { return filepath.Join(k.Root, "lib", "modules", k.Release) }

// fetchKernel returns the newest Debian cloud kernel package of a series
// ("6.1", "6.12"), or the package pin names, unpacked under cache/kernels
// with modules.dep built (by busybox depmod: the guest loads modules with
// busybox modprobe). It downloads with apt-get only what is not cached.
func fetchKernel(cache, series, pin string) (*kernel, error) {
	pkg := pin
	if pkg == "" {
		var err error
		if pkg, err = newestPackage(series); err != nil {
			// Offline (or no apt lists): the newest one already unpacked.
			if cached := newestCached(cache, series); cached != "" {
				logf("%v; using the cached %s", err, cached)
				pkg = cached
			} else {
				return nil, err
			}
		}
	}
	k := &kernel{Package: pkg, Root: filepath.Join(cache, "kernels", pkg)}
	if rel, err := readRelease(k.Root); err == nil {
		k.Release = rel
		return k, nil
	}

	debs := filepath.Join(cache, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return nil, err
	}
	deb, err := findDeb(debs, pkg)
	if err != nil {
		logf("downloading %s with apt-get", pkg)
		cmd := exec.Command("apt-get", "download", "-q", pkg)
		cmd.Dir = debs
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("apt-get download %s: %w (run apt-get update first?)", pkg, err)
		}
		if deb, err = findDeb(debs, pkg); err != nil {
			return nil, err
		}
	}

	tmp := k.Root + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	if out, err := exec.Command("dpkg-deb", "-x", deb, tmp).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dpkg-deb -x %s: %v: %s", deb, err, out)
	}
	rel, err := releaseOf(tmp)
	if err != nil {
		return nil, err
	}
	if out, err := exec.Command(busybox, "depmod", "-b", tmp, rel).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("busybox depmod: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, "release"), []byte(rel+"\n"), 0o644); err != nil {
		return nil, err
	}
	os.RemoveAll(k.Root)
	if err := os.Rename(tmp, k.Root); err != nil {
		return nil, err
	}
	k.Release = rel
	return k, nil
}

// packageRe matches Debian's unsigned cloud kernel images of a series.
func packageRe(series string) *regexp.Regexp {
	return regexp.MustCompile(`^linux-image-` + regexp.QuoteMeta(series) + `[.-][0-9][^ ]*-cloud-amd64-unsigned$`)
}

// newestPackage asks apt for the series' packages and picks the newest.
func newestPackage(series string) (string, error) {
	re := packageRe(series)
	out, err := exec.Command("apt-cache", "search", "--names-only", "^linux-image-"+regexp.QuoteMeta(series)).Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache search: %w", err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), " ")
		if re.MatchString(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("apt-cache knows no package matching %s (run apt-get update; or set KERNEL_PKG)", re)
	}
	slices.SortFunc(names, versionCompare)
	return names[len(names)-1], nil
}

// newestCached returns the newest unpacked package of the series, or "".
func newestCached(cache, series string) string {
	re := packageRe(series)
	entries, _ := os.ReadDir(filepath.Join(cache, "kernels"))
	var names []string
	for _, e := range entries {
		if re.MatchString(e.Name()) {
			if _, err := readRelease(filepath.Join(cache, "kernels", e.Name())); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.SortFunc(names, versionCompare)
	return names[len(names)-1]
}

var numRe = regexp.MustCompile(`[0-9]+`)

// versionCompare orders package names by their numbers, left to right.
func versionCompare(a, b string) int {
	na, nb := numRe.FindAllString(a, -1), numRe.FindAllString(b, -1)
	for i := 0; i < len(na) && i < len(nb); i++ {
		x, _ := strconv.Atoi(na[i])
		y, _ := strconv.Atoi(nb[i])
		if x != y {
			return x - y
		}
	}
	if len(na) != len(nb) {
		return len(na) - len(nb)
	}
	return strings.Compare(a, b)
}

func findDeb(dir, pkg string) (string, error) {
	m, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if len(m) == 0 {
		return "", fmt.Errorf("no %s_*.deb in %s", pkg, dir)
	}
	slices.Sort(m)
	return m[len(m)-1], nil
}

func readRelease(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "release"))
	if err != nil {
		return "", err
	}
	rel := strings.TrimSpace(string(b))
	if _, err := os.Stat(filepath.Join(root, "boot", "vmlinuz-"+rel)); err != nil {
		return "", err
	}
	return rel, nil
}

// releaseOf reads the kernel release from the package's boot/vmlinuz-*.
func releaseOf(root string) (string, error) {
	m, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(m) != 1 {
		return "", fmt.Errorf("want one boot/vmlinuz-* in the package, found %d", len(m))
	}
	return strings.TrimPrefix(filepath.Base(m[0]), "vmlinuz-"), nil
}

// bootModules lists, dependencies first, the module files the guest must
// insmod before it can mount the host's root: virtio PCI and virtiofs.
func (k *kernel) bootModules() ([]string, error) {
	dep, err := os.ReadFile(filepath.Join(k.modDir(), "modules.dep"))
	if err != nil {
		return nil, err
	}
	deps := map[string][]string{} // module name -> dependency paths
	paths := map[string]string{}  // module name -> path
	for _, line := range strings.Split(string(dep), "\n") {
		mod, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name := modName(mod)
		paths[name] = mod
		deps[name] = strings.Fields(rest)
	}
	var order []string
	seen := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		p, ok := paths[name]
		if !ok {
			if builtin(k, name) {
				return nil
			}
			return fmt.Errorf("kernel %s has no module %s", k.Release, name)
		}
		for _, d := range deps[name] {
			if err := visit(modName(d)); err != nil {
				return err
			}
		}
		order = append(order, filepath.Join(k.modDir(), p))
		return nil
	}
	for _, name := range []string{"virtio_pci", "virtiofs"} {
		if err := visit(name); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// modName is a module's name from its path (modules may be compressed:
// 6.12's are .ko.xz).
func modName(path string) string {
	name := filepath.Base(strings.TrimSpace(path))
	for _, ext := range []string{".xz", ".gz", ".zst"} {
		name = strings.TrimSuffix(name, ext)
	}
	return strings.TrimSuffix(name, ".ko")
}

// builtin reports whether the kernel has the module built in.
func builtin(k *kernel, name string) bool {
	b, err := os.ReadFile(filepath.Join(k.modDir(), "modules.builtin"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if modName(line) == name {
			return true
		}
	}
	return false
}
