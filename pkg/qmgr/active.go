// The active list: the messages being worked on, the recipients they
// hold in memory, which qmgr_message_recipient_limit bounds, and the
// files a scan left because their ID was still on it.

package qmgr

import (
	"context"
	"errors"

	"github.com/postern/postern/pkg/queue"
)

// activateLocked puts message id on the active list, where it counts as
// one recipient in memory until it is loaded; it reports false when the
// message is on the list already. q.mu is held.
func (q *Manager) activateLocked(id string) bool {
	if _, ok := q.active[id]; ok {
		return false
	}
	q.active[id] = 1
	q.recipientsInMemory++
	return true
}

// loaded counts active message id, now loaded, as the pending recipients
// it holds.
func (q *Manager) loaded(id string, pending int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.recipientsInMemory += pending - q.active[id]
	q.active[id] = pending
}

// deactivateLocked takes message id, with its recipients, off the active
// list, and reports whether a scan left a file of that ID meanwhile; q.mu
// is held.
func (q *Manager) deactivateLocked(id string) bool {
	q.recipientsInMemory -= q.active[id]
	delete(q.active, id)
	_, left := q.left[id]
	return left
}

// leftFile is a file a scan left because its ID was still active (the
// attempt that moved it there was ending), with what that scan asked
// for.
type leftFile struct {
	entry         queue.Entry
	all, flushing bool
}

// leaveLocked records that a scan left e because its ID is active; Run's
// loop takes it up once the ID is off the active list. q.mu is held.
func (q *Manager) leaveLocked(e queue.Entry, all, flushing bool) {
	if q.left == nil {
		q.left = map[string]leftFile{}
	}
	if old, ok := q.left[e.ID]; ok && old.entry.Path == e.Path {
		all, flushing = all || old.all, flushing || old.flushing
	}
	q.left[e.ID] = leftFile{entry: e, all: all, flushing: flushing}
}

// takeLeftLocked returns the files scans left whose ID is no longer
// active, and forgets them; q.mu is held.
func (q *Manager) takeLeftLocked() []leftFile {
	var again []leftFile
	for id, f := range q.left {
		if _, ok := q.active[id]; !ok {
			again = append(again, f)
			delete(q.left, id)
		}
	}
	return again
}

// takeAgain takes up files scans left, as those scans would have: a
// deferred file a flush left is taken whenever it is due. One that finds
// the active queue full is left again, for the next look.
func (q *Manager) takeAgain(ctx context.Context, files []leftFile) {
	now := q.now()
	for _, f := range files {
		if err := q.take(ctx, f.entry, f.all, f.flushing, now); errors.Is(err, errActiveFull) {
			q.mu.Lock()
			q.leaveLocked(f.entry, f.all, f.flushing)
			q.mu.Unlock()
		}
	}
}
