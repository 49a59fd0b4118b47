// Differential test of MAIL FROM and RCPT TO paths with control
// characters and other bad syntax: the replies, the "Illegal address
// syntax" warnings and the reject lines, against a real Postfix.

package tests

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/postern/postern/tests/internal/harness"
)

// ctlAddrSessions are the sessions of the test: a control character is
// part of a local part (the restrictions judge the address) and makes a
// domain invalid. Each session stays under smtpd_soft_error_limit.
var ctlAddrSessions = [][]string{
	{"EHLO c.example", "MAIL FROM:<\x01s@remote.example>", "RSET", "MAIL FROM:<s\x7f@remote.example>", "RSET",
		"MAIL FROM:<s@re\x01mote.example>", "MAIL FROM:<-s@remote.example>", "MAIL FROM:<s@remote.example",
		"MAIL FROM:<a b@remote.example>", "QUIT"},
	{"EHLO c.example", "MAIL FROM:<s@remote.example>", "RCPT TO:<\x01a>", "RCPT TO:<pftest\x01@test.example>",
		"RCPT TO:<\"a\x01b\"@test.example>", "RCPT TO:<@r.example:\x02pftest@test.example>",
		"RCPT TO:<pftest@test\x01.example>", "RCPT TO:<>", "RCPT TO:<\"pftest@test.example>", "QUIT"},
}

// ctlAddrReplies runs the sessions and renders each reply as "COMMAND ->
// REPLY" (EHLO's keywords left out).
func ctlAddrReplies(t *testing.T, addr string) []string {
	t.Helper()
	var out []string
	for _, session := range ctlAddrSessions {
		d := dialSMTP(t, addr, "")
		lastLine := func(_ string, reply []string) string { return reply[len(reply)-1] }
		for _, step := range d.play(append([]string{""}, session...), lastLine)[1:] {
			out = append(out, fmt.Sprintf("%q -> %s", step.send, step.reply))
		}
		d.conn.Close()
	}
	return out
}

// ctlAddrLogLines are smtpd's address syntax warnings and reject lines.
func ctlAddrLogLines(log string) []string {
	line := regexp.MustCompile(`smtpd\[\d+\]: (warning: Illegal address syntax .*|NOQUEUE: reject: .*)$`)
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// TestDifferentialControlCharacterAddress: as Postfix 3.7 (with
// strict_rfc821_envelopes = no), a control character in a local part is
// no syntax error: the address goes to the restrictions, whose reply
// shows it as a space and whose log line quotes it with a '?'. A bad
// domain, the null recipient and a leading '-' are refused with 501 and
// the "Illegal address syntax" warning; an unclosed '<' or '"' with 501
// alone.
func TestDifferentialControlCharacterAddress(t *testing.T) {
	ours := startOurSMTP(t)
	got := ctlAddrReplies(t, ours.addr)
	want := []string{
		`"EHLO c.example" -> 250 CHUNKING`,
		`"MAIL FROM:<\x01s@remote.example>" -> 250 2.1.0 Ok`,
		`"RSET" -> 250 2.0.0 Ok`,
		`"MAIL FROM:<s\x7f@remote.example>" -> 250 2.1.0 Ok`,
		`"RSET" -> 250 2.0.0 Ok`,
		`"MAIL FROM:<s@re\x01mote.example>" -> 501 5.1.7 Bad sender address syntax`,
		`"MAIL FROM:<-s@remote.example>" -> 501 5.1.7 Bad sender address syntax`,
		`"MAIL FROM:<s@remote.example" -> 501 5.1.7 Bad sender address syntax`,
		`"MAIL FROM:<a b@remote.example>" -> 501 5.1.7 Bad sender address syntax`,
		`"QUIT" -> 221 2.0.0 Bye`,
		`"EHLO c.example" -> 250 CHUNKING`,
		`"MAIL FROM:<s@remote.example>" -> 250 2.1.0 Ok`,
		`"RCPT TO:<\x01a>" -> 550 5.1.1 < a>: Recipient address rejected: User unknown in local recipient table`,
		`"RCPT TO:<pftest\x01@test.example>" -> 550 5.1.1 <pftest @test.example>: Recipient address rejected: User unknown in local recipient table`,
		`"RCPT TO:<\"a\x01b\"@test.example>" -> 550 5.1.1 <a b@test.example>: Recipient address rejected: User unknown in local recipient table`,
		`"RCPT TO:<@r.example:\x02pftest@test.example>" -> 550 5.1.1 < pftest@test.example>: Recipient address rejected: User unknown in local recipient table`,
		`"RCPT TO:<pftest@test\x01.example>" -> 501 5.1.3 Bad recipient address syntax`,
		`"RCPT TO:<>" -> 501 5.1.3 Bad recipient address syntax`,
		`"RCPT TO:<\"pftest@test.example>" -> 501 5.1.3 Bad recipient address syntax`,
		`"QUIT" -> 221 2.0.0 Bye`,
	}
	if d := harness.DiffLines(want, got); d != "" {
		t.Errorf("replies differ (-want +got):\n%s", d)
	}
	const rejected = "; from=<s@remote.example> to=<%s> proto=ESMTP helo=<c.example>"
	const unknown = "NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 550 5.1.1 <%s>: Recipient address rejected: User unknown in local recipient table" + rejected
	wantLines := []string{
		"warning: Illegal address syntax from unknown[127.0.0.1] in MAIL command: <s@re?mote.example>",
		"warning: Illegal address syntax from unknown[127.0.0.1] in MAIL command: <-s@remote.example>",
		"warning: Illegal address syntax from unknown[127.0.0.1] in MAIL command: <a b@remote.example>",
		fmt.Sprintf(unknown, " a", `"?a"`),
		fmt.Sprintf(unknown, "pftest @test.example", `"pftest?"@test.example`),
		fmt.Sprintf(unknown, "a b@test.example", `"a?b"@test.example`),
		fmt.Sprintf(unknown, " pftest@test.example", `"?pftest"@test.example`),
		"warning: Illegal address syntax from unknown[127.0.0.1] in RCPT command: <pftest@test?.example>",
		"warning: Illegal address syntax from unknown[127.0.0.1] in RCPT command: <>",
	}
	ourLines := waitLogLines(ours.maillog, len(wantLines), ctlAddrLogLines)
	if d := harness.DiffLines(wantLines, ourLines); d != "" {
		t.Errorf("log lines differ (-want +got):\n%s", d)
	}

	pf := realPostfixMaster(t)
	realAddr, realLog := startRealPostfixSMTPWith(t, pf, smtpDiffDefault)
	real := ctlAddrReplies(t, realAddr)
	if d := harness.DiffLines(real, got); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
	realLines := waitLogLines(realLog, len(ourLines), ctlAddrLogLines)
	if d := harness.DiffLines(realLines, ourLines); d != "" {
		t.Errorf("log lines differ (-real +ours):\n%s", d)
	}
}
