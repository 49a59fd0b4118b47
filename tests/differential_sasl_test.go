// Differential test of SMTP AUTH: the same dialogues against a private real Postfix and Postern, both authenticating through one private Dovecot, comparing whole replies and the authentication log lines.

package tests

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// saslDiffSession is one connection: from a client address, with
// STARTTLS at the command "STARTTLS".
type saslDiffSession struct {
	name     string
	plain    bool // the service with smtpd_tls_auth_only = no
	commands []string
}

var saslDiffScript = []saslDiffSession{
	// Few failures per session: Dovecot delays an address's requests
	// more with each failure (auth penalty).
	{"mechanisms and failures", true, []string{
		"AUTH PLAIN " + b64("\x00alice\x00wrong"), // before EHLO
		"EHLO client.example", "AUTH", "AUTH CRAM-MD5", "AUTH ANONYMOUS",
		"AUTH PLAIN " + b64("\x00alice\x00wrong"), "AUTH PLAIN !!!", "QUIT"}},
	{"LOGIN failures", true, []string{
		"EHLO client.example", "AUTH LOGIN", b64("alice"), b64("wrong"),
		"AUTH LOGIN", "*", "QUIT"}},
	{"continued responses", true, []string{
		"EHLO client.example", "AUTH PLAIN", "not base64!",
		"AUTH LOGIN " + b64("nosuchuser"), b64("x"), "QUIT"}},
	{"success and relay", true, []string{
		"EHLO client.example", "MAIL FROM:<alice@test.example>", "RCPT TO:<friend@elsewhere.example>", "AUTH LOGIN", "RSET",
		"AUTH PLAIN", b64("\x00alice\x00alice-secret"), "AUTH PLAIN " + b64("\x00alice\x00alice-secret"),
		"MAIL FROM:<alice@test.example> AUTH=<>", "RCPT TO:<friend@elsewhere.example>", "RSET",
		"MAIL FROM:<alice@test.example> AUTH=alice@test.example", "RCPT TO:<friend@elsewhere.example>", "QUIT"}},
	{"auth only after STARTTLS", false, []string{
		"EHLO client.example", "AUTH PLAIN " + b64("\x00alice\x00alice-secret"), "STARTTLS",
		"EHLO client.example", "MAIL FROM:<bob@test.example>", "RCPT TO:<friend@elsewhere.example>", "RSET",
		"AUTH LOGIN " + b64("bob"), b64("bob-secret"), "MAIL FROM:<bob@test.example>",
		"RCPT TO:<friend@elsewhere.example>", "QUIT"}},
	{"AUTH rate limit", true, append(append([]string{"EHLO client.example"},
		strings.Split(strings.Repeat("AUTH CRAM-MD5,", 7), ",")[:7]...),
		"AUTH PLAIN "+b64("\x00alice\x00alice-secret"), "QUIT")},
	{"sender login mismatch", true, []string{
		"EHLO client.example", "MAIL FROM:<alice@test.example>", "RCPT TO:<friend@elsewhere.example>", "RSET",
		"AUTH PLAIN " + b64("\x00bob\x00bob-secret"), "MAIL FROM:<alice@test.example>", "RCPT TO:<friend@elsewhere.example>",
		"RSET", "MAIL FROM:<bob@test.example>", "RCPT TO:<friend@elsewhere.example>", "QUIT"}},
	{"SASL access", true, []string{
		"EHLO client.example", "AUTH PLAIN " + b64("\x00mallory\x00mallory-secret"), "MAIL FROM:<>",
		"RCPT TO:<friend@elsewhere.example>", "QUIT"}},
}

// saslDiffLogins are the sender login and AUTH rate settings of both
// servers.
const saslDiffLogins = `smtpd_client_auth_rate_limit = 6
smtpd_sender_login_maps = inline:{ alice@test.example=alice, bob@test.example=bob }
smtpd_sender_restrictions = reject_sender_login_mismatch
smtpd_recipient_restrictions = check_sasl_access inline:{ { mallory=REJECT account suspended } }
`

// saslDiffReplies runs a session and returns "COMMAND -> REPLY" lines;
// for EHLO only its AUTH lines are kept (the rest is compared elsewhere).
func saslDiffReplies(t *testing.T, addr, from string, session saslDiffSession) []string {
	t.Helper()
	d := dialSMTP(t, addr, from)
	out := []string{"banner -> " + d.readReply(t)[0]}
	for _, cmd := range session.commands {
		if cmd == "STARTTLS" {
			d.startTLS()
			out = append(out, "STARTTLS -> 220")
			continue
		}
		fmt.Fprintf(d.conn, "%s\r\n", cmd)
		reply := d.readReply(t)
		if strings.HasPrefix(cmd, "EHLO ") {
			var auth []string
			for _, l := range reply {
				if strings.Contains(l, "AUTH") {
					auth = append(auth, l[4:])
				}
			}
			out = append(out, cmd+" -> "+strings.Join(auth, " | "))
			continue
		}
		out = append(out, cmd+" -> "+strings.ReplaceAll(strings.Join(reply, " | "), from, "CLIENT"))
	}
	return out
}

