// The TLS policy of one destination: smtp_tls_security_level, overridden per next-hop by smtp_tls_policy_maps, with its protocols, ciphers and certificate match.

package smtpclient

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/tlsconf"
)

// TLSChoices are the smtp_tls_* parameters a per-destination policy can
// override, and the policy tables.
type TLSChoices struct {
	Protocols               string   `param:"smtp_tls_protocols"`
	MandatoryProtocols      string   `param:"smtp_tls_mandatory_protocols"`
	Ciphers                 string   `param:"smtp_tls_ciphers"`
	MandatoryCiphers        string   `param:"smtp_tls_mandatory_ciphers"`
	ExcludeCiphers          []string `param:"smtp_tls_exclude_ciphers"`
	MandatoryExcludeCiphers []string `param:"smtp_tls_mandatory_exclude_ciphers"`
	VerifyCertMatch         []string `param:"smtp_tls_verify_cert_match"`
	SecureCertMatch         []string `param:"smtp_tls_secure_cert_match"`
	// FingerprintDigest and FingerprintMatch are
	// smtp_tls_fingerprint_digest and smtp_tls_fingerprint_cert_match,
	// for the fingerprint level.
	FingerprintDigest string   `param:"smtp_tls_fingerprint_digest"`
	FingerprintMatch  []string `param:"smtp_tls_fingerprint_cert_match"`
	// PolicyMaps is smtp_tls_policy_maps: a security level and attributes
	// by next-hop destination.
	PolicyMaps []maps.Table
	// ConnectionReuse is smtp_tls_connection_reuse: TLS connections may
	// be cached (a policy's connection_reuse= attribute overrides it).
	ConnectionReuse bool `param:"smtp_tls_connection_reuse"`
	// CertFile and KeyFile are smtp_tls_cert_file and smtp_tls_key_file:
	// the certificate presented to a server that asks for one.
	CertFile   string `param:"smtp_tls_cert_file"`
	KeyFile    string `param:"smtp_tls_key_file"`
	ClientCert *tls.Certificate
}

// tlsLevels are the security levels Postfix knows, weakest first.
var tlsLevels = []string{"none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure"}

func validLevel(level string) bool {
	for _, l := range tlsLevels {
		if l == level {
			return true
		}
	}
	return false
}

// destPolicy is the TLS policy in force for one session.
type destPolicy struct {
	level     string
	protocols string // a Postfix protocol list
	grade     string
	exclude   []string
	// match are the certificate name patterns for verify and secure, the
	// fingerprints for the fingerprint level.
	match []string
	// servername is the servername= attribute: the SNI name to send.
	servername string
	// reuse allows caching the TLS connection (connection_reuse=, else
	// smtp_tls_connection_reuse).
	reuse bool
}

// errPolicy is a policy that cannot be used; the warning is logged and
// the recipients deferred, as Postfix does.
var errPolicy = deferred("4.7.5", "client TLS configuration problem")

// tlsPolicy is the policy for the session's next-hop: the table's entry
// for it (or a parent domain of a recipient domain), else the global
// level. ok is false after a warning: the policy is unusable.
func (s *session) tlsPolicy() (destPolicy, bool) {
	c := s.client.cfg.TLS
	p := destPolicy{level: c.Level, reuse: c.ConnectionReuse}
	if p.level == "" {
		p.level = "none"
	}
	if !s.lookupTLSPolicy(&p) {
		return p, false
	}
	switch p.level {
	case "none":
		return p, true
	case "dane", "dane-only":
		s.client.warnf("%s: %s configured with dnssec lookups disabled", s.target.nexthop, p.level)
		if p.level == "dane-only" {
			return p, false
		}
		p.level = "may"
	}
	mandatory := p.level != "may"
	if p.protocols == "" {
		p.protocols = c.Protocols
		if mandatory {
			p.protocols = c.MandatoryProtocols
		}
	}
	if p.grade == "" {
		p.grade = c.Ciphers
		if mandatory {
			p.grade = c.MandatoryCiphers
		}
	}
	if p.exclude == nil {
		p.exclude = append([]string(nil), c.ExcludeCiphers...)
		if mandatory {
			p.exclude = append(p.exclude, c.MandatoryExcludeCiphers...)
		}
	}
	if p.match == nil {
		switch p.level {
		case "verify":
			p.match = splitMatch(c.VerifyCertMatch)
		case "secure":
			p.match = splitMatch(c.SecureCertMatch)
		case "fingerprint":
			p.match = c.FingerprintMatch
		}
	}
	if p.level == "fingerprint" && len(p.match) == 0 {
		s.client.warnf("nexthop domain %s: configured at fingerprint security level, but with no fingerprints to match.", s.target.nexthop)
		return p, false
	}
	return p, true
}

