// A client that talks before the greeting: Postfix logs "improper
// command pipelining after CONNECT" and reject_unauth_pipelining refuses
// its mail later.

package smtpd

import (
	"golang.org/x/sys/unix"

	"github.com/postern/postern/pkg/rawconn"
)

// checkPregreet looks, right after the connection is taken, for input
// the client sent without waiting for the greeting, and marks the
// session as pipelining improperly when there is some. Postfix 3.7 looks
// only then: input that arrives later (while smtpd_client_restrictions
// sleep) is not looked for. With smtpd_forbid_unauth_pipelining the
// client gets "554 5.5.0 Error: SMTP protocol synchronization" and false
// is returned: the session ends.
func (s *session) checkPregreet() bool {
	n := s.br.Buffered()
	if n == 0 {
		n = pendingBytes(s.conn)
	}
	if n == 0 {
		return true
	}
	peek, _ := s.br.Peek(min(n, 100))
	s.srv.Log.Info("improper command pipelining after CONNECT from %s: %s", s.namaddr(), escapeLog(peek))
	s.ps.IllegalPipelining = true
	if s.set.ForbidUnauthPipelining {
		s.reply("554 5.5.0 Error: SMTP protocol synchronization")
		return false
	}
	return true
}

// pendingBytes is how many bytes wait in the socket's receive queue
// (0 when that cannot be told, as for a TLS connection).
func pendingBytes(conn any) int {
	n := 0
	rawconn.Control(conn, func(fd int) {
		if v, err := unix.IoctlGetInt(fd, unix.SIOCINQ); err == nil {
			n = v
		}
	})
	return n
}
