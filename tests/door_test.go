// End-to-end tests of the door: on-demand processes, handover at max_use while old processes drain, client limits.

package tests

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// doorRun is a Postern instance with the real smtpd on addr, cleanup (so
// that mail can be sent) and anvil.
type doorRun struct {
	*masterRun
	addr string
}

// newDoor starts a doorRun whose smtpd listens on addr ("" for a free
// loopback address) with smtpdArgs appended to its master.cf line, and
// mainCF appended to main.cf.
func newDoor(t *testing.T, smtpdArgs, mainCF string) *doorRun {
	t.Helper()
	return newDoorOn(t, harness.FreeAddr(t), "-", smtpdArgs, mainCF)
}

// newDoorOn is newDoor on addr with smtpd's maxproc column.
func newDoorOn(t *testing.T, addr, maxproc, smtpdArgs, mainCF string) *doorRun {
	t.Helper()
	in := newMasterRun(t, masterRunOptions{masterCF: fmt.Sprintf(`%s inet n - n - %s smtpd %s
cleanup unix n - n - 0 cleanup
anvil unix - - n - 1 anvil
postlog unix-dgram n - n - 1 postlogd
`, addr, maxproc, smtpdArgs)})
	in.linkDaemons("smtpd", "cleanup", "anvil")
	in.appendMainCF("mynetworks = 127.0.0.0/8\n" + mainCF)
	in.start()
	in.waitLog("daemon started", 30*time.Second)
	return &doorRun{masterRun: in, addr: dialableAddr(addr)}
}

// dialableAddr turns a wildcard listening address into a loopback one.
func dialableAddr(addr string) string {
	if port, ok := strings.CutPrefix(addr, "0.0.0.0:"); ok {
		return "127.0.0.1:" + port
	}
	return addr
}

// smtpClient is one SMTP connection read line by line.
type smtpClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (in *doorRun) dial() *smtpClient {
	in.t.Helper()
	conn, err := net.DialTimeout("tcp", in.addr, 5*time.Second)
	if err != nil {
		in.t.Fatalf("connect %s: %v", in.addr, err)
	}
	in.t.Cleanup(func() { conn.Close() })
	return &smtpClient{t: in.t, conn: conn, r: bufio.NewReader(conn)}
}

// reply reads one whole reply (all its lines), failing after timeout.
func (c *smtpClient) reply(timeout time.Duration) string {
	c.t.Helper()
	reply, err := c.tryReply(timeout)
	if err != nil {
		c.t.Fatalf("read reply: %v (so far %q)", err, reply)
	}
	return reply
}

// tryReply reads one whole reply, or returns what came and the error.
func (c *smtpClient) tryReply(timeout time.Duration) (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return strings.Join(lines, "\n"), err
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(lines, "\n"), nil
		}
	}
}

// send writes one command line and returns the reply.
func (c *smtpClient) send(line string) string {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(c.conn, "%s\r\n", line); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
	return c.reply(30 * time.Second)
}

// TestDoorIdleSessionsAcrossMaxUse holds many idle sessions open while
// smtpd recycles past a small max_use several times: each retired process
// keeps its idle sessions, its successor takes the listener at once, and
// a new client still gets its banner. (The 30 s bound is for correctness:
// before on-demand handover the client waited until every idle session
// of the retired process had ended, which they do not within it.)
func TestDoorIdleSessionsAcrossMaxUse(t *testing.T) {
	in := newDoor(t, "-o max_use=5", "smtpd_banner = $myhostname ESMTP door\n")
	const idle = 40
	t0 := time.Now()
	defer func() { t.Logf("total %v", time.Since(t0)) }()
	var held []*smtpClient
	for i := 0; i < idle; i++ {
		c := in.dial()
		if banner := c.reply(30 * time.Second); !strings.HasPrefix(banner, "220 ") {
			t.Fatalf("idle session %d: banner %q", i, banner)
		}
		held = append(held, c)
	}
	t.Logf("idle sessions open after %v", time.Since(t0))
	start := time.Now()
	c := in.dial()
	banner := c.reply(30 * time.Second)
	latency := time.Since(start)
	if !strings.HasSuffix(banner, " ESMTP door") {
		t.Fatalf("banner %q", banner)
	}
	t.Logf("banner after %v with %d idle sessions held across %d max_use recycles", latency, idle, idle/5)
	if got := c.send("QUIT"); !strings.HasPrefix(got, "221 ") {
		t.Errorf("QUIT: %q", got)
	}
	// Every idle session is still served by its retired process.
	for i, h := range held {
		if got := h.send("NOOP"); got != "250 2.0.0 Ok" {
			t.Errorf("idle session %d: NOOP got %q", i, got)
		}
	}
	if n := countDaemons(in.masterPID, in.addr); n < idle/5 {
		t.Errorf("%d smtpd processes for %d sessions at max_use 5: retired processes did not keep their sessions", n, idle+1)
	}
	for _, h := range held {
		h.send("QUIT")
		h.conn.Close()
	}
	// The retired processes exit once their sessions ended.
	deadline := time.Now().Add(30 * time.Second)
	for countDaemons(in.masterPID, in.addr) > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d smtpd processes left after every session ended", countDaemons(in.masterPID, in.addr))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if log := in.log(); strings.Contains(log, "throttling") || strings.Contains(log, "exit status") {
		t.Errorf("daemons failed:\n%s", log)
	}
}

