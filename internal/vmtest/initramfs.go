package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"syscall"
)

// cpioWriter writes the "newc" cpio format the kernel unpacks as its
// initramfs. Written here rather than with cpio(1) because the archive
// needs a /dev/console node, which only root could mknod in a staging
// directory.
type cpioWriter struct {
	w   *bufio.Writer
	ino uint32
	err error
}

func newCpio(w io.Writer) *cpioWriter { return &cpioWriter{w: bufio.NewWriter(w), ino: 1} }

func (c *cpioWriter) entry(name string, mode uint32, rdevMajor, rdevMinor uint32, data []byte) {
	if c.err != nil {
		return
	}
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" {
		name = "."
	}
	c.ino++
	nlink := 1
	if mode&syscall.S_IFMT == syscall.S_IFDIR {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(name + "\x00"))
	c.pad(len(hdr) + len(name) + 1)
	c.write(data)
	c.pad(len(data))
}

func (c *cpioWriter) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

func (c *cpioWriter) pad(n int) {
	if r := n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

func (c *cpioWriter) dir(name string) { c.entry(name, syscall.S_IFDIR|0o755, 0, 0, nil) }

func (c *cpioWriter) file(name string, perm uint32, data []byte) {
	c.entry(name, syscall.S_IFREG|perm, 0, 0, data)
}

func (c *cpioWriter) symlink(name, target string) {
	c.entry(name, syscall.S_IFLNK|0o777, 0, 0, []byte(target))
}

func (c *cpioWriter) charDev(name string, major, minor uint32) {
	c.entry(name, syscall.S_IFCHR|0o600, major, minor, nil)
}

func (c *cpioWriter) close() error {
	c.entry("TRAILER!!!", 0, 0, 0, nil)
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}

// writeInitramfs writes the guest's initramfs: static busybox, the modules
// that mount the host's root, /init, and the run's settings and job.
func writeInitramfs(dst string, k *kernel, env, job string) error {
	mods, err := k.bootModules()
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	c := newCpio(f)
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "newroot", "boot-modules", "lib", "lib/modules", "tmp"} {
		c.dir(d)
	}
	c.charDev("dev/console", 5, 1)
	c.charDev("dev/null", 1, 3)
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return fmt.Errorf("read %s (apt-get install busybox-static): %w", busybox, err)
	}
	c.file("bin/busybox", 0o755, bb)
	c.symlink("bin/sh", "busybox")
	c.file("init", 0o755, []byte(initScript))
	var names []string
	for _, m := range mods {
		data, err := os.ReadFile(m)
		if err != nil {
			return err
		}
		base := path.Base(m)
		c.file("boot-modules/"+base, 0o644, data)
		names = append(names, base)
	}
	// Modules the kernel asks for later (veth, sch_ingress, ...) come from
	// the unpacked package through the shared root.
	c.symlink("lib/modules/"+k.Release, "/newroot"+k.modDir())
	env += "BOOT_MODULES=" + shellQuote(strings.Join(names, " ")) + "\n"
	c.file("vmtest.env", 0o644, []byte(env))
	c.file("job.sh", 0o755, []byte(job))
	if err := c.close(); err != nil {
		return err
	}
	return f.Close()
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
