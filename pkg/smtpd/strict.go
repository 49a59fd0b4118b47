// strict_rfc821_envelopes: refusing MAIL FROM and RCPT TO paths that are
// not in RFC 821 form, with Postfix's warning and 501 replies.

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
	s.srv.Log.Warning("Illegal address syntax from %s in %s command: %s", s.namaddr(), command, printable(path))
	s.reply(reject.Error())
	return false
}
