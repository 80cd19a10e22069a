package objects

import (
	"bytes"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fdinfoDir is /proc/self/fdinfo, opened once: a listing reads the fdinfo
// of every object, and naming each file relative to it saves the walk of
// the whole path.
var fdinfoDir = sync.OnceValues(func() (int, error) {
	return unix.Open("/proc/self/fdinfo", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
})

// readFDInfo reads /proc/self/fdinfo/<fd> ("key:\tvalue" lines) into buf
// and returns what it read, nil on failure. It allocates nothing.
func readFDInfo(fd int, buf []byte) []byte {
	dir, err := fdinfoDir()
	if err != nil {
		return nil
	}
	var name [12]byte
	b := strconv.AppendInt(name[:0], int64(fd), 10)
	b = append(b, 0)
	f, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dir), uintptr(unsafe.Pointer(&b[0])),
		unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	if errno != 0 {
		return nil
	}
	n, err := unix.Read(int(f), buf)
	unix.Close(int(f))
	if err != nil || n <= 0 {
		return nil
	}
	return buf[:n]
}

// fdinfoField returns the value of the line "key:<blanks>value" of info.
func fdinfoField(info []byte, key string) ([]byte, bool) {
	for len(info) > 0 {
		line := info
		if i := bytes.IndexByte(info, '\n'); i >= 0 {
			line, info = info[:i], info[i+1:]
		} else {
			info = nil
		}
		if len(line) > len(key) && line[len(key)] == ':' && string(line[:len(key)]) == key {
			return bytes.Trim(line[len(key)+1:], " \t"), true
		}
	}
	return nil, false
}

// fdinfoInt returns the number on the line key of info.
func fdinfoInt(info []byte, key string) (int64, bool) {
	v, ok := fdinfoField(info, key)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil
}
