package smtpd

import (
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dsn"
)

// waitSubmissions waits up to 30 seconds for n cleanup submissions.
func waitSubmissions(t *testing.T, ts *testServer, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(ts.cleanup.Submissions()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d submissions after 30s, want %d; log:\n%s", len(ts.cleanup.Submissions()), n, ts.log.Text())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func notifySettings(classes ...string) *Settings {
	set := testSettings()
	set.Notify = NotifySettings{BounceRecipient: "bounces", NotifySettings: dsn.NotifySettings{Classes: classes,
		ErrorRecipient: "postmaster", DoubleBounce: "double-bounce", MailName: "Postern"}}
	return set
}

// TestTranscriptToPostmaster: a session with a protocol error and a
// policy rejection sends error_notice_recipient its transcript, worded as
// Postfix's smtpd words it, once the session ends.
func TestTranscriptToPostmaster(t *testing.T) {
	ts := startServer(t, notifySettings("protocol", "policy"))
	c := dial(t, ts.addr)
	c.reply()
	c.send("HELO client.example\r\n")
	c.reply()
	c.dialogue([]scriptStep{
		{"FOO", "500 5.5.2 Error: command not recognized"},
		{"MAIL FROM:<a@client.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<x@elsewhere.example>", "554 5.7.1 <x@elsewhere.example>: Relay access denied"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	waitSubmissions(t, ts, 1)
	sub := ts.cleanup.Submissions()[0]
	if sub.Sub.Sender != "double-bounce@mx.test.example" || len(sub.Sub.Recipients) != 1 || sub.Sub.Recipients[0].Address != "postmaster" {
		t.Errorf("envelope %+v", sub.Sub)
	}
	want := `From: Mail Delivery System <MAILER-DAEMON>
To: Postmaster <postmaster>
Subject: Postern SMTP server: errors from localhost[127.0.0.1]

Transcript of session follows.

 Out: 220 mx.test.example ESMTP Postern
 In:  HELO client.example
 Out: 250 mx.test.example
 In:  FOO
 Out: 500 5.5.2 Error: command not recognized
 In:  MAIL FROM:<a@client.example>
 Out: 250 2.1.0 Ok
 In:  RCPT TO:<x@elsewhere.example>
 Out: 554 5.7.1 <x@elsewhere.example>: Relay access denied
 In:  QUIT
 Out: 221 2.0.0 Bye


For other details, see the local mail logfile
`
	if sub.Content != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", sub.Content, want)
	}
}

// TestTranscriptNotSent: no transcript when notify_classes leaves out the
// session's errors (the default, resource and software), or when a
// message was queued after them.
func TestTranscriptNotSent(t *testing.T) {
	t.Run("classes", func(t *testing.T) {
		ts := startServer(t, notifySettings("resource", "software"))
		c := dial(t, ts.addr)
		c.reply()
		c.expect("FOO", "500 5.5.2 Error: command not recognized")
		c.expect("QUIT", "221 2.0.0 Bye")
		ts.waitLog(t, "disconnect from ")
		if subs := ts.cleanup.Submissions(); len(subs) != 0 {
			t.Errorf("transcript sent: %+v", subs)
		}
	})
	t.Run("forgiven", func(t *testing.T) {
		ts := startServer(t, notifySettings("protocol"))
		c := dial(t, ts.addr)
		c.reply()
		c.expect("FOO", "500 5.5.2 Error: command not recognized")
		c.send("HELO client.example\r\n")
		c.reply()
		c.dialogue([]scriptStep{
			{"MAIL FROM:<a@client.example>", "250 2.1.0 Ok"},
			{"RCPT TO:<u@test.example>", "250 2.1.5 Ok"},
			{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		})
		c.send("Subject: x\r\n\r\nbody\r\n.\r\n")
		if r := c.reply(); !strings.Contains(r, "queued as") {
			t.Fatalf("DATA: %s", r)
		}
		c.expect("QUIT", "221 2.0.0 Bye")
		ts.waitLog(t, "disconnect from ")
		if subs := ts.cleanup.Submissions(); len(subs) != 1 {
			t.Errorf("%d submissions, want only the message", len(subs))
		}
	})
}

func TestErrorClass(t *testing.T) {
	tests := []struct {
		reply string
		class int
	}{
		{"500 5.5.2 Error: command not recognized", dsn.ErrorProtocol},
		{"503 5.5.1 Error: nested MAIL command", dsn.ErrorProtocol},
		{"501 5.1.3 Bad recipient address syntax", dsn.ErrorProtocol},
		{"554 5.7.1 <x@elsewhere.example>: Relay access denied", dsn.ErrorPolicy},
		{"504 5.5.2 <x>: Helo command rejected: need fully-qualified hostname", dsn.ErrorPolicy},
		{"450 4.1.1 <x@y>: Recipient address rejected: unverified address: host y said: 550", dsn.ErrorPolicy},
		{"550 5.1.1 <x@test.example>: Recipient address rejected: User unknown in local recipient table", dsn.ErrorBounce},
		{"550 5.1.1 <user@bounce.example>: Recipient address rejected: no such user here", dsn.ErrorBounce},
		{"552 5.3.4 Message size exceeds fixed limit", dsn.ErrorBounce},
		{"451 4.3.5 <x@y>: Recipient address rejected: Server configuration error", dsn.ErrorSoftware},
		{"451 4.3.0 <x@y>: Temporary lookup failure", dsn.ErrorData},
		{"452 4.3.1 Insufficient system storage", dsn.ErrorResource},
		{"451 4.3.0 Error: queue file write error", dsn.ErrorResource},
	}
	for _, tc := range tests {
		if got := errorClass(tc.reply); got != tc.class {
			t.Errorf("errorClass(%q) = %d, want %d", tc.reply, got, tc.class)
		}
	}
}

// TestTranscriptLostConnection: the transcript of a session the client
// dropped ends with Postfix's "Session aborted" line.
func TestTranscriptLostConnection(t *testing.T) {
	ts := startServer(t, notifySettings("protocol"))
	c := dial(t, ts.addr)
	c.reply()
	c.expect("FOO", "500 5.5.2 Error: command not recognized")
	c.conn.Close()
	waitSubmissions(t, ts, 1)
	want := " In:  FOO\n Out: 500 5.5.2 Error: command not recognized\n\nSession aborted, reason: lost connection\n\nFor other details, see the local mail logfile\n"
	if got := ts.cleanup.Submissions()[0].Content; !strings.HasSuffix(got, want) {
		t.Errorf("transcript:\n%s\nwant ending:\n%s", got, want)
	}
}
