// The Client: one shared connection to Dovecot's auth service, the
// handshake, reconnection, and requests multiplexed by ID.

package sasl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The protocol version this client speaks.
const (
	majorVersion = 1
	minorVersion = 2
)

// DefaultTimeout bounds the handshake and the wait for each reply, as
// Postfix's AUTH_TIMEOUT does.
const DefaultTimeout = 10 * time.Second

// maxLine bounds a line from the auth server.
const maxLine = 64 << 10

// Texts of the temporary failures, as Postfix words them.
const (
	textCannotConnect  = "Can't connect to authentication server"
	textConnectionLost = "Connection lost to authentication server"
)

// UnavailableError means Dovecot could not be reached or went away: the
// SMTP client should try again later (454).
type UnavailableError struct {
	Text string // Postfix's text for the reply
	Err  error  // the cause, for the log
}

func (e *UnavailableError) Error() string { return e.Text + ": " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// Client talks to one Dovecot auth service. It is safe for concurrent use;
// all requests share one connection.
type Client struct {
	network, address string
	timeout          time.Duration
	pid              int

	mu     sync.Mutex
	cur    *conn       // nil while not connected
	mechs  []Mechanism // from the last successful handshake
	lastID uint32
}

// NewClient returns a client for path: "inet:host:port", "unix:PATH" or a
// Unix socket path (relative paths are relative to the working directory,
// the queue directory in a daemon). It connects on first use.
func NewClient(path string, timeout time.Duration) *Client {
	network, address := "unix", path
	if rest, ok := strings.CutPrefix(path, "inet:"); ok {
		network, address = "tcp", rest
	} else if rest, ok := strings.CutPrefix(path, "unix:"); ok {
		address = rest
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{network: network, address: address, timeout: timeout, pid: os.Getpid()}
}

// Close drops the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	cn := c.cur
	c.cur = nil
	c.mu.Unlock()
	if cn != nil {
		cn.shut(errors.New("client closed"))
	}
	return nil
}

// Mechanisms returns the mechanisms Dovecot offers, connecting first if
// needed. When Dovecot cannot be reached it returns the mechanisms of the
// last handshake (nil if there never was one) with the error.
func (c *Client) Mechanisms(ctx context.Context) ([]Mechanism, error) {
	_, err := c.connection(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mechs, err
}

// connection returns the live connection, dialing a new one if there is
// none or the last one failed.
func (c *Client) connection(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && !c.cur.isClosed() {
		return c.cur, nil
	}
	c.cur = nil
	cn, err := c.dial(ctx)
	if err != nil {
		return nil, &UnavailableError{Text: textCannotConnect, Err: err}
	}
	c.cur, c.mechs = cn, cn.mechs
	return cn, nil
}

// dial connects and runs the handshake.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, c.network, c.address)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	nc.SetDeadline(deadline)
	cn := &conn{nc: nc, br: bufio.NewReaderSize(nc, 4096), pending: map[uint32]chan reply{}, closed: make(chan struct{})}
	if err := cn.handshake(c.pid); err != nil {
		nc.Close()
		return nil, fmt.Errorf("handshake with %s: %w", c.address, err)
	}
	nc.SetDeadline(time.Time{})
	go cn.readLoop()
	return cn, nil
}

// nextID returns a request ID unique within the client (and so within
// every connection it makes).
func (c *Client) nextID() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastID++
	if c.lastID == 0 {
		c.lastID = 1
	}
	return c.lastID
}

// conn is one connection to the auth server.
type conn struct {
	nc    net.Conn
	br    *bufio.Reader
	mechs []Mechanism

	wmu sync.Mutex // serialises writes

	mu      sync.Mutex
	pending map[uint32]chan reply
	closed  chan struct{}
	err     error // why the connection closed
}

// reply is one OK, CONT or FAIL line for a request.
type reply struct {
	cmd  string
	args []string
}

