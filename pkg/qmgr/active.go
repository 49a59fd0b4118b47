// The active list: the messages being worked on, and the recipients they
// hold in memory, which qmgr_message_recipient_limit bounds.

package qmgr

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
// list; q.mu is held.
func (q *Manager) deactivateLocked(id string) {
	q.recipientsInMemory -= q.active[id]
	delete(q.active, id)
}
