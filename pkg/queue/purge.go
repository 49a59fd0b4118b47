// purge.go removes queue files whose writer died before committing them
// (a cleanup or sendmail killed mid-message), the job of postsuper -p.

package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// PurgeAbandoned removes the uncommitted files in queue (incoming or
// maildrop) that no process is writing any more, and returns their IDs.
// A writer holds an exclusive flock on its file from creation to Commit or
// Abandon, so a file that is not ready and whose lock can be taken belongs
// to a writer that died; a file still being written is left alone. It
// also removes the temporary files (tmp.PID.N, see create) of writers
// that died before they gave the file its queue ID, and returns their
// names.
func (l *Layout) PurgeAbandoned(queue string) ([]string, error) {
	var removed []string
	err := l.walkDir(queue, filepath.Join(l.Root, queue), true, func(e Entry) error {
		var gone bool
		var err error
		switch {
		case ValidID(e.ID):
			gone, err = purgeIfAbandoned(e.Path)
		case strings.HasPrefix(e.ID, "tmp."):
			gone, err = purgeIfOrphaned(e.Path, e.ID)
		}
		if err != nil {
			return err
		}
		if gone {
			removed = append(removed, e.ID)
		}
		return nil
	})
	return removed, err
}

// purgeIfOrphaned removes the temporary file path, named tmp.PID.N by
// create, when process PID is gone. Its lock cannot tell: create takes
// it after the file exists.
func purgeIfOrphaned(path, name string) (bool, error) {
	pidText, _, ok := strings.Cut(strings.TrimPrefix(name, "tmp."), ".")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || pid <= 0 || !errors.Is(unix.Kill(pid, 0), unix.ESRCH) {
		return false, nil
	}
	if err := os.Remove(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("remove %s: %w", path, err)
	}
	return true, nil
}

// purgeIfAbandoned removes path when it is uncommitted and unlocked.
func purgeIfAbandoned(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // committed and moved on, or removed, meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return false, nil // its writer is alive
		}
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	// Checked under the lock: a writer commits (mode 0700) before it
	// closes the file and so releases the lock.
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("fstat %s: %w", path, err)
	}
	if ModeReady(st.Mode()) || !st.Mode().IsRegular() {
		return false, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("remove %s: %w", path, err)
	}
	return true, nil
}

// Unborn reports whether the file at path is an empty queue file that a
// live writer holds: a reserved file (pool.go) or a message none of whose
// content is on disk yet. postsuper's ALL requests pass over such files,
// so that a cleanup's reserved files are not counted as messages.
func Unborn(path string) bool {
	f, err := openFile(path, unix.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Size != 0 || st.Mode&unix.S_IFMT != unix.S_IFREG ||
		ModeReady(os.FileMode(st.Mode&0o777)) {
		return false
	}
	return errors.Is(unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB), unix.EWOULDBLOCK)
}
