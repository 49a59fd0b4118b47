// Messages of the cleanup protocol: a submission and cleanup's reply.
package ipc

import "time"

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
)

// CleanupSubmission is the envelope of a message handed to cleanup. The
// content follows in ContentChunk frames and a ContentEnd (see
// Conn.SendContent and Conn.ContentReader).
type CleanupSubmission struct {
	Sender      string // envelope sender, "" for the null sender
	Recipients  []Recipient
	Flags       CleanupFlags
	ArrivalTime time.Time

	// Where the message came from, for the Received: header and logging.
	ClientName    string // verified client hostname, or "unknown"
	ClientAddress string // client IP address
	ClientPort    string
	HeloName      string
	Protocol      string // SMTP, ESMTP, ESMTPS, ESMTPSA, ...
	TLSInfo       string // e.g. "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
	SASLMethod    string
	SASLUsername  string
	SASLSender    string // MAIL FROM's AUTH= (sasl_sender)
	// SASLHeader asks for "(Authenticated sender: SASLUsername)" in the
	// Received: header (smtpd_sasl_authenticated_header).
	SASLHeader bool

	// Message-level ESMTP parameters.
	DSNEnvID string // RFC 3461 ENVID=
	DSNRet   DSNRet // RFC 3461 RET=
	BodyType string // "7BIT", "8BITMIME" or ""
	SMTPUTF8 bool
}

const (
	attrSubSender     = 1
	attrSubRecipient  = 2
	attrSubFlags      = 3
	attrSubArrival    = 4
	attrSubClientName = 5
	attrSubClientAddr = 6
	attrSubClientPort = 7
	attrSubHelo       = 8
	attrSubProtocol   = 9
	attrSubTLS        = 10
	attrSubSASLMethod = 11
	attrSubSASLUser   = 12
	attrSubEnvID      = 13
	attrSubRet        = 14
	attrSubBodyType   = 15
	attrSubSMTPUTF8   = 16
	attrSubSASLSender = 17
	attrSubSASLHeader = 18
)

// Type implements Message.
func (*CleanupSubmission) Type() MsgType { return MsgCleanupSubmission }

// Encode implements Message.
func (m *CleanupSubmission) Encode(dst []byte) []byte {
	w := attrWriter{buf: dst}
	w.putString(attrSubSender, m.Sender)
	for i := range m.Recipients {
		w.putNested(attrSubRecipient, m.Recipients[i].encode)
	}
	w.putUint(attrSubFlags, uint64(m.Flags))
	putTime(&w, attrSubArrival, m.ArrivalTime)
	w.putString(attrSubClientName, m.ClientName)
	w.putString(attrSubClientAddr, m.ClientAddress)
	w.putString(attrSubClientPort, m.ClientPort)
	w.putString(attrSubHelo, m.HeloName)
	w.putString(attrSubProtocol, m.Protocol)
	w.putString(attrSubTLS, m.TLSInfo)
	w.putString(attrSubSASLMethod, m.SASLMethod)
	w.putString(attrSubSASLUser, m.SASLUsername)
	w.putString(attrSubEnvID, m.DSNEnvID)
	w.putUint(attrSubRet, uint64(m.DSNRet))
	w.putString(attrSubBodyType, m.BodyType)
	w.putBool(attrSubSMTPUTF8, m.SMTPUTF8)
	w.putString(attrSubSASLSender, m.SASLSender)
	w.putBool(attrSubSASLHeader, m.SASLHeader)
	return w.buf
}

// Decode implements Message.
func (m *CleanupSubmission) Decode(payload []byte) error {
	*m = CleanupSubmission{}
	r := attrReader{rest: payload}
	for r.next() {
		switch r.tag {
		case attrSubSender:
			m.Sender = r.string()
		case attrSubRecipient:
			m.Recipients = append(m.Recipients, decodeRecipient(&r))
		case attrSubFlags:
			m.Flags = CleanupFlags(r.uint32())
		case attrSubArrival:
			m.ArrivalTime = r.time()
		case attrSubClientName:
			m.ClientName = r.string()
		case attrSubClientAddr:
			m.ClientAddress = r.string()
		case attrSubClientPort:
			m.ClientPort = r.string()
		case attrSubHelo:
			m.HeloName = r.string()
		case attrSubProtocol:
			m.Protocol = r.string()
		case attrSubTLS:
			m.TLSInfo = r.string()
		case attrSubSASLMethod:
			m.SASLMethod = r.string()
		case attrSubSASLUser:
			m.SASLUsername = r.string()
		case attrSubEnvID:
			m.DSNEnvID = r.string()
		case attrSubRet:
			m.DSNRet = r.dsnRet()
		case attrSubBodyType:
			m.BodyType = r.string()
		case attrSubSMTPUTF8:
			m.SMTPUTF8 = r.bool()
		case attrSubSASLSender:
			m.SASLSender = r.string()
		case attrSubSASLHeader:
			m.SASLHeader = r.bool()
		}
	}
	return r.err
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

const (
	attrReplyStatus  = 1
	attrReplyQueueID = 2
	attrReplyReason  = 3
)

// Type implements Message.
func (*CleanupReply) Type() MsgType { return MsgCleanupReply }

// Encode implements Message.
func (m *CleanupReply) Encode(dst []byte) []byte {
	w := attrWriter{buf: dst}
	w.putUint(attrReplyStatus, uint64(m.Status))
	w.putString(attrReplyQueueID, m.QueueID)
	w.putString(attrReplyReason, m.Reason)
	return w.buf
}

// Decode implements Message.
func (m *CleanupReply) Decode(payload []byte) error {
	*m = CleanupReply{}
	r := attrReader{rest: payload}
	for r.next() {
		switch r.tag {
		case attrReplyStatus:
			m.Status = CleanupStatus(r.uint32())
		case attrReplyQueueID:
			m.QueueID = r.string()
		case attrReplyReason:
			m.Reason = r.string()
		}
	}
	return r.err
}
