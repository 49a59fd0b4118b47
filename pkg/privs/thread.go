// Work done with another user's credentials on one thread of this process: deliveries as the recipient without a child process.

package privs

import (
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Credential is the user a RunAs call works as.
type Credential struct {
	UID, GID int
	Groups   []int // supplementary groups; none when empty
}

// RunAs runs fn on an operating system thread of its own whose real,
// effective and saved user and group IDs are cred's and whose
// supplementary groups are cred.Groups, and returns fn's error. Linux
// keeps credentials per thread and the switch calls the kernel directly
// (Go's syscall.Setuid and friends would change every thread), so the
// rest of the process keeps its own. The thread is never the main thread
// and never serves anything else: its goroutine ends locked to it, which
// makes the Go runtime end the thread, and the runtime starts new threads
// from a clean one, never from a locked one. fn must do its work in the calling goroutine:
// goroutines it starts run on other threads with the process's
// credentials.
//
// RunAs needs CAP_SETUID and CAP_SETGID. It refuses user ID 0 and checks
// the switch (IDs, groups, no capability left) before fn runs.
func RunAs(cred Credential, fn func() error) error {
	if cred.UID <= 0 || cred.GID < 0 {
		return fmt.Errorf("refusing to work as uid %d gid %d", cred.UID, cred.GID)
	}
	done := make(chan error, 1)
	go runLocked(cred, fn, done)
	return <-done
}

// runLocked is RunAs's goroutine: it locks itself to its thread, switches
// the thread and runs fn. On the main thread it does neither: that thread
// stands for the process (in /proc, for kill's permission check) and the
// runtime never ends it, so it is held while another goroutine, which can
// then not land on it, does the work.
func runLocked(cred Credential, fn func() error, done chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		inner := make(chan error, 1)
		go runLocked(cred, fn, inner)
		done <- <-inner
		runtime.UnlockOSThread()
		return
	}
	// No UnlockOSThread: the thread ends with this goroutine.
	if err := switchThread(cred); err != nil {
		done <- err
		return
	}
	done <- fn()
}

// switchThread gives the calling thread cred's groups, group and user, in
// that order (setgroups and setresgid need the privileges setresuid gives
// up), and verifies the result.
func switchThread(cred Credential) error {
	groups := make([]uint32, len(cred.Groups))
	for i, g := range cred.Groups {
		groups[i] = uint32(g)
	}
	var list unsafe.Pointer
	if len(groups) > 0 {
		list = unsafe.Pointer(&groups[0])
	}
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(list), 0); errno != 0 {
		return fmt.Errorf("setgroups(%v): %s", cred.Groups, errnoText(errno))
	}
	gid, uid := uintptr(cred.GID), uintptr(cred.UID)
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETRESGID, gid, gid, gid); errno != 0 {
		return fmt.Errorf("setresgid(%d): %s", cred.GID, errnoText(errno))
	}
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETRESUID, uid, uid, uid); errno != 0 {
		return fmt.Errorf("setresuid(%d): %s", cred.UID, errnoText(errno))
	}
	return verifyThread(cred)
}

// verifyThread checks the calling thread's credentials against cred.
func verifyThread(cred Credential) error {
	ruid, euid, suid := unix.Getresuid()
	rgid, egid, sgid := unix.Getresgid()
	if ruid != cred.UID || euid != cred.UID || suid != cred.UID {
		return fmt.Errorf("switch to uid %d failed: user IDs are %d %d %d", cred.UID, ruid, euid, suid)
	}
	if rgid != cred.GID || egid != cred.GID || sgid != cred.GID {
		return fmt.Errorf("switch to gid %d failed: group IDs are %d %d %d", cred.GID, rgid, egid, sgid)
	}
	groups, err := unix.Getgroups()
	if err != nil {
		return fmt.Errorf("getgroups: %s", errnoText(err))
	}
	want := slices.Clone(cred.Groups)
	slices.Sort(groups)
	slices.Sort(want)
	if !slices.Equal(groups, want) {
		return fmt.Errorf("switch to groups %v failed: groups are %v", cred.Groups, groups)
	}
	caps, err := EffectiveCapabilities()
	if err != nil {
		return err
	}
	if caps != 0 {
		return fmt.Errorf("effective capabilities remain after the switch to uid %d: %#016x", cred.UID, caps)
	}
	return nil
}
