// The postmaster's transcript of an SMTP session with errors
// (notify_classes), as Postfix's smtpd and smtp(8) client write it.

package dsn

import (
	"bytes"
	"strings"
)

// Notify classes of notify_classes that a session's errors can have.
const (
	ErrorBounce = 1 << iota
	ErrorPolicy
	ErrorProtocol
	ErrorResource
	ErrorSoftware
	ErrorData
)

var errorClassNames = map[string]int{
	"bounce": ErrorBounce, "policy": ErrorPolicy, "protocol": ErrorProtocol,
	"resource": ErrorResource, "software": ErrorSoftware, "data": ErrorData,
}

// NotifyMask is the set of session error classes that notify_classes
// names (delay and 2bounce concern qmgr, not sessions).
func NotifyMask(classes []string) int {
	m := 0
	for _, c := range classes {
		m |= errorClassNames[strings.ToLower(c)]
	}
	return m
}

// NotifySettings are the parameters of the postmaster's transcripts
// that the SMTP server and client share.
type NotifySettings struct {
	Classes        []string `param:"notify_classes"`
	ErrorRecipient string   `param:"error_notice_recipient"`
	DoubleBounce   string   `param:"double_bounce_sender"`
	MailName       string   `param:"mail_name"`
}

// Mask is the set of session error classes Classes names.
func (n *NotifySettings) Mask() int { return NotifyMask(n.Classes) }

// Transcript is a postmaster notice with a session's conversation.
type Transcript struct {
	// To is the address on the To: line (error_notice_recipient).
	To string
	// Subject is the whole Subject: text, e.g. "Postfix SMTP client:
	// errors from host[addr]:port".
	Subject string
	// Preface is a paragraph before "Transcript of session follows."
	// ("" for none), e.g. "Unexpected response from host[addr]:port.".
	Preface string
	// Lines are the conversation, "In:  " and "Out: " prefixed.
	Lines []string
	// ReasonLine asks for smtpd's layout: a line for why the session was
	// aborted (blank when Reason is "") before the closing paragraph.
	ReasonLine bool
	Reason     string
}

// Bytes is the notice's header and body, LF line ends: each
// conversation line made printable, wrapped at 78 columns with 4 more
// spaces on continuations, and indented by one space, as Postfix prints
// untrusted text.
func (t Transcript) Bytes() []byte {
	var b bytes.Buffer
	b.WriteString("From: Mail Delivery System <MAILER-DAEMON>\n")
	b.WriteString("To: Postmaster <" + t.To + ">\n")
	b.WriteString("Subject: " + t.Subject + "\n\n")
	if t.Preface != "" {
		b.WriteString(t.Preface + "\n\n")
	}
	b.WriteString("Transcript of session follows.\n\n")
	for _, line := range t.Lines {
		for _, l := range strings.SplitAfter(Wrap(Printable(line), 78, 4), "\n") {
			if l != "" {
				b.WriteString(" " + l)
			}
		}
	}
	b.WriteString("\n")
	if t.ReasonLine {
		if t.Reason != "" {
			b.WriteString("Session aborted, reason: " + t.Reason + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("For other details, see the local mail logfile\n")
	return b.Bytes()
}

// Printable replaces control and non-ASCII characters with '?', as
// Postfix prints untrusted text in a transcript.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f {
			return '?'
		}
		return r
	}, s)
}
