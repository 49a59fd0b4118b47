// Client limits shared by every smtpd process of a service through anvil: connection count and rate, message, recipient, new TLS session and AUTH rates.

package smtpd

import (
	"github.com/postern/postern/pkg/anvil"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/match"
)

// Limits are the anvil limits (0 = no limit). Clients matching
// smtpd_client_event_limit_exceptions are not counted at all.
type Limits struct {
	ConnectionCount int      `param:"smtpd_client_connection_count_limit"`
	ConnectionRate  int      `param:"smtpd_client_connection_rate_limit"`
	MessageRate     int      `param:"smtpd_client_message_rate_limit"`
	RecipientRate   int      `param:"smtpd_client_recipient_rate_limit"`
	NewTLSRate      int      `param:"smtpd_client_new_tls_session_rate_limit"`
	AuthRate        int      `param:"smtpd_client_auth_rate_limit"`
	Exceptions      []string `param:"smtpd_client_event_limit_exceptions"`

	exempt *match.NetworkList
}

// loadLimits reads the anvil limits and the deadline parameters.
func (s *Settings) loadLimits(cfg *config.Config) error {
	if err := cfg.Fill(&s.Limits); err != nil {
		return err
	}
	if err := cfg.Fill(&s.Deadlines); err != nil {
		return err
	}
	var err error
	s.Limits.exempt, err = match.NewNetworkList("smtpd_client_event_limit_exceptions", s.Limits.Exceptions, match.Options{})
	return err
}

// openAnvil starts the session's anvil stream, unless anvil is not in use
// (stand-alone or in-process servers) or the client is exempt. Failures
// leave the client unlimited, as Postfix does when anvil does not answer;
// the first one is logged.
func (s *session) openAnvil() {
	if s.srv.Anvil == nil {
		return
	}
	if l := s.set.Limits.exempt; l != nil {
		exempt, err := l.Match(s.clientName, s.clientAddr)
		if err != nil {
			s.srv.Log.Warning("smtpd_client_event_limit_exceptions: %v", err)
		}
		if exempt {
			return
		}
	}
	a, err := s.srv.Anvil.Open(s.ctx, s.srv.Service, s.clientAddr)
	if err != nil {
		if s.srv.Anvil.FirstFailure() {
			s.srv.Log.Warning("%v; client limits are not enforced", err)
		}
		return
	}
	s.anvil = a
}

// closeAnvil ends the session's anvil stream: the connection is no longer
// counted.
func (s *session) closeAnvil() {
	if s.anvil != nil {
		s.anvil.Close()
		s.anvil = nil
	}
}

// anvilFailed logs a failed anvil request and stops asking for the rest of
// the session.
func (s *session) anvilFailed(err error) {
	s.srv.Log.Warning("problem talking to service %s: %v", anvil.ServicePath, err)
	s.closeAnvil()
}

// connectionAllowed counts the connection (also when no connection limit
// is set, so that the rates of the other events stay right) and answers
// a client over smtpd_client_connection_count_limit or
// smtpd_client_connection_rate_limit with Postfix's 421.
func (s *session) connectionAllowed() bool {
	if s.anvil == nil {
		return true
	}
	count, rate, err := s.anvil.Connect()
	if err != nil {
		s.anvilFailed(err)
		return true
	}
	s.connCount = count
	l := s.set.Limits
	switch {
	case l.ConnectionCount > 0 && count > l.ConnectionCount:
		s.srv.Log.Warning("Connection concurrency limit exceeded: %d from %s for service %s", count, s.namaddr(), s.srv.Service)
	case l.ConnectionRate > 0 && rate > l.ConnectionRate:
		s.srv.Log.Warning("Connection rate limit exceeded: %d from %s for service %s", rate, s.namaddr(), s.srv.Service)
	default:
		return true
	}
	s.reply("421 4.7.0 " + s.set.Hostname + " Error: too many connections from " + s.clientAddr)
	return false
}

