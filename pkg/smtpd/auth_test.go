// Tests of AUTH against the fake Dovecot of package sasltest: replies, log lines, EHLO keywords, TLS rules and Dovecot outages.

package smtpd

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/match"
	"github.com/postern/postern/pkg/sasl"
	"github.com/postern/postern/pkg/sasl/sasltest"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// saslSettings turns AUTH on in set with Postfix's default options.
func saslSettings(t *testing.T, set *Settings) *Settings {
	t.Helper()
	sec, err := sasl.ParseSecurityOptions("noanonymous")
	if err != nil {
		t.Fatal(err)
	}
	set.SASL = &SASLSettings{Path: "private/auth", Service: "smtp", Security: sec, TLSSecurity: sec, ResponseLimit: 12288}
	return set
}

// withDovecot gives the server a client of a fake Dovecot at path.
func withDovecot(path string) func(*testServer) {
	return func(ts *testServer) { ts.srv.SASL = sasl.NewClient(path, 30*time.Second) }
}

// ehloWithAuth is ehloReply with the AUTH lines after ETRN (and STARTTLS).
func ehloWith(lines ...string) string {
	return strings.Replace(ehloReply, "250-ETRN\n", "250-ETRN\n"+strings.Join(lines, "\n")+"\n", 1)
}

