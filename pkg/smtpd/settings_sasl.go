// SASL settings: the smtpd_sasl_* parameters, smtpd_tls_auth_only and
// broken_sasl_auth_clients, read once at start-up.

package smtpd

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/match"
	"github.com/postern/postern/pkg/sasl"
)

// SASLTypes are the smtpd_sasl_type values Postern implements (what
// `postconf -a` lists).
var SASLTypes = []string{"dovecot"}

// SASLSettings are the AUTH parameters; Settings.SASL is nil when
// smtpd_sasl_auth_enable = no.
type SASLSettings struct {
	Path    string // smtpd_sasl_path
	Service string // smtpd_sasl_service
	// Security applies before TLS, TLSSecurity on a TLS session
	// (smtpd_sasl_security_options, smtpd_sasl_tls_security_options).
	Security, TLSSecurity sasl.SecurityOptions
	AuthOnly              bool // smtpd_tls_auth_only: no AUTH before STARTTLS
	BrokenClients         bool // broken_sasl_auth_clients: also "AUTH=" in EHLO
	AuthenticatedHeader   bool // smtpd_sasl_authenticated_header
	// LocalDomain is smtpd_sasl_local_domain. As in Postfix, Dovecot's
	// plug-in does not use it (Dovecot's auth_default_realm does that
	// job); it is read so that a bad configuration is still seen.
	LocalDomain   string
	ResponseLimit int // smtpd_sasl_response_limit
	// Exceptions are the clients not offered AUTH in EHLO
	// (smtpd_sasl_exceptions_networks); nil for none.
	Exceptions *match.NetworkList
}

// loadSASL sets s.SASL when smtpd_sasl_auth_enable = yes.
func (s *Settings) loadSASL(cfg *config.Config) error {
	enable, err := cfg.Bool("smtpd_sasl_auth_enable")
	if err != nil || !enable {
		return err
	}
	var values = map[string]string{}
	for _, name := range []string{"smtpd_sasl_type", "smtpd_sasl_path", "smtpd_sasl_service", "smtpd_sasl_security_options",
		"smtpd_sasl_tls_security_options", "smtpd_sasl_local_domain"} {
		if values[name], err = cfg.Get(name); err != nil {
			return err
		}
	}
	if t := values["smtpd_sasl_type"]; !supportedSASLType(t) {
		return fmt.Errorf("unsupported SASL server implementation: %s", t)
	}
	ss := &SASLSettings{Path: values["smtpd_sasl_path"], Service: values["smtpd_sasl_service"], LocalDomain: values["smtpd_sasl_local_domain"]}
	if ss.Security, err = sasl.ParseSecurityOptions(values["smtpd_sasl_security_options"]); err != nil {
		return fmt.Errorf("smtpd_sasl_security_options: %w", err)
	}
	if ss.TLSSecurity, err = sasl.ParseSecurityOptions(values["smtpd_sasl_tls_security_options"]); err != nil {
		return fmt.Errorf("smtpd_sasl_tls_security_options: %w", err)
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"smtpd_tls_auth_only", &ss.AuthOnly}, {"broken_sasl_auth_clients", &ss.BrokenClients}, {"smtpd_sasl_authenticated_header", &ss.AuthenticatedHeader}} {
		if *b.dst, err = cfg.Bool(b.name); err != nil {
			return err
		}
	}
	if ss.ResponseLimit, err = cfg.Int("smtpd_sasl_response_limit"); err != nil {
		return err
	}
	exceptions, err := cfg.List("smtpd_sasl_exceptions_networks")
	if err != nil {
		return err
	}
	if len(exceptions) > 0 {
		if ss.Exceptions, err = match.NewNetworkList("smtpd_sasl_exceptions_networks", exceptions, match.Options{}); err != nil {
			return err
		}
	}
	s.SASL = ss
	return nil
}

func supportedSASLType(t string) bool {
	for _, name := range SASLTypes {
		if strings.EqualFold(t, name) {
			return true
		}
	}
	return false
}
