// Messages of the delivery protocol: qmgr's request and the agent's result.
package ipc

import (
	"fmt"
	"time"
)

// DeliveryFlags modify a delivery request.
type DeliveryFlags uint32

// Delivery flags.
const (
	// DeliveryFlagVerify: an address verification probe; report what
	// would happen without delivering.
	DeliveryFlagVerify DeliveryFlags = 1 << iota
	// DeliveryFlagRecord: report every delivery, also successful ones
	// (sendmail -v, DSN NOTIFY=SUCCESS).
	DeliveryFlagRecord
)

// DeliveryRequest asks a delivery agent to deliver one queue file to some
// of its recipients, all for the same transport and next hop.
type DeliveryRequest struct {
	Queue      string // queue directory name, "active"
	QueueID    string
	DataOffset int64 // where the message content starts in the queue file
	DataSize   int64 // content size in bytes
	Sender     string
	Transport  string // master.cf service name, e.g. "smtp", "relay"
	Nexthop    string // e.g. "example.com", "[192.0.2.1]:587", local user's domain
	Recipients []Recipient
	Flags      DeliveryFlags

	// For the delays= field: when the message arrived, and when qmgr
	// moved it to the active queue.
	ArrivalTime time.Time
	ActiveTime  time.Time

	DSNEnvID string
	DSNRet   DSNRet
	BodyType string
	SMTPUTF8 bool
}

const (
	attrReqQueue     = 1
	attrReqQueueID   = 2
	attrReqOffset    = 3
	attrReqSize      = 4
	attrReqSender    = 5
	attrReqTransport = 6
	attrReqNexthop   = 7
	attrReqRecipient = 8
	attrReqFlags     = 9
	attrReqArrival   = 10
	attrReqActive    = 11
	attrReqEnvID     = 12
	attrReqRet       = 13
	attrReqBodyType  = 14
	attrReqSMTPUTF8  = 15
)

// Type implements Message.
func (*DeliveryRequest) Type() MsgType { return MsgDeliveryRequest }

// Encode implements Message.
func (m *DeliveryRequest) Encode(dst []byte) []byte {
	w := attrWriter{buf: dst}
	w.putString(attrReqQueue, m.Queue)
	w.putString(attrReqQueueID, m.QueueID)
	w.putInt(attrReqOffset, m.DataOffset)
	w.putInt(attrReqSize, m.DataSize)
	w.putString(attrReqSender, m.Sender)
	w.putString(attrReqTransport, m.Transport)
	w.putString(attrReqNexthop, m.Nexthop)
	for i := range m.Recipients {
		w.putNested(attrReqRecipient, m.Recipients[i].encode)
	}
	w.putUint(attrReqFlags, uint64(m.Flags))
	putTime(&w, attrReqArrival, m.ArrivalTime)
	putTime(&w, attrReqActive, m.ActiveTime)
	w.putString(attrReqEnvID, m.DSNEnvID)
	w.putUint(attrReqRet, uint64(m.DSNRet))
	w.putString(attrReqBodyType, m.BodyType)
	w.putBool(attrReqSMTPUTF8, m.SMTPUTF8)
	return w.buf
}

// Decode implements Message.
func (m *DeliveryRequest) Decode(payload []byte) error {
	*m = DeliveryRequest{}
	r := attrReader{rest: payload}
	for r.next() {
		switch r.tag {
		case attrReqQueue:
			m.Queue = r.string()
		case attrReqQueueID:
			m.QueueID = r.string()
		case attrReqOffset:
			m.DataOffset = r.offset()
		case attrReqSize:
			m.DataSize = r.offset()
		case attrReqSender:
			m.Sender = r.string()
		case attrReqTransport:
			m.Transport = r.string()
		case attrReqNexthop:
			m.Nexthop = r.string()
		case attrReqRecipient:
			m.Recipients = append(m.Recipients, decodeRecipient(&r))
		case attrReqFlags:
			m.Flags = DeliveryFlags(r.uint32())
		case attrReqArrival:
			m.ArrivalTime = r.time()
		case attrReqActive:
			m.ActiveTime = r.time()
		case attrReqEnvID:
			m.DSNEnvID = r.string()
		case attrReqRet:
			m.DSNRet = r.dsnRet()
		case attrReqBodyType:
			m.BodyType = r.string()
		case attrReqSMTPUTF8:
			m.SMTPUTF8 = r.bool()
		}
	}
	return r.err
}

