// Tests of the status pipe master gives every daemon as fd 5.

package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestStatusPipeReachesDaemonsReadOnly checks that a daemon gets the
// status pipe as fd 5 and has no other descriptor of it: were the write
// end inherited, the daemon would keep the pipe open after master died.
func TestStatusPipeReachesDaemonsReadOnly(t *testing.T) {
	s, _, _, _ := testSupervisor(t, "svc unix - n n - - echo\n")
	pid := findTestChild(t, "svc")
	var st syscall.Stat_t
	if err := syscall.Fstat(int(s.status.masterEnd.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	pipeLink := fmt.Sprintf("pipe:[%d]", st.Ino)
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		t.Fatal(err)
	}
	var pipeFDs []string
	for _, e := range entries {
		if target, _ := os.Readlink(filepath.Join(fdDir, e.Name())); target == pipeLink {
			pipeFDs = append(pipeFDs, e.Name())
		}
	}
	if len(pipeFDs) != 1 || pipeFDs[0] != "5" {
		t.Fatalf("daemon descriptors on master's status pipe: %v, want just fd 5", pipeFDs)
	}
	flags, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/5", pid))
	if err != nil {
		t.Fatal(err)
	}
	var pos, flagBits int
	if _, err := fmt.Sscanf(string(flags), "pos:\t%d\nflags:\t%o", &pos, &flagBits); err != nil {
		t.Fatalf("fdinfo %q: %v", flags, err)
	}
	if mode := flagBits & syscall.O_ACCMODE; mode != syscall.O_RDONLY {
		t.Errorf("fd 5 access mode %#o, want read-only", mode)
	}
}
