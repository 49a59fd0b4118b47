// Tests of the SMTP dialogue against a fake cleanup: exact replies, logs, limits, pipelining and timeouts.

package smtpd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

const ehloReply = "250-mx.test.example\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n250-ETRN\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250-SMTPUTF8\n250 CHUNKING"

func TestScriptedDialogue(t *testing.T) {
	ts := startServer(t, testSettings())
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"HELO", "501 Syntax: HELO hostname"},
		{"EHLO", "501 Syntax: EHLO hostname"},
		{"EHLO client.example", ehloReply},
		{"RCPT TO:<a@test.example>", "503 5.5.1 Error: need MAIL command"},
		{"DATA", "503 5.5.1 Error: need RCPT command"},
		{"MAIL FROM:<bad", "501 5.1.7 Bad sender address syntax"},
		{"MAIL <s@remote.example>", "501 5.5.4 Syntax: MAIL FROM:<address>"},
		{"MAIL FROM:<s@remote.example> SIZE=99999999", "552 5.3.4 Message size exceeds fixed limit"},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		{"MAIL FROM:<s@remote.example>", "503 5.5.1 Error: nested MAIL command"},
		{"RCPT TO:<>", "501 5.1.3 Bad recipient address syntax"},
		{"RCPT TO:<-opt@test.example>", "501 5.1.3 Bad recipient address syntax"},
		{"RCPT TO:<someone@elsewhere.example>", "554 5.7.1 <someone@elsewhere.example>: Relay access denied"},
		{"RCPT TO:<pftest@test.example>", "250 2.1.5 Ok"},
		{"DATA x", "501 5.5.4 Syntax: DATA"},
		{"VRFY pftest", "252 2.0.0 pftest"},
		{"VRFY nosuchuser@test.example", "550 5.1.1 <nosuchuser@test.example>: Recipient address rejected: User unknown in local recipient table"},
		{"NOOP", "250 2.0.0 Ok"},
		{"FOO", "500 5.5.2 Error: command not recognized"},
		{" \t", "500 5.5.2 Error: bad syntax"},
		{"VRFY pftest\x00junk", "252 2.0.0 pftest"},
		{"STARTTLS", "502 5.5.1 Error: command not implemented"},
		{"AUTH PLAIN", "503 5.5.1 Error: authentication not enabled"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"Subject: hi\r\n\r\n..dot\r\nbody\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
		{"RSET", "250 2.0.0 Ok"},
		{"RSET x", "501 5.5.4 Syntax: RSET"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	c.expectClosed()
	ts.waitLog(t, "disconnect from")
	msgs := ts.cleanup.Submissions()
	if len(msgs) != 1 {
		t.Fatalf("cleanup got %d messages", len(msgs))
	}
	m := msgs[0]
	if m.Content != "Subject: hi\n\n.dot\nbody\n" {
		t.Errorf("content %q", m.Content)
	}
	if m.Sub.Sender != "s@remote.example" || len(m.Sub.Recipients) != 1 || m.Sub.Recipients[0].Address != "pftest@test.example" {
		t.Errorf("envelope %+v", m.Sub)
	}
	if m.Sub.ClientName != "localhost" || m.Sub.ClientAddress != "127.0.0.1" || m.Sub.HeloName != "client.example" || m.Sub.Protocol != "ESMTP" {
		t.Errorf("client info %+v", m.Sub)
	}
	wantLog := []string{
		"connect from localhost[127.0.0.1]",
		"NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <someone@elsewhere.example>: Relay access denied; from=<s@remote.example> to=<someone@elsewhere.example> proto=ESMTP helo=<client.example>",
		"FAKE1: client=localhost[127.0.0.1]",
		"disconnect from localhost[127.0.0.1] helo=0/1 ehlo=1/2 starttls=0/1 auth=0/1 mail=1/5 rcpt=1/5 data=1/3 rset=1/2 noop=1 vrfy=2/3 quit=1 unknown=0/1 commands=9/26",
	}
	log := ts.log.Text()
	for _, w := range wantLog {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
}

func TestEHLOKeywordVariants(t *testing.T) {
	set := testSettings()
	set.MessageSizeLimit = 0
	set.DisableVRFY = true
	set.SMTPUTF8Enable = false
	set.DiscardEHLO = map[string]bool{"ETRN": true}
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", "250-mx.test.example\n250-PIPELINING\n250-SIZE\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250 CHUNKING"},
		{"VRFY x", "502 5.5.1 VRFY command is disabled"},
		{"HELO c", "250 mx.test.example"},
	})
}

