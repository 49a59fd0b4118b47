// Fuzz test of the hash/btree reader: a damaged or foreign NAME.db gives an error, never a panic or a hang.

package maps

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzIndexedFile(f *testing.F) {
	dir := f.TempDir()
	db := filepath.Join(dir, "seed.db")
	if err := WriteIndexed(db, []Entry{{Key: "a@example.com", Value: "OK"}, {Key: "example.com", Value: "REJECT x"}}, nil); err != nil {
		f.Fatal(err)
	}
	valid, err := os.ReadFile(db)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, off := range []int{0, 16, 4096, 4096 + 16, 8192, 12288} {
		if off < len(valid) {
			damaged := append([]byte(nil), valid...)
			damaged[off] ^= 0xff
			f.Add(damaged)
		}
	}
	f.Add(valid[:4096])
	f.Add([]byte{})
	f.Add([]byte("\x00\x06\x15\x61 Berkeley DB hash"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "t")
		if err := os.WriteFile(path+".db", data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{"hash", "btree"} {
			tb, err := Open(typ+":"+path, Options{})
			if err != nil {
				continue
			}
			tb.Lookup("a@example.com")
			tb.Lookup("example.com")
			if w, ok := tb.(Walker); ok {
				n := 0
				w.Walk(func(string, string) bool { n++; return n < 10000 })
			}
			tb.Close()
		}
		ReadIndexed(path + ".db")
	})
}
