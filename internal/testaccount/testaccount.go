// Package testaccount adds system users and groups for tests that run as
// root and removes them when the test ends. It lives at the module's root
// so that every package's tests, pkg/ and tests/ alike, can use it.
package testaccount

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// AddUser runs useradd with args and then name, and userdel name when
// the test ends.
func AddUser(t testing.TB, name string, args ...string) {
	t.Helper()
	add(t, "useradd", "userdel", name, args)
}

// AddGroup runs groupadd with args and then name, and groupdel name when
// the test ends.
func AddGroup(t testing.TB, name string, args ...string) {
	t.Helper()
	add(t, "groupadd", "groupdel", name, args)
}

// add runs tool, failing the test on an error, and has remove run when
// the test ends.
func add(t testing.TB, tool, remove, name string, args []string) {
	t.Helper()
	if err := run(tool, append(args, name)...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run(remove, name); err != nil {
			t.Error(err)
		}
	})
}

// run runs one of the shadow tools (useradd, userdel, groupadd,
// groupdel), trying again for up to 30 seconds while another process,
// such as a test running in parallel, holds the lock on /etc/passwd or
// /etc/group.
func run(tool string, args ...string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command(tool, args...).CombinedOutput()
		if err == nil {
			return nil
		}
		if !strings.Contains(string(out), "lock") || time.Now().After(deadline) {
			return fmt.Errorf("%s %s: %v: %s", tool, strings.Join(args, " "), err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
