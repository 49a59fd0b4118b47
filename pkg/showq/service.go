// The showq service protocol: the server greets with its name, the client asks for one format, the server writes the listing and closes.

package showq

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// greeting is the first line the server sends.
const greeting = "showq\n"

// The requests a client may send, one line each.
const (
	requestText = "text"
	requestJSON = "json"
)

// timeout bounds one listing, in the daemon and in postqueue.
const timeout = 5 * time.Minute

// Serve answers one client on nc: it greets, reads the requested format
// and writes the listing. A client that sends anything else gets nothing.
func (l *Lister) Serve(ctx context.Context, nc net.Conn) error {
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	defer stop()
	nc.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(nc, greeting); err != nil {
		return fmt.Errorf("write greeting: %w", err)
	}
	// The request is a handful of bytes: read no more than that.
	line, err := bufio.NewReaderSize(io.LimitReader(nc, 16), 16).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	var asJSON bool
	switch strings.TrimSuffix(line, "\n") {
	case requestText:
	case requestJSON:
		asJSON = true
	default:
		return fmt.Errorf("unknown request %q", line)
	}
	out := bufio.NewWriterSize(nc, 64<<10)
	if err := l.List(out, asJSON); err != nil {
		return err
	}
	return out.Flush()
}

// ErrNoService means the showq socket could not be reached.
var ErrNoService = errors.New("showq service unavailable")

// Request asks the showq service at socket for the listing and copies it
// to out. An error wrapping ErrNoService means nothing was received.
func Request(ctx context.Context, socket string, asJSON bool, out io.Writer) error {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return fmt.Errorf("%w: connect to %s: %w", ErrNoService, socket, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))
	br := bufio.NewReader(nc)
	hello, err := br.ReadString('\n')
	if err != nil || hello != greeting {
		return fmt.Errorf("%w: %s: bad greeting %q: %v", ErrNoService, socket, hello, err)
	}
	req := requestText
	if asJSON {
		req = requestJSON
	}
	if _, err := io.WriteString(nc, req+"\n"); err != nil {
		return fmt.Errorf("%w: %s: send request: %w", ErrNoService, socket, err)
	}
	if _, err := io.Copy(out, br); err != nil {
		return fmt.Errorf("read listing from %s: %w", socket, err)
	}
	return nil
}