func TestAuthPlainAndMessage(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	fake := sasltest.Start(t, path)
	ts := startServer(t, saslSettings(t, testSettings()), withDovecot(path))
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", ehloWith("250-AUTH PLAIN LOGIN")},
		{"AUTH", "501 5.5.4 Syntax: AUTH mechanism"},
		{"AUTH PLAIN " + b64("\x00alice\x00secret"), "235 2.7.0 Authentication successful"},
		{"AUTH PLAIN " + b64("\x00alice\x00secret"), "503 5.5.1 Error: already authenticated"},
		{"MAIL FROM:<alice@test.example> AUTH=alice@test.example", "250 2.1.0 Ok"},
		{"AUTH LOGIN", "503 5.5.1 Error: MAIL transaction in progress"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"x\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	msgs := ts.cleanup.Submissions()
	if len(msgs) != 1 {
		t.Fatalf("cleanup got %d messages", len(msgs))
	}
	sub := msgs[0].Sub
	if sub.Protocol != "ESMTPA" || sub.SASLMethod != "PLAIN" || sub.SASLUsername != "alice" || sub.SASLSender != "alice@test.example" || sub.SASLHeader {
		t.Errorf("submission: %+v", sub)
	}
	ts.waitLog(t, "FAKE1: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=alice, sasl_sender=alice@test.example")
	ts.waitLog(t, "auth=1/4")
	if got := fake.Lines(); len(got) != 1 || !strings.HasPrefix(got[0], "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.1\tresp=") {
		t.Errorf("Dovecot got %q", got)
	}
}

func TestAuthFailures(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	sasltest.Start(t, path)
	ts := startServer(t, saslSettings(t, testSettings()), withDovecot(path))
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("EHLO c", ehloWith("250-AUTH PLAIN LOGIN"))
	steps := []struct{ cmd, want string }{
		{"AUTH CRAM-MD5", "535 5.7.8 Error: authentication failed: Invalid authentication mechanism"},
		{"AUTH PLAIN " + b64("\x00alice\x00wrong"), "535 5.7.8 Error: authentication failed: (reason unavailable)"},
		{"AUTH CRAM-MD5", "535 5.7.8 Error: authentication failed: Invalid authentication mechanism"},
		{"AUTH ANONYMOUS", "535 5.7.8 Error: authentication failed: Invalid authentication mechanism"},
		{"AUTH PLAIN !!!", "535 5.7.8 Error: authentication failed: Invalid base64 data in initial response"},
		{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
		{b64("alice"), "334 UGFzc3dvcmQ6"},
		{b64("wrong"), "535 5.7.8 Error: authentication failed: (reason unavailable)"},
		{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
		{"*", "501 5.7.0 Authentication aborted"},
		{"AUTH PLAIN", "334 "},
		{"not base64", "535 5.7.8 Error: authentication failed: Invalid base64 data in continued response"},
		{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
		{b64("alice"), "334 UGFzc3dvcmQ6"},
		{b64("secret"), "235 2.7.0 Authentication successful"},
	}
	for _, s := range steps {
		c.expect(s.cmd, s.want)
	}
	for _, line := range []string{
		// Postfix names the user of Dovecot's last reply, even in
		// refusals that never reached Dovecot.
		"warning: localhost[127.0.0.1]: SASL CRAM-MD5 authentication failed: Invalid authentication mechanism, sasl_username=(unavailable)",
		"warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=alice",
		"warning: localhost[127.0.0.1]: SASL ANONYMOUS authentication failed: Invalid authentication mechanism, sasl_username=alice",
		"warning: localhost[127.0.0.1]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice",
		"warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: Invalid base64 data in continued response, sasl_username=alice",
		"warning: localhost[127.0.0.1]: SASL LOGIN authentication aborted",
	} {
		ts.waitLog(t, line)
	}
}

func TestAuthResponseLimit(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	sasltest.Start(t, path)
	set := saslSettings(t, testSettings())
	set.SASL.ResponseLimit = 20
	ts := startServer(t, set, withDovecot(path))
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
		{strings.Repeat("QUFB", 10), "500 5.5.6 SASL response limit exceeded"},
		{"NOOP", "250 2.0.0 Ok"},
	})
}

func TestAuthOnlyAfterSTARTTLS(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	sasltest.Start(t, path)
	set := saslSettings(t, tlsSettings(t, false))
	set.SASL.AuthOnly = true
	ts := startServer(t, set, withDovecot(path))
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", ehloWith("250-STARTTLS")},
		{"AUTH PLAIN " + b64("\x00alice\x00secret"), "503 5.5.1 Error: authentication not enabled"},
	})
	c.upgrade()
	c.dialogue([]scriptStep{
		{"EHLO c", ehloWith("250-AUTH PLAIN LOGIN")},
		{"AUTH PLAIN " + b64("\x00alice\x00secret"), "235 2.7.0 Authentication successful"},
		{"MAIL FROM:<alice@test.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"x\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
	})
	msgs := ts.cleanup.Submissions()
	if len(msgs) != 1 || msgs[0].Sub.Protocol != "ESMTPSA" {
		t.Errorf("cleanup got %+v", msgs)
	}
}

func TestAuthBeforeTLSWhenEncryptIsRequired(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	sasltest.Start(t, path)
	ts := startServer(t, saslSettings(t, tlsSettings(t, true)), withDovecot(path))
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("AUTH PLAIN "+b64("\x00alice\x00secret"), "530 5.7.0 Must issue a STARTTLS command first")
	c.upgrade()
	c.expect("AUTH PLAIN "+b64("\x00alice\x00secret"), "235 2.7.0 Authentication successful")
}

func TestAuthSecurityOptionsWithAndWithoutTLS(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	sasltest.Start(t, path)
	set := saslSettings(t, tlsSettings(t, false))
	var err error
	if set.SASL.Security, err = sasl.ParseSecurityOptions("noanonymous, noplaintext"); err != nil {
		t.Fatal(err)
	}
	if set.SASL.TLSSecurity, err = sasl.ParseSecurityOptions(""); err != nil {
		t.Fatal(err)
	}
	set.SASL.BrokenClients = true
	ts := startServer(t, set, withDovecot(path))
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", ehloWith("250-STARTTLS")},
		{"AUTH PLAIN " + b64("\x00alice\x00secret"), "535 5.7.8 Error: authentication failed: Invalid authentication mechanism"},
	})
	c.upgrade()
	c.expect("EHLO c", ehloWith("250-AUTH PLAIN LOGIN ANONYMOUS", "250-AUTH=PLAIN LOGIN ANONYMOUS"))
	c.expect("AUTH ANONYMOUS", "454 4.7.0 Temporary authentication failure: try?later")
}

