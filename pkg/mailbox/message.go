// The bytes a delivery writes: From_ line, the delivery headers, and the content with mbox quoting.

package mailbox

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Message is one message to deliver to one recipient.
type Message struct {
	Sender            string    // envelope sender, "" for the null sender
	Recipient         string    // the Delivered-To: address
	OriginalRecipient string    // the X-Original-To: address; Recipient when empty
	Time              time.Time // when it is delivered: the From_ line's date
}

// FromLine is the mbox separator line: "From sender  Sat Nov 28 13:01:26 2026\n",
// with MAILER-DAEMON for the null sender, as Postfix writes it.
func FromLine(sender string, t time.Time) string {
	if sender == "" {
		sender = "MAILER-DAEMON"
	}
	// One line whatever the sender holds.
	return fmt.Sprintf("From %s  %s\n", noControls(sender), t.Format("Mon Jan _2 15:04:05 2006"))
}

// Headers are the lines Postfix prepends to every mailbox delivery:
// Return-Path:, X-Original-To: and Delivered-To: (lower-cased).
func (m *Message) Headers() string {
	orig := m.OriginalRecipient
	if orig == "" {
		orig = m.Recipient
	}
	return fmt.Sprintf("Return-Path: <%s>\nX-Original-To: %s\nDelivered-To: %s\n",
		noControls(m.Sender), noControls(orig), noControls(strings.ToLower(m.Recipient)))
}

// noControls replaces control characters with '?', so that an envelope
// address can never end or add a header line.
func noControls(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// writeMbox writes the message as one mbox entry: From_ line, headers,
// the content with body lines starting "From " quoted as ">From ", a
// final newline if the content lacks one, and a blank line.
func (m *Message) writeMbox(w io.Writer, content io.Reader) error {
	bw := getWriter(w)
	defer putWriter(bw)
	bw.WriteString(FromLine(m.Sender, m.Time))
	bw.WriteString(m.Headers())
	br := bufio.NewReader(content)
	atLineStart, wrote := true, false
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if atLineStart && bytes.HasPrefix(chunk, []byte("From ")) {
				bw.WriteByte('>')
			}
			bw.Write(chunk)
			atLineStart = chunk[len(chunk)-1] == '\n'
			wrote = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if wrote && !atLineStart {
		bw.WriteByte('\n')
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// writeMaildir writes the message as a Maildir file: headers and content,
// unquoted.
func (m *Message) writeMaildir(w io.Writer, content io.Reader) error {
	bw := getWriter(w)
	defer putWriter(bw)
	bw.WriteString(m.Headers())
	if _, err := io.Copy(bw, content); err != nil {
		return err
	}
	return bw.Flush()
}

// writerPool holds the write buffers of mailbox deliveries: 32 KB, so
// that a large message goes out in few writes, kept for reuse rather than
// made anew for every delivery.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

func getWriter(w io.Writer) *bufio.Writer {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

func putWriter(bw *bufio.Writer) {
	bw.Reset(nil)
	writerPool.Put(bw)
}

// limitWriter fails with ErrTooLarge once more than max bytes were
// written in total; max <= 0 means no limit.
type limitWriter struct {
	w       io.Writer
	written int64
	max     int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.max > 0 && l.written+int64(len(p)) > l.max {
		return 0, ErrTooLarge
	}
	n, err := l.w.Write(p)
	l.written += int64(n)
	return n, err
}
