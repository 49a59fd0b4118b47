package qmgr

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestIncomingWatchNamesChangedFiles: a create, a chmod and a rename into
// the directory name their files, once each and sorted; a write alone
// does not (a file is made ready by its chmod); once the directory is
// gone every later answer asks for a full scan.
func TestIncomingWatchNamesChangedFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "incoming")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(path string) {
		t.Helper()
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "B"))
	write(filepath.Join(dir, "D"))
	write(filepath.Join(root, "C"))
	w := watchIncoming(dir)
	if w == nil {
		t.Skip("no inotify here")
	}
	defer w.close()
	if names, complete := w.changed(); len(names) != 0 || !complete {
		t.Fatalf("before any change: %q, complete %v; want none, complete", names, complete)
	}
	write(filepath.Join(dir, "A"))
	if err := os.Chmod(filepath.Join(dir, "B"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "A"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "C"), filepath.Join(dir, "C")); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "D"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("more"))
	f.Close()
	names, complete := w.changed()
	if want := []string{"A", "B", "C"}; !reflect.DeepEqual(names, want) || !complete {
		t.Errorf("changed %q, complete %v; want %q, complete", names, complete, want)
	}
	if names, complete := w.changed(); len(names) != 0 || !complete {
		t.Errorf("again: %q, complete %v; want none, complete", names, complete)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, complete := w.changed(); complete {
		t.Error("the directory is gone, yet the answer is complete")
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dir, "E"))
	if _, complete := w.changed(); complete {
		t.Error("the watch ended with its directory, yet a later answer is complete")
	}
}
