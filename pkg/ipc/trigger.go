// Trigger requests: one-byte wakeups sent to qmgr, pickup and flush.
package ipc

import (
	"context"
	"fmt"
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

const attrTriggerCodes = 1

// Type implements Message.
func (*Trigger) Type() MsgType { return MsgTrigger }

// Encode implements Message.
func (m *Trigger) Encode(dst []byte) []byte {
	w := attrWriter{buf: dst}
	codes := make([]byte, len(m.Codes))
	for i, c := range m.Codes {
		codes[i] = byte(c)
	}
	w.putString(attrTriggerCodes, string(codes))
	return w.buf
}

// Decode implements Message. An unknown code is an error.
func (m *Trigger) Decode(payload []byte) error {
	*m = Trigger{}
	r := attrReader{rest: payload}
	for r.next() {
		if r.tag != attrTriggerCodes {
			continue
		}
		m.Codes = m.Codes[:0]
		for _, b := range r.bytes() {
			if !TriggerCode(b).valid() {
				return fmt.Errorf("unknown trigger code 0x%02x", b)
			}
			m.Codes = append(m.Codes, TriggerCode(b))
		}
	}
	return r.err
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
