// On-demand connection caching: while a destination has a backlog, qmgr
// asks its delivery agent to keep and reuse connections, as Postfix's
// queue manager does.

package qmgr

import (
	"time"

	"github.com/postern/postern/pkg/ipc"
)

// connCaching is a destination's connection caching state: the request
// flags its deliveries get and when its last delivery ended. It lives as
// long as the destination has jobs (Postfix's in-core queue).
type connCaching struct {
	flags    ipc.DeliveryFlags
	lastDone int64 // Unix seconds; 0 = none yet
}

// backToBack reports whether the previous delivery ended within the last
// second, by whole seconds as Postfix's event clock counts.
func (c *connCaching) backToBack(now time.Time) bool {
	return c.lastDone != 0 && c.lastDone+1 >= now.Unix()
}

// selectFlags returns the caching flags for a delivery that is about to
// start while busy deliveries (this one included) are in progress.
// Caching starts with a back-to-back delivery, not with a burst of
// concurrent ones; storing stops when the destination runs out of
// steam, while loading stays on so that nothing cached is left unused.
func (c *connCaching) selectFlags(now time.Time, busy int) ipc.DeliveryFlags {
	const both = ipc.DeliveryFlagConnLoad | ipc.DeliveryFlagConnStore
	if c.flags&ipc.DeliveryFlagConnStore == 0 {
		if c.backToBack(now) {
			c.flags |= both
		}
	} else if busy <= 1 && !c.backToBack(now) {
		c.flags &^= ipc.DeliveryFlagConnStore
	}
	return c.flags
}

// done records the end of a delivery.
func (c *connCaching) done(now time.Time) { c.lastDone = now.Unix() }

// cachingFlags selects the caching flags of a delivery holding a slot of w.
func (q *Manager) cachingFlags(w *Window) ipc.DeliveryFlags {
	q.mu.Lock()
	defer q.mu.Unlock()
	return w.caching.selectFlags(q.now(), w.InFlight())
}

// deliveryDone records the end of a delivery holding a slot of w.
func (q *Manager) deliveryDone(w *Window) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w.caching.done(q.now())
}
