// One SMTP session: connection state, the command loop, replies, error limits and timeouts.

package smtpd

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/anvil"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/milter"
	"github.com/postern/postern/pkg/policy"
)

// errCloseSession ends the command loop after the reply was sent.
var errCloseSession = errors.New("session closed")

// session is the state of one client connection.
type session struct {
	ctx  context.Context
	srv  *Server
	set  *Settings
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer

	clientAddr, clientPort, clientName string
	names                              ClientName
	bareNewline                        BareNewline // after the exclusions

	// ps is the session as pkg/policy sees it, kept up to date by
	// syncPolicy; accessDenied is the reply of rejected client
	// restrictions (smtpd_delay_reject = no), which then answers every
	// command but QUIT.
	ps           *policy.Session
	accessDenied string
	// firstRcpt is the first accepted recipient, which message-level
	// restrictions and their logs name.
	firstRcpt addr.Address
	seqno     int

	budget ioBudget       // time left for I/O (smtpd_timeout and deadlines)
	anvil  *anvil.Session // nil: the client is not counted
	// connCount is the client's connection count from anvil, with this
	// one (the {client_connections} milter macro); 0 when not counted.
	connCount int

	helo string
	// xfwd is what an authorized client sent with XFORWARD for the next
	// transaction.
	xfwd    xforward
	esmtp   bool
	tlsInfo string // "" before STARTTLS
	// clientCert is the TLS client's certificate; nil without one.
	clientCert *policy.ClientCert
	errors     int
	junk       int    // NOOP, VRFY, ETRN and RSET since the last message
	lastCmd    string // the command named in "lost connection after ..."
	stats      *commandStats
	sasl       saslState

	// milters are the session's smtpd_milters, nil without any;
	// milterHeloReject is set while a milter's 5xx answer to EHLO keeps
	// every extension but ENHANCEDSTATUSCODES from being announced.
	milters          *milter.Chain
	milterHeloReject bool

	// chat is the transcript for the postmaster (notify.go), nil when
	// notify_classes names no class of smtpd's errors.
	chat *chatLog

	tx transaction

	// tlsReceived is the TLS comment of the Received: header, lines
	// without their leading tab ("" without smtpd_tls_received_header).
	tlsReceived string
}

// transaction is the state between MAIL and the end of the message.
type transaction struct {
	active     bool
	sender     addr.Path
	params     addr.MailParams
	recipients []ipc.Recipient
	hold       bool
	discard    bool
	bdat       *bdatTransfer // set while BDAT chunks are coming
	// stream is the connection to cleanup, opened at the first accepted
	// recipient (cleanup has created the queue file queueID then);
	// streamFailed says the attempt failed and was logged.
	stream       *ipc.Conn
	queueID      string
	streamFailed bool
	// opening is the connection a CleanupOpen was sent over whose
	// answer is not read yet (see awaitStream).
	opening    *ipc.Conn
	saslSender string // MAIL FROM's AUTH=, as kept by saslSender
}

func newSession(ctx context.Context, srv *Server, conn net.Conn) *session {
	s := &session{budget: ioBudget{timeout: srv.Settings.Timeout, left: srv.Settings.Timeout, deadline: srv.Settings.Deadlines.PerRequest}, ctx: ctx, srv: srv, set: srv.Settings, conn: conn, lastCmd: "CONNECT", stats: newCommandStats()}
	s.setStreams(conn)
	if s.set.Notify.Mask() != 0 {
		s.chat = &chatLog{}
	}
	return s
}

// setStreams puts buffered reader and writer over c, with smtpd_timeout on
// every read and write.
func (s *session) setStreams(c net.Conn) {
	s.br = bufio.NewReaderSize(timedReader{s.ctx, c, &s.budget}, 4096)
	s.bw = bufio.NewWriter(timedWriter{s.ctx, c, &s.budget})
}

// namaddr is "NAME[IP]" as Postfix logs the client.
func (s *session) namaddr() string { return s.clientName + "[" + s.clientAddr + "]" }

// logProtocol is the value of proto= in log lines: "SMTP" or "ESMTP",
// whatever TLS or AUTH added, as Postfix logs it.
func (s *session) logProtocol() string {
	if !s.esmtp {
		return "SMTP"
	}
	return "ESMTP"
}

