// Tests of smtpd with pkg/policy's restrictions: each stage at its
// command with smtpd_delay_reject = no, the refused session after a
// client rejection, smtpd_reject_footer and soft_bounce on every error
// reply, the access actions that change the message (HOLD, FILTER,
// REDIRECT, BCC, PREPEND), end-of-data rejections and the log line of
// improper pipelining.

package smtpd

import (
	"strings"
	"testing"

	"github.com/postern/postern/pkg/ipc"
)

// policyServer starts a server whose policy comes from mainCF, relaying
// to relay.example only.
func policyServer(t *testing.T, mainCF string) *testServer {
	t.Helper()
	return builtServer(t, "relay_domains = relay.example\nsmtpd_relay_restrictions = reject_unauth_destination\n"+mainCF)
}

func TestClientRejectedAtConnect(t *testing.T) {
	ts := policyServer(t, "smtpd_delay_reject = no\nsmtpd_client_restrictions = reject\n")
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		{"", "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied"},
		{"EHLO c.example", "503 5.7.0 Error: access denied for localhost[127.0.0.1]"},
		{"MAIL FROM:<s@remote.example>", "503 5.7.0 Error: access denied for localhost[127.0.0.1]"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	ts.waitLog(t, "NOQUEUE: reject: CONNECT from localhost[127.0.0.1]: 554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied; proto=SMTP")
}

func TestStagesWithoutDelayReject(t *testing.T) {
	ts := policyServer(t, "smtpd_delay_reject = no\n"+
		"smtpd_helo_restrictions = reject_non_fqdn_helo_hostname\n"+
		"smtpd_sender_restrictions = check_sender_access inline:{{bad@remote.example=REJECT}}\n"+
		"smtpd_data_restrictions = reject_multi_recipient_bounce\n"+
		"smtpd_etrn_restrictions = check_etrn_access inline:{{no.example=REJECT}}\n")
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO nodots", "504 5.5.2 <nodots>: Helo command rejected: need fully-qualified hostname"},
		{"HELO c.example", "250 mx.test.example"},
		{"ETRN no.example", "554 5.7.1 <no.example>: Etrn command rejected: Access denied"},
		{"MAIL FROM:<bad@remote.example>", "554 5.7.1 <bad@remote.example>: Sender address rejected: Access denied"},
		{"MAIL FROM:<>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"RCPT TO:<b@test.example>", "250 2.1.5 Ok"},
		{"DATA", "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce"},
	})
	ts.waitLog(t, "NOQUEUE: reject: MAIL from localhost[127.0.0.1]: 554 5.7.1 <bad@remote.example>: Sender address rejected: Access denied; from=<bad@remote.example> proto=SMTP helo=<c.example>")
	ts.waitLog(t, "FAKE1: reject: DATA from localhost[127.0.0.1]: 550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce; from=<> proto=SMTP helo=<c.example>")
}

func TestFooterAndSoftBounce(t *testing.T) {
	ts := policyServer(t, "soft_bounce = yes\nsmtpd_reject_footer = \\c. See http://help.example/$client_address\\nCall us.\n")
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"XYZZY", "400-4.5.2 Error: command not recognized. See http://help.example/127.0.0.1\n400 4.5.2 Call us."},
		{"HELO c.example", "250 mx.test.example"},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@elsewhere.example>", "454-4.7.1 <a@elsewhere.example>: Relay access denied. See http://help.example/127.0.0.1\n454 4.7.1 Call us."},
	})
}

