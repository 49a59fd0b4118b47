// Mailbox locking: fcntl, flock and dotlock, as mailbox_delivery_lock and virtual_mailbox_lock choose.

package mailbox

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Locks says which locks an mbox delivery takes.
type Locks struct {
	Fcntl, Flock, Dotlock bool
}

// ParseLocks reads a lock list such as "fcntl, dotlock". param names the
// parameter in the error for an unknown method.
func ParseLocks(param, value string) (Locks, error) {
	var l Locks
	for _, m := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		switch m {
		case "fcntl":
			l.Fcntl = true
		case "flock":
			l.Flock = true
		case "dotlock":
			l.Dotlock = true
		default:
			return Locks{}, fmt.Errorf("invalid %s value: %q", param, m)
		}
	}
	return l, nil
}

// Lock timing, Postfix's deliver_lock_attempts × deliver_lock_delay, and
// stale_lock_time for dot-locks left behind.
const (
	lockAttempts  = 20
	lockDelay     = time.Second
	lockPoll      = 20 * time.Millisecond
	staleLockTime = 500 * time.Second
)

// pathLocks serialises deliveries to one mailbox inside this process:
// fcntl locks belong to the process, so they do not keep goroutines apart.
var pathLocks sync.Map // path -> *sync.Mutex

func processLock(path string) func() {
	m, _ := pathLocks.LoadOrStore(path, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// dotlock creates path.lock, waiting for another holder for up to
// lockAttempts × lockDelay and removing a lock older than staleLockTime.
// It returns the function that removes the lock.
func dotlock(path string) (func(), error) {
	lockPath := path + ".lock"
	deadline := time.Now().Add(lockAttempts * lockDelay)
	for {
		f, err := os.OpenFile(lockPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(lockPath) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create lock file %s: %w", lockPath, err)
		}
		if st, err := os.Lstat(lockPath); err == nil && time.Since(st.ModTime()) > staleLockTime {
			os.Remove(lockPath)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("unable to lock %s: %w", path, unix.EAGAIN)
		}
		time.Sleep(lockPoll)
	}
}

// kernelLocks takes the fcntl and flock locks l asks for on f, retrying
// for up to lockAttempts × lockDelay.
func kernelLocks(f *os.File, l Locks) error {
	deadline := time.Now().Add(lockAttempts * lockDelay)
	for {
		err := tryKernelLocks(f, l)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EACCES) {
			return err
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(lockPoll)
	}
}

func tryKernelLocks(f *os.File, l Locks) error {
	fd := int(f.Fd())
	if l.Fcntl {
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
		if err := unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk); err != nil {
			return fmt.Errorf("lock %s (fcntl): %w", f.Name(), err)
		}
	}
	if l.Flock {
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			if l.Fcntl {
				lk := unix.Flock_t{Type: unix.F_UNLCK}
				unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk)
			}
			return fmt.Errorf("lock %s (flock): %w", f.Name(), err)
		}
	}
	return nil
}
