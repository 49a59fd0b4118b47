// Changing queue files: moves between queues, removal, done-marking, retry times, requeue.

package queue

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Move renames queue file id from one queue to another and makes the move
// durable by fsyncing both directories. A file missing from its hashed
// place but present elsewhere in the queue is not searched for: use Walk.
func (l *Layout) Move(id, from, to string) error {
	return l.moveFrom(l.Path(from, id), id, to)
}

func (l *Layout) moveFrom(oldPath, id, to string) error {
	newPath, err := l.rename(oldPath, id, to)
	if err != nil {
		return err
	}
	if err := l.syncer.Sync(filepath.Dir(newPath)); err != nil {
		return err
	}
	return l.syncer.Sync(filepath.Dir(oldPath))
}

// Shift renames queue file id between the queues that the queue manager
// scans, without fsyncing either directory: incoming, active and deferred.
//
// Why no fsync is needed there: the file itself is already durable
// (cleanup fsynced it and its directory entry before "queued as"), and
// rename(2) replaces one directory entry by the other atomically, which a
// journaling file system also keeps across a crash. So after a crash the
// file is under its old name or its new one, complete either way, and
// every one of those queues leads to delivery: the queue manager takes up
// active/ when it starts, scans incoming/ at once and deferred/ every
// queue_run_delay. Losing the move costs at most an earlier retry or a
// second delivery, which at-least-once delivery allows (Postfix's qmgr
// does not fsync these moves either). An fsync here would instead make
// the queue manager wait for a journal commit per message, one message
// at a time. Moves that record a decision someone made (postsuper -h,
// a message to hold, a corrupt file) keep using Move, which fsyncs.
func (l *Layout) Shift(id, from, to string) error {
	_, err := l.rename(l.Path(from, id), id, to)
	return err
}

// ShiftEntry shifts a file found by Walk (possibly misplaced), as Shift.
func (l *Layout) ShiftEntry(e Entry, to string) error {
	_, err := l.rename(e.Path, e.ID, to)
	return err
}

// rename moves the file at oldPath to its place in queue to, creating a
// missing hashed directory, and returns the new path.
func (l *Layout) rename(oldPath, id, to string) (string, error) {
	newPath := l.Path(to, id)
	err := renameFile(oldPath, newPath)
	if errors.Is(err, os.ErrNotExist) {
		if _, statErr := os.Lstat(oldPath); statErr == nil {
			if mkErr := os.MkdirAll(filepath.Dir(newPath), 0o700); mkErr != nil {
				return "", fmt.Errorf("create directory %s: %w", filepath.Dir(newPath), mkErr)
			}
			err = renameFile(oldPath, newPath)
		}
	}
	if err != nil {
		return "", fmt.Errorf("rename %s to %s: %w", oldPath, newPath, err)
	}
	return newPath, nil
}

// MoveEntry moves a file found by Walk (possibly misplaced) to where the
// layout wants it in queue to.
func (l *Layout) MoveEntry(e Entry, to string) error {
	return l.moveFrom(e.Path, e.ID, to)
}

// Remove deletes queue file id from queue, with its defer, bounce and
// trace logs. A missing queue file gives an error wrapping
// os.ErrNotExist.
func (l *Layout) Remove(queue, id string) error {
	return l.RemoveEntry(Entry{Queue: queue, ID: id, Path: l.Path(queue, id)})
}

// RemoveEntry deletes a file found by Walk, with its status logs.
func (l *Layout) RemoveEntry(e Entry) error {
	if err := RemoveFile(e.Path); err != nil {
		return fmt.Errorf("remove file %s: %w", l.RelPath(e.Queue, e.ID), err)
	}
	return l.removeLogs(e.ID)
}

