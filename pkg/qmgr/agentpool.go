// Connections to the delivery agents, kept open between delivery requests.

package qmgr

import (
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

// agentIdleLimit is how long an unused agent connection is kept. Kept
// connections spare a connect and greeting per request and, above all,
// keep an agent process (and the SMTP connections it caches) serving
// instead of reaching max_use every hundred requests.
const agentIdleLimit = 10 * time.Second

// agentPool holds idle connections to delivery agents, by socket path.
// A connection is either in the pool or used by exactly one request.
//
// An agent process serves a limited number of connections at once (one
// at maxproc 1, as a Postfix agent serves one client at a time), and a
// connection beyond waits in the listen queue for one to close. So while
// a request waits to connect to a socket, the pool keeps no connection
// to it: it closes the idle ones and those that come back, each of which
// lets the agent take a waiting connection. Kept, they would be reused
// by the next requests while the waiting ones starved.
type agentPool struct {
	mu   sync.Mutex
	idle map[string][]idleAgent
	// dialing counts, by socket, the requests connecting to it.
	dialing map[string]int
}

type idleAgent struct {
	conn  *ipc.Conn
	since time.Time
}

// get returns the most recently used idle connection to socket, or nil.
func (p *agentPool) get(socket string) *ipc.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[socket]
	if len(list) == 0 {
		return nil
	}
	c := list[len(list)-1]
	p.idle[socket] = list[:len(list)-1]
	return c.conn
}

// put returns a connection whose last exchange went well: it is kept,
// unless a request is connecting to socket.
func (p *agentPool) put(socket string, c *ipc.Conn, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dialing[socket] > 0 {
		c.Close()
		return
	}
	if p.idle == nil {
		p.idle = map[string][]idleAgent{}
	}
	p.idle[socket] = append(p.idle[socket], idleAgent{conn: c, since: now})
}

// dialStart tells the pool that a request connects to socket, until
// dialEnd: it closes the idle connections to socket.
func (p *agentPool) dialStart(socket string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dialing == nil {
		p.dialing = map[string]int{}
	}
	p.dialing[socket]++
	for _, c := range p.idle[socket] {
		c.conn.Close()
	}
	delete(p.idle, socket)
}

// dialEnd ends what dialStart began, whether the connection was made or
// not.
func (p *agentPool) dialEnd(socket string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dialing[socket]--; p.dialing[socket] == 0 {
		delete(p.dialing, socket)
	}
}

// expire closes the connections idle since before now - agentIdleLimit,
// so that an agent nobody needs can reach max_idle and exit.
func (p *agentPool) expire(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for socket, list := range p.idle {
		keep := list[:0]
		for _, c := range list {
			if now.Sub(c.since) > agentIdleLimit {
				c.conn.Close()
			} else {
				keep = append(keep, c)
			}
		}
		clear(list[len(keep):])
		if len(keep) == 0 {
			delete(p.idle, socket)
		} else {
			p.idle[socket] = keep
		}
	}
}

// closeAll closes every idle connection.
func (p *agentPool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, list := range p.idle {
		for _, c := range list {
			c.conn.Close()
		}
	}
	p.idle = nil
}

// peerHungUp tells a kept connection that the agent closed meanwhile (it
// exited at max_use, max_idle or reload) from other failures: the request
// can then go again on a new connection. The agent may in rare cases have
// delivered before it went away, which only adds to the at-least-once
// delivery that a deferral would have given too.
func peerHungUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}
