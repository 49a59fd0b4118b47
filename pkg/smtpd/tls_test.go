// Tests of STARTTLS (security levels may and encrypt) and of loading the settings from main.cf.

package smtpd

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/tlsconf/tlstest"
)

// writeCert writes a self-signed certificate and key for mx.test.example
// into dir and returns their paths.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	cert := tlstest.SelfSigned(t, &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.test.example"},
		DNSNames:     []string{"mx.test.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	})
	return tlstest.WriteFiles(t, dir, "cert", cert)
}

// loadConfig writes main.cf into a fresh directory and loads it.
func loadConfig(t *testing.T, dir, mainCF string) *config.Config {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestFromConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := loadConfig(t, dir, "myhostname = mx.test.example\nmail_name = Postern\nsmtpd_timeout = 30\nmessage_size_limit = 5000\n")
	set, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if set.Banner != "mx.test.example ESMTP Postern" || set.MessageSizeLimit != 5000 || set.Timeout != 30*time.Second ||
		set.HardErrorLimit != 20 || set.SoftErrorLimit != 10 || set.JunkCommandLimit != 100 || !set.PeernameLookup || set.LineLengthLimit != 2048 || set.RecipientLimit != 1000 {
		t.Errorf("settings %+v", set)
	}
	if n := set.Notify; n.MailName != "Postern" || n.DoubleBounce != "double-bounce" || n.BounceRecipient != "postmaster" || n.Mask() != dsn.ErrorResource|dsn.ErrorSoftware {
		t.Errorf("notify settings %+v", n)
	}
	if set.BareNewline != BareNewlineNormalize || set.BareNewlineExempt == nil || set.TLS != nil {
		t.Errorf("defaults: bare newline %v, TLS %v", set.BareNewline, set.TLS)
	}

	cfg = loadConfig(t, dir, "smtpd_forbid_bare_newline = no\n")
	if set, err := FromConfig(cfg); err != nil || set.BareNewline != BareNewlineAllow {
		t.Errorf("explicit no: %v", err)
	}
	cfg = loadConfig(t, dir, "smtpd_tls_security_level = may\n")
	if _, err := FromConfig(cfg); err == nil || !strings.Contains(err.Error(), "needs smtpd_tls_cert_file") {
		t.Errorf("TLS without a certificate: %v", err)
	}
	cfg = loadConfig(t, dir, "smtpd_tls_security_level = sometimes\n")
	if _, err := FromConfig(cfg); err == nil || err.Error() != `invalid smtpd_tls_security_level value: "sometimes"` {
		t.Errorf("bad level: %v", err)
	}
	cert, key := writeCert(t, dir)
	cfg = loadConfig(t, dir, "smtpd_tls_security_level = encrypt\nsmtpd_tls_cert_file = "+cert+"\nsmtpd_tls_key_file = "+key+"\n")
	if set, err := FromConfig(cfg); err != nil || set.TLS == nil || !set.TLSRequired {
		t.Errorf("encrypt: %v", err)
	}
}

// tlsSettings are testSettings with STARTTLS offered.
func tlsSettings(t *testing.T, required bool) *Settings {
	t.Helper()
	cert, key := writeCert(t, t.TempDir())
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	set := testSettings()
	set.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	set.TLSRequired = required
	return set
}

// upgrade runs STARTTLS on c.
func (c *client) upgrade() {
	c.t.Helper()
	c.expect("STARTTLS", "220 2.0.0 Ready to start TLS")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("handshake: %v", err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
}

func TestSTARTTLS(t *testing.T) {
	ts := startServer(t, tlsSettings(t, false))
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", strings.Replace(ehloReply, "250-ETRN\n", "250-ETRN\n250-STARTTLS\n", 1)},
		{"STARTTLS now", "501 5.5.4 Syntax: STARTTLS"},
	})
	c.upgrade()
	c.dialogue([]scriptStep{
		{"EHLO c", ehloReply},
		{"STARTTLS", "554 5.5.1 Error: TLS already active"},
		{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"x\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
	})
	msgs := ts.cleanup.Submissions()
	// smtpd_tls_received_header = no (the default): no TLS comment.
	if len(msgs) != 1 || msgs[0].Sub.Protocol != "ESMTPS" || msgs[0].Sub.TLSInfo != "" {
		t.Errorf("cleanup got %+v", msgs)
	}
	// smtpd_tls_loglevel = 0 (the default): no summary line.
	c.expect("QUIT", "221 2.0.0 Bye")
	ts.waitLog(t, "disconnect from localhost[127.0.0.1]")
	if log := ts.log.Text(); strings.Contains(log, "TLS connection established") {
		t.Errorf("summary logged at smtpd_tls_loglevel 0:\n%s", log)
	}
}

func TestTLSEncryptRequired(t *testing.T) {
	ts := startServer(t, tlsSettings(t, true))
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", strings.Replace(ehloReply, "250-ETRN\n", "250-ETRN\n250-STARTTLS\n", 1)},
		{"MAIL FROM:<s@r.example>", "530 5.7.0 Must issue a STARTTLS command first"},
	})
	c.upgrade()
	c.expect("EHLO c", ehloReply)
	c.expect("MAIL FROM:<s@r.example>", "250 2.1.0 Ok")
}

// wrapTLS starts TLS at once, as a client of smtpd_tls_wrappermode.
func (c *client) wrapTLS() {
	c.t.Helper()
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("handshake: %v", err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
}
