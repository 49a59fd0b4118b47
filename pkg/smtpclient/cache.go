// Connection reuse: a session that delivered is parked after RSET under
// its server's address, and the first good session of a request also
// under the request's destination, for the next requests, as Postfix's
// connection cache keeps them.

package smtpclient

import (
	"sync"
	"time"
)

// connCache holds idle sessions by server endpoint, and which endpoint a
// destination was last delivered to.
type connCache struct {
	// idleLimit is smtp_connection_cache_time_limit, ageLimit
	// smtp_connection_reuse_time_limit and useLimit
	// smtp_connection_reuse_count_limit (0 = none).
	idleLimit, ageLimit time.Duration
	useLimit            int

	mu     sync.Mutex
	parked map[string][]*parkedSession // by endpoint
	bound  map[string]string           // destination → endpoint
}

// parkedSession is an idle connection with its EHLO state.
type parkedSession struct {
	s      *session
	timer  *time.Timer
	opened time.Time
	uses   int
}

func newConnCache(idleLimit, ageLimit time.Duration, useLimit int) *connCache {
	return &connCache{idleLimit: idleLimit, ageLimit: ageLimit, useLimit: useLimit,
		parked: map[string][]*parkedSession{}, bound: map[string]string{}}
}

// park keeps a session with endpoint when the limits allow, bound to
// dest unless that is ""; otherwise, or when the idle time runs out, it
// ends the session.
func (c *connCache) park(dest, endpoint string, p *parkedSession) {
	if (c.useLimit > 0 && p.uses >= c.useLimit) || time.Since(p.opened) >= c.ageLimit {
		p.s.quit()
		p.s.close()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.parked[endpoint] = append(c.parked[endpoint], p)
	if dest != "" {
		c.bound[dest] = endpoint
	}
	p.timer = time.AfterFunc(c.idleLimit, func() {
		if c.remove(endpoint, p) {
			p.s.quit()
			p.s.close()
		}
	})
}

// take returns a parked session of the endpoint dest is bound to, or nil.
func (c *connCache) take(dest string) *parkedSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	endpoint, ok := c.bound[dest]
	if !ok {
		return nil
	}
	p := c.takeLocked(endpoint)
	if p == nil {
		delete(c.bound, dest)
	}
	return p
}

// takeEndpoint returns a parked session with endpoint, or nil.
func (c *connCache) takeEndpoint(endpoint string) *parkedSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.takeLocked(endpoint)
}

func (c *connCache) takeLocked(endpoint string) *parkedSession {
	list := c.parked[endpoint]
	if len(list) == 0 {
		return nil
	}
	p := list[len(list)-1]
	if len(list) == 1 {
		delete(c.parked, endpoint)
	} else {
		c.parked[endpoint] = list[:len(list)-1]
	}
	p.timer.Stop()
	return p
}

// remove drops p from the cache; false when it was taken meanwhile.
func (c *connCache) remove(endpoint string, p *parkedSession) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	list := c.parked[endpoint]
	for i, q := range list {
		if q == p {
			if len(list) == 1 {
				delete(c.parked, endpoint)
			} else {
				c.parked[endpoint] = append(list[:i], list[i+1:]...)
			}
			return true
		}
	}
	return false
}
