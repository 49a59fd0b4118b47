// master.pid: the lock that says master runs, in Postfix's format.

package supervisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// PIDFileName is master's lock file, relative to queue_directory.
const PIDFileName = "pid/master.pid"

// pidFieldWidth is the width Postfix right-aligns the pid in: four
// characters per byte of an unsigned long.
const pidFieldWidth = 32

// PIDFile is master's locked pid file; the lock lives as long as the file
// stays open.
type PIDFile struct {
	file *os.File
}

// LockPIDFile opens (creating it) queueDir/pid/master.pid, takes an
// exclusive lock without waiting, and writes the current pid into it. A
// lock held by another master fails, worded as Postfix's master:
// "open lock file DIR/pid/master.pid: unable to set exclusive lock:
// Resource temporarily unavailable".
func LockPIDFile(queueDir string) (*PIDFile, error) {
	path := filepath.Join(queueDir, PIDFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, unwrapPathError(err))
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("open lock file %s: unable to set exclusive lock: %s", path, strerror(err))
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("truncate %s: %w", path, err)
	}
	if _, err := fmt.Fprintf(f, "%*d\n", pidFieldWidth, os.Getpid()); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &PIDFile{file: f}, nil
}

// Close releases the lock; the file stays, as Postfix leaves it.
func (p *PIDFile) Close() error { return p.file.Close() }

// RunningPID reports whether a master holds queueDir/pid/master.pid's lock
// and, if so, the pid written in it (what `master -t` and `postfix
// status` test).
func RunningPID(queueDir string) (pid int, running bool, err error) {
	path := filepath.Join(queueDir, PIDFileName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("open lock file %s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	lockErr := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if lockErr == nil {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return 0, false, nil
	}
	if !errors.Is(lockErr, unix.EWOULDBLOCK) {
		return 0, false, fmt.Errorf("lock %s: %s", path, strerror(lockErr))
	}
	buf := make([]byte, 64)
	n, _ := f.Read(buf)
	pid, err = strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		return 0, true, fmt.Errorf("%s: bad pid %q", path, strings.TrimSpace(string(buf[:n])))
	}
	return pid, true, nil
}

// unwrapPathError drops *fs.PathError's own op and path, which the
// caller's message already names.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return errors.New(strerror(pe.Err))
	}
	return err
}

// strerror words a system error as C's strerror does: capitalised.
func strerror(err error) string {
	msg := err.Error()
	var errno unix.Errno
	if errors.As(err, &errno) {
		msg = errno.Error()
	}
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}
