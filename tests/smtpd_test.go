// End-to-end tests of smtpd under master with the real cleanup: net/smtp, go-smtp's client, swaks, raw dialogues and relay probes from outside mynetworks.

package tests

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/postern/postern/tests/internal/harness"
)

// smtpdRun is an instance with smtpd on 127.0.0.1:port and cleanup.
type smtpdRun struct {
	*masterRun
	addr string
}

func startSmtpd(t *testing.T) *smtpdRun {
	t.Helper()
	addr := harness.FreeAddr(t)
	in := newMasterRun(t, masterRunOptions{masterCF: fmt.Sprintf(`# smtpd and cleanup
%s inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
postlog unix-dgram n - n - 1 postlogd
`, addr)})
	in.linkDaemons("smtpd", "cleanup")
	users := filepath.Join(in.etc, "users")
	harness.WriteFile(t, users, "pftest x\n")
	in.giveAway(users)
	in.appendMainCF(fmt.Sprintf(`myhostname = mx.test.example
mydomain = test.example
mydestination = $myhostname, localhost, test.example
mynetworks = 127.0.0.1/32
relay_domains = relay.example
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
local_recipient_maps = texthash:%s
alias_maps =
message_size_limit = 100000
`, users))
	in.start()
	waitListening(t, addr)
	return &smtpdRun{masterRun: in, addr: addr}
}

// waitListening waits until something accepts connections on addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// queuedFiles lists the files under the incoming queue.
func (in *smtpdRun) queuedFiles() []string {
	var out []string
	filepath.WalkDir(filepath.Join(in.queue, "incoming"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, d.Name())
		}
		return nil
	})
	return out
}

// smtpDialogue is a raw SMTP client for asserting exact replies.
type smtpDialogue struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialSMTP(t *testing.T, addr, localIP string) *smtpDialogue {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second}
	if localIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(localIP)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &smtpDialogue{t: t, conn: c, r: bufio.NewReader(c)}
}

// expect sends cmd (unless "") and checks the complete reply.
func (d *smtpDialogue) expect(cmd, want string) {
	d.t.Helper()
	if cmd != "" {
		fmt.Fprintf(d.conn, "%s\r\n", cmd)
	}
	var lines []string
	for {
		line, err := d.r.ReadString('\n')
		if err != nil {
			d.t.Fatalf("%q: read reply: %v (so far %q)", cmd, err, lines)
		}
		lines = append(lines, strings.TrimSuffix(line, "\r\n"))
		if len(line) < 4 || line[3] != '-' {
			break
		}
	}
	if got := strings.Join(lines, "\n"); got != want {
		d.t.Errorf("%q:\ngot  %s\nwant %s", cmd, got, want)
	}
}

// replyPrefix sends cmd and returns the first line of the reply.
func (d *smtpDialogue) replyLine(cmd string) string {
	d.t.Helper()
	fmt.Fprintf(d.conn, "%s\r\n", cmd)
	line, err := d.r.ReadString('\n')
	if err != nil {
		d.t.Fatalf("%q: %v", cmd, err)
	}
	return strings.TrimSuffix(line, "\r\n")
}

