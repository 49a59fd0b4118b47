package privs

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestCloseOnExecFrom: a descriptor inherited without close-on-exec is
// not passed to a child once CloseOnExecFrom has run.
func TestCloseOnExecFrom(t *testing.T) {
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0) // no O_CLOEXEC: as if inherited
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	path := "/proc/self/fd/" + strconv.Itoa(fd)
	probe := func() bool {
		return exec.Command("/bin/sh", "-c", "test -e "+path).Run() == nil
	}
	if !probe() {
		t.Skip("the inherited descriptor does not reach a child here; nothing to test")
	}
	if err := CloseOnExecFrom(3); err != nil {
		t.Fatal(err)
	}
	if probe() {
		t.Errorf("descriptor %d still reaches a child", fd)
	}
	// The descriptor itself stays usable in this process.
	if _, err := syscall.Seek(fd, 0, 0); err != nil && !strings.Contains(err.Error(), "illegal seek") {
		t.Errorf("descriptor %d unusable: %v", fd, err)
	}
}
