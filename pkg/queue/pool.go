// Reserved queue files: while mail keeps coming, cleanup names empty queue
// files in incoming/ ahead of need, their names made durable in batches in
// the background, so that a message's Commit needs only its file's fsync
// instead of that fsync and one of incoming/.
//
// Flushes: without reserved files a message costs its file's fsync plus a
// share of an incoming/ fsync (the whole of one for a lone writer), both on
// the path to "250 queued". A reserved file costs its file's fsync at
// Commit plus a share of one file system sync (syncfs(2) and an fsync,
// two flushes) per round of up to half the pool, done in the
// background. Reserved files are spare files (spare.go), so the inode
// allocation spare/ saves stays saved.
//
// Safety. A reserved file is named in incoming/ with mode 0600 and no
// content, and is held under its writer's exclusive flock from the moment
// it is prepared until it is committed or given back; to the queue manager,
// showq, postsuper and PurgeAbandoned it is a file still being written.
//   - A spare file holds a delivered message with mode 0700 on disk. Were
//     its name in incoming/ durable before its new mode and size, a crash
//     could hand that old message to the queue manager again. So a round
//     truncates and chmods the files it prepares while they are still in
//     spare/, and names them only in the next round, after a sync of the
//     file system has put their empty, 0600 inodes on disk; that same
//     sync makes the names given in the round before durable, so one sync
//     per round does both jobs. The sync is syncfs(2) and then an fsync
//     (syncFileSystem: on ext4 without a journal syncfs alone may flush
//     the disk's cache before its inode and directory block writes are
//     done), two flushes per round. (One fsync per file would cost a
//     flush per message, more than the incoming/ fsync it saves.)
//     Truncating, rather than overwriting the old blocks in place, leaves
//     a Commit cut short by a crash with what a new file's would have:
//     fresh blocks.
//   - Commit writes, chmods 0700 and fsyncs the file, as for a new file;
//     the name was on disk before the file was handed out, so when Commit
//     returns the file and its directory entry are on disk.
//   - Reserved files exist only while mail is flowing (poolActivation
//     messages within poolWindow) and are given back to spare/ after
//     poolIdle without a message, when the process stops serving
//     (ClosePool: idle, max_use, reload), or when a message using one is
//     abandoned. The queue ID's time is the time of naming: files are
//     handed out oldest first, so it is before the message's by at most
//     the time the messages of the pool ahead of it took.
//   - A process killed while holding reserved files leaves empty 0600
//     files in incoming/ whose lock died with it: the queue manager and
//     showq pass over them as over any uncommitted file, and
//     PurgeAbandoned removes them (the next cleanup when it starts, or
//     postsuper -p), logging each as an interrupted submission; until
//     then postsuper's ALL requests count them as they count any
//     abandoned file. Files it had prepared but not named stay in
//     spare/, empty and 0600, for reuse.
//   - A crash between a name's rename and the syncfs may leave a file in
//     both spare/ and incoming/: spare files with two links are never
//     reused, and the incoming/ one is a 0600 file PurgeAbandoned removes.
//   - The ID carries the file's inode like any other, so postsuper -s
//     leaves reserved files alone.

package queue

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// poolSize is how many reserved files a process keeps named at
	// first. A round names and prepares at most half the pool, and
	// starts once half the pool has been taken.
	poolSize = 32
	// poolMaxSize bounds the pool when demand grows it (see grow).
	poolMaxSize = 128
	// poolActivation messages within poolWindow start the reserving.
	poolActivation = 8
	poolWindow     = time.Second
	// poolIdle without a message gives the reserved files back.
	poolIdle = time.Second
)

// namedPool is a process's reserved files. Only the refill goroutine
// names, prepares and releases; take and ClosePool hand files over under mu.
type namedPool struct {
	mu      sync.Mutex
	enabled bool
	// ready are named in incoming/, durably; staged are prepared in
	// spare/, durably empty and 0600, waiting to be named.
	ready, staged []*reserved
	running       bool
	closed        bool
	kick          chan struct{}
	done          chan struct{}
	windowStart   time.Time
	windowCount   int
	lastTake      time.Time
	// size is how many files the pool keeps named, poolSize and up;
	// misses counts the writers that found it empty since the last
	// round (see grow).
	size   int
	misses int
}

