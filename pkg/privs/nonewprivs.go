// no_new_privs on every thread, so that no exec can gain privileges.

package privs

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// EarlyNoNewPrivsEnv, set to "1" by master (with POSTERN_MASTER=1) in the
// environment of a daemon that is to run with no_new_privs, has a program
// linked with cgo set the flag at its start, before any thread exists
// (earlynnp_cgo.go), so that EnsureNoNewPrivs need not re-execute it. A
// program without cgo ignores it: it sets the flag on all its threads.
const EarlyNoNewPrivsEnv = "POSTERN_NO_NEW_PRIVS"

// ErrAllThreadsUnsupported is returned by SetNoNewPrivs in a program linked
// with cgo, where Go cannot run a system call on every thread.
var ErrAllThreadsUnsupported = errors.New("prctl(PR_SET_NO_NEW_PRIVS): cannot reach every thread of a cgo program")

// HasNoNewPrivs reports whether no_new_privs is set on the calling thread
// (set on one thread before the program started, it is set on all).
func HasNoNewPrivs() (bool, error) {
	v, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		return false, fmt.Errorf("prctl(PR_GET_NO_NEW_PRIVS): %s", errnoText(err))
	}
	return v == 1, nil
}

// SetNoNewPrivs sets no_new_privs on every thread of the process. A program
// linked with cgo gets ErrAllThreadsUnsupported and should use
// EnsureNoNewPrivs, which re-executes it instead.
func SetNoNewPrivs() error {
	_, _, errno := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0)
	switch errno {
	case 0:
		return nil
	case syscall.ENOTSUP:
		return ErrAllThreadsUnsupported
	}
	return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %s", errnoText(errno))
}

// EnsureNoNewPrivs makes sure every thread has no_new_privs. When the flag
// is already set it does nothing. Otherwise it sets it on all threads, or,
// in a cgo program, sets it on the calling thread and re-executes the
// program (/proc/self/exe, same arguments, environment and open file
// descriptors) from that thread, so that the new program starts with the
// flag everywhere; on success that path does not return. Call it early,
// before the program has done anything it would have to repeat.
func EnsureNoNewPrivs() error {
	set, err := HasNoNewPrivs()
	if err != nil || set {
		return err
	}
	err = SetNoNewPrivs()
	if !errors.Is(err, ErrAllThreadsUnsupported) {
		return err
	}
	return reexecWithNoNewPrivs()
}

// reexecWithNoNewPrivs sets no_new_privs on the calling thread and replaces
// the program with itself from that thread. It returns only on failure.
func reexecWithNoNewPrivs() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %s", errnoText(err))
	}
	const self = "/proc/self/exe"
	if err := syscall.Exec(self, os.Args, os.Environ()); err != nil {
		return fmt.Errorf("execve(%s): %s", self, errnoText(err))
	}
	return nil
}
