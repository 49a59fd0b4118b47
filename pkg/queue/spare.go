// Spare queue files: the file of a delivered message is kept in spare/ and
// becomes the next new queue file, instead of being deleted and a new one
// created.
//
// Why: creating a file allocates an inode and unlinking one frees it with
// its blocks. On ext4 without a journal the allocator skips every inode
// freed in the last minute (it reads each one's deletion time), so at a
// few hundred messages a second each create scans thousands of inodes: a
// quarter of cleanup's CPU time. A spare file keeps its inode and, for a
// message of similar size, its blocks.
//
// Safety: a spare file is written while it is still in spare/, where no
// one looks for mail, and gets its name in incoming/ only at Commit, after
// its complete content (and mode 0700) is on disk. A writer killed half-way
// leaves it in spare/ as it was; the name in incoming/ is made durable by
// the directory fsync Commit does anyway. A file is claimed with an
// exclusive flock and a check that spare/ still names it, so two writers
// never share one; a file with more than one link (after a crash that left
// both its old and its new name) is never reused.

package queue

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Spare is the directory, beside the queues, of files kept for reuse.
const Spare = "spare"

const (
	// maxSpareFiles bounds the pool: after a backlog is delivered the
	// rest are deleted.
	maxSpareFiles = 1024
	// maxSpareSize is the largest file kept: a bigger one would hold
	// its blocks idle until a big message comes.
	maxSpareSize = 64 << 10
	// spareListGap is how long a writer that found spare/ empty waits
	// before reading it again.
	spareListGap = 100 * time.Millisecond
	// spareCountGap is how often Retire counts spare/ when its own count
	// says the pool is full.
	spareCountGap = 100 * time.Millisecond
)

// sparePool is a process's view of spare/: names to try, and a count of
// the files it put there.
type sparePool struct {
	mu      sync.Mutex
	names   []string
	emptyAt time.Time // when spare/ was last read and found empty
	count   int       // files in spare/ as last counted, plus those retired since
	counted time.Time
}

// Retire takes queue file id out of queue as Remove does (with its status
// logs) but keeps a small file in spare/ for reuse as a new queue file.
// Call it only when no process will read the file again (the queue
// manager, once every recipient is done): its inode will hold another
// message.
func (l *Layout) Retire(queue, id string) error {
	if err := l.RetireFile(queue, id); err != nil {
		return err
	}
	return l.removeLogs(id)
}

// RetireFile is Retire for a message that has no status logs (the queue
// manager knows when it wrote none): it does not look for them.
func (l *Layout) RetireFile(queue, id string) error {
	if path := l.Path(queue, id); !l.toSpare(path) {
		if err := RemoveFile(path); err != nil {
			return fmt.Errorf("remove file %s: %w", l.RelPath(queue, id), err)
		}
	}
	return nil
}

// toSpare renames the file at path into spare/, named after its inode,
// when it suits and the pool has room.
func (l *Layout) toSpare(path string) bool {
	var st unix.Stat_t
	if unix.Lstat(path, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 ||
		st.Size > maxSpareSize || int(st.Uid) != os.Geteuid() {
		return false
	}
	if !l.spare.room(l) {
		return false
	}
	dir := filepath.Join(l.Root, Spare)
	name := filepath.Join(dir, strconv.FormatUint(st.Ino, 10))
	err := unix.Renameat2(unix.AT_FDCWD, path, unix.AT_FDCWD, name, unix.RENAME_NOREPLACE)
	if err == unix.ENOENT {
		if mkErr := os.Mkdir(dir, 0o700); mkErr == nil || errors.Is(mkErr, os.ErrExist) {
			err = unix.Renameat2(unix.AT_FDCWD, path, unix.AT_FDCWD, name, unix.RENAME_NOREPLACE)
		}
	}
	if err != nil {
		return false
	}
	l.spare.mu.Lock()
	l.spare.count++
	// Known without reading spare/, should this process write the next
	// message.
	l.spare.names = append(l.spare.names, filepath.Base(name))
	l.spare.emptyAt = time.Time{}
	l.spare.mu.Unlock()
	return true
}

// room reports whether spare/ has room for one more file, counting its
// entries again when this process's count says it is full.
func (p *sparePool) room(l *Layout) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count < maxSpareFiles {
		return true
	}
	if time.Since(p.counted) < spareCountGap {
		return false
	}
	p.counted = time.Now()
	names, err := readNames(filepath.Join(l.Root, Spare), -1)
	if err != nil {
		return false
	}
	p.count = len(names)
	return p.count < maxSpareFiles
}

// next returns the path of a spare file to try, or "" when there is none.
func (p *sparePool) next(l *Layout) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.names) == 0 {
		if !p.emptyAt.IsZero() && time.Since(p.emptyAt) < spareListGap {
			return ""
		}
		p.names, _ = readNames(filepath.Join(l.Root, Spare), 256)
		if len(p.names) == 0 {
			p.emptyAt = time.Now()
			return ""
		}
		p.emptyAt = time.Time{}
	}
	name := p.names[len(p.names)-1]
	p.names = p.names[:len(p.names)-1]
	return filepath.Join(l.Root, Spare, name)
}

// readNames reads up to n (n < 0: all) names from directory dir.
func readNames(dir string, n int) ([]string, error) {
	d, err := openFile(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(n)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return names, err
}

// claimSpare opens a spare file for writing a new queue file: locked,
// regular, owned by this user, with one link, and still in spare/ under
// its inode's name after the lock was taken (a writer that had it before
// has not renamed it into incoming/). It returns nil when there is none.
func (l *Layout) claimSpare() (*os.File, uint64, string) {
	for tries := 0; tries < 8; tries++ {
		path := l.spare.next(l)
		if path == "" {
			return nil, 0, ""
		}
		f, err := openFile(path, unix.O_RDWR|unix.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		if ino, ok := usableSpare(f, path); ok {
			return f, ino, path
		}
		f.Close()
	}
	return nil, 0, ""
}

// usableSpare locks f, opened from path in spare/, and checks it; it
// returns its inode number.
func usableSpare(f *os.File, path string) (uint64, bool) {
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return 0, false
	}
	var st, named unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 ||
		int(st.Uid) != os.Geteuid() || filepath.Base(path) != strconv.FormatUint(st.Ino, 10) {
		return 0, false
	}
	if unix.Lstat(path, &named) != nil || named.Ino != st.Ino || named.Dev != st.Dev {
		return 0, false
	}
	return st.Ino, true
}
