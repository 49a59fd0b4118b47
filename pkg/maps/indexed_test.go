// Tests of hash/btree tables: building, opening, folding, errors, atomic
// replacement and file modes.

package maps

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeTable(t *testing.T, name string, entries []Entry) {
	t.Helper()
	if err := WriteIndexed(IndexedPath(name), entries, nil); err != nil {
		t.Fatal(err)
	}
}

func mustLookup(t *testing.T, table Table, key string) (string, bool) {
	t.Helper()
	v, ok, err := table.Lookup(key)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", key, err)
	}
	return v, ok
}

func TestIndexedLookup(t *testing.T) {
	name := filepath.Join(t.TempDir(), "virtual")
	writeTable(t, name, []Entry{{"user@example.com", "local"}, {"MiXed", "kept"}, {"a", "1"}})
	tests := []struct {
		typ    string
		opts   Options
		key    string
		value  string
		exists bool
	}{
		{"hash", Options{}, "user@example.com", "local", true},
		{"hash", Options{}, "USER@Example.COM", "local", true},
		{"btree", Options{}, "a", "1", true},
		{"hash", Options{}, "nothere", "", false},
		{"hash", Options{}, "", "", false},
		{"hash", Options{}, "MiXed", "", false}, // stored unfolded, query folded
		{"hash", Options{NoFold: true}, "MiXed", "kept", true},
		{"hash", Options{NoFold: true}, "A", "", false},
	}
	for _, tt := range tests {
		table, err := Open(tt.typ+":"+name, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := mustLookup(t, table, tt.key); v != tt.value || ok != tt.exists {
			t.Errorf("%s Lookup(%q) = %q, %v; want %q, %v", tt.typ, tt.key, v, ok, tt.value, tt.exists)
		}
		if got := table.Spec(); got != tt.typ+":"+name {
			t.Errorf("Spec() = %q", got)
		}
		if got := FilesOf(table); len(got) != 1 || got[0] != name+".db" {
			t.Errorf("Files() = %q", got)
		}
		table.Close()
	}
}

func TestIndexedOpenErrors(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign")
	// A Berkeley DB hash file starts with a header bbolt cannot read.
	if err := os.WriteFile(foreign+".db", append([]byte{0, 0, 0, 0, 1, 0, 0, 0, 0x61, 0x15, 0x06, 0}, make([]byte, 4096)...), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty+".db", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ spec, want string }{
		{"hash:" + dir + "/missing", "open database " + dir + "/missing.db: No such file or directory"},
		{"btree:" + foreign, "open database " + foreign + ".db: not a Postern table file (perhaps built by another program); rebuild it with postmap or postalias"},
		{"hash:" + empty, "open database " + empty + ".db: not a Postern table file (perhaps built by another program); rebuild it with postmap or postalias"},
		{"nosuch:/x", "unsupported dictionary type: nosuch"},
		{"hash", `open dictionary: expecting "type:name" form instead of "hash"`},
		{"static:", `open dictionary: expecting "type:name" form instead of "static:"`},
	}
	for _, tt := range tests {
		table, err := Open(tt.spec, Options{})
		if err == nil {
			table.Close()
			t.Errorf("Open(%q) succeeded", tt.spec)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Open(%q) error = %q, want %q", tt.spec, err, tt.want)
		}
	}
}

func TestIndexedReplaceIsAtomicForReaders(t *testing.T) {
	name := filepath.Join(t.TempDir(), "t")
	writeTable(t, name, []Entry{{"k", "old"}})
	reader, err := Open("hash:"+name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	done := make(chan error, 1)
	go func() { done <- WriteIndexed(IndexedPath(name), []Entry{{"k", "new"}}, nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("rebuild blocked by an open reader")
	}
	if v, _ := mustLookup(t, reader, "k"); v != "old" {
		t.Errorf("open reader sees %q, want the table it opened", v)
	}
	fresh, err := Open("hash:"+name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if v, _ := mustLookup(t, fresh, "k"); v != "new" {
		t.Errorf("reopened table gives %q, want new", v)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(name), ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %q", leftovers)
	}
}

func TestWriteIndexedMode(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		sourceMode, want os.FileMode
	}{
		{0o644, 0o644},
		{0o640, 0o640},
		{0o600, 0o600},
		{0o604, 0o604},
		{0o666, 0o644},
	}
	defer syscall.Umask(syscall.Umask(0))
	for _, tt := range tests {
		src := filepath.Join(dir, "src"+tt.sourceMode.String())
		if err := os.WriteFile(src, []byte("a b\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(src, tt.sourceMode)
		info, _ := os.Stat(src)
		if err := WriteIndexed(IndexedPath(src), []Entry{{"a", "b"}}, info); err != nil {
			t.Fatal(err)
		}
		got, _ := os.Stat(IndexedPath(src))
		if got.Mode().Perm() != tt.want {
			t.Errorf("source %v: db mode %v, want %v", tt.sourceMode, got.Mode().Perm(), tt.want)
		}
		// A rebuild keeps the mode of the file it replaces.
		os.Chmod(IndexedPath(src), 0o600)
		if err := WriteIndexed(IndexedPath(src), nil, info); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.Stat(IndexedPath(src)); got.Mode().Perm() != 0o600 {
			t.Errorf("rebuild changed mode to %v", got.Mode().Perm())
		}
	}
}

func TestIndexedWalkAndCheckSource(t *testing.T) {
	name := filepath.Join(t.TempDir(), "t")
	os.WriteFile(name, []byte("b 2\na 1\n"), 0o644)
	writeTable(t, name, []Entry{{"b", "2"}, {"a", "1"}})
	past := time.Now().Add(-time.Hour)
	os.Chtimes(name, past, past)
	table, err := Open("hash:"+name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer table.Close()
	var got []string
	table.(Walker).Walk(func(k, v string) bool { got = append(got, k+"="+v); return true })
	if strings.Join(got, ",") != "a=1,b=2" {
		t.Errorf("Walk = %q", got)
	}
	checker := table.(SourceChecker)
	if w := checker.CheckSource(); w != "" {
		t.Errorf("fresh table: CheckSource() = %q", w)
	}
	future := time.Now().Add(time.Hour)
	os.Chtimes(name, future, future)
	want := "database " + name + ".db is older than source file " + name
	if w := checker.CheckSource(); w != want {
		t.Errorf("stale table: CheckSource() = %q, want %q", w, want)
	}
}

func TestEntrySetPolicies(t *testing.T) {
	tests := []struct {
		policy   DuplicatePolicy
		value    string
		warnings int
	}{
		{KeepFirstWarn, "one", 1},
		{KeepFirstSilent, "one", 0},
		{Replace, "two", 0},
	}
	for _, tt := range tests {
		set := NewEntrySet(tt.policy)
		warnings := 0
		for _, v := range []string{"one", "two"} {
			if set.Add("dup", v) {
				warnings++
			}
		}
		set.Add("other", "x")
		got := set.Entries()
		if len(got) != 2 || got[0] != (Entry{"dup", tt.value}) || warnings != tt.warnings {
			t.Errorf("policy %d: entries %v, %d warnings", tt.policy, got, warnings)
		}
		if !set.Delete("dup") || set.Delete("dup") || len(set.Entries()) != 1 {
			t.Errorf("policy %d: Delete misbehaves", tt.policy)
		}
		set.Add("dup", "again")
		if got := set.Entries(); len(got) != 2 || got[0] != (Entry{"dup", "again"}) {
			t.Errorf("policy %d: re-added key gives %v", tt.policy, got)
		}
	}
}

func TestIndexedUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	name := filepath.Join(t.TempDir(), "t")
	writeTable(t, name, []Entry{{"a", "b"}})
	os.Chmod(name+".db", 0)
	_, err := Open("hash:"+name, Options{})
	if want := "open database " + name + ".db: Permission denied"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
