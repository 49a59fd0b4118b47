// Master's status pipe: its read end goes to every daemon as fd 5, so that daemons see master go away.

package supervisor

import (
	"fmt"
	"os"
)

// statusPipe is one pipe shared by all daemons. Master never writes on it:
// it only keeps the write end open, close-on-exec and never passed to a
// child, so the daemons read end of file exactly when master has exited.
type statusPipe struct {
	daemonEnd *os.File // read end, fd 5 of every daemon
	masterEnd *os.File // write end, held only by master
}

// newStatusPipe creates the pipe. os.Pipe opens both ends close-on-exec;
// exec.Cmd clears the flag only on the copy of daemonEnd it installs as
// fd 5.
func newStatusPipe() (*statusPipe, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("master status pipe: %w", err)
	}
	return &statusPipe{daemonEnd: r, masterEnd: w}, nil
}

// Close closes both ends: daemons still running read end of file and exit.
func (p *statusPipe) Close() {
	p.daemonEnd.Close()
	p.masterEnd.Close()
}
