// Package policy implements smtpd's access policy: the restriction lists
// of every SMTP stage (smtpd_client_restrictions ... smtpd_etrn_restrictions,
// smtpd_restriction_classes) with access(5) tables, the relay-control and
// address restrictions, DNS-based lists, policy delegation, recipient
// validation, and Postfix's reply and log texts.
package policy

import (
	"fmt"

	"github.com/postern/postern/pkg/addr"
)

// Action is the outcome of a restriction.
type Action int

// The restriction outcomes. Dunno means "no decision, go on".
const (
	Dunno Action = iota
	Permit
	Reject
	Defer
)

// String names the action.
func (a Action) String() string {
	switch a {
	case Dunno:
		return "dunno"
	case Permit:
		return "permit"
	case Reject:
		return "reject"
	case Defer:
		return "defer"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Decision is the result of a check. For Reject and Defer, Code, DSN and
// Text make the SMTP reply.
type Decision struct {
	Action Action
	Code   int    // 554, 450, ...
	DSN    string // "5.7.1"
	Text   string // "<a@b>: Relay access denied"
	// Disconnect is set for access-table replies 421 and 521: smtpd
	// closes the connection after sending the reply.
	Disconnect bool
	// Hold and Discard are set by the HOLD and DISCARD access-table
	// actions: the message is accepted, then put on hold or dropped.
	Hold    bool
	Discard bool

	software bool // a configuration or lookup failure: never only a warning
	enforced bool // already through enforce (logged)
}

// Reply returns the SMTP reply line, e.g.
// "554 5.7.1 <a@b.example>: Relay access denied". It is "" for Permit and
// Dunno.
func (d Decision) Reply() string {
	if d.Action != Reject && d.Action != Defer {
		return ""
	}
	return fmt.Sprintf("%d %s %s", d.Code, d.DSN, d.Text)
}

// PeerStatus says how a client's host name lookup ended, as Postfix's
// SMTPD_PEER_CODE does; the zero value is a name that was found.
type PeerStatus int

// The name lookup outcomes.
const (
	PeerOK   PeerStatus = iota // the name is known (and verified)
	PeerTemp                   // the lookup failed temporarily
	PeerPerm                   // no name, or it does not resolve back
)

// ClientCert is what the checks know of a TLS client certificate.
type ClientCert struct {
	// Fingerprint and PubkeyFingerprint are the digests
	// (smtpd_tls_fingerprint_digest) of the certificate and of its
	// public key, as "AB:CD:...".
	Fingerprint, PubkeyFingerprint string
	// CommonName and Issuer are the subject's and the issuer's common
	// names.
	CommonName, Issuer string
	// Trusted says the certificate verified against the trusted CAs.
	Trusted bool
}

// Session describes the SMTP client and transaction. smtpd keeps one per
// connection and updates it as commands arrive; the checker also keeps
// its own state in it between stages (defer_if_permit from earlier
// stages), so it is passed by pointer and must not be shared.
type Session struct {
	ClientName    string     // the verified client host name, or "unknown"
	NameStatus    PeerStatus // how the verified-name lookup ended
	ReverseName   string     // the PTR name, unverified, or "unknown"
	ReverseStatus PeerStatus // how the PTR lookup ended
	ClientAddr    string     // the client IP address
	ClientPort    string
	ServerAddr    string // the local address the client connected to
	ServerPort    string
	Helo          string // the HELO/EHLO argument; "" if none was sent
	Protocol      string // "SMTP" or "ESMTP" (as logged in proto=)
	Instance      string // a per-message identifier for policy servers
	QueueID       string // "" until the message has a queue file
	TLSProtocol   string // for policy servers: "TLSv1.3", ...
	TLSCipher     string
	// ClientCert is the TLS client's certificate; nil when it sent none.
	ClientCert *ClientCert
	// SASL login, when the client authenticated.
	SASLMethod, SASLUser, SASLSender string
	// Mail is set once MAIL FROM was accepted: Sender is then the
	// sender (empty for the null sender).
	Mail      bool
	Sender    addr.Address
	Recipient addr.Address // the recipient being checked
	// RecipientCount is the number of accepted recipients;
	// Size the SIZE= of MAIL FROM; Etrn the ETRN argument.
	RecipientCount int
	Size           int64
	Etrn           string
	// IllegalPipelining is set when the client sent a command before
	// the server's reply to an earlier one allowed it.
	IllegalPipelining bool
	// Prepend collects the PREPEND access-table actions' header lines;
	// Hold and Discard the HOLD and DISCARD actions of the transaction;
	// Filter the FILTER transport:destination, Redirect the REDIRECT
	// address, BCC the BCC addresses (the last FILTER and REDIRECT win).
	Prepend       []string
	Hold, Discard bool
	Filter        string
	Redirect      string
	BCC           []string

	// where names the command being checked ("RCPT", ...) in logs.
	where string
	// noRecipient hides the recipient from logs (DATA with several).
	noRecipient bool
	// The deferrals: the reply kept by defer_if_permit and whether each
	// earlier stage left it active; defer_if_reject for this stage.
	deferIfPermit                       deferral
	dipClient, dipHelo, dipSender       bool
	deferIfReject                       deferral
	warnIfReject, recursion             int
	recipientValidated, senderValidated bool
	// dnsxl keeps the DNS list answers of the session by query.
	dnsxl map[string]dnsxlResult
}

// deferral is a pending defer_if_permit or defer_if_reject reply.
type deferral struct {
	active bool
	reply  Decision
}

// clientName returns the client name, "unknown" when none is known.
func (s *Session) clientName() string {
	if s.ClientName == "" {
		return "unknown"
	}
	return s.ClientName
}

// reverseName returns the unverified client name, "unknown" when none.
func (s *Session) reverseName() string {
	if s.ReverseName == "" {
		return s.clientName()
	}
	return s.ReverseName
}

// namaddr is "name[addr]" as logs and client replies show the client.
func (s *Session) namaddr() string {
	return s.clientName() + "[" + s.ClientAddr + "]"
}

// ResetTransaction forgets the transaction (RSET, end of message).
func (s *Session) ResetTransaction() {
	s.Mail, s.Sender, s.Recipient = false, addr.Address{}, addr.Address{}
	s.RecipientCount, s.Size = 0, 0
	s.Prepend, s.Hold, s.Discard = nil, false, false
	s.Filter, s.Redirect, s.BCC = "", "", nil
	s.QueueID, s.dipSender, s.senderValidated = "", false, false
}

// RejectLog formats smtpd's log line for a rejected command, without the
// "postfix/smtpd[pid]: " prefix:
//
//	NOQUEUE: reject: RCPT from NAME[IP]: REPLY; from=<S> to=<R> proto=ESMTP helo=<H>
//
// command is "RCPT", "MAIL", ...; from= is left out before MAIL, to= when
// there is no recipient, helo= when no HELO was sent.
func RejectLog(command string, s *Session, reply string) string {
	return whatsup("reject", command, s, reply)
}

// whatsup formats "QUEUEID: ACTION: CMD from NAME[IP]: TEXT; from=<S>
// to=<R> proto=P helo=<H>" as Postfix's log_whatsup does, the addresses
// in external form (info_log_address_format = external, the default).
func whatsup(action, command string, s *Session, text string) string {
	queueID := s.QueueID
	if queueID == "" {
		queueID = "NOQUEUE"
	}
	line := fmt.Sprintf("%s: %s: %s from %s: %s;", queueID, action, command, s.namaddr(), text)
	if s.Mail {
		line += " from=<" + logAddress(s.Sender) + ">"
	}
	if !s.noRecipient && (s.Recipient.Local != "" || s.Recipient.Domain != "") {
		line += " to=<" + logAddress(s.Recipient) + ">"
	}
	if s.Protocol != "" {
		line += " proto=" + s.Protocol
	}
	if s.Helo != "" {
		line += " helo=<" + s.Helo + ">"
	}
	// Postfix 3.7 names no SASL login here (the differential test in
	// tests/differential_sasl_test.go shows it).
	return line
}

// logAddress is an address as Postfix logs it: quoted where its local
// part needs it ("a b"@example.com), the null address empty.
func logAddress(a addr.Address) string {
	if a.Local == "" && a.Domain == "" {
		return ""
	}
	return a.String()
}
