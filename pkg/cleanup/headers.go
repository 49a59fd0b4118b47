// Message content: the Received: header, header inspection, missing headers and the size limit.

package cleanup

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/header"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

// headerLimit bounds one header as header_size_limit does (default
// 102400): longer headers are cut into body text instead of buffered.
const headerLimit = header.DefaultLimit

// Content outcomes that reject the message.
var (
	errTooBig  = errors.New("message file too big")
	errTooMany = errors.New("message rejected: hopcount exceeded")
)

// headerFacts is what cleanup learned from the message headers.
type headerFacts struct {
	messageID string // value of Message-Id:, as logged
	resentID  string // value of Resent-Message-Id:
	hops      int    // Received: headers
	have      map[string]bool
}

// contentWriter streams message content into a queue file: it writes the
// Received: header, passes the message headers through while noting what
// they contain, adds the missing ones at the end of the header block, and
// enforces message_size_limit and hopcount_limit.
type contentWriter struct {
	s       *Settings
	w       *queue.Writer
	sub     *ipc.CleanupSubmission
	sender  string // the envelope sender after rewriting
	local   bool
	mapping bool // canonical mapping applies (CleanupFlagMapOK)
	uid     uint32
	now     time.Time
	addMiss bool
	// headerContext says how header addresses are rewritten: "local",
	// "remote" (with remote_header_rewrite_domain) or "" (not at all).
	headerContext string
	facts         headerFacts

	log *messageLog
	// filtering is true while header and body checks apply: the client
	// asked for them and no action (REJECT, DISCARD, PASS, ...) ended them.
	filtering   bool
	verdict     verdict
	bodyOffset  int64 // bytes of body seen, for body_checks_size_limit
	partial     bool  // the line being handled goes on in the next piece
	localClient bool  // local_header_rewrite_clients matched
	// sink takes the content instead of the queue file while the
	// milters are still to see it; nil writes to w.
	sink contentSink
}

// contentSink is where content goes: the queue file or memory.
type contentSink interface {
	Write(p []byte) (int, error)
	ContentLength() int64
}

// out is where the content goes.
func (c *contentWriter) out() contentSink {
	if c.sink != nil {
		return c.sink
	}
	return c.w
}

// mailDate formats a time as Postfix's Date: and Received: headers do,
// with a space-padded day.
func mailDate(t time.Time) string {
	return t.Format("Mon, _2 Jan 2006 15:04:05 -0700 (MST)")
}

// received returns the Received: header for the submission.
func (c *contentWriter) received() string {
	var b strings.Builder
	forClause := ""
	if len(c.sub.Recipients) == 1 {
		forClause = "\n\tfor <" + addr.Split(c.sub.Recipients[0].Address).String() + ">"
	}
	if c.local && c.sub.Flags&ipc.CleanupFlagNotice != 0 {
		fmt.Fprintf(&b, "Received: by %s (%s)\n\tid %s; %s\n", c.s.MyHostname, c.s.MailName, c.w.ID, mailDate(c.now))
		return b.String()
	}
	if c.local {
		fmt.Fprintf(&b, "Received: by %s (%s, from userid %d)\n\tid %s; %s\n",
			c.s.MyHostname, c.s.MailName, c.uid, c.w.ID, mailDate(c.now))
		return b.String()
	}
	helo := c.sub.HeloName
	name := c.sub.ClientName
	if name == "" {
		name = "unknown"
	}
	if helo == "" {
		helo = name
	}
	protocol := c.sub.Protocol
	if protocol == "" {
		protocol = "SMTP"
	}
	fmt.Fprintf(&b, "Received: from %s (%s [%s])\n", helo, name, c.sub.ClientAddress)
	if c.sub.TLSInfo != "" {
		for _, line := range strings.Split(c.sub.TLSInfo, "\n") {
			fmt.Fprintf(&b, "\t%s\n", line)
		}
	}
	if c.sub.SASLHeader && c.sub.SASLUsername != "" {
		fmt.Fprintf(&b, "\t(Authenticated sender: %s)\n", c.sub.SASLUsername)
	}
	if forClause != "" {
		fmt.Fprintf(&b, "\tby %s (%s) with %s id %s%s; %s\n", c.s.MyHostname, c.s.MailName, protocol, c.w.ID, forClause, mailDate(c.now))
	} else {
		fmt.Fprintf(&b, "\tby %s (%s) with %s id %s;\n\t%s\n", c.s.MyHostname, c.s.MailName, protocol, c.w.ID, mailDate(c.now))
	}
	return b.String()
}

