// Tests of smtpd_tls_loglevel, smtpd_tls_received_header and client certificates (smtpd_tls_ask_ccert).

package smtpd

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/tlsconf/tlstest"
)

// clientCA makes a CA and a client certificate for cn signed by it.
func clientCA(t *testing.T, caName, cn string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	ca := tlstest.NewCA(t, caName)
	return ca.Pool(), ca.Issue(tlstest.Leaf{CommonName: cn, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

func TestTLSClientCertificates(t *testing.T) {
	trustedPool, trusted := clientCA(t, "Client CA", "client.example")
	_, foreign := clientCA(t, "Foreign CA", "stranger.example")
	tests := []struct {
		name     string
		ask      bool
		cert     *tls.Certificate
		logLine  string
		received string
	}{
		{"not asked", false, &trusted, "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_",
			"(No client certificate requested)"},
		{"asked, none", true, nil, "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_",
			"(Client did not present a certificate)"},
		{"trusted", true, &trusted, "Trusted TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_",
			`(Client CN "client.example", Issuer "Client CA" (verified OK))`},
		{"untrusted", true, &foreign, "Untrusted TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_",
			`(Client CN "stranger.example", Issuer "Foreign CA" (not verified))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := tlsSettings(t, false)
			set.TLSOptions = TLSOptions{LogLevel: 1, ReceivedHeader: true, AskCert: tt.ask}
			if tt.ask {
				set.TLSOptions.ClientCAs = trustedPool
				set.TLS.ClientAuth = tls.RequestClientCert
			}
			ts := startServer(t, set)
			c := dial(t, ts.addr)
			c.dialogue([]scriptStep{
				bannerStep,
				{"EHLO c", strings.Replace(ehloReply, "250-ETRN\n", "250-ETRN\n250-STARTTLS\n", 1)},
				{"STARTTLS", "220 2.0.0 Ready to start TLS"},
			})
			cfg := &tls.Config{InsecureSkipVerify: true}
			if tt.cert != nil {
				cert := *tt.cert
				cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
			}
			tc := tls.Client(c.conn, cfg)
			if err := tc.Handshake(); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			c.conn, c.r = tc, bufio.NewReader(tc)
			c.dialogue([]scriptStep{
				{"EHLO c", ehloReply},
				{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
				{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
				{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
				{"x\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
			})
			ts.waitLog(t, tt.logLine)
			msgs := ts.cleanup.Submissions()
			if len(msgs) != 1 {
				t.Fatalf("cleanup got %d messages", len(msgs))
			}
			info := msgs[0].Sub.TLSInfo
			lines := strings.Split(info, "\n")
			want := "(using TLSv1.3 with cipher TLS_"
			if !strings.HasPrefix(info, want) || lines[len(lines)-1] != tt.received || !strings.Contains(info, "\n key-exchange ") {
				t.Errorf("TLS comment:\n%s\nwant it to start with %q and end with %q", info, want, tt.received)
			}
			if tt.name == "untrusted" && !strings.Contains(ts.log.Text(), "certificate verification failed for localhost[127.0.0.1]: untrusted issuer /CN=Foreign CA") {
				t.Errorf("log lacks the verification failure:\n%s", ts.log.Text())
			}
		})
	}
}

func TestTLSRequireClientCertificate(t *testing.T) {
	trustedPool, trusted := clientCA(t, "Client CA", "client.example")
	_, foreign := clientCA(t, "Foreign CA", "stranger.example")
	tests := []struct {
		name  string
		cert  *tls.Certificate
		reply string
	}{
		{"none", nil, "421 4.7.1 mx.test.example Error: No client certificate presented"},
		{"untrusted", &foreign, "421 4.7.1 mx.test.example Error: Client certificate not trusted"},
		{"trusted", &trusted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := tlsSettings(t, true)
			set.TLSOptions = TLSOptions{LogLevel: 1, AskCert: true, RequireCert: true, ClientCAs: trustedPool}
			set.TLS.ClientAuth = tls.RequestClientCert
			ts := startServer(t, set)
			c := dial(t, ts.addr)
			c.dialogue([]scriptStep{
				bannerStep,
				{"EHLO c", strings.Replace(ehloReply, "250-ETRN\n", "250-ETRN\n250-STARTTLS\n", 1)},
				{"STARTTLS", "220 2.0.0 Ready to start TLS"},
			})
			cfg := &tls.Config{InsecureSkipVerify: true, GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				if tt.cert == nil {
					return &tls.Certificate{}, nil
				}
				return tt.cert, nil
			}}
			tc := tls.Client(c.conn, cfg)
			if err := tc.Handshake(); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			c.conn, c.r = tc, bufio.NewReader(tc)
			if tt.reply == "" {
				c.expect("EHLO c", ehloReply)
				return
			}
			c.expect("", tt.reply)
			reason := strings.TrimPrefix(tt.reply, "421 4.7.1 mx.test.example Error: ")
			ts.waitLog(t, "NOQUEUE: abort: TLS from localhost[127.0.0.1]: "+reason)
		})
	}
}

func TestTLSRequireClientCertificateNeedsEncrypt(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	for _, tt := range []struct {
		level string
		warn  bool
	}{{"may", true}, {"encrypt", false}} {
		cfg := loadConfig(t, dir, "smtpd_tls_security_level = "+tt.level+"\nsmtpd_tls_cert_file = "+cert+"\nsmtpd_tls_key_file = "+key+"\nsmtpd_tls_req_ccert = yes\n")
		set, err := FromConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		warnings := TLSWarnings(cfg, set)
		if tt.warn != (len(warnings) == 1 && warnings[0] == "Can't require client certs unless TLS is required") || set.TLSOptions.RequireCert == tt.warn {
			t.Errorf("level %s: warnings %q, RequireCert %v", tt.level, warnings, set.TLSOptions.RequireCert)
		}
	}
}

func TestTLSProtocolSettings(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	tests := []struct {
		protocols string
		ok        bool
	}{
		{"", true}, // Postfix's default >=TLSv1
		{"smtpd_tls_protocols = >=TLSv1.2\n", false},
		{"smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1\n", false},
	}
	for _, tt := range tests {
		cfg := loadConfig(t, dir, "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = "+cert+"\nsmtpd_tls_key_file = "+key+"\nsmtpd_tls_loglevel = 1\n"+tt.protocols)
		fromCfg, err := FromConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		set := testSettings()
		set.TLS, set.TLSOptions = fromCfg.TLS, fromCfg.TLSOptions
		ts := startServer(t, set)
		c := dial(t, ts.addr)
		c.dialogue([]scriptStep{
			bannerStep,
			{"EHLO c", strings.Replace(ehloReply, "250-ETRN\n", "250-ETRN\n250-STARTTLS\n", 1)},
			{"STARTTLS", "220 2.0.0 Ready to start TLS"},
		})
		tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10})
		err = tc.Handshake()
		if (err == nil) != tt.ok {
			t.Errorf("%q: TLS 1.0 handshake: %v", tt.protocols, err)
		}
		if tt.ok {
			ts.waitLog(t, "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1 with cipher ECDHE-ECDSA-AES128-SHA (128/128 bits)")
		}
	}
	cfg := loadConfig(t, dir, "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = "+cert+"\nsmtpd_tls_key_file = "+key+"\nsmtpd_tls_protocols = >=TLSv9\n")
	if _, err := FromConfig(cfg); err == nil || !strings.Contains(err.Error(), `Invalid TLS protocol list ">=TLSv9"`) {
		t.Errorf("bad protocol list: %v", err)
	}
}
