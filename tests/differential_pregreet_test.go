// Differential test of a client that talks before the greeting:
// "improper command pipelining after CONNECT" and reject_unauth_pipelining,
// against a real Postfix.

package tests

import (
	"bufio"
	"fmt"
	"net"
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

// lateTalkerAddr is the client address whose sessions policyGate holds.
const lateTalkerAddr = "127.0.0.2"

// policyGate is a policy server that holds smtpd at its connect-time
// restrictions for lateTalkerAddr (others, such as the probe that
// waits for a real Postfix's greeting, pass at once): it tells the test
// of each such request on asked and answers
// DUNNO only when the test sends on answer. smtpd looks for early input
// before it asks, and greets only after the answer, so what the client
// sends in between arrives after the look and before the greeting
// whatever the machine's speed.
type policyGate struct {
	addr          string
	asked, answer chan struct{}
}

// startPolicyGate listens on 127.0.0.1 until the test ends.
func startPolicyGate(t *testing.T) *policyGate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &policyGate{addr: ln.Addr().String(), asked: make(chan struct{}), answer: make(chan struct{})}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go g.serve(c, done)
		}
	}()
	return g
}

// serve answers the requests of one connection until it closes or the
// test ends.
func (g *policyGate) serve(c net.Conn, done chan struct{}) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		held := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			held = held || line == "client_address="+lateTalkerAddr
		}
		if !held {
			fmt.Fprintf(c, "action=DUNNO\n\n")
			continue
		}
		select {
		case g.asked <- struct{}{}:
		case <-done:
			return
		}
		select {
		case <-g.answer:
		case <-done:
			return
		}
		fmt.Fprintf(c, "action=DUNNO\n\n")
	}
}

// hold waits until smtpd asks the gate; then the test may talk.
func (g *policyGate) hold(t *testing.T) {
	t.Helper()
	select {
	case <-g.asked:
	case <-time.After(60 * time.Second):
		t.Fatal("smtpd did not ask the policy server")
	}
}

// release lets smtpd go on to its greeting.
func (g *policyGate) release(t *testing.T) {
	t.Helper()
	select {
	case g.answer <- struct{}{}:
	case <-time.After(60 * time.Second):
		t.Fatal("the policy server's connection is gone")
	}
}

// lateTalkerSession connects from lateTalkerAddr and sends EHLO once smtpd
// has looked for early input and waits for the gate's answer to its
// smtpd_client_restrictions, before the greeting; then it goes on one
// command at a time.
func lateTalkerSession(t *testing.T, addr string, gate *policyGate) []string {
	t.Helper()
	d := dialSMTP(t, addr, lateTalkerAddr)
	gate.hold(t)
	fmt.Fprintf(d.conn, "EHLO c.example\r\n")
	gate.release(t)
	out := []string{"banner -> " + smtpDiffCodes(d.readReply(t))}
	out = append(out, "EHLO c.example -> "+d.readReply(t)[0])
	lines := []string{"MAIL FROM:<s@remote.example>", "RCPT TO:<x@test.example>", "DATA", "Subject: late\r\n\r\nhi\r\n.", "QUIT"}
	return append(out, stepLines(d.play(lines, smtpDiffRender))...)
}

// TestDifferentialPregreetOnlyAtConnect: Postfix 3.7 looks for early
// input once, right after it takes the connection; a client that talks
// while smtpd_client_restrictions are being checked before the greeting
// is not flagged, and reject_unauth_pipelining lets its DATA through.
func TestDifferentialPregreetOnlyAtConnect(t *testing.T) {
	gate := startPolicyGate(t)
	mainCF := strings.Replace(pregreetDiffMainCF, "smtpd_client_restrictions = sleep 1", "smtpd_client_restrictions = check_policy_service inet:"+gate.addr, 1)
	setup := smtpDiffSetup{mainCF: func(string) string { return mainCF }}
	ours := startOurSMTPWith(t, setup)
	got := lateTalkerSession(t, ours.addr, gate)
	want := []string{
		"banner -> 220",
		"EHLO c.example -> 250-mx.test.example",
		"MAIL FROM:<s@remote.example> -> 250 2.1.0",
		"RCPT TO:<x@test.example> -> 250 2.1.5",
		"DATA -> 354",
		"Subject: late -> 250 2.0.0",
		"QUIT -> 221 2.0.0",
	}
	if d := harness.DiffLines(want, got); d != "" {
		t.Errorf("replies differ (-want +got):\n%s", d)
	}
	ours.waitLog("disconnect from unknown[127.0.0.2]", 30*time.Second)
	if lines := pregreetLogLines(ours.log()); len(lines) != 0 {
		t.Errorf("a late talker is logged: %q", lines)
	}

	pf := realPostfixMaster(t)
	realAddr, realLog := startRealPostfixSMTPWith(t, pf, setup)
	readLog := func() string { data, _ := os.ReadFile(realLog); return string(data) }
	real := lateTalkerSession(t, realAddr, gate)
	if d := harness.DiffLines(real, got); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
	waitLogLines(realLog, 1, func(log string) []string {
		if strings.Contains(log, "disconnect from unknown[127.0.0.2]") {
			return []string{"done"}
		}
		return nil
	})
	if lines := pregreetLogLines(readLog()); len(lines) != 0 {
		t.Errorf("the real Postfix logs the late talker: %q", lines)
	}
}

// TestDifferentialPregreetForbidden: with smtpd_forbid_unauth_pipelining
// a client that talks before the greeting gets "554 5.5.0 Error: SMTP
// protocol synchronization" instead of it, and the connection ends.
func TestDifferentialPregreetForbidden(t *testing.T) {
	mainCF := pregreetDiffMainCF + "smtpd_forbid_unauth_pipelining = yes\n"
	setup := smtpDiffSetup{mainCF: func(string) string { return mainCF }, smtpdProcessLimit: "1"}
	session := func(addr string) []string {
		busy := dialSMTP(t, addr, "127.0.0.1")
		busy.readReply(t)
		d := dialSMTP(t, addr, "127.0.0.2")
		fmt.Fprintf(d.conn, "EHLO c.example\r\n")
		busy.conn.Close()
		out := d.readReply(t)
		if line, err := d.r.ReadString('\n'); err == nil {
			out = append(out, "after the reply: "+line)
		}
		return out
	}
	ours := startOurSMTPWith(t, setup)
	got := session(ours.addr)
	if d := harness.DiffLines([]string{"554 5.5.0 Error: SMTP protocol synchronization"}, got); d != "" {
		t.Errorf("replies differ (-want +got):\n%s", d)
	}
	ours.waitLog("improper command pipelining after CONNECT from unknown[127.0.0.2]: EHLO c.example\\r\\n", 30*time.Second)

	pf := realPostfixMaster(t)
	realAddr, realLog := startRealPostfixSMTPWith(t, pf, setup)
	if d := harness.DiffLines(session(realAddr), got); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
	lines := waitLogLines(realLog, 1, pregreetLogLines)
	if d := harness.DiffLines([]string{"improper command pipelining after CONNECT from unknown[127.0.0.2]: EHLO c.example\\r\\n"}, lines); d != "" {
		t.Errorf("the real Postfix's log lines differ (-want +got):\n%s", d)
	}
}
