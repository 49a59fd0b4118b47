// Writing a queue file: unique creation, streaming envelope and content, durable commit.

package queue

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/groupcommit"
	"golang.org/x/sys/unix"
)

// File modes of queue files.
const (
	modeWriting       os.FileMode = 0o600 // being written
	modeReady         os.FileMode = 0o700 // committed
	modeForcedExpired os.FileMode = 0o010 // postsuper -e/-f
	// modeUnthrottled marks a file a site flush (postqueue -s) moved:
	// its next attempt ignores defer_transports (Postfix's
	// MAIL_QUEUE_STAT_UNTHROTTLE, the group read bit).
	modeUnthrottled os.FileMode = 0o040
	// modeMaildropRead is added to maildrop files, as Postfix's postdrop
	// does: their writer is root or a user, and pickup (mail_owner) must
	// be able to read them. maildrop/ (0730) keeps everyone else out.
	modeMaildropRead os.FileMode = 0o044
)

// Writer writes one new queue file. Create it with Layout.Create, write the
// envelope, stream the content, then Commit; Abandon removes the file
// instead. A Writer is not safe for concurrent use.
type Writer struct {
	// ID is the new file's queue ID, known from creation on.
	ID    string
	Queue string
	// Path is the file's absolute path.
	Path string

	layout *Layout
	file   *os.File
	buf    *bufio.Writer
	off    int64
	rec    []byte

	size       SizeInfo
	sizeOffset int64
	state      writerState
	line       []byte
	recipients []Recipient
	extraMode  os.FileMode // permission bits beyond the owner's
	// dirSync is the fsync of the directory that Create started when
	// the file got its name; Commit waits for it.
	dirSync *groupcommit.Round
	// spare is the file's path in spare/ while a reused file is being
	// written; it gets its name Path at Commit.
	spare string
	// reserved is set when the file was named in incoming/, durably,
	// before it was handed out (pool.go): Commit need not sync the
	// directory.
	reserved *reserved
	// counted: the writer is one of its layout's writers in incoming.
	counted bool
}

// end marks the writer done.
func (w *Writer) end() {
	w.state = stateDone
	if w.counted {
		w.counted = false
		w.layout.writing.Add(-1)
	}
}

type writerState int

const (
	stateEnvelope writerState = iota
	stateContent
	stateExtracted
	stateDone
)

// Create makes a new, empty queue file in queue (incoming for cleanup,
// maildrop for local submissions). As Postfix does, it creates a temporary
// file with O_EXCL, names it after its inode and the current time, and
// renames it without replacing anything; when the name is taken (short IDs
// repeat) it tries again with a new time.
//
// In incoming, a file kept in spare/ (see spare.go) is reused when there is
// one: it keeps its place in spare/ until Commit, which gives it its name.
// A layout with the pool enabled hands out a reserved file first (pool.go).
func (l *Layout) Create(queue string) (*Writer, error) {
	if queue == Incoming {
		w, reserving := l.takeReserved()
		if w != nil {
			l.writing.Add(1)
			w.counted = true
			return w, nil
		}
		// A lone writer makes a new file: its directory fsync then runs
		// while the content arrives, where a reused file's can start only
		// at Commit. With others writing, the directory fsync is shared
		// and the inode allocation (whose cost grows with the rate) is
		// what a reused file saves. A writer that found the pool of
		// reserved files empty makes a new file too: the pool is growing
		// (pool.go), and a burst of hundreds of reused files' renames
		// into incoming/ at Commit, each followed by the wait for a
		// directory fsync, were the slowest commits at 500 sessions.
		if l.writing.Add(1) > 1 && !reserving {
			if file, ino, spare := l.claimSpare(); file != nil {
				id := NewID(time.Now(), ino, l.LongIDs)
				w := &Writer{ID: id, Queue: queue, Path: l.Path(queue, id), layout: l, file: file, spare: spare, counted: true}
				w.buf = writeBuffers.Get().(*bufio.Writer)
				w.buf.Reset(file)
				return w, nil
			}
		}
		w, err := l.create(queue)
		if err != nil {
			l.writing.Add(-1)
			return nil, err
		}
		w.counted = true
		return w, nil
	}
	return l.create(queue)
}

// processID names this process in temporary file names; the system call
// behind os.Getpid is made once.
var processID = strconv.Itoa(os.Getpid())

