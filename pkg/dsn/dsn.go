// Package dsn builds the RFC 3464 delivery status notifications the queue
// manager returns to senders: Postfix's multipart/report non-delivery
// notice with its text, the per-recipient delivery status and the
// original message's headers.
package dsn

import (
	"fmt"
	"strings"
	"time"
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
	// Diagnostic is the remote server's reply for Diagnostic-Code:
	// "smtp; REPLY" when RemoteMTA is set, "X-Postfix; REASON" otherwise.
	Diagnostic string
}

// Report is a non-delivery notification for one message.
type Report struct {
	// Hostname is myhostname: the Reporting-MTA and the text's host.
	Hostname string
	// QueueID and Sender identify the returned message; ArrivalTime is
	// when it arrived.
	QueueID     string
	Sender      string
	ArrivalTime time.Time
	// To is the notification's recipient (the sender, or the postmaster
	// for a double bounce).
	To         string
	Recipients []Recipient
	// Original is the returned message: its header lines, each ending
	// "\n", or the whole message when FullMessage is set.
	Original    string
	FullMessage bool
	// Boundary separates the MIME parts; Postfix uses
	// "QUEUEID.UNIXTIME/HOSTNAME".
	Boundary string
}

// NewBoundary returns the MIME boundary Postfix uses for a report.
func NewBoundary(queueID string, now time.Time, hostname string) string {
	return fmt.Sprintf("%s.%d/%s", queueID, now.Unix(), hostname)
}

// FailureText is the notice part of a non-delivery notification, as
// Postfix's default bounce template words it.
func FailureText(hostname string) string {
	return "This is the mail system at host " + hostname + ".\n" +
		"\n" +
		"I'm sorry to have to inform you that your message could not\n" +
		"be delivered to one or more recipients. It's attached below.\n" +
		"\n" +
		"For further assistance, please send mail to postmaster.\n" +
		"\n" +
		"If you do so, please include this problem report. You can\n" +
		"delete your own text from the attached returned message.\n" +
		"\n" +
		"                   The mail system\n"
}

// arrivalDate formats a time as RFC 5322 with Postfix's trailing zone
// name, "Sat, 28 Nov 2026 13:01:15 +0000 (UTC)".
func arrivalDate(t time.Time) string {
	return t.Format("Mon, 2 Jan 2006 15:04:05 -0700 (MST)")
}

// Build renders the notification: headers (without Message-Id and Date,
// which cleanup adds) and the three-part multipart/report body, with
// "\n" line ends.
func Build(r *Report) []byte {
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@" + r.Hostname + " (Mail Delivery System)\n")
	b.WriteString("Subject: Undelivered Mail Returned to Sender\n")
	b.WriteString("To: " + r.To + "\n")
	b.WriteString("Auto-Submitted: auto-replied\n")
	b.WriteString("MIME-Version: 1.0\n")
	b.WriteString("Content-Type: multipart/report; report-type=delivery-status;\n")
	b.WriteString("\tboundary=\"" + r.Boundary + "\"\n")
	b.WriteString("Content-Transfer-Encoding: 8bit\n")
	b.WriteString("\n")
	b.WriteString("This is a MIME-encapsulated message.\n\n")

	b.WriteString("--" + r.Boundary + "\n")
	b.WriteString("Content-Description: Notification\n")
	b.WriteString("Content-Type: text/plain; charset=us-ascii\n\n")
	b.WriteString(FailureText(r.Hostname))
	for _, rc := range r.Recipients {
		b.WriteString("\n<" + rc.Address + ">: " + rc.Reason + "\n")
	}
	b.WriteString("\n")

	b.WriteString("--" + r.Boundary + "\n")
	b.WriteString("Content-Description: Delivery report\n")
	b.WriteString("Content-Type: message/delivery-status\n\n")
	b.WriteString("Reporting-MTA: dns; " + r.Hostname + "\n")
	b.WriteString("X-Postfix-Queue-ID: " + r.QueueID + "\n")
	b.WriteString("X-Postfix-Sender: rfc822; " + r.Sender + "\n")
	b.WriteString("Arrival-Date: " + arrivalDate(r.ArrivalTime) + "\n")
	for _, rc := range r.Recipients {
		b.WriteString("\nFinal-Recipient: rfc822; " + rc.Address + "\n")
		if rc.Original != "" {
			b.WriteString("Original-Recipient: rfc822;" + rc.Original + "\n")
		}
		b.WriteString("Action: failed\n")
		b.WriteString("Status: " + rc.Status + "\n")
		if rc.RemoteMTA != "" {
			b.WriteString("Remote-MTA: dns; " + rc.RemoteMTA + "\n")
		}
		if rc.Diagnostic != "" {
			b.WriteString("Diagnostic-Code: " + rc.Diagnostic + "\n")
		}
	}
	b.WriteString("\n")

	b.WriteString("--" + r.Boundary + "\n")
	if r.FullMessage {
		b.WriteString("Content-Description: Undelivered Message\n")
		b.WriteString("Content-Type: message/rfc822\n\n")
	} else {
		b.WriteString("Content-Description: Undelivered Message Headers\n")
		b.WriteString("Content-Type: text/rfc822-headers\n\n")
	}
	b.WriteString(r.Original)
	if r.Original != "" && !strings.HasSuffix(r.Original, "\n") {
		b.WriteString("\n")
	}
	b.WriteString("\n--" + r.Boundary + "--\n")
	return []byte(b.String())
}

// Diagnose splits a delivery agent's reason into the Remote-MTA and
// Diagnostic-Code fields: "host H[ip] said: REPLY (in reply to ...)"
// gives ("H", "smtp; REPLY"); any other text gives ("", "X-Postfix; TEXT").
func Diagnose(reason string) (remoteMTA, diagnostic string) {
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
