// Queue structure repair (postsuper -s): names that match inodes, files in their hashed place.

package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// RepairReport counts what RepairStructure changed.
type RepairReport struct {
	// Renamed counts files renamed to match their inode number (after a
	// restore from backup, for example).
	Renamed int
	// Moved counts files moved to the hashed subdirectory the layout
	// wants (after hash_queue_depth or hash_queue_names changed).
	Moved int
}

// RepairStructure checks every file of the message queues: a queue ID
// whose inode part does not match the file's inode gets a new name (the
// time part is kept; its status logs follow it), and a file outside its
// hashed subdirectory is moved there. A name that is not a queue ID gets a
// warning ("bogus file name: incoming/12.34"). Status logs in defer, bounce and
// trace are moved to their hashed place. Run it while the queue manager
// is stopped. Problems with one file are reported to warn and do not stop
// the repair.
func (l *Layout) RepairStructure(warn func(string)) (RepairReport, error) {
	var report RepairReport
	for _, q := range []string{Maildrop, Incoming, Active, Deferred, Hold} {
		err := l.walkDir(q, filepath.Join(l.Root, q), true, func(e Entry) error {
			if _, ok := InodeOf(e.ID); !ok || !ValidID(e.ID) {
				rel, _ := filepath.Rel(l.Root, e.Path)
				warn("bogus file name: " + filepath.ToSlash(rel))
				return nil
			}
			renamed, err := l.matchInode(e)
			if err != nil {
				warn(err.Error())
				return nil
			}
			if renamed {
				report.Renamed++
				return nil
			}
			return l.place(e, &report, warn)
		})
		if err != nil {
			return report, err
		}
	}
	for _, q := range []string{Defer, Bounce, Trace} {
		err := l.Walk(q, func(e Entry) error { return l.place(e, &report, warn) })
		if err != nil {
			return report, err
		}
	}
	return report, nil
}

func (l *Layout) place(e Entry, report *RepairReport, warn func(string)) error {
	if !l.Misplaced(e) {
		return nil
	}
	if err := l.MoveEntry(e, e.Queue); err != nil {
		warn(err.Error())
		return nil
	}
	report.Moved++
	return nil
}

// matchInode renames e when its ID does not carry its inode number.
func (l *Layout) matchInode(e Entry) (bool, error) {
	st, err := os.Lstat(e.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("lstat %s: %w", e.Path, err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || !st.Mode().IsRegular() {
		return false, nil
	}
	if inode, _ := InodeOf(e.ID); inode == sys.Ino {
		return false, nil
	}
	newID := WithInode(e.ID, sys.Ino)
	if err := l.renameNoReplace(e.Path, l.Path(e.Queue, newID)); err != nil {
		return false, err
	}
	for _, logQueue := range []string{Defer, Bounce, Trace} {
		oldLog := l.Path(logQueue, e.ID)
		if _, err := os.Lstat(oldLog); err != nil {
			continue
		}
		if err := l.moveFrom(oldLog, newID, logQueue); err != nil {
			return true, err
		}
	}
	if err := l.syncer.Sync(l.Dir(e.Queue, newID)); err != nil {
		return true, err
	}
	return true, nil
}
