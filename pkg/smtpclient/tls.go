// STARTTLS with Postfix's security levels and its TLS log lines.

package smtpclient

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"

	"github.com/postern/postern/pkg/tlsconf"
)

// tlsRequired reports whether the level refuses plaintext delivery.
func tlsRequired(level string) bool {
	return level == "encrypt" || level == "fingerprint" || level == "verify" || level == "secure"
}

// verifiesNames reports whether the level checks the certificate's names.
func verifiesNames(level string) bool {
	return level == "verify" || level == "secure"
}

// mustMatch reports whether the level defers unless the certificate
// matched: its names (verify, secure) or its fingerprint.
func mustMatch(level string) bool {
	return verifiesNames(level) || level == "fingerprint"
}

// startTLS upgrades the session when the destination's policy asks for
// it. ok is false when the session ended with verdict v.
func (s *session) startTLS() (v verdict, ok bool) {
	if s.noTLS {
		return verdict{}, true
	}
	policy, ok := s.tlsPolicy()
	if !ok {
		s.client.warnf("TLS policy lookup for %s/%s: %s", s.target.nexthop, s.target.host, errPolicy.text)
		return errPolicy, false
	}
	level := policy.level
	if level == "none" {
		return verdict{}, true
	}
	if _, offered := s.ext["STARTTLS"]; !offered {
		if tlsRequired(level) {
			return deferred("4.7.4", fmt.Sprintf("TLS is required, but was not offered by host %s", s.target.hostAddr())), false
		}
		return verdict{}, true
	}
	cfg, err := s.tlsConfig(policy)
	if err != nil {
		s.client.warnf("%s: %v: aborting TLS session", s.target.where(), err)
		return errPolicy, false
	}
	reply, err := s.command(s.client.cfg.CommandTimeout, "sending STARTTLS", "STARTTLS")
	if err != nil {
		return s.lostConnection("sending STARTTLS", err), false
	}
	if reply.Class() != 2 {
		if tlsRequired(level) {
			return deferred("4.7.5", fmt.Sprintf("TLS is required, but host %s refused to start TLS: %s", s.target.hostAddr(), reply.Text())), false
		}
		return verdict{}, true
	}
	conn := tls.Client(s.nc, cfg)
	if err := conn.Handshake(); err != nil {
		s.client.infof("SSL_connect error to %s: -1", s.target.where())
		s.client.warnf("TLS library problem: %v", err)
		if !tlsRequired(level) {
			s.retryPlain = true
		}
		return deferred("4.7.5", "Cannot start TLS: handshake failure"), false
	}
	state := conn.ConnectionState()
	trusted, matched := s.checkPeer(state.PeerCertificates, policy)
	if s.client.cfg.TLS.LogLevel >= 1 {
		label := "Untrusted"
		switch {
		case matched:
			label = "Verified"
		case trusted:
			label = "Trusted"
		}
		var leaf *x509.Certificate
		if len(state.PeerCertificates) > 0 {
			leaf = state.PeerCertificates[0]
		}
		s.client.infof("%s TLS connection established to %s: %s", label, s.target.where(), tlsconf.Describe(state, leaf, nil))
	}
	if mustMatch(level) && !matched {
		return deferred("4.7.5", "Server certificate not verified"), false
	}
	s.nc = conn
	s.r.Reset(conn)
	s.w.Reset(conn)
	s.tls, s.tlsReuse = true, policy.reuse
	if v, _, ok := s.hello(); !ok {
		return v, false
	}
	return verdict{}, true
}

// checkPeer reports whether the chain leads to a trusted root and, at
// the levels that verify names, whether the certificate carries a name
// the policy wants. At those levels a name that does not match makes
// the chain untrusted, and why it failed is logged, as OpenSSL's
// verification in Postfix 3.7 does.
func (s *session) checkPeer(chain []*x509.Certificate, policy destPolicy) (trusted, matched bool) {
	if len(chain) == 0 {
		return false, false
	}
	intermediates := x509.NewCertPool()
	for _, c := range chain[1:] {
		intermediates.AddCert(c)
	}
	leaf := chain[0]
	if policy.level == "fingerprint" {
		matched = s.matchesFingerprint(leaf, policy.match)
		if !matched {
			s.client.infof("server certificate verification failed for %s: num=65:no matching DANE TLSA records", s.target.where())
		}
		return matched, matched
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: s.client.cfg.TLS.RootCAs, Intermediates: intermediates})
	if !verifiesNames(policy.level) {
		return err == nil, false
	}
	if err != nil {
		s.client.infof("%s", tlsconf.VerifyFailure(err, leaf, s.target.where(), "server"))
		return false, false
	}
	for _, name := range certNames(leaf.DNSNames, leaf.Subject.CommonName) {
		if s.matchesPattern(name, policy.match) {
			return true, true
		}
	}
	s.client.infof("server certificate verification failed for %s: num=62:hostname mismatch", s.target.where())
	return false, false
}

// matchesFingerprint reports whether the certificate's or its public
// key's fingerprint (smtp_tls_fingerprint_digest) is one of fingerprints.
func (s *session) matchesFingerprint(leaf *x509.Certificate, fingerprints []string) bool {
	digest := s.client.cfg.TLS.FingerprintDigest
	cert := tlsconf.Fingerprint(digest, leaf.Raw)
	key := tlsconf.Fingerprint(digest, leaf.RawSubjectPublicKeyInfo)
	for _, f := range fingerprints {
		if tlsconf.SameFingerprint(f, cert) || tlsconf.SameFingerprint(f, key) {
			return true
		}
	}
	return false
}
