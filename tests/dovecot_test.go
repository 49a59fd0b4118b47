// Interop test: mail Postern delivered into a Maildir and an mbox is read back through a private Dovecot over IMAP and POP3.

package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

const (
	dovecotBinary   = "/usr/sbin/dovecot"
	dovecotPassword = "interop-secret"
	mailboxOwner    = 65534 // nobody / nogroup, as in TestVirtualDeliversAsMappedUser
)

// dovecotConfig is a self-contained Dovecot configuration: everything it
// writes stays in dir, it listens on 127.0.0.1 only, and users and their
// mailboxes come from the passwd-files dir/passwd and dir/userdb.
const dovecotConfig = `base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = postern-test-%[2]d
log_path = %[1]s/dovecot.log
listen = 127.0.0.1
protocols = imap pop3
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
login_trusted_networks = 127.0.0.0/8
first_valid_uid = 1
mbox_write_locks = fcntl
pop3_uidl_format = %%08Xu%%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%%u %[1]s/userdb
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[3]d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = %[4]d
  }
  inet_listener pop3s {
    port = 0
  }
}
`

// readMailbox logs in over IMAP and over POP3 and prints, as JSON, the
// message count and the Subject and body of the last message each saw.
const readMailbox = `
import email, imaplib, json, poplib, sys
host, imap_port, pop3_port, user, password = sys.argv[1:]
def summary(raw, count):
    msg = email.message_from_bytes(raw)
    return {"count": count, "subject": msg["Subject"], "body": msg.get_payload().replace("\r\n", "\n")}
imap = imaplib.IMAP4(host, int(imap_port))
imap.login(user, password)
imap.select("INBOX", readonly=True)
ids = imap.search(None, "ALL")[1][0].split()
raw = imap.fetch(ids[-1], "(BODY.PEEK[])")[1][0][1]
imap.logout()
result = {"imap": summary(raw, len(ids))}
pop = poplib.POP3(host, int(pop3_port))
pop.user(user)
pop.pass_(password)
count = pop.stat()[0]
lines = pop.retr(count)[1]
pop.quit()
result["pop3"] = summary(b"\r\n".join(lines) + b"\r\n", count)
print(json.dumps(result))
`

