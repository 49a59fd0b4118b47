package testaccount

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"testing"
)

// A user and a group added in a subtest exist during it and are gone
// once it ends.
func TestAddedAccountsLastAsLongAsTheTest(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("useradd needs root (runs in CI as root)")
	}
	for _, tool := range []string{"useradd", "groupadd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	random := make([]byte, 3)
	rand.Read(random)
	name := "ta" + hex.EncodeToString(random)
	group := name + "g"
	t.Run("add", func(t *testing.T) {
		AddGroup(t, group)
		AddUser(t, name, "-M", "-U", "-G", group, "-d", "/nonexistent", "-s", "/usr/sbin/nologin")
		if _, err := user.Lookup(name); err != nil {
			t.Errorf("user %s after AddUser: %v", name, err)
		}
		if _, err := user.LookupGroup(group); err != nil {
			t.Errorf("group %s after AddGroup: %v", group, err)
		}
	})
	if _, err := user.Lookup(name); err == nil {
		t.Errorf("user %s is still there after the test that added it", name)
	}
	if _, err := user.LookupGroup(group); err == nil {
		t.Errorf("group %s is still there after the test that added it", group)
	}
}
