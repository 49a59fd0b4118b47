// The SMTP commands other than DATA and BDAT: HELO, EHLO, STARTTLS, MAIL, RCPT, RSET, NOOP, VRFY, ETRN, QUIT.

package smtpd

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/ipc"
)

// commandHandler runs one command and returns whether it succeeded (for
// the disconnect statistics). An error ends the session.
type commandHandler func(s *session, arg string) (bool, error)

// commands maps upper-case verbs to their handlers.
var commands map[string]commandHandler

func init() {
	commands = map[string]commandHandler{
		"HELO":     (*session).heloCmd,
		"EHLO":     (*session).ehloCmd,
		"STARTTLS": (*session).starttls,
		"AUTH":     (*session).auth,
		"MAIL":     (*session).mail,
		"RCPT":     (*session).rcpt,
		"DATA":     (*session).data,
		"BDAT":     (*session).bdat,
		"RSET":     (*session).rset,
		"NOOP":     (*session).noop,
		"VRFY":     (*session).vrfy,
		"ETRN":     (*session).etrn,
		"QUIT":     (*session).quit,
		"XFORWARD": (*session).xforwardCmd,
	}
}

// junkVerbs are the commands smtpd_junk_command_limit counts.
var junkVerbs = map[string]bool{"NOOP": true, "VRFY": true, "ETRN": true, "RSET": true}

// pipelineLast are the commands after which a client must wait for the
// reply even with PIPELINING (and after any command without ESMTP).
var pipelineLast = map[string]bool{"HELO": true, "EHLO": true, "DATA": true, "NOOP": true, "VRFY": true}

