// Helpers for the TLS end-to-end tests: a private test CA that issues server and client certificates.

package tests

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"path/filepath"
	"testing"

	"github.com/postern/postern/pkg/tlsconf/tlstest"
	"github.com/postern/postern/tests/internal/harness"
)

// testCA is a certification authority made for one test.
type testCA struct {
	*tlstest.CA
	file string // the CA certificate in PEM
}

// newTestCA makes a CA called name and writes its certificate to
// dir/NAME.pem.
func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	ca := &testCA{CA: tlstest.NewCA(t, name), file: filepath.Join(dir, name+".pem")}
	harness.WriteFile(t, ca.file, string(ca.PEM()))
	return ca
}

// issuedCert is a certificate the CA issued, with its key.
type issuedCert struct {
	tls      tls.Certificate
	certFile string // certificate in PEM, when written
	keyFile  string // key in PEM, when written
}

// issue makes a certificate with common name cn, the DNS names and IP
// addresses, for servers and clients alike. rsaKey asks for a 2048-bit
// RSA key instead of a P-256 one.
func (ca *testCA) issue(cn string, dnsNames []string, ips []net.IP, rsaKey bool) issuedCert {
	return issuedCert{tls: ca.Issue(tlstest.Leaf{CommonName: cn, DNSNames: dnsNames, IPAddresses: ips,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, RSA: rsaKey})}
}

// write stores the certificate and key in dir as NAME.crt and NAME.key.
func (c issuedCert) write(t *testing.T, dir, name string) issuedCert {
	t.Helper()
	c.certFile, c.keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	harness.WriteFile(t, c.certFile, string(tlstest.CertPEM(c.tls)))
	harness.WriteFile(t, c.keyFile, string(tlstest.KeyPEM(t, c.tls)))
	return c
}

// serverTLS is a sink's TLS configuration presenting c, limited to
// TLS versions up to maxVersion (0: no limit).
func (c issuedCert) serverTLS(maxVersion uint16) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.tls}, MaxVersion: maxVersion}
}