func (l *Layout) removeLogs(id string) error {
	for _, logQueue := range []string{Defer, Bounce, Trace} {
		if err := RemoveFile(l.Path(logQueue, id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove file %s: %w", l.RelPath(logQueue, id), err)
		}
	}
	return nil
}

// SaveCorrupt moves an unreadable file to the corrupt queue and warns as
// Postfix does: saving corrupt file "ID" from queue "active" to queue
// "corrupt".
func (l *Layout) SaveCorrupt(queue, id string, warn func(string)) error {
	if warn != nil {
		warn(fmt.Sprintf("saving corrupt file %q from queue %q to queue %q", id, queue, Corrupt))
	}
	return l.Move(id, queue, Corrupt)
}

// MarkDone flips the recipient record at offset from todo to done by
// overwriting its one type byte. Marking a done recipient again is not an
// error; an offset that is not a recipient record is. Like Postfix, it does
// not fsync: after a crash the recipient is at worst delivered again.
func MarkDone(path string, offset int64) error {
	f, err := openFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	d := &DoneMarker{f: f, path: path}
	if err := d.MarkDone(offset); err != nil {
		f.Close()
		return err
	}
	return d.Close()
}

// markDone is MarkDone on the open file f (named path).
func markDone(f *os.File, path string, offset int64) error {
	var b [1]byte
	if _, err := f.ReadAt(b[:], offset); err != nil {
		if err == io.EOF {
			return fmt.Errorf("%s: offset %d: %w: no recipient record there", path, offset, ErrCorrupt)
		}
		return fmt.Errorf("read %s: %w", path, err)
	}
	switch RecordType(b[0]) {
	case RecDone:
		return nil
	case RecRcpt:
	default:
		return fmt.Errorf("%s: offset %d: %w: no recipient record there", path, offset, ErrCorrupt)
	}
	if _, err := f.WriteAt([]byte{byte(RecDone)}, offset); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// DoneMarker is MarkDone for one message whose file stays open: the queue
// manager opens it once per delivery attempt (LoadForUpdate) instead of
// once more per recipient.
type DoneMarker struct {
	f    *os.File
	path string
}

// MarkDone marks the recipient record at offset done, as MarkDone does.
func (d *DoneMarker) MarkDone(offset int64) error { return markDone(d.f, d.path, offset) }

// Close closes the file.
func (d *DoneMarker) Close() error {
	if err := d.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", d.path, err)
	}
	return nil
}

// SetNextAttempt sets the modification time of a deferred file to the
// time of its next delivery attempt, which the queue manager's deferred
// scan compares with the clock.
func (l *Layout) SetNextAttempt(queue, id string, next time.Time) error {
	path := l.Path(queue, id)
	if err := os.Chtimes(path, time.Now(), next); err != nil {
		return fmt.Errorf("set retry time of %s: %w", l.RelPath(queue, id), err)
	}
	return nil
}

// SetForcedExpire marks a message force-expired (postsuper -e/-f): the
// queue manager returns it to the sender at its next attempt, and
// postqueue shows '#'.
func (l *Layout) SetForcedExpire(queue, id string) error {
	path := l.Path(queue, id)
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", l.RelPath(queue, id), err)
	}
	if err := os.Chmod(path, st.Mode().Perm()|modeForcedExpired); err != nil {
		return fmt.Errorf("chmod %s: %w", l.RelPath(queue, id), err)
	}
	return nil
}

// SetUnthrottled marks (on) or unmarks the queue file at path as flushed
// by postqueue -s: the queue manager then delivers it once even over
// defer_transports, and clears the mark.
func SetUnthrottled(path string, on bool) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	mode := st.Mode().Perm() &^ modeUnthrottled
	if on {
		mode |= modeUnthrottled
	}
	if mode == st.Mode().Perm() {
		return nil
	}
	return os.Chmod(path, mode)
}

// Requeue moves message id from queue to the maildrop queue and removes
// its status logs (postsuper -r). Pickup then sends it through cleanup
// again, which gives it a new queue ID and redoes address rewriting and
// content filtering; the arrival time is kept. Pickup must submit only the
// recipients that are not done (Message.Pending).
func (l *Layout) Requeue(queue, id string) error {
	return l.RequeueEntry(Entry{Queue: queue, ID: id, Path: l.Path(queue, id)})
}

// RequeueEntry requeues a file found by Walk.
func (l *Layout) RequeueEntry(e Entry) error {
	if err := l.moveFrom(e.Path, e.ID, Maildrop); err != nil {
		return err
	}
	return l.removeLogs(e.ID)
}
