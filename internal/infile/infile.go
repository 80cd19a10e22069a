// Package infile is the one way bpfkit opens a file a user names: an
// object file (the elf verbs, prog load and loadall, run), a BTF file (btf
// dump file, kernel_btf, --kernel-btf). It never blocks and never reads
// without bound: the open does not wait for a FIFO's writer, anything but
// a regular file is refused, the size is capped, and the header is checked
// before the rest is read.
package infile

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// MaxSize is the largest file bpfkit reads: 128 MiB. Real BPF objects and
// BTF are far below it (the kernel's own selftests top out at a few MiB,
// vmlinux BTF at about 10 MiB).
const MaxSize = 128 << 20

// Open opens path for reading without blocking (O_NONBLOCK: a FIFO with
// no writer does not hang the open) and refuses anything but a regular
// file, saying what it is. Errors are one line without the path.
func Open(path string) (*os.File, os.FileInfo, error) {
	if path == "" {
		return nil, nil, errors.New("empty file name")
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := regular(st.Mode()); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// regular says what a file that is not a regular file is.
func regular(m os.FileMode) error {
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return errors.New("is a directory, not a file")
	case m&os.ModeNamedPipe != 0:
		return errors.New("is a FIFO, not a regular file")
	case m&os.ModeSocket != 0:
		return errors.New("is a socket, not a regular file")
	case m&os.ModeCharDevice != 0:
		return errors.New("is a character device, not a regular file")
	case m&os.ModeDevice != 0:
		return errors.New("is a block device, not a regular file")
	}
	return errors.New("is not a regular file")
}

// Limits say what Read accepts.
type Limits struct {
	// What names the content for errors, e.g. "a BPF object".
	What string
	// Header is how many bytes Check looks at (fewer when the file is
	// smaller).
	Header int
	// Check refuses a file by its first bytes, before the rest is read.
	Check func(head []byte) error
}

// Read reads the regular file at path (see Open), at most MaxSize bytes,
// once its first bytes pass l.Check. Errors are one line without the
// path.
func Read(path string, l Limits) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > MaxSize {
		return nil, fmt.Errorf("file is %d bytes, more than the %d bytes (128 MiB) %s may have", st.Size(), MaxSize, l.What)
	}
	head := make([]byte, l.Header)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = head[:n]
	if l.Check != nil {
		if err := l.Check(head); err != nil {
			return nil, err
		}
	}
	// Read at most the limit, whatever size the file claimed.
	rest, err := io.ReadAll(io.LimitReader(f, MaxSize+1-int64(n)))
	if err != nil {
		return nil, err
	}
	if int64(n+len(rest)) > MaxSize {
		return nil, fmt.Errorf("file is more than the %d bytes (128 MiB) %s may have", MaxSize, l.What)
	}
	return append(head, rest...), nil
}
