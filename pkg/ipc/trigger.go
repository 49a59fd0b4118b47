// Trigger requests: one-byte wakeups sent to qmgr, pickup and flush.

package ipc

import (
	"context"
	"fmt"
	"net"
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

// SendRawTrigger connects to the trigger server at path, writes codes as
// raw bytes and hangs up, as master's wakeup and Postfix's unix trigger
// do. Unlike SendTrigger it does not wait for the server's greeting: no
// round trip, so a sender that triggers for every message (cleanup) does
// not wait for the server to be scheduled. It cannot tell a trigger
// server from another service; SendTrigger can.
func SendRawTrigger(ctx context.Context, path string, codes ...TriggerCode) error {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", path, unwrapOp(err))
	}
	raw := make([]byte, len(codes))
	for i, c := range codes {
		raw[i] = byte(c)
	}
	if deadline, ok := ctx.Deadline(); ok {
		nc.SetWriteDeadline(deadline)
	}
	_, writeErr := nc.Write(raw)
	closeErr := nc.Close()
	if writeErr != nil {
		return fmt.Errorf("write to %s: %w", path, unwrapOp(writeErr))
	}
	if closeErr != nil {
		return fmt.Errorf("close %s: %w", path, closeErr)
	}
	return nil
}
