// The TLS session summary that Postfix logs ("TLSv1.3 with cipher ... key-exchange X25519 ...") and writes into Received: headers.

package tlsconf

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
)

// Summary describes one TLS session the way Postfix does.
type Summary struct {
	Protocol string // "TLSv1.3"
	Cipher   string // OpenSSL's name
	// UsedBits and AlgorithmBits are the symmetric key sizes.
	UsedBits, AlgorithmBits int
	// KeyExchange, ServerSignature and ClientSignature are filled for TLS
	// 1.3 only, as Postfix 3.7 with OpenSSL 3 logs them: "X25519",
	// "ECDSA (prime256v1) server-digest SHA256", and the same for a
	// client certificate ("" without one).
	KeyExchange, ServerSignature, ClientSignature string
}

// Describe summarises st. server is the leaf certificate the server
// presented and client the client's, nil when it sent none.
func Describe(st tls.ConnectionState, server, client *x509.Certificate) Summary {
	used, algorithm := cipherBits(st.CipherSuite)
	s := Summary{Protocol: ProtocolName(st.Version), Cipher: CipherName(st.CipherSuite), UsedBits: used, AlgorithmBits: algorithm}
	if st.Version < tls.VersionTLS13 {
		return s
	}
	s.KeyExchange = groupName(st.CurveID)
	s.ServerSignature = signature(server, "server")
	s.ClientSignature = signature(client, "client")
	return s
}

// head is "TLSv1.3 with cipher NAME (128/128 bits)".
func (s Summary) head() string {
	return fmt.Sprintf("%s with cipher %s (%d/%d bits)", s.Protocol, s.Cipher, s.UsedBits, s.AlgorithmBits)
}

// details is the key exchange and server signature part, "" before TLS 1.3.
func (s Summary) details() string {
	var parts []string
	if s.KeyExchange != "" {
		parts = append(parts, "key-exchange "+s.KeyExchange)
	}
	if s.ServerSignature != "" {
		parts = append(parts, s.ServerSignature)
	}
	return strings.Join(parts, " ")
}

// String is the summary as Postfix logs it after "TLS connection
// established to host[addr]:port: ".
func (s Summary) String() string {
	parts := []string{s.head()}
	if d := s.details(); d != "" {
		parts = append(parts, d)
	}
	if s.ClientSignature != "" {
		parts = append(parts, s.ClientSignature)
	}
	return strings.Join(parts, " ")
}

// ReceivedLines are the lines of the "(using ...)" comment of a
// Received: header, without the leading tab: the details and the client
// signature go on continuation lines that start with a space.
func (s Summary) ReceivedLines() []string {
	lines := []string{"(using " + s.head()}
	if d := s.details(); d != "" {
		lines = append(lines, " "+d)
	}
	if s.ClientSignature != "" {
		lines = append(lines, " "+s.ClientSignature)
	}
	lines[len(lines)-1] += ")"
	return lines
}

// groupName is OpenSSL's name of a key exchange group.
func groupName(id tls.CurveID) string {
	switch id {
	case 0:
		return ""
	case tls.X25519:
		return "X25519"
	case tls.CurveP256:
		return "prime256v1"
	case tls.CurveP384:
		return "secp384r1"
	case tls.CurveP521:
		return "secp521r1"
	}
	return id.String()
}

// signature is "ECDSA (prime256v1) server-digest SHA256" for role
// "server" (or "client"), as OpenSSL 3 describes the handshake signature
// made with cert's key; crypto/tls signs with RSA-PSS and the digest
// that matches the curve, which is what these names assume.
func signature(cert *x509.Certificate, role string) string {
	if cert == nil {
		return ""
	}
	name, digest := "", ""
	switch key := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		switch key.Curve {
		case elliptic.P256():
			name, digest = "ECDSA (prime256v1)", "SHA256"
		case elliptic.P384():
			name, digest = "ECDSA (secp384r1)", "SHA384"
		case elliptic.P521():
			name, digest = "ECDSA (secp521r1)", "SHA512"
		default:
			name, digest = "ECDSA", "SHA256"
		}
	case *rsa.PublicKey:
		name, digest = fmt.Sprintf("RSA-PSS (%d bits)", key.N.BitLen()), "SHA256"
	case ed25519.PublicKey:
		name = "ED25519"
	default:
		return ""
	}
	text := role + "-signature " + name
	if digest != "" {
		text += " " + role + "-digest " + digest
	}
	return text
}
