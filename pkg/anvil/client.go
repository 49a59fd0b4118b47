// The anvil protocol, client side: what smtpd asks for each session.

package anvil

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ServicePath is the anvil socket relative to the queue directory, as in
// Postfix (private/anvil).
const ServicePath = "private/anvil"

// requestDeadline bounds one request and its reply.
const requestDeadline = 10 * time.Second

// Client opens sessions with the anvil daemon at Path.
type Client struct {
	Path string

	warned atomic.Bool
}

// Session is one SMTP session's stream to anvil. Its connection stops
// being counted when it is closed (or when its process dies).
type Session struct {
	conn    net.Conn
	r       *bufio.Reader
	service string
	addr    string
}

// Open connects to anvil for a client addr of service.
func (c *Client) Open(ctx context.Context, service, addr string) (*Session, error) {
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, requestDeadline)
	defer cancel()
	conn, err := d.DialContext(ctx, "unix", c.Path)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %s", c.Path, errnoText(err))
	}
	return &Session{conn: conn, r: bufio.NewReader(conn), service: service, addr: addr}, nil
}

// FirstFailure reports whether this is the client's first failure, so
// that a missing anvil service is logged once per process rather than for
// every session.
func (c *Client) FirstFailure() bool { return !c.warned.Swap(true) }

// errnoText words err as the system's message for its errno ("No such
// file or directory"), else as it is.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return strings.ToUpper(msg[:1]) + msg[1:]
	}
	return err.Error()
}

// Close ends the session.
func (s *Session) Close() error { return s.conn.Close() }

// Connect counts the connection and returns the connections in progress
// and the connection rate, both including it.
func (s *Session) Connect() (count, rate int, err error) {
	reply, err := s.ask(verbConnect)
	if err != nil {
		return 0, 0, err
	}
	a, b, ok := strings.Cut(reply, " ")
	count, err1 := strconv.Atoi(a)
	rate, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("anvil: bad reply %q", reply)
	}
	return count, rate, nil
}

// Count counts ev and returns its rate, including this one.
func (s *Session) Count(ev Event) (int, error) {
	return s.askInt(eventVerbs[ev])
}

// NewTLSRate returns the new TLS session rate without counting one.
func (s *Session) NewTLSRate() (int, error) {
	return s.askInt(verbNewTLSStatus)
}

func (s *Session) askInt(verb string) (int, error) {
	reply, err := s.ask(verb)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(reply)
	if err != nil {
		return 0, fmt.Errorf("anvil: bad reply %q", reply)
	}
	return n, nil
}

// ask sends one request and returns the reply line.
func (s *Session) ask(verb string) (string, error) {
	s.conn.SetDeadline(time.Now().Add(requestDeadline))
	if _, err := fmt.Fprintf(s.conn, "%s %s %s\n", verb, s.service, s.addr); err != nil {
		return "", fmt.Errorf("anvil: %w", err)
	}
	line, err := s.r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("anvil: %w", err)
	}
	line = strings.TrimSuffix(line, "\n")
	if text, ok := strings.CutPrefix(line, "error "); ok {
		return "", errors.New("anvil: " + text)
	}
	return line, nil
}
