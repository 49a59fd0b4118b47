// Reading trigger requests: master's raw wakeup bytes or an ipc Trigger frame.

package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/rawconn"
)

// triggerReadTimeout bounds the wait for a trigger client's bytes.
const triggerReadTimeout = 10 * time.Second

// maxRawTrigger is the most raw trigger bytes taken from one connection.
const maxRawTrigger = 1024

// bufferedConn is a connection read through a buffer, so that the first
// byte can be looked at before the ipc layer reads the rest.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// readTrigger reads one trigger request from conn, in either form: raw
// code bytes (master's wakeup: connect, write 'W', close, as Postfix's
// trigger does) or, after the server's greeting, an ipc Trigger frame
// (ipc.SendTrigger, as postqueue -f uses). Raw bytes that are not trigger
// codes are logged and skipped.
func readTrigger(ctx context.Context, conn net.Conn, log *maillog.Logger) ([]ipc.TriggerCode, error) {
	if raw, gone, ok := readReady(conn); ok {
		if gone {
			return nil, nil
		}
		return rawTriggerCodes(raw, log), nil
	}
	bc := &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, maxRawTrigger)}
	// A raw client may already have hung up: its bytes are still there to
	// read, so a failed greeting only matters to a framed client.
	greeted, greetErr := ipc.Greet(ctx, bc, ipc.ProtocolTrigger)
	conn.SetReadDeadline(time.Now().Add(triggerReadTimeout))
	first, err := bc.r.Peek(1)
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		// Connected and went away (leaving our greeting unread, which
		// makes it a reset): nothing asked.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read trigger: %s", errText(err))
	}
	if first[0] == ipc.FrameVersion {
		if greetErr != nil {
			return nil, fmt.Errorf("trigger client: %w", greetErr)
		}
		greeted.SetTimeout(triggerReadTimeout)
		m, err := greeted.Receive(ctx)
		if err != nil {
			return nil, err
		}
		t, ok := m.(*ipc.Trigger)
		if !ok {
			return nil, fmt.Errorf("trigger client: unexpected %v request", m.Type())
		}
		return t.Codes, nil
	}
	raw, _ := bc.r.Peek(bc.r.Buffered())
	return rawTriggerCodes(raw, log), nil
}

// readReady reads the bytes a client already wrote, without waiting. A
// raw client (ipc.SendRawTrigger, master's wakeup) has usually connected,
// written and hung up before its connection is accepted: its request is
// then served with one read and no greeting. ok is false when nothing is
// there yet, which leaves the client to the greeting and the wait; gone
// is true when the client hung up without a byte.
func readReady(conn net.Conn) (raw []byte, gone, ok bool) {
	buf := make([]byte, maxRawTrigger)
	var n int
	var readErr error
	if !rawconn.Control(conn, func(fd int) { n, readErr = unix.Read(fd, buf) }) {
		return nil, false, false
	}
	switch {
	case readErr == nil && n > 0:
		return buf[:n], false, true
	case readErr == nil, readErr == unix.ECONNRESET:
		return nil, true, true
	}
	return nil, false, false
}

// rawTriggerCodes keeps the bytes that are trigger codes, in order.
func rawTriggerCodes(raw []byte, log *maillog.Logger) []ipc.TriggerCode {
	codes := make([]ipc.TriggerCode, 0, len(raw))
	for _, b := range raw {
		switch c := ipc.TriggerCode(b); c {
		case ipc.TriggerWakeup, ipc.TriggerScanIncoming, ipc.TriggerScanDeferred, ipc.TriggerScanAll, ipc.TriggerFlushDead:
			codes = append(codes, c)
		default:
			log.Warning("ignoring unknown trigger code 0x%02x", b)
		}
	}
	return codes
}
