// The postmaster's transcript of a session with errors (notify_classes
// protocol and data), as Postfix's smtp(8) client sends it.

package smtpclient

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/ipc"
)

// PostNoticeFunc hands cleanup a notice from sender to rcpt.
type PostNoticeFunc func(ctx context.Context, sender, rcpt string, content []byte) error

// maxChatLines bounds a session's transcript; later lines are not kept.
const maxChatLines = 2000

// chatLog is one connection's conversation since it was made or taken
// from the cache, and the notify classes of its errors.
type chatLog struct {
	lines  []string
	errors int
}

// startChat begins recording when a transcript could be sent for this
// delivery: notify_classes names a class the client reports, and the
// message is not itself a notice (null or double-bounce sender), as in
// Postfix.
func (s *session) startChat() {
	c := s.client
	s.chat = nil
	if c.cfg.PostNotice == nil || c.notifyMask&(dsn.ErrorProtocol|dsn.ErrorData) == 0 {
		return
	}
	if s.msg.Sender == "" || strings.EqualFold(s.msg.Sender, c.doubleBounce()) {
		return
	}
	s.chat = &chatLog{}
}

func (c *Client) doubleBounce() string {
	return c.cfg.Notify.DoubleBounce + "@" + c.cfg.MyHostname
}

// chatOut records a command sent.
func (s *session) chatOut(line string) {
	s.chatAppend("Out: " + line)
}

// chatIn records each line of a reply received.
func (s *session) chatIn(r Reply) {
	if s.chat == nil {
		return
	}
	for i, text := range r.Lines {
		sep := "-"
		if i == len(r.Lines)-1 {
			sep = " "
		}
		s.chatAppend("In:  " + strings.TrimRight(strconv.Itoa(r.Code)+sep+text, " "))
	}
}

func (s *session) chatAppend(line string) {
	if s.chat == nil || len(s.chat.lines) >= maxChatLines {
		return
	}
	s.chat.lines = append(s.chat.lines, line)
}

// markError adds a notify class to the session's errors.
func (s *session) markError(class int) {
	if s.chat != nil {
		s.chat.errors |= class
	}
	if class == dsn.ErrorProtocol {
		s.protocolError = true
	}
}

// checkCode marks a refusal with a code that says the client erred
// (500-509, 555) or that is no refusal at all as a protocol error, as
// Postfix's smtp does; such a session is not cached.
func (s *session) checkCode(code int) {
	if code < 400 || code > 599 || code == 555 || (code >= 500 && code < 510) {
		s.markError(dsn.ErrorProtocol)
	}
}

// notifyPostmaster sends error_notice_recipient the transcript when the
// session had errors of a class notify_classes names, and starts a new
// transcript for the next use of the connection. A failure is logged.
func (s *session) notifyPostmaster() {
	chat := s.chat
	if chat == nil {
		return
	}
	s.chat = &chatLog{}
	c := s.client
	if chat.errors&c.notifyMask == 0 {
		return
	}
	n := c.cfg.Notify
	protocol := "SMTP"
	if c.cfg.LMTP {
		protocol = "LMTP"
	}
	notice := dsn.Transcript{
		To:      n.ErrorRecipient,
		Subject: n.MailName + " " + protocol + " client: errors from " + s.target.where(),
		Preface: "Unexpected response from " + s.target.where() + ".",
		Lines:   chat.lines,
	}.Bytes()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.cfg.PostNotice(ctx, c.doubleBounce(), n.ErrorRecipient, notice); err != nil {
		c.warnf("postmaster notify: %v", err)
	}
}

// postNoticeVia returns a PostNoticeFunc that submits to the cleanup
// socket at path, each read and write bounded by timeout.
func postNoticeVia(path string, timeout time.Duration) PostNoticeFunc {
	return func(ctx context.Context, sender, rcpt string, content []byte) error {
		_, err := ipc.PostNotice(ctx, path, timeout, sender, rcpt, bytes.NewReader(content))
		return err
	}
}
