package objects

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// fdInfo reads /proc/self/fdinfo/<fd> into a map of its "key:\tvalue" lines.
func fdInfo(fd int) (map[string]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		return nil, fmt.Errorf("read fdinfo: %w", err)
	}
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