// grow sizes the pool by demand, under mu: every writer that found no
// reserved file since the last round goes the slow way (a rename into
// incoming/ and a directory fsync at Commit, where a reserved file needs
// only its own fsync), so the pool grows to hold twice what it lacked,
// up to poolMaxSize; a round names and prepares half the pool. At 100 or
// 500 concurrent sessions a pool of poolSize ran dry within its first
// round: three quarters of the commits took the slow way, at three times
// a reserved file's commit time. The pool shrinks back to poolSize when
// mail stops (poolIdle) and the files go back to spare/.
func (p *namedPool) grow() {
	if p.misses > 0 {
		p.size = min(poolMaxSize, max(p.size, 2*(p.size-len(p.ready)+p.misses)))
		p.misses = 0
	}
}

// batch is how many files a round names and prepares at most.
func (p *namedPool) batch() int { return p.size / 2 }

// reserved is one file of the pool, open and locked.
type reserved struct {
	file *os.File
	ino  uint64
	path string // in spare/ while staged, in incoming/ once named
	id   string
}

// EnablePool lets Create(Incoming) use reserved files (see pool.go) once
// mail flows; the cleanup daemon enables it and calls ClosePool when it
// stops serving.
func (l *Layout) EnablePool() {
	l.pool.mu.Lock()
	l.pool.enabled = true
	l.pool.mu.Unlock()
}