// handshake sends VERSION and CPID and reads the server's handshake up to
// DONE.
func (cn *conn) handshake(pid int) error {
	if _, err := fmt.Fprintf(cn.nc, "VERSION\t%d\t%d\nCPID\t%d\n", majorVersion, minorVersion, pid); err != nil {
		return err
	}
	for {
		fields, err := cn.readLine()
		if err != nil {
			return err
		}
		switch fields[0] {
		case "VERSION":
			if len(fields) < 3 {
				return errors.New("protocol version error")
			}
			if major, err := strconv.Atoi(fields[1]); err != nil || major != majorVersion {
				return fmt.Errorf("protocol version mismatch (%s vs. %d)", fields[1], majorVersion)
			}
		case "MECH":
			if m, ok := parseMech(fields[1:]); ok {
				cn.mechs = append(cn.mechs, m)
			}
		case "DONE":
			return nil
		}
	}
}

// readLine reads one line and splits it at tabs, unescaping the values.
func (cn *conn) readLine() ([]string, error) {
	line, err := cn.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// Longer than the buffer: collect it, within maxLine.
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull && len(long) <= maxLine {
			line, err = cn.br.ReadSlice('\n')
			long = append(long, line...)
		}
		if err == bufio.ErrBufferFull {
			return nil, errors.New("line too long from auth server")
		}
		line = long
	}
	if err != nil {
		return nil, err
	}
	fields := strings.Split(strings.TrimRight(string(line), "\r\n"), "\t")
	for i, f := range fields {
		fields[i] = unescape(f)
	}
	return fields, nil
}

// readLoop dispatches replies to the requests waiting for them until the
// connection fails.
func (cn *conn) readLoop() {
	for {
		fields, err := cn.readLine()
		if err != nil {
			cn.shut(err)
			return
		}
		switch fields[0] {
		case "OK", "CONT", "FAIL":
		default:
			continue // nothing else is meant for an authentication client
		}
		if len(fields) < 2 {
			cn.shut(fmt.Errorf("protocol error: %q without an ID", fields[0]))
			return
		}
		id, err := strconv.ParseUint(fields[1], 10, 32)
		if err != nil {
			continue
		}
		cn.mu.Lock()
		ch := cn.pending[uint32(id)]
		cn.mu.Unlock()
		if ch != nil {
			select {
			case ch <- reply{cmd: fields[0], args: fields[2:]}:
			default: // a reply nobody asked for yet; drop it
			}
		}
	}
}

// shut closes the connection and wakes every waiting request.
func (cn *conn) shut(err error) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	select {
	case <-cn.closed:
		return
	default:
	}
	cn.err = err
	close(cn.closed)
	cn.nc.Close()
}

func (cn *conn) isClosed() bool {
	select {
	case <-cn.closed:
		return true
	default:
		return false
	}
}

// register makes id's replies go to a new channel.
func (cn *conn) register(id uint32) chan reply {
	ch := make(chan reply, 1)
	cn.mu.Lock()
	cn.pending[id] = ch
	cn.mu.Unlock()
	return ch
}

func (cn *conn) unregister(id uint32) {
	cn.mu.Lock()
	delete(cn.pending, id)
	cn.mu.Unlock()
}

// send writes one request line.
func (cn *conn) send(line string, timeout time.Duration) error {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	cn.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := cn.nc.Write([]byte(line))
	if err != nil {
		cn.shut(err)
	}
	return err
}

// wait waits for the reply on ch.
func (cn *conn) wait(ctx context.Context, ch chan reply, timeout time.Duration) (reply, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r, nil
	case <-cn.closed:
		return reply{}, &UnavailableError{Text: textConnectionLost, Err: cn.err}
	case <-t.C:
		// A server that stops answering is as good as gone.
		err := errors.New("timeout waiting for the auth server")
		cn.shut(err)
		return reply{}, &UnavailableError{Text: textConnectionLost, Err: err}
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
}

// escape and unescape are the Dovecot protocol's value escaping: \001
// followed by '1', 't', 'r' or 'n' stands for \001, TAB, CR and LF.
func escape(s string) string {
	if !strings.ContainsAny(s, "\x01\t\r\n") {
		return s
	}
	return strings.NewReplacer("\x01", "\x011", "\t", "\x01t", "\r", "\x01r", "\n", "\x01n").Replace(s)
}

func unescape(s string) string {
	if !strings.Contains(s, "\x01") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\x01' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '1':
			b.WriteByte('\x01')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