// splitMatch splits cert match lists, whose items may also be separated
// by colons.
func splitMatch(items []string) []string {
	var out []string
	for _, item := range items {
		for _, m := range strings.Split(item, ":") {
			if m != "" {
				out = append(out, m)
			}
		}
	}
	return out
}

// lookupTLSPolicy finds the next-hop's entry in smtp_tls_policy_maps and
// applies it to p. An explicit next-hop ("[host]", "host:port") is
// looked up as given; a domain, then each parent domain as ".parent".
func (s *session) lookupTLSPolicy(p *destPolicy) bool {
	tables := s.client.cfg.TLS.PolicyMaps
	if len(tables) == 0 {
		return true
	}
	keys := []string{s.target.nexthop}
	if !strings.ContainsAny(s.target.nexthop, "[]:/") {
		for name := s.target.nexthop; ; {
			i := strings.IndexByte(name[1:], '.')
			if i < 0 {
				break
			}
			name = name[i+1:]
			keys = append(keys, name)
		}
	}
	for _, key := range keys {
		for _, table := range tables {
			where := fmt.Sprintf("%s, next-hop destination %q", "smtp_tls_policy_maps", key)
			value, hit, err := table.Lookup(key)
			if err != nil {
				s.client.warnf("%s: policy table lookup error", where)
				return false
			}
			if hit {
				return s.applyTLSPolicy(p, value, where)
			}
		}
	}
	return true
}

// applyTLSPolicy parses a policy table entry: a level and name=value
// attributes.
func (s *session) applyTLSPolicy(p *destPolicy, value, where string) bool {
	fields := strings.FieldsFunc(value, func(r rune) bool { return strings.ContainsRune("\t\n\r ,", r) })
	if len(fields) == 0 {
		s.client.warnf("%s: invalid empty policy", where)
		return false
	}
	level := strings.ToLower(fields[0])
	if !validLevel(level) {
		s.client.warnf("%s: invalid security level %q", where, fields[0])
		return false
	}
	p.level = level
	if level == "none" {
		for _, attr := range fields[1:] {
			s.client.warnf("%s: ignoring attribute %q with TLS disabled", where, attr)
		}
		return true
	}
	seen := map[string]bool{}
	for _, attr := range fields[1:] {
		name, val, ok := strings.Cut(attr, "=")
		if !ok || name == "" {
			s.client.warnf("%s: malformed attribute/value pair %q: missing '='", where, attr)
			return false
		}
		name = strings.ToLower(name)
		single := name == "ciphers" || name == "protocols" || name == "exclude" || name == "servername"
		if single && seen[name] {
			s.client.warnf("%s: attribute %q is specified multiple times", where, name)
			return false
		}
		seen[name] = true
		if val == "" && (name == "ciphers" || name == "match") {
			s.client.warnf("%s: attribute %q has empty value", where, name)
			return false
		}
		switch name {
		case "ciphers":
			p.grade = val
		case "protocols":
			p.protocols = val
		case "exclude":
			p.exclude = strings.FieldsFunc(val, func(r rune) bool { return r == ':' || r == ' ' })
			if p.exclude == nil {
				p.exclude = []string{}
			}
		case "servername":
			p.servername = val
		case "connection_reuse":
			p.reuse = strings.EqualFold(val, "yes")
		case "match":
			switch level {
			case "verify", "secure":
				p.match = append(p.match, splitMatch([]string{val})...)
			case "fingerprint":
				p.match = append(p.match, strings.Split(val, "|")...)
			default:
				s.client.warnf("%s: attribute %q invalid at security level %q", where, name, level)
				return false
			}
		default:
			s.client.warnf("%s: invalid attribute name: %q", where, name)
			return false
		}
	}
	return true
}

