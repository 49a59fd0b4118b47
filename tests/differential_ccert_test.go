// Differential test of the TLS client certificate restrictions
// (permit_tls_clientcerts with relay_clientcerts,
// permit_tls_all_clientcerts, check_ccert_access) against a real Postfix,
// with certificates from a test CA and from a CA neither server trusts.

package tests

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/tlsconf/tlstest"
	"github.com/postern/postern/tests/internal/harness"
)

const ccertDiffMainCF = differentialHostMainCF + `local_recipient_maps = texthash:ETC/users
alias_maps =
smtpd_peername_lookup = no
smtpd_tls_security_level = may
smtpd_tls_cert_file = ETC/server.crt
smtpd_tls_key_file = ETC/server.key
smtpd_tls_ask_ccert = yes
smtpd_tls_CAfile = ETC/ca.pem
relay_clientcerts = texthash:ETC/relay_ccerts
smtpd_restriction_classes = allcerts
allcerts = permit_tls_all_clientcerts, reject
smtpd_relay_restrictions = permit_mynetworks, permit_tls_clientcerts,
	check_recipient_access texthash:ETC/classes, reject_unauth_destination
smtpd_recipient_restrictions = check_ccert_access texthash:ETC/ccerts
`

// ccertFingerprint is Postfix's sha256 fingerprint of der.
func ccertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// ccertSession runs one session from 127.0.0.2: EHLO, STARTTLS with
// cert (none when nil), EHLO, then the commands; it returns the replies.
func ccertSession(t *testing.T, addr string, cert *tls.Certificate, commands []string) []string {
	t.Helper()
	d := dialSMTP(t, addr, "127.0.0.2")
	d.readReply(t)
	fmt.Fprintf(d.conn, "EHLO c.example\r\n")
	d.readReply(t)
	d.expect("STARTTLS", "220 2.0.0 Ready to start TLS")
	cfg := &tls.Config{InsecureSkipVerify: true}
	if cert != nil {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	tc := tls.Client(d.conn, cfg)
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	d.conn = tc
	d.r.Reset(tc)
	return stepLines(d.play(append([]string{"EHLO c.example"}, commands...), ehloFirstLine))
}

// ehloFirstLine renders EHLO's reply by its first line, every other
// reply whole.
func ehloFirstLine(line string, reply []string) string {
	if strings.HasPrefix(line, "EHLO") {
		return reply[0]
	}
	return strings.Join(reply, "\n")
}

func TestDifferentialClientCerts(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "Test CA")
	other := newTestCA(t, dir, "Other CA")
	server := ca.issue("mx.test.example", []string{"mx.test.example"}, nil, false)
	certs := map[string]issuedCert{
		"pinned":   ca.issue("pinned.example", nil, nil, false),
		"banned":   ca.issue("banned.example", nil, nil, false),
		"plain":    ca.issue("plain.example", nil, nil, false),
		"stranger": other.issue("stranger.example", nil, nil, false),
	}
	leaf := func(name string) *x509.Certificate {
		c, err := x509.ParseCertificate(certs[name].tls.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	files := map[string]string{
		"users":      "pftest x\n",
		"server.crt": string(tlstest.CertPEM(server.tls)),
		"server.key": string(tlstest.KeyPEM(t, server.tls)),
		"ca.pem":     string(ca.PEM()),
		"classes":    "allcerts.example allcerts\n",
		"relay_ccerts": ccertFingerprint(leaf("pinned").Raw) + " pinned\n" +
			ccertFingerprint(leaf("stranger").RawSubjectPublicKeyInfo) + " stranger by public key\n",
		"ccerts": ccertFingerprint(leaf("banned").RawSubjectPublicKeyInfo) + " REJECT banned key\n",
	}
	setup := smtpDiffSetup{
		mainCF:   func(etc string) string { return strings.ReplaceAll(ccertDiffMainCF, "ETC", etc) },
		files:    files,
		masterCF: "tlsmgr unix - - n 1000? 1 tlsmgr\n",
	}
	commands := []string{"MAIL FROM:<s@remote.example>", "RCPT TO:<x@elsewhere.example>",
		"RCPT TO:<x@allcerts.example>", "RCPT TO:<pftest@test.example>", "QUIT"}
	run := func(addr string) []string {
		var out []string
		for _, name := range []string{"pinned", "banned", "plain", "stranger", ""} {
			var cert *tls.Certificate
			if name != "" {
				c := certs[name].tls
				cert = &c
			}
			out = append(out, "== "+name)
			out = append(out, ccertSession(t, addr, cert, commands)...)
		}
		return out
	}
	ours := startOurSMTPWith(t, setup)
	t.Cleanup(func() {
		if t.Failed() {
			time.Sleep(3 * time.Second)
			t.Logf("our log:\n%s", ours.log())
		}
	})
	got := run(ours.addr)
	want := `== pinned
EHLO c.example -> 250-mx.test.example
MAIL FROM:<s@remote.example> -> 250 2.1.0 Ok
RCPT TO:<x@elsewhere.example> -> 250 2.1.5 Ok
RCPT TO:<x@allcerts.example> -> 250 2.1.5 Ok
RCPT TO:<pftest@test.example> -> 250 2.1.5 Ok
QUIT -> 221 2.0.0 Bye
== banned
EHLO c.example -> 250-mx.test.example
MAIL FROM:<s@remote.example> -> 250 2.1.0 Ok
RCPT TO:<x@elsewhere.example> -> 554 5.7.1 <x@elsewhere.example>: Relay access denied
RCPT TO:<x@allcerts.example> -> 554 5.7.1 <banned.example>: Client certificate rejected: banned key
RCPT TO:<pftest@test.example> -> 554 5.7.1 <banned.example>: Client certificate rejected: banned key
QUIT -> 221 2.0.0 Bye
== plain
EHLO c.example -> 250-mx.test.example
MAIL FROM:<s@remote.example> -> 250 2.1.0 Ok
RCPT TO:<x@elsewhere.example> -> 554 5.7.1 <x@elsewhere.example>: Relay access denied
RCPT TO:<x@allcerts.example> -> 250 2.1.5 Ok
RCPT TO:<pftest@test.example> -> 250 2.1.5 Ok
QUIT -> 221 2.0.0 Bye
== stranger
EHLO c.example -> 250-mx.test.example
MAIL FROM:<s@remote.example> -> 250 2.1.0 Ok
RCPT TO:<x@elsewhere.example> -> 250 2.1.5 Ok
RCPT TO:<x@allcerts.example> -> 250 2.1.5 Ok
RCPT TO:<pftest@test.example> -> 250 2.1.5 Ok
QUIT -> 221 2.0.0 Bye
== 
EHLO c.example -> 250-mx.test.example
MAIL FROM:<s@remote.example> -> 250 2.1.0 Ok
RCPT TO:<x@elsewhere.example> -> 554 5.7.1 <x@elsewhere.example>: Relay access denied
RCPT TO:<x@allcerts.example> -> 554 5.7.1 <x@allcerts.example>: Recipient address rejected: Access denied
RCPT TO:<pftest@test.example> -> 250 2.1.5 Ok
QUIT -> 221 2.0.0 Bye
`
	if d := harness.Diff(want, strings.Join(got, "\n")+"\n"); d != "" {
		t.Errorf("replies differ (-want +got):\n%s", d)
	}

	pf := realPostfixMaster(t)
	realAddr, _ := startRealPostfixSMTPWith(t, pf, setup)
	real := run(realAddr)
	if d := harness.DiffLines(real, got); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
}
