// Settings: the main.cf parameters smtpd's protocol engine obeys, read once at start-up.
package smtpd

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/match"
)

// BareNewline is smtpd_forbid_bare_newline: what a line ending in a bare
// <LF> (not <CR><LF>) means.
type BareNewline int

// The smtpd_forbid_bare_newline values.
const (
	// BareNewlineAllow ("no", Postfix 3.7's default): <LF> counts as
	// <CR><LF> everywhere, so even ".<LF>" ends DATA.
	BareNewlineAllow BareNewline = iota
	// BareNewlineNormalize ("normalize" or "yes", Postern's default):
	// bare <LF> is accepted as a line end, but only
	// <CR><LF>.<CR><LF> ends DATA.
	BareNewlineNormalize
	// BareNewlineReject ("reject"): as normalize, and a bare <LF> gets
	// the reject code: a command line ends the session, a message is
	// refused.
	BareNewlineReject
)

// ParseBareNewline parses a smtpd_forbid_bare_newline value.
func ParseBareNewline(v string) (BareNewline, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "no":
		return BareNewlineAllow, nil
	case "normalize", "yes":
		return BareNewlineNormalize, nil
	case "reject":
		return BareNewlineReject, nil
	}
	return 0, fmt.Errorf("bad smtpd_forbid_bare_newline value: %q", v)
}

// Settings are the parameters of the SMTP dialogue.
type Settings struct {
	Hostname         string        // myhostname, in 421 replies and EHLO
	Banner           string        // smtpd_banner, expanded: the text after "220 "
	MessageSizeLimit int64         // message_size_limit; 0 = none
	RecipientLimit   int           // smtpd_recipient_limit
	Timeout          time.Duration // smtpd_timeout
	HardErrorLimit   int           // smtpd_hard_error_limit
	SoftErrorLimit   int           // smtpd_soft_error_limit
	JunkCommandLimit int           // smtpd_junk_command_limit
	ErrorSleep       time.Duration // smtpd_error_sleep_time
	LineLengthLimit  int           // line_length_limit, for command lines
	DisableVRFY      bool          // disable_vrfy_command
	PeernameLookup   bool          // smtpd_peername_lookup
	HeloRequired     bool          // smtpd_helo_required
	AllowMinUser     bool          // allow_min_user
	SMTPUTF8Enable   bool          // smtputf8_enable
	// BareNewline and its exclusions: clients matching BareNewlineExempt
	// are treated as BareNewlineAllow.
	BareNewline           BareNewline
	BareNewlineRejectCode int
	BareNewlineExempt     *match.NetworkList
	// DiscardEHLO holds the upper-case smtpd_discard_ehlo_keywords.
	DiscardEHLO map[string]bool
	// TLS is the server TLS configuration, nil when STARTTLS is not
	// offered; TLSRequired is smtpd_tls_security_level = encrypt.
	// Limits are the anvil client limits, Deadlines the I/O deadlines.
	Limits      Limits
	Deadlines   Deadlines
	TLS         *tls.Config
	TLSRequired bool
	// WrapperMode is smtpd_tls_wrappermode: TLS from the first byte
	// (the submissions service on port 465), no STARTTLS.
	WrapperMode bool
	// SASL holds the AUTH settings; nil when smtpd_sasl_auth_enable = no.
	SASL *SASLSettings
	// ContentFilter is content_filter: where every accepted message goes
	// before its recipients ("" = nowhere).
	ContentFilter string
	// Milters is smtpd_milters, passed to cleanup with each message.
	Milters string
	// XForwardHosts is smtpd_authorized_xforward_hosts; nil for none.
	XForwardHosts *match.NetworkList
	// CleanupFlags are the optional cleanup processing requested for each
	// message, after receive_override_options.
	CleanupFlags ipc.CleanupFlags
	// RejectFooter is smtpd_reject_footer, unexpanded; SoftBounce is
	// soft_bounce; ForbidUnauthPipelining is
	// smtpd_forbid_unauth_pipelining.
	RejectFooter           string
	SoftBounce             bool
	ForbidUnauthPipelining bool
	// Params returns a main.cf parameter for footer expansion; nil
	// means none.
	Params func(name string) string
}

