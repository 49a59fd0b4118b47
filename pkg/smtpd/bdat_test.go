// Tests of CHUNKING: BDAT chunks streamed to cleanup, size limit and protocol errors.

package smtpd

import (
	"testing"
)

func TestBDAT(t *testing.T) {
	ts := startServer(t, testSettings())
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("EHLO c", ehloReply)
	c.send("BDAT 3\r\nabc")
	c.dialogue([]scriptStep{
		{"", "503 5.5.1 Error: need RCPT command"},
		{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
	})
	c.send("BDAT 0\r\n")
	c.expect("", "551 5.7.1 Null BDAT request")
	c.send("BDAT 13\r\nSubject: x\r\n\r")
	c.dialogue([]scriptStep{
		{"", "250 2.0.0 Ok: 13 bytes"},
		{"DATA", "503 5.5.1 Error: DATA after BDAT"},
		{"RCPT TO:<b@test.example>", "503 5.5.1 Error: RCPT after BDAT"},
	})
	c.send("BDAT 7 LAST\r\n\n.body\n")
	c.expect("", "250 2.0.0 Ok: 20 bytes queued as FAKE1")
	c.expect("BDAT x", "521 5.5.4 Syntax: BDAT count [LAST]")
	c.expectClosed()
	msgs := ts.cleanup.Submissions()
	if len(msgs) != 1 || msgs[0].Content != "Subject: x\r\n\r\n.body\n" {
		t.Fatalf("cleanup got %+v", msgs)
	}
	ts.waitLog(t, "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1/2 data=0/1 bdat=2/5 commands=5/10")
}

func TestBDATTooBig(t *testing.T) {
	set := testSettings()
	set.MessageSizeLimit = 10
	ts := startServer(t, set)
	c := dial(t, ts.addr)
	c.dialogue(toRecipient)
	c.send("BDAT 8\r\n12345678")
	c.expect("", "250 2.0.0 Ok: 8 bytes")
	c.send("BDAT 8\r\n12345678")
	c.expect("", "552 5.3.4 Chunk exceeds message size limit")
	c.send("BDAT 4 LAST\r\n1234")
	c.expect("", "551 5.0.0 Discarded 4 bytes after earlier error")
	c.expect("MAIL FROM:<s@r.example>", "250 2.1.0 Ok")
	ts.cleanup.WaitAborted(t, 1)
	if msgs := ts.cleanup.Submissions(); len(msgs) != 0 {
		t.Errorf("oversize BDAT message queued: %+v", msgs)
	}
}

func TestBDATAbandonedByRSET(t *testing.T) {
	ts := startServer(t, testSettings())
	c := dial(t, ts.addr)
	c.dialogue(toRecipient)
	c.send("BDAT 2\r\nab")
	c.expect("", "250 2.0.0 Ok: 2 bytes")
	c.expect("RSET", "250 2.0.0 Ok")
	ts.cleanup.WaitAborted(t, 1)
	c.expect("RCPT TO:<a@test.example>", "503 5.5.1 Error: need MAIL command")
}
