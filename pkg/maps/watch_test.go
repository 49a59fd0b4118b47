// Tests that a Watcher reports rebuilt and edited tables.

package maps

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWatcherReportsRebuildAndEdit(t *testing.T) {
	dir := t.TempDir()
	indexed := filepath.Join(dir, "virtual")
	writeTable(t, indexed, []Entry{{"k", "v"}})
	text := filepath.Join(dir, "access")
	os.WriteFile(text, []byte("k v\n"), 0o644)
	unrelated := filepath.Join(dir, "other")

	w, err := NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, spec := range []string{"hash:" + indexed, "texthash:" + text, "inline:{a=b}"} {
		table, err := Open(spec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add(table); err != nil {
			t.Fatal(err)
		}
		table.Close()
	}

	os.WriteFile(unrelated, []byte("x"), 0o644)
	writeTable(t, indexed, []Entry{{"k", "new"}})
	expectChange(t, w, "hash:"+indexed)

	os.WriteFile(text, []byte("k changed\n"), 0o644)
	expectChange(t, w, "texthash:"+text)
}

// expectChange waits for a change of spec, skipping repeats of earlier
// changes, and fails on any other table.
func expectChange(t *testing.T, w *Watcher, spec string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case c := <-w.Changes():
			if c.Spec == spec {
				if want := "table " + spec + " has changed -- restarting"; c.String() != want {
					t.Errorf("String() = %q, want %q", c, want)
				}
				return
			}
			if filepath.Base(c.File) == "other" {
				t.Fatalf("change reported for an unwatched file: %+v", c)
			}
		case err := <-w.Errors():
			t.Fatal(err)
		case <-timeout:
			t.Fatalf("no change reported for %s", spec)
		}
	}
}

func TestWatcherClose(t *testing.T) {
	w, err := NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddFile(filepath.Join(t.TempDir(), "t.db"), "hash:t"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	select {
	case _, open := <-w.Changes():
		if open {
			t.Error("Changes delivered after Close")
		}
	case <-time.After(30 * time.Second):
		t.Error("Changes not closed after Close")
	}
}

func TestWatcherMissingDirectory(t *testing.T) {
	w, err := NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.AddFile("/nonexistent/dir/t.db", "hash:/nonexistent/dir/t"); err == nil {
		t.Error("watching a file in a missing directory succeeded")
	}
}
