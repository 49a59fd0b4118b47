// Making Maildir deliveries durable: concurrent deliveries into one
// Maildir share the fsync of its new/ directory.

package mailbox

import (
	"io/fs"

	"github.com/postern/postern/pkg/groupcommit"
	"golang.org/x/sys/unix"
)

// newDirs makes the new/ entries of this process's deliveries durable.
var newDirs = &dirSyncer{fsync: unix.Fsync}

// dirSyncer shares the fsync of a directory between concurrent callers
// (see groupcommit): with N deliveries at once into one Maildir, its new/
// is synced far fewer than N times, with the same durability. A
// delivery's file is fsynced on its own, before it is named in new/.
//
// Sharing the sync across Maildirs (rounds of syncfs(2) covering every
// delivery's content and name) was tried and left out: it took the
// fsyncs off the delivery's path but made each delivery wait for two
// rounds, so that with qmgr's 20 concurrent deliveries the end-to-end
// rate into Maildirs fell (README, Performance), and a round writes out
// whatever else of the file system is dirty.
type dirSyncer struct {
	dirs groupcommit.Group[dirID]
	// fsync syncs a descriptor; replaced in tests.
	fsync func(fd int) error
}

// dirID tells directories apart whatever path reached them.
type dirID struct{ dev, ino uint64 }

// sync makes the entries of the directory path durable. The directory is
// opened with the calling thread's credentials, and the round's leader
// fsyncs its own descriptor.
func (s *dirSyncer) sync(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	return s.dirs.Do(dirID{dev: st.Dev, ino: st.Ino}, func(int) error {
		if err := ignoringEINTR(func() error { return s.fsync(fd) }); err != nil {
			return &fs.PathError{Op: "fsync", Path: path, Err: err}
		}
		return nil
	})
}
