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
// searchable by all, parent included, so a program run as another user
// (Unprivileged) or a daemon that dropped privileges reaches it.
func SharedTempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatalf("chmod %s: %v", d, err)
		}
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
