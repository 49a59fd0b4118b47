// Tests of the status pipe master gives every daemon as fd 5.

package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestStatusPipeReachesDaemonsReadOnly checks that a daemon gets the
// status pipe as fd 5 and has no other descriptor of it: were the write
// end inherited, the daemon would keep the pipe open after master died.
func TestStatusPipeReachesDaemonsReadOnly(t *testing.T) {
	_, queue, _, _ := testSupervisor(t, "svc unix - n n - - echo\n")
	echoLine(t, filepath.Join(queue, "private", "svc"), "start it")
	pid := findTestChild(t, "svc")
	// Found through /proc rather than master's own *os.File, which the
	// supervisor goroutine closes at shutdown.
	pipeLink, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/5", pid))
	if err != nil || !strings.HasPrefix(pipeLink, "pipe:") {
		t.Fatalf("daemon fd 5 is %q (%v), want a pipe", pipeLink, err)
	}
	if held := fdsLinkingTo(t, os.Getpid(), pipeLink); len(held) == 0 {
		t.Fatalf("daemon fd 5 (%s) is not a pipe master holds", pipeLink)
	}
	if pipeFDs := fdsLinkingTo(t, pid, pipeLink); len(pipeFDs) != 1 || pipeFDs[0] != "5" {
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

// fdsLinkingTo lists the descriptors of process pid that refer to link
// (such as "pipe:[1234]").
func fdsLinkingTo(t *testing.T, pid int, link string) []string {
	t.Helper()
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range entries {
		if target, _ := os.Readlink(filepath.Join(fdDir, e.Name())); target == link {
			fds = append(fds, e.Name())
		}
	}
	return fds
}
