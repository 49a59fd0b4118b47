// Refusing MAIL FROM and RCPT TO paths: strict_rfc821_envelopes, and the
// "Illegal address syntax" warning Postfix's smtpd logs with its 501
// replies.

package smtpd

import "github.com/postern/postern/pkg/addr"

// strictPath checks the argument of command (MAIL or RCPT) when
// strict_rfc821_envelopes is on; a path that fails is logged and
// answered with reject, and false is returned.
func (s *session) strictPath(arg, command string, reject *addr.ReplyError) bool {
	if !s.set.StrictRFC821 {
		return true
	}
	path, ok := addr.StrictPath(arg)
	if ok {
		return true
	}
	s.illegalAddress(command, path)
	s.reply(reject.Error())
	return false
}

// badPath answers a MAIL or RCPT whose path failed with err (a reply
// error of pkg/addr, or fallback). A bad address is logged as Postfix
// logs it, unless its '<' or '"' is not closed: Postfix's command
// tokenizer refuses that one before the address is looked at, silently.
func (s *session) badPath(err error, command, arg string, fallback *addr.ReplyError) {
	if err == addr.ErrBadSender || err == addr.ErrBadRecipient {
		if path, closed := addr.PathToken(arg); closed {
			s.illegalAddress(command, path)
		}
	}
	s.reply(replyFor(err, fallback))
}

// illegalAddress logs Postfix's warning for a refused path.
func (s *session) illegalAddress(command, path string) {
	s.srv.Log.Warning("Illegal address syntax from %s in %s command: %s", s.namaddr(), command, printable(path))
}
