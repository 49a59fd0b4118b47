// Differential tests of mailboxes local(8) and virtual(8) may not write:
// a virtual mailbox that is not a regular file (a character device), a
// local spool mailbox the recipient does not own; the status, its text
// and the warning, against a real Postfix.

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// notRegularMailbox makes dir/name a character device (the null device's
// numbers) that anyone may write.
func notRegularMailbox(t *testing.T, dir, name string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Skipf("mknod %s: %v", path, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
}

// virtualDeliveryLines are the virtual delivery's warning and status
// text for rcpt, with the mail base replaced by BASE.
func virtualDeliveryLines(log, base, rcpt string) []string {
	re := regexp.MustCompile(`postfix/virtual\[\d+\]: (warning: .*|[0-9A-Za-z]+: to=<` + regexp.QuoteMeta(rcpt) + `>, relay=virtual, .*)$`)
	var out []string
	for _, l := range strings.Split(log, "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		line := strings.ReplaceAll(m[1], base, "BASE")
		if i := strings.Index(line, ", dsn="); i >= 0 {
			line = "to=<" + rcpt + ">" + line[i:]
		}
		out = append(out, line)
	}
	return out
}

// TestVirtualMailboxNotWritableMatchesRealPostfix: a virtual mailbox that
// is a character device bounces with 5.3.5 "delivery failed to mailbox
// PATH: mail system configuration error" and the warning "recipient R:
// destination PATH is not a regular file"; with strict_mailbox_ownership
// (the default) an mbox the recipient's uid does not own defers with
// 4.2.0 "destination PATH is not owned by recipient" and a warning; as
// with Postfix's virtual.
func TestVirtualMailboxNotWritableMatchesRealPostfix(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("delivering as another uid and making a device need root")
	}
	const owner = 65534
	tests := []struct {
		name string
		make func(t *testing.T, dir, name string)
		want []string
	}{
		{"dev", notRegularMailbox, []string{
			"warning: recipient dev@example.test: destination BASE/dev is not a regular file",
			"to=<dev@example.test>, dsn=5.3.5, status=bounced (delivery failed to mailbox BASE/dev: mail system configuration error)",
		}},
		{"rootsbox", func(t *testing.T, dir, name string) { strangerMailbox(t, dir, name, 0) }, []string{
			`warning: specify "strict_mailbox_ownership = no" to ignore mailbox ownership mismatch`,
			"to=<rootsbox@example.test>, dsn=4.2.0, status=deferred (delivery failed to mailbox BASE/rootsbox: destination BASE/rootsbox is not owned by recipient)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcpt := tt.name + "@example.test"
			mailboxes := rcpt + "=" + tt.name
			in, addr, mailBase := startVirtualAsRootWith(t, owner, mailboxes, false, "")
			tt.make(t, mailBase, tt.name)
			body := "Subject: not writable\r\n\r\nhi\r\n"
			if err := harness.SendMail(addr, "alice@remote.example", []string{rcpt}, []byte(body)); err != nil {
				t.Fatalf("SendMail: %v\nlog:\n%s", err, in.log())
			}
			in.waitLog("to=<"+rcpt+">, relay=virtual", 30*time.Second)
			got := virtualDeliveryLines(in.log(), mailBase, rcpt)
			if d := harness.DiffLines(tt.want, got); d != "" {
				t.Errorf("log lines differ (-want +got):\n%s", d)
			}

			realAddr := harness.FreeAddr(t)
			realBase := filepath.Join(harness.SharedTempDir(t), "mail")
			if err := os.Mkdir(realBase, 0o755); err != nil {
				t.Fatal(err)
			}
			// As startVirtualAsRootWith's: the recipients' uid may
			// create lock files there.
			if err := os.Chown(realBase, owner, owner); err != nil {
				t.Fatal(err)
			}
			tt.make(t, realBase, tt.name)
			real := startRealPostfixRelayWith(t, realAddr, "", func(string) string {
				return fmt.Sprintf(`virtual_mailbox_domains = example.test
virtual_mailbox_base = %s
virtual_mailbox_maps = inline:{ %s }
virtual_uid_maps = static:%d
virtual_gid_maps = static:%d
`, realBase, mailboxes, owner, owner)
			}, "virtual unix - n n - - virtual\n")
			if err := harness.SendMail(realAddr, "alice@remote.example", []string{rcpt}, []byte(body)); err != nil {
				t.Fatalf("SendMail to the real Postfix: %v\nlog:\n%s", err, real.log())
			}
			real.waitLog(t, "to=<"+rcpt+">, relay=virtual", 60*time.Second)
			if d := harness.DiffLines(virtualDeliveryLines(real.log(), realBase, rcpt), got); d != "" {
				t.Errorf("log lines differ (-real +ours):\n%s", d)
			}
		})
	}
}

