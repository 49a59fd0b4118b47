// Milters in cleanup: smtpd_milters (the list smtpd sends with the
// submission) or non_smtpd_milters (other submissions) inspect the
// message before it is written, and their changes go into the queue file.

package cleanup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/milter"
	"github.com/postern/postern/pkg/queue"
)

// maxMilterMessage bounds a message held in memory for the milters when
// message_size_limit is 0.
const maxMilterMessage = 256 << 20

// milterSpecs are the milters for sub: the client's smtpd_milters, else
// non_smtpd_milters; none without CleanupFlagMilter.
func (s *Server) milterSpecs(sub *ipc.CleanupSubmission) []string {
	if sub.Flags&ipc.CleanupFlagMilter == 0 || s.Settings.Milter == nil {
		return nil
	}
	if sub.Milters != "" {
		return config.SplitList(sub.Milters)
	}
	return s.Settings.NonSMTPDMilters
}

// milterOutcome is what the milters decided, with the content to write.
type milterOutcome struct {
	content io.Reader
	status  ipc.CleanupStatus
	reply   string
	discard bool
	hold    bool
}

// runMilters reads the whole content, runs it with the envelope through
// the milters and returns the (changed) submission and content. Our own
// Received: header is part of what the milters see and may change, so
// the content returned has it already.
func (s *Server) runMilters(sub *ipc.CleanupSubmission, w *queue.Writer, content io.Reader, specs []string, now time.Time) (*ipc.CleanupSubmission, milterOutcome, error) {
	limit := s.Settings.MessageSizeLimit
	if limit <= 0 {
		limit = maxMilterMessage
	}
	data, err := io.ReadAll(&readTracker{r: io.LimitReader(content, limit+1)})
	if err != nil {
		var tracked *readError
		if errors.As(err, &tracked) {
			return sub, milterOutcome{}, tracked.err
		}
		return sub, milterOutcome{}, err
	}
	if int64(len(data)) > limit {
		if _, err := io.Copy(io.Discard, content); err != nil {
			return sub, milterOutcome{}, err
		}
		s.Log.Warning("%s: queue file size limit exceeded", w.ID)
		return sub, milterOutcome{status: ipc.CleanupStatSize, reply: replyTooBig}, nil
	}
	uid, local := sub.SubmitterUID, sub.Local()
	cw := &contentWriter{s: s.Settings, w: w, sub: sub, local: local, uid: uid, now: now}
	full := append([]byte(cw.received()), bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))...)
	m := &milter.Message{QueueID: w.ID, ClientName: sub.ClientName, ClientAddr: sub.ClientAddress, ClientPort: sub.ClientPort,
		Helo: sub.HeloName, Protocol: sub.Protocol, SASLMethod: sub.SASLMethod, SASLUsername: sub.SASLUsername,
		Sender: sub.Sender}
	if local {
		// Postfix pretends that local submissions come from localhost.
		m.ClientName, m.ClientAddr, m.ClientPort, m.Helo, m.Protocol = "localhost", "127.0.0.1", "0", "localhost", "SMTP"
	}
	for _, r := range sub.Recipients {
		m.Recipients = append(m.Recipients, r.Address)
	}
	m.Headers, m.Body = splitMessage(full)
	v := milter.Run(s.Settings.Milter, specs, m, s.Log)
	var out milterOutcome
	switch {
	case v.Reply != "":
		out.status, out.reply = ipc.CleanupStatContent, v.Reply
		if v.Reply[0] == '4' {
			out.status = ipc.CleanupStatDefer
		}
		s.logMilter(w.ID, "milter-reject", v.Reply[min(4, len(v.Reply)):], sub)
		return sub, out, nil
	case v.Discard:
		s.logMilter(w.ID, "milter-discard", "milter triggers DISCARD action", sub)
		out.discard = true
	case v.Hold:
		reason := v.HoldReason
		if reason == "" {
			reason = "milter triggers HOLD action"
		}
		s.logMilter(w.ID, "milter-hold", reason, sub)
		out.hold = true
	}
	changed := *sub
	changed.Sender = m.Sender
	changed.Recipients = nil
	for _, r := range m.Recipients {
		kept := false
		for _, old := range sub.Recipients {
			if old.Address == r {
				changed.Recipients = append(changed.Recipients, old)
				kept = true
				break
			}
		}
		if !kept {
			changed.Recipients = append(changed.Recipients, ipc.Recipient{Address: r})
		}
	}
	out.content = bytes.NewReader(joinMessage(m.Headers, m.Body))
	return &changed, out, nil
}

// logMilter logs a milter's verdict as Postfix's cleanup does:
// "ID: milter-reject: END-OF-MESSAGE from host[addr]: 5.7.1 text;
// from=<a> to=<b> proto=ESMTP helo=<h>".
func (s *Server) logMilter(id, action, text string, sub *ipc.CleanupSubmission) {
	name, address, proto, helo := sub.ClientName, sub.ClientAddress, sub.Protocol, sub.HeloName
	if sub.Local() {
		name, address, proto, helo = "localhost", "127.0.0.1", "", ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: END-OF-MESSAGE from %s[%s]: %s; from=<%s>", id, action, name, address, text, sub.Sender)
	if n := len(sub.Recipients); n > 0 {
		fmt.Fprintf(&b, " to=<%s>", addr.Split(s.Settings.qualify(sub.Recipients[n-1].Address)).String())
	}
	if proto != "" {
		fmt.Fprintf(&b, " proto=%s", proto)
	}
	if helo != "" {
		fmt.Fprintf(&b, " helo=<%s>", helo)
	}
	s.Log.Info("%s", b.String())
}

// splitMessage splits LF-terminated content into its headers (value as
// written after the colon, folded lines joined with "\n") and its body.
func splitMessage(data []byte) ([]milter.Header, []byte) {
	var headers []milter.Header
	br := bufio.NewReader(bytes.NewReader(data))
	offset := 0
	for {
		line, err := br.ReadString('\n')
		if line == "" && err != nil {
			return headers, nil
		}
		text := strings.TrimSuffix(line, "\n")
		switch {
		case len(headers) > 0 && (strings.HasPrefix(text, " ") || strings.HasPrefix(text, "\t")):
			headers[len(headers)-1].Value += "\n" + text
		case text == "":
			return headers, data[offset+len(line):]
		default:
			name, value, ok := strings.Cut(text, ":")
			if !ok || strings.ContainsAny(name, " \t") || name == "" {
				return headers, data[offset:]
			}
			headers = append(headers, milter.Header{Name: name, Value: value})
		}
		offset += len(line)
		if err != nil {
			return headers, nil
		}
	}
}

// joinMessage is the inverse of splitMessage.
func joinMessage(headers []milter.Header, body []byte) []byte {
	var b bytes.Buffer
	for _, h := range headers {
		b.WriteString(h.Name + ":" + h.Value + "\n")
	}
	b.WriteString("\n")
	b.Write(body)
	return b.Bytes()
}
