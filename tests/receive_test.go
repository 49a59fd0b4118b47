// End-to-end tests of receiving mail under master: Python smtplib into the queue commands, and kill -9 of smtpd and cleanup around DATA.

package tests

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/tests/internal/harness"
)

// smtplibSend is a Python smtplib client: it sends one message from
// argv[3] to argv[4] and prints the end-of-data reply as "CODE TEXT".
const smtplibSend = `import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20)
s.ehlo("py.example")
code, msg = s.mail(sys.argv[3])
assert code == 250, (code, msg)
code, msg = s.rcpt(sys.argv[4])
assert code == 250, (code, msg)
code, msg = s.data(b"Subject: smtplib\r\nMessage-ID: <smtplib@py.example>\r\n\r\nhello from python\r\n")
print(code, msg.decode())
s.quit()
`

// queueCommand runs a Postern queue command (postcat, postqueue,
// postsuper) against the instance as the instance's user.
func (in *smtpdRun) queueCommand(name string, args ...string) harness.Result {
	in.t.Helper()
	return harness.Invocation{Path: harness.Bin(in.t, name), ConfigDir: in.etc, Args: args, AsUser: in.asUser}.Run(in.t)
}

func TestReceiveSmtplibThenQueueCommands(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	in := startSmtpd(t)
	host, port, _ := strings.Cut(in.addr, ":")
	out, err := exec.Command(python, "-c", smtplibSend, host, port, "sender@remote.example", "pftest@test.example").CombinedOutput()
	if err != nil {
		t.Fatalf("smtplib: %v\n%s\nlog:\n%s", err, out, in.log())
	}
	reply := strings.TrimSpace(string(out))
	id, ok := strings.CutPrefix(reply, "250 2.0.0 Ok: queued as ")
	if !ok || !regexp.MustCompile(`^[0-9A-F]{6,}$`).MatchString(id) {
		t.Fatalf("smtplib end of data: %q, want 250 2.0.0 Ok: queued as ID", reply)
	}

	cat := in.queueCommand("postcat", "-q", id)
	if cat.ExitCode != 0 {
		t.Fatalf("postcat -q %s: %s", id, cat)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\*\*\* ENVELOPE RECORDS incoming/` + id + ` \*\*\*$`),
		regexp.MustCompile(`(?m)^sender: sender@remote\.example$`),
		regexp.MustCompile(`(?m)^recipient: pftest@test\.example$`),
		regexp.MustCompile(`(?m)^Received: from py\.example \(localhost \[127\.0\.0\.1\]\)\n\tby mx\.test\.example \(Postern\) with ESMTP id ` + id +
			`\n\tfor <pftest@test\.example>; [A-Z][a-z]{2}, [ \d]\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\S+\)$`),
		regexp.MustCompile(`(?m)^Subject: smtplib\nMessage-ID: <smtplib@py\.example>$`),
		regexp.MustCompile(`(?m)^hello from python\n\*\*\* HEADER EXTRACTED incoming/` + id + ` \*\*\*$`),
	} {
		if !want.MatchString(cat.Stdout) {
			t.Errorf("postcat -q %s does not match %s:\n%s", id, want, cat.Stdout)
		}
	}
	size := regexp.MustCompile(`(?m)^message_size: +(\d+) `).FindStringSubmatch(cat.Stdout)
	arrival := regexp.MustCompile(`(?m)^message_arrival_time: (.{24})$`).FindStringSubmatch(cat.Stdout)
	if size == nil || arrival == nil {
		t.Fatalf("postcat -q %s lacks message_size or message_arrival_time:\n%s", id, cat.Stdout)
	}
	// showq's layout: "%-11s %7ld %20.20s %s" for the message line, the
	// recipient under the sender column, the trailer after a blank line.
	listing := func(mark string) string {
		return "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n" +
			fmt.Sprintf("%-11s %7s %20.20s %s\n", id+mark, size[1], arrival[1], "sender@remote.example") +
			strings.Repeat(" ", 41) + "pftest@test.example\n\n-- 0 Kbytes in 1 Request.\n"
	}
	postqueue := func(want string) {
		t.Helper()
		res := in.queueCommand("postqueue", "-p")
		if d := harness.Diff(want, res.Stdout); res.ExitCode != 0 || d != "" {
			t.Errorf("postqueue -p (exit %d, stderr %q), -want +got:\n%s", res.ExitCode, res.Stderr, d)
		}
	}
	postsuper := func(want string, args ...string) {
		t.Helper()
		res := in.queueCommand("postsuper", args...)
		if res.ExitCode != 0 || res.Stderr != want {
			t.Errorf("postsuper %s: %s\nwant stderr:\n%s", strings.Join(args, " "), res, want)
		}
	}

	postqueue(listing(""))
	postsuper(fmt.Sprintf("postsuper: %s: placed on hold\npostsuper: Placed on hold: 1 message\n", id), "-h", id)
	postqueue(listing("!"))
	postsuper(fmt.Sprintf("postsuper: %s: released from hold\npostsuper: Released from hold: 1 message\n", id), "-H", id)
	postqueue(listing(""))
	postsuper(fmt.Sprintf("postsuper: %s: removed\npostsuper: Deleted: 1 message\n", id), "-d", id)
	postqueue("Mail queue is empty\n")
}

// TestReceiveSmtpdKilledMidData kills smtpd half-way through a message:
// cleanup must drop the unfinished queue file, and master must give the
// next client a new smtpd.
func TestReceiveSmtpdKilledMidData(t *testing.T) {
	in := startSmtpd(t)
	d := startData(t, in)
	fmt.Fprintf(d.conn, "Subject: cut short\r\n\r\n%s", strings.Repeat("a line of the body\r\n", 2000))
	in.waitIncomingFile(t)

	// Every smtpd, in case the probe of startSmtpd left one of its own.
	in.killAll(in.addr)
	if line, err := d.r.ReadString('\n'); err == nil {
		t.Errorf("killed smtpd answered %q", line)
	}
	// cleanup sees its client vanish and removes what it had written.
	deadline := time.Now().Add(30 * time.Second)
	for len(in.queuedFiles()) != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if left := in.queuedFiles(); len(left) != 0 {
		t.Errorf("incoming/ still holds %v after smtpd died mid-DATA; log:\n%s", left, in.log())
	}

	id := sendWithRetry(t, in, "after the kill")
	in.requireQueued(id, "Subject: after the kill")
}

// TestReceiveCleanupKilledMidData kills cleanup while smtpd streams a
// message to it: the client must get a temporary error, not "250 queued",
// no committed file may appear, and the next message is queued by a new
// cleanup.
func TestReceiveCleanupKilledMidData(t *testing.T) {
	in := startSmtpd(t)
	d := startData(t, in)
	fmt.Fprintf(d.conn, "Subject: doomed\r\n\r\n%s", strings.Repeat("a line of the body\r\n", 2000))
	in.waitIncomingFile(t)

	in.killAll("cleanup")
	fmt.Fprintf(d.conn, "%s.\r\n", strings.Repeat("more of the body\r\n", 2000))
	reply := d.readReply(t)
	if last := reply[len(reply)-1]; !strings.HasPrefix(last, "451 4.3.0 ") {
		t.Errorf("end of data after cleanup died: %q, want 451 4.3.0", reply)
	}
	for _, name := range in.queuedFiles() {
		if ok, _ := queue.Ready(filepath.Join(in.incomingDir(), name)); ok {
			t.Errorf("incoming/%s is committed although cleanup died before the end of the message", name)
		}
	}
	if res := in.queueCommand("postqueue", "-p"); res.ExitCode != 0 || res.Stdout != "Mail queue is empty\n" {
		t.Errorf("postqueue -p after the failed message: %s", res)
	}

	id := sendWithRetry(t, in, "after the kill")
	in.requireQueued(id, "Subject: after the kill")
	// The restarted cleanup removed the half-written file: nothing but the
	// new message is left in incoming/.
	if files := in.queuedFiles(); len(files) != 1 || files[0] != id {
		t.Errorf("incoming/ after the restart holds %v, want only %s", files, id)
	}
	// Logged by the restarted cleanup before it took the message, but
	// written by postlogd maybe after the reply.
	in.waitLog(": removed incomplete queue file of an interrupted submission", 30*time.Second)
}

// TestReceiveAcknowledgedMessagesSurviveKills sends messages one after
// another, killing every cleanup (and every other time every smtpd) after
// each "250 queued": every acknowledged message must be a complete queue
// file.
func TestReceiveAcknowledgedMessagesSurviveKills(t *testing.T) {
	in := startSmtpd(t)
	const messages = 5
	ids := map[string]string{}
	for i := range messages {
		subject := fmt.Sprintf("durable %d", i)
		ids[sendWithRetry(t, in, subject)] = subject
		in.killAll("cleanup")
		if i%2 == 1 {
			in.killAll(in.addr)
		}
	}
	if len(ids) != messages {
		t.Fatalf("%d distinct queue IDs for %d messages: %v", len(ids), messages, ids)
	}
	for id, subject := range ids {
		if ok, err := queue.Ready(filepath.Join(in.incomingDir(), id)); !ok {
			t.Errorf("acknowledged %s is not a committed file in incoming/: %v", id, err)
		}
		in.requireQueued(id, "Subject: "+subject)
	}
	// The trailer counts the listed sizes in whole Kbytes, rounded down.
	res := in.queueCommand("postqueue", "-p")
	total := 0
	for _, m := range regexp.MustCompile(`(?m)^[0-9A-F]+ +(\d+) `).FindAllStringSubmatch(res.Stdout, -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	if want := fmt.Sprintf("\n\n-- %d Kbytes in 5 Requests.\n", total/1024); total == 0 || !strings.HasSuffix(res.Stdout, want) {
		t.Errorf("postqueue -p does not end with %q: %s", want, res)
	}
	if res := in.queueCommand("postsuper", "-d", "ALL"); res.ExitCode != 0 || res.Stderr != "postsuper: Deleted: 5 messages\n" {
		t.Errorf("postsuper -d ALL: %s", res)
	}
}

// startData opens a session as far as the 354 reply to DATA.
func startData(t *testing.T, in *smtpdRun) *smtpDialogue {
	t.Helper()
	d := dialSMTP(t, in.addr, "")
	d.dialogue([]smtpStep{
		greeting,
		{"EHLO client.example", "250-mx.test.example\n250-PIPELINING\n250-SIZE 100000\n250-VRFY\n250-ETRN\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250-SMTPUTF8\n250 CHUNKING"},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<pftest@test.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
	})
	return d
}

// sendWithRetry sends one message with the given subject and returns its
// queue ID. While master is restarting a killed daemon a connection may
// be refused or the message answered with a temporary error; like any
// SMTP client it tries again, for a bounded time.
func sendWithRetry(t *testing.T, in *smtpdRun, subject string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		last, err := sendOnce(in.addr, subject)
		if id, ok := strings.CutPrefix(last, "250 2.0.0 Ok: queued as "); ok {
			return id
		}
		if last != "" && !strings.HasPrefix(last, "4") {
			t.Fatalf("message %q: %q", subject, last)
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %q not queued after 30s: %q, %v\nlog:\n%s", subject, last, err, in.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sendOnce runs one SMTP transaction and returns the last reply line.
func sendOnce(addr, subject string) (string, error) {
	c, err := dialPlain(addr)
	if err != nil {
		return "", err
	}
	defer c.close()
	steps := []struct{ send, wantCode string }{
		{"", "220"}, {"EHLO client.example", "250"}, {"MAIL FROM:<s@remote.example>", "250"},
		{"RCPT TO:<pftest@test.example>", "250"}, {"DATA", "354"},
		{"Subject: " + subject + "\r\n\r\nbody of " + subject + "\r\n.", "250"},
	}
	var last string
	for _, s := range steps {
		if last, err = c.command(s.send); err != nil || !strings.HasPrefix(last, s.wantCode) {
			return last, err
		}
	}
	c.command("QUIT")
	return last, nil
}

// waitIncomingFile waits until cleanup has created a file in incoming/,
// that is until the message under way has reached it.
func (in *smtpdRun) waitIncomingFile(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(in.queuedFiles()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no file in incoming/ after 30s; log:\n%s", in.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killAll kill -9s every daemon master runs for service, at least one,
// and waits until they are gone.
func (in *smtpdRun) killAll(service string) {
	in.t.Helper()
	for killed := 0; killed < 20; killed++ {
		pid := findDaemonOf(in.masterPID, service)
		if pid == 0 && killed > 0 {
			return
		}
		if pid == 0 {
			in.t.Fatalf("master runs no %s daemon to kill", service)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
			in.t.Fatalf("kill %s %d: %v", service, pid, err)
		}
		if !daemonGone(pid, 30*time.Second) {
			in.t.Fatalf("%s %d still running after kill -9", service, pid)
		}
	}
	in.t.Fatalf("master keeps starting %s daemons", service)
}

func (in *smtpdRun) incomingDir() string { return filepath.Join(in.queue, "incoming") }

// requireQueued checks with postcat that id is a complete queue file
// holding the test's envelope and the given header line.
func (in *smtpdRun) requireQueued(id, header string) {
	in.t.Helper()
	res := in.queueCommand("postcat", "-q", id)
	for _, want := range []string{
		"sender: s@remote.example\n", "recipient: pftest@test.example\n", "\n" + header + "\n",
		"*** MESSAGE FILE END incoming/" + id + " ***\n",
	} {
		if res.ExitCode != 0 || !strings.Contains(res.Stdout, want) {
			in.t.Errorf("postcat -q %s lacks %q: %s", id, want, res)
			return
		}
	}
	if _, err := os.Stat(filepath.Join(in.incomingDir(), id)); err != nil {
		in.t.Errorf("queue file of %s: %v", id, err)
	}
}

// plainSMTP is an SMTP client that returns errors instead of failing the
// test, for the retries of sendWithRetry.
type plainSMTP struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialPlain(addr string) (*plainSMTP, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	return &plainSMTP{conn: conn, r: bufio.NewReader(conn)}, nil
}

func (c *plainSMTP) close() { c.conn.Close() }

// command sends line (unless "") and returns the last line of the reply.
func (c *plainSMTP) command(line string) (string, error) {
	if line != "" {
		if _, err := fmt.Fprintf(c.conn, "%s\r\n", line); err != nil {
			return "", fmt.Errorf("send %q: %w", line, err)
		}
	}
	for {
		reply, err := c.r.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("reply to %q: %w", line, err)
		}
		if len(reply) < 4 || reply[3] != '-' {
			return strings.TrimSuffix(reply, "\r\n"), nil
		}
	}
}
