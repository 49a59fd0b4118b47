// Writes configuration directories and table files for tests, dated in the past.

package harness

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// FileAge is how far in the past WriteFile dates a file. Postfix re-reads
// a configuration file whose modification time is within a second of the
// read (it may still be changing), which repeats every warning it prints
// and sleeps; backdated files are read once by Postfix and Postern alike.
const FileAge = time.Hour

// SharedTempDir makes a fresh directory (removed when the test ends)
// searchable by all, so a program run as another user (Unprivileged) or a
// daemon that dropped privileges reaches it. Its name is short and does
// not hold the test's, unlike t.TempDir's, and it is under /tmp, not
// TMPDIR: the sockets of an instance (spool/private/SERVICE) must fit the
// 108 bytes of a unix socket address whatever the test's name and
// however long TMPDIR is. The test's own
// t.TempDir directories are made reachable too: tests keep the tables
// and certificates the daemons read there.
func SharedTempDir(t testing.TB) string {
	t.Helper()
	testDir := filepath.Dir(t.TempDir())
	if err := os.Chmod(testDir, 0o755); err != nil {
		t.Fatalf("chmod %s: %v", testDir, err)
	}
	dir, err := os.MkdirTemp("/tmp", "postern-")
	if err != nil {
		t.Fatalf("create a temporary directory: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("chmod %s: %v", dir, err)
	}
	return dir
}

// NewConfigDir makes a fresh directory (removed when the test ends) holding
// files, a map from relative name ("main.cf", "maps/virtual") to content,
// and returns its path.
func NewConfigDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := SharedTempDir(t)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		WriteFile(t, filepath.Join(dir, name), files[name])
	}
	return dir
}

// WriteFile writes content to path (mode 0644, parent directories made as
// needed) and dates it FileAge in the past.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("create directory for %s: %v", path, err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	past := time.Now().Add(-FileAge)
	if err := os.Chtimes(path, past, past); err != nil {
		t.Fatalf("date %s: %v", path, err)
	}
}
