// End-to-end tests of SMTP AUTH through a private Dovecot auth service: pkg/sasl against real Dovecot, smtpd with swaks, smtplib and go-smtp's client, relay after AUTH from outside mynetworks, and Dovecot stopped and restarted mid-run.

package tests

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gosasl "github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/postern/postern/pkg/sasl"
	"github.com/postern/postern/tests/internal/harness"
)

// outsideIP is a client address outside mynetworks (127.0.0.1/32).
const outsideIP = "127.0.0.2"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestSASLClientAgainstDovecot(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "auth")
	os.Chmod(filepath.Dir(socket), 0o755)
	dc := startDovecotAuth(t, socket)
	c := sasl.NewClient(socket, 10*time.Second)
	defer c.Close()
	ctx := context.Background()
	mechs, err := c.Mechanisms(ctx)
	if err != nil || len(mechs) != 2 || mechs[0] != (sasl.Mechanism{Name: "PLAIN", Properties: sasl.PropPlaintext}) || mechs[1].Name != "LOGIN" {
		t.Fatalf("mechanisms %+v, %v", mechs, err)
	}
	plain := func(user, pass string) sasl.Request {
		return sasl.Request{Mechanism: "PLAIN", Service: "smtp", LocalIP: "127.0.0.1", RemoteIP: "127.0.0.2", InitialResponse: b64("\x00" + user + "\x00" + pass), HasInitial: true}
	}
	if _, r, err := c.Begin(ctx, plain("alice", "alice-secret")); err != nil || r.Status != sasl.Success || r.User != "alice" {
		t.Errorf("right password: %+v, %v", r, err)
	}
	if _, r, err := c.Begin(ctx, plain("alice", "wrong")); err != nil || r.Status != sasl.Failure || r.User != "alice" {
		t.Errorf("wrong password: %+v, %v", r, err)
	}
	// PLAIN without an initial response, then LOGIN in two rounds.
	x, r, err := c.Begin(ctx, sasl.Request{Mechanism: "PLAIN", Service: "smtp"})
	if err != nil || r.Status != sasl.Continue {
		t.Fatalf("PLAIN: %+v, %v", r, err)
	}
	if r, err = x.Next(ctx, b64("\x00bob\x00bob-secret")); err != nil || r.Status != sasl.Success || r.User != "bob" {
		t.Errorf("PLAIN continued: %+v, %v", r, err)
	}
	x, r, err = c.Begin(ctx, sasl.Request{Mechanism: "LOGIN", Service: "smtp"})
	if err != nil || r.Challenge != b64("Username:") {
		t.Fatalf("LOGIN: %+v, %v", r, err)
	}
	if r, err = x.Next(ctx, b64("bob")); err != nil || r.Challenge != b64("Password:") {
		t.Fatalf("LOGIN user: %+v, %v", r, err)
	}
	if r, err = x.Next(ctx, b64("bob-secret")); err != nil || r.Status != sasl.Success || r.User != "bob" {
		t.Errorf("LOGIN password: %+v, %v", r, err)
	}
	// A cancelled exchange leaves the connection usable.
	x, _, err = c.Begin(ctx, sasl.Request{Mechanism: "LOGIN", Service: "smtp"})
	if err != nil {
		t.Fatal(err)
	}
	x.Cancel()
	if _, r, err := c.Begin(ctx, plain("bob", "bob-secret")); err != nil || r.Status != sasl.Success {
		t.Errorf("after cancel: %+v, %v", r, err)
	}
	// Garbage that is base64 reaches Dovecot, which refuses it.
	if _, r, err := c.Begin(ctx, sasl.Request{Mechanism: "PLAIN", Service: "smtp", InitialResponse: b64("garbage"), HasInitial: true}); err != nil || r.Status != sasl.Failure {
		t.Errorf("garbage: %+v, %v", r, err)
	}
	if log := dc.log(); strings.Contains(log, "BUG") {
		t.Errorf("Dovecot complains:\n%s", log)
	}
}

