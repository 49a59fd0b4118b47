// Group commit of directory fsyncs: one fsync of a directory covers every commit waiting on it.

package queue

import (
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/postern/postern/pkg/groupcommit"
	"golang.org/x/sys/unix"
)

// DirSyncer batches fsync calls on directories. A caller that has created
// or renamed a file asks Sync(dir) and returns once an fsync of dir that
// started after its request has finished. While one fsync runs, later
// callers for the same directory queue up and are all covered by the next
// single fsync: with N concurrent commits the directory is synced far
// fewer than N times, with the same durability (see groupcommit).
type DirSyncer struct {
	rounds groupcommit.Group[string]
	syncs  atomic.Uint64
	// fsync syncs one directory; replaced in tests.
	fsync func(dir string) error
}

// NewDirSyncer returns a syncer that fsyncs directories for real.
func NewDirSyncer() *DirSyncer {
	return &DirSyncer{fsync: openDirs.fsync}
}

// Syncs counts the directory fsyncs done so far.
func (s *DirSyncer) Syncs() uint64 { return s.syncs.Load() }

// Sync returns once dir's entries as they were at the call are on disk.
func (s *DirSyncer) Sync(dir string) error {
	return s.rounds.Do(dir, s.round(dir))
}

// Start begins making dir's entries as they are now durable and returns
// at once; the round's Wait returns when they are on disk. A writer
// starts the fsync of a new file's directory as soon as the file has its
// name, so that it runs while the content arrives.
func (s *DirSyncer) Start(dir string) *groupcommit.Round {
	return s.rounds.Start(dir, s.round(dir))
}

// round is the operation of a round of dir: one fsync of it.
func (s *DirSyncer) round(dir string) func(int) error {
	return func(int) error {
		err := s.fsync(dir)
		s.syncs.Add(1)
		return err
	}
}

// openDirs are the directories a process has synced, kept open for its
// next rounds (every Layout's syncer shares them).
var openDirs dirFiles

// dirFiles keeps one open descriptor per directory synced, so that a
// round is a stat and an fsync rather than an open, an fcntl, an fsync
// and a close. The stat checks that the path still names the directory
// opened: one removed and made again is opened afresh.
type dirFiles struct {
	mu   sync.Mutex
	dirs map[string]*dirFile
}

type dirFile struct {
	mu       sync.Mutex // held for the fsync; rounds of one directory never overlap anyway
	fd       int
	dev, ino uint64
}

// maxOpenDirs bounds the descriptors kept: beyond it (a queue hashed
// many levels deep) a directory is opened for its round and closed.
const maxOpenDirs = 64

func (f *dirFiles) fsync(dir string) error {
	f.mu.Lock()
	d := f.dirs[dir]
	if d == nil && len(f.dirs) < maxOpenDirs {
		if f.dirs == nil {
			f.dirs = make(map[string]*dirFile)
		}
		d = &dirFile{fd: -1}
		f.dirs[dir] = d
	}
	f.mu.Unlock()
	if d == nil {
		return fsyncDir(dir)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fd >= 0 {
		var st unix.Stat_t
		if err := unix.Stat(dir, &st); err != nil || st.Dev != d.dev || st.Ino != d.ino {
			unix.Close(d.fd)
			d.fd = -1
		}
	}
	if d.fd < 0 {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open directory %s: %w", dir, &fs.PathError{Op: "open", Path: dir, Err: err})
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return fmt.Errorf("fstat directory %s: %w", dir, err)
		}
		d.fd, d.dev, d.ino = fd, st.Dev, st.Ino
	}
	if err := unix.Fsync(d.fd); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

func fsyncDir(dir string) error {
	d, err := openFile(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	syncErr := d.Sync()
	closeErr := d.Close()
	if syncErr != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, syncErr)
	}
	if closeErr != nil {
		return fmt.Errorf("close directory %s: %w", dir, closeErr)
	}
	return nil
}
