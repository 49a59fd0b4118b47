// Tests of smtpd_forbid_bare_newline over a real connection: smuggled commands never become a second message.

package smtpd

import (
	"strings"
	"testing"

	"github.com/postern/postern/pkg/match"
)

// smuggle sends one message whose body hides a second transaction behind
// sep, then a proper end, and returns what cleanup received.
func smuggle(t *testing.T, set *Settings, sep string) (*testServer, *client) {
	t.Helper()
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", ehloReply},
		{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
	})
	c.send("Subject: one\r\n\r\nbody" + sep + "MAIL FROM:<evil@r.example>\r\nRCPT TO:<victim@test.example>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n")
	return ts, c
}

func TestSmugglingNormalize(t *testing.T) {
	for _, sep := range []string{"\n.\r\n", "\r\n.\n", "\n.\n", "\r.\r\n", "\r\n.\r"} {
		ts, c := smuggle(t, testSettings(), sep)
		c.expect("", "250 2.0.0 Ok: queued as FAKE1")
		c.expect("QUIT", "221 2.0.0 Bye")
		msgs := ts.cleanup.Submissions()
		if len(msgs) != 1 || !strings.Contains(msgs[0].Content, "Subject: smuggled") {
			t.Errorf("separator %q: smuggled text must stay inside the first message: %+v", sep, msgs)
		}
	}
}

func TestSmugglingReject(t *testing.T) {
	set := testSettings()
	set.BareNewline = BareNewlineReject
	ts, c := smuggle(t, set, "\n.\r\n")
	c.expect("", "550 5.5.2 mx.test.example Error: bare <LF> received")
	c.expect("NOOP", "250 2.0.0 Ok")
	ts.cleanup.WaitAborted(t, 1)
	if msgs := ts.cleanup.Submissions(); len(msgs) != 0 {
		t.Errorf("message with bare LF was queued: %+v", msgs)
	}
	ts.waitLog(t, "FAKE1: reject: END-OF-MESSAGE from localhost[127.0.0.1]: bare <LF> received; from=<s@r.example> to=<a@test.example> proto=ESMTP helo=<c>")
}

func TestBareLFCommandReject(t *testing.T) {
	set := testSettings()
	set.BareNewline = BareNewlineReject
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("EHLO c", ehloReply)
	c.send("NOOP\n")
	c.expect("", "550 5.5.2 mx.test.example Error: bare <LF> received")
	c.expectClosed()
	ts.waitLog(t, "NOQUEUE: reject: CONNECT from localhost[127.0.0.1]: bare <LF> received; proto=ESMTP helo=<c>")
}

func TestBareLFExclusions(t *testing.T) {
	set := testSettings()
	set.BareNewline = BareNewlineReject
	exempt, err := match.NewNetworkList("smtpd_forbid_bare_newline_exclusions", []string{"127.0.0.0/8"}, match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	set.BareNewlineExempt = exempt
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.send("HELO c\n")
	c.expect("", "250 mx.test.example")
	c.send("MAIL FROM:<s@r.example>\nRCPT TO:<a@test.example>\nDATA\n")
	c.dialogue([]scriptStep{
		{"", "250 2.1.0 Ok"},
		{"", "250 2.1.5 Ok"},
		{"", "354 End data with <CR><LF>.<CR><LF>"},
	})
	c.send("old client\n.\n")
	c.expect("", "250 2.0.0 Ok: queued as FAKE1")
}
