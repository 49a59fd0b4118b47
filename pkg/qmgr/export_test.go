// What the external tests of the package may see of its state.

package qmgr

// WaitingAt counts the jobs waiting for a slot of the window of
// transport:nexthop (0 when it has no window).
func (q *Manager) WaitingAt(transport, nexthop string) int {
	q.init()
	q.mu.Lock()
	defer q.mu.Unlock()
	w := q.windows[transport+":"+nexthop]
	if w == nil {
		return 0
	}
	n := 0
	for d := w.waiting.first; d != nil; d = d.next {
		n++
	}
	return n
}
