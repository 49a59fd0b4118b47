package supervisor

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// currentUser is the Owner master uses when not running as root.
func currentUser() Owner {
	return Owner{UID: os.Getuid(), GID: os.Getgid(), SetgidGID: os.Getgid(), OwnerName: "me", SetgidGroup: "mine"}
}

func TestCreateQueueDirs(t *testing.T) {
	base := t.TempDir()
	s := Settings{QueueDir: filepath.Join(base, "spool"), DataDir: filepath.Join(base, "data")}
	if err := CreateQueueDirs(s, currentUser()); err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{
		"active": 0o700, "bounce": 0o700, "corrupt": 0o700, "defer": 0o700, "deferred": 0o700,
		"flush": 0o700, "hold": 0o700, "incoming": 0o700, "maildrop": 0o730, "pid": 0o755,
		"private": 0o700, "public": 0o710, "saved": 0o700, "trace": 0o700,
	}
	entries, err := os.ReadDir(s.QueueDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if mode, ok := want[e.Name()]; !ok {
			t.Errorf("unexpected %s", e.Name())
		} else if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %o, want %o", e.Name(), fi.Mode().Perm(), mode)
		}
	}
	if len(names) != len(want) {
		sort.Strings(names)
		t.Errorf("created %v, want %d directories", names, len(want))
	}
	if fi, err := os.Stat(s.DataDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data_directory: %v, %v", fi, err)
	}
	if w := CheckQueueDirs(s, currentUser()); len(w) != 0 {
		t.Errorf("fresh layout has warnings: %q", w)
	}
}

func TestCheckQueueDirsWarnings(t *testing.T) {
	base := t.TempDir()
	s := Settings{QueueDir: filepath.Join(base, "spool")}
	if err := CreateQueueDirs(s, currentUser()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(s.QueueDir, "pid"), 0o777); err != nil {
		t.Fatal(err)
	}
	other := currentUser()
	other.UID++
	other.OwnerName = "postfix"
	got := CheckQueueDirs(s, other)
	want := []string{
		"group or other writable: " + s.QueueDir + "/pid",
		"not owned by postfix: " + s.QueueDir + "/active",
	}
	for _, w := range want {
		if !contains(got, w) {
			t.Errorf("warnings %q lack %q", got, w)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