// DeliveryStatus is the outcome for one recipient.
type DeliveryStatus uint8

// Delivery outcomes, as logged in status=.
const (
	StatusSent     DeliveryStatus = 1
	StatusDeferred DeliveryStatus = 2
	StatusBounced  DeliveryStatus = 3
)

func (s DeliveryStatus) String() string {
	switch s {
	case StatusSent:
		return "sent"
	case StatusDeferred:
		return "deferred"
	case StatusBounced:
		return "bounced"
	}
	return fmt.Sprintf("status %d", uint8(s))
}

// RecipientResult is a delivery agent's report on one recipient.
type RecipientResult struct {
	// Offset identifies the recipient by its queue-file record offset,
	// as given in the request.
	Offset  int64
	Address string
	Status  DeliveryStatus
	// DSNCode is the enhanced status code, e.g. "2.0.0" or "4.4.1".
	DSNCode string
	// Reply is the text logged in parentheses after status=, e.g.
	// "250 2.0.0 Ok: queued as X" or "connect to ...: Connection refused".
	Reply string
	// Relay is the relay= field: "host[ip]:port", "local" or "none".
	Relay string
	// ConnUse is how many times the connection was used before, 0 if new.
	ConnUse int
	// ConnSetup and Transmission are the c and d parts of delays=.
	ConnSetup    time.Duration
	Transmission time.Duration
}

const (
	attrResOffset       = 1
	attrResAddress      = 2
	attrResStatus       = 3
	attrResDSN          = 4
	attrResReply        = 5
	attrResRelay        = 6
	attrResConnUse      = 7
	attrResConnSetup    = 8
	attrResTransmission = 9
)

func (rr *RecipientResult) encode(w *attrWriter) {
	w.putInt(attrResOffset, rr.Offset)
	w.putString(attrResAddress, rr.Address)
	w.putUint(attrResStatus, uint64(rr.Status))
	w.putString(attrResDSN, rr.DSNCode)
	w.putString(attrResReply, rr.Reply)
	w.putString(attrResRelay, rr.Relay)
	w.putUint(attrResConnUse, uint64(rr.ConnUse))
	w.putInt(attrResConnSetup, int64(rr.ConnSetup))
	w.putInt(attrResTransmission, int64(rr.Transmission))
}

func decodeRecipientResult(outer *attrReader) RecipientResult {
	var rr RecipientResult
	r := outer.nested()
	for r.next() {
		switch r.tag {
		case attrResOffset:
			rr.Offset = r.offset()
		case attrResAddress:
			rr.Address = r.string()
		case attrResStatus:
			v := r.uint()
			if v < uint64(StatusSent) || v > uint64(StatusBounced) {
				r.fail("unknown delivery status %d", v)
			}
			rr.Status = DeliveryStatus(v)
		case attrResDSN:
			rr.DSNCode = r.string()
		case attrResReply:
			rr.Reply = r.string()
		case attrResRelay:
			rr.Relay = r.string()
		case attrResConnUse:
			rr.ConnUse = int(r.uint32())
		case attrResConnSetup:
			rr.ConnSetup = r.duration()
		case attrResTransmission:
			rr.Transmission = r.duration()
		}
	}
	if r.err == nil && rr.Status == 0 {
		r.err = fmt.Errorf("recipient result without a status")
	}
	outer.adopt(r)
	return rr
}

// DeliveryResult is a delivery agent's answer: one result per recipient
// of the request that it reached a verdict on.
type DeliveryResult struct {
	Recipients []RecipientResult
}

const attrResultRecipient = 1

// Type implements Message.
func (*DeliveryResult) Type() MsgType { return MsgDeliveryResult }

// Encode implements Message.
func (m *DeliveryResult) Encode(dst []byte) []byte {
	w := attrWriter{buf: dst}
	for i := range m.Recipients {
		w.putNested(attrResultRecipient, m.Recipients[i].encode)
	}
	return w.buf
}

// Decode implements Message.
func (m *DeliveryResult) Decode(payload []byte) error {
	*m = DeliveryResult{}
	r := attrReader{rest: payload}
	for r.next() {
		if r.tag == attrResultRecipient {
			m.Recipients = append(m.Recipients, decodeRecipientResult(&r))
		}
	}
	return r.err
}