// strangerMailbox makes dir/name an mbox file that uid owns and anyone
// may write: a recipient other than uid can open it but does not own it.
func strangerMailbox(t *testing.T, dir, name string, uid int) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}

// localDeliveryLines are local's warnings and the status of the delivery
// to user, with the spool directory replaced by SPOOL.
func localDeliveryLines(log, spool, user string) []string {
	re := regexp.MustCompile(`postfix/local\[\d+\]: (warning: .*|[0-9A-Za-z]+: to=<` + regexp.QuoteMeta(user) + `@[^>]*>, .*)$`)
	var out []string
	for _, l := range strings.Split(log, "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil || strings.Contains(m[1], "overriding earlier entry") {
			continue
		}
		line := strings.ReplaceAll(m[1], spool, "SPOOL")
		if i := strings.Index(line, ", dsn="); i >= 0 {
			line = "to=<USER>" + line[i:]
		}
		out = append(out, line)
	}
	return out
}

// TestLocalMailboxNotOwnedMatchesRealPostfix: with strict_mailbox_ownership
// (the default), a spool mailbox the recipient may write but does not
// own is left alone and the delivery deferred with 4.2.0 "destination
// PATH is not owned by recipient" and a warning, as with Postfix's local.
func TestLocalMailboxNotOwnedMatchesRealPostfix(t *testing.T) {
	in := newRootInstall(t, "", "alice")
	alice := in.users["alice"]
	strangerMailbox(t, in.spool, alice.name, 65534)
	in.startAndWait()
	body := "Subject: not yours\r\n\r\nhi\r\n"
	if err := harness.SendMail(in.smtpAddr, "bob@remote.example", []string{alice.name + "@mx.example.test"}, []byte(body)); err != nil {
		t.Fatalf("SendMail: %v\nlog:\n%s", err, in.log())
	}
	in.waitLog("status=deferred", 30*time.Second)
	got := localDeliveryLines(in.log(), in.spool, alice.name)
	path := "SPOOL/" + alice.name
	want := []string{
		`warning: specify "strict_mailbox_ownership = no" to ignore mailbox ownership mismatch`,
		"to=<USER>, dsn=4.2.0, status=deferred (cannot update mailbox " + path + " for user " + alice.name + ". destination " + path + " is not owned by recipient)",
	}
	if d := harness.DiffLines(want, got); d != "" {
		t.Errorf("log lines differ (-want +got):\n%s", d)
	}
	if data, err := os.ReadFile(filepath.Join(in.spool, alice.name)); err != nil || len(data) != 0 {
		t.Errorf("the mailbox was written: %q, %v", data, err)
	}

	realAddr := harness.FreeAddr(t)
	realSpool := filepath.Join(harness.SharedTempDir(t), "mail")
	if err := os.Mkdir(realSpool, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(realSpool, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	strangerMailbox(t, realSpool, alice.name, 65534)
	real := startRealPostfixRelayWith(t, realAddr, "", func(string) string {
		return fmt.Sprintf("mydestination = realpf.test.example\nmail_spool_directory = %s\n", realSpool)
	}, "local unix - n n - - local\n")
	if err := harness.SendMail(realAddr, "bob@remote.example", []string{alice.name + "@realpf.test.example"}, []byte(body)); err != nil {
		t.Fatalf("SendMail to the real Postfix: %v\nlog:\n%s", err, real.log())
	}
	real.waitLog(t, "status=deferred", 60*time.Second)
	if d := harness.DiffLines(localDeliveryLines(real.log(), realSpool, alice.name), got); d != "" {
		t.Errorf("log lines differ (-real +ours):\n%s", d)
	}
}