// protocol is the Received: header's "with" (RFC 3848): ESMTP, ESMTPS,
// ESMTPA or ESMTPSA.
func (s *session) protocol() string {
	switch {
	case !s.esmtp:
		return "SMTP"
	case s.tlsInfo != "" && s.sasl.username != "":
		return "ESMTPSA"
	case s.tlsInfo != "":
		return "ESMTPS"
	case s.sasl.username != "":
		return "ESMTPA"
	}
	return "ESMTP"
}

// run is the whole session: greeting, commands, and the disconnect line.
func (s *session) run() {
	s.clientAddr, s.clientPort, s.names = s.srv.clientIdentity(s.ctx, s.conn)
	s.clientName = s.names.Name
	s.ps = s.newPolicySession()
	s.srv.Log.Info("connect from %s", s.namaddr())
	defer func() { s.srv.Log.Info("disconnect from %s%s", s.namaddr(), s.stats) }()
	defer s.notifyPostmaster()
	s.bareNewline = s.set.BareNewline
	if s.set.BareNewlineExempt != nil && s.bareNewline != BareNewlineAllow {
		exempt, err := s.set.BareNewlineExempt.Match(s.clientName, s.clientAddr)
		if err != nil {
			s.srv.Log.Warning("smtpd_forbid_bare_newline_exclusions: %v", err)
		}
		if exempt {
			s.bareNewline = BareNewlineAllow
		}
	}
	defer s.abortTransaction()
	// As Postfix 3.7: early input is looked for once, right after the
	// connection is taken, never on a TLS wrapper-mode connection.
	if !s.set.WrapperMode && !s.checkPregreet() {
		s.flush()
		return
	}
	s.openAnvil()
	defer s.closeAnvil()
	if s.set.WrapperMode && s.tlsServiceRefused() {
		return
	}
	if s.set.WrapperMode {
		if err := s.handshakeTLS(); err != nil {
			if err != errCloseSession {
				s.srv.Log.Warning("TLS handshake failed for %s: %v", s.namaddr(), err)
				s.lostConnection(nil)
			}
			return
		}
	}
	if !s.connectionAllowed() {
		s.flush()
		return
	}
	defer s.closeMilters()
	if !s.openMilters() || !s.greeting() {
		s.flush()
		return
	}
	for {
		s.budget.recharge(0)
		if s.set.HardErrorLimit > 0 && s.errors >= s.set.HardErrorLimit {
			s.srv.Log.Info("too many errors after %s from %s", s.lastCmd, s.namaddr())
			s.chatAbort("too many errors")
			s.reply("421 4.7.0 " + s.set.Hostname + " Error: too many errors")
			s.flush()
			return
		}
		if s.br.Buffered() == 0 && s.flush() != nil {
			s.lostConnection(nil)
			return
		}
		line, err := readCommand(s.br, s.set.LineLengthLimit)
		if err != nil {
			s.lostConnection(err)
			return
		}
		s.chatIn(line.text)
		if line.truncated {
			s.srv.Log.Warning("%s: request longer than %d: %.30s...", s.namaddr(), s.set.LineLengthLimit, line.text)
		}
		if line.bareLF && s.bareNewline == BareNewlineReject {
			s.rejectBareLFCommand()
			return
		}
		if err := s.execute(line.text); err != nil {
			if err != errCloseSession {
				s.lostConnection(err)
			}
			s.flush()
			return
		}
	}
}

// rejectBareLFCommand answers a command line that ended in a bare <LF>
// under smtpd_forbid_bare_newline = reject, and ends the session.
func (s *session) rejectBareLFCommand() {
	s.srv.Log.Info("NOQUEUE: reject: CONNECT from %s: bare <LF> received; proto=%s%s", s.namaddr(), s.logProtocol(), s.heloLog())
	s.reply(s.bareLFReply())
	s.flush()
}

// bareLFReply is the reply to a bare <LF>.
func (s *session) bareLFReply() string {
	return strconv.Itoa(s.set.BareNewlineRejectCode) + " 5.5.2 " + s.set.Hostname + " Error: bare <LF> received"
}

