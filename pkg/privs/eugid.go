// Work done as another user on the calling goroutine's own thread: the thread's effective IDs switched for the work and back, as Postfix's set_eugid does.

package privs

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Credential is the user AsUser works as.
type Credential struct {
	UID, GID int
	Groups   []int // supplementary groups; none when empty
}

// AsUser runs fn on the calling goroutine's thread with cred's effective
// user and group IDs and cred.Groups as supplementary groups, then
// switches the thread back and returns fn's error. The goroutine stays
// locked to its thread meanwhile, so nothing else runs with cred; the
// switch calls the kernel directly, so it changes this thread alone
// (Go's syscall.Setuid and friends would change every thread and stop
// the world to do it). Real and saved IDs stay the process's, which is
// what lets the thread switch back: a switch costs six system calls.
// The kernel clears the thread's effective capabilities while its effective
// user ID is not 0 (unless the process's securebits say otherwise, which
// AsUser refuses), so fn can do no more than cred may. fn must do its
// work in the calling goroutine: goroutines it starts run on other
// threads with the process's credentials. Nor may fn start a process: a
// child starts with the thread's credentials, real and saved user ID 0
// and all permitted capabilities, which it takes back at once (a shell
// does: dash and bash set the effective IDs to the real ones, root's);
// with SysProcAttr.Credential the fork fails (EPERM), the switched
// thread having no effective capability. Start a child outside AsUser,
// with SysProcAttr.Credential: it then switches its real, effective and
// saved IDs and groups and loses every capability before exec, as
// Postfix's set_ugid does (local's TestRootCommandCredentials).
//
// AsUser needs CAP_SETUID and CAP_SETGID. It refuses user ID 0. When the
// thread cannot be switched back (which the kernel does not do to a
// thread whose real user ID is 0), the goroutine stays locked to it, so
// the Go runtime ends the thread with the goroutine instead of reusing
// it, and AsUser returns an error.
func AsUser(cred Credential, fn func() error) error {
	if cred.UID <= 0 || cred.GID < 0 {
		return fmt.Errorf("refusing to work as uid %d gid %d", cred.UID, cred.GID)
	}
	orig, err := processCredentials()
	if err != nil {
		return err
	}
	// The supplementary groups are switched only when they differ (a
	// virtual(8) recipient has none, nor has a root daemon): two system
	// calls fewer per delivery.
	sameGroups := sameIDs(cred.Groups, orig.Groups)
	runtime.LockOSThread()
	changed, err := switchThreadEffective(cred, sameGroups)
	if err == nil {
		err = fn()
	}
	if changed {
		if rerr := restoreThread(orig, sameGroups); rerr != nil {
			// Left locked on purpose: this thread must not run other work.
			return fmt.Errorf("switch back to uid %d: %v", orig.UID, rerr)
		}
	}
	runtime.UnlockOSThread()
	return err
}

// processCredentials are the effective IDs and groups of the process's
// threads that AsUser has not switched, read once. It fails when the
// securebits keep the capabilities of a thread whose effective user ID
// changes from 0, since AsUser relies on their loss.
var processCredentials = sync.OnceValues(func() (Credential, error) {
	bits, err := unix.PrctlRetInt(unix.PR_GET_SECUREBITS, 0, 0, 0, 0)
	if err != nil {
		return Credential{}, fmt.Errorf("prctl(PR_GET_SECUREBITS): %s", errnoText(err))
	}
	if bits&secbitNoSetuidFixup != 0 {
		return Credential{}, fmt.Errorf("securebits %#x keep capabilities across a user ID switch", bits)
	}
	groups, err := unix.Getgroups()
	if err != nil {
		return Credential{}, fmt.Errorf("getgroups: %s", errnoText(err))
	}
	return Credential{UID: unix.Geteuid(), GID: unix.Getegid(), Groups: groups}, nil
})

// secbitNoSetuidFixup is SECBIT_NO_SETUID_FIXUP of <linux/securebits.h>:
// capabilities survive user ID switches.
const secbitNoSetuidFixup = 1 << 2

// keep is the "unchanged" argument of setresuid and setresgid.
const keep = ^uintptr(0)

// switchThreadEffective gives the calling thread, one of the process's, cred's
// supplementary groups (unless keepGroups: they are the thread's already)
// and effective group and user IDs, in that order (setgroups and setresgid
// need the privileges the last switch gives up). changed is false when
// the thread's credentials are still the process's.
func switchThreadEffective(cred Credential, keepGroups bool) (changed bool, err error) {
	if !keepGroups {
		if err := setThreadGroups(cred.Groups); err != nil {
			return false, err
		}
	}
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETRESGID, keep, uintptr(cred.GID), keep); errno != 0 {
		return true, fmt.Errorf("setresgid(-1, %d, -1): %s", cred.GID, errnoText(errno))
	}
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETRESUID, keep, uintptr(cred.UID), keep); errno != 0 {
		return true, fmt.Errorf("setresuid(-1, %d, -1): %s", cred.UID, errnoText(errno))
	}
	return true, nil
}

// restoreThread gives a thread switchThreadEffective switched the process's
// credentials orig back: the effective user ID first, whose privileges
// the rest needs; the groups unless keepGroups said they were not switched.
func restoreThread(orig Credential, keepGroups bool) error {
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETRESUID, keep, uintptr(orig.UID), keep); errno != 0 {
		return fmt.Errorf("setresuid(-1, %d, -1): %s", orig.UID, errnoText(errno))
	}
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETRESGID, keep, uintptr(orig.GID), keep); errno != 0 {
		return fmt.Errorf("setresgid(-1, %d, -1): %s", orig.GID, errnoText(errno))
	}
	if keepGroups {
		return nil
	}
	return setThreadGroups(orig.Groups)
}

// sameIDs reports whether a and b hold the same IDs, in any order.
func sameIDs(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// setThreadGroups sets the calling thread's supplementary groups.
func setThreadGroups(ids []int) error {
	var buf [16]uint32
	groups := buf[:0]
	for _, g := range ids {
		groups = append(groups, uint32(g))
	}
	var list unsafe.Pointer
	if len(groups) > 0 {
		list = unsafe.Pointer(&groups[0])
	}
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(list), 0); errno != 0 {
		return fmt.Errorf("setgroups(%v): %s", ids, errnoText(errno))
	}
	return nil
}
