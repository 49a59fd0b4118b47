// A stand-in cleanup service that keeps what it is sent.

package ipctest

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

// Submission is what the stand-in cleanup received for one message.
type Submission struct {
	Sub     ipc.CleanupSubmission
	Content string
}

// Cleanup is a cleanup service that accepts every complete submission and
// answers queue IDs made of its prefix and a count: FAKE1, FAKE2, ...
type Cleanup struct {
	// Path is the socket's path.
	Path string

	idPrefix string
	mu       sync.Mutex
	subs     []Submission
	aborted  int
	opened   int
	conns    int
	reply    *ipc.CleanupReply
	// oneMessagePerConn: hang up after each message.
	oneMessagePerConn bool
}

// StartCleanup serves a stand-in cleanup on the socket path until the
// test ends.
func StartCleanup(t testing.TB, path, idPrefix string) *Cleanup {
	t.Helper()
	c := &Cleanup{Path: path, idPrefix: idPrefix}
	Listen(t, path, c.serve)
	return c
}

func (c *Cleanup) serve(ctx context.Context, nc net.Conn) {
	conn, err := ipc.Greet(ctx, nc, ipc.ProtocolCleanup)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.conns++
	c.mu.Unlock()
	for c.serveMessage(ctx, conn) {
	}
}

// serveMessage takes one message; it reports whether the connection may
// carry another.
func (c *Cleanup) serveMessage(ctx context.Context, conn *ipc.Conn) bool {
	m, err := conn.Receive(ctx)
	if err != nil {
		return false
	}
	openedID := ""
	if _, ok := m.(*ipc.CleanupOpen); ok {
		// The queue file is made at once: its ID is the one the next
		// complete submission gets, unless this one is abandoned.
		c.mu.Lock()
		openedID = fmt.Sprintf("%s%d", c.idPrefix, len(c.subs)+1)
		c.opened++
		c.mu.Unlock()
		if err := conn.Send(ctx, &ipc.CleanupReply{QueueID: openedID}); err != nil {
			return false
		}
		if m, err = conn.Receive(ctx); err != nil {
			return false // abandoned before its submission
		}
	}
	sub, ok := m.(*ipc.CleanupSubmission)
	if !ok {
		return false
	}
	content, err := io.ReadAll(conn.ContentReader(ctx))
	c.mu.Lock()
	if err != nil {
		c.aborted++
		c.mu.Unlock()
		return false
	}
	c.subs = append(c.subs, Submission{Sub: *sub, Content: string(content)})
	reply := ipc.CleanupReply{QueueID: fmt.Sprintf("%s%d", c.idPrefix, len(c.subs))}
	if openedID != "" {
		reply.QueueID = openedID
	}
	if c.reply != nil {
		reply = *c.reply
	}
	// Decided before the reply, so a client that acts on the reply
	// cannot change what this message's connection does next.
	once := c.oneMessagePerConn
	c.mu.Unlock()
	return conn.Send(ctx, &reply) == nil && !once
}

// SetOneMessagePerConn makes the service hang up after each message, as
// a cleanup process that exits would.
func (c *Cleanup) SetOneMessagePerConn(once bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.oneMessagePerConn = once
}

// Conns returns how many connections clients made.
func (c *Cleanup) Conns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conns
}

// SetReply makes the service answer reply instead of a queue ID.
func (c *Cleanup) SetReply(reply *ipc.CleanupReply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reply = reply
}

// Submissions returns the complete submissions so far.
func (c *Cleanup) Submissions() []Submission {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Submission(nil), c.subs...)
}

// Opened returns how many queue files were asked for with a CleanupOpen.
func (c *Cleanup) Opened() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opened
}

// Aborted returns how many submissions ended before their content did.
func (c *Cleanup) Aborted() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.aborted
}

// WaitAborted waits until n submissions were abandoned.
func (c *Cleanup) WaitAborted(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for c.Aborted() < n {
		if time.Now().After(deadline) {
			t.Errorf("aborted submissions = %d, want %d", c.Aborted(), n)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
