// Package dsn builds the RFC 3464 delivery status notifications the queue
// manager sends: Postfix's multipart/report non-delivery notice,
// delayed-mail warning, success notice and sendmail -bv/-v delivery
// status report with their template text, the per-recipient delivery
// status and the returned message or its headers, and the postmaster
// copies of the first two.
package dsn

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Recipient is one failed recipient in a report.
type Recipient struct {
	// Address is the final recipient; Original the address as received
	// (empty when unknown).
	Address  string
	Original string
	// Status is the enhanced status code ("5.1.1").
	Status string
	// Reason is the text shown to the sender, e.g. "host mx[192.0.2.1]
	// said: 550 5.1.1 unknown user (in reply to RCPT TO command)".
	Reason string
	// RemoteMTA is the host that gave the reply, "" when none did.
	RemoteMTA string
	// ORCPT is the RFC 3461 ORCPT parameter ("rfc822;addr"), when given.
	ORCPT string
	// Diagnostic is the remote server's reply for Diagnostic-Code:
	// "smtp; REPLY" when RemoteMTA is set, "X-Postfix; REASON" otherwise.
	Diagnostic string
	// Action is the report's Action for a success notice ("delivered",
	// "relayed"); empty means the template's: failed or delayed.
	Action string
}

// Report is a notice about one message: a non-delivery notification
// (failure template), a delayed-mail warning (delay template), or the
// postmaster's copy of either.
type Report struct {
	// Template gives the headers; Text is its expanded message text
	// (Template.Expand), left out of postmaster copies.
	Template *Template
	Text     string
	// PostmasterCopy selects the Postmaster-Subject, "Auto-Submitted:
	// auto-generated" and no template text, as Postfix's copies for
	// notify_classes.
	PostmasterCopy bool
	// Hostname is myhostname: the Reporting-MTA.
	Hostname string
	// QueueID and Sender identify the message; ArrivalTime is when it
	// arrived; EnvID is its DSN ENVID.
	QueueID     string
	Sender      string
	ArrivalTime time.Time
	EnvID       string
	// WillRetryUntil is the end of the message's queue lifetime, shown
	// for delayed recipients.
	WillRetryUntil time.Time
	// To is the notice's recipient as given (cleanup qualifies it).
	To         string
	Recipients []Recipient
	// Original is the message: its header lines, each ending "\n", or
	// the whole message when FullMessage is set.
	Original    string
	FullMessage bool
	// Boundary separates the MIME parts; Postfix uses
	// "QUEUEID.UNIXTIME/HOSTNAME".
	Boundary string
	// EightBit labels the parts 8bit (smtputf8_enable = yes, as
	// Postfix does) and the notice text utf-8 unless the template names
	// another charset.
	EightBit bool
	// SMTPUTF8 is set when the message came with SMTPUTF8: the report and
	// the returned message are message/global-delivery-status and
	// message/global(-headers), and non-ASCII addresses are typed utf-8.
	SMTPUTF8 bool
}

// NewBoundary returns the MIME boundary Postfix uses for a report.
func NewBoundary(queueID string, now time.Time, hostname string) string {
	return fmt.Sprintf("%s.%d/%s", queueID, now.Unix(), hostname)
}

// Date formats a time as RFC 5322 the way Postfix's mail_date does: the
// day of month padded to two columns and the zone name in a comment,
// "Mon,  7 Dec 2026 08:13:47 +0000 (UTC)".
func Date(t time.Time) string {
	return t.Format("Mon, _2 Jan 2006 15:04:05 -0700 (MST)")
}

// Wrapping of long report lines: 79 columns, continuation lines indented
// by four.
const (
	wrapWidth  = 79
	wrapIndent = 4
)

