// Opening a file with a user's rights: local runs as root, but a .forward or :include: file must be reachable and readable by the user it is read for.

package local

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// openAs opens path read-only with the file system rights of uid and gid
// (and no supplementary groups), as Postfix's open_as does: the search
// permission of every directory on the way and the file's own
// permissions are checked for that user, not for root. It runs on an OS
// thread of its own whose file system identity is changed; the thread is
// never given back to the Go scheduler, so it ends with the goroutine.
func openAs(path string, uid, gid uint32, flags int) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		if err := becomeThread(uid, gid); err != nil {
			done <- result{err: err}
			return
		}
		f, err := os.OpenFile(path, os.O_RDONLY|flags, 0)
		done <- result{f, err}
	}()
	r := <-done
	return r.f, r.err
}

// becomeThread gives the calling thread (only) the file system identity
// uid:gid with no supplementary groups.
func becomeThread(uid, gid uint32) error {
	groups := [1]uint32{gid}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 1, uintptr(unsafe.Pointer(&groups[0])), 0); e != 0 {
		return fmt.Errorf("setgroups: %w", e)
	}
	unix.SetfsgidRetGid(int(gid))
	unix.SetfsuidRetUid(int(uid))
	// setfsuid and setfsgid report the previous value, not failure: ask
	// again (-1 changes nothing) to see what is in effect.
	if got, _ := unix.SetfsgidRetGid(-1); got != int(gid) {
		return errors.New("setfsgid did not take effect")
	}
	if got, _ := unix.SetfsuidRetUid(-1); got != int(uid) {
		return errors.New("setfsuid did not take effect")
	}
	return nil
}