// write passes p to the queue file and checks the size limit. Nothing
// is written once the checks have rejected the message.
func (c *contentWriter) write(p []byte) error {
	if c.verdict.rejected() {
		return nil
	}
	if _, err := c.out().Write(p); err != nil {
		return err
	}
	if c.s.MessageSizeLimit > 0 && c.out().ContentLength() > c.s.MessageSizeLimit {
		return errTooBig
	}
	return nil
}

// copy streams the content from r after smtpd's PREPEND lines and the
// Received: header, in the order Postfix's smtpd writes them. The caller
// drains r after an error.
func (c *contentWriter) copy(r io.Reader) error {
	c.facts.have = map[string]bool{}
	if c.sub.Prepend != "" {
		s := header.NewScanner(strings.NewReader(c.sub.Prepend), headerLimit)
		err := c.copyHeaders(s)
		s.Release()
		if err != nil {
			return err
		}
	}
	if err := c.write([]byte(c.received())); err != nil {
		return err
	}
	s := header.NewScanner(r, headerLimit)
	defer s.Release()
	if err := c.copyHeaders(s); err != nil {
		return err
	}
	if err := c.endHeaders(); err != nil {
		return err
	}
	return c.copyBody(s.Body())
}

// copyHeaders writes the header lines s reads, noted and rewritten.
func (c *contentWriter) copyHeaders(s *header.Scanner) error {
	for s.Next() {
		name, h := s.Name(), s.Header()
		if name == "received" {
			c.facts.hops++
		}
		c.note(name, h)
		if c.headerContext != "" {
			h = c.rewriteHeader(name, h)
		}
		if err := c.write(h); err != nil {
			return err
		}
	}
	return s.Err()
}

// bodyBuffers keeps copyBody's buffers for the next message.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// copyBody streams the rest of the content.
func (c *contentWriter) copyBody(br io.Reader) error {
	bp := bodyBuffers.Get().(*[]byte)
	defer bodyBuffers.Put(bp)
	buf := *bp
	for {
		n, err := br.Read(buf)
		if n > 0 {
			if werr := c.write(buf[:n]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// note records what a complete header tells cleanup.
func (c *contentWriter) note(name string, h []byte) {
	c.facts.have[name] = true
	switch name {
	case "message-id":
		if c.facts.messageID == "" {
			c.facts.messageID = header.Value(h)
		}
	case "resent-message-id":
		if c.facts.resentID == "" {
			c.facts.resentID = header.Value(h)
		}
	}
}

// endHeaders checks the hop count and adds the missing headers, in
// Postfix's order: Message-Id:, Date:, From:, then To:.
func (c *contentWriter) endHeaders() error {
	if c.s.HopcountLimit > 0 && c.facts.hops >= c.s.HopcountLimit {
		return errTooMany
	}
	if !c.addMiss {
		return nil
	}
	var added strings.Builder
	if !c.facts.have["message-id"] {
		c.facts.messageID = c.messageID()
		fmt.Fprintf(&added, "Message-Id: %s\n", c.facts.messageID)
	}
	if !c.facts.have["date"] {
		fmt.Fprintf(&added, "Date: %s\n", mailDate(c.now))
	}
	if !c.facts.have["from"] {
		from := c.sender
		if from == "" {
			from = "MAILER-DAEMON"
		}
		fmt.Fprintf(&added, "From: %s\n", from)
	}
	if !c.facts.have["to"] && !c.facts.have["cc"] && !c.facts.have["bcc"] && c.s.UndisclosedRecipients != "" {
		fmt.Fprintf(&added, "%s\n", c.s.UndisclosedRecipients)
	}
	return c.write([]byte(added.String()))
}

// messageID makes the Message-Id: value Postfix adds: the time and queue
// ID with short IDs, the queue ID alone with long ones.
func (c *contentWriter) messageID() string {
	if queue.IsLongID(c.w.ID) {
		return "<" + c.w.ID + "@" + c.s.MyHostname + ">"
	}
	return "<" + c.now.UTC().Format("20060102150405") + "." + c.w.ID + "@" + c.s.MyHostname + ">"
}