// Build renders the notice: headers (without Message-Id and Date, which
// cleanup adds) and the three-part multipart/report body, with "\n" line
// ends.
func Build(r *Report) []byte {
	t := r.Template
	delayed := t.Class == ClassDelay
	var b strings.Builder
	b.WriteString("From: " + t.From + "\n")
	subject := t.Subject
	if r.PostmasterCopy && t.PostmasterSubject != "" {
		subject = t.PostmasterSubject
	}
	b.WriteString("Subject: " + subject + "\n")
	b.WriteString("To: " + r.To + "\n")
	if r.PostmasterCopy {
		b.WriteString("Auto-Submitted: auto-generated\n")
	} else {
		b.WriteString("Auto-Submitted: auto-replied\n")
	}
	b.WriteString("MIME-Version: 1.0\n")
	b.WriteString("Content-Type: multipart/report; report-type=delivery-status;\n")
	b.WriteString("\tboundary=\"" + r.Boundary + "\"\n")
	if r.EightBit {
		b.WriteString("Content-Transfer-Encoding: 8bit\n")
	}
	b.WriteString("\n")
	b.WriteString("This is a MIME-encapsulated message.\n\n")

	charset := t.Charset
	if strings.EqualFold(charset, "us-ascii") && r.EightBit {
		charset = "utf-8"
	}
	b.WriteString("--" + r.Boundary + "\n")
	b.WriteString("Content-Description: Notification\n")
	b.WriteString("Content-Type: text/plain; charset=" + charset + "\n")
	if r.EightBit {
		b.WriteString("Content-Transfer-Encoding: 8bit\n")
	}
	b.WriteString("\n")
	if !r.PostmasterCopy {
		b.WriteString(r.Text)
	}
	for _, rc := range r.Recipients {
		line := "<" + rc.Address + ">: " + rc.Reason
		if rc.Original != "" && rc.Original != rc.Address {
			line = "<" + rc.Address + "> (expanded from <" + rc.Original + ">): " + rc.Reason
		}
		b.WriteString("\n" + Wrap(line, wrapWidth, wrapIndent))
	}
	b.WriteString("\n")

	b.WriteString("--" + r.Boundary + "\n")
	b.WriteString("Content-Description: Delivery report\n")
	if r.SMTPUTF8 {
		b.WriteString("Content-Type: message/global-delivery-status\n")
		if r.EightBit {
			b.WriteString("Content-Transfer-Encoding: 8bit\n")
		}
	} else {
		b.WriteString("Content-Type: message/delivery-status\n")
	}
	b.WriteString("\n")
	b.WriteString("Reporting-MTA: dns; " + r.Hostname + "\n")
	if r.EnvID != "" {
		b.WriteString("Original-Envelope-Id: " + r.EnvID + "\n")
	}
	b.WriteString("X-Postfix-Queue-ID: " + r.QueueID + "\n")
	sender := r.Sender
	if sender == "" {
		sender = "MAILER-DAEMON@" + r.Hostname
	}
	b.WriteString("X-Postfix-Sender: " + r.addrType(sender) + "; " + sender + "\n")
	b.WriteString("Arrival-Date: " + Date(r.ArrivalTime) + "\n")
	for _, rc := range r.Recipients {
		b.WriteString("\nFinal-Recipient: " + r.addrType(rc.Address) + "; " + rc.Address + "\n")
		switch {
		case rc.ORCPT != "":
			b.WriteString("Original-Recipient: " + rc.ORCPT + "\n")
		case rc.Original != "":
			b.WriteString("Original-Recipient: " + r.addrType(rc.Original) + ";" + rc.Original + "\n")
		}
		action := "failed"
		switch {
		case rc.Action != "":
			action = rc.Action
		case delayed:
			action = "delayed"
		}
		b.WriteString("Action: " + action + "\n")
		b.WriteString("Status: " + rc.Status + "\n")
		if rc.RemoteMTA != "" {
			b.WriteString(Wrap("Remote-MTA: dns; "+rc.RemoteMTA, wrapWidth, wrapIndent))
		}
		if rc.Diagnostic != "" {
			b.WriteString(Wrap("Diagnostic-Code: "+rc.Diagnostic, wrapWidth, wrapIndent))
		}
		if delayed {
			b.WriteString("Will-Retry-Until: " + Date(r.WillRetryUntil) + "\n")
		}
	}
	b.WriteString("\n")

	b.WriteString("--" + r.Boundary + "\n")
	switch {
	case r.FullMessage && r.SMTPUTF8:
		b.WriteString("Content-Description: Undelivered Message\n")
		b.WriteString("Content-Type: message/global\n")
	case r.FullMessage:
		b.WriteString("Content-Description: Undelivered Message\n")
		b.WriteString("Content-Type: message/rfc822\n")
	case r.SMTPUTF8:
		b.WriteString("Content-Description: Undelivered Message Headers\n")
		b.WriteString("Content-Type: message/global-headers\n")
	case t.Class == ClassSuccess || t.Class == ClassVerify:
		b.WriteString("Content-Description: Message Headers\n")
		b.WriteString("Content-Type: text/rfc822-headers\n")
	default:
		b.WriteString("Content-Description: Undelivered Message Headers\n")
		b.WriteString("Content-Type: text/rfc822-headers\n")
	}
	if r.EightBit {
		b.WriteString("Content-Transfer-Encoding: 8bit\n")
	}
	b.WriteString("\n")
	b.WriteString("Return-Path: <" + sender + ">\n")
	b.WriteString(r.Original)
	if r.Original != "" && !strings.HasSuffix(r.Original, "\n") {
		b.WriteString("\n")
	}
	b.WriteString("\n--" + r.Boundary + "--\n")
	return []byte(b.String())
}

// addrType is the address type of a report field: "utf-8" for a
// non-ASCII address of an SMTPUTF8 message, else "rfc822".
func (r *Report) addrType(address string) string {
	if r.SMTPUTF8 && !isASCII(address) && utf8.ValidString(address) {
		return "utf-8"
	}
	return "rfc822"
}

// Diagnose splits a delivery agent's reason into the Remote-MTA and
// Diagnostic-Code fields: "host H[ip] said: REPLY (in reply to ...)"
// and a success's "delivery via H[ip]:port: REPLY" give ("H", "smtp;
// REPLY"); any other text gives ("", "X-Postfix; TEXT").
func Diagnose(reason string) (remoteMTA, diagnostic string) {
	if rest, ok := strings.CutPrefix(reason, "delivery via "); ok {
		if i := strings.IndexByte(rest, '['); i > 0 {
			if _, reply, ok := strings.Cut(rest[i:], ": "); ok {
				if strings.HasPrefix(reply, "host ") {
					return Diagnose(reply)
				}
				return rest[:i], "smtp; " + reply
			}
		}
	}
	const said = " said: "
	if rest, ok := strings.CutPrefix(reason, "host "); ok {
		if host, reply, ok := strings.Cut(rest, said); ok && host != "" {
			if i := strings.IndexByte(host, '['); i > 0 {
				host = host[:i]
			}
			if i := strings.LastIndex(reply, " (in reply to "); i >= 0 {
				reply = reply[:i]
			}
			return host, "smtp; " + reply
		}
	}
	return "", "X-Postfix; " + reason
}
