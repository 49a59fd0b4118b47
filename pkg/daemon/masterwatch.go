// The master status pipe (fd 5): a daemon stops when master has gone away.

package daemon

import (
	"fmt"
	"os"
	"syscall"
)

// watchMaster takes over the inherited status pipe and returns a channel
// that is closed when master is gone. The descriptor is made close-on-exec
// so that programs the daemon runs do not inherit it.
func watchMaster() (<-chan struct{}, error) {
	// Without the pipe, fd 5 may be closed or hold something the program
	// opened itself (the runtime's poller): only a pipe will do.
	var st syscall.Stat_t
	if err := syscall.Fstat(masterStatusFD, &st); err != nil {
		return nil, fmt.Errorf("master status pipe (fd %d): %s", masterStatusFD, errText(err))
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return nil, fmt.Errorf("master status pipe (fd %d): not a pipe", masterStatusFD)
	}
	syscall.CloseOnExec(masterStatusFD)
	pipe := os.NewFile(masterStatusFD, "master status pipe")
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		defer pipe.Close()
		// Master never writes: anything read is ignored, and only end of
		// file or an error ends the wait.
		buf := make([]byte, 16)
		for {
			if _, err := pipe.Read(buf); err != nil {
				return
			}
		}
	}()
	return gone, nil
}
