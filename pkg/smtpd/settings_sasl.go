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

// saslParams are the AUTH parameters as main.cf gives them.
type saslParams struct {
	Enable        bool     `param:"smtpd_sasl_auth_enable"`
	Type          string   `param:"smtpd_sasl_type"`
	Path          string   `param:"smtpd_sasl_path"`
	Service       string   `param:"smtpd_sasl_service"`
	Security      string   `param:"smtpd_sasl_security_options"`
	TLSSecurity   string   `param:"smtpd_sasl_tls_security_options"`
	AuthOnly      bool     `param:"smtpd_tls_auth_only"`
	BrokenClients bool     `param:"broken_sasl_auth_clients"`
	Header        bool     `param:"smtpd_sasl_authenticated_header"`
	LocalDomain   string   `param:"smtpd_sasl_local_domain"`
	ResponseLimit int      `param:"smtpd_sasl_response_limit"`
	Exceptions    []string `param:"smtpd_sasl_exceptions_networks"`
}

// loadSASL sets s.SASL when smtpd_sasl_auth_enable = yes.
func (s *Settings) loadSASL(cfg *config.Config) error {
	var p saslParams
	if err := cfg.Fill(&p); err != nil || !p.Enable {
		return err
	}
	if !supportedSASLType(p.Type) {
		return fmt.Errorf("unsupported SASL server implementation: %s", p.Type)
	}
	ss := &SASLSettings{Path: p.Path, Service: p.Service, LocalDomain: p.LocalDomain, AuthOnly: p.AuthOnly,
		BrokenClients: p.BrokenClients, AuthenticatedHeader: p.Header, ResponseLimit: p.ResponseLimit}
	var err error
	if ss.Security, err = sasl.ParseSecurityOptions(p.Security); err != nil {
		return fmt.Errorf("smtpd_sasl_security_options: %w", err)
	}
	if ss.TLSSecurity, err = sasl.ParseSecurityOptions(p.TLSSecurity); err != nil {
		return fmt.Errorf("smtpd_sasl_tls_security_options: %w", err)
	}
	if len(p.Exceptions) > 0 {
		if ss.Exceptions, err = match.NewNetworkList("smtpd_sasl_exceptions_networks", p.Exceptions, match.Options{}); err != nil {
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
