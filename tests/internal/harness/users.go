// Runs programs as an unprivileged user when the tests run as root.

package harness

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// UnprivilegedUser is the account Unprivileged hands to programs that
// must not be able to write outside their test directory.
const UnprivilegedUser = "nobody"

// Unprivileged prepares dir for a program run with Invocation.AsUser set
// to the returned name: when the test runs as root, dir and everything in
// it is given to UnprivilegedUser, so the program can write there and
// nowhere else that root owns. When not root it returns "" and changes
// nothing (the program already runs unprivileged).
func Unprivileged(t testing.TB, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return ""
	}
	cred, err := credential(UnprivilegedUser)
	if err != nil {
		t.Fatalf("unprivileged user: %v", err)
	}
	err = filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(cred.Uid), int(cred.Gid))
	})
	if err != nil {
		t.Fatalf("give %s to %s: %v", dir, UnprivilegedUser, err)
	}
	return UnprivilegedUser
}

// credential looks up name's user and primary group ids.
func credential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("look up user %s: %w", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}