// tlsConfig is the crypto/tls client configuration for p.
func (s *session) tlsConfig(p destPolicy) (*tls.Config, error) {
	minVersion, maxVersion, err := tlsconf.Protocols(p.protocols)
	if err != nil {
		return nil, err
	}
	suites, err := tlsconf.CipherSuites(p.grade, p.exclude)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		// Verification is done after the handshake, so that the levels
		// that do not require it can still log whether the peer was
		// trusted.
		InsecureSkipVerify: true,
		MinVersion:         minVersion,
		MaxVersion:         maxVersion,
		CipherSuites:       suites,
	}
	if c := s.client.cfg.TLS.ClientCert; c != nil {
		// Postfix presents its certificate whatever CAs the server names.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c, nil }
	}
	switch p.servername {
	case "":
	case "hostname":
		cfg.ServerName = s.target.host
	default:
		cfg.ServerName = p.servername
	}
	return cfg, nil
}

// certNames are the names a certificate is matched by: its DNS
// subjectAltNames, else its subject's common name.
func certNames(dnsNames []string, commonName string) []string {
	if len(dnsNames) > 0 {
		return dnsNames
	}
	if commonName != "" {
		return []string{commonName}
	}
	return nil
}

// matchesPattern reports whether a certificate name matches one of the
// level's patterns: "hostname" (the server's name), "nexthop",
// "dot-nexthop" (a sub-domain of the nexthop), a literal name, or
// ".domain" for any sub-domain of domain. A certificate name "*.domain"
// stands for one label.
func (s *session) matchesPattern(certName string, patterns []string) bool {
	certName = strings.ToLower(strings.TrimSuffix(certName, "."))
	for _, pattern := range patterns {
		switch strings.ToLower(pattern) {
		case "hostname":
			pattern = s.target.host
		case "nexthop":
			pattern = s.target.destHost
		case "dot-nexthop":
			pattern = "." + s.target.destHost
		}
		pattern = strings.ToLower(strings.TrimSuffix(pattern, "."))
		if strings.HasPrefix(pattern, ".") {
			name := strings.TrimPrefix(certName, "*")
			if strings.HasSuffix(name, pattern) && (len(name) > len(pattern) || name != certName) {
				return true
			}
			continue
		}
		if certName == pattern {
			return true
		}
		if rest, ok := strings.CutPrefix(certName, "*."); ok {
			if _, parent, found := strings.Cut(pattern, "."); found && parent == rest {
				return true
			}
		}
	}
	return false
}

// check validates smtp_tls_security_level, which Postfix requires to be
// valid at start-up, and loads the client certificate.
func (t *TLSPolicy) check() error {
	t.Level = strings.ToLower(t.Level)
	if t.Level != "" && !validLevel(t.Level) {
		return fmt.Errorf("invalid tls security level: %q", t.Level)
	}
	if t.CertFile != "" {
		keyFile := t.KeyFile
		if keyFile == "" {
			keyFile = t.CertFile
		}
		cert, err := tls.LoadX509KeyPair(t.CertFile, keyFile)
		if err != nil {
			return fmt.Errorf("cannot load client certificate %s and key %s: %w", t.CertFile, keyFile, err)
		}
		t.ClientCert = &cert
	}
	return nil
}

// openPolicyMaps opens smtp_tls_policy_maps (named param); the returned
// function closes them.
func (t *TLSPolicy) openPolicyMaps(param string, specs []string) (func(), error) {
	closeAll := func() {
		for _, table := range t.PolicyMaps {
			_ = table.Close()
		}
	}
	for _, spec := range specs {
		table, err := maps.Open(spec, maps.Options{})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: %w", param, err)
		}
		t.PolicyMaps = append(t.PolicyMaps, table)
	}
	return closeAll, nil
}

// setDefaults fills what a Config built in code leaves empty with
// Postfix's defaults.
func (t *TLSPolicy) setDefaults() {
	if t.Ciphers == "" {
		t.Ciphers = "medium"
	}
	if t.FingerprintDigest == "" {
		t.FingerprintDigest = "sha256"
	}
	if t.MandatoryCiphers == "" {
		t.MandatoryCiphers = "medium"
	}
	if t.VerifyCertMatch == nil {
		t.VerifyCertMatch = []string{"hostname"}
	}
	if t.SecureCertMatch == nil {
		t.SecureCertMatch = []string{"nexthop", "dot-nexthop"}
	}
}
