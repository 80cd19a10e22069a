package objects

import (
	"bytes"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// Owner is a process that holds a file descriptor of a BPF object: the
// `pids` of bpftool's show commands.
type Owner struct {
	PID  int    `json:"pid"`
	Comm string `json:"comm"`
}

// Owners says which processes hold which programs, maps and links, by id,
// and which hold run-time statistics on (a BPF_ENABLE_STATS descriptor).
type Owners struct {
	Programs, Maps, Links map[uint32][]Owner
	Stats                 []Owner
}

// statsLink is what /proc/PID/fd links to for a BPF_ENABLE_STATS
// descriptor, which has no id.
const statsLink = "anon_inode:bpf-stats"

// The names /proc/PID/fd links have for BPF objects, and the fdinfo line
// that gives each one's id.
var ownedKinds = []struct {
	link, idKey string
}{
	{"anon_inode:bpf-prog", "prog_id:"},
	{"anon_inode:bpf-map", "map_id:"},
	{"anon_inode:bpf_link", "link_id:"},
}

// ScanOwners reads /proc once and returns the processes holding each
// program, map and link, and those holding run-time statistics on. It lists file descriptors with readlink and reads
// fdinfo only for BPF objects, so processes with many files cost little.
// The calling process is left out, as bpftool leaves itself out: it holds
// the objects it is describing. Processes that end during the scan are
// skipped; without privilege, other users' processes are not visible.
func ScanOwners() (*Owners, error) { return scanOwners(false) }

// StatsHolders returns the processes other than the calling one holding
// BPF_ENABLE_STATS descriptors: ScanOwners without reading any fdinfo.
func StatsHolders() ([]Owner, error) {
	o, err := scanOwners(true)
	if err != nil {
		return nil, err
	}
	return o.Stats, nil
}

// scanOwners is ScanOwners; statsOnly leaves the objects' tables empty.
func scanOwners(statsOnly bool) (*Owners, error) {
	o := &Owners{Programs: map[uint32][]Owner{}, Maps: map[uint32][]Owner{}, Links: map[uint32][]Owner{}}
	tables := []map[uint32][]Owner{o.Programs, o.Maps, o.Links}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	link := make([]byte, 64)
	info := make([]byte, 1024)
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == self {
			continue
		}
		dir := "/proc/" + p.Name()
		fds, err := os.ReadDir(dir + "/fd")
		if err != nil {
			continue // gone, or not ours to see
		}
		comm := ""
		for _, fd := range fds {
			n, err := unix.Readlink(dir+"/fd/"+fd.Name(), link)
			if err != nil || !bytes.HasPrefix(link[:n], []byte("anon_inode:bpf")) {
				continue
			}
			if string(link[:n]) == statsLink {
				if comm == "" {
					comm = readComm(dir)
				}
				if len(o.Stats) == 0 || o.Stats[len(o.Stats)-1].PID != pid {
					o.Stats = append(o.Stats, Owner{PID: pid, Comm: comm})
				}
				continue
			}
			if statsOnly {
				continue
			}
			for k, kind := range ownedKinds {
				if string(link[:n]) != kind.link {
					continue
				}
				id, ok := fdinfoID(dir+"/fdinfo/"+fd.Name(), kind.idKey, info)
				if !ok {
					break
				}
				if comm == "" {
					comm = readComm(dir)
				}
				owners := tables[k][id]
				if len(owners) == 0 || owners[len(owners)-1].PID != pid {
					tables[k][id] = append(owners, Owner{PID: pid, Comm: comm})
				}
			}
		}
	}
	byPID := func(a, b Owner) int { return a.PID - b.PID }
	for _, t := range tables {
		for _, owners := range t {
			slices.SortFunc(owners, byPID)
		}
	}
	slices.SortFunc(o.Stats, byPID)
	return o, nil
}

// fdinfoID reads the number after key in an fdinfo file.
func fdinfoID(path, key string, buf []byte) (uint32, bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	n, err := unix.Read(fd, buf)
	unix.Close(fd)
	if err != nil || n <= 0 {
		return 0, false
	}
	data := buf[:n]
	i := bytes.Index(data, []byte("\n"+key))
	if i < 0 {
		return 0, false
	}
	data = bytes.TrimLeft(data[i+1+len(key):], " \t")
	end := bytes.IndexByte(data, '\n')
	if end < 0 {
		end = len(data)
	}
	id, err := strconv.ParseUint(string(data[:end]), 10, 32)
	return uint32(id), err == nil
}

// readComm reads a process's command name.
func readComm(dir string) string {
	b, err := os.ReadFile(dir + "/comm")
	if err != nil {
		return ""
	}
	return string(bytes.TrimSuffix(b, []byte("\n")))
}
