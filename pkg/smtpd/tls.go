// The server side of TLS: the smtpd_tls_* settings, the handshake, client certificates, the log line and the Received: header comment.

package smtpd

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/policy"
	"github.com/postern/postern/pkg/tlsconf"
)

// TLSOptions are the smtpd TLS settings used after the handshake.
type TLSOptions struct {
	// LogLevel is smtpd_tls_loglevel: 1 and up logs the session summary
	// and why a client certificate is not trusted.
	LogLevel int `param:"smtpd_tls_loglevel"`
	// ReceivedHeader is smtpd_tls_received_header: the protocol, cipher
	// and client certificate go into the Received: header.
	ReceivedHeader bool `param:"smtpd_tls_received_header"`
	// AskCert is smtpd_tls_ask_ccert: ask the client for a certificate,
	// verified against ClientCAs (smtpd_tls_CAfile, smtpd_tls_CApath).
	AskCert   bool `param:"smtpd_tls_ask_ccert"`
	ClientCAs *x509.CertPool
	// FingerprintDigest is smtpd_tls_fingerprint_digest, the digest of
	// the client certificate fingerprints the policy checks use.
	FingerprintDigest string `param:"smtpd_tls_fingerprint_digest"`
	// RequireCert is smtpd_tls_req_ccert: with TLS required, a client
	// without a trusted certificate is sent away after the handshake.
	RequireCert bool `param:"smtpd_tls_req_ccert"`
}

// tlsParams are the server TLS parameters that shape the tls.Config.
type tlsParams struct {
	Level              string   `param:"smtpd_tls_security_level"`
	CertFile           string   `param:"smtpd_tls_cert_file"`
	KeyFile            string   `param:"smtpd_tls_key_file"`
	CAFile             string   `param:"smtpd_tls_CAfile"`
	CAPath             string   `param:"smtpd_tls_CApath"`
	Protocols          string   `param:"smtpd_tls_protocols"`
	MandatoryProtocols string   `param:"smtpd_tls_mandatory_protocols"`
	Ciphers            string   `param:"smtpd_tls_ciphers"`
	MandatoryCiphers   string   `param:"smtpd_tls_mandatory_ciphers"`
	Exclude            []string `param:"smtpd_tls_exclude_ciphers"`
	MandatoryExclude   []string `param:"smtpd_tls_mandatory_exclude_ciphers"`
}

// loadTLS sets TLS and TLSRequired from smtpd_tls_security_level,
// smtpd_tls_wrappermode, the certificate files and the protocol and
// cipher settings (the mandatory ones when TLS is required).
func (s *Settings) loadTLS(p tlsParams) error {
	switch p.Level {
	case "", "none":
		if !s.WrapperMode {
			return nil
		}
	case "may", "encrypt":
	default:
		return fmt.Errorf("invalid smtpd_tls_security_level value: %q", p.Level)
	}
	if p.CertFile == "" {
		if s.WrapperMode {
			return fmt.Errorf("smtpd_tls_wrappermode = yes needs smtpd_tls_cert_file")
		}
		return fmt.Errorf("smtpd_tls_security_level = %s needs smtpd_tls_cert_file", p.Level)
	}
	cert, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
	if err != nil {
		return fmt.Errorf("cannot load certificate %s and key %s: %w", p.CertFile, p.KeyFile, err)
	}
	s.TLSRequired = p.Level == "encrypt"
	protocols, grade, exclude := p.Protocols, p.Ciphers, p.Exclude
	if s.TLSRequired {
		protocols, grade = p.MandatoryProtocols, p.MandatoryCiphers
		exclude = append(append([]string(nil), p.Exclude...), p.MandatoryExclude...)
	}
	minVersion, maxVersion, err := tlsconf.Protocols(protocols)
	if err != nil {
		return fmt.Errorf("smtpd_tls_protocols: %w", err)
	}
	suites, err := tlsconf.CipherSuites(grade, exclude)
	if err != nil {
		return fmt.Errorf("smtpd_tls_ciphers: %w", err)
	}
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: minVersion, MaxVersion: maxVersion, CipherSuites: suites}
	if !s.TLSRequired && !s.WrapperMode {
		s.TLSOptions.RequireCert = false
	}
	if s.TLSOptions.RequireCert {
		s.TLSOptions.AskCert = true
	}
	if s.TLSOptions.AskCert {
		if s.TLSOptions.ClientCAs, err = tlsconf.LoadCAs("smtpd", p.CAFile, p.CAPath); err != nil {
			return err
		}
		// The handshake asks for a certificate and names the trusted CAs;
		// the session verifies it, so that an untrusted one is logged
		// rather than refused.
		s.TLS.ClientAuth = tls.RequestClientCert
		s.TLS.ClientCAs = s.TLSOptions.ClientCAs
	}
	return nil
}