// LoadSettings reads the smtpd parameters from cfg, loading the TLS
// certificate when smtpd_tls_security_level asks for TLS.
func LoadSettings(cfg *config.Config) (*Settings, error) {
	s := &Settings{DiscardEHLO: map[string]bool{}}
	var err error
	get := func(name string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = cfg.Get(name)
		return v
	}
	getInt := func(name string) int {
		if err != nil {
			return 0
		}
		var n int
		n, err = cfg.Int(name)
		return n
	}
	getBool := func(name string) bool {
		if err != nil {
			return false
		}
		var b bool
		b, err = cfg.Bool(name)
		return b
	}
	getDuration := func(name string) time.Duration {
		if err != nil {
			return 0
		}
		var d time.Duration
		d, err = cfg.Duration(name, 's')
		return d
	}
	s.Hostname = get("myhostname")
	s.Banner = get("smtpd_banner")
	s.MessageSizeLimit = int64(getInt("message_size_limit"))
	s.RecipientLimit = getInt("smtpd_recipient_limit")
	s.Timeout = getDuration("smtpd_timeout")
	s.HardErrorLimit = getInt("smtpd_hard_error_limit")
	s.SoftErrorLimit = getInt("smtpd_soft_error_limit")
	s.JunkCommandLimit = getInt("smtpd_junk_command_limit")
	s.ErrorSleep = getDuration("smtpd_error_sleep_time")
	s.LineLengthLimit = getInt("line_length_limit")
	s.DisableVRFY = getBool("disable_vrfy_command")
	s.PeernameLookup = getBool("smtpd_peername_lookup")
	s.HeloRequired = getBool("smtpd_helo_required")
	s.AllowMinUser = getBool("allow_min_user")
	s.SMTPUTF8Enable = getBool("smtputf8_enable")
	s.SoftBounce = getBool("soft_bounce")
	s.ForbidUnauthPipelining = getBool("smtpd_forbid_unauth_pipelining")
	if err == nil {
		s.RejectFooter, _, err = cfg.Raw("smtpd_reject_footer")
	}
	s.Params = func(name string) string { v, _ := cfg.Get(name); return v }
	s.BareNewlineRejectCode = getInt("smtpd_forbid_bare_newline_reject_code")
	for _, k := range strings.Fields(strings.ReplaceAll(get("smtpd_discard_ehlo_keywords"), ",", " ")) {
		s.DiscardEHLO[strings.ToUpper(k)] = true
	}
	if err != nil {
		return nil, err
	}
	if s.BareNewline, err = ParseBareNewline(get("smtpd_forbid_bare_newline")); err != nil {
		return nil, err
	}
	if s.BareNewline != BareNewlineAllow {
		items, err := cfg.List("smtpd_forbid_bare_newline_exclusions")
		if err != nil {
			return nil, err
		}
		if s.BareNewlineExempt, err = match.NewNetworkList("smtpd_forbid_bare_newline_exclusions", items, match.Options{}); err != nil {
			return nil, err
		}
	}
	if err := s.loadLimits(cfg); err != nil {
		return nil, err
	}
	if err := s.loadTLS(cfg); err != nil {
		return nil, err
	}
	if err := s.loadSASL(cfg); err != nil {
		return nil, err
	}
	if s.ContentFilter, err = cfg.Get("content_filter"); err != nil {
		return nil, err
	}
	options, err := cfg.List("receive_override_options")
	if err != nil {
		return nil, err
	}
	override, err := ipc.ParseReceiveOverride(options)
	if err != nil {
		return nil, err
	}
	// smtpd's milters inspect the message in cleanup; without any (or
	// with no_milters) cleanup must not apply non_smtpd_milters either.
	s.CleanupFlags = override.CleanupFlags()
	xforwardHosts, err := cfg.List("smtpd_authorized_xforward_hosts")
	if err != nil {
		return nil, err
	}
	if len(xforwardHosts) > 0 {
		if s.XForwardHosts, err = match.NewNetworkList("smtpd_authorized_xforward_hosts", xforwardHosts, match.Options{}); err != nil {
			return nil, err
		}
	}
	if s.Milters, err = cfg.Get("smtpd_milters"); err != nil {
		return nil, err
	}
	if override.NoMilters || strings.TrimSpace(s.Milters) == "" || s.Milters == "DISABLE" {
		s.Milters = ""
		s.CleanupFlags &^= ipc.CleanupFlagMilter
	}
	return s, nil
}

// loadTLS sets TLS and TLSRequired from smtpd_tls_security_level and the
// certificate files.
func (s *Settings) loadTLS(cfg *config.Config) error {
	level, err := cfg.Get("smtpd_tls_security_level")
	if err != nil {
		return err
	}
	if s.WrapperMode, err = cfg.Bool("smtpd_tls_wrappermode"); err != nil {
		return err
	}
	switch level {
	case "", "none":
		if !s.WrapperMode {
			return nil
		}
	case "may", "encrypt":
	default:
		return fmt.Errorf("invalid smtpd_tls_security_level value: %q", level)
	}
	certFile, err := cfg.Get("smtpd_tls_cert_file")
	if err != nil {
		return err
	}
	keyFile, err := cfg.Get("smtpd_tls_key_file")
	if err != nil {
		return err
	}
	if certFile == "" {
		if s.WrapperMode {
			return fmt.Errorf("smtpd_tls_wrappermode = yes needs smtpd_tls_cert_file")
		}
		return fmt.Errorf("smtpd_tls_security_level = %s needs smtpd_tls_cert_file", level)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("cannot load certificate %s and key %s: %w", certFile, keyFile, err)
	}
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.TLSRequired = level == "encrypt"
	return nil
}
