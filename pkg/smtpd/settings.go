// Settings: the main.cf parameters smtpd's protocol engine obeys, read once at start-up.

package smtpd

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/match"
	"github.com/postern/postern/pkg/policy"
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
	Hostname         string        `param:"myhostname"`         // in 421 replies and EHLO
	Banner           string        `param:"smtpd_banner"`       // expanded: the text after "220 "
	MessageSizeLimit int64         `param:"message_size_limit"` // <= 0: none
	RecipientLimit   int           `param:"smtpd_recipient_limit"`
	Timeout          time.Duration `param:"smtpd_timeout"`
	HardErrorLimit   int           `param:"smtpd_hard_error_limit"`
	SoftErrorLimit   int           `param:"smtpd_soft_error_limit"`
	JunkCommandLimit int           `param:"smtpd_junk_command_limit"`
	ErrorSleep       time.Duration `param:"smtpd_error_sleep_time"`
	LineLengthLimit  int           `param:"line_length_limit"` // for command lines
	DisableVRFY      bool          `param:"disable_vrfy_command"`
	// StrictRFC821 is strict_rfc821_envelopes: MAIL FROM and RCPT TO
	// paths must be in angle brackets with nothing but the address.
	StrictRFC821   bool `param:"strict_rfc821_envelopes"`
	PeernameLookup bool `param:"smtpd_peername_lookup"`
	HeloRequired   bool `param:"smtpd_helo_required"`
	AllowMinUser   bool `param:"allow_min_user"`
	SMTPUTF8Enable bool `param:"smtputf8_enable"`
	// BareNewline and its exclusions: clients matching BareNewlineExempt
	// are treated as BareNewlineAllow.
	BareNewline           BareNewline
	BareNewlineRejectCode int `param:"smtpd_forbid_bare_newline_reject_code"`
	BareNewlineExempt     *match.NetworkList
	// Notify holds notify_classes and the recipients of the
	// postmaster's transcripts.
	Notify NotifySettings
	// DiscardEHLO holds the upper-case smtpd_discard_ehlo_keywords.
	DiscardEHLO map[string]bool
	// TLS is the server TLS configuration, nil when STARTTLS is not
	// offered; TLSRequired is smtpd_tls_security_level = encrypt.
	// Limits are the anvil client limits, Deadlines the I/O deadlines.
	Limits      Limits
	Deadlines   Deadlines
	TLS         *tls.Config
	TLSRequired bool
	TLSOptions  TLSOptions
	// WrapperMode is smtpd_tls_wrappermode: TLS from the first byte
	// (the submissions service on port 465), no STARTTLS.
	WrapperMode bool `param:"smtpd_tls_wrappermode"`
	// SASL holds the AUTH settings; nil when smtpd_sasl_auth_enable = no.
	SASL *SASLSettings
	// ContentFilter is content_filter: where every accepted message goes
	// before its recipients ("" = nowhere).
	ContentFilter string `param:"content_filter"`
	// Milters are smtpd_milters and smtpd_milter_maps; nil for none.
	Milters *MilterSettings
	// XForwardHosts is smtpd_authorized_xforward_hosts; nil for none.
	XForwardHosts *match.NetworkList
	// CleanupFlags are the optional cleanup processing requested for each
	// message, after receive_override_options.
	CleanupFlags ipc.CleanupFlags
	// RejectFooter is smtpd_reject_footer, unexpanded; SoftBounce is
	// soft_bounce; ForbidUnauthPipelining is
	// smtpd_forbid_unauth_pipelining.
	RejectFooter           string `param:"smtpd_reject_footer"`
	SoftBounce             bool   `param:"soft_bounce"`
	ForbidUnauthPipelining bool   `param:"smtpd_forbid_unauth_pipelining"`
	// Params returns a main.cf parameter for footer expansion; nil
	// means none.
	Params func(name string) string
	// RejectFooterMaps is smtpd_reject_footer_maps: footers looked up
	// by the whole reply, used instead of RejectFooter when one matches.
	RejectFooterMaps []maps.Table
	// FastFlushDomains is fast_flush_domains: the sites ETRN may ask
	// the (absent) fast flush service for.
	FastFlushDomains *match.DomainList
}

// derivedParams are the parameters FromConfig turns into settings.
type derivedParams struct {
	DiscardEHLO           []string `param:"smtpd_discard_ehlo_keywords"`
	BareNewline           string   `param:"smtpd_forbid_bare_newline"`
	BareNewlineExclusions []string `param:"smtpd_forbid_bare_newline_exclusions"`
	ReceiveOverride       []string `param:"receive_override_options"`
	RejectFooterMaps      []string `param:"smtpd_reject_footer_maps"`
	XForwardHosts         []string `param:"smtpd_authorized_xforward_hosts"`
	FastFlushDomains      []string `param:"fast_flush_domains"`
	ParentStyles          string   `param:"parent_domain_matches_subdomains"`
	TLS                   tlsParams
}

// FromConfig reads the smtpd parameters from cfg, loading the TLS
// certificate when smtpd_tls_security_level asks for TLS.
func FromConfig(cfg *config.Config) (*Settings, error) {
	s := &Settings{DiscardEHLO: map[string]bool{}}
	var p derivedParams
	if err := cfg.Fill(s); err != nil {
		return nil, err
	}
	if err := cfg.Fill(&p); err != nil {
		return nil, err
	}
	s.Params = func(name string) string { v, _ := cfg.Get(name); return v }
	for _, k := range p.DiscardEHLO {
		s.DiscardEHLO[strings.ToUpper(k)] = true
	}
	var err error
	if s.BareNewline, err = ParseBareNewline(p.BareNewline); err != nil {
		return nil, err
	}
	if s.BareNewline != BareNewlineAllow {
		if s.BareNewlineExempt, err = match.NewNetworkList("smtpd_forbid_bare_newline_exclusions", p.BareNewlineExclusions, match.Options{}); err != nil {
			return nil, err
		}
	}
	for _, spec := range p.RejectFooterMaps {
		t, err := policy.OpenTable(spec)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.RejectFooterMaps = append(s.RejectFooterMaps, t)
	}
	if err := s.loadLimits(cfg); err != nil {
		return nil, err
	}
	if err := s.loadTLS(p.TLS); err != nil {
		return nil, err
	}
	if err := s.loadSASL(cfg); err != nil {
		return nil, err
	}
	override, err := ipc.ParseReceiveOverride(p.ReceiveOverride)
	if err != nil {
		return nil, err
	}
	// cleanup applies non_smtpd_milters only to local submissions;
	// a session with smtpd milters asks for the milter round trip.
	s.CleanupFlags = override.CleanupFlags() &^ ipc.CleanupFlagMilter
	if len(p.XForwardHosts) > 0 {
		if s.XForwardHosts, err = match.NewNetworkList("smtpd_authorized_xforward_hosts", p.XForwardHosts, match.Options{}); err != nil {
			return nil, err
		}
	}
	if err := s.loadMilters(cfg, override.NoMilters); err != nil {
		return nil, err
	}
	opts := match.Options{ParentStyle: match.ParentStyle(p.ParentStyles, "fast_flush_domains"), OpenTable: policy.OpenTable}
	if s.FastFlushDomains, err = match.NewDomainList("fast_flush_domains", p.FastFlushDomains, opts); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the tables the settings opened.
func (s *Settings) Close() error {
	var err error
	if s.FastFlushDomains != nil {
		err = s.FastFlushDomains.Close()
	}
	for _, t := range s.RejectFooterMaps {
		if cerr := t.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
