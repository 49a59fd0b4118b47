// Package tlstest makes certificates for tests: a certification
// authority and the certificates it issues, self-signed certificates, and
// their PEM encodings, so that every test of TLS builds them one way.
package tlstest

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
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certification authority made for one test, valid from an hour
// ago for a day.
type CA struct {
	Cert   *x509.Certificate
	Key    crypto.Signer
	t      testing.TB
	serial atomic.Int64
}

// NewCA makes a CA whose subject is the common name name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t, false)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	ca := &CA{Key: key, t: t}
	ca.Cert = parse(t, create(t, tmpl, tmpl, key, key))
	ca.serial.Store(1)
	return ca
}

// Pool is a certificate pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// PEM is the CA certificate in PEM.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// Leaf describes a certificate for the CA to issue.
type Leaf struct {
	CommonName  string
	DNSNames    []string
	IPAddresses []net.IP
	// KeyUsage is x509.KeyUsageDigitalSignature when zero.
	KeyUsage x509.KeyUsage
	// ExtKeyUsage is server and client authentication when empty.
	ExtKeyUsage []x509.ExtKeyUsage
	// RSA asks for a 2048-bit RSA key instead of a P-256 one.
	RSA bool
}

// Issue makes the certificate l describes, signed by the CA, with the
// CA's next serial number and the CA's validity.
func (ca *CA) Issue(l Leaf) tls.Certificate {
	t := ca.t
	t.Helper()
	usage, ext := l.KeyUsage, l.ExtKeyUsage
	if usage == 0 {
		usage = x509.KeyUsageDigitalSignature
	}
	if len(ext) == 0 {
		ext = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	key := newKey(t, l.RSA)
	der := create(t, &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial.Add(1)), Subject: pkix.Name{CommonName: l.CommonName},
		DNSNames: l.DNSNames, IPAddresses: l.IPAddresses,
		NotBefore: ca.Cert.NotBefore, NotAfter: ca.Cert.NotAfter,
		KeyUsage: usage, ExtKeyUsage: ext,
	}, ca.Cert, key, ca.Key)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: parse(t, der)}
}

// SelfSigned makes the certificate tmpl describes, signed by its own new
// P-256 key.
func SelfSigned(t testing.TB, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	key := newKey(t, false)
	der := create(t, tmpl, tmpl, key, key)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: parse(t, der)}
}

// CertPEM is the certificate of c in PEM.
func CertPEM(c tls.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})
}

// KeyPEM is the private key of c in PEM (PKCS #8).
func KeyPEM(t testing.TB, c tls.Certificate) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// WriteFiles writes the certificate and key of c to dir/NAME.crt and
// dir/NAME.key and returns their paths.
func WriteFiles(t testing.TB, dir, name string, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, CertPEM(c), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, KeyPEM(t, c), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func newKey(t testing.TB, rsaKey bool) crypto.Signer {
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
	return key
}

func create(t testing.TB, tmpl, parent *x509.Certificate, key, signer crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func parse(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
