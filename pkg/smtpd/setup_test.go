// Tests of NewServer: main.cf settings, Postfix's default relay restrictions through pkg/policy, and the cleanup client.

package smtpd

import (
	"testing"
)

// builtServer starts the Server that NewServer builds from the test
// host's main.cf with mainCF added, keeping the test's name lookup.
func builtServer(t *testing.T, mainCF string) *testServer {
	t.Helper()
	cfg := loadConfig(t, t.TempDir(), "myhostname = mx.test.example\nmail_name = Postern\nmydestination = test.example\n"+
		"mynetworks = 192.0.2.0/24\ninet_interfaces = 127.0.0.1\nlocal_recipient_maps =\n"+mainCF)
	return startServer(t, testSettings(), func(ts *testServer) {
		built, closeTables, err := NewServer(cfg, ts.log, ts.cleanup.Path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeTables() })
		built.LookupName = ts.srv.LookupName
		ts.srv = built
	})
}

func TestNewServerWithDefaultPolicy(t *testing.T) {
	ts := builtServer(t, "")
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"HELO c", "250 mx.test.example"},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
	})
	// Postfix 3.7's smtpd_relay_restrictions end in defer_unauth_destination.
	c.dialogue([]scriptStep{
		{"RCPT TO:<a@elsewhere.example>", "454 4.7.1 <a@elsewhere.example>: Relay access denied"},
		{"RCPT TO:<a%elsewhere.example@test.example>", "454 4.7.1 <a%elsewhere.example@test.example>: Relay access denied"},
		{"RCPT TO:<pftest@test.example>", "250 2.1.5 Ok"},
		{"RCPT TO:<pftest@[127.0.0.1]>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"hi\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
	})
	ts.waitLog(t, "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 454 4.7.1 <a@elsewhere.example>: Relay access denied; from=<s@remote.example> to=<a@elsewhere.example> proto=SMTP helo=<c>")
}
