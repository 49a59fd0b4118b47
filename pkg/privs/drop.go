// Chroot and the switch to mail_owner, verified afterwards.

package privs

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Drop chroots into root, when root is not empty, and switches every thread
// of the process to u's primary group and user, when u is not nil: as
// Postfix's set_ugid, the primary group is the only supplementary group
// left, whatever other groups the account belongs to. It must
// run as root. After the switch it verifies that no user or group ID is 0
// any more and that no capability is left, and fails otherwise.
func Drop(root string, u *User) error {
	if root != "" {
		if err := syscall.Chroot(root); err != nil {
			return fmt.Errorf("chroot(%s): %s", root, errnoText(err))
		}
		if err := syscall.Chdir("/"); err != nil {
			return fmt.Errorf("chdir(/): %s", errnoText(err))
		}
	}
	if u == nil {
		return nil
	}
	// Go applies these three to every thread of the process (Linux, Go 1.16+).
	if err := syscall.Setgroups([]int{u.GID}); err != nil {
		return fmt.Errorf("setgroups(1, &%d): %s", u.GID, errnoText(err))
	}
	if err := syscall.Setgid(u.GID); err != nil {
		return fmt.Errorf("setgid(%d): %s", u.GID, errnoText(err))
	}
	if err := syscall.Setuid(u.UID); err != nil {
		return fmt.Errorf("setuid(%d): %s", u.UID, errnoText(err))
	}
	return VerifyDropped(u)
}

// VerifyDropped checks that the real, effective and saved user and group IDs
// are u's, none of them 0, and that the effective capability set is empty.
func VerifyDropped(u *User) error {
	ruid, euid, suid := unix.Getresuid()
	rgid, egid, sgid := unix.Getresgid()
	for _, id := range []int{ruid, euid, suid} {
		if id == 0 || id != u.UID {
			return fmt.Errorf("privilege drop to %s failed: user IDs are %d %d %d, want %d", u.Name, ruid, euid, suid, u.UID)
		}
	}
	for _, id := range []int{rgid, egid, sgid} {
		if id == 0 || id != u.GID {
			return fmt.Errorf("privilege drop to %s failed: group IDs are %d %d %d, want %d", u.Name, rgid, egid, sgid, u.GID)
		}
	}
	return CheckNoCapabilities()
}

// CheckNoCapabilities fails when the calling thread has any effective
// capability. It asks the kernel (capget), so it works inside a chroot
// without /proc.
func CheckNoCapabilities() error {
	caps, err := EffectiveCapabilities()
	if err != nil {
		return err
	}
	if caps != 0 {
		return fmt.Errorf("effective capabilities remain after the privilege drop: %#016x", caps)
	}
	return nil
}

// EffectiveCapabilities returns the calling thread's effective capability
// set as a bit mask (bit n is capability n).
func EffectiveCapabilities() (uint64, error) {
	header := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&header, &data[0]); err != nil {
		return 0, fmt.Errorf("capget: %s", errnoText(err))
	}
	return uint64(data[1].Effective)<<32 | uint64(data[0].Effective), nil
}
