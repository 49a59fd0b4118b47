// Differential test of a client that talks before the greeting:
// "improper command pipelining after CONNECT" and reject_unauth_pipelining,
// against a real Postfix.

package tests

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

const pregreetDiffMainCF = differentialHostMainCF + `local_recipient_maps =
alias_maps =
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_data_restrictions = reject_unauth_pipelining
smtpd_delay_reject = no
smtpd_client_restrictions = sleep 1
`

// pregreetSession sends EHLO before smtpd has taken the connection, then
// reads the greeting and goes on one command at a time. Postfix looks for
// early input once, right after it accepts the connection and before the
// greeting's "sleep 1" (smtpd_client_restrictions): a client that writes
// just after connecting races that look. So the only smtpd process
// (process limit 1) is kept busy by a first session while the second
// connects and sends its EHLO from the listen queue; ending the first
// session lets smtpd accept the second with the EHLO already there.
func pregreetSession(t *testing.T, addr string) []string {
	t.Helper()
	busy := dialSMTP(t, addr, "127.0.0.1")
	busy.readReply(t) // its greeting: smtpd is serving this session
	d := dialSMTP(t, addr, "127.0.0.2")
	fmt.Fprintf(d.conn, "EHLO c.example\r\n")
	busy.conn.Close()
	out := []string{"banner -> " + smtpDiffCodes(d.readReply(t))}
	out = append(out, "EHLO c.example -> "+d.readReply(t)[0])
	// No QUIT: after this DATA the real Postfix 3.7 sometimes leaves QUIT
	// unanswered for more than 30 s on a loaded machine, and the replies
	// that matter end here.
	return append(out, stepLines(d.play([]string{"MAIL FROM:<s@remote.example>", "RCPT TO:<x@test.example>", "DATA"}, nil))...)
}

// pregreetLogLines are smtpd's pipelining and reject lines.
func pregreetLogLines(log string) []string {
	line := regexp.MustCompile(`smtpd\[\d+\]: (improper command pipelining .*|[0-9A-Za-z]+: reject: .*)$`)
	queueID := regexp.MustCompile(`^[0-9A-Za-z]+: reject: `)
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			out = append(out, queueID.ReplaceAllString(m[1], "ID: reject: "))
		}
	}
	return out
}

// TestDifferentialPregreet: a client that sends EHLO before the greeting
// gets its banner and replies, the improper pipelining is logged "after
// CONNECT", and reject_unauth_pipelining refuses DATA, as in Postfix 3.7.
func TestDifferentialPregreet(t *testing.T) {
	setup := smtpDiffSetup{mainCF: func(string) string { return pregreetDiffMainCF }, smtpdProcessLimit: "1"}
	ours := startOurSMTPWith(t, setup)
	got := pregreetSession(t, ours.addr)
	want := []string{
		"banner -> 220",
		"EHLO c.example -> 250-mx.test.example",
		"MAIL FROM:<s@remote.example> -> 250 2.1.0 Ok",
		"RCPT TO:<x@test.example> -> 250 2.1.5 Ok",
		"DATA -> 503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining",
	}
	if d := harness.Diff(strings.Join(want, "\n")+"\n", strings.Join(got, "\n")+"\n"); d != "" {
		t.Errorf("replies differ (-want +got):\n%s", d)
	}
	ours.waitLog("reject: DATA", 30*time.Second)
	ourLines := pregreetLogLines(ours.log())
	wantLines := []string{
		"improper command pipelining after CONNECT from unknown[127.0.0.2]: EHLO c.example\\r\\n",
		"ID: reject: DATA from unknown[127.0.0.2]: 503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining; from=<s@remote.example> to=<x@test.example> proto=ESMTP helo=<c.example>",
	}
	if d := harness.Diff(strings.Join(wantLines, "\n")+"\n", strings.Join(ourLines, "\n")+"\n"); d != "" {
		t.Errorf("log lines differ (-want +got):\n%s", d)
	}

	pf := harness.RealPostfix(t)
	if os.Geteuid() != 0 {
		t.Skip("real Postfix's master runs only as root")
	}
	realAddr, realLog := startRealPostfixSMTPWith(t, pf, setup)
	real := pregreetSession(t, realAddr)
	if d := harness.Diff(strings.Join(real, "\n")+"\n", strings.Join(got, "\n")+"\n"); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
	var realLines []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		data, _ := os.ReadFile(realLog)
		if realLines = pregreetLogLines(string(data)); len(realLines) >= len(ourLines) {
			break
		}
	}
	if d := harness.Diff(strings.Join(realLines, "\n")+"\n", strings.Join(ourLines, "\n")+"\n"); d != "" {
		t.Errorf("log lines differ (-real +ours):\n%s", d)
	}
}
