// Serialising table updates: postmap -i and -d read a table, change it
// and write it back, so two of them at once must not interleave.

package maps

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockForUpdate takes an exclusive advisory lock for changing the table
// file dbPath and returns the function that releases it. The lock is on
// the file's directory, because the file itself is replaced by rename;
// readers never take it, so they are never blocked.
func LockForUpdate(dbPath string) (unlock func(), err error) {
	dir := filepath.Dir(dbPath)
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dbPath, describeErrno(err))
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	return func() {
		syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
		d.Close()
	}, nil
}
