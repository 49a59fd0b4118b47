// Tests of the protocol lists, cipher grades, summaries and verification texts.

package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/tlsconf/tlstest"
)

func TestProtocols(t *testing.T) {
	tests := []struct {
		list     string
		min, max uint16
		err      bool
	}{
		{"", tls.VersionTLS10, tls.VersionTLS13, false},
		{">=TLSv1", tls.VersionTLS10, tls.VersionTLS13, false},
		{">=TLSv1.2", tls.VersionTLS12, tls.VersionTLS13, false},
		{"!SSLv2, !SSLv3", tls.VersionTLS10, tls.VersionTLS13, false},
		{"!SSLv2:!SSLv3:!TLSv1:!TLSv1.1", tls.VersionTLS12, tls.VersionTLS13, false},
		{"<=TLSv1.2", tls.VersionTLS10, tls.VersionTLS12, false},
		{">=TLSv1.1 <=TLSv1.2", tls.VersionTLS11, tls.VersionTLS12, false},
		{"TLSv1.2 TLSv1.3", tls.VersionTLS12, tls.VersionTLS13, false},
		{"TLSv1.2", tls.VersionTLS12, tls.VersionTLS12, false},
		// A gap: the newest run, never a disabled version.
		{"!TLSv1.2", tls.VersionTLS13, tls.VersionTLS13, false},
		{"!TLSv1.3 !TLSv1.1", tls.VersionTLS12, tls.VersionTLS12, false},
		{"SSLv3", 0, 0, true},
		{"<=SSLv3", 0, 0, true},
		{">=TLSv1.4", 0, 0, true},
		{"TLSv1.3 !TLSv1.3", 0, 0, true},
	}
	for _, tt := range tests {
		min, max, err := Protocols(tt.list)
		if (err != nil) != tt.err || min != tt.min || max != tt.max {
			t.Errorf("Protocols(%q) = %x, %x, %v; want %x, %x, error %v", tt.list, min, max, err, tt.min, tt.max, tt.err)
		}
	}
}

func TestCipherSuites(t *testing.T) {
	all, err := CipherSuites("medium", nil)
	if err != nil || len(all) == 0 {
		t.Fatalf("medium: %v %v", all, err)
	}
	high, _ := CipherSuites("HIGH", nil)
	if !slices.Equal(all, high) {
		t.Errorf("high %v differs from medium %v", high, all)
	}
	noCBC, err := CipherSuites("high", []string{"CBC", "kRSA"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range noCBC {
		name := CipherName(s)
		if !strings.HasPrefix(name, "ECDHE-") || strings.HasSuffix(name, "-SHA") || strings.HasSuffix(name, "-SHA256") && !strings.Contains(name, "GCM") && !strings.Contains(name, "CHACHA") {
			t.Errorf("exclusion of CBC and kRSA kept %s", name)
		}
	}
	if len(noCBC) == 0 || len(noCBC) >= len(all) {
		t.Errorf("exclusions left %d of %d suites", len(noCBC), len(all))
	}
	one, _ := CipherSuites("high", []string{"ECDHE-RSA-AES128-GCM-SHA256"})
	if slices.Contains(one, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) || len(one) != len(all)-1 {
		t.Errorf("excluding one suite by name: %v", one)
	}
	for _, bad := range []string{"strong", "null", ""} {
		if _, err := CipherSuites(bad, nil); err == nil {
			t.Errorf("grade %q accepted", bad)
		}
	}
}

func selfSigned(t *testing.T, cn string, notBefore time.Time) *x509.Certificate {
	t.Helper()
	return tlstest.SelfSigned(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example"}},
		NotBefore: notBefore, NotAfter: notBefore.Add(time.Hour)}).Leaf
}

func TestDescribe(t *testing.T) {
	cert := selfSigned(t, "mx.example", time.Now())
	st := tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_256_GCM_SHA384, CurveID: tls.X25519}
	s := Describe(st, cert, nil)
	want := "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256"
	if s.String() != want {
		t.Errorf("summary %q, want %q", s, want)
	}
	lines := strings.Join(Describe(st, cert, cert).ReceivedLines(), "\n")
	wantLines := "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256\n client-signature ECDSA (prime256v1) client-digest SHA256)"
	if lines != wantLines {
		t.Errorf("Received lines:\n%s\nwant:\n%s", lines, wantLines)
	}
	old := Describe(tls.ConnectionState{Version: tls.VersionTLS12, CipherSuite: tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, CurveID: tls.X25519}, cert, nil)
	if old.String() != "TLSv1.2 with cipher ECDHE-ECDSA-AES128-GCM-SHA256 (128/128 bits)" || strings.Join(old.ReceivedLines(), "|") != "(using TLSv1.2 with cipher ECDHE-ECDSA-AES128-GCM-SHA256 (128/128 bits))" {
		t.Errorf("TLS 1.2 summary %q, lines %q", old, old.ReceivedLines())
	}
}

func TestVerifyFailure(t *testing.T) {
	self := selfSigned(t, "mx.example", time.Now().Add(-time.Minute))
	_, err := self.Verify(x509.VerifyOptions{Roots: x509.NewCertPool()})
	if got, want := VerifyFailure(err, self, "mx.example[192.0.2.1]:25", "server"), "certificate verification failed for mx.example[192.0.2.1]:25: self-signed certificate"; got != want {
		t.Errorf("self-signed: %q, want %q", got, want)
	}
	future := selfSigned(t, "mx.example", time.Now().Add(time.Hour))
	pool := x509.NewCertPool()
	pool.AddCert(future)
	_, err = future.Verify(x509.VerifyOptions{Roots: pool})
	if got, want := VerifyFailure(err, future, "mx.example[192.0.2.1]:25", "server"), "server certificate verification failed for mx.example[192.0.2.1]:25: certificate not yet valid"; got != want {
		t.Errorf("not yet valid: %q, want %q", got, want)
	}
	if got := onelineName(self); got != "/O=Example/CN=mx.example" {
		t.Errorf("oneline issuer %q", got)
	}
}