// saslLogLines picks smtpd's SASL warnings and reject lines, without the
// prefix (time, host, program and pid). The "client=..., sasl_username=" lines are not
// compared: Postfix logs them when the queue file is made at RCPT,
// Postern at the end of the message (see pkg/smtpd's doc).
func saslLogLines(log string) []string {
	prefix := regexp.MustCompile(`^.*?smtpd\[\d+\]: `)
	client := regexp.MustCompile(`\[127\.0\.\d+\.\d+\]`)
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "smtpd[") || !(strings.Contains(line, "SASL") || strings.Contains(line, "NOQUEUE: reject:")) {
			continue
		}
		out = append(out, client.ReplaceAllString(prefix.ReplaceAllString(line, ""), "[CLIENT]"))
	}
	return out
}

func TestDifferentialSASL(t *testing.T) {
	pf := harness.RealPostfix(t)
	if why := saslPrerequisites(); why != "" {
		t.Skip(why)
	}
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("real Postfix needs its mail_owner account postfix: %v", err)
	}
	pfBase := t.TempDir()
	for _, d := range []string{filepath.Dir(pfBase), pfBase} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pfSocket := filepath.Join(pfBase, "auth")
	// No tarpit: the failures would slow the test down by seconds each.
	ours := startSASLSmtpd(t, "smtpd_banner = $myhostname ESMTP\nsmtpd_peername_lookup = no\nsmtpd_soft_error_limit = 100\n"+saslDiffLogins, pfSocket)
	realAddr, realPlain, realLog := startRealPostfixSASL(t, pf, pfBase, pfSocket)

	for i, session := range saslDiffScript {
		t.Run(session.name, func(t *testing.T) {
			ourAddr, theirAddr := ours.addr, realAddr
			if session.plain {
				ourAddr, theirAddr = ours.plainAddr, realPlain
			}
			// A client address of its own for each session and server:
			// Dovecot delays requests from an address with recent
			// failures (auth penalty), which would slow the test down.
			want := saslDiffReplies(t, theirAddr, fmt.Sprintf("127.0.1.%d", 10+i), session)
			got := saslDiffReplies(t, ourAddr, fmt.Sprintf("127.0.2.%d", 10+i), session)
			if d := harness.DiffLines(want, got); d != "" {
				t.Errorf("replies differ (-real +ours):\n%s", d)
			}
		})
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("real Postfix's log:\n%s", realLog())
		}
	})
	ours.waitLog("SASL LOGIN authentication failed", 30*time.Second)
	// The last session's reject line, written last (by each side's
	// postlogd, after the reply).
	ours.waitLog("SASL login name rejected", 30*time.Second)
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(realLog(), "SASL login name rejected") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	want := saslLogLines(realLog())
	got := saslLogLines(ours.log())
	if d := harness.DiffLines(want, got); d != "" {
		t.Errorf("log lines differ (-real +ours):\n%s", d)
	}
}

// startRealPostfixSASL starts a private real Postfix with the services of
// startSASLSmtpd, authenticating through the Dovecot socket. It returns
// the two smtpd addresses and a reader of the log.
func startRealPostfixSASL(t *testing.T, pf *harness.Postfix, base, socket string) (addr, plainAddr string, log func() string) {
	t.Helper()
	etc, spool, maillog := filepath.Join(base, "etc"), filepath.Join(base, "spool"), filepath.Join(base, "maillog")
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	addr, plainAddr = harness.FreeAddr(t), harness.FreeAddr(t)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	cert, key := writeServerCert(t, etc)
	harness.WriteFile(t, filepath.Join(etc, "main.cf"), fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %s
data_directory = %s/data
maillog_file = %s
maillog_file_prefixes = %s
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mail_owner = postfix
myhostname = mx.test.example
mydomain = test.example
mydestination = $myhostname, localhost, test.example
mynetworks = 127.0.0.1/32
local_recipient_maps =
alias_maps =
smtpd_banner = $myhostname ESMTP
smtpd_peername_lookup = no
smtpd_soft_error_limit = 100
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_tls_security_level = may
smtpd_tls_cert_file = %s
smtpd_tls_key_file = %s
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = %s
smtpd_tls_auth_only = yes
smtpd_sasl_authenticated_header = yes
%s`, spool, base, maillog, base, cert, key, socket, saslDiffLogins))
	harness.WriteFile(t, filepath.Join(etc, "master.cf"), fmt.Sprintf(`%s inet n - n - - smtpd
%s inet n - n - - smtpd
  -o syslog_name=postfix/plain
  -o smtpd_tls_auth_only=no
cleanup unix n - n - 0 cleanup
rewrite unix - - n - - trivial-rewrite
anvil unix - - n - 1 anvil
tlsmgr unix - - n 1000? 1 tlsmgr
postlog unix-dgram n - n - 1 postlogd
`, addr, plainAddr))
	postfix := pf.Path(t, "postfix")
	log = func() string { data, _ := os.ReadFile(maillog); return string(data) }
	if res := (harness.Invocation{Path: postfix, ConfigDir: etc, Args: []string{"start"}}).Run(t); res.ExitCode != 0 {
		t.Fatalf("real postfix start: %s\nlog:\n%s", res, log())
	}
	t.Cleanup(func() { stopRealPostfix(t, postfix, etc, filepath.Join(spool, "pid", "master.pid")) })
	waitListening(t, addr)
	waitListening(t, plainAddr)
	return addr, plainAddr, log
}
