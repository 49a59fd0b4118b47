// Descriptors inherited from whoever started a program: none of them may reach the programs it starts.

package privs

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// maxScannedFD bounds the descriptor numbers tried without /proc.
const maxScannedFD = 1 << 16

func min64(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return b
}

// CloseOnExecFrom marks every open descriptor numbered min or above
// close-on-exec. master calls it at start so that nothing its own parent
// left open (a terminal, a pipe, a socket) is passed on to the daemons,
// and the daemons call it so that the listener and status descriptors
// master handed them are not passed on to users' commands; descriptors a
// program hands on deliberately (exec.Cmd.ExtraFiles) are unaffected.
func CloseOnExecFrom(min int) error {
	// Each descriptor listed in /proc, not close_range(2): where its
	// CLOEXEC flag is unknown it would close them instead.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		// No /proc (a chroot): try every number up to the limit.
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("list open descriptors: %w", err)
		}
		for fd := min; uint64(fd) < min64(lim.Cur, maxScannedFD); fd++ {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
				unix.CloseOnExec(fd)
			}
		}
		return nil
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < min {
			continue
		}
		unix.CloseOnExec(fd) // the directory's own descriptor may be gone: no error
	}
	return nil
}
