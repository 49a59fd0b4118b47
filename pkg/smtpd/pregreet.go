// A client that talks before the greeting: Postfix logs "improper
// command pipelining after CONNECT" and reject_unauth_pipelining refuses
// its mail later.

package smtpd

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// checkPregreet looks, before the greeting, for input the client sent
// without waiting for it, and marks the session as pipelining improperly
// when there is some. It runs before and after smtpd_client_restrictions
// (with smtpd_delay_reject = no a "sleep" there gives a zombie client time
// to talk); the line is logged once.
func (s *session) checkPregreet() {
	if s.ps.IllegalPipelining || s.br.Buffered() == 0 && pendingBytes(s.conn) == 0 {
		return
	}
	n := s.br.Buffered()
	if n == 0 {
		n = pendingBytes(s.conn)
	}
	peek, _ := s.br.Peek(min(n, 100))
	s.srv.Log.Info("improper command pipelining after CONNECT from %s: %s", s.namaddr(), escapeLog(peek))
	s.ps.IllegalPipelining = true
}

// pendingBytes is how many bytes wait in the socket's receive queue
// (0 when that cannot be told, as for a TLS connection).
func pendingBytes(conn any) int {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return 0
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	raw.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err == nil {
			n = v
		}
	})
	return n
}
