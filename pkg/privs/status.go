// Reading a process's credentials from /proc/PID/status (for tests and master).

package privs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Status is the part of /proc/PID/status that says what a process may do.
type Status struct {
	UID        [4]int // real, effective, saved, file system
	GID        [4]int
	Groups     []int  // supplementary groups
	CapEff     uint64 // effective capabilities
	NoNewPrivs bool
}

// ReadStatus reads /proc/PID/status.
func ReadStatus(pid int) (*Status, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %s", path, errnoText(err))
	}
	defer f.Close()
	st, err := parseStatus(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// parseStatus reads the "Name:\tvalue" lines of a status file. Uid, Gid and
// CapEff must be present.
func parseStatus(r io.Reader) (*Status, error) {
	st := &Status{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		var err error
		switch name {
		case "Uid":
			err = parseIDs(fields, st.UID[:])
		case "Gid":
			err = parseIDs(fields, st.GID[:])
		case "Groups":
			st.Groups, err = parseIntList(fields)
		case "CapEff":
			if len(fields) != 1 {
				err = fmt.Errorf("want one hexadecimal mask")
				break
			}
			st.CapEff, err = strconv.ParseUint(fields[0], 16, 64)
		case "NoNewPrivs":
			st.NoNewPrivs = len(fields) == 1 && fields[0] == "1"
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: bad %s value %q: %v", line, name, strings.TrimSpace(value), err)
		}
		seen[name] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, name := range []string{"Uid", "Gid", "CapEff"} {
		if !seen[name] {
			return nil, fmt.Errorf("no %s line", name)
		}
	}
	return st, nil
}

// parseIDs reads exactly len(dst) decimal IDs.
func parseIDs(fields []string, dst []int) error {
	if len(fields) != len(dst) {
		return fmt.Errorf("want %d IDs, got %d", len(dst), len(fields))
	}
	ids, err := parseIntList(fields)
	copy(dst, ids)
	return err
}

func parseIntList(fields []string) ([]int, error) {
	out := make([]int, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad ID %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}