// handshakeTLS runs the server side of the TLS handshake on the
// connection and puts the streams over it.
func (s *session) handshakeTLS() error {
	tc := tls.Server(s.conn, s.set.TLS)
	tc.SetDeadline(time.Now().Add(s.set.Timeout))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		return err
	}
	tc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	presented, trusted := s.describeTLS(st)
	s.conn = tc
	s.setStreams(tc)
	if !s.newTLSSessionAllowed(st.DidResume) {
		return errCloseSession
	}
	if s.set.TLSOptions.RequireCert && !trusted {
		reason := "Client certificate not trusted"
		if !presented {
			reason = "No client certificate presented"
		}
		s.srv.Log.Info("NOQUEUE: abort: TLS from %s: %s", s.namaddr(), reason)
		s.reply("421 4.7.1 " + s.set.Hostname + " Error: " + reason)
		return errCloseSession
	}
	return nil
}

// TLSWarnings are the warnings smtpd logs at start-up about its TLS
// settings, as Postfix's does.
func TLSWarnings(cfg *config.Config, set *Settings) []string {
	var p struct {
		RequireCert bool `param:"smtpd_tls_req_ccert"`
	}
	if cfg.Fill(&p) != nil || !p.RequireCert || set.TLS == nil || set.TLSOptions.RequireCert {
		return nil
	}
	return []string{"Can't require client certs unless TLS is required"}
}

// describeTLS logs the new session as Postfix does ("Anonymous",
// "Untrusted" or "Trusted TLS connection established from ...") and
// keeps its summary for the policy checks and the Received: header. It
// reports whether the client presented a certificate and whether it is
// trusted.
func (s *session) describeTLS(st tls.ConnectionState) (presented, trusted bool) {
	opts := s.set.TLSOptions
	var client *x509.Certificate
	if len(st.PeerCertificates) > 0 {
		client = st.PeerCertificates[0]
	}
	summary := tlsconf.Describe(st, ownLeaf(s.set.TLS), client)
	trusted = client != nil && s.clientCertTrusted(st.PeerCertificates)
	label := "Anonymous"
	switch {
	case trusted:
		label = "Trusted"
	case client != nil:
		label = "Untrusted"
	}
	if opts.LogLevel >= 1 {
		s.srv.Log.Info("%s TLS connection established from %s: %s", label, s.namaddr(), summary)
	}
	s.tlsInfo = summary.String()
	s.clientCert = nil
	if client != nil {
		s.clientCert = &policy.ClientCert{
			Fingerprint:       tlsconf.Fingerprint(opts.FingerprintDigest, client.Raw),
			PubkeyFingerprint: tlsconf.Fingerprint(opts.FingerprintDigest, client.RawSubjectPublicKeyInfo),
			CommonName:        client.Subject.CommonName, Issuer: issuerName(client), Trusted: trusted,
		}
	}
	s.tlsReceived = ""
	if !opts.ReceivedHeader {
		return client != nil, trusted
	}
	lines := summary.ReceivedLines()
	switch {
	case !opts.AskCert:
		lines = append(lines, "(No client certificate requested)")
	case client == nil:
		lines = append(lines, "(Client did not present a certificate)")
	default:
		verdict := "not verified"
		if trusted {
			verdict = "verified OK"
		}
		lines = append(lines, fmt.Sprintf("(Client CN %q, Issuer %q (%s))", client.Subject.CommonName, issuerName(client), verdict))
	}
	s.tlsReceived = strings.Join(lines, "\n")
	return client != nil, trusted
}

// clientCertTrusted verifies the client's chain against the trusted
// CAs, logging why it fails with smtpd_tls_loglevel 1 and up.
func (s *session) clientCertTrusted(chain []*x509.Certificate) bool {
	if s.set.TLSOptions.ClientCAs == nil {
		return false
	}
	intermediates := x509.NewCertPool()
	for _, c := range chain[1:] {
		intermediates.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots: s.set.TLSOptions.ClientCAs, Intermediates: intermediates,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil && s.set.TLSOptions.LogLevel >= 1 {
		s.srv.Log.Info("%s", tlsconf.VerifyFailure(err, chain[0], s.namaddr(), "client"))
	}
	return err == nil
}

// issuerName is the issuer's common name, else its organization, as
// Postfix shows it.
func issuerName(cert *x509.Certificate) string {
	if cert.Issuer.CommonName != "" {
		return cert.Issuer.CommonName
	}
	if len(cert.Issuer.Organization) > 0 {
		return cert.Issuer.Organization[0]
	}
	return ""
}

// ownLeaf is the server's certificate, for the signature it makes.
func ownLeaf(cfg *tls.Config) *x509.Certificate {
	if len(cfg.Certificates) == 0 || len(cfg.Certificates[0].Certificate) == 0 {
		return nil
	}
	if leaf := cfg.Certificates[0].Leaf; leaf != nil {
		return leaf
	}
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		return nil
	}
	return leaf
}
