// Differential test of the SMTP dialogue: the same command script against a private real Postfix and Postern, comparing reply codes.

package tests

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// smtpDiffMainCF is the main.cf both servers share; usersFile is the
// local_recipient_maps table, which lives in each server's own directory.
// No reverse lookups of client addresses: the replies compared do not
// depend on the client's name, and a slow resolver must not slow the test.
func smtpDiffMainCF(usersFile string) string {
	return fmt.Sprintf(`compatibility_level = 3.6
myhostname = mx.test.example
mydomain = test.example
mydestination = $myhostname, localhost, test.example
mynetworks = 127.0.0.1/32
relay_domains = relay.example
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
local_recipient_maps = texthash:%s
alias_maps =
message_size_limit = 100000
smtpd_forbid_bare_newline = normalize
smtpd_peername_lookup = no
`, usersFile)
}

// smtpDiffSession is one connection of the script: commands sent one at a
// time from client address from ("" lets the kernel choose 127.0.0.1).
type smtpDiffSession struct {
	name     string
	from     string
	commands []string
}

// smtpDiffScript covers the command-sequence and policy replies that must
// carry the same codes on both servers.
var smtpDiffScript = []smtpDiffSession{
	{"EHLO and HELO", "", []string{"EHLO client.example", "HELO", "HELO client.example", "QUIT"}},
	{"MAIL without HELO", "", []string{"MAIL FROM:<s@remote.example>", "QUIT"}},
	{"out of order", "", []string{"EHLO client.example", "RCPT TO:<pftest@test.example>", "DATA",
		"MAIL FROM:<s@remote.example>", "MAIL FROM:<t@remote.example>", "DATA", "QUIT"}},
	{"address syntax", "", []string{"EHLO client.example", "MAIL FROM:<a b@remote.example>", "MAIL FROM:s@remote.example extra",
		"MAIL FROM:<s@remote.example>", "RCPT TO:<a b@test.example>", "RCPT TO:<>", "RCPT TO:<pftest@test.example>", "QUIT"}},
	{"parameters", "", []string{"EHLO", "EHLO client.example", "VRFY", "MAIL FROM:<>", "RSET", "MAIL FROM:<s@remote.example> BODY=8BITMIME",
		"RCPT TO:<pftest@test.example> NOTIFY=NEVER", "RSET", "MAIL FROM:<s@remote.example> FOO=bar",
		"MAIL FROM:<s@remote.example> SIZE=x", "MAIL FROM:<s@remote.example> RET=HDRS ENVID=abc", "RCPT TO:<pftest@test.example> NOTIFY=BOGUS",
		"RCPT TO:<pftest@test.example> ORCPT=rfc822;pftest@test.example", "BDAT 7 LAST\r\nhello", "QUIT"}},
	{"other commands", "", []string{"HELO a.example", "HELO b.example", "ETRN", "ETRN test.example", "ETRN elsewhere.example", "EXPN pftest",
		"HELP", "STARTTLS", "AUTH PLAIN", "VRFY postmaster", "VRFY <pftest@test.example>", "MAIL FROM:<ü@remote.example>",
		"MAIL FROM:<s@remote.example> SMTPUTF8", "RCPT TO:<ü@test.example>", "RCPT TO:<pftest@TEST.EXAMPLE.>", "RCPT TO:pftest@test.example", "QUIT"}},
	{"simple commands", "", []string{"EHLO client.example", "NOOP", "RSET", "VRFY pftest@test.example", "VRFY nosuchuser@test.example",
		"XYZZY", "QUIT"}},
	// VRFY's argument is taken leniently: a control character is no
	// syntax error, two addresses are.
	{"VRFY syntax", "", []string{"EHLO client.example", "VRFY \x01a", "VRFY <\x01a@test.example>", "VRFY nosuchuser",
		"VRFY pftest", "VRFY a b", "VRFY <@r.example:pftest@test.example>", "VRFY a@bad..example", "QUIT"}},
	{"relay from outside mynetworks", "127.0.0.2", []string{"EHLO probe.example", "MAIL FROM:<spammer@remote.example>",
		"RCPT TO:<someone@elsewhere.example>", "RCPT TO:<a@relay.example>", "RCPT TO:<pftest@test.example>", "QUIT"}},
	{"unknown local user", "", []string{"EHLO client.example", "MAIL FROM:<s@remote.example>",
		"RCPT TO:<nosuchuser@test.example>", "RCPT TO:<nosuchuser@localhost>", "QUIT"}},
	{"size limit", "", []string{"EHLO client.example", "MAIL FROM:<s@remote.example> SIZE=200000",
		"MAIL FROM:<s@remote.example> SIZE=1000", "QUIT"}},
	{"message", "", []string{"EHLO client.example", "MAIL FROM:<s@remote.example>", "RCPT TO:<pftest@test.example>", "DATA",
		"Subject: differential\r\n\r\nhello\r\n.", "QUIT"}},
	// <LF>.<CR><LF> does not end the message, so the smuggled MAIL is
	// content and the next reply is the one 250 for the whole message.
	{"smuggling from outside mynetworks", "127.0.0.2", []string{"EHLO smuggler.example", "MAIL FROM:<s@remote.example>",
		"RCPT TO:<pftest@test.example>", "DATA",
		"Subject: one\r\n\r\nhi\n.\r\nMAIL FROM:<evil@remote.example>\r\nRCPT TO:<pftest@test.example>\r\nDATA\r\n\r\nsmuggled\r\n.",
		"QUIT"}},
}

