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
	// DeliveryFlagConnLoad: the agent may deliver over a connection it
	// cached for this destination; DeliveryFlagConnStore: it may cache
	// the connection it used (qmgr's on-demand connection caching, set
	// while the destination has a backlog).
	DeliveryFlagConnLoad
	DeliveryFlagConnStore
	// DeliveryFlagUserVerify: sendmail -bv; deliver nothing and mail the
	// sender a report of what would happen (a cleanup trace flag).
	DeliveryFlagUserVerify
	// DeliveryFlagVerifyNotCached: with DeliveryFlagVerify, a failed
	// probe is not cached (address_verify_negative_cache = no) and is
	// logged as status=undeliverable-but-not-cached.
	DeliveryFlagVerifyNotCached
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

// Type implements Message.
func (*DeliveryRequest) Type() MsgType { return MsgDeliveryRequest }

func (m *DeliveryRequest) fields(c *codec) {
	c.string(1, &m.Queue)
	c.string(2, &m.QueueID)
	c.offset(3, &m.DataOffset)
	c.offset(4, &m.DataSize)
	c.string(5, &m.Sender)
	c.string(6, &m.Transport)
	c.string(7, &m.Nexthop)
	c.recipients(8, &m.Recipients)
	c.uint32(9, (*uint32)(&m.Flags))
	c.time(10, &m.ArrivalTime)
	c.time(11, &m.ActiveTime)
	c.string(12, &m.DSNEnvID)
	c.dsnRet(13, &m.DSNRet)
	c.string(14, &m.BodyType)
	c.bool(15, &m.SMTPUTF8)
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
	// Action is the RFC 3464 action a success notice reports for a sent
	// recipient: "relayed" (to an SMTP server without DSN); empty means
	// "delivered".
	Action string
	// NotifyPassedOn is set when the next hop accepted the recipient's
	// NOTIFY and so sends any success notice itself.
	NotifyPassedOn bool
}

func (rr *RecipientResult) fields(c *codec) {
	c.offset(1, &rr.Offset)
	c.string(2, &rr.Address)
	c.deliveryStatus(3, &rr.Status)
	c.string(4, &rr.DSNCode)
	c.string(5, &rr.Reply)
	c.string(6, &rr.Relay)
	c.count(7, &rr.ConnUse)
	c.duration(8, &rr.ConnSetup)
	c.duration(9, &rr.Transmission)
	c.string(10, &rr.Action)
	c.bool(11, &rr.NotifyPassedOn)
}

func (rr *RecipientResult) check() error {
	if rr.Status == 0 {
		return fmt.Errorf("recipient result without a status")
	}
	return nil
}

// DeliveryResult is a delivery agent's answer: one result per recipient
// of the request that it reached a verdict on.
type DeliveryResult struct {
	Recipients []RecipientResult
}

// Type implements Message.
func (*DeliveryResult) Type() MsgType { return MsgDeliveryResult }

func (m *DeliveryResult) fields(c *codec) {
	c.recipientResults(1, &m.Recipients)
}