// saslRun is a Postern instance with AUTH on two smtpd services: addr
// with smtpd_tls_auth_only = yes (main.cf), plainAddr with it off.
type saslRun struct {
	*smtpdRun
	plainAddr string
	dovecot   *dovecotAuth
}

// startSASLSmtpd starts master, smtpd and cleanup with AUTH through a
// private Dovecot listening on the queue directory's private/auth.
func startSASLSmtpd(t *testing.T, extraMainCF string, extraSockets ...string) *saslRun {
	t.Helper()
	if why := saslPrerequisites(); why != "" {
		t.Skip(why)
	}
	addr, plainAddr := harness.FreeAddr(t), harness.FreeAddr(t)
	in := newMasterRun(t, masterRunOptions{masterCF: fmt.Sprintf(`# smtpd with AUTH
%s inet n - n - - smtpd
%s inet n - n - - smtpd
  -o syslog_name=postfix/plain
  -o smtpd_tls_auth_only=no
cleanup unix n - n - 0 cleanup
anvil unix - - n - 1 anvil
postlog unix-dgram n - n - 1 postlogd
`, addr, plainAddr)})
	in.linkDaemons("smtpd", "cleanup", "anvil")
	cert, key := writeServerCert(t, in.etc)
	in.giveAway(cert)
	in.giveAway(key)
	in.appendMainCF(fmt.Sprintf(`myhostname = mx.test.example
mydomain = test.example
mydestination = $myhostname, localhost, test.example
mynetworks = 127.0.0.1/32
local_recipient_maps =
alias_maps =
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_tls_security_level = may
smtpd_tls_cert_file = %s
smtpd_tls_key_file = %s
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_tls_auth_only = yes
smtpd_sasl_authenticated_header = yes
%s`, cert, key, extraMainCF))
	in.start()
	waitListening(t, addr)
	waitForPath(t, filepath.Join(in.queue, "private"), 30*time.Second)
	dc := startDovecotAuth(t, append([]string{filepath.Join(in.queue, "private", "auth")}, extraSockets...)...)
	return &saslRun{smtpdRun: &smtpdRun{masterRun: in, addr: addr}, plainAddr: plainAddr, dovecot: dc}
}

// startTLS runs STARTTLS on a raw dialogue.
func (d *smtpDialogue) startTLS() {
	d.t.Helper()
	d.expect("STARTTLS", "220 2.0.0 Ready to start TLS")
	tc := tls.Client(d.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		d.t.Fatalf("TLS handshake: %v", err)
	}
	d.conn = tc
	d.r.Reset(tc)
}

// queuedAs extracts the queue ID from "250 2.0.0 Ok: queued as ID".
var queuedAs = regexp.MustCompile(`queued as ([0-9A-Za-z]+)`)

const ehloTail = "250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250-SMTPUTF8\n250 CHUNKING"