// countDaemons counts parent's children started with "-n service".
func countDaemons(parent int, service string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 || fields[1] != fmt.Sprint(parent) || fields[0] == "Z" {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), "\x00-n\x00"+service+"\x00") {
			n++
		}
	}
	return n
}

// limitsMainCF makes 127.0.0.1 subject to the client limits (it is in
// mynetworks, which the exceptions list by default) and names it
// "unknown" without a DNS lookup.
const limitsMainCF = "smtpd_client_event_limit_exceptions =\nsmtpd_peername_lookup = no\nsmtpd_banner = $myhostname ESMTP\nmyhostname = mx.test.example\n"

// TestDoorConnectionCountAcrossProcesses checks
// smtpd_client_connection_count_limit with every session in a smtpd
// process of its own (max_use=1): anvil counts the client across them.
func TestDoorConnectionCountAcrossProcesses(t *testing.T) {
	in := newDoor(t, "-o max_use=1", limitsMainCF+"smtpd_client_connection_count_limit = 2\n")
	first, second := in.dial(), in.dial()
	for _, c := range []*smtpClient{first, second} {
		if banner := c.reply(30 * time.Second); banner != "220 mx.test.example ESMTP" {
			t.Fatalf("banner %q", banner)
		}
	}
	third := in.dial()
	if got := third.reply(30 * time.Second); got != "421 4.7.0 mx.test.example Error: too many connections from 127.0.0.1" {
		t.Errorf("third connection got %q", got)
	}
	in.waitLog("warning: Connection concurrency limit exceeded: 3 from unknown[127.0.0.1] for service "+in.addr, 30*time.Second)
	if n := countDaemons(in.masterPID, in.addr); n < 2 {
		t.Errorf("%d smtpd processes, want one per session", n)
	}
	first.send("QUIT")
	first.conn.Close()
	// Once the first session ended, a new one is within the limit again.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c := in.dial()
		got := c.reply(30 * time.Second)
		c.conn.Close()
		if got == "220 mx.test.example ESMTP" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the first session ended: %q", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDoorRateLimits checks the recipient, message and connection rate
// limits, and that mynetworks clients are exempt by default.
func TestDoorRateLimits(t *testing.T) {
	in := newDoor(t, "", limitsMainCF+`smtpd_client_connection_rate_limit = 3
smtpd_client_message_rate_limit = 2
smtpd_client_recipient_rate_limit = 2
`)
	c := in.dial()
	c.reply(30 * time.Second)
	steps := []struct{ command, reply string }{
		{"EHLO client.example", ""},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@mx.test.example>", ""},
		{"RCPT TO:<b@mx.test.example>", ""},
		{"RCPT TO:<c@mx.test.example>", "450 4.7.1 Error: too many recipients from 127.0.0.1"},
		{"RSET", "250 2.0.0 Ok"},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		{"RSET", "250 2.0.0 Ok"},
		{"MAIL FROM:<s@remote.example>", "450 4.7.1 Error: too much mail from 127.0.0.1"},
	}
	for _, step := range steps {
		got := c.send(step.command)
		if step.reply != "" && got != step.reply {
			t.Errorf("%s: got %q, want %q", step.command, got, step.reply)
		}
	}
	c.send("QUIT")
	for i := 2; i <= 3; i++ {
		c := in.dial()
		if got := c.reply(30 * time.Second); got != "220 mx.test.example ESMTP" {
			t.Errorf("connection %d: %q", i, got)
		}
		c.conn.Close()
	}
	c = in.dial()
	if got := c.reply(30 * time.Second); got != "421 4.7.0 mx.test.example Error: too many connections from 127.0.0.1" {
		t.Errorf("connection 4: %q", got)
	}
	log := in.waitLog("warning: Connection rate limit exceeded: 4 from unknown[127.0.0.1] for service "+in.addr, 30*time.Second)
	assertContains(t, "log", log,
		"warning: Recipient address rate limit exceeded: 3 from unknown[127.0.0.1] for service "+in.addr,
		"warning: Message delivery request rate limit exceeded: 3 from unknown[127.0.0.1] for service "+in.addr,
	)

	// With the default exceptions ($mynetworks), 127.0.0.1 is not limited.
	in.appendMainCF("smtpd_client_event_limit_exceptions = $mynetworks\n")
	if res := in.postfix("reload"); res.ExitCode != 0 {
		t.Fatalf("reload: %s", res)
	}
	in.waitLog("reload -- version", 30*time.Second)
	// The retired anvil logs its peaks as it exits, as Postfix's does.
	ident := in.addr + ":127.0.0.1"
	// Each line travels through postlogd on its own; wait for every one.
	for _, want := range []string{
		"statistics: max connection rate 4/60s for (" + ident + ") at ",
		"statistics: max connection count ",
		"statistics: max message rate 3/60s for (" + ident + ") at ",
		"statistics: max recipient rate 3/60s for (" + ident + ") at ",
		"statistics: max cache size 1 at ",
	} {
		in.waitLog(want, 30*time.Second)
	}
	for i := 0; i < 5; i++ {
		c := in.dial()
		got := c.reply(30 * time.Second)
		c.conn.Close()
		if got != "220 mx.test.example ESMTP" {
			t.Errorf("exempt connection %d: %q", i, got)
		}
	}
}

// TestDoorPerRequestDeadline checks that with smtpd_per_request_deadline a
// client dribbling one byte at a time no longer keeps its session:
// smtpd_timeout bounds the whole command, not each read.
func TestDoorPerRequestDeadline(t *testing.T) {
	in := newDoor(t, "", limitsMainCF+"smtpd_timeout = 2s\nsmtpd_per_request_deadline = yes\n")
	c := in.dial()
	c.reply(30 * time.Second)
	reply := make(chan string, 1)
	go func() {
		line, _ := c.r.ReadString('\n')
		reply <- strings.TrimRight(line, "\r\n")
	}()
	// Far more bytes than the deadline allows, one every 200 ms, each
	// well within smtpd_timeout of the one before.
	var got string
dribble:
	for i := 0; i < 100; i++ {
		select {
		case got = <-reply:
			break dribble
		case <-time.After(200 * time.Millisecond):
			c.conn.Write([]byte("N"))
		}
	}
	if got != "421 4.4.2 mx.test.example Error: timeout exceeded" {
		t.Fatalf("dribbling client got %q", got)
	}
	in.waitLog("timeout after CONNECT from unknown[127.0.0.1]", 30*time.Second)
}

// TestDoorStress fills an inet service that listens on a non-loopback
// (wildcard) address: master logs Postfix's process limit warning and
// starts the next smtpd with -o stress=yes, whose ${stress?...} defaults
// apply (smtpd_hard_error_limit 1). Clients connect over loopback only.
func TestDoorStress(t *testing.T) {
	addr := fmt.Sprintf("0.0.0.0:%d", harness.FreePort(t))
	in := newDoorOn(t, addr, "2", "", limitsMainCF+"smtpd_client_connection_count_limit = 0\n")
	for i := 0; i < 2; i++ {
		c := in.dial()
		if got := c.reply(30 * time.Second); got != "220 mx.test.example ESMTP" {
			t.Fatalf("session %d: %q", i, got)
		}
	}
	stressed := in.dial()
	if got := stressed.reply(30 * time.Second); got != "220 mx.test.example ESMTP" {
		t.Fatalf("session in stress: %q", got)
	}
	port := strings.TrimPrefix(addr, "0.0.0.0:")
	// A service with a host of its own is "[host]:port", as Postfix names it.
	log := in.waitLog(fmt.Sprintf(`warning: service "%s" ([0.0.0.0]:%s) has reached its process limit "2": new clients may experience noticeable delays`, addr, port), 30*time.Second)
	for _, want := range []string{
		"warning: to avoid this condition, increase the process count in master.cf or reduce the service time per client",
		"warning: see https://www.postfix.org/STRESS_README.html for examples of stress-adapting configuration settings",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	// Under stress smtpd_hard_error_limit is 1: the first error ends it.
	if got := stressed.send("XYZZY"); got != "500 5.5.2 Error: command not recognized" {
		t.Errorf("XYZZY: %q", got)
	}
	if got := stressed.send("NOOP"); got != "421 4.7.0 mx.test.example Error: too many errors" {
		t.Errorf("after one error under stress: %q", got)
	}
}

// doorLimitsExtraCF is the main.cf the differential limits test adds on
// both servers to smtpDiffMainCF.
const doorLimitsExtraCF = `smtpd_banner = $myhostname ESMTP
smtpd_client_event_limit_exceptions =
smtpd_client_connection_count_limit = 2
smtpd_client_message_rate_limit = 2
smtpd_client_recipient_rate_limit = 2
local_recipient_maps =
`

// TestDoorDifferentialLimits runs the same over-the-limit sessions against
// a private real Postfix 3.7 and Postern and compares the whole reply
// texts and the warning lines.
func TestDoorDifferentialLimits(t *testing.T) {
	pf := realPostfixMaster(t)
	realAddr, realLog := startRealPostfixSMTPWith(t, pf, smtpDiffSetup{
		mainCF: func(etc string) string { return smtpDiffDefault.mainCF(etc) + doorLimitsExtraCF },
		files:  smtpDiffDefault.files,
	})
	ours := newDoor(t, "", smtpDiffMainCF("/nonexistent")+doorLimitsExtraCF)

	run := func(addr string, log func() string) []string {
		t.Helper()
		disconnects := strings.Count(log(), "disconnect from")
		in := &doorRun{masterRun: ours.masterRun, addr: addr} // only dial is used
		var out []string
		a, b := in.dial(), in.dial()
		out = append(out, "A: "+a.reply(30*time.Second), "B: "+b.reply(30*time.Second))
		c := in.dial()
		third, err := c.tryReply(30 * time.Second)
		out = append(out, fmt.Sprintf("C: %s (%v)", third, err))
		for _, conn := range []*smtpClient{a, b, c} {
			conn.conn.Close()
		}
		// The next session must not overlap those three.
		for deadline := time.Now().Add(30 * time.Second); strings.Count(log(), "disconnect from") < disconnects+3; {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the three sessions did not end:\n%s", addr, log())
			}
			time.Sleep(20 * time.Millisecond)
		}
		d := in.dial()
		if banner, err := d.tryReply(30 * time.Second); err != nil {
			data, _ := os.ReadFile(realLog)
			t.Fatalf("%s: banner %q, %v\nreal log:\n%s\nour log:\n%s", addr, banner, err, data, ours.log())
		}
		for _, cmd := range []string{"HELO client.example", "MAIL FROM:<s@remote.example>", "RCPT TO:<pftest@test.example>",
			"RCPT TO:<pftest@test.example>", "RCPT TO:<pftest@test.example>", "RSET", "MAIL FROM:<s@remote.example>",
			"RSET", "MAIL FROM:<s@remote.example>", "QUIT"} {
			fmt.Fprintf(d.conn, "%s\r\n", cmd)
			reply, err := d.tryReply(30 * time.Second)
			if err != nil {
				reply += fmt.Sprintf(" (%v)", err)
			}
			out = append(out, cmd+" -> "+reply)
			if err != nil {
				break
			}
		}
		return out
	}
	realLogText := func() string { data, _ := os.ReadFile(realLog); return string(data) }
	want, got := run(realAddr, realLogText), run(ours.addr, ours.log)
	if d := harness.DiffLines(want, got); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
	warnings := func(service string) func(log string) []string {
		return func(log string) []string {
			var lines []string
			for _, line := range strings.Split(log, "\n") {
				if _, w, ok := strings.Cut(line, "warning: "); ok && strings.Contains(w, "limit exceeded") {
					lines = append(lines, strings.ReplaceAll(w, service, "SERVICE"))
				}
			}
			return lines
		}
	}
	ourWarnings := warnings(ours.addr)(ours.waitLog("Message delivery request rate limit exceeded", 30*time.Second))
	// The real smtpd's lines reach the file through its postlogd: wait
	// for as many as ours.
	realWarnings := waitLogLines(realLog, len(ourWarnings), warnings(realAddr))
	if d := harness.DiffLines(realWarnings, ourWarnings); d != "" {
		t.Errorf("warnings differ (-real +ours):\n%s", d)
	}
	t.Logf("real Postfix warnings:\n%s", strings.Join(realWarnings, "\n"))
}
