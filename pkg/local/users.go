// Recipient accounts: the passwd entry local(8) needs and the credentials a delivery runs with.

package local

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"syscall"

	"github.com/postern/postern/pkg/privs"
)

// User is a passwd entry.
type User struct {
	Name  string
	UID   uint32
	GID   uint32
	Home  string
	Shell string
}

// Credential is the credential a child process runs with as u: u's
// user and group IDs with that group as the only one, never u's
// supplementary groups, as Postfix's set_ugid.
func (u *User) Credential() *syscall.Credential {
	return &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: []uint32{u.GID}}
}

// ThreadCredential is the credential a mailbox or file delivery as u
// runs with: the delivering thread's effective IDs (privs.AsUser), u's
// user and group IDs with that group as the only one, never u's
// supplementary groups, as Postfix's set_eugid.
func (u *User) ThreadCredential() privs.Credential {
	return privs.Credential{UID: int(u.UID), GID: int(u.GID), Groups: []int{int(u.GID)}}
}

// UserLookup finds a user by name: nil and no error when there is none.
type UserLookup func(name string) (*User, error)

// UserLookupByID finds a user by uid: nil and no error when there is none.
type UserLookupByID func(uid uint32) (*User, error)

// SystemUser looks name up in the system's user database.
func SystemUser(name string) (*User, error) {
	u, err := user.Lookup(name)
	if errors.As(err, new(user.UnknownUserError)) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lookup user %s: %w", name, err)
	}
	return fromSystem(u)
}

// SystemUserByID looks uid up in the system's user database.
func SystemUserByID(uid uint32) (*User, error) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if errors.As(err, new(user.UnknownUserIdError)) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lookup uid %d: %w", uid, err)
	}
	return fromSystem(u)
}

func fromSystem(u *user.User) (*User, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: bad uid %q", u.Username, u.Uid)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: bad gid %q", u.Username, u.Gid)
	}
	return &User{Name: u.Username, UID: uint32(uid), GID: uint32(gid), Home: u.HomeDir, Shell: "/bin/sh"}, nil
}