// smtpDiffEHLOIgnored are keywords only one side may announce: STARTTLS
// and AUTH depend on TLS/SASL set-up neither server has here, XCLIENT and
// XFORWARD on authorization lists neither grants.
var smtpDiffEHLOIgnored = map[string]bool{"STARTTLS": true, "AUTH": true, "XCLIENT": true, "XFORWARD": true}

func TestDifferentialSMTPDialogue(t *testing.T) {
	pf := realPostfixMaster(t)
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("real Postfix needs its mail_owner account postfix: %v", err)
	}
	realAddr := startRealPostfixSMTP(t, pf)
	ours := startOurSMTP(t)

	for _, session := range smtpDiffScript {
		t.Run(session.name, func(t *testing.T) {
			want := smtpDiffReplies(t, realAddr, session)
			got := smtpDiffReplies(t, ours.addr, session)
			if d := harness.DiffLines(want, got); d != "" {
				t.Errorf("reply codes differ (-real +ours):\n%s", d)
			}
		})
	}
}

// smtpDiffReplies runs a session and renders each reply as
// "COMMAND -> CODE ENHANCED" (EHLO: the sorted keyword set).
func smtpDiffReplies(t *testing.T, addr string, session smtpDiffSession) []string {
	t.Helper()
	d := dialSMTP(t, addr, session.from)
	return stepLines(d.play(append([]string{""}, session.commands...), smtpDiffRender))
}

// smtpDiffRender renders a reply by its codes, EHLO's by its keywords.
func smtpDiffRender(line string, reply []string) string {
	if strings.HasPrefix(line, "EHLO ") && strings.HasPrefix(reply[0], "250") {
		return "250 " + strings.Join(smtpDiffKeywords(reply[1:]), " ")
	}
	return smtpDiffCodes(reply)
}

// readReply reads one complete (possibly multi-line) reply.
func (d *smtpDialogue) readReply(t *testing.T) []string {
	t.Helper()
	var lines []string
	for {
		line, err := d.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read reply: %v (so far %q)", err, lines)
		}
		lines = append(lines, strings.TrimSuffix(line, "\r\n"))
		if len(line) < 4 || line[3] != '-' {
			return lines
		}
	}
}

