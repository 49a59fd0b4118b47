// Making Maildir deliveries durable: group commit of the syncs that put a
// delivered file's content, and then its name in new/, on disk.

package mailbox

import (
	"io/fs"

	"github.com/postern/postern/pkg/groupcommit"
	"golang.org/x/sys/unix"
)

// durable makes this process's Maildir deliveries durable.
var durable = &syncer{fsync: unix.Fsync, syncfs: unix.Syncfs}

// syncer shares syncs between concurrent deliveries (see groupcommit).
//
// An unnamed delivery (deliverUnnamed) needs two syncs: one that puts its
// file's content and inode on disk before the file is linked into new/,
// so that no crash can leave a name in new/ without its content, and one
// after the link that puts the name on disk. A delivery alone does them
// as fsyncs of its file and of new/, two disk cache flushes. Concurrent
// deliveries into one file system share rounds instead: a round is one
// sync of the whole file system (syncFileSystem), which covers the
// content of every member that has written its file and the name of
// every member that has linked it; members of both kinds join the same
// rounds. With N deliveries in flight a delivery costs about 2/N file
// system syncs instead of two fsyncs, and waits in fewer system calls.
// The price of a round is the rest of the file system's dirty data: it is
// written out at each round instead of by the kernel's write-back later.
//
// A named delivery (the fallback without O_TMPFILE) fsyncs its own file,
// renames it, and shares the fsync of new/ with the concurrent
// deliveries into the same directory.
type syncer struct {
	fileSystems groupcommit.Group[uint64]
	dirs        groupcommit.Group[dirID]
	// fsync and syncfs sync a descriptor or its file system; replaced in
	// tests.
	fsync, syncfs func(fd int) error
}

// dirID tells directories apart whatever path reached them.
type dirID struct{ dev, ino uint64 }

// content returns once the unnamed file fd, on file system dev, has its
// content and inode on disk as written before the call.
func (s *syncer) content(fd int, dev uint64, path string) error {
	return s.fileSystems.Do(dev, func(joiners int) error {
		if joiners == 0 {
			return s.fsyncFD(fd, path)
		}
		return s.syncFileSystem(fd, path)
	})
}

// name returns once the name fd was given in the directory newDir, on
// file system dev, is on disk.
func (s *syncer) name(fd int, dev uint64, newDir string) error {
	return s.fileSystems.Do(dev, func(joiners int) error {
		if joiners == 0 {
			return s.dir(newDir)
		}
		return s.syncFileSystem(fd, newDir)
	})
}

// syncFileSystem puts everything written to the file system that holds
// fd on disk: syncfs(2), then an fsync of fd. On ext4 without a journal,
// syncfs issues the disk's cache flush before it waits for its writes of
// inode tables and directory blocks (they go out with the block device's
// buffers), so those writes are complete when it returns but not surely
// durable; the fsync of fd, whose own data and inode are clean by then,
// adds the flush that makes them so.
func (s *syncer) syncFileSystem(fd int, path string) error {
	if err := ignoringEINTR(func() error { return s.syncfs(fd) }); err != nil {
		return &fs.PathError{Op: "syncfs", Path: path, Err: err}
	}
	return s.fsyncFD(fd, path)
}

func (s *syncer) fsyncFD(fd int, path string) error {
	if err := ignoringEINTR(func() error { return s.fsync(fd) }); err != nil {
		return &fs.PathError{Op: "fsync", Path: path, Err: err}
	}
	return nil
}

// dir makes a directory's entries durable, sharing the fsync with
// concurrent callers for the same directory. The directory is opened with
// the calling thread's credentials, and the round's leader fsyncs its own
// descriptor.
func (s *syncer) dir(path string) error {
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
		return s.fsyncFD(fd, path)
	})
}
