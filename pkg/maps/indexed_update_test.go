package maps

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenUpdatable(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "cache")
	// A table postmap built can be updated, and keeps its keys as given.
	if err := WriteIndexed(IndexedPath(name), []Entry{{Key: "a@x", Value: "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	tbl, err := OpenUpdatable("btree:"+name, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Put("Mixed@X", "2"); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Delete("a@x"); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Delete("missing"); err != nil {
		t.Errorf("delete of a missing key: %v", err)
	}
	var got []string
	tbl.Walk(func(k, v string) bool { got = append(got, k+"="+v); return true })
	if strings.Join(got, ",") != "Mixed@X=2" {
		t.Errorf("entries %q", got)
	}
	if err := tbl.Close(); err != nil {
		t.Fatal(err)
	}
	// Daemons read what it wrote.
	ro, err := Open("hash:"+name, Options{NoFold: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if v, found, err := ro.Lookup("Mixed@X"); err != nil || !found || v != "2" {
		t.Errorf("lookup: %q %v %v", v, found, err)
	}

	if _, err := OpenUpdatable("texthash:"+name, 0o644); err == nil || !strings.Contains(err.Error(), `table type "texthash" cannot be updated`) {
		t.Errorf("texthash: %v", err)
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(IndexedPath(other), []byte("not bbolt at all, just text that is long enough to read"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenUpdatable("btree:"+other, 0o644); err == nil || !strings.Contains(err.Error(), "not a Postern table file") {
		t.Errorf("foreign file: %v", err)
	}
	if _, err := OpenUpdatable("btree:"+filepath.Join(dir, "no", "dir"), 0o644); err == nil || !strings.Contains(err.Error(), "No such file or directory") {
		t.Errorf("missing directory: %v", err)
	}
}
