// Connections: dialing a service, greeting a client, and timed frame I/O.

package ipc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// DefaultTimeout bounds every read and write unless SetTimeout says
// otherwise; it is Postfix's ipc_timeout default.
const DefaultTimeout = 3600 * time.Second

// ErrTimeout is wrapped by the error for a read or write that did not
// complete within the connection's timeout.
var ErrTimeout = errors.New("timeout")

// Conn is one end of a protocol connection. It is not safe for concurrent
// use; after any error other than a clean io.EOF from Receive, the only
// thing left to do with it is Close.
type Conn struct {
	nc       net.Conn
	r        *bufio.Reader
	peer     string
	timeout  time.Duration
	maxFrame int
	wbuf     []byte
	// armed is the deadline the last operation set on nc from the
	// timeout, kept for the next while it is recent enough (see timed);
	// zero when none is known to be set.
	armed time.Time
}

// readBufferSize is small on purpose: ReadFrame reads a large payload
// straight into its own slice, and most connections carry a few short
// frames, so a chunk-sized buffer on every connection is only allocation
// and GC work (a relayed message opens six Conns: both ends of
// smtpd-cleanup, cleanup-qmgr and qmgr-smtp).
const readBufferSize = 4096

func newConn(nc net.Conn, peer string) *Conn {
	return &Conn{
		nc:       nc,
		r:        bufio.NewReaderSize(nc, readBufferSize),
		peer:     peer,
		timeout:  DefaultTimeout,
		maxFrame: DefaultMaxFrame,
	}
}

// Dial connects to the Unix-domain socket at path (for example
// "private/cleanup", relative to the queue directory the daemons run in),
// reads the server's greeting and checks that it speaks want.
func Dial(ctx context.Context, path string, want Protocol) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", path, unwrapOp(err))
	}
	c := newConn(nc, path)
	if err := c.checkGreeting(ctx, want); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func (c *Conn) checkGreeting(ctx context.Context, want Protocol) error {
	var hello Hello
	if err := c.Expect(ctx, &hello); err != nil {
		return err
	}
	if hello.Protocol != want {
		return fmt.Errorf("%s speaks protocol %v, want %v", c.peer, hello.Protocol, want)
	}
	return nil
}

// Greet wraps an accepted connection on the server side and sends the
// greeting that announces p.
func Greet(ctx context.Context, nc net.Conn, p Protocol) (*Conn, error) {
	peer := "client"
	if local := nc.LocalAddr(); local != nil {
		if name := local.String(); name != "" && name != "<nil>" {
			peer = "client of " + name
		}
	}
	c := newConn(nc, peer)
	if err := c.Send(ctx, &Hello{Protocol: p}); err != nil {
		return nil, err
	}
	return c, nil
}

// SetTimeout sets the limit for each later read or write; a context
// deadline that comes sooner still wins.
func (c *Conn) SetTimeout(d time.Duration) {
	c.timeout = d
	c.armed = time.Time{}
}

// SetMaxFrame sets the largest frame payload accepted or sent.
func (c *Conn) SetMaxFrame(n int) { c.maxFrame = n }

// Peer describes the other end in error messages: the socket path on the
// client side.
func (c *Conn) Peer() string { return c.peer }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Send writes m as one frame, after the frames Queue kept back, in one
// write.
func (c *Conn) Send(ctx context.Context, m Message) error {
	if err := c.Queue(m); err != nil {
		return err
	}
	return c.flush(ctx, m.Type())
}

// Queue adds m as one frame to those the next Send (or SendContent)
// writes, so that a request and what follows it leave in one write and
// reach the peer in one read: a submission with its content and end
// marker costs one system call on each side, not three. It fails only
// when m is over the frame limit.
func (c *Conn) Queue(m Message) error {
	start := len(c.wbuf)
	c.wbuf = AppendFrame(c.wbuf, m)
	if size := len(c.wbuf) - start - HeaderSize; size > c.maxFrame {
		c.wbuf = c.wbuf[:start]
		return fmt.Errorf("write %v to %s: %v of %d bytes exceeds the limit of %d bytes: %w", m.Type(), c.peer, m.Type(), size, c.maxFrame, ErrFrameTooLarge)
	}
	return nil
}