// create makes a new file in queue.
func (l *Layout) create(queue string) (*Writer, error) {
	dir := filepath.Join(l.Root, queue)
	var file *os.File
	var tmp string
	for attempt := 0; ; attempt++ {
		tmp = filepath.Join(dir, "tmp."+processID+"."+strconv.FormatUint(rand.Uint64(), 10))
		f, err := openFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, uint32(modeWriting))
		if err == nil {
			file = f
			break
		}
		if !errors.Is(err, os.ErrExist) || attempt > 10 {
			return nil, fmt.Errorf("create file %s: %w", tmp, err)
		}
	}
	fail := func(err error) (*Writer, error) {
		file.Close()
		os.Remove(tmp)
		return nil, err
	}
	// The writer holds this lock until it closes the file, so that
	// PurgeAbandoned can tell a file still being written from one whose
	// writer died: the kernel drops the lock with the process.
	if err := unix.Flock(int(file.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fail(fmt.Errorf("lock %s: %w", tmp, err))
	}
	var extra os.FileMode
	if queue == Maildrop {
		extra = modeMaildropRead
		if err := file.Chmod(modeWriting | extra); err != nil {
			return fail(fmt.Errorf("chmod %s: %w", tmp, err))
		}
	}
	st, err := file.Stat()
	if err != nil {
		return fail(fmt.Errorf("fstat %s: %w", tmp, err))
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fail(fmt.Errorf("fstat %s: no inode number", tmp))
	}
	for {
		id := NewID(time.Now(), sys.Ino, l.LongIDs)
		final := l.Path(queue, id)
		err := l.renameNoReplace(tmp, final)
		if errors.Is(err, os.ErrExist) {
			time.Sleep(time.Microsecond)
			continue
		}
		if err != nil {
			return fail(err)
		}
		w := &Writer{ID: id, Queue: queue, Path: final, layout: l, file: file, extraMode: extra}
		w.buf = writeBuffers.Get().(*bufio.Writer)
		w.buf.Reset(file)
		w.dirSync = l.syncer.Start(filepath.Dir(final))
		return w, nil
	}
}

// linkNoReplace gives the file at from the new name to, creating the
// hashed directory when needed; it fails with an error wrapping
// os.ErrExist when to exists. The old name stays.
func (l *Layout) linkNoReplace(from, to string) error {
	err := os.Link(from, to)
	if errors.Is(err, os.ErrNotExist) {
		if mkErr := os.MkdirAll(filepath.Dir(to), 0o700); mkErr != nil {
			return fmt.Errorf("create directory %s: %w", filepath.Dir(to), mkErr)
		}
		err = os.Link(from, to)
	}
	if err != nil {
		return fmt.Errorf("link %s to %s: %w", from, to, err)
	}
	return nil
}

// renameNoReplace renames from to to unless to exists (an error wrapping
// os.ErrExist), in one system call where the file system supports
// RENAME_NOREPLACE and with link and unlink elsewhere.
func (l *Layout) renameNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if err == unix.ENOENT {
		if mkErr := os.MkdirAll(filepath.Dir(to), 0o700); mkErr != nil {
			return fmt.Errorf("create directory %s: %w", filepath.Dir(to), mkErr)
		}
		err = unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	}
	switch err {
	case nil:
		return nil
	case unix.EINVAL, unix.ENOSYS:
		if err := l.linkNoReplace(from, to); err != nil {
			return err
		}
		if err := os.Remove(from); err != nil {
			return fmt.Errorf("remove %s: %w", from, err)
		}
		return nil
	}
	return fmt.Errorf("rename %s to %s: %w", from, to, err)
}

// writeBuffers keeps the writers' 64 KB buffers for the next file: a
// buffer per message is garbage the collector must clear and collect.
var writeBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// releaseBuffer returns the buffer to the pool once the file is done.
func (w *Writer) releaseBuffer() {
	if w.buf != nil {
		w.buf.Reset(nil)
		writeBuffers.Put(w.buf)
		w.buf = nil
	}
}

func (w *Writer) put(t RecordType, data []byte) error {
	w.rec = appendRecord(w.rec[:0], t, data)
	n, err := w.buf.Write(w.rec)
	w.off += int64(n)
	if err != nil {
		return fmt.Errorf("write %s: %w", w.Path, err)
	}
	return nil
}

func (w *Writer) putString(t RecordType, s string) error { return w.put(t, []byte(s)) }