func TestPipelinedTransaction(t *testing.T) {
	ts := startServer(t, testSettings())
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.send("EHLO c\r\nMAIL FROM:<> BODY=8BITMIME\r\nRCPT TO:<a@test.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@test.example\r\nRCPT TO:<x@elsewhere.example>\r\nRCPT TO:<b@relay.example>\r\nDATA\r\n")
	c.dialogue([]scriptStep{
		{"", ehloReply},
		{"", "250 2.1.0 Ok"},
		{"", "250 2.1.5 Ok"},
		{"", "554 5.7.1 <x@elsewhere.example>: Relay access denied"},
		{"", "250 2.1.5 Ok"},
		{"", "354 End data with <CR><LF>.<CR><LF>"},
	})
	c.send("hello\r\n.\r\nQUIT\r\n")
	c.expect("", "250 2.0.0 Ok: queued as FAKE1")
	c.expect("", "221 2.0.0 Bye")
	msgs := ts.cleanup.Submissions()
	if len(msgs) != 1 {
		t.Fatalf("cleanup got %d messages", len(msgs))
	}
	sub := msgs[0].Sub
	if sub.Sender != "" || sub.BodyType != "8BITMIME" || len(sub.Recipients) != 2 {
		t.Fatalf("envelope %+v", sub)
	}
	if r := sub.Recipients[0]; r.Notify != ipc.DSNNotifySuccess|ipc.DSNNotifyFailure || r.ORCPT != "rfc822;a@test.example" {
		t.Errorf("recipient DSN %+v", r)
	}
}

func TestNoValidRecipients(t *testing.T) {
	ts := startServer(t, testSettings())
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<x@elsewhere.example>", "554 5.7.1 <x@elsewhere.example>: Relay access denied"},
		{"DATA", "554 5.5.1 Error: no valid recipients"},
	})
	ts.waitLog(t, "proto=SMTP") // no HELO: proto=SMTP, no helo=
	if strings.Contains(ts.log.Text(), "helo=<") {
		t.Errorf("helo= logged without HELO:\n%s", ts.log.Text())
	}
}

func TestRecipientLimit(t *testing.T) {
	set := testSettings()
	set.RecipientLimit = 2
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.dialogue(toRecipient)
	c.dialogue([]scriptStep{
		{"RCPT TO:<b@test.example>", "250 2.1.5 Ok"},
		{"RCPT TO:<c@test.example>", "452 4.5.3 Error: too many recipients"},
	})
}

func TestOversizeMessage(t *testing.T) {
	set := testSettings()
	set.MessageSizeLimit = 100
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", strings.Replace(ehloReply, "SIZE 10240000", "SIZE 100", 1)},
		{"MAIL FROM:<s@r.example> SIZE=101", "552 5.3.4 Message size exceeds fixed limit"},
		{"MAIL FROM:<s@r.example> SIZE=100", "250 2.1.0 Ok"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
	})
	c.send(strings.Repeat("x", 60) + "\r\n" + strings.Repeat("y", 60) + "\r\n.\r\n")
	c.expect("", "552 5.3.4 Error: message file too big")
	c.expect("NOOP", "250 2.0.0 Ok")
	ts.cleanup.WaitAborted(t, 1)
	if msgs := ts.cleanup.Submissions(); len(msgs) != 0 {
		t.Errorf("oversize message was queued: %+v", msgs)
	}
	ts.waitLog(t, "warning: FAKE1: queue file size limit exceeded")
}

func TestLongDataLineAccepted(t *testing.T) {
	ts := startServer(t, testSettings())
	c := dial(t, ts.addr)
	c.dialogue(toRecipient)
	c.expect("DATA", "354 End data with <CR><LF>.<CR><LF>")
	long := "." + strings.Repeat("z", 20000)
	c.send(long + "\r\n.\r\n")
	c.expect("", "250 2.0.0 Ok: queued as FAKE1")
	msgs := ts.cleanup.Submissions()
	if len(msgs) != 1 || msgs[0].Content != long[1:]+"\n" {
		t.Errorf("long line not kept whole (%d messages)", len(msgs))
	}
}

func TestLongCommandTruncated(t *testing.T) {
	ts := startServer(t, testSettings())
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"NOOP " + strings.Repeat("x", 5000), "250 2.0.0 Ok"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	ts.waitLog(t, "warning: localhost[127.0.0.1]: request longer than 2048: NOOP "+strings.Repeat("x", 25)+"...")
}

