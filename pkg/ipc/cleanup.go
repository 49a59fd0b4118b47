// Messages of the cleanup protocol: a submission and cleanup's reply.

package ipc

import (
	"context"
	"io"
	"time"
)

// CleanupFlags ask cleanup for optional processing of a submission.
type CleanupFlags uint32

// Cleanup flags.
const (
	// CleanupFlagBounce: bounce a message cleanup cannot accept instead
	// of reporting the failure to the client (pickup, sendmail).
	CleanupFlagBounce CleanupFlags = 1 << iota
	// CleanupFlagFilter: apply header_checks and body_checks.
	CleanupFlagFilter
	// CleanupFlagHold: put the message in the hold queue.
	CleanupFlagHold
	// CleanupFlagDiscard: accept the message and throw it away.
	CleanupFlagDiscard
	// CleanupFlagBCCOK: apply always_bcc and the *_bcc_maps.
	CleanupFlagBCCOK
	// CleanupFlagMapOK: apply canonical and virtual alias mapping.
	CleanupFlagMapOK
	// CleanupFlagMilter: run the message through the non_smtpd milters.
	CleanupFlagMilter
	// CleanupFlagNotice: a notice the mail system itself wrote (bounce,
	// delay warning, postmaster transcript); its Received: header names
	// no user, as Postfix's for such mail.
	CleanupFlagNotice
)

// CleanupOpen asks cleanup to create the queue file of a message before its
// envelope is complete, as smtpd does at the first accepted recipient:
// cleanup answers with a CleanupReply that carries the new queue ID (or a
// failure), then takes the CleanupSubmission and the content as usual. A
// client that hangs up before the submission abandons the file.
type CleanupOpen struct{}

// Type implements Message.
func (*CleanupOpen) Type() MsgType { return MsgCleanupOpen }

func (*CleanupOpen) fields(*codec) {}

// CleanupSubmission is the envelope of a message handed to cleanup. The
// content follows in ContentChunk frames and a ContentEnd (see
// Conn.SendContent and Conn.ContentReader).
type CleanupSubmission struct {
	Sender      string // envelope sender, "" for the null sender
	Recipients  []Recipient
	Flags       CleanupFlags
	ArrivalTime time.Time

	// Where the message came from, for the Received: header and logging.
	// A submission without ClientAddress is local (pickup, a delivery
	// agent's forwarding); SubmitterUID is then the submitting user's id,
	// for the Received: header's "from userid N".
	ClientName    string // verified client hostname, or "unknown"
	ClientAddress string // client IP address
	ClientPort    string
	HeloName      string
	Protocol      string // SMTP, ESMTP, ESMTPS, ESMTPSA, ...
	// TLSInfo is the TLS comment of the Received: header, lines without
	// their leading tab: "(using TLSv1.3 with cipher ... (256/256
	// bits)\n key-exchange ...)\n(No client certificate requested)".
	TLSInfo      string
	SASLMethod   string
	SASLUsername string
	SASLSender   string // MAIL FROM's AUTH= (sasl_sender)
	// SASLHeader asks for "(Authenticated sender: SASLUsername)" in the
	// Received: header (smtpd_sasl_authenticated_header).
	SASLHeader bool

	// Message-level ESMTP parameters.
	DSNEnvID string // RFC 3461 ENVID=
	DSNRet   DSNRet // RFC 3461 RET=
	BodyType string // "7BIT", "8BITMIME" or ""
	SMTPUTF8 bool

	SubmitterUID uint32

	// ContentFilter is the client's content_filter (transport:nexthop),
	// which receives the message instead of its recipients' transports.
	ContentFilter string
	// TraceFlags are the delivery flags every delivery of the message
	// carries (Postfix's trace_flags): DeliveryFlagVerify marks an
	// address verification probe.
	TraceFlags DeliveryFlags
	// Milters is the number of milters whose sessions the client holds
	// (smtpd_milters): with CleanupFlagMilter cleanup, after its header
	// and body checks, sends a MilterInspect for each in turn and applies
	// the edits of its MilterResult, instead of running non_smtpd_milters.
	Milters uint32
	// Prepend is the header lines of the restrictions' PREPEND actions,
	// each ending in "\n", which cleanup writes above its Received:
	// header, where Postfix's smtpd writes them.
	Prepend string
}

// Type implements Message.
func (*CleanupSubmission) Type() MsgType { return MsgCleanupSubmission }

// Local reports whether m is a local submission: one without an SMTP client.
func (m *CleanupSubmission) Local() bool { return m.ClientAddress == "" }

func (m *CleanupSubmission) fields(c *codec) {
	c.string(1, &m.Sender)
	c.recipients(2, &m.Recipients)
	c.uint32(3, (*uint32)(&m.Flags))
	c.time(4, &m.ArrivalTime)
	c.string(5, &m.ClientName)
	c.string(6, &m.ClientAddress)
	c.string(7, &m.ClientPort)
	c.string(8, &m.HeloName)
	c.string(9, &m.Protocol)
	c.string(10, &m.TLSInfo)
	c.string(11, &m.SASLMethod)
	c.string(12, &m.SASLUsername)
	c.string(13, &m.DSNEnvID)
	c.dsnRet(14, &m.DSNRet)
	c.string(15, &m.BodyType)
	c.bool(16, &m.SMTPUTF8)
	c.string(17, &m.SASLSender)
	c.bool(18, &m.SASLHeader)
	c.uint32(19, &m.SubmitterUID)
	c.string(20, &m.ContentFilter)
	c.uint32(22, (*uint32)(&m.TraceFlags))
	c.uint32(23, &m.Milters)
	c.string(24, &m.Prepend)
}

// CleanupStatus is cleanup's verdict on a submission: zero when the
// message was queued, otherwise a set of reasons it was not.
type CleanupStatus uint32

// Cleanup status bits.
const (
	CleanupStatBad     CleanupStatus = 1 << iota // internal protocol error
	CleanupStatWrite                             // error writing the queue file
	CleanupStatSize                              // message_size_limit exceeded
	CleanupStatContent                           // rejected by header/body checks
	CleanupStatHops                              // too many Received: headers
	CleanupStatNoRcpt                            // no recipients
	CleanupStatDefer                             // temporary failure (e.g. alias expansion)
)

// CleanupReply is cleanup's answer to a submission.
type CleanupReply struct {
	Status CleanupStatus
	// QueueID is the ID of the queue file, set when Status is zero.
	QueueID string
	// Reason is the complete SMTP reply for a failed submission, e.g.
	// "451 4.6.0 Alias expansion error", for smtpd to send as is.
	Reason string
}

// Type implements Message.
func (*CleanupReply) Type() MsgType { return MsgCleanupReply }

func (m *CleanupReply) fields(c *codec) {
	c.uint32(1, (*uint32)(&m.Status))
	c.string(2, &m.QueueID)
	c.string(3, &m.Reason)
}

// Submit sends sub and the content that r yields on c, a connection to
// cleanup, and returns cleanup's reply.
func (c *Conn) Submit(ctx context.Context, sub *CleanupSubmission, content io.Reader) (*CleanupReply, error) {
	if err := c.Queue(sub); err != nil {
		return nil, err
	}
	if _, err := c.SendContent(ctx, content); err != nil {
		return nil, err
	}
	var reply CleanupReply
	if err := c.Expect(ctx, &reply); err != nil {
		return nil, err
	}
	return &reply, nil
}