// mailboxSummary is what readMailbox reports for one protocol.
type mailboxSummary struct {
	Count   int    `json:"count"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// dovecotPrerequisites returns why the test cannot run here, or "".
func dovecotPrerequisites() string {
	if os.Geteuid() != 0 {
		return "Dovecot and delivery as another uid need root"
	}
	for _, path := range []string{dovecotBinary, "/usr/lib/dovecot/imap", "/usr/lib/dovecot/pop3"} {
		if _, err := os.Stat(path); err != nil {
			return fmt.Sprintf("Dovecot with IMAP and POP3 is not installed (%v); scripts/test-deps.sh installs it", err)
		}
	}
	for _, name := range []string{"dovecot", "dovenull"} {
		if _, err := user.Lookup(name); err != nil {
			return fmt.Sprintf("Dovecot's %s user is missing: %v", name, err)
		}
	}
	if _, err := exec.LookPath("python3"); err != nil {
		return "python3 is needed for imaplib and poplib"
	}
	return ""
}

// startDovecot writes the configuration and user files into dir, starts
// Dovecot in the foreground and waits until IMAP and POP3 answer. Cleanup
// stops it and everything it started.
func startDovecot(t *testing.T, dir string, users map[string]string) (imapPort, pop3Port int) {
	t.Helper()
	return startDovecotWith(t, dir, users, "", "")
}

// startDovecotWith is startDovecot with more protocols (" lmtp") and
// configuration appended (their services).
func startDovecotWith(t *testing.T, dir string, users map[string]string, protocols, extra string) (imapPort, pop3Port int) {
	t.Helper()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	var passwd, userdb string
	for name, mail := range users {
		passwd += fmt.Sprintf("%s:{PLAIN}%s\n", name, dovecotPassword)
		userdb += fmt.Sprintf("%s::%d:%d::%s::userdb_mail=%s\n", name, mailboxOwner, mailboxOwner, dir, mail)
	}
	harness.WriteFile(t, filepath.Join(dir, "passwd"), passwd)
	harness.WriteFile(t, filepath.Join(dir, "userdb"), userdb)
	imapPort, pop3Port = harness.FreePort(t), harness.FreePort(t)
	config := filepath.Join(dir, "dovecot.conf")
	conf := fmt.Sprintf(dovecotConfig, dir, os.Getpid(), imapPort, pop3Port)
	conf = strings.Replace(conf, "protocols = imap pop3", "protocols = imap pop3"+protocols, 1)
	harness.WriteFile(t, config, conf+extra)
	dovecotLog := func() string {
		data, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
		return string(data)
	}

	cmd := exec.Command(dovecotBinary, "-F", "-c", config)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	output := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Errorf("dovecot still runs 30s after SIGTERM; killed\n%s", dovecotLog())
		}
		// Whatever Dovecot started is in its process group.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	for _, port := range []int{imapPort, pop3Port} {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		waitAccepting(t, "dovecot", addr, exited, 30*time.Second, 50*time.Millisecond, func() string {
			return output.String() + "\nlog:\n" + dovecotLog()
		})
	}
	return imapPort, pop3Port
}

// readBack runs readMailbox for user against Dovecot.
func readBack(t *testing.T, imapPort, pop3Port int, user, dovecotDir string) map[string]mailboxSummary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "python3", "-c", readMailbox, "127.0.0.1",
		strconv.Itoa(imapPort), strconv.Itoa(pop3Port), user, dovecotPassword).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dovecotDir, "dovecot.log"))
		t.Fatalf("reading %s's mailbox over IMAP and POP3: %v\n%s\ndovecot log:\n%s", user, err, out, log)
	}
	var result map[string]mailboxSummary
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	return result
}

func TestDovecotReadsPosternMailboxes(t *testing.T) {
	if reason := dovecotPrerequisites(); reason != "" {
		t.Skip(reason)
	}
	in, addr, mailBase := startVirtualAsRoot(t, mailboxOwner)

	// "From " at the start of a body line is quoted as ">From " in the mbox
	// (mboxo, as Postfix writes it, which Dovecot serves as stored); the
	// Maildir copy is never quoted.
	const subject = "Dovecot interop"
	bodies := map[string]string{
		"bob":   "Hello Bob and Carol,\nFrom Postern to Dovecot.\n",
		"carol": "Hello Bob and Carol,\n>From Postern to Dovecot.\n",
	}
	message := "From: alice@remote.example\r\nTo: bob@example.test, carol@example.test\r\nSubject: " + subject +
		"\r\n\r\nHello Bob and Carol,\r\nFrom Postern to Dovecot.\r\n"
	if err := harness.SendMail(addr, "alice@remote.example", []string{"bob@example.test", "carol@example.test"}, []byte(message)); err != nil {
		t.Fatalf("SendMail: %v\nlog:\n%s", err, in.log())
	}
	in.waitLog("to=<bob@example.test>, relay=virtual", 30*time.Second)
	in.waitLog("to=<carol@example.test>, relay=virtual", 30*time.Second)

	dovecotDir := t.TempDir()
	imapPort, pop3Port := startDovecot(t, dovecotDir, map[string]string{
		"bob":   "maildir:" + filepath.Join(mailBase, "bob"),
		"carol": "mbox:" + filepath.Join(mailBase, "carol-folders") + ":INBOX=" + filepath.Join(mailBase, "carol"),
	})
	for _, mailbox := range []string{"bob", "carol"} {
		result := readBack(t, imapPort, pop3Port, mailbox, dovecotDir)
		for _, protocol := range []string{"imap", "pop3"} {
			got, ok := result[protocol]
			want := mailboxSummary{Count: 1, Subject: subject, Body: bodies[mailbox]}
			if !ok || got != want {
				t.Errorf("%s over %s: %+v, want %+v", mailbox, protocol, got, want)
			}
		}
	}
}