// testTimeout is smtpd_timeout for the timeout tests: long enough that
// the test's own next command is never late for it, even on a slow,
// loaded machine (200 ms was not).
const testTimeout = 2 * time.Second

func TestTimeout(t *testing.T) {
	set := testSettings()
	set.Timeout = testTimeout
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c", ehloReply},
		{"", "421 4.4.2 mx.test.example Error: timeout exceeded"},
	})
	c.expectClosed()
	ts.waitLog(t, "timeout after EHLO from localhost[127.0.0.1]")
	ts.waitLog(t, "disconnect from localhost[127.0.0.1] ehlo=1 commands=1")
}

func TestTimeoutInData(t *testing.T) {
	set := testSettings()
	set.Timeout = testTimeout
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.dialogue(toRecipient)
	c.expect("DATA", "354 End data with <CR><LF>.<CR><LF>")
	c.send("partial line\r\n")
	c.expect("", "421 4.4.2 mx.test.example Error: timeout exceeded")
	ts.waitLog(t, "timeout after DATA (14 bytes) from localhost[127.0.0.1]")
	ts.cleanup.WaitAborted(t, 1)
}

func TestLostConnectionInData(t *testing.T) {
	ts := startServer(t, testSettings())
	c := dial(t, ts.addr)
	c.dialogue(toRecipient)
	c.expect("DATA", "354 End data with <CR><LF>.<CR><LF>")
	c.send("abc\r\n")
	c.conn.Close()
	ts.waitLog(t, "lost connection after DATA (5 bytes) from localhost[127.0.0.1]")
	// A truncated message must never reach the queue.
	ts.cleanup.WaitAborted(t, 1)
	if msgs := ts.cleanup.Submissions(); len(msgs) != 0 {
		t.Errorf("truncated message was queued: %+v", msgs)
	}
}

func TestErrorLimits(t *testing.T) {
	set := testSettings()
	set.HardErrorLimit = 3
	set.SoftErrorLimit = 1
	set.ErrorSleep = 150 * time.Millisecond
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	start := time.Now()
	for range 3 {
		c.expect("BOGUS", "500 5.5.2 Error: command not recognized")
	}
	if slept := time.Since(start); slept < 250*time.Millisecond {
		t.Errorf("errors past the soft limit were not delayed (%v)", slept)
	}
	c.expect("", "421 4.7.0 mx.test.example Error: too many errors")
	c.expectClosed()
	ts.waitLog(t, "too many errors after UNKNOWN from localhost[127.0.0.1]")
	ts.waitLog(t, "disconnect from localhost[127.0.0.1] unknown=0/3 commands=0/3")
}

func TestNonSMTPCommands(t *testing.T) {
	for _, cmd := range []string{"GET / HTTP/1.0", "POST /x HTTP/1.1", "Subject: hello"} {
		ts := startServer(t, testSettings())
		c := dial(t, ts.addr)
		c.expect("", "220 mx.test.example ESMTP Postern")
		c.expect(cmd, "221 2.7.0 Error: I can break rules, too. Goodbye.")
		c.expectClosed()
		ts.waitLog(t, "warning: non-SMTP command from localhost[127.0.0.1]: "+cmd)
	}
}

func TestCleanupUnreachable(t *testing.T) {
	ts := startServer(t, testSettings(), func(ts *testServer) {
		ts.srv.DialCleanup = func(ctx context.Context) (*ipc.Conn, error) {
			return ipc.Dial(ctx, ts.cleanup.Path+".missing", ipc.ProtocolCleanup)
		}
	})
	c := dial(t, ts.addr)
	c.dialogue(toRecipient)
	c.expect("DATA", "451 4.3.0 Error: queue file write error")
	ts.waitLog(t, "warning: localhost[127.0.0.1]: connect to cleanup service: ")
}

func TestCleanupRefusal(t *testing.T) {
	ts := startServer(t, testSettings(), func(ts *testServer) {
		ts.cleanup.SetReply(&ipc.CleanupReply{Status: ipc.CleanupStatDefer, Reason: "451 4.6.0 Alias expansion error"})
	})
	c := dial(t, ts.addr)
	c.dialogue(toRecipient)
	c.dialogue([]scriptStep{
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"x\r\n.", "451 4.6.0 Alias expansion error"},
	})
}

