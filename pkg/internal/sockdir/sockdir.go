// Package sockdir gives tests a fresh directory whose path is short
// enough to hold Unix sockets, whatever TMPDIR and the test's name are.
package sockdir

import (
	"os"
	"testing"
)

// Base is where New makes its directories. It is not os.TempDir: a
// socket's address holds at most 107 bytes of path, and t.TempDir's
// path (TMPDIR, then the test's name, then a counter) exceeds that when
// TMPDIR or the name is long; "bind: invalid argument" is all the test
// would say.
const Base = "/tmp"

// New makes a fresh, empty directory under Base, removed when the test
// and its subtests end, and returns its path: /tmp/pt-NNNNNNNNN, 18
// bytes, which leaves 89 for the names under it.
func New(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp(Base, "pt-")
	if err != nil {
		t.Fatalf("create a directory for sockets: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	return dir
}