// WriteEnvelope writes the size placeholder, arrival and creation time,
// sender, attributes and recipients. It must come first.
func (w *Writer) WriteEnvelope(env *Envelope) error {
	if w.state != stateEnvelope || w.off != 0 {
		return fmt.Errorf("%s: envelope written twice", w.Path)
	}
	w.sizeOffset = w.off
	if err := w.putString(RecSize, w.size.format()); err != nil {
		return err
	}
	arrival := env.ArrivalTime
	if arrival.IsZero() {
		arrival = time.Now()
	}
	created := env.CreateTime
	if created.IsZero() {
		created = arrival
	}
	if err := w.putString(RecTime, fmt.Sprintf("%d %d", arrival.Unix(), arrival.Nanosecond()/1000)); err != nil {
		return err
	}
	if err := w.putString(RecAttr, AttrCreateTime+"="+strconv.FormatInt(created.Unix(), 10)); err != nil {
		return err
	}
	if env.FullName != "" {
		if err := w.putString(RecFullName, env.FullName); err != nil {
			return err
		}
	}
	if err := w.putString(RecSender, env.Sender); err != nil {
		return err
	}
	for _, a := range env.Attrs {
		if err := w.putString(RecAttr, a.Name+"="+a.Value); err != nil {
			return err
		}
	}
	if env.SMTPUTF8 {
		w.size.SMTPUTF8 = 1
	}
	for _, r := range env.Recipients {
		if err := w.AddRecipient(r); err != nil {
			return err
		}
	}
	return nil
}

// AddRecipient writes one recipient, in the envelope or, after the
// content, in the extracted section (for recipients taken from headers).
func (w *Writer) AddRecipient(r Recipient) error {
	switch w.state {
	case stateContent:
		if err := w.endContent(); err != nil {
			return err
		}
	case stateDone:
		return fmt.Errorf("%s: recipient added after commit", w.Path)
	}
	if r.DSNOrcpt != "" {
		if err := w.putString(RecDSNOrcpt, r.DSNOrcpt); err != nil {
			return err
		}
	}
	if r.DSNNotify != 0 {
		if err := w.putString(RecDSNNotify, strconv.Itoa(r.DSNNotify)); err != nil {
			return err
		}
	}
	original := r.Original
	if original == "" {
		original = r.Address
	}
	if err := w.putString(RecOrigRcpt, original); err != nil {
		return err
	}
	r.Offset = w.off
	t := RecRcpt
	if r.Done {
		t = RecDone
	}
	if err := w.putString(t, r.Address); err != nil {
		return err
	}
	w.size.RecipientCount++
	w.recipients = append(w.recipients, r)
	return nil
}

// ContentLength is the number of message bytes written so far (with LF
// line ends), for enforcing message_size_limit while streaming.
func (w *Writer) ContentLength() int64 { return w.size.ContentLength + int64(len(w.line)) }

// Recipients returns the recipients written so far, with their offsets.
func (w *Writer) Recipients() []Recipient { return w.recipients }

// Write streams message content: lines end with LF (a CR before it is
// dropped); lines longer than MaxLineRecord are split into partial-line
// records. It may be called with any chunking of the content.
func (w *Writer) Write(p []byte) (int, error) {
	switch w.state {
	case stateEnvelope:
		if w.off == 0 {
			return 0, fmt.Errorf("%s: content before envelope", w.Path)
		}
		if err := w.put(RecContent, nil); err != nil {
			return 0, err
		}
		w.size.DataOffset = w.off
		w.state = stateContent
	case stateContent:
	default:
		return 0, fmt.Errorf("%s: content after the extracted section", w.Path)
	}
	total := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.line = append(w.line, p...)
			p = nil
		} else {
			w.line = append(w.line, p[:i]...)
			p = p[i+1:]
		}
		// Keep at least one byte back, so that a CR before the LF is
		// still here to drop when the LF comes.
		for len(w.line) > MaxLineRecord {
			if err := w.put(RecLinePart, w.line[:MaxLineRecord]); err != nil {
				return 0, err
			}
			w.size.ContentLength += MaxLineRecord
			w.line = append(w.line[:0], w.line[MaxLineRecord:]...)
		}
		if i >= 0 {
			if err := w.flushLine(); err != nil {
				return 0, err
			}
		}
	}
	return total, nil
}

// flushLine writes the buffered line as the last record of a line.
func (w *Writer) flushLine() error {
	line := bytes.TrimSuffix(w.line, []byte{'\r'})
	if err := w.put(RecLine, line); err != nil {
		return err
	}
	w.size.ContentLength += int64(len(line)) + 1
	w.line = w.line[:0]
	return nil
}

// endContent ends the content (a last line without LF counts as a line)
// and writes the extracted-section marker.
func (w *Writer) endContent() error {
	if w.state == stateEnvelope {
		if _, err := w.Write(nil); err != nil {
			return err
		}
	}
	if w.state != stateContent {
		return nil
	}
	if len(w.line) > 0 {
		if err := w.flushLine(); err != nil {
			return err
		}
	}
	w.size.SegmentSize = w.off - w.size.DataOffset
	if err := w.put(RecExtracted, nil); err != nil {
		return err
	}
	w.state = stateExtracted
	return nil
}