func TestSASLSmtpdAuth(t *testing.T) {
	in := startSASLSmtpd(t, "")
	ehloHead := "250-mx.test.example\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n250-ETRN\n"

	t.Run("auth only after STARTTLS, relay only after AUTH", func(t *testing.T) {
		d := dialSMTP(t, in.addr, outsideIP)
		d.dialogue([]smtpStep{
			greeting,
			{"EHLO client.example", ehloHead + "250-STARTTLS\n" + ehloTail},
			{"AUTH PLAIN " + b64("\x00alice\x00alice-secret"), "503 5.5.1 Error: authentication not enabled"},
			{"MAIL FROM:<alice@test.example>", "250 2.1.0 Ok"},
			{"RCPT TO:<friend@elsewhere.example>", "554 5.7.1 <friend@elsewhere.example>: Relay access denied"},
			{"RSET", "250 2.0.0 Ok"},
		})
		d.startTLS()
		d.dialogue([]smtpStep{
			{"EHLO client.example", ehloHead + "250-AUTH PLAIN LOGIN\n" + ehloTail},
			{"AUTH PLAIN " + b64("\x00alice\x00wrong"), "535 5.7.8 Error: authentication failed: (reason unavailable)"},
			{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
			{b64("alice"), "334 UGFzc3dvcmQ6"},
			{b64("wrong"), "535 5.7.8 Error: authentication failed: (reason unavailable)"},
			{"AUTH CRAM-MD5", "535 5.7.8 Error: authentication failed: Invalid authentication mechanism"},
			{"AUTH PLAIN " + b64("\x00alice\x00alice-secret"), "235 2.7.0 Authentication successful"},
			{"AUTH PLAIN " + b64("\x00alice\x00alice-secret"), "503 5.5.1 Error: already authenticated"},
			{"MAIL FROM:<alice@test.example> AUTH=alice@test.example", "250 2.1.0 Ok"},
			{"RCPT TO:<friend@elsewhere.example>", "250 2.1.5 Ok"},
			{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		})
		fmt.Fprintf(d.conn, "Subject: authenticated relay\r\n\r\nhello\r\n.\r\n")
		if reply := d.readReply(t); !strings.HasPrefix(reply[0], "250 2.0.0 Ok: queued as ") {
			t.Fatalf("DATA: %q", reply)
		}
		d.expect("QUIT", "221 2.0.0 Bye")
		log := in.waitLog("sasl_username=alice, sasl_sender=alice@test.example", 30*time.Second)
		m := regexp.MustCompile(`([0-9A-F]+): client=[^ ]*\[127\.0\.0\.2\], sasl_method=PLAIN, sasl_username=alice, sasl_sender=alice@test.example`).FindStringSubmatch(log)
		if m == nil {
			t.Fatalf("no client= line with the SASL login:\n%s", log)
		}
		for _, want := range []string{
			"warning: unknown[127.0.0.2]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=alice",
			"SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice",
			"SASL CRAM-MD5 authentication failed: Invalid authentication mechanism, sasl_username=alice",
		} {
			if !strings.Contains(log, want) {
				t.Errorf("log lacks %q", want)
			}
		}
		res := in.queueCommand("postcat", "-q", m[1])
		for _, want := range []string{"\t(Authenticated sender: alice)\n", " with ESMTPSA id " + m[1], "named_attribute: sasl_method=PLAIN\n", "named_attribute: sasl_username=alice\n", "named_attribute: sasl_sender=alice@test.example\n"} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("postcat -q %s lacks %q:\n%s", m[1], want, res)
			}
		}
	})

	t.Run("auth before STARTTLS with auth_only off", func(t *testing.T) {
		d := dialSMTP(t, in.plainAddr, outsideIP)
		d.dialogue([]smtpStep{
			greeting,
			{"EHLO client.example", ehloHead + "250-STARTTLS\n250-AUTH PLAIN LOGIN\n" + ehloTail},
			{"AUTH LOGIN " + b64("bob"), "334 UGFzc3dvcmQ6"},
			{b64("bob-secret"), "235 2.7.0 Authentication successful"},
			{"MAIL FROM:<bob@test.example>", "250 2.1.0 Ok"},
			{"RCPT TO:<friend@elsewhere.example>", "250 2.1.5 Ok"},
			{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		})
		fmt.Fprintf(d.conn, "Subject: plain auth\r\n\r\nhello\r\n.\r\n")
		reply := d.replyLine("QUIT")
		m := queuedAs.FindStringSubmatch(reply)
		if m == nil {
			t.Fatalf("DATA: %s", reply)
		}
		res := in.queueCommand("postcat", "-q", m[1])
		if !strings.Contains(res.Stdout, " with ESMTPA id "+m[1]) {
			t.Errorf("postcat -q %s lacks ESMTPA:\n%s", m[1], res)
		}
		in.waitLog("postfix/plain/smtpd[", 30*time.Second)
	})

	t.Run("swaks", func(t *testing.T) {
		if _, err := os.Stat("/usr/bin/swaks"); err != nil {
			t.Skip("swaks is not installed")
		}
		host, port, _ := net.SplitHostPort(in.addr)
		for _, mech := range []string{"PLAIN", "LOGIN"} {
			for _, tc := range []struct {
				password string
				ok       bool
				want     string
			}{{"alice-secret", true, "<~  235 2.7.0 Authentication successful"}, {"nope", false, "<~* 535 5.7.8 Error: authentication failed:"}} {
				out, err := exec.Command("/usr/bin/swaks", "--server", host, "--port", port, "--local-interface", outsideIP,
					"--from", "alice@test.example", "--to", "friend@elsewhere.example", "--helo", "swaks.example",
					"--tls", "--auth", mech, "--auth-user", "alice", "--auth-password", tc.password).CombinedOutput()
				if (err == nil) != tc.ok || !strings.Contains(string(out), tc.want) {
					t.Errorf("swaks --auth %s (%s): %v\n%s", mech, tc.password, err, out)
				}
				if tc.ok && !strings.Contains(string(out), "<~  250 2.0.0 Ok: queued as ") {
					t.Errorf("swaks --auth %s: not queued:\n%s", mech, out)
				}
			}
		}
		in.waitLog("warning: unknown[127.0.0.2]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice", 30*time.Second)
	})

	t.Run("smtplib", func(t *testing.T) {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("python3 is not installed")
		}
		host, port, _ := net.SplitHostPort(in.addr)
		script := `
import smtplib, ssl, sys
host, port, src, mech, password = sys.argv[1:]
s = smtplib.SMTP(host, int(port), source_address=(src, 0), timeout=30)
s.starttls(context=ssl._create_unverified_context())
s.ehlo("smtplib.example")
try:
    if mech == "PLAIN":
        s.login("alice", password)
    else:
        s.user, s.password = "alice", password
        s.auth("LOGIN", s.auth_login)
except smtplib.SMTPAuthenticationError as e:
    print("refused", e.smtp_code, e.smtp_error.decode())
    sys.exit(0)
s.sendmail("alice@test.example", ["friend@elsewhere.example"], "Subject: smtplib\r\n\r\nhi\r\n")
print("sent")
s.quit()
`
		for _, tc := range []struct{ mech, password, want string }{
			{"PLAIN", "alice-secret", "sent"},
			{"LOGIN", "alice-secret", "sent"},
			{"PLAIN", "wrong", "refused 535 5.7.8 Error: authentication failed:"},
			{"LOGIN", "wrong", "refused 535 5.7.8 Error: authentication failed: (reason unavailable)"},
		} {
			out, err := exec.Command("python3", "-c", script, host, port, outsideIP, tc.mech, tc.password).CombinedOutput()
			if err != nil || !strings.HasPrefix(strings.TrimSpace(string(out)), tc.want) {
				t.Errorf("smtplib %s %s: %v\n%s", tc.mech, tc.password, err, out)
			}
		}
	})

	t.Run("go-smtp", func(t *testing.T) {
		conn, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(outsideIP)}, Timeout: 10 * time.Second}).Dial("tcp", in.addr)
		if err != nil {
			t.Fatal(err)
		}
		c, err := gosmtp.NewClientStartTLS(conn, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Auth(gosasl.NewPlainClient("", "bob", "wrong")); err == nil || !strings.Contains(err.Error(), "authentication failed") {
			t.Errorf("wrong password: %v", err)
		}
		if err := c.Auth(gosasl.NewPlainClient("", "bob", "bob-secret")); err != nil {
			t.Fatalf("AUTH: %v", err)
		}
		if err := c.SendMail("bob@test.example", []string{"friend@elsewhere.example"}, strings.NewReader("Subject: go-smtp\r\n\r\nhi\r\n")); err != nil {
			t.Fatalf("send: %v", err)
		}
		c.Quit()
		in.waitLog("sasl_method=PLAIN, sasl_username=bob", 30*time.Second)
	})
}

