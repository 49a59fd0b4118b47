// The in-memory view of a queue file's envelope: sender, attributes, recipients and sizes.

package queue

import (
	"fmt"
	"time"
)

// Attr is a named attribute ("client_address", "127.0.0.1").
type Attr struct {
	Name, Value string
}

// Attribute names used by Postern programs, as Postfix names them.
const (
	AttrCreateTime = "create_time"
	AttrClientAddr = "client_address"
	AttrClientName = "client_name"
	AttrHelo       = "helo_name"
	AttrProtocol   = "protocol"
	AttrDSNRet     = "dsn_ret"
	AttrDSNEnvID   = "dsn_envid"
	// AttrContentFilter is the transport:nexthop that receives every
	// recipient instead of their own (content_filter, FILTER actions);
	// the last one in the file wins.
	AttrContentFilter = "content_filter"
	// AttrRedirect is the address that replaces every recipient
	// (REDIRECT actions).
	AttrRedirect = "redirect_to"
	// AttrContentReject is the "D.S.N text" of a header or body check
	// that rejected a local submission (sendmail): its recipients are
	// bounced with it, as Postfix's cleanup bounces such mail.
	AttrContentReject = "content_reject"
	// AttrTraceFlags are the delivery flags of every delivery of the
	// message, as a decimal number in Postfix's values: 256 marks an
	// address verification probe.
	AttrTraceFlags = "trace_flags"
	// AttrEncoding is the body type the client declared with BODY=:
	// EncodingEightBit or EncodingSevenBit (absent: not declared).
	AttrEncoding = "encoding"
)

// The values of AttrEncoding, as Postfix writes them.
const (
	EncodingEightBit = "8bit"
	EncodingSevenBit = "7bit"
)

// TraceFlagVerify is the trace_flags bit of an address verification
// probe (Postfix's DEL_REQ_FLAG_MTA_VRFY).
const TraceFlagVerify = 1 << 8

// TraceFlagUserVerify is the trace_flags bit of a sendmail -bv request:
// nothing is delivered, the sender gets a report (Postfix's value).
const TraceFlagUserVerify = 1 << 9

// TraceFlagRecord is the trace_flags bit of sendmail -v: the sender gets
// a report of the first delivery attempt (Postfix's value).
const TraceFlagRecord = 1 << 10

// Recipient is one envelope recipient.
type Recipient struct {
	// Address is the recipient after rewriting; Original the address as
	// received (empty means the same as Address).
	Address  string
	Original string
	// DSNNotify holds RFC 3461 NOTIFY bits (0 when not given); DSNOrcpt
	// the ORCPT parameter.
	DSNNotify int
	DSNOrcpt  string
	// Done is true once the recipient needs no more delivery attempts.
	Done bool
	// Offset is where the recipient's R/D record starts in the file; pass
	// it to MarkDone. Set by the reader and by Writer.
	Offset int64
}

// SizeInfo is the content of the size record.
type SizeInfo struct {
	// SegmentSize is the byte count of the content records, from
	// DataOffset to the extracted marker; postqueue shows it.
	SegmentSize int64
	// DataOffset is the offset of the first content record.
	DataOffset int64
	// RecipientCount counts the recipients written.
	RecipientCount int64
	// QmgrOptions is reserved for queue manager flags.
	QmgrOptions int64
	// ContentLength is the message size with LF line ends.
	ContentLength int64
	// SMTPUTF8 is 1 when the message needs SMTPUTF8.
	SMTPUTF8 int64
}

const sizeFieldWidth = 15

// format renders the six fixed-width fields; the length never changes, so
// the record can be overwritten in place.
func (s SizeInfo) format() string {
	return fmt.Sprintf("%*d %*d %*d %*d %*d %*d",
		sizeFieldWidth, s.SegmentSize, sizeFieldWidth, s.DataOffset,
		sizeFieldWidth, s.RecipientCount, sizeFieldWidth, s.QmgrOptions,
		sizeFieldWidth, s.ContentLength, sizeFieldWidth, s.SMTPUTF8)
}

// Envelope is what a writer puts before the message content.
type Envelope struct {
	ArrivalTime time.Time
	// CreateTime defaults to ArrivalTime; postsuper -r keeps ArrivalTime
	// and sets a new CreateTime.
	CreateTime time.Time
	// Sender is the envelope sender; "" is the null sender.
	Sender string
	// FullName is the sender's full name (sendmail -F), or "".
	FullName   string
	Attrs      []Attr
	Recipients []Recipient
	SMTPUTF8   bool
}

// Message is a queue file as read back: its envelope, where its content
// is, and file facts.
type Message struct {
	Queue, ID string
	// Path is the file's absolute path.
	Path string
	Envelope
	Size SizeInfo
	// ExtractedOffset is the offset of the X marker.
	ExtractedOffset int64
	// FileSize and Mode are from the file's stat; ModTime is the deferred
	// queue's next attempt time.
	FileSize int64
	ModTime  time.Time
	// ForcedExpire is set by postsuper -e/-f.
	ForcedExpire bool
}

// Attr returns the value of a named attribute; when it occurs more than
// once, the last one.
func (m *Message) Attr(name string) (string, bool) {
	value, found := "", false
	for _, a := range m.Attrs {
		if a.Name == name {
			value, found = a.Value, true
		}
	}
	return value, found
}

// Pending returns the recipients not yet done.
func (m *Message) Pending() []Recipient {
	var todo []Recipient
	for _, r := range m.Recipients {
		if !r.Done {
			todo = append(todo, r)
		}
	}
	return todo
}