// heloLog is " helo=<H>" for log lines, "" before HELO.
func (s *session) heloLog() string {
	if s.helo == "" {
		return ""
	}
	return " helo=<" + s.helo + ">"
}

// lostConnection logs why the client went away, and answers a timeout.
func (s *session) lostConnection(err error) {
	what := "lost connection"
	if errors.Is(err, os.ErrDeadlineExceeded) && s.ctx.Err() == nil {
		what = "timeout"
		s.budget.recharge(0)
		s.reply("421 4.4.2 " + s.set.Hostname + " Error: timeout exceeded")
		s.flush()
	}
	s.chatAbort(what)
	s.srv.Log.Info("%s after %s from %s", what, s.lastCmd, s.namaddr())
}

// reply queues one reply line. Error replies count towards the error
// limits; past smtpd_soft_error_limit each waits smtpd_error_sleep_time.
func (s *session) reply(line string) {
	if len(line) > 0 && (line[0] == '4' || line[0] == '5') {
		s.errors++
		if s.set.SoftErrorLimit > 0 && s.errors > s.set.SoftErrorLimit && s.set.ErrorSleep > 0 {
			s.flush()
			select {
			case <-time.After(s.set.ErrorSleep):
			case <-s.ctx.Done():
			}
		}
	}
	if len(line) > 0 && (line[0] == '4' || line[0] == '5') {
		line = s.withFooter(line)
		if s.set.SoftBounce {
			line = softBounce(line)
		}
	}
	s.chatOut(line)
	s.bw.WriteString(line)
	s.bw.WriteString("\r\n")
}

// flush sends the queued replies.
func (s *session) flush() error {
	return s.bw.Flush()
}

// newPolicySession describes the client for pkg/policy.
func (s *session) newPolicySession() *policy.Session {
	ps := &policy.Session{
		ClientName: s.names.Name, NameStatus: s.names.Status,
		ReverseName: s.names.Reverse, ReverseStatus: s.names.ReverseStatus,
		ClientAddr: s.clientAddr, ClientPort: s.clientPort,
	}
	if host, port, err := net.SplitHostPort(s.conn.LocalAddr().String()); err == nil {
		ps.ServerAddr, ps.ServerPort = host, port
	}
	return ps
}

// syncPolicy brings the policy session up to date before a check.
func (s *session) syncPolicy() *policy.Session {
	s.awaitStream() // the checks log the queue ID
	ps := s.ps
	ps.Helo = s.helo
	ps.Protocol = s.logProtocol()
	ps.SASLMethod, ps.SASLUser, ps.SASLSender = s.sasl.method, s.sasl.username, s.tx.saslSender
	ps.TLSProtocol, ps.TLSCipher = "", ""
	ps.ClientCert = s.clientCert
	if s.tlsInfo != "" {
		version, rest, _ := strings.Cut(s.tlsInfo, " with cipher ")
		cipher, _, _ := strings.Cut(rest, " ")
		ps.TLSProtocol, ps.TLSCipher = version, cipher
	}
	return ps
}

// greeting answers the connection: the banner, or with
// smtpd_delay_reject = no the rejection of smtpd_client_restrictions,
// after which every command but QUIT is refused. It returns false when
// the session must end at once.
func (s *session) greeting() bool {
	if !s.srv.Policy.DelayReject() {
		d := s.srv.Policy.CheckClient(s.syncPolicy())
		if reply := d.Reply(); reply != "" {
			s.reply(reply)
			if d.Disconnect {
				return false
			}
			s.accessDenied = reply
			return true
		}
	}
	s.reply("220 " + s.set.Banner)
	return true
}

// startTLS switches the connection to TLS after "220 2.0.0 Ready to start
// TLS". Input the client pipelined after STARTTLS is thrown away (it could
// otherwise be injected into the encrypted session).
func (s *session) startTLS() error {
	if err := s.flush(); err != nil {
		return err
	}
	if err := s.handshakeTLS(); err != nil {
		return err
	}
	s.helo, s.esmtp = "", false
	s.sasl = saslState{}
	s.resetTransaction()
	s.milterTLS()
	return nil
}
