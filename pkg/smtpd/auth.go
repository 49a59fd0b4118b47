// AUTH: the SASL dialogue with the client, relayed to Dovecot (pkg/sasl),
// with Postfix's replies and log lines, and the EHLO AUTH keyword.

package smtpd

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/postern/postern/pkg/sasl"
)

// saslState is what AUTH established for the session.
type saslState struct {
	username string // Dovecot's user=, "" until AUTH succeeds
	method   string // the mechanism, upper case
	// lastUser is the user= of Dovecot's last OK or FAIL in the session,
	// which Postfix names in failure warnings, even for a later attempt
	// refused before it reached Dovecot.
	lastUser string
}

// authMechanisms returns the mechanisms to offer to this client now: none
// when AUTH is off, before TLS under smtpd_tls_auth_only, or for
// smtpd_sasl_exceptions_networks; else Dovecot's, filtered by the
// security options that apply with or without TLS. While Dovecot is away
// the mechanisms of the last handshake are offered (AUTH then answers 454).
func (s *session) authMechanisms(forEHLO bool) []string {
	ss := s.set.SASL
	if ss == nil || s.srv.SASL == nil || (ss.AuthOnly && s.tlsInfo == "") {
		return nil
	}
	if forEHLO && ss.Exceptions != nil {
		skip, err := ss.Exceptions.Match(s.clientName, s.clientAddr)
		if err != nil {
			s.srv.Log.Warning("smtpd_sasl_exceptions_networks: %v", err)
		}
		if skip {
			return nil
		}
	}
	mechs, err := s.srv.SASL.Mechanisms(s.ctx)
	if err != nil {
		s.srv.Log.Warning("SASL: Connect to %s failed: %v", ss.Path, errors.Unwrap(err))
	}
	return s.securityOptions().Filter(mechs)
}

// securityOptions are the options that apply to this session.
func (s *session) securityOptions() sasl.SecurityOptions {
	if s.tlsInfo != "" {
		return s.set.SASL.TLSSecurity
	}
	return s.set.SASL.Security
}

// authKeywords are the EHLO lines for AUTH: "AUTH PLAIN LOGIN", and with
// broken_sasl_auth_clients also "AUTH=PLAIN LOGIN".
func (s *session) authKeywords() []string {
	mechs := s.authMechanisms(true)
	if len(mechs) == 0 {
		return nil
	}
	list := strings.Join(mechs, " ")
	k := []string{"AUTH " + list}
	if s.set.SASL.BrokenClients {
		k = append(k, "AUTH="+list)
	}
	return k
}

