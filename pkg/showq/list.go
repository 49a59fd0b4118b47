// Package showq produces the queue listing of postqueue -p (mailq) and
// postqueue -j. The showq daemon runs it as mail_owner for users who may
// not read the queue directories, and serves it on public/showq;
// postqueue runs it itself when it can read them (root, or an
// unprivileged instance).
package showq

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
)

// listedQueues are the queues shown, in showq's order.
var listedQueues = []string{queue.Maildrop, queue.Active, queue.Incoming, queue.Deferred, queue.Hold}

// listedMessage is one message as the listing shows it.
type listedMessage struct {
	queue, id    string
	arrival      int64
	size         int64
	forcedExpire bool
	sender       string
	recipients   []listedRecipient
}

type listedRecipient struct {
	address, reason string
}

// Lister reads the queue for a listing.
type Lister struct {
	Layout *queue.Layout
	// EmptyAddress is empty_address_recipient, shown for the null sender.
	EmptyAddress string
	// Warn reports a file that cannot be listed.
	Warn func(format string, args ...any)
}

// List writes the whole listing, in the -p or -j format.
func (l *Lister) List(out *bufio.Writer, asJSON bool) error {
	var text *textListing
	if !asJSON {
		text = &textListing{out: out, long: l.Layout.LongIDs}
	}
	for _, q := range listedQueues {
		err := l.Layout.Walk(q, func(e queue.Entry) error {
			m, ok := l.readListed(e)
			if !ok {
				return nil
			}
			if asJSON {
				writeJSON(out, m)
			} else {
				text.message(m)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if text != nil {
		text.finish()
	}
	return nil
}

// readListed reads one message for the listing. Files still being written
// and files that are not regular are skipped, as Postfix skips them; an
// unreadable file is skipped with a warning (it is left where it is:
// postqueue does not move files).
func (l *Lister) readListed(e queue.Entry) (listedMessage, bool) {
	emptyAddr := l.EmptyAddress
	f, err := os.Open(e.Path)
	if err != nil {
		if !os.IsNotExist(err) {
			l.Warn("open %s %s: %s", e.Queue, e.ID, cli.Strerror(err))
		}
		return listedMessage{}, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !queue.ModeReady(st.Mode()) {
		return listedMessage{}, false
	}
	m, err := queue.ReadEnvelope(f)
	if err != nil {
		l.Warn("%s: %v -- skipping this file", e.ID, err)
		return listedMessage{}, false
	}
	lm := listedMessage{
		queue:        e.Queue,
		id:           e.ID,
		arrival:      m.ArrivalTime.Unix(),
		size:         m.Size.SegmentSize,
		forcedExpire: queue.ModeForcedExpired(st.Mode()),
		sender:       printableAddress(m.Sender, emptyAddr),
	}
	if m.ArrivalTime.IsZero() || lm.arrival <= 0 {
		lm.arrival = st.ModTime().Unix()
	}
	// Recipients from the defer log come first, with their reasons; the
	// queue file's pending recipients follow unless already listed.
	entries, err := l.Layout.ReadStatus(queue.Defer, e.ID)
	if err != nil {
		l.Warn("%v", err)
	}
	var seen map[string]bool
	if entries != nil {
		seen = make(map[string]bool, len(entries))
	}
	for _, entry := range entries {
		addr := printableAddress(entry.Recipient, emptyAddr)
		seen[addr] = true
		lm.recipients = append(lm.recipients, listedRecipient{address: addr, reason: entry.Reason})
	}
	for _, r := range m.Pending() {
		addr := printableAddress(r.Address, emptyAddr)
		if !seen[addr] {
			lm.recipients = append(lm.recipients, listedRecipient{address: addr})
		}
	}
	return lm, true
}

// printableAddress is an address as showq prints it: the null address as
// empty_address_recipient, a local part that needs it in quotes, and
// control characters or broken UTF-8 as '?'.
func printableAddress(addr, emptyAddr string) string {
	if addr == "" {
		return emptyAddr
	}
	return printable(quoteLocalPart(addr))
}

// quoteLocalPart quotes the part before the last '@' when it is not a
// dot-atom, as RFC 5322 requires: "john doe"@example.com.
func quoteLocalPart(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr, ""
	if at >= 0 {
		local, domain = addr[:at], addr[at:]
	}
	if isDotAtom(local) {
		return addr
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(local); i++ {
		if local[i] == '"' || local[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(local[i])
	}
	b.WriteByte('"')
	return b.String() + domain
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x7f || (c < 0x80 && strings.IndexByte("()<>[]:;@\\,\"", c) >= 0) {
			return false
		}
	}
	return true
}

// printable replaces control characters and invalid UTF-8 with '?'.
func printable(s string) string {
	if isPrintable(s) {
		return s
	}
	var b bytes.Buffer
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if (r == utf8.RuneError && size <= 1) || r < 0x20 || r == 0x7f {
			b.WriteByte('?')
		} else {
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// textListing writes the postqueue -p (mailq) format.
type textListing struct {
	out   *bufio.Writer
	long  bool
	count int
	bytes int64
}

func (t *textListing) formats() (header, message, recipient string) {
	if t.long {
		return "%-17s %8s %-19s %s\n", "%-17s %8d %19.19s %s\n", "%-17s %8s %-19s %s\n"
	}
	return "%-11s %7s %-20s %s\n", "%-11s %7d %20.20s %s\n", "%-11s %7s %-20s %s\n"
}

func (t *textListing) message(m listedMessage) {
	header, message, recipient := t.formats()
	if t.count == 0 {
		if t.long {
			fmt.Fprintf(t.out, header, "----Queue ID-----", "--Size--", "---Arrival Time----", "--Sender/Recipient------")
		} else {
			fmt.Fprintf(t.out, header, "-Queue ID-", "--Size--", "----Arrival Time----", "-Sender/Recipient-------")
		}
	}
	t.count++
	t.bytes += m.size
	id := m.id
	switch {
	case m.forcedExpire:
		id += "#"
	case m.queue == queue.Active:
		id += "*"
	case m.queue == queue.Hold:
		id += "!"
	}
	fmt.Fprintf(t.out, message, id, m.size, asctimeField(m.arrival), m.sender)
	previous := ""
	for _, r := range m.recipients {
		reason := r.reason
		if reason == "" && previous != "" {
			reason = "reason unavailable"
		}
		if reason != "" && reason != previous {
			fmt.Fprintf(t.out, "%*s(%s)\n", max(76-len(reason), 0), "", reason)
			previous = reason
		}
		fmt.Fprintf(t.out, recipient, "", "", "", r.address)
	}
	t.out.WriteByte('\n')
}

func (t *textListing) finish() {
	if t.count == 0 {
		t.out.WriteString("Mail queue is empty\n")
		return
	}
	plural := "s"
	if t.count == 1 {
		plural = ""
	}
	fmt.Fprintf(t.out, "-- %d Kbytes in %d Request%s.\n", t.bytes/1024, t.count, plural)
}
