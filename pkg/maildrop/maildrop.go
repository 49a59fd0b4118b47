// Package maildrop writes local submissions (sendmail, postdrop) into the
// maildrop queue as queue files for pickup: the envelope first, then the
// content, then the recipients taken from the headers with -t. A file
// counts only once it is complete: pkg/queue creates it mode 0600 and
// Commit makes it 0700 after the fsync, and pickup skips files that are
// not 0700.
package maildrop

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/header"
	"github.com/postern/postern/pkg/queue"
)

// ErrNoRecipients is returned when a message has no recipients at all.
var ErrNoRecipients = errors.New("no recipient addresses found")

// ExitNoRecipients is postdrop's exit status, with nothing said, when -t
// found no recipient: sendmail, which in Postfix extracts the recipients
// itself, then reports it under its own name.
const ExitNoRecipients = 65

// Submission is a local message's envelope as sendmail's options give it.
type Submission struct {
	Sender     string   // envelope sender (-f, or the login name); "" is the null sender
	FullName   string   // -F, or the user's name from the password file
	Recipients []string // command-line recipients
	// ExtractRecipients is -t: add the To:, Cc: and Bcc: addresses (only
	// the Resent-To:, Resent-Cc: and Resent-Bcc: ones when the message
	// has Resent- headers) and remove Bcc: and Resent-Bcc: headers.
	ExtractRecipients bool
	// Origin is myorigin, for the address of a From: header added for
	// FullName when Sender has no domain.
	Origin string
	// UserVerify is sendmail -bv: the queue file asks for a report
	// instead of delivery (trace_flags).
	UserVerify bool
	// Record is sendmail -v: the sender gets a report of the first
	// delivery attempt.
	Record bool
}

// Write stores the message read from content in layout's maildrop and
// returns its queue ID. On any error nothing is left behind.
func Write(layout *queue.Layout, sub *Submission, content io.Reader) (string, error) {
	if err := checkEnvelope(sub); err != nil {
		return "", err
	}
	w, err := layout.Create(queue.Maildrop)
	if err != nil {
		return "", err
	}
	id, err := write(w, sub, content)
	if err != nil {
		w.Abandon()
		return "", err
	}
	return id, nil
}

func write(w *queue.Writer, sub *Submission, content io.Reader) (string, error) {
	env := &queue.Envelope{ArrivalTime: time.Now(), Sender: sub.Sender, FullName: sub.FullName}
	switch {
	case sub.UserVerify:
		env.Attrs = append(env.Attrs, queue.Attr{Name: queue.AttrTraceFlags, Value: strconv.Itoa(queue.TraceFlagUserVerify)})
	case sub.Record:
		env.Attrs = append(env.Attrs, queue.Attr{Name: queue.AttrTraceFlags, Value: strconv.Itoa(queue.TraceFlagRecord)})
	}
	for _, r := range sub.Recipients {
		env.Recipients = append(env.Recipients, queue.Recipient{Address: r})
	}
	if err := w.WriteEnvelope(env); err != nil {
		return "", err
	}
	h := &headerCopier{w: w, sub: sub}
	if err := h.copy(content); err != nil {
		return "", err
	}
	count := len(sub.Recipients)
	extracted := h.extracted
	if h.resent {
		// With Resent- headers present only those name the recipients.
		extracted = h.resentExtracted
	}
	for _, r := range extracted {
		if err := w.AddRecipient(queue.Recipient{Address: r}); err != nil {
			return "", err
		}
		count++
	}
	if count == 0 {
		return "", ErrNoRecipients
	}
	if err := w.Commit(); err != nil {
		return "", err
	}
	return w.ID, nil
}

// ErrMalformedEnvelope is returned for an envelope address with a
// control character: postdrop takes its envelope from whoever runs it,
// and a line break there would reach headers and mbox separators.
var ErrMalformedEnvelope = errors.New("malformed envelope: control character in an address")

// checkEnvelope refuses control characters in the addresses and replaces
// them in the full name (from -F or the password file) with spaces.
func checkEnvelope(sub *Submission) error {
	hasControl := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0
	}
	if hasControl(sub.Sender) {
		return ErrMalformedEnvelope
	}
	for _, r := range sub.Recipients {
		if hasControl(r) {
			return ErrMalformedEnvelope
		}
	}
	sub.FullName = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, sub.FullName)
	return nil
}

// headerCopier streams the content into the queue file; in the header
// block it collects -t recipients, drops Bcc: and adds a From: with the
// full name when the message has none.
type headerCopier struct {
	w               *queue.Writer
	sub             *Submission
	extracted       []string // from To:, Cc:, Bcc:
	resentExtracted []string // from Resent-To:, Resent-Cc:, Resent-Bcc:
	resent          bool     // the message has Resent- headers
	hasFrom         bool
}

func (h *headerCopier) copy(content io.Reader) error {
	s := header.NewScanner(content, header.DefaultLimit)
	for s.Next() {
		if !h.note(s.Name(), s.Header()) {
			continue
		}
		if _, err := h.w.Write(s.Header()); err != nil {
			return err
		}
	}
	if s.Err() != nil {
		return fmt.Errorf("read message: %w", s.Err())
	}
	if err := h.endHeaders(); err != nil {
		return err
	}
	if _, err := io.Copy(h.w, s.Body()); err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	return nil
}

// note looks at one complete header and says whether to keep it.
func (h *headerCopier) note(name string, hdr []byte) bool {
	if name == "from" {
		h.hasFrom = true
	}
	if !h.sub.ExtractRecipients {
		return true
	}
	if strings.HasPrefix(name, "resent-") {
		h.resent = true
	}
	value := hdr[len(name)+1:]
	switch name {
	case "to", "cc", "bcc":
		h.extracted = appendAddresses(h.extracted, value)
	case "resent-to", "resent-cc", "resent-bcc":
		h.resentExtracted = appendAddresses(h.resentExtracted, value)
	}
	return name != "bcc" && name != "resent-bcc"
}

// appendAddresses adds the addresses of a header value to list, taken
// as leniently as Postfix's sendmail -t takes them: a malformed address
// does not lose the others.
func appendAddresses(list []string, value []byte) []string {
	return append(list, addr.ExtractRecipients(string(value))...)
}

// endHeaders adds From: with the full name when the message has no From:.
func (h *headerCopier) endHeaders() error {
	if h.hasFrom || h.sub.FullName == "" || h.sub.Sender == "" {
		h.hasFrom = true
		return nil
	}
	h.hasFrom = true
	from := addr.Mailbox{Name: h.sub.FullName, Address: addr.Split(h.sub.Sender)}
	if from.Address.Domain == "" {
		from.Address.Domain = h.sub.Origin
	}
	_, err := fmt.Fprintf(h.w, "From: %s\n", from.String())
	return err
}
