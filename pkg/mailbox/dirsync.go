// Group commit of Maildir new/ directory fsyncs: concurrent deliveries
// into one Maildir share a directory fsync.

package mailbox

import (
	"io/fs"
	"sync"

	"golang.org/x/sys/unix"
)

// newDirs makes the new/ entries of this process's deliveries durable.
var newDirs = dirSyncer{fsync: unix.Fsync}

// dirSyncer shares directory fsyncs between concurrent callers. A caller
// that has linked a file into a directory asks sync with a descriptor of
// that directory, and returns once an fsync of the directory that started
// after its call has finished. While one fsync of a directory runs, the
// callers that arrive for it join one round, whose single fsync, started
// when the running one ends, covers them all: with N deliveries at once
// into one Maildir its new/ is synced far fewer than N times, with the
// same durability. Callers for different directories never wait for
// each other.
type dirSyncer struct {
	mu   sync.Mutex
	dirs map[dirID]*dirRounds
	// fsync syncs a directory's descriptor; replaced in tests.
	fsync func(fd int) error
}

// dirID tells directories apart whatever path reached them.
type dirID struct{ dev, ino uint64 }

// dirRounds are one directory's rounds: the one whose fsync runs (or is
// about to), and the one that callers arriving now join.
type dirRounds struct {
	running, open *syncRound
}

// syncRound is one fsync of a directory for every caller that joined it.
type syncRound struct {
	fd      int // the descriptor of the caller that leads the round
	joiners int // callers besides the leader; read by tests
	done    chan struct{}
	err     error
}

// sync returns once the directory fd refers to has, on disk, the entries
// it had at the call. fd stays the caller's (sync does not close it).
func (s *dirSyncer) sync(fd int, path string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	id := dirID{dev: st.Dev, ino: st.Ino}
	s.mu.Lock()
	if s.dirs == nil {
		s.dirs = make(map[dirID]*dirRounds)
	}
	d := s.dirs[id]
	if d == nil {
		d = &dirRounds{}
		s.dirs[id] = d
	}
	if r := d.open; r != nil {
		// Its fsync has not started: it covers this caller's entries.
		r.joiners++
		s.mu.Unlock()
		<-r.done
		return wrapSyncErr(r.err, path)
	}
	// Lead a new round, after the running one: callers arriving
	// meanwhile join it.
	r := &syncRound{fd: fd, done: make(chan struct{})}
	d.open = r
	prev := d.running
	s.mu.Unlock()
	if prev != nil {
		<-prev.done
	}
	s.mu.Lock()
	d.open, d.running = nil, r
	s.mu.Unlock()
	r.err = ignoringEINTR(func() error { return s.fsync(fd) })
	close(r.done)
	s.mu.Lock()
	if d.running == r {
		d.running = nil
		if d.open == nil {
			delete(s.dirs, id)
		}
	}
	s.mu.Unlock()
	return wrapSyncErr(r.err, path)
}

func wrapSyncErr(err error, path string) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: "fsync", Path: path, Err: err}
}