var enhancedStatus = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}\b`)

// smtpDiffCodes is a reply's code and enhanced status code, if any.
func smtpDiffCodes(reply []string) string {
	last := reply[len(reply)-1]
	if len(last) < 3 {
		return last
	}
	code := last[:3]
	if m := enhancedStatus.FindString(strings.TrimLeft(last[3:], " -")); m != "" {
		return code + " " + m
	}
	return code
}

// smtpDiffKeywords is the sorted set of EHLO keywords with their
// parameters, minus smtpDiffEHLOIgnored.
func smtpDiffKeywords(lines []string) []string {
	var kws []string
	for _, l := range lines {
		if len(l) < 4 {
			continue
		}
		kw := l[4:]
		name, _, _ := strings.Cut(kw, " ")
		if smtpDiffEHLOIgnored[strings.ToUpper(name)] {
			continue
		}
		kws = append(kws, kw)
	}
	sort.Strings(kws)
	return kws
}

// smtpDiffSetup is the configuration both servers of a differential test
// get: main.cf lines (given the configuration directory, where files
// are written).
type smtpDiffSetup struct {
	mainCF func(etc string) string
	files  map[string]string
	// masterCF holds extra master.cf lines for both (anvil, tlsmgr).
	masterCF string
	// smtpdProcessLimit is the smtpd service's master.cf process limit
	// for both ("-", the default, when empty).
	smtpdProcessLimit string
}

// smtpdLimit is the master.cf process limit column of the smtpd service.
func (s smtpDiffSetup) smtpdLimit() string {
	if s.smtpdProcessLimit == "" {
		return "-"
	}
	return s.smtpdProcessLimit
}

// smtpDiffDefault is smtpDiffMainCF with its users table.
var smtpDiffDefault = smtpDiffSetup{
	mainCF: func(etc string) string { return smtpDiffMainCF(filepath.Join(etc, "users")) },
	files:  map[string]string{"users": "pftest x\n"},
}

// startOurSMTP starts Postern's smtpd and cleanup under master with
// smtpDiffMainCF.
func startOurSMTP(t *testing.T) *smtpdRun {
	return startOurSMTPWith(t, smtpDiffDefault)
}

// startOurSMTPWith starts Postern's smtpd and cleanup under master with
// the setup's main.cf and files.
func startOurSMTPWith(t *testing.T, setup smtpDiffSetup) *smtpdRun {
	t.Helper()
	addr := harness.FreeAddr(t)
	in := newMasterRun(t, masterRunOptions{masterCF: fmt.Sprintf(`# smtpd and cleanup
%s inet n - n - %s smtpd
cleanup unix n - n - 0 cleanup
postlog unix-dgram n - n - 1 postlogd
%s`, addr, setup.smtpdLimit(), setup.masterCF)})
	in.linkDaemons("smtpd", "cleanup", "anvil")
	for name, content := range setup.files {
		path := filepath.Join(in.etc, name)
		harness.WriteFile(t, path, content)
		in.giveAway(path)
	}
	in.appendMainCF(setup.mainCF(in.etc))
	in.start()
	waitListening(t, addr)
	return &smtpdRun{masterRun: in, addr: addr}
}

// realPostfixMaster is the real Postfix for a test that runs its
// master, which needs root: the test skips without either.
func realPostfixMaster(t *testing.T) *harness.Postfix {
	t.Helper()
	pf := harness.RealPostfix(t)
	if os.Geteuid() != 0 {
		t.Skip("real Postfix's master runs only as root")
	}
	return pf
}

// startRealPostfixSMTP starts a private real Postfix (own configuration,
// queue and data directories, smtpd on a free port) and stops it when the
// test ends. It returns smtpd's address.
func startRealPostfixSMTP(t *testing.T, pf *harness.Postfix) string {
	addr, _ := startRealPostfixSMTPWith(t, pf, smtpDiffDefault)
	return addr
}

// waitLogLines waits up to 30 seconds until lines finds at least n
// lines in the log file at path, and returns what it found last.
func waitLogLines(path string, n int, lines func(log string) []string) []string {
	var found []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		data, _ := os.ReadFile(path)
		if found = lines(string(data)); len(found) >= n {
			break
		}
	}
	return found
}

// startRealPostfixSMTPWith is startRealPostfixSMTP with the setup's
// main.cf and files; it also returns the path of the log, which it shows
// when the test fails.
func startRealPostfixSMTPWith(t *testing.T, pf *harness.Postfix, setup smtpDiffSetup) (string, string) {
	t.Helper()
	// The postfix account must reach the queue directory.
	base := harness.SharedTempDir(t)
	etc, spool, maillog := filepath.Join(base, "etc"), filepath.Join(base, "spool"), filepath.Join(base, "maillog")
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := harness.FreeAddr(t)
	for name, content := range setup.files {
		harness.WriteFile(t, filepath.Join(etc, name), content)
	}
	harness.WriteFile(t, filepath.Join(etc, "main.cf"), fmt.Sprintf(`queue_directory = %s