func TestSASLDovecotStoppedAndRestarted(t *testing.T) {
	in := startSASLSmtpd(t, "")
	login := "AUTH PLAIN " + b64("\x00alice\x00alice-secret")
	d := dialSMTP(t, in.plainAddr, outsideIP)
	d.dialogue([]smtpStep{
		greeting,
		{"EHLO c.example", "250-mx.test.example\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n250-ETRN\n250-STARTTLS\n250-AUTH PLAIN LOGIN\n" + ehloTail},
		{login, "235 2.7.0 Authentication successful"},
	})

	in.dovecot.stop()
	// Clients that do not authenticate are served as before.
	local := dialSMTP(t, in.plainAddr, "127.0.0.1")
	local.dialogue([]smtpStep{
		greeting,
		{"EHLO local.example", "250-mx.test.example\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n250-ETRN\n250-STARTTLS\n250-AUTH PLAIN LOGIN\n" + ehloTail},
		{"MAIL FROM:<s@test.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<friend@elsewhere.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
	})
	fmt.Fprintf(local.conn, "Subject: while Dovecot is away\r\n\r\nhi\r\n.\r\n")
	if reply := local.replyLine("QUIT"); !strings.HasPrefix(reply, "250 2.0.0 Ok: queued as ") {
		t.Errorf("DATA while Dovecot is away: %s", reply)
	}
	// AUTH gets a temporary failure.
	other2 := dialSMTP(t, in.plainAddr, outsideIP)
	other2.expect("", "220 mx.test.example ESMTP Postern")
	other2.expect(login, "454 4.7.0 Temporary authentication failure: Can't connect to authentication server")
	in.waitLog("SASL PLAIN authentication failed: Can't connect to authentication server, sasl_username=(unavailable)", 30*time.Second)
	// The authenticated session keeps its login.
	d.dialogue([]smtpStep{
		{"MAIL FROM:<alice@test.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<friend@elsewhere.example>", "250 2.1.5 Ok"},
		{"RSET", "250 2.0.0 Ok"},
	})

	in.dovecot.start()
	other2.expect(login, "235 2.7.0 Authentication successful")
	other2.expect("QUIT", "221 2.0.0 Bye")
}

// uncommentSubmission returns Debian's stock master.cf with the
// submission and submissions blocks uncommented, as an administrator
// does, their ports replaced by submission and submissions (host:port).
func uncommentSubmission(t *testing.T, submission, submissions string) string {
	t.Helper()
	stock, err := os.ReadFile("testdata/master/debian-master.cf")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	inBlock := false
	for _, line := range strings.Split(string(stock), "\n") {
		switch {
		case strings.HasPrefix(line, "#submission inet "):
			line, inBlock = submission+strings.TrimPrefix(line, "#submission"), true
		case strings.HasPrefix(line, "#submissions     inet "):
			line, inBlock = submissions+strings.TrimPrefix(line, "#submissions"), true
		case inBlock && strings.HasPrefix(line, "#  -o "):
			line = strings.TrimPrefix(line, "#")
		case inBlock && strings.HasPrefix(line, "#     "):
			// The explanation inside the block stays a comment.
		default:
			inBlock = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// TestSASLStockSubmissionServices runs the submission (587) and
// submissions (465) services of Debian's stock master.cf, uncommented and
// on high ports, chrooted and as mail_owner as in the stock file, with
// Dovecot's socket in the queue directory's private/auth.
func TestSASLStockSubmissionServices(t *testing.T) {
	if why := saslPrerequisites(); why != "" {
		t.Skip(why)
	}
	// A loopback address of its own: the stock smtp service binds port 25.
	address := fmt.Sprintf("127.0.%d.%d", os.Getpid()%250+1, time.Now().Nanosecond()%250+2)
	submission, submissions := net.JoinHostPort(address, fmt.Sprint(harness.FreePort(t))), net.JoinHostPort(address, fmt.Sprint(harness.FreePort(t)))
	masterCF := uncommentSubmission(t, submission, submissions)
	for _, want := range []string{submission + " inet n       -       y       -       -       smtpd\n  -o syslog_name=postfix/submission\n", "\n  -o smtpd_tls_wrappermode=yes\n"} {
		if !strings.Contains(masterCF, want) {
			t.Fatalf("uncommented master.cf lacks %q", want)
		}
	}
	in := newMasterRun(t, masterRunOptions{
		masterCF: masterCF,
		daemons:  []string{"pickup", "qmgr", "smtp", "local"},
		asRoot:   true,
	})
	in.linkDaemons("smtpd", "cleanup", "virtual")
	cert, key := writeServerCert(t, in.etc)
	in.appendMainCF(fmt.Sprintf(`inet_interfaces = %s
myhostname = mx.test.example
mydomain = test.example
mydestination = $myhostname, localhost, test.example
mynetworks = 127.0.0.1/32
alias_maps =
virtual_mailbox_base = /nonexistent
smtpd_tls_cert_file = %s
smtpd_tls_key_file = %s
smtpd_tls_loglevel = 1
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
`, address, cert, key))
	in.start()
	waitListening(t, submission)
	waitForPath(t, filepath.Join(in.queue, "private"), 30*time.Second)
	startDovecotAuth(t, filepath.Join(in.queue, "private", "auth"))
	login := "AUTH PLAIN " + b64("\x00alice\x00alice-secret")

	d := dialSMTP(t, submission, "")
	d.dialogue([]smtpStep{
		greeting,
		{"EHLO client.example", "250-mx.test.example\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n250-ETRN\n250-STARTTLS\n" + ehloTail},
		{"MAIL FROM:<alice@test.example>", "530 5.7.0 Must issue a STARTTLS command first"},
		{login, "530 5.7.0 Must issue a STARTTLS command first"},
	})
	d.startTLS()
	d.dialogue([]smtpStep{
		{"EHLO client.example", "250-mx.test.example\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n250-ETRN\n250-AUTH PLAIN LOGIN\n" + ehloTail},
		{"MAIL FROM:<alice@test.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<friend@elsewhere.example>", "554 5.7.1 <friend@elsewhere.example>: Recipient address rejected: Access denied"},
		{"RSET", "250 2.0.0 Ok"},
		{login, "235 2.7.0 Authentication successful"},
		{"MAIL FROM:<alice@test.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<friend@elsewhere.example>", "250 2.1.5 Ok"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
	})
	fmt.Fprintf(d.conn, "Subject: via submission\r\n\r\nhi\r\n.\r\n")
	if reply := d.readReply(t); !strings.HasPrefix(reply[0], "250 2.0.0 Ok: queued as ") {
		t.Errorf("DATA: %q", reply)
	}
	d.expect("QUIT", "221 2.0.0 Bye")

	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}, "tcp", submissions, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("submissions: %v", err)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	s := &smtpDialogue{t: t, conn: conn, r: bufio.NewReader(conn)}
	defer conn.Close()
	s.dialogue([]smtpStep{
		greeting,
		{"EHLO client.example", "250-mx.test.example\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n250-ETRN\n250-AUTH PLAIN LOGIN\n" + ehloTail},
		{"STARTTLS", "502 5.5.1 Error: command not implemented"},
		{"MAIL FROM:<bob@test.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<friend@elsewhere.example>", "554 5.7.1 <friend@elsewhere.example>: Recipient address rejected: Access denied"},
		{"RSET", "250 2.0.0 Ok"},
		{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
		{b64("bob"), "334 UGFzc3dvcmQ6"},
		{b64("bob-secret"), "235 2.7.0 Authentication successful"},
		{"MAIL FROM:<bob@test.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<friend@elsewhere.example>", "250 2.1.5 Ok"},
		{"QUIT", "221 2.0.0 Bye"},
	})

	log := in.waitLog("postfix/submissions/smtpd[", 30*time.Second)
	assertContains(t, "log", log,
		"postfix/submission/smtpd[", "client=unknown[127.0.0.1], sasl_method=PLAIN, sasl_username=alice",
		"postfix/submissions/smtpd[", "Anonymous TLS connection established from unknown[127.0.0.1]",
	)
	for _, bad := range []string{"fatal:", "panic", "throttling"} {
		if strings.Contains(log, bad) {
			t.Errorf("log has %q:\n%s", bad, log)
		}
	}
}