// flush writes the queued frames; last names the newest in errors.
func (c *Conn) flush(ctx context.Context, last MsgType) error {
	err := c.timed(ctx, func() error {
		_, err := c.nc.Write(c.wbuf)
		return err
	})
	c.wbuf = c.wbuf[:0]
	if err != nil {
		return fmt.Errorf("write %v to %s: %w", last, c.peer, err)
	}
	return nil
}

// Expect reads the next frame, which must carry a message of m's type, and
// decodes it into m. A peer that hangs up, even between frames, gives an
// error wrapping io.ErrUnexpectedEOF.
func (c *Conn) Expect(ctx context.Context, m Message) error {
	what := m.Type().String()
	t, payload, err := c.readFrame(ctx, what, true)
	if err != nil {
		return err
	}
	if t != m.Type() {
		return fmt.Errorf("read %s from %s: unexpected %v", what, c.peer, t)
	}
	if err := decode(m, payload); err != nil {
		return fmt.Errorf("read %s from %s: malformed %v: %w", what, c.peer, t, err)
	}
	return nil
}

// Receive reads the next message of any type, as a server waiting for a
// request does. A peer that closes the connection between frames gives an
// error wrapping io.EOF; one that hangs up inside a frame gives
// io.ErrUnexpectedEOF.
func (c *Conn) Receive(ctx context.Context) (Message, error) {
	return c.receive(ctx, "request", false)
}

func (c *Conn) receive(ctx context.Context, what string, eofUnexpected bool) (Message, error) {
	t, payload, err := c.readFrame(ctx, what, eofUnexpected)
	if err != nil {
		return nil, err
	}
	m, err := NewMessage(t)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", what, c.peer, err)
	}
	if err := decode(m, payload); err != nil {
		return nil, fmt.Errorf("read %s from %s: malformed %v: %w", what, c.peer, t, err)
	}
	return m, nil
}

func (c *Conn) readFrame(ctx context.Context, what string, eofUnexpected bool) (MsgType, []byte, error) {
	var (
		t       MsgType
		payload []byte
	)
	err := c.timed(ctx, func() error {
		var err error
		t, payload, err = ReadFrame(c.r, c.maxFrame)
		return err
	})
	if err != nil {
		if eofUnexpected && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, fmt.Errorf("read %s from %s: %w", what, c.peer, err)
	}
	return t, payload, nil
}

// timed runs op with the connection's deadline armed: the sooner of the
// timeout and the context's deadline, and cut short if ctx is cancelled.
//
// Arming a deadline updates two runtime timers, and a cancellable ctx
// needs a callback registered and removed, on every frame read or
// written. So a deadline from the timeout is kept for the next
// operations while it is no more than keepSlack of the timeout older
// than the one they would set: each operation still gets at least
// 63/64 of the timeout (the default ipc_timeout of an hour less under a
// minute), as Postfix's own timeouts are approximate too. A context that
// can never be cancelled needs no callback.
func (c *Conn) timed(ctx context.Context, op func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline := time.Now().Add(c.timeout)
	ctxDeadline, hasCtxDeadline := ctx.Deadline()
	if hasCtxDeadline && ctxDeadline.Before(deadline) {
		deadline = ctxDeadline
	} else {
		hasCtxDeadline = false
	}
	if hasCtxDeadline || c.armed.IsZero() || deadline.Before(c.armed) || deadline.Sub(c.armed) > c.timeout/keepSlack {
		if err := c.nc.SetDeadline(deadline); err != nil {
			c.armed = time.Time{}
			return unwrapOp(err)
		}
		c.armed = deadline
		if hasCtxDeadline {
			// Not the timeout's: the next operation sets its own.
			c.armed = time.Time{}
		}
	}
	var err error
	if ctx.Done() == nil {
		err = op()
	} else {
		stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
		err = op()
		if !stop() {
			// The deadline is in the past now.
			c.armed = time.Time{}
		}
	}
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if hasCtxDeadline {
			// The socket's clock can beat the context's own timer.
			return context.DeadlineExceeded
		}
		return ErrTimeout
	}
	return unwrapOp(err)
}

// keepSlack: a deadline armed from the timeout is kept while the one an
// operation would set is at most a keepSlack'th of the timeout later.
const keepSlack = 64

// unwrapOp drops net.OpError's "read unix @->path:" decoration, which only
// repeats what the caller's message says.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}
