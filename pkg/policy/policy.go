// Package policy implements smtpd's recipient-time access policy:
// smtpd_relay_restrictions and smtpd_recipient_restrictions with access(5)
// tables, the relay-control restrictions, the recipient validation against
// local/virtual/relay recipient tables, and Postfix's reply and log texts.
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

// Session describes the SMTP client and transaction when RCPT TO is
// checked.
type Session struct {
	ClientName string // the verified client host name, or "unknown"
	ClientAddr string // the client IP address
	Helo       string // the HELO/EHLO argument; "" if none was sent
	SASLUser   string // the SASL login name; "" if not authenticated
	Protocol   string // "SMTP" or "ESMTP" (as logged in proto=)
	Sender     addr.Address
	Recipient  addr.Address
}

// clientName returns the client name, "unknown" when none is known.
func (s Session) clientName() string {
	if s.ClientName == "" {
		return "unknown"
	}
	return s.ClientName
}

// RejectLog formats smtpd's log line for a rejected command, without the
// "postfix/smtpd[pid]: " prefix:
//
//	NOQUEUE: reject: RCPT from NAME[IP]: REPLY; from=<S> to=<R> proto=ESMTP helo=<H>
//
// queueID is "" before the transaction has one (NOQUEUE); command is
// "RCPT", "MAIL", ...; helo= is left out when no HELO was sent.
func RejectLog(queueID, command string, s Session, reply string) string {
	if queueID == "" {
		queueID = "NOQUEUE"
	}
	return fmt.Sprintf("%s: reject: %s", queueID, commandLog(command, s, reply))
}

// actionLog formats the line of a WARN or INFO access-table action at
// RCPT: "NOQUEUE: warn: RCPT from NAME[IP]: TEXT; from=<S> to=<R> ...".
func actionLog(action string, s Session, text string) string {
	return fmt.Sprintf("NOQUEUE: %s: %s", action, commandLog("RCPT", s, text))
}

// commandLog formats "CMD from NAME[IP]: TEXT; from=<S> to=<R> proto=P helo=<H>".
func commandLog(command string, s Session, text string) string {
	line := fmt.Sprintf("%s from %s[%s]: %s; from=<%s> to=<%s> proto=%s",
		command, s.clientName(), s.ClientAddr, text, s.Sender.Internal(), s.Recipient.Internal(), s.Protocol)
	if s.Helo != "" {
		line += " helo=<" + s.Helo + ">"
	}
	return line
}
