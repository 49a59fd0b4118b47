// Interop test: Postern's lmtp client delivers into a private Dovecot's
// LMTP service over a UNIX socket in the queue directory and over TCP;
// the message is read back over IMAP and POP3, an unknown user bounces
// per recipient.

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

func TestLMTPToDovecot(t *testing.T) {
	if reason := dovecotPrerequisites(); reason != "" {
		t.Skip(reason)
	}
	if _, err := os.Stat("/usr/lib/dovecot/lmtp"); err != nil {
		t.Skip("Dovecot's LMTP server is not installed (dovecot-lmtpd); scripts/test-deps.sh installs it")
	}
	in := newDelivery(t, "")
	if err := os.Symlink(harness.Bin(t, "lmtp"), filepath.Join(in.daemonDir, "lmtp")); err != nil {
		t.Fatal(err)
	}
	master, err := os.ReadFile(filepath.Join(in.etc, "master.cf"))
	if err != nil {
		t.Fatal(err)
	}
	in.writeMasterCF(string(master) + "lmtp unix - - n - - lmtp\n")
	lmtpPort := harness.FreePort(t)
	transport := in.writeMap("transport", fmt.Sprintf("inet.example lmtp:inet:127.0.0.1:%d\n", lmtpPort))
	in.appendMainCF(`virtual_mailbox_domains = mbox.example
virtual_transport = lmtp:unix:private/dovecot-lmtp
smtpd_reject_unlisted_recipient = no
transport_maps = ` + transport + "\n")
	in.run()

	dovecotDir := t.TempDir()
	users := map[string]string{}
	for _, u := range []string{"alice@mbox.example", "carol@inet.example"} {
		dir := filepath.Join(dovecotDir, "mail-"+u)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, mailboxOwner, mailboxOwner); err != nil {
			t.Fatal(err)
		}
		users[u] = "maildir:" + dir
	}
	socket := filepath.Join(in.queue, "private", "dovecot-lmtp")
	imapPort, pop3Port := startDovecotWith(t, dovecotDir, users, " lmtp", fmt.Sprintf(`
service lmtp {
  unix_listener %s {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = %d
  }
}
`, socket, lmtpPort))

	in.send("s@remote.example", []string{"alice@mbox.example", "nobody@mbox.example", "carol@inet.example"},
		"From: s@remote.example\r\nSubject: over LMTP\r\n\r\nHello Dovecot.\r\n")
	log := in.waitLogCount("status=sent (250 2.0.0 <", 2, 30*time.Second)
	log = in.waitLogCount("to=<nobody@mbox.example>", 1, 30*time.Second)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`to=<alice@mbox\.example>, relay=\S+\[private/dovecot-lmtp\], delay=\S+, delays=\S+, dsn=2\.0\.0, status=sent \(250 2\.0\.0 <alice@mbox\.example> \S+ Saved\)`),
		regexp.MustCompile(`to=<nobody@mbox\.example>, relay=\S+\[private/dovecot-lmtp\], delay=\S+, delays=\S+, dsn=5\.1\.1, status=bounced \(host \S+\[private/dovecot-lmtp\] said: 550 5\.1\.1 <nobody@mbox\.example> User doesn't exist: nobody@mbox\.example \(in reply to RCPT TO command\)\)`),
		regexp.MustCompile(fmt.Sprintf(`to=<carol@inet\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, delay=\S+, delays=\S+, dsn=2\.0\.0, status=sent \(250 2\.0\.0 <carol@inet\.example> \S+ Saved\)`, lmtpPort)),
	} {
		if !want.MatchString(log) {
			t.Errorf("log does not match %s:\n%s", want, log)
		}
	}
	for _, u := range []string{"alice@mbox.example", "carol@inet.example"} {
		result := readBack(t, imapPort, pop3Port, u, dovecotDir)
		for _, protocol := range []string{"imap", "pop3"} {
			want := mailboxSummary{Count: 1, Subject: "over LMTP", Body: "Hello Dovecot.\n"}
			if got := result[protocol]; got != want {
				t.Errorf("%s over %s: %+v, want %+v", u, protocol, got, want)
			}
		}
	}
}

// mailbox_transport = lmtp:unix:private/dovecot-lmtp, as Debian sites
// with Dovecot set it: local(8) hands every local user's mailbox delivery
// to the lmtp agent, which delivers through Dovecot's LMTP service; the
// message is read back over IMAP, and a user Dovecot does not know
// bounces alone.
func TestLMTPMailboxTransportLocalUsers(t *testing.T) {
	if reason := dovecotPrerequisites(); reason != "" {
		t.Skip(reason)
	}
	if _, err := os.Stat("/usr/lib/dovecot/lmtp"); err != nil {
		t.Skip("Dovecot's LMTP server is not installed (dovecot-lmtpd); scripts/test-deps.sh installs it")
	}
	in := newDelivery(t, "")
	in.linkDaemons("lmtp", "local")
	master, err := os.ReadFile(filepath.Join(in.etc, "master.cf"))
	if err != nil {
		t.Fatal(err)
	}
	in.writeMasterCF(string(master) + "lmtp unix - - n - - lmtp\nlocal unix - n n - - local\n")
	in.appendMainCF(`mydestination = local.example
mailbox_transport = lmtp:unix:private/dovecot-lmtp
`)
	in.run()

	dovecotDir := t.TempDir()
	dir := filepath.Join(dovecotDir, "mail-dana")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, mailboxOwner, mailboxOwner); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(in.queue, "private", "dovecot-lmtp")
	imapPort, pop3Port := startDovecotWith(t, dovecotDir, map[string]string{"dana@local.example": "maildir:" + dir}, " lmtp", fmt.Sprintf(`
service lmtp {
  unix_listener %s {
    mode = 0666
  }
}
`, socket))

	in.send("s@remote.example", []string{"dana@local.example", "nobody@local.example"},
		"From: s@remote.example\r\nSubject: local user over LMTP\r\n\r\nHello Dana.\r\n")
	log := in.waitLogCount("to=<dana@local.example>, relay=", 1, 30*time.Second)
	log = in.waitLogCount("to=<nobody@local.example>, relay=", 1, 30*time.Second)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`postfix/lmtp\[\d+\]: \w+: to=<dana@local\.example>, relay=\S+\[private/dovecot-lmtp\], delay=\S+, delays=\S+, dsn=2\.0\.0, status=sent \(250 2\.0\.0 <dana@local\.example> \S+ Saved\)`),
		regexp.MustCompile(`to=<nobody@local\.example>, relay=\S+\[private/dovecot-lmtp\], delay=\S+, delays=\S+, dsn=5\.1\.1, status=bounced \(host \S+\[private/dovecot-lmtp\] said: 550 5\.1\.1 <nobody@local\.example> User doesn't exist: nobody@local\.example \(in reply to RCPT TO command\)\)`),
	} {
		if !want.MatchString(log) {
			t.Errorf("log does not match %s:\n%s", want, log)
		}
	}
	result := readBack(t, imapPort, pop3Port, "dana@local.example", dovecotDir)
	want := mailboxSummary{Count: 1, Subject: "local user over LMTP", Body: "Hello Dana.\n"}
	if got := result["imap"]; got != want {
		t.Errorf("dana over IMAP: %+v, want %+v", got, want)
	}
}
