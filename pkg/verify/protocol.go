// The verify protocol: one request line, one reply line, on a Unix stream
// connection to private/verify.
//
//	query "ADDR"                  ->  ok STATUS "TEXT"
//	update "ADDR" STATUS "TEXT"   ->  ok
//
// Addresses and texts are Go-quoted strings; anything the server cannot
// do gets "error TEXT".

package verify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

const (
	verbQuery  = "query"
	verbUpdate = "update"
	replyOK    = "ok"
	replyError = "error"
)

// maxLine bounds a request or reply line.
const maxLine = 8192

// ioDeadline bounds reading a request and writing its reply.
const ioDeadline = 10 * time.Minute

// fields splits a line into its words and quoted strings.
func fields(line string) ([]string, error) {
	var out []string
	for {
		line = strings.TrimLeft(line, " ")
		if line == "" {
			return out, nil
		}
		if line[0] == '"' {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, fmt.Errorf("bad quoted string in %.100q", line)
			}
			s, _ := strconv.Unquote(q)
			out = append(out, s)
			line = line[len(q):]
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		out = append(out, word)
		line = rest
	}
}

// Serve answers the requests on conn until the client closes it.
func (c *Cache) Serve(ctx context.Context, conn net.Conn) {
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	r := bufio.NewReaderSize(conn, maxLine)
	for {
		conn.SetDeadline(time.Now().Add(ioDeadline))
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				c.warn("request too long")
			}
			return
		}
		reply := c.answer(strings.TrimRight(string(line), "\r\n"))
		if _, err := conn.Write([]byte(reply + "\n")); err != nil {
			return
		}
	}
}

// answer handles one request line.
func (c *Cache) answer(line string) string {
	f, err := fields(line)
	if err != nil || len(f) == 0 {
		c.warn("unrecognized request: %.100q, ignored", line)
		return replyError + " bad request"
	}
	switch {
	case f[0] == verbQuery && len(f) == 2:
		status, text := c.Query(f[1])
		return fmt.Sprintf("%s %d %q", replyOK, status, text)
	case f[0] == verbUpdate && len(f) == 4:
		n, err := strconv.Atoi(f[2])
		if err != nil {
			n = -1
		}
		if err := c.Update(f[1], Status(n), f[3]); err != nil {
			c.warn("%v", err)
			return replyError + " " + err.Error()
		}
		return replyOK
	}
	c.warn("unrecognized request: %.100q, ignored", line)
	return replyError + " bad request"
}

// Client talks to the verify service at Path, one connection per
// request, so that a verify process that retires is never waited for.
type Client struct {
	Path string
	// NoNegativeCache is address_verify_negative_cache = no: Report
	// leaves failed probes out of the cache.
	NoNegativeCache bool
}

// Report records a probe's result for a recipient under each of its
// addresses: the address the probe was sent to and, when rewriting
// changed more than its case, the rewritten one (as Postfix's delivery
// agents do). cached is false when the result was left out of the cache.
func (cl *Client) Report(ctx context.Context, addrs []string, status Status, text string) (cached bool, err error) {
	if status != StatusOK && cl.NoNegativeCache {
		return false, nil
	}
	for i, addr := range addrs {
		if i > 0 && strings.EqualFold(addr, addrs[0]) {
			continue
		}
		if err := cl.Update(ctx, addr, status, text); err != nil {
			return false, err
		}
	}
	return true, nil
}

// requestTimeout bounds one request and its reply.
const requestTimeout = 30 * time.Second

// Query asks for addr's status; a new address starts a probe.
func (cl *Client) Query(ctx context.Context, addr string) (Status, string, error) {
	f, err := cl.ask(ctx, fmt.Sprintf("%s %q", verbQuery, addr))
	if err != nil {
		return 0, "", err
	}
	if len(f) != 2 {
		return 0, "", fmt.Errorf("verify: bad reply")
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || !Status(n).valid() {
		return 0, "", fmt.Errorf("verify: bad status %q", f[0])
	}
	return Status(n), f[1], nil
}

// Update reports a probe's result for addr.
func (cl *Client) Update(ctx context.Context, addr string, status Status, text string) error {
	_, err := cl.ask(ctx, fmt.Sprintf("%s %q %d %q", verbUpdate, addr, status, text))
	return err
}

// ask sends one request and returns the fields of an "ok" reply after
// "ok".
func (cl *Client) ask(ctx context.Context, request string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", cl.Path)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cl.Path, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte(request + "\n")); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	line, err := bufio.NewReaderSize(conn, maxLine).ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	f, err := fields(strings.TrimRight(line, "\n"))
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if len(f) == 0 || f[0] != replyOK {
		return nil, fmt.Errorf("verify: %s", strings.TrimSpace(line))
	}
	return f[1:], nil
}
