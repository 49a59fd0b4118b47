// The postmaster's transcript of a session with errors (notify_classes), as Postfix's smtpd sends it.

package smtpd

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/ipc"
)

// NotifySettings are the parameters of the postmaster's transcripts:
// the server's also name where unknown-address errors go.
type NotifySettings struct {
	dsn.NotifySettings
	BounceRecipient string `param:"bounce_notice_recipient"`
}

// maxChatLines bounds a session's transcript; later lines are not kept.
const maxChatLines = 2000

// chatLog is the session's transcript and the classes of its errors
// since the last message it queued.
type chatLog struct {
	lines  []string
	errors int
	// reason is why the session was aborted: "lost connection",
	// "timeout" or "too many errors".
	reason string
}

// chatAbort records why the session ends early.
func (s *session) chatAbort(reason string) {
	if s.chat != nil {
		s.chat.reason = reason
	}
}

// chatIn records a command line of the client.
func (s *session) chatIn(line string) {
	s.chatAppend("In:  " + line)
}

// chatOut records a reply line and classifies an error reply. A message
// queued clears the errors, as in Postfix.
func (s *session) chatOut(line string) {
	if s.chat == nil {
		return
	}
	s.chatAppend("Out: " + line)
	switch {
	case strings.HasPrefix(line, "250 ") && strings.Contains(line, " queued as "):
		s.chat.errors = 0
	case len(line) > 3 && (line[0] == '4' || line[0] == '5') && line[3] == ' ':
		s.chat.errors |= errorClass(line)
	}
}

func (s *session) chatAppend(line string) {
	if s.chat == nil || len(s.chat.lines) >= maxChatLines {
		return
	}
	s.chat.lines = append(s.chat.lines, line)
}

// errorClass tells an error reply's notify class from its status code and
// text, as Postfix's smtpd assigns them: unknown recipients and senders,
// over-size and looping mail are "bounce"; lookup failures "data"; full
// storage and queue file errors "resource"; configuration and internal
// errors "software"; command and syntax errors (x.5.x, bad address
// syntax) "protocol"; everything else (restrictions) "policy".
func errorClass(line string) int {
	_, rest, _ := strings.Cut(line, " ")
	status, text, _ := strings.Cut(rest, " ")
	detail := status[min(2, len(status)):] // "1.1" of "5.1.1"
	switch {
	case strings.Contains(text, "User unknown") ||
		(detail == "1.1" || detail == "1.0") && strings.Contains(text, " address rejected: ") && !strings.Contains(text, "unverified address"),
		detail == "3.4" || strings.Contains(text, "too many hops"):
		return dsn.ErrorBounce
	case strings.Contains(text, "Temporary lookup failure") || strings.Contains(text, "Server local data error"):
		return dsn.ErrorData
	case detail == "3.1" || strings.Contains(text, "queue file write error") || strings.Contains(text, "Temporary lookup error"):
		return dsn.ErrorResource
	case detail == "3.5" || detail == "3.0":
		return dsn.ErrorSoftware
	case strings.Contains(text, " rejected: "):
		return dsn.ErrorPolicy
	case strings.HasPrefix(detail, "5.") || detail == "1.3" || detail == "1.7":
		return dsn.ErrorProtocol
	}
	return dsn.ErrorPolicy
}

// notifyPostmaster sends the transcript of a session whose errors
// notify_classes names: to bounce_notice_recipient when a recipient or
// sender was unknown, else to error_notice_recipient, from the
// double-bounce address. Nothing waits for it; a failure is logged.
func (s *session) notifyPostmaster() {
	if s.chat == nil || s.chat.errors&s.set.Notify.Mask() == 0 || s.srv.DialCleanup == nil {
		return
	}
	n := s.set.Notify
	to := n.ErrorRecipient
	if s.chat.errors&dsn.ErrorBounce != 0 {
		to = n.BounceRecipient
	}
	notice := dsn.Transcript{
		To:         n.ErrorRecipient,
		Subject:    n.MailName + " SMTP server: errors from " + s.namaddr(),
		Lines:      s.chat.lines,
		ReasonLine: true,
		Reason:     s.chat.reason,
	}.Bytes()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := s.srv.DialCleanup(ctx)
	if err != nil {
		s.srv.Log.Warning("postmaster notify: %v", err)
		return
	}
	defer conn.Close()
	sub := &ipc.CleanupSubmission{
		Sender:      n.DoubleBounce + "@" + s.set.Hostname,
		Recipients:  []ipc.Recipient{{Address: to}},
		Flags:       ipc.CleanupFlagMapOK | ipc.CleanupFlagNotice,
		ArrivalTime: time.Now(),
	}
	reply, err := conn.Submit(ctx, sub, bytes.NewReader(notice))
	if err != nil {
		s.srv.Log.Warning("postmaster notify: %v", err)
		return
	}
	if reply.Status != 0 {
		s.srv.Log.Warning("postmaster notify: %s", reply.Reason)
	}
}