func TestSmtpdEndToEnd(t *testing.T) {
	in := startSmtpd(t)

	t.Run("dialogue", func(t *testing.T) {
		d := dialSMTP(t, in.addr, "")
		d.dialogue([]smtpStep{
			greeting,
			{"EHLO client.example", "250-mx.test.example\n250-PIPELINING\n250-SIZE 100000\n250-VRFY\n250-ETRN\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250-SMTPUTF8\n250 CHUNKING"},
			{"MAIL FROM:<sender@remote.example> SIZE=200000", "552 5.3.4 Message size exceeds fixed limit"},
			{"MAIL FROM:<sender@remote.example>", "250 2.1.0 Ok"},
			{"RCPT TO:<nosuchuser@test.example>", "550 5.1.1 <nosuchuser@test.example>: Recipient address rejected: User unknown in local recipient table"},
			{"RCPT TO:<pftest@test.example>", "250 2.1.5 Ok"},
			{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		})
		fmt.Fprintf(d.conn, "Subject: e2e\r\nMessage-ID: <e2e@client.example>\r\n\r\nbody\r\n.\r\n")
		line := d.replyLine("QUIT")
		if !strings.HasPrefix(line, "250 2.0.0 Ok: queued as ") {
			t.Fatalf("end of data: %q\nlog:\n%s", line, in.log())
		}
		d.expect("", "221 2.0.0 Bye")
		id := strings.TrimPrefix(line, "250 2.0.0 Ok: queued as ")
		res := harness.Invocation{Path: harness.Bin(t, "postcat"), ConfigDir: in.etc, Args: []string{"-q", id}, AsUser: in.asUser}.Run(t)
		for _, want := range []string{
			"sender: sender@remote.example\n",
			"recipient: pftest@test.example\n",
			"Received: from client.example (localhost [127.0.0.1])\n\tby mx.test.example (Postern) with ESMTP id " + id + "\n\tfor <pftest@test.example>; ",
			// 127.0.0.1 is an inet_interfaces address, so cleanup adds
			// the missing Date: and From: (local_header_rewrite_clients).
			"Message-ID: <e2e@client.example>\nDate: ",
			"\nFrom: sender@remote.example\n\nbody\n",
		} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("postcat -q %s lacks %q:\n%s", id, want, res)
			}
		}
		log := in.waitLog("disconnect from localhost[127.0.0.1] ehlo=1 mail=1/2 rcpt=1/2 data=1 quit=1 commands=5/7", 30*time.Second)
		assertContains(t, "log", log,
			"postfix/smtpd[", "connect from localhost[127.0.0.1]",
			"NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <nosuchuser@test.example>: Recipient address rejected: User unknown in local recipient table; from=<sender@remote.example> to=<nosuchuser@test.example> proto=ESMTP helo=<client.example>",
			id+": client=localhost[127.0.0.1]",
			"disconnect from localhost[127.0.0.1] ehlo=1 mail=1/2 rcpt=1/2 data=1 quit=1 commands=5/7",
		)
	})

	t.Run("net/smtp", func(t *testing.T) {
		before := len(in.queuedFiles())
		err := harness.SendMail(in.addr, "sender@remote.example", []string{"pftest@test.example", "someone@elsewhere.example"},
			[]byte("Subject: net/smtp\r\n\r\nhello\r\n"))
		if err != nil {
			t.Fatalf("SendMail: %v\nlog:\n%s", err, in.log())
		}
		if after := len(in.queuedFiles()); after != before+1 {
			t.Errorf("incoming has %d files, want %d", after, before+1)
		}
	})

	t.Run("go-smtp", func(t *testing.T) {
		c, err := gosmtp.Dial(in.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Hello("gosmtp.example"); err != nil {
			t.Fatal(err)
		}
		if size, ok := c.MaxMessageSize(); !ok || size != 100000 {
			t.Errorf("SIZE = %d, %v; want 100000", size, ok)
		}
		if err := c.Mail("sender@remote.example", &gosmtp.MailOptions{Size: 40}); err != nil {
			t.Fatal(err)
		}
		err = c.Rcpt("nosuchuser@test.example", nil)
		var refusal *gosmtp.SMTPError
		if !errors.As(err, &refusal) || refusal.Code != 550 || refusal.EnhancedCode != (gosmtp.EnhancedCode{5, 1, 1}) {
			t.Errorf("RCPT of an unknown user = %v, want 550 5.1.1", err)
		}
		if err := c.Rcpt("pftest@test.example", nil); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, "Subject: go-smtp\r\n\r\nhello\r\n")
		resp, err := w.CloseWithResponse()
		if err != nil {
			t.Fatalf("end of data: %v\nlog:\n%s", err, in.log())
		}
		id, ok := strings.CutPrefix(resp.StatusText, "2.0.0 Ok: queued as ")
		if !ok || id == "" {
			t.Fatalf("end of data: %q, want \"2.0.0 Ok: queued as ID\"", resp.StatusText)
		}
		if err := c.Quit(); err != nil {
			t.Errorf("QUIT: %v", err)
		}
		res := harness.Invocation{Path: harness.Bin(t, "postcat"), ConfigDir: in.etc, Args: []string{"-q", id}, AsUser: in.asUser}.Run(t)
		if !strings.Contains(res.Stdout, "recipient: pftest@test.example\n") || strings.Contains(res.Stdout, "nosuchuser") {
			t.Errorf("postcat -q %s: want only the accepted recipient:\n%s", id, res)
		}
	})

	t.Run("swaks", func(t *testing.T) {
		if _, err := os.Stat("/usr/bin/swaks"); err != nil {
			t.Skip("swaks is not installed")
		}
		host, port, _ := net.SplitHostPort(in.addr)
		out, err := exec.Command("/usr/bin/swaks", "--server", host, "--port", port, "--from", "s@remote.example",
			"--to", "pftest@test.example", "--helo", "swaks.example", "--pipeline").CombinedOutput()
		if err != nil {
			t.Fatalf("swaks: %v\n%s", err, out)
		}
		for _, want := range []string{"<-  220 mx.test.example ESMTP Postern", "<-  250 2.1.5 Ok", "<-  250 2.0.0 Ok: queued as ", "<-  221 2.0.0 Bye"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("swaks output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("oversize", func(t *testing.T) {
		before := in.queuedFiles()
		d := dialSMTP(t, in.addr, "")
		d.dialogue([]smtpStep{
			greeting,
			{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
			{"RCPT TO:<pftest@test.example>", "250 2.1.5 Ok"},
			{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		})
		fmt.Fprintf(d.conn, "%s\r\n.\r\n", strings.Repeat("x", 150000))
		d.expect("", "552 5.3.4 Error: message file too big")
		d.expect("QUIT", "221 2.0.0 Bye")
		// cleanup drops the abandoned queue file.
		deadline := time.Now().Add(30 * time.Second)
		for len(in.queuedFiles()) != len(before) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if after := in.queuedFiles(); len(after) != len(before) {
			t.Errorf("incoming after a refused message: %v, before: %v", after, before)
		}
	})

	t.Run("relay probes from outside mynetworks", func(t *testing.T) {
		d := dialSMTP(t, in.addr, "127.0.0.2")
		d.dialogue([]smtpStep{
			greeting,
			{"HELO probe.example", "250 mx.test.example"},
			{"MAIL FROM:<spammer@remote.example>", "250 2.1.0 Ok"},
		})
		probes := []struct{ rcpt, want string }{
			{"<someone@elsewhere.example>", "554 5.7.1 <someone@elsewhere.example>: Relay access denied"},
			{"<someone@ELSEWHERE.EXAMPLE.>", "554 5.7.1 <someone@ELSEWHERE.EXAMPLE.>: Relay access denied"},
			{"<user%elsewhere.example@relay.example>", "554 5.7.1 <user%elsewhere.example@relay.example>: Relay access denied"},
			{"<elsewhere.example!user@relay.example>", "554 5.7.1 <elsewhere.example!user@relay.example>: Relay access denied"},
			{"<user@elsewhere.example@relay.example>", "554 5.7.1 <user@elsewhere.example@relay.example>: Relay access denied"},
			{"<@relay.example:user@elsewhere.example>", "554 5.7.1 <user@elsewhere.example>: Relay access denied"},
			{`<"user@elsewhere.example"@relay.example>`, "554 5.7.1 <user@elsewhere.example@relay.example>: Relay access denied"},
			{"<user@[192.0.2.1]>", "554 5.7.1 <user@[192.0.2.1]>: Relay access denied"},
			{"<a@relay.example>", "250 2.1.5 Ok"},
			{"<a@SUB.Relay.Example.>", "250 2.1.5 Ok"},
			{"<pftest@test.example>", "250 2.1.5 Ok"},
			{"<pftest@[127.0.0.1]>", "250 2.1.5 Ok"},
			{"<postmaster>", "250 2.1.5 Ok"},
		}
		for _, p := range probes {
			d.expect("RCPT TO:"+p.rcpt, p.want)
		}
		d.expect("QUIT", "221 2.0.0 Bye")
		// The name depends on the resolver (no PTR gives "unknown").
		log := in.waitLog("[127.0.0.2] helo=1 mail=1 rcpt=5/13 quit=1 commands=8/16", 30*time.Second)
		reject := regexp.MustCompile(`NOQUEUE: reject: RCPT from \S+\[127\.0\.0\.2\]: 554 5\.7\.1 <someone@elsewhere\.example>: Relay access denied; from=<spammer@remote\.example> to=<someone@elsewhere\.example> proto=SMTP helo=<probe\.example>`)
		if !reject.MatchString(log) {
			t.Errorf("no NOQUEUE line for the probe:\n%s", log)
		}
	})

	t.Run("smuggling from outside mynetworks", func(t *testing.T) {
		d := dialSMTP(t, in.addr, "127.0.0.2")
		d.dialogue([]smtpStep{
			greeting,
			{"EHLO smuggler.example", "250-mx.test.example\n250-PIPELINING\n250-SIZE 100000\n250-VRFY\n250-ETRN\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250-SMTPUTF8\n250 CHUNKING"},
			{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
			{"RCPT TO:<pftest@test.example>", "250 2.1.5 Ok"},
			{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		})
		fmt.Fprintf(d.conn, "Subject: one\r\n\r\nhi\n.\r\nMAIL FROM:<evil@remote.example>\r\nRCPT TO:<pftest@test.example>\r\nDATA\r\n\r\nsmuggled\r\n.\r\n")
		line := d.replyLine("QUIT")
		if !strings.HasPrefix(line, "250 2.0.0 Ok: queued as ") {
			t.Fatalf("end of data: %q", line)
		}
		// Had <LF>.<CR><LF> ended the message, the smuggled MAIL would
		// answer here instead.
		d.expect("", "221 2.0.0 Bye")
	})

	t.Run("relay from mynetworks", func(t *testing.T) {
		d := dialSMTP(t, in.addr, "127.0.0.1")
		d.dialogue([]smtpStep{
			greeting,
			{"MAIL FROM:<s@test.example>", "250 2.1.0 Ok"},
			{"RCPT TO:<someone@elsewhere.example>", "250 2.1.5 Ok"},
			{"QUIT", "221 2.0.0 Bye"},
		})
	})
}
