// Tests of the directory descriptors the syncer keeps open between rounds.

package queue

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// testDirFiles returns an empty cache whose descriptors are closed when
// the test ends.
func testDirFiles(t *testing.T) *dirFiles {
	f := &dirFiles{}
	t.Cleanup(func() {
		for _, d := range f.dirs {
			if d.fd >= 0 {
				unix.Close(d.fd)
			}
		}
	})
	return f
}

func TestDirFilesKeepsOneDescriptorPerDirectory(t *testing.T) {
	f := testDirFiles(t)
	dir := t.TempDir()
	if err := f.fsync(dir); err != nil {
		t.Fatal(err)
	}
	first := f.dirs[dir]
	if first == nil || first.fd < 0 {
		t.Fatalf("no descriptor kept for %s", dir)
	}
	fd := first.fd
	for range 3 {
		if err := f.fsync(dir); err != nil {
			t.Fatal(err)
		}
	}
	if d := f.dirs[dir]; d != first || d.fd != fd {
		t.Errorf("descriptor %d replaced by %d", fd, d.fd)
	}
	if first.ino != inode(t, dir) {
		t.Errorf("kept inode %d, directory has %d", first.ino, inode(t, dir))
	}
}

func TestDirFilesReopensADirectoryMadeAgain(t *testing.T) {
	f := testDirFiles(t)
	dir := filepath.Join(t.TempDir(), "incoming")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := f.fsync(dir); err != nil {
		t.Fatal(err)
	}
	// Keep the old directory's inode from being reused at once.
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := f.fsync(dir); err != nil {
		t.Fatal(err)
	}
	d := f.dirs[dir]
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		t.Fatal(err)
	}
	if want := inode(t, dir); st.Ino != want || d.ino != want {
		t.Errorf("synced inode %d (kept %d), directory is now %d", st.Ino, d.ino, want)
	}
	// A directory that is gone is an error, and its descriptor is let go.
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := f.fsync(dir); err == nil {
		t.Error("fsync of a removed directory succeeded")
	}
	if d.fd >= 0 {
		t.Errorf("descriptor %d of a removed directory kept", d.fd)
	}
}

func TestDirFilesBeyondTheLimit(t *testing.T) {
	f := testDirFiles(t)
	root := t.TempDir()
	for i := range maxOpenDirs + 5 {
		dir := filepath.Join(root, strconv.Itoa(i))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := f.fsync(dir); err != nil {
			t.Fatalf("directory %d: %v", i, err)
		}
	}
	if len(f.dirs) != maxOpenDirs {
		t.Errorf("%d directories kept open, want %d", len(f.dirs), maxOpenDirs)
	}
}