func TestAuthExceptionsNetworksAndDisabled(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	sasltest.Start(t, path)
	set := saslSettings(t, testSettings())
	var err error
	if set.SASL.Exceptions, err = match.NewNetworkList("smtpd_sasl_exceptions_networks", []string{"127.0.0.0/8"}, match.Options{}); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, set, withDovecot(path))
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("EHLO c", ehloReply)
	// Not offered, still accepted, as in Postfix.
	c.expect("AUTH PLAIN "+b64("\x00alice\x00secret"), "235 2.7.0 Authentication successful")

	off := startServer(t, testSettings())
	c = dial(t, off.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", ehloReply},
		{"AUTH PLAIN " + b64("\x00alice\x00secret"), "503 5.5.1 Error: authentication not enabled"},
		{"MAIL FROM:<a@test.example> AUTH=<a@test.example>", "250 2.1.0 Ok"},
	})
}

func TestAuthWhileDovecotIsAway(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	fake := sasltest.Start(t, path)
	ts := startServer(t, saslSettings(t, testSettings()), withDovecot(path))
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("EHLO c", ehloWith("250-AUTH PLAIN LOGIN"))
	fake.Stop()
	// Mail from clients that do not authenticate goes on.
	c.dialogue([]scriptStep{
		{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"x\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
		{"EHLO c", ehloWith("250-AUTH PLAIN LOGIN")},
		{"AUTH PLAIN " + b64("\x00alice\x00secret"), "454 4.7.0 Temporary authentication failure: Can't connect to authentication server"},
	})
	ts.waitLog(t, "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: Can't connect to authentication server, sasl_username=(unavailable)")
	sasltest.Start(t, path)
	c.expect("AUTH PLAIN "+b64("\x00alice\x00secret"), "235 2.7.0 Authentication successful")
}

func TestWrapperMode(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	sasltest.Start(t, path)
	set := saslSettings(t, tlsSettings(t, false))
	set.WrapperMode = true
	ts := startServer(t, set, withDovecot(path))
	c := dial(t, ts.addr)
	c.wrapTLS()
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", ehloWith("250-AUTH PLAIN LOGIN")},
		{"STARTTLS", "502 5.5.1 Error: command not implemented"},
		{"AUTH PLAIN " + b64("\x00alice\x00secret"), "235 2.7.0 Authentication successful"},
	})
}

func TestLoadSASLSettings(t *testing.T) {
	dir := t.TempDir()
	set, err := FromConfig(loadConfig(t, dir, ""))
	if err != nil || set.SASL != nil {
		t.Fatalf("default: %+v, %v", set.SASL, err)
	}
	if _, err := FromConfig(loadConfig(t, dir, "smtpd_sasl_auth_enable = yes\n")); err == nil || err.Error() != "unsupported SASL server implementation: cyrus" {
		t.Errorf("cyrus: %v", err)
	}
	if _, err := FromConfig(loadConfig(t, dir, "smtpd_sasl_auth_enable = yes\nsmtpd_sasl_type = dovecot\nsmtpd_sasl_security_options = noanonymous, sometimes\n")); err == nil || !strings.Contains(err.Error(), `unknown SASL security option: "sometimes"`) {
		t.Errorf("bad option: %v", err)
	}
	set, err = FromConfig(loadConfig(t, dir, `smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_security_options = noanonymous, noplaintext
smtpd_sasl_tls_security_options = noanonymous
smtpd_tls_auth_only = yes
broken_sasl_auth_clients = yes
smtpd_sasl_authenticated_header = yes
smtpd_sasl_exceptions_networks = 192.0.2.0/24
`))
	if err != nil {
		t.Fatal(err)
	}
	ss := set.SASL
	if ss.Path != "private/auth" || ss.Service != "smtp" || ss.Security.Forbid != sasl.PropAnonymous|sasl.PropPlaintext || ss.TLSSecurity.Forbid != sasl.PropAnonymous ||
		!ss.AuthOnly || !ss.BrokenClients || !ss.AuthenticatedHeader || ss.ResponseLimit != 12288 || ss.Exceptions == nil {
		t.Errorf("settings %+v", ss)
	}
	if ok, _ := ss.Exceptions.Match("unknown", "192.0.2.7"); !ok {
		t.Error("exceptions network does not match")
	}
}