data_directory = %s/data
maillog_file = %s
maillog_file_prefixes = %s
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mail_owner = postfix
%s`, spool, base, maillog, base, setup.mainCF(etc)))
	// smtpd needs trivial-rewrite for address classes and anvil for its
	// connection limits; no qmgr, so accepted mail stays in incoming/.
	harness.WriteFile(t, filepath.Join(etc, "master.cf"), fmt.Sprintf(`%s inet n - n - %s smtpd
cleanup unix n - n - 0 cleanup
rewrite unix - - n - - trivial-rewrite
anvil unix - - n - 1 anvil
postlog unix-dgram n - n - 1 postlogd
%s`, addr, setup.smtpdLimit(), setup.masterCF))
	postfix := pf.Path(t, "postfix")
	logOf := func() string { data, _ := os.ReadFile(maillog); return string(data) }
	if res := (harness.Invocation{Path: postfix, ConfigDir: etc, Args: []string{"start"}}).Run(t); res.ExitCode != 0 {
		t.Fatalf("real postfix start: %s\nlog:\n%s", res, logOf())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("real Postfix's log:\n%s", logOf())
		}
		stopRealPostfix(t, postfix, etc, filepath.Join(spool, "pid", "master.pid"))
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			// A greeting proves smtpd itself, not just master's socket, works.
			c.SetDeadline(time.Now().Add(30 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(line, "220 ") {
				// smtpd logs the end of this probe after telling anvil:
				// once it is there, the probe counts against no limit
				// of the test's own sessions from 127.0.0.1.
				for end := time.Now().Add(30 * time.Second); !strings.Contains(logOf(), "disconnect from "); time.Sleep(50 * time.Millisecond) {
					if time.Now().After(end) {
						t.Fatalf("real Postfix did not log the end of the probe session:\n%s", logOf())
					}
				}
				return addr, maillog
			}
			t.Fatalf("real Postfix greeting %q, %v\nlog:\n%s", line, rerr, logOf())
		}
		if time.Now().After(deadline) {
			t.Fatalf("real Postfix does not listen on %s: %v\nlog:\n%s", addr, err, logOf())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopRealPostfix runs `postfix stop` and waits for master to exit,
// killing its process group when it does not within a few seconds.
func stopRealPostfix(t *testing.T, postfix, etc, pidFile string) {
	pid, pidErr := readMasterPID(pidFile)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, postfix, "-c", etc, "stop").CombinedOutput(); err != nil {
		t.Logf("real postfix stop: %v\n%s", err, out)
	}
	if pidErr != nil {
		return
	}
	if !daemonGone(pid, 30*time.Second) {
		syscall.Kill(-pid, syscall.SIGKILL)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	// master's children leave with it; wait for its process group to empty.
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(-pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if syscall.Kill(-pid, 0) == nil {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
}
