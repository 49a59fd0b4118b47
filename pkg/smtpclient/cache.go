// Connection reuse: a session that delivered is parked after RSET, per
// nexthop, for the next request to the same destination.

package smtpclient

import (
	"sync"
	"time"
)

// connCache holds idle sessions by nexthop.
type connCache struct {
	// idleLimit is smtp_connection_cache_time_limit, ageLimit
	// smtp_connection_reuse_time_limit and useLimit
	// smtp_connection_reuse_count_limit (0 = none).
	idleLimit, ageLimit time.Duration
	useLimit            int

	mu     sync.Mutex
	parked map[string][]*parkedSession
}

// parkedSession is an idle connection with its EHLO state.
type parkedSession struct {
	s      *session
	timer  *time.Timer
	opened time.Time
	uses   int
}

func newConnCache(idleLimit, ageLimit time.Duration, useLimit int) *connCache {
	return &connCache{idleLimit: idleLimit, ageLimit: ageLimit, useLimit: useLimit, parked: map[string][]*parkedSession{}}
}

// park keeps s for nexthop when the limits allow; otherwise, or when the
// idle time runs out, it ends the session.
func (c *connCache) park(nexthop string, p *parkedSession) {
	if (c.useLimit > 0 && p.uses >= c.useLimit) || time.Since(p.opened) >= c.ageLimit {
		p.s.quit()
		p.s.close()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.parked[nexthop] = append(c.parked[nexthop], p)
	p.timer = time.AfterFunc(c.idleLimit, func() {
		if c.remove(nexthop, p) {
			p.s.quit()
			p.s.close()
		}
	})
}

// take returns a parked session for nexthop, or nil.
func (c *connCache) take(nexthop string) *parkedSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	list := c.parked[nexthop]
	if len(list) == 0 {
		return nil
	}
	p := list[len(list)-1]
	c.parked[nexthop] = list[:len(list)-1]
	p.timer.Stop()
	return p
}

// remove drops p from the cache; false when it was taken meanwhile.
func (c *connCache) remove(nexthop string, p *parkedSession) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	list := c.parked[nexthop]
	for i, q := range list {
		if q == p {
			c.parked[nexthop] = append(list[:i], list[i+1:]...)
			return true
		}
	}
	return false
}