// overRate counts ev and reports its rate and whether it is over limit
// (never when limit is 0: then nothing is counted).
func (s *session) overRate(ev anvil.Event, limit int) (int, bool) {
	if limit <= 0 || s.anvil == nil {
		return 0, false
	}
	rate, err := s.anvil.Count(ev)
	if err != nil {
		s.anvilFailed(err)
		return 0, false
	}
	return rate, rate > limit
}

// messageRateExceeded answers MAIL over smtpd_client_message_rate_limit.
func (s *session) messageRateExceeded() bool {
	rate, over := s.overRate(anvil.EventMail, s.set.Limits.MessageRate)
	if over {
		s.reply("450 4.7.1 Error: too much mail from " + s.clientAddr)
		s.srv.Log.Warning("Message delivery request rate limit exceeded: %d from %s for service %s", rate, s.namaddr(), s.srv.Service)
	}
	return over
}

// recipientRateExceeded answers RCPT over smtpd_client_recipient_rate_limit.
func (s *session) recipientRateExceeded() bool {
	rate, over := s.overRate(anvil.EventRcpt, s.set.Limits.RecipientRate)
	if over {
		s.srv.Log.Warning("Recipient address rate limit exceeded: %d from %s for service %s", rate, s.namaddr(), s.srv.Service)
		s.reply("450 4.7.1 Error: too many recipients from " + s.clientAddr)
	}
	return over
}

// AuthRateExceeded answers AUTH over smtpd_client_auth_rate_limit; the
// AUTH command calls it first, when SASL is enabled, as Postfix's does.
func (s *session) authRateExceeded() bool {
	rate, over := s.overRate(anvil.EventAuth, s.set.Limits.AuthRate)
	if over {
		s.srv.Log.Warning("AUTH command rate limit exceeded: %d from %s for service %s", rate, s.namaddr(), s.srv.Service)
		s.reply("450 4.7.1 Error: too many AUTH commands from " + s.clientAddr)
	}
	return over
}

// starttlsRefused answers STARTTLS from a client that is already over
// smtpd_client_new_tls_session_rate_limit, without counting.
func (s *session) starttlsRefused() bool {
	if !s.newTLSRateExceeded() {
		return false
	}
	s.srv.Log.Warning("Refusing STARTTLS request from %s for service %s", s.namaddr(), s.srv.Service)
	s.reply("454 4.7.0 Error: too many new TLS sessions from " + s.namaddr())
	return true
}

// tlsServiceRefused drops a wrapper-mode (smtps) client that is already
// over smtpd_client_new_tls_session_rate_limit, before the handshake.
func (s *session) tlsServiceRefused() bool {
	if !s.newTLSRateExceeded() {
		return false
	}
	s.srv.Log.Warning("Refusing TLS service request from %s for service %s", s.namaddr(), s.srv.Service)
	return true
}

// newTLSRateExceeded reports whether the client is already over
// smtpd_client_new_tls_session_rate_limit; asking does not count.
func (s *session) newTLSRateExceeded() bool {
	limit := s.set.Limits.NewTLSRate
	if limit <= 0 || s.anvil == nil {
		return false
	}
	rate, err := s.anvil.NewTLSRate()
	if err != nil {
		s.anvilFailed(err)
		return false
	}
	return rate > limit
}

// newTLSSessionAllowed counts a TLS session that was not resumed and, over
// smtpd_client_new_tls_session_rate_limit, answers with Postfix's 421
// (over TLS) and returns false: the session ends.
func (s *session) newTLSSessionAllowed(resumed bool) bool {
	if resumed {
		return true
	}
	rate, over := s.overRate(anvil.EventNewTLS, s.set.Limits.NewTLSRate)
	if !over {
		return true
	}
	s.srv.Log.Warning("New TLS session rate limit exceeded: %d from %s for service %s", rate, s.namaddr(), s.srv.Service)
	s.reply("421 4.7.0 " + s.set.Hostname + " Error: too many new TLS sessions from " + s.namaddr())
	s.flush()
	return false
}