func TestAccessActionsReachCleanup(t *testing.T) {
	ts := policyServer(t, "smtpd_recipient_restrictions = check_recipient_access inline:{"+
		"{h@test.example=HOLD}, {f@test.example=FILTER smtp:[127.0.0.1]:10025}, {r@test.example=REDIRECT boss@test.example},"+
		"{b@test.example=BCC audit@test.example}, {p@test.example=PREPEND X-Checked: yes}}\n"+
		"smtpd_end_of_data_restrictions = check_sender_access inline:{{late@remote.example=REJECT too late}}\n")
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"EHLO c.example", "250-mx.test.example\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n250-ETRN\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250-SMTPUTF8\n250 CHUNKING"},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
	})
	for _, r := range []string{"h", "f", "r", "b", "p"} {
		c.expect("RCPT TO:<"+r+"@test.example>", "250 2.1.5 Ok")
	}
	c.dialogue([]scriptStep{
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"Subject: x\r\n\r\nbody\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
		{"MAIL FROM:<late@remote.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"Subject: y\r\n\r\nbody\r\n.", "554 5.7.1 <late@remote.example>: Sender address rejected: too late"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	ts.waitLog(t, "FAKE2: reject: END-OF-MESSAGE from localhost[127.0.0.1]: 554 5.7.1 <late@remote.example>: Sender address rejected: too late; from=<late@remote.example> to=<a@test.example> proto=ESMTP helo=<c.example>")
	ts.waitLog(t, "FAKE1: redirect: RCPT from localhost[127.0.0.1]: <r@test.example>: Recipient address triggers REDIRECT boss@test.example;")
	msgs := ts.cleanup.Submissions()
	if len(msgs) != 1 {
		t.Fatalf("cleanup kept %d messages, want 1", len(msgs))
	}
	sub := msgs[0].Sub
	var rcpts []string
	for _, r := range sub.Recipients {
		rcpts = append(rcpts, r.Address)
	}
	if sub.Flags&ipc.CleanupFlagHold == 0 || sub.ContentFilter != "smtp:[127.0.0.1]:10025" ||
		strings.Join(rcpts, " ") != "boss@test.example audit@test.example" {
		t.Errorf("submission flags %v filter %q recipients %q", sub.Flags, sub.ContentFilter, rcpts)
	}
	if sub.Prepend != "X-Checked: yes\n" || msgs[0].Content != "Subject: x\n\nbody\n" {
		t.Errorf("PREPEND lines %q and content %q, want the header in the submission, for cleanup to write above Received:", sub.Prepend, msgs[0].Content)
	}
}

func TestImproperPipeliningLogged(t *testing.T) {
	ts := policyServer(t, "smtpd_data_restrictions = reject_unauth_pipelining\n")
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("HELO c.example", "250 mx.test.example")
	c.send("MAIL FROM:<s@remote.example>\r\nRCPT TO:<a@test.example>\r\nDATA\r\n")
	c.dialogue([]scriptStep{
		{"", "250 2.1.0 Ok"},
		{"", "250 2.1.5 Ok"},
		{"", "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining"},
	})
	ts.waitLog(t, `improper command pipelining after MAIL from localhost[127.0.0.1]: RCPT TO:<a@test.example>\r\nDATA\r\n`)
}

// As Postfix's smtpd, the queue file is opened at the first accepted
// recipient: rejects before it say NOQUEUE, rejects after it name the
// queue ID, and a transaction reset before DATA abandons the file.
func TestQueueIDFromFirstAcceptedRecipient(t *testing.T) {
	ts := policyServer(t, "")
	c := dial(t, ts.addr)
	c.dialogue([]scriptStep{
		bannerStep,
		{"HELO c.example", "250 mx.test.example"},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<x@elsewhere.example>", "554 5.7.1 <x@elsewhere.example>: Relay access denied"},
	})
	if n := ts.cleanup.Opened(); n != 0 {
		t.Errorf("cleanup opened %d queue files before an accepted recipient, want none", n)
	}
	c.dialogue([]scriptStep{
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"RCPT TO:<y@elsewhere.example>", "554 5.7.1 <y@elsewhere.example>: Relay access denied"},
		{"RSET", "250 2.0.0 Ok"},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<b@test.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"Subject: x\r\n\r\nbody\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	ts.waitLog(t, "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <x@elsewhere.example>: Relay access denied; from=<s@remote.example> to=<x@elsewhere.example> proto=SMTP helo=<c.example>")
	ts.waitLog(t, "FAKE1: client=localhost[127.0.0.1]")
	ts.waitLog(t, "FAKE1: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <y@elsewhere.example>: Relay access denied; from=<s@remote.example> to=<y@elsewhere.example> proto=SMTP helo=<c.example>")
	ts.waitLog(t, "disconnect from localhost[127.0.0.1]")
	if n := ts.cleanup.Opened(); n != 2 {
		t.Errorf("cleanup opened %d queue files, want 2 (one per transaction with a recipient)", n)
	}
	msgs := ts.cleanup.Submissions()
	if len(msgs) != 1 || len(msgs[0].Sub.Recipients) != 1 || msgs[0].Sub.Recipients[0].Address != "b@test.example" {
		t.Errorf("cleanup got %+v, want the second transaction's message only", msgs)
	}
	if strings.Contains(ts.log.Text(), "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <y@") {
		t.Errorf("a reject after the first accepted recipient was logged without the queue ID:\n%s", ts.log.Text())
	}
}