func TestHeloRequired(t *testing.T) {
	set := testSettings()
	set.HeloRequired = true
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"MAIL FROM:<s@r.example>", "503 5.5.1 Error: send HELO/EHLO first"},
		{"HELO c", "250 mx.test.example"},
		{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
		{"ETRN x.example", "503 Error: MAIL transaction in progress"},
	})
}

func TestStopEndsSession(t *testing.T) {
	ts := startServer(t, testSettings())
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("EHLO c", ehloReply)
	ts.stop()
	c.expectClosed()
	ts.waitLog(t, "lost connection after EHLO from localhost[127.0.0.1]")
	ts.waitLog(t, "disconnect from localhost[127.0.0.1] ehlo=1 commands=1")
}

func TestJunkCommandLimit(t *testing.T) {
	set := testSettings()
	set.JunkCommandLimit = 2
	set.HardErrorLimit = 3
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"NOOP", "250 2.0.0 Ok"},
		{"RSET", "250 2.0.0 Ok"},
	})
	// A delivered message resets the junk count.
	c.dialogue([]scriptStep{
		{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"x\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
	})
	for range 5 {
		c.expect("NOOP", "250 2.0.0 Ok")
	}
	c.expect("", "421 4.7.0 mx.test.example Error: too many errors")
	ts.waitLog(t, "too many errors after NOOP from localhost[127.0.0.1]")
}

func TestPeernameLookupOff(t *testing.T) {
	set := testSettings()
	set.PeernameLookup = false
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("QUIT", "221 2.0.0 Bye")
	ts.waitLog(t, "disconnect from unknown[127.0.0.1] quit=1 commands=1")
}

// sendOne sends one message in a session of its own and checks its reply.
func sendOne(t *testing.T, ts *testServer, rcpt, wantReply string) {
	t.Helper()
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<" + rcpt + ">", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"x\r\n.", wantReply},
		{"QUIT", "221 2.0.0 Bye"},
	})
}

// Messages of later sessions reuse the connection to cleanup that an
// earlier message left, and a kept connection whose cleanup hung up is
// replaced by a new one without the client noticing.
func TestCleanupConnectionKept(t *testing.T) {
	ts := startServer(t, testSettings())
	sendOne(t, ts, "a@test.example", "250 2.0.0 Ok: queued as FAKE1")
	sendOne(t, ts, "b@test.example", "250 2.0.0 Ok: queued as FAKE2")
	if n := ts.cleanup.Conns(); n != 1 {
		t.Errorf("two messages took %d connections to cleanup, want 1", n)
	}
	ts.cleanup.SetOneMessagePerConn(true)
	sendOne(t, ts, "c@test.example", "250 2.0.0 Ok: queued as FAKE3")
	sendOne(t, ts, "d@test.example", "250 2.0.0 Ok: queued as FAKE4")
	if n := ts.cleanup.Conns(); n != 2 {
		t.Errorf("after cleanup hung up, %d connections in all, want 2", n)
	}
	if msgs := ts.cleanup.Submissions(); len(msgs) != 4 {
		t.Errorf("cleanup got %d messages, want 4", len(msgs))
	}
}

// Over a kept connection the queue file is asked for without waiting for
// cleanup's answer; everything that names the queue ID still has it: a
// later rejected recipient, the "client=" line of a transaction the client
// abandons, and the 250 reply.
func TestQueueFileAskedWithoutWaiting(t *testing.T) {
	ts := startServer(t, testSettings())
	sendOne(t, ts, "a@test.example", "250 2.0.0 Ok: queued as FAKE1")
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<b@test.example>", "250 2.1.5 Ok"},
		{"RCPT TO:<x@elsewhere.example>", "554 5.7.1 <x@elsewhere.example>: Relay access denied"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"x\r\n.", "250 2.0.0 Ok: queued as FAKE2"},
		{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<c@test.example>", "250 2.1.5 Ok"},
		{"RSET", "250 2.0.0 Ok"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	ts.waitLog(t, "FAKE2: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <x@elsewhere.example>: Relay access denied")
	ts.waitLog(t, "FAKE3: client=localhost[127.0.0.1]")
	if n := ts.cleanup.Opened(); n != 3 {
		t.Errorf("%d queue files asked for, want 3", n)
	}
	if n := ts.cleanup.Conns(); n != 1 {
		t.Errorf("%d connections to cleanup, want 1", n)
	}
	log := ts.log.Text()
	if i, j := strings.Index(log, "FAKE2: client="), strings.Index(log, "FAKE2: reject:"); i < 0 || j < i {
		t.Errorf("the reject is not logged after the client= line:\n%s", log)
	}
}
