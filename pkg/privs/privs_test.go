// Tests for the mail_owner lookup and error wording.

package privs

import (
	"errors"
	"os/user"
	"strconv"
	"syscall"
	"testing"
)

func TestLookupMailOwnerRefusals(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"root", "file /etc/postfix/main.cf: parameter mail_owner: user root has privileged user ID"},
		{"no-such-user-postern", "file /etc/postfix/main.cf: parameter mail_owner: unknown user name value: no-such-user-postern"},
	}
	for _, tt := range tests {
		_, err := LookupMailOwner("/etc/postfix/main.cf", tt.name)
		if err == nil || err.Error() != tt.want {
			t.Errorf("LookupMailOwner(%q) error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestLookupMailOwnerIDs(t *testing.T) {
	name := testMailOwner(t)
	u, err := LookupMailOwner("main.cf", name)
	if err != nil {
		t.Fatal(err)
	}
	osu, _ := user.Lookup(name)
	if u.Name != name || u.UID == 0 || osu.Uid != strconv.Itoa(u.UID) || osu.Gid != strconv.Itoa(u.GID) {
		t.Errorf("got %+v, os/user says uid %s gid %s", u, osu.Uid, osu.Gid)
	}
}

func TestErrnoText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{syscall.ENOENT, "No such file or directory"},
		{&wrapped{syscall.EPERM}, "Operation not permitted"},
		{errors.New("plain"), "Plain"},
	}
	for _, tt := range tests {
		if got := errnoText(tt.err); got != tt.want {
			t.Errorf("errnoText(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "op: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

// testMailOwner returns the account the tests drop to: postfix, which
// exists in CI; the test is skipped where it does not.
func testMailOwner(t *testing.T) string {
	t.Helper()
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("no postfix user on this machine (useradd --system postfix): %v", err)
	}
	return "postfix"
}
