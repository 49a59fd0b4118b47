// Connections to cleanup kept between messages.

package smtpd

import (
	"context"
	"sync"

	"github.com/postern/postern/pkg/ipc"
)

// maxIdleCleanupConns bounds the connections to cleanup that a server
// keeps open between messages.
const maxIdleCleanupConns = 64

// cleanupConns keeps the connections to cleanup whose last message is
// done, for the next transaction of any session: cleanup serves one
// message after another on a connection, so a message costs no connect,
// greeting and accept, and a cleanup process reaches max_use after that
// many connections rather than that many messages (as qmgr keeps its
// connections to the delivery agents). The zero value is ready for use.
type cleanupConns struct {
	mu   sync.Mutex
	idle []*ipc.Conn
}

// get returns a kept connection, or nil.
func (p *cleanupConns) get() *ipc.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	c := p.idle[n-1]
	p.idle = p.idle[:n-1]
	return c
}

// put keeps c for a later message, or closes it when enough are kept.
func (p *cleanupConns) put(c *ipc.Conn) {
	p.mu.Lock()
	if len(p.idle) < maxIdleCleanupConns {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// openQueueFile asks cleanup for a new queue file over a kept connection
// or a new one. A kept connection whose cleanup process has gone (it
// exited at max_use or max_idle, or was killed) fails at once; the next
// kept one or, after that, a new connection is tried instead. Errors are
// from the new connection.
func (srv *Server) openQueueFile(ctx context.Context) (*ipc.Conn, ipc.CleanupReply, error) {
	for {
		cc := srv.cleanupIdle.get()
		if cc == nil {
			break
		}
		rep, err := requestQueueFile(ctx, cc)
		if err == nil {
			return cc, rep, nil
		}
		cc.Close()
	}
	cc, err := srv.DialCleanup(ctx)
	if err != nil {
		return nil, ipc.CleanupReply{}, errDialCleanup{err}
	}
	rep, err := requestQueueFile(ctx, cc)
	if err != nil {
		cc.Close()
		return nil, rep, err
	}
	return cc, rep, nil
}

// requestQueueFile sends a CleanupOpen on cc and reads cleanup's answer.
func requestQueueFile(ctx context.Context, cc *ipc.Conn) (ipc.CleanupReply, error) {
	var rep ipc.CleanupReply
	if err := cc.Send(ctx, &ipc.CleanupOpen{}); err != nil {
		return rep, err
	}
	err := cc.Expect(ctx, &rep)
	return rep, err
}

// errDialCleanup marks a failure to connect to cleanup at all.
type errDialCleanup struct{ err error }

func (e errDialCleanup) Error() string { return e.err.Error() }
func (e errDialCleanup) Unwrap() error { return e.err }