// escapeLog shows bytes as Postfix's escape() does in log lines.
func escapeLog(p []byte) string {
	var b strings.Builder
	for _, c := range p {
		switch {
		case c == '\r':
			b.WriteString("\\r")
		case c == '\n':
			b.WriteString("\\n")
		case c == '\t':
			b.WriteString("\\t")
		case c < ' ' || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// forbiddenVerbs are the commands that show a web client or proxy talking
// to the SMTP port (smtpd_forbidden_commands).
var forbiddenVerbs = map[string]bool{"CONNECT": true, "GET": true, "POST": true}

// execute runs one command line.
func (s *session) execute(line string) error {
	if strings.Trim(line, " \t") == "" {
		// As Postfix: a line without a word is refused before any
		// command lookup, and counts as no command at all.
		s.reply("500 5.5.2 Error: bad syntax")
		return nil
	}
	verb, arg, _ := strings.Cut(strings.TrimLeft(line, " \t"), " ")
	arg = strings.TrimSpace(arg)
	upper := strings.ToUpper(verb)
	if forbiddenVerbs[upper] || (strings.HasSuffix(verb, ":") && len(verb) > 1) {
		s.srv.Log.Warning("non-SMTP command from %s: %.100s", s.namaddr(), line)
		s.stats.count("unknown", false)
		s.reply("221 2.7.0 Error: I can break rules, too. Goodbye.")
		return errCloseSession
	}
	handler, ok := commands[upper]
	if !ok {
		s.lastCmd = "UNKNOWN"
		s.stats.count("unknown", false)
		if reply, disconnect := s.milterUnknown(line); disconnect {
			return errCloseSession
		} else if reply != "" {
			s.reply(reply)
			return nil
		}
		s.reply("500 5.5.2 Error: command not recognized")
		return nil
	}
	s.lastCmd = upper
	if s.accessDenied != "" && upper != "QUIT" {
		if strings.HasPrefix(s.accessDenied[1:], "21") {
			s.reply(s.accessDenied)
		} else {
			s.reply("503 5.7.0 Error: access denied for " + s.namaddr())
		}
		s.stats.count(strings.ToLower(upper), false)
		return nil
	}
	if (!s.esmtp || pipelineLast[upper]) && !s.ps.IllegalPipelining && s.br.Buffered() > 0 {
		// The client did not wait for the reply it must wait for.
		peek, _ := s.br.Peek(min(s.br.Buffered(), 100))
		s.srv.Log.Info("improper command pipelining after %s from %s: %s", upper, s.namaddr(), escapeLog(peek))
		s.ps.IllegalPipelining = true
		if s.set.ForbidUnauthPipelining {
			s.reply("554 5.5.0 Error: SMTP protocol synchronization")
			return errCloseSession
		}
	}
	if junkVerbs[upper] {
		// Past smtpd_junk_command_limit each one counts as an error.
		s.junk++
		if s.junk > s.set.JunkCommandLimit {
			s.errors++
		}
	}
	good, err := handler(s, arg)
	s.stats.count(strings.ToLower(upper), good)
	return err
}

// greet checks the argument of HELO/EHLO (with smtpd_delay_reject = no,
// smtpd_helo_restrictions too), starts a fresh session state and tells
// the milters. An error ends the session (a milter's 421).
func (s *session) greet(verb, arg string, esmtp bool) (bool, error) {
	if arg == "" {
		s.reply("501 Syntax: " + verb + " hostname")
		return false, nil
	}
	// As Postfix: control characters never reach a log line, the
	// Received: header or a restriction as they were sent.
	arg = printable(arg)
	if !s.srv.Policy.DelayReject() {
		ps := s.syncPolicy()
		ps.Helo = arg
		d := s.srv.Policy.CheckHelo(ps, verb)
		ps.Helo = s.helo
		if reply := d.Reply(); reply != "" {
			s.reply(reply)
			return false, nil
		}
	}
	s.resetTransaction()
	// As Postfix: a milter that rejects HELO/EHLO gets its way at MAIL
	// FROM; only a 421 is answered at once.
	rejected, disconnect := s.milterHelo(verb, arg)
	if disconnect {
		return false, errCloseSession
	}
	s.milterHeloReject = rejected
	s.helo, s.esmtp = arg, esmtp
	return true, nil
}

func (s *session) heloCmd(arg string) (bool, error) {
	if ok, err := s.greet("HELO", arg, false); !ok {
		return false, err
	}
	s.reply("250 " + s.set.Hostname)
	return true, nil
}

func (s *session) ehloCmd(arg string) (bool, error) {
	if ok, err := s.greet("EHLO", arg, true); !ok {
		return false, err
	}
	lines := []string{s.set.Hostname}
	for _, k := range s.ehloKeywords() {
		if s.milterHeloReject && k != "ENHANCEDSTATUSCODES" {
			continue
		}
		if !s.set.DiscardEHLO[strings.ToUpper(strings.Fields(k)[0])] {
			lines = append(lines, k)
		}
	}
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		s.reply("250" + sep + l)
	}
	return true, nil
}

// ehloKeywords lists the extensions in Postfix's order.
func (s *session) ehloKeywords() []string {
	k := []string{"PIPELINING"}
	if s.set.MessageSizeLimit > 0 {
		k = append(k, "SIZE "+strconv.FormatInt(s.set.MessageSizeLimit, 10))
	} else {
		k = append(k, "SIZE")
	}
	if !s.set.DisableVRFY {
		k = append(k, "VRFY")
	}
	k = append(k, "ETRN")
	if s.set.TLS != nil && s.tlsInfo == "" && !s.set.WrapperMode {
		k = append(k, "STARTTLS")
	}
	k = append(k, s.authKeywords()...)
	k = append(k, s.xforwardKeyword()...)
	k = append(k, "ENHANCEDSTATUSCODES", "8BITMIME", "DSN")
	if s.set.SMTPUTF8Enable {
		k = append(k, "SMTPUTF8")
	}
	return append(k, "CHUNKING")
}

func (s *session) starttls(arg string) (bool, error) {
	switch {
	case s.set.TLS == nil || s.set.WrapperMode:
		s.reply("502 5.5.1 Error: command not implemented")
	case arg != "":
		s.reply("501 5.5.4 Syntax: STARTTLS")
	case s.tlsInfo != "":
		s.reply("554 5.5.1 Error: TLS already active")
	case s.starttlsRefused():
	default:
		s.reply("220 2.0.0 Ready to start TLS")
		if err := s.startTLS(); err != nil {
			if err != errCloseSession {
				s.srv.Log.Warning("TLS handshake failed for %s: %v", s.namaddr(), err)
			}
			return false, errCloseSession
		}
		return true, nil
	}
	return false, nil
}

// needTLS answers a command that smtpd_tls_security_level = encrypt
// does not allow before STARTTLS.
func (s *session) needTLS() bool {
	if s.set.TLSRequired && s.tlsInfo == "" {
		s.reply("530 5.7.0 Must issue a STARTTLS command first")
		return true
	}
	return false
}

// needHelo answers MAIL without HELO when smtpd_helo_required is set.
func (s *session) needHelo() bool {
	if s.set.HeloRequired && s.helo == "" {
		s.reply("503 5.5.1 Error: send HELO/EHLO first")
		return true
	}
	return false
}

// cutPrefixFold removes prefix from s, ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// replyFor turns an address parse error into its reply.
func replyFor(err error, fallback *addr.ReplyError) string {
	var re *addr.ReplyError
	if errors.As(err, &re) {
		return re.Error()
	}
	return fallback.Error()
}

func (s *session) mail(arg string) (bool, error) {
	if s.needTLS() || s.needHelo() {
		return false, nil
	}
	if s.tx.bdat != nil {
		s.reply("503 5.5.1 Error: MAIL after BDAT")
		return false, nil
	}
	if s.tx.active {
		s.reply("503 5.5.1 Error: nested MAIL command")
		return false, nil
	}
	rest, ok := cutPrefixFold(arg, "FROM:")
	if !ok {
		s.reply(addr.ErrMailSyntax.Error())
		return false, nil
	}
	if s.messageRateExceeded() {
		return false, nil
	}
	if !s.strictPath(rest, "MAIL", addr.ErrBadSender) {
		return false, nil
	}
	path, params, err := addr.ParseMail(rest, addr.Options{SMTPUTF8Enable: s.set.SMTPUTF8Enable})
	if err == nil && !s.set.AllowMinUser && strings.HasPrefix(path.Address.Local, "-") {
		err = addr.ErrBadSender
	}
	if err != nil {
		s.badPath(err, "MAIL", rest, addr.ErrBadSender)
		return false, nil
	}
	if s.set.MessageSizeLimit > 0 && params.Size > s.set.MessageSizeLimit {
		s.reply("552 5.3.4 Message size exceeds fixed limit")
		return false, nil
	}
	ps := s.syncPolicy()
	ps.Mail, ps.Sender, ps.Size = true, path.Address, params.Size
	ps.SASLSender = s.saslSender(params.Auth)
	s.seqno++
	ps.Instance = fmt.Sprintf("%x.%x.%x.%x", os.Getpid(), time.Now().Unix(), time.Now().Nanosecond()/1000, s.seqno)
	if !s.srv.Policy.DelayReject() {
		if reply := s.srv.Policy.CheckSender(ps).Reply(); reply != "" {
			ps.ResetTransaction()
			s.reply(reply)
			return false, nil
		}
	}
	s.tx = transaction{active: true, sender: path, params: params, saslSender: s.saslSender(params.Auth)}
	if reply, disconnect := s.milterMail(path, esmtpArgs(rest)); disconnect {
		return false, errCloseSession
	} else if reply != "" {
		s.resetTransaction()
		s.reply(reply)
		return false, nil
	}
	s.reply("250 2.1.0 Ok")
	return true, nil
}

func (s *session) rcpt(arg string) (bool, error) {
	if s.needTLS() {
		return false, nil
	}
	if s.tx.bdat != nil {
		s.reply("503 5.5.1 Error: RCPT after BDAT")
		return false, nil
	}
	if !s.tx.active {
		s.reply("503 5.5.1 Error: need MAIL command")
		return false, nil
	}
	rest, ok := cutPrefixFold(arg, "TO:")
	if !ok {
		s.reply(addr.ErrRcptSyntax.Error())
		return false, nil
	}
	if s.recipientRateExceeded() {
		return false, nil
	}
	if !s.strictPath(rest, "RCPT", addr.ErrBadRecipient) {
		return false, nil
	}
	path, params, err := addr.ParseRcpt(rest, addr.Options{SMTPUTF8Enable: s.set.SMTPUTF8Enable, SMTPUTF8: s.tx.params.SMTPUTF8})
	if err == nil && !s.set.AllowMinUser && strings.HasPrefix(path.Address.Local, "-") {
		err = addr.ErrBadRecipient
	}
	if err != nil {
		s.badPath(err, "RCPT", rest, addr.ErrBadRecipient)
		return false, nil
	}
	if s.set.RecipientLimit > 0 && len(s.tx.recipients) >= s.set.RecipientLimit {
		s.reply("452 4.5.3 Error: too many recipients")
		return false, nil
	}
	ps := s.syncPolicy()
	ps.Recipient = path.Address
	d := s.srv.Policy.CheckRecipient(ps)
	if reply := d.Reply(); reply != "" {
		ps.Recipient = s.firstRcpt
		s.milterRcptRejected(path.Address, esmtpArgs(rest), reply)
		s.reply(reply)
		if d.Disconnect {
			return false, errCloseSession
		}
		return false, nil
	}
	// The probe sender is recorded without its time stamp.
	path.Address = ps.Recipient
	// A DISCARD of the restrictions comes first: the milters do not see
	// this recipient.
	s.tx.discard = s.tx.discard || d.Discard || ps.Discard
	if reply, disconnect := s.milterRcpt(path.Address, esmtpArgs(rest)); disconnect {
		return false, errCloseSession
	} else if reply != "" {
		ps.Recipient = s.firstRcpt
		s.reply(reply)
		return false, nil
	}
	s.openStream()
	if len(s.tx.recipients) == 0 {
		s.firstRcpt = path.Address
	}
	ps.Recipient = s.firstRcpt
	ps.RecipientCount++
	s.tx.hold = s.tx.hold || d.Hold || ps.Hold
	s.tx.recipients = append(s.tx.recipients, ipc.Recipient{
		Address: path.Address.Internal(),
		Notify:  notifyBits(params.Notify),
		ORCPT:   orcpt(params),
	})
	s.reply("250 2.1.5 Ok")
	return true, nil
}

// notifyBits converts NOTIFY= keywords.
func notifyBits(words []string) ipc.DSNNotify {
	var n ipc.DSNNotify
	for _, w := range words {
		switch w {
		case "NEVER":
			n |= ipc.DSNNotifyNever
		case "SUCCESS":
			n |= ipc.DSNNotifySuccess
		case "FAILURE":
			n |= ipc.DSNNotifyFailure
		case "DELAY":
			n |= ipc.DSNNotifyDelay
		}
	}
	return n
}

// orcpt is the ORCPT= parameter as "type;address", or "".
func orcpt(p addr.RcptParams) string {
	if p.ORCPTType == "" {
		return ""
	}
	return p.ORCPTType + ";" + p.ORCPT
}

func (s *session) rset(arg string) (bool, error) {
	if arg != "" {
		s.reply("501 5.5.4 Syntax: RSET")
		return false, nil
	}
	s.resetTransaction()
	s.reply("250 2.0.0 Ok")
	return true, nil
}

func (s *session) noop(string) (bool, error) {
	s.reply("250 2.0.0 Ok")
	return true, nil
}

func (s *session) vrfy(arg string) (bool, error) {
	if s.set.DisableVRFY {
		s.reply("502 5.5.1 VRFY command is disabled")
		return false, nil
	}
	if s.needTLS() {
		return false, nil
	}
	if arg == "" {
		s.reply("501 5.5.4 Syntax: VRFY address")
		return false, nil
	}
	address, ok := addr.ParseVrfy(arg)
	if !ok {
		s.reply(addr.ErrBadRecipient.Error())
		return false, nil
	}
	ps := s.syncPolicy()
	ps.Recipient = address
	reply := s.srv.Policy.CheckVrfy(ps).Reply()
	ps.Recipient = s.firstRcpt
	if reply != "" {
		s.reply(reply)
		return false, nil
	}
	s.reply("252 2.0.0 " + address.String())
	return true, nil
}

// etrn is accepted for compatibility; Postern has no fast flush
// service, so it answers as Postfix does without one: a site in
// fast_flush_domains gets "458 Unable to queue messages", any other
// "459 <site>: service unavailable".
func (s *session) etrn(arg string) (bool, error) {
	switch {
	case s.needTLS():
	case s.set.HeloRequired && s.helo == "":
		s.reply("503 Error: send HELO/EHLO first")
	case s.tx.active:
		s.reply("503 Error: MAIL transaction in progress")
	case arg == "" || strings.ContainsAny(arg, " \t"):
		s.reply("500 Syntax: ETRN domain")
	default:
		domain := strings.TrimLeft(arg, "@#")
		if !addr.ValidDomain(domain) {
			s.reply("501 Error: invalid parameter syntax")
			return false, nil
		}
		if reply := s.srv.Policy.CheckEtrn(s.syncPolicy(), domain).Reply(); reply != "" {
			s.reply(reply)
			return false, nil
		}
		listed, err := false, error(nil)
		if s.set.FastFlushDomains != nil {
			listed, err = s.set.FastFlushDomains.Match(domain)
		}
		if err != nil || listed {
			s.srv.Log.Warning("unable to talk to fast flush service")
			s.reply("458 Unable to queue messages")
			return false, nil
		}
		s.srv.Log.Warning("reject: ETRN %.100s... from %s", domain, s.namaddr())
		s.reply("459 <" + domain + ">: service unavailable")
	}
	return false, nil
}

func (s *session) quit(string) (bool, error) {
	s.reply("221 2.0.0 Bye")
	return true, errCloseSession
}

// resetTransaction forgets the current transaction, abandoning a BDAT
// transfer in progress.
func (s *session) resetTransaction() {
	s.abortTransaction()
	s.tx = transaction{}
	s.xfwd = xforward{}
	s.firstRcpt = addr.Address{}
	if s.milters != nil {
		s.milters.Reset()
	}
	if s.ps != nil {
		s.ps.ResetTransaction()
	}
}
