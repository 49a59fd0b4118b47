// Helpers for the TLS end-to-end tests: a private test CA that issues server and client certificates.

package tests

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// testCA is a certification authority made for one test.
type testCA struct {
	t      *testing.T
	name   string
	cert   *x509.Certificate
	key    crypto.Signer
	file   string // the CA certificate in PEM
	serial atomic.Int64
}

// newTestCA makes a CA called name and writes its certificate to
// dir/NAME.pem.
func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{t: t, name: name, cert: cert, key: key, file: filepath.Join(dir, name+".pem")}
	ca.serial.Store(1)
	harness.WriteFile(t, ca.file, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
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
	t := ca.t
	t.Helper()
	var key crypto.Signer
	var err error
	if rsaKey {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial.Add(1)), Subject: pkix.Name{CommonName: cn},
		DNSNames: dnsNames, IPAddresses: ips,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return issuedCert{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

// write stores the certificate and key in dir as NAME.crt and NAME.key.
func (c issuedCert) write(t *testing.T, dir, name string) issuedCert {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.tls.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	c.certFile, c.keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	harness.WriteFile(t, c.certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.tls.Certificate[0]})))
	harness.WriteFile(t, c.keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	return c
}

// serverTLS is a sink's TLS configuration presenting c, limited to
// TLS versions up to maxVersion (0: no limit).
func (c issuedCert) serverTLS(maxVersion uint16) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.tls}, MaxVersion: maxVersion}
}