// auth runs the AUTH command, checking as Postfix does and in its order.
func (s *session) auth(arg string) (bool, error) {
	ss := s.set.SASL
	switch {
	case ss != nil && s.srv.SASL != nil && s.authRateExceeded():
		return false, nil
	case s.needTLS():
		return false, nil
	case s.needHelo():
		return false, nil
	case ss == nil || s.srv.SASL == nil || s.set.DiscardEHLO["AUTH"] || (ss.AuthOnly && s.tlsInfo == ""):
		// Under smtpd_tls_auth_only, Postfix turns SASL on only once
		// TLS is up: before, AUTH is not enabled at all.
		s.reply("503 5.5.1 Error: authentication not enabled")
		return false, nil
	case s.tx.active:
		s.reply("503 5.5.1 Error: MAIL transaction in progress")
		return false, nil
	case s.sasl.username != "":
		s.reply("503 5.5.1 Error: already authenticated")
		return false, nil
	}
	args := strings.Fields(arg)
	if len(args) < 1 || len(args) > 2 {
		s.reply("501 5.5.4 Syntax: AUTH mechanism")
		return false, nil
	}
	method := strings.ToUpper(args[0])
	req := sasl.Request{Mechanism: method, Service: ss.Service, LocalIP: s.localIP(), RemoteIP: s.clientAddr, Secured: s.tlsInfo != ""}
	if len(args) == 2 {
		req.InitialResponse, req.HasInitial = args[1], true
	}
	if !contains(s.authMechanisms(false), method) {
		// Not offered here (security options, auth_only): refused as
		// Dovecot's plug-in in Postfix refuses it.
		return s.authFailed(method, sasl.Reply{Status: sasl.Failure, Reason: sasl.TextInvalidMechanism})
	}
	x, r, err := s.srv.SASL.Begin(s.ctx, req)
	for err == nil && r.Status == sasl.Continue {
		s.reply("334 " + r.Challenge)
		if err := s.flush(); err != nil {
			x.Cancel()
			return false, err
		}
		line, rerr := readCommand(s.br, ss.ResponseLimit)
		if rerr != nil {
			x.Cancel()
			return false, rerr
		}
		if line.truncated {
			x.Cancel()
			s.reply("500 5.5.6 SASL response limit exceeded")
			return false, nil
		}
		if line.text == "*" {
			x.Cancel()
			s.srv.Log.Warning("%s: SASL %s authentication aborted", s.namaddr(), method)
			s.reply("501 5.7.0 Authentication aborted")
			return false, nil
		}
		r, err = x.Next(s.ctx, line.text)
	}
	if err != nil {
		var unavailable *sasl.UnavailableError
		if !errors.As(err, &unavailable) {
			return false, err // the session is ending
		}
		s.srv.Log.Warning("SASL: %s: %v", ss.Path, unavailable.Err)
		return s.authFailed(method, sasl.Reply{Status: sasl.Failure, Temporary: true, Reason: unavailable.Text})
	}
	if !r.Local {
		s.sasl.lastUser = printable(r.User)
	}
	if r.Status != sasl.Success {
		return s.authFailed(method, r)
	}
	s.reply("235 2.7.0 Authentication successful")
	s.sasl.username, s.sasl.method = printable(r.User), method
	return true, nil
}

// authFailed logs the line fail2ban's postfix-sasl filter matches and
// answers 535, or 454 for a temporary failure, with Postfix's texts.
func (s *session) authFailed(method string, r sasl.Reply) (bool, error) {
	reason := printable(r.Reason)
	if reason == "" {
		reason = "(reason unavailable)"
	}
	user := s.sasl.lastUser
	if user == "" {
		user = "(unavailable)"
	}
	s.srv.Log.Warning("%s: SASL %s authentication failed: %s, sasl_username=%s", s.namaddr(), method, reason, user)
	if r.Temporary {
		s.reply("454 4.7.0 Temporary authentication failure: " + reason)
	} else {
		s.reply("535 5.7.8 Error: authentication failed: " + reason)
	}
	return false, nil
}

// saslSender is MAIL FROM's AUTH= parameter as Postfix keeps it for the
// queue file and the log: only with AUTH enabled, and not "<>".
func (s *session) saslSender(value string) string {
	if s.set.SASL == nil || value == "" || value == "<>" {
		return ""
	}
	return printable(value)
}

// clientLog is the "client=" part of the queue ID line, with the SASL
// login when there is one.
func (s *session) clientLog() string {
	line := "client=" + s.namaddr()
	if s.sasl.username != "" {
		line += ", sasl_method=" + s.sasl.method + ", sasl_username=" + s.sasl.username
	}
	if s.tx.saslSender != "" {
		line += ", sasl_sender=" + s.tx.saslSender
	}
	return line + s.xforwardLog()
}

// localIP is the server address the client connected to, for Dovecot's lip=.
func (s *session) localIP() string {
	if s.conn.LocalAddr() == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(s.conn.LocalAddr().String())
	if err != nil {
		return ""
	}
	return host
}

// printable replaces control and non-ASCII bytes with '?', as Postfix
// does before logging or storing a name from the network.
func printable(v string) string {
	b := []byte(v)
	for i, c := range b {
		if c < ' ' || c > '~' {
			b[i] = '?'
		}
	}
	return string(b)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// SASLClient is the shared Dovecot connection behind a Server;
// *sasl.Client implements it.
type SASLClient interface {
	Mechanisms(ctx context.Context) ([]sasl.Mechanism, error)
	Begin(ctx context.Context, req sasl.Request) (*sasl.Exchange, sasl.Reply, error)
}
