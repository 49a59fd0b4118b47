// Package privs gives up root the way Postfix daemons do: look up
// mail_owner, chroot into the queue directory, drop to mail_owner's user and
// primary group, set no_new_privs, and check that nothing privileged is left.
package privs

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"syscall"
)

// User is the account a daemon drops to: mail_owner.
type User struct {
	Name string
	UID  int
	GID  int // the primary group, also the only supplementary group after Drop
}

// LookupMailOwner finds the mail_owner account named name, as configured in
// mainCF (the main.cf path, used in the error). Like Postfix it refuses an
// unknown name and an account with user ID 0.
func LookupMailOwner(mainCF, name string) (*User, error) {
	u, err := user.Lookup(name)
	if err != nil {
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			return nil, fmt.Errorf("file %s: parameter mail_owner: unknown user name value: %s", mainCF, name)
		}
		return nil, fmt.Errorf("file %s: parameter mail_owner: look up user %s: %w", mainCF, name, err)
	}
	owner, err := fromOSUser(u)
	if err != nil {
		return nil, fmt.Errorf("file %s: parameter mail_owner: %w", mainCF, err)
	}
	if owner.UID == 0 {
		return nil, fmt.Errorf("file %s: parameter mail_owner: user %s has privileged user ID", mainCF, name)
	}
	return owner, nil
}

// fromOSUser converts an os/user entry.
func fromOSUser(u *user.User) (*User, error) {
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("user %s: bad user ID %q", u.Username, u.Uid)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("user %s: bad group ID %q", u.Username, u.Gid)
	}
	return &User{Name: u.Username, UID: uid, GID: gid}, nil
}

// IsRoot reports whether the process runs with real or effective user ID 0.
func IsRoot() bool {
	return syscall.Getuid() == 0 || syscall.Geteuid() == 0
}

// errnoText words a system call error as Postfix's %m does: the C library
// text with a capital first letter ("No such file or directory").
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		err = errno
	}
	msg := err.Error()
	if msg != "" && msg[0] >= 'a' && msg[0] <= 'z' {
		msg = string(msg[0]-'a'+'A') + msg[1:]
	}
	return msg
}
