package objects

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// fdInfo reads /proc/self/fdinfo/<fd> into a map of its "key:\tvalue" lines.
func fdInfo(fd int) (map[string]string, error) {
	// Plain system calls: this runs once per object in every listing.
	f, err := unix.Open("/proc/self/fdinfo/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("read fdinfo: %w", err)
	}
	defer unix.Close(f)
	var buf [4096]byte
	n, err := unix.Read(f, buf[:])
	if err != nil {
		return nil, fmt.Errorf("read fdinfo: %w", err)
	}
	data := buf[:n]
	fields := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields, nil
}
