//go:build cgo

package privs

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// fdTableSize reads the size of this process's descriptor table
// (FDSize in /proc/self/status).
func fdTableSize() (int, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "FDSize:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("no FDSize in /proc/self/status")
}

// TestEarlyFDTable runs this test binary again with and without master's
// variable: started by master, a daemon has room for 1,024 descriptors
// (or its soft limit) from the start; otherwise the table is as small as
// the kernel makes it.
func TestEarlyFDTable(t *testing.T) {
	if os.Getenv("PRIVS_TEST_FD_CHILD") == "1" {
		size, err := fdTableSize()
		fmt.Printf("FDSize=%d err=%v\n", size, err)
		return
	}
	if _, err := fdTableSize(); err != nil {
		t.Skipf("no descriptor table size here: %v", err)
	}
	// The Go runtime raised this process's soft limit and gives a child
	// the one it started with, which may be below 1,024; set again, the
	// raised limit is what the child gets.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < 1024 {
		t.Skipf("soft descriptor limit %d", lim.Cur)
	}
	for _, tt := range []struct {
		env   []string
		large bool
	}{
		{[]string{"POSTERN_MASTER=1"}, true},
		{nil, false},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEarlyFDTable$")
		cmd.Env = append(os.Environ(), append(tt.env, "PRIVS_TEST_FD_CHILD=1")...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("environment %q: %v\n%s", tt.env, err, out)
		}
		var size int
		var childErr string
		if _, err := fmt.Sscanf(string(out), "FDSize=%d err=%s", &size, &childErr); err != nil {
			t.Fatalf("environment %q: output %q: %v", tt.env, out, err)
		}
		if got := size >= 1024; got != tt.large {
			t.Errorf("environment %q: FDSize %d, want at least 1024: %v", tt.env, size, tt.large)
		}
	}
}