// AddExtractedAttr writes a named attribute after the content.
func (w *Writer) AddExtractedAttr(a Attr) error {
	if w.state == stateDone {
		return fmt.Errorf("%s: attribute added after commit", w.Path)
	}
	if err := w.endContent(); err != nil {
		return err
	}
	return w.putString(RecAttr, a.Name+"="+a.Value)
}

// Commit finishes the file and makes it durable: it writes the end marker,
// fills in the size record, marks the file ready (mode 0700), fsyncs it,
// and waits for the fsync of its directory that Create started (shared
// with concurrent writers). When Commit returns nil the file and its
// directory entry are on disk. On error the file is removed.
func (w *Writer) Commit() error {
	if w.state == stateDone {
		return fmt.Errorf("%s: commit after commit or abandon", w.Path)
	}
	if w.off == 0 {
		w.Abandon()
		return fmt.Errorf("%s: commit without envelope", w.Path)
	}
	if err := w.finish(); err != nil {
		w.Abandon()
		return err
	}
	w.end()
	var err error
	named := true
	switch {
	case w.reserved != nil:
		// Named, durably, before it was handed out (finish checked
		// that it still is).
	case w.spare != "":
		// Named only now that the content is on disk.
		if err = w.layout.renameNoReplace(w.spare, w.Path); err != nil {
			named = false // the file stays in spare/
		} else {
			err = w.layout.syncer.Sync(filepath.Dir(w.Path))
		}
	default:
		err = w.dirSync.Wait()
	}
	if errors.Is(err, os.ErrPermission) {
		// A set-group-id postdrop may write to maildrop/ (0730) but not
		// open it to fsync it: sync the file system that holds it.
		err = syncFileSystem(w.file)
	}
	w.releaseBuffer()
	closeErr := w.file.Close()
	if err == nil && closeErr != nil {
		err = fmt.Errorf("close %s: %w", w.Path, closeErr)
	}
	if err != nil {
		if named {
			os.Remove(w.Path)
		}
		return err
	}
	return nil
}

// syncFileSystem puts everything written to the file system that holds f
// on disk: syncfs(2), then an fsync of f. On ext4 without a journal,
// syncfs issues the disk's cache flush before it waits for its writes of
// inode tables and directory blocks (they go out with the block device's
// buffers), so those writes are complete when it returns but not surely
// durable; the fsync of f, whose own data and inode are clean by then,
// adds the flush that makes them so.
func syncFileSystem(f *os.File) error {
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", f.Name(), err)
	}
	return nil
}

func (w *Writer) finish() error {
	if err := w.endContent(); err != nil {
		return err
	}
	if err := w.put(RecEnd, nil); err != nil {
		return err
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", w.Path, err)
	}
	size := appendRecord(nil, RecSize, []byte(w.size.format()))
	if _, err := w.file.WriteAt(size, w.sizeOffset); err != nil {
		return fmt.Errorf("write %s: %w", w.Path, err)
	}
	if w.spare != "" {
		// The rest of the file's previous message.
		if err := w.file.Truncate(w.off); err != nil {
			return fmt.Errorf("truncate %s: %w", w.spare, err)
		}
	}
	if w.reserved != nil {
		// A reserved file had its name before it was handed out; one
		// removed since (postsuper -d) holds nothing anyone will
		// deliver. Checked while the file is not yet ready: from the
		// chmod on, the queue manager may take, deliver and remove it
		// before Commit returns.
		var st unix.Stat_t
		if err := unix.Fstat(int(w.file.Fd()), &st); err != nil {
			return fmt.Errorf("fstat %s: %w", w.Path, err)
		}
		if st.Nlink == 0 {
			return fmt.Errorf("%s was removed while being written", w.Path)
		}
	}
	if err := w.file.Chmod(modeReady | w.extraMode); err != nil {
		return fmt.Errorf("chmod %s: %w", w.Path, err)
	}
	if err := w.file.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", w.Path, err)
	}
	return nil
}

// Abandon closes and removes an uncommitted file. It does nothing after a
// successful Commit.
func (w *Writer) Abandon() error {
	if w.state == stateDone {
		return nil
	}
	w.end()
	w.releaseBuffer()
	if w.reserved != nil {
		w.layout.giveBack(w.reserved)
		return nil
	}
	w.file.Close()
	if w.spare != "" {
		return nil // still in spare/, for the next message
	}
	if err := os.Remove(w.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", w.Path, err)
	}
	return nil
}
