// The maillog_file destination: appends from many processes, reopen on rotate.

package maillog

import (
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fileRecheckInterval is how often a file destination checks whether its
// file was renamed away (by `postfix logrotate` or logrotate(8)).
const fileRecheckInterval = time.Second

// fileSink appends lines to a file opened with O_APPEND, one write(2) per
// line, so that lines from many processes never interleave.
type fileSink struct {
	path string
	now  func() time.Time

	mu        sync.Mutex
	f         *os.File
	lastCheck time.Time
	// raw: writes are raw system calls (postlogd's; see writeRaw).
	raw bool
}

func openFileSink(path string, now func() time.Time) (*fileSink, error) {
	s := &fileSink{path: path, now: now}
	if err := s.open(); err != nil {
		return nil, err
	}
	s.lastCheck = now()
	return s, nil
}

func (s *fileSink) open() error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err // *os.PathError: "open PATH: reason"
	}
	s.f = f
	return nil
}

// reopen closes the file and opens the path again. Callers hold mu.
func (s *fileSink) reopen() error {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	return s.open()
}

// Reopen starts a new file after the old one was renamed.
func (s *fileSink) Reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reopen()
}

// renamedAway reports whether the path no longer names the open file.
func (s *fileSink) renamedAway() bool {
	byPath, err := os.Stat(s.path)
	if err != nil {
		return true
	}
	open, err := s.f.Stat()
	return err != nil || !os.SameFile(byPath, open)
}

func (s *fileSink) writeLine(line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := s.now(); s.f == nil || now.Sub(s.lastCheck) >= fileRecheckInterval || now.Before(s.lastCheck) {
		s.lastCheck = now
		if s.f == nil || s.renamedAway() {
			if err := s.reopen(); err != nil {
				return err
			}
		}
	}
	if s.raw {
		return s.writeRaw(line)
	}
	_, err := s.f.Write(line)
	return err
}

// writeRaw is the file's Write as a raw system call: the Go runtime is
// not told, so it does not wake its monitor thread (sysmon), asleep
// while postlogd waits for lines, at every batch. An append to a
// regular file does not wait for the disk.
func (s *fileSink) writeRaw(line []byte) error {
	rc, err := s.f.SyscallConn()
	if err != nil {
		_, err = s.f.Write(line)
		return err
	}
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for len(line) > 0 {
			n, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&line[0])), uintptr(len(line)))
			if e == unix.EINTR {
				continue
			}
			if e != 0 {
				werr = e
				break
			}
			line = line[n:]
		}
		return true
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: s.path, Err: err}
	}
	return nil
}

func (s *fileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