// ClosePool gives every reserved file back and stops reserving.
func (l *Layout) ClosePool() {
	p := &l.pool
	p.mu.Lock()
	p.closed = true
	done := p.done
	if p.running {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
	p.mu.Unlock()
	if done != nil {
		<-done
	}
}

// takeReserved returns a writer for a reserved file, or nil when there is
// none; it counts the message towards starting the reserving. reserving
// reports whether the pool was running: nil then means demand outran it.
func (l *Layout) takeReserved() (w *Writer, reserving bool) {
	p := &l.pool
	now := time.Now()
	p.mu.Lock()
	if !p.enabled || p.closed {
		p.mu.Unlock()
		return nil, false
	}
	reserving = p.running
	if now.Sub(p.windowStart) > poolWindow {
		p.windowStart, p.windowCount = now, 0
	}
	p.windowCount++
	p.lastTake = now
	var r *reserved
	if len(p.ready) > 0 {
		// The oldest first: its ID's time is the time it was named.
		r = p.ready[0]
		p.ready = p.ready[1:]
	} else if p.running {
		p.misses++
	}
	switch {
	case !p.running && p.windowCount >= poolActivation:
		p.running = true
		p.size, p.misses = poolSize, 0
		p.kick = make(chan struct{}, 1)
		p.done = make(chan struct{})
		go l.refill()
	case p.running && len(p.ready) <= p.size-p.batch():
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
	p.mu.Unlock()
	if r == nil {
		return nil, reserving
	}
	w = &Writer{ID: r.id, Queue: Incoming, Path: r.path, layout: l, file: r.file, reserved: r}
	w.buf = writeBuffers.Get().(*bufio.Writer)
	w.buf.Reset(r.file)
	return w, true
}

// refill keeps the pool filled while mail flows, then gives it back.
func (l *Layout) refill() {
	p := &l.pool
	idle := time.NewTimer(poolIdle)
	defer idle.Stop()
	for {
		p.mu.Lock()
		if p.closed || time.Since(p.lastTake) >= poolIdle {
			ready, staged, done := p.ready, p.staged, p.done
			p.ready, p.staged, p.done, p.running = nil, nil, nil, false
			p.mu.Unlock()
			for _, r := range ready {
				l.giveBack(r)
			}
			for _, r := range staged {
				r.file.Close()
			}
			close(done)
			return
		}
		p.grow()
		batch := p.batch()
		need := p.size - len(p.ready)
		if need < batch {
			p.mu.Unlock()
			idle.Reset(poolIdle)
			select {
			case <-p.kick:
			case <-idle.C:
			}
			continue
		}
		n := min(need, batch, len(p.staged))
		toName := append([]*reserved(nil), p.staged[len(p.staged)-n:]...)
		p.staged = p.staged[:len(p.staged)-n]
		prepare := batch - len(p.staged)
		p.mu.Unlock()
		if !l.round(toName, prepare) {
			// The file system failed: mail goes the ordinary way.
			p.mu.Lock()
			p.closed = true
			p.mu.Unlock()
		}
	}
}

// round names the staged files toName in incoming/, prepares prepare more
// in spare/, and makes both durable with one sync of the file system. It
// reports false on a failure, having given back what it held.
func (l *Layout) round(toName []*reserved, prepare int) bool {
	var named, prepared []*reserved
	var err error
	for _, r := range toName {
		if err = l.nameReserved(r); err != nil {
			r.file.Close()
			continue
		}
		named = append(named, r)
	}
	for range prepare {
		var r *reserved
		if r, err = l.prepareReserved(); err != nil {
			break
		}
		prepared = append(prepared, r)
	}
	var f *os.File
	if len(named) > 0 {
		f = named[0].file
	} else if len(prepared) > 0 {
		f = prepared[0].file
	}
	if f != nil {
		if syncErr := syncFileSystem(f); syncErr != nil && err == nil {
			err = syncErr
		}
	}
	if err != nil {
		for _, r := range named {
			l.giveBack(r)
		}
		for _, r := range prepared {
			r.file.Close()
		}
		return false
	}
	p := &l.pool
	p.mu.Lock()
	p.ready = append(p.ready, named...)
	p.staged = append(p.staged, prepared...)
	p.mu.Unlock()
	return true
}

// prepareReserved takes a spare file, or makes a new one in spare/, and
// empties it and sets mode 0600; it stays in spare/, locked.
func (l *Layout) prepareReserved() (*reserved, error) {
	file, ino, path := l.claimSpare()
	if file == nil {
		var err error
		if file, ino, path, err = l.newSpareFile(); err != nil {
			return nil, err
		}
	}
	if err := file.Truncate(0); err != nil {
		file.Close()
		return nil, fmt.Errorf("truncate %s: %w", path, err)
	}
	if err := file.Chmod(modeWriting); err != nil {
		file.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return &reserved{file: file, ino: ino, path: path}, nil
}

// newSpareFile creates a locked, empty file in spare/, named after its
// inode as Retire names them.
func (l *Layout) newSpareFile() (*os.File, uint64, string, error) {
	dir := filepath.Join(l.Root, Spare)
	tmp := filepath.Join(dir, "tmp."+processID+"."+strconv.FormatUint(rand.Uint64(), 10))
	file, err := openFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, uint32(modeWriting))
	if errors.Is(err, os.ErrNotExist) {
		if mkErr := os.Mkdir(dir, 0o700); mkErr == nil || errors.Is(mkErr, os.ErrExist) {
			file, err = openFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, uint32(modeWriting))
		}
	}
	if err != nil {
		return nil, 0, "", fmt.Errorf("create file %s: %w", tmp, err)
	}
	var st unix.Stat_t
	if err := unix.Flock(int(file.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		file.Close()
		os.Remove(tmp)
		return nil, 0, "", fmt.Errorf("lock %s: %w", tmp, err)
	}
	if err := unix.Fstat(int(file.Fd()), &st); err != nil {
		file.Close()
		os.Remove(tmp)
		return nil, 0, "", fmt.Errorf("fstat %s: %w", tmp, err)
	}
	path := filepath.Join(dir, strconv.FormatUint(st.Ino, 10))
	if err := renameFile(tmp, path); err != nil {
		file.Close()
		os.Remove(tmp)
		return nil, 0, "", err
	}
	return file, st.Ino, path, nil
}

// nameReserved gives a staged file its queue ID in incoming/.
func (l *Layout) nameReserved(r *reserved) error {
	for {
		id := NewID(time.Now(), r.ino, l.LongIDs)
		path := l.Path(Incoming, id)
		err := l.renameNoReplace(r.path, path)
		if errors.Is(err, os.ErrExist) {
			time.Sleep(time.Microsecond)
			continue
		}
		if err != nil {
			return err
		}
		r.path, r.id = path, id
		return nil
	}
}

// giveBack returns a named reserved file to spare/ (removing it when that
// fails) and closes it. Neither needs to be durable: either name holds
// an uncommitted file.
func (l *Layout) giveBack(r *reserved) {
	spare := filepath.Join(l.Root, Spare, strconv.FormatUint(r.ino, 10))
	if unix.Renameat2(unix.AT_FDCWD, r.path, unix.AT_FDCWD, spare, unix.RENAME_NOREPLACE) != nil {
		RemoveFile(r.path)
	}
	r.file.Close()
}
