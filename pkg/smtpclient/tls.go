// STARTTLS with Postfix's security levels and its TLS summary log line.

package smtpclient

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
)

// tlsRequired reports whether the level refuses plaintext delivery.
func tlsRequired(level string) bool {
	return level == "encrypt" || level == "verify" || level == "secure"
}

// verifiesNames reports whether the level checks the certificate's names.
func verifiesNames(level string) bool {
	return level == "verify" || level == "secure"
}

// startTLS upgrades the session when the level asks for it. ok is false
// when the session ended with verdict v.
func (s *session) startTLS() (v verdict, ok bool) {
	level := s.client.cfg.TLS.Level
	if level == "" || level == "none" || s.noTLS {
		return verdict{}, true
	}
	if _, offered := s.ext["STARTTLS"]; !offered {
		if tlsRequired(level) {
			return deferred("4.7.4", fmt.Sprintf("TLS is required, but was not offered by host %s", s.target.hostAddr())), false
		}
		return verdict{}, true
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
	conn := tls.Client(s.nc, &tls.Config{
		ServerName: s.target.host,
		// Verification is done below, so that the levels that do not
		// require it can still log whether the peer was trusted.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS10,
	})
	if err := conn.Handshake(); err != nil {
		s.client.warnf("TLS library problem: %v", err)
		if !tlsRequired(level) {
			s.retryPlain = true
		}
		return deferred("4.7.5", "Cannot start TLS: handshake failure"), false
	}
	state := conn.ConnectionState()
	trusted, matched := s.checkPeer(state.PeerCertificates)
	if verifiesNames(level) && !trusted {
		return deferred("4.7.5", "Server certificate not trusted"), false
	}
	if verifiesNames(level) && !matched {
		return deferred("4.7.5", "Server certificate not verified"), false
	}
	if s.client.cfg.TLS.LogLevel >= 1 {
		label := "Untrusted"
		switch {
		case verifiesNames(level):
			label = "Verified"
		case trusted:
			label = "Trusted"
		}
		bits := cipherBits(state.CipherSuite)
		s.client.infof("%s TLS connection established to %s:%s: %s with cipher %s (%d/%d bits)",
			label, s.target.hostAddr(), s.target.port, protocolName(state.Version), tls.CipherSuiteName(state.CipherSuite), bits, bits)
	}
	s.nc = conn
	s.r.Reset(conn)
	s.w.Reset(conn)
	s.tls = true
	if v, _, ok := s.hello(); !ok {
		return v, false
	}
	return verdict{}, true
}

// checkPeer reports whether the chain leads to a trusted root and whether
// the certificate names the host the level wants.
func (s *session) checkPeer(chain []*x509.Certificate) (trusted, matched bool) {
	if len(chain) == 0 {
		return false, false
	}
	intermediates := x509.NewCertPool()
	for _, c := range chain[1:] {
		intermediates.AddCert(c)
	}
	leaf := chain[0]
	_, err := leaf.Verify(x509.VerifyOptions{Roots: s.client.cfg.TLS.RootCAs, Intermediates: intermediates})
	if err != nil {
		return false, false
	}
	for _, name := range s.expectedNames() {
		if strings.HasPrefix(name, ".") {
			for _, dnsName := range leaf.DNSNames {
				if strings.HasSuffix(strings.ToLower(dnsName), name) {
					return true, true
				}
			}
			continue
		}
		if leaf.VerifyHostname(name) == nil {
			return true, true
		}
	}
	return true, false
}

// expectedNames are the names a certificate may carry: the server's name
// for verify, the nexthop and its subdomains for secure (Postfix's
// default smtp_tls_secure_cert_match = nexthop, dot-nexthop).
func (s *session) expectedNames() []string {
	if s.client.cfg.TLS.Level == "secure" {
		dest := strings.ToLower(s.target.destHost)
		return []string{dest, "." + dest}
	}
	return []string{s.target.host}
}

func protocolName(version uint16) string {
	switch version {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return tls.VersionName(version)
}

// cipherBits is the symmetric key size of a cipher suite.
func cipherBits(suite uint16) int {
	name := tls.CipherSuiteName(suite)
	switch {
	case strings.Contains(name, "AES_128"):
		return 128
	case strings.Contains(name, "3DES"):
		return 168
	}
	return 256
}
