// Trigger requests: one-byte wakeups sent to qmgr, pickup and flush.

package ipc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// TriggerCode is a one-byte request, with the letters of Postfix's
// trigger protocol so that logs and tools read the same.
type TriggerCode byte

// Trigger codes understood by the queue manager (and TriggerWakeup by
// every trigger server).
const (
	TriggerWakeup       TriggerCode = 'W' // new work may be waiting: look
	TriggerScanIncoming TriggerCode = 'I' // scan the incoming queue
	TriggerScanDeferred TriggerCode = 'D' // scan the deferred queue
	TriggerScanAll      TriggerCode = 'A' // scan ignoring the deferred files' retry times
	TriggerFlushDead    TriggerCode = 'F' // forget dead transports and destinations
)

func (c TriggerCode) valid() bool {
	switch c {
	case TriggerWakeup, TriggerScanIncoming, TriggerScanDeferred, TriggerScanAll, TriggerFlushDead:
		return true
	}
	return false
}

// Trigger asks a server to do one or more things, in order; it has no
// reply. `postqueue -f` sends F, A, D, I (in that order); master's wakeup
// timer sends W.
type Trigger struct {
	Codes []TriggerCode
}

// Type implements Message.
func (*Trigger) Type() MsgType { return MsgTrigger }

func (m *Trigger) fields(c *codec) {
	c.triggerCodes(1, &m.Codes)
}

// SendTrigger connects to the trigger server at path, checks its greeting,
// and sends codes.
func SendTrigger(ctx context.Context, path string, codes ...TriggerCode) error {
	conn, err := Dial(ctx, path, ProtocolTrigger)
	if err != nil {
		return err
	}
	sendErr := conn.Send(ctx, &Trigger{Codes: codes})
	closeErr := conn.Close()
	if sendErr != nil {
		return sendErr
	}
	if closeErr != nil {
		return fmt.Errorf("close %s: %w", path, closeErr)
	}
	return nil
}

// SendRawTrigger writes codes as raw bytes to the trigger server that
// listens at address and hangs up, as Postfix's trigger clients do
// (unix_trigger, fifo_trigger, inet_trigger), and as master's wakeup and
// cleanup's wakeup of qmgr do. network is how the server listens: "unix"
// or "unixgram" (address a socket path), "fifo" (a fifo's path, opened
// without blocking), or "tcp", "tcp4", "tcp6" (address host:port).
//
// Unlike SendTrigger it does not wait for the server's greeting: no
// round trip, so a sender that triggers for every message (cleanup) does
// not wait for the server to be scheduled. It cannot tell a trigger
// server from another service; SendTrigger can.
func SendRawTrigger(ctx context.Context, network, address string, codes ...TriggerCode) error {
	w, err := openTrigger(ctx, network, address)
	if err != nil {
		return err
	}
	raw := make([]byte, len(codes))
	for i, c := range codes {
		raw[i] = byte(c)
	}
	if deadline, ok := ctx.Deadline(); ok {
		w.SetWriteDeadline(deadline)
	}
	_, writeErr := w.Write(raw)
	closeErr := w.Close()
	if writeErr != nil {
		return fmt.Errorf("write to %s: %w", address, unwrapOp(writeErr))
	}
	if closeErr != nil {
		return fmt.Errorf("close %s: %w", address, closeErr)
	}
	return nil
}

// triggerWriter is the connection or the fifo a raw trigger is written to.
type triggerWriter interface {
	io.WriteCloser
	SetWriteDeadline(time.Time) error
}

// openTrigger connects to the trigger server, or opens its fifo.
func openTrigger(ctx context.Context, network, address string) (triggerWriter, error) {
	if network == "fifo" {
		// Without O_NONBLOCK the open would wait for a reader.
		f, err := os.OpenFile(address, os.O_WRONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", address, unwrapPath(err))
		}
		return f, nil
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", address, unwrapOp(err))
	}
	return nc, nil
}

// unwrapPath drops os.PathError's repetition of the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
