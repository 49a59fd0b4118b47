// Differential test of a virtual mailbox that is not a regular file (a
// character device): the status, its text and the warning, against a
// real Postfix's virtual(8).

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

// notRegularLines are the virtual delivery's warning and status text for
// the recipient, with the mail base replaced by BASE.
func notRegularLines(log, base string) []string {
	re := regexp.MustCompile(`postfix/virtual\[\d+\]: (warning: .*|[0-9A-Za-z]+: to=<dev@example\.test>, relay=virtual, .*)$`)
	var out []string
	for _, l := range strings.Split(log, "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		line := strings.ReplaceAll(m[1], base, "BASE")
		if i := strings.Index(line, ", dsn="); i >= 0 {
			line = "to=<dev@example.test>" + line[i:]
		}
		out = append(out, line)
	}
	return out
}

// TestVirtualMailboxNotRegularMatchesRealPostfix: a virtual mailbox that
// is a character device bounces with 5.3.5 "delivery failed to mailbox
// PATH: mail system configuration error" and the warning "recipient R:
// destination PATH is not a regular file", as with Postfix's virtual.
func TestVirtualMailboxNotRegularMatchesRealPostfix(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("delivering as another uid and making a device need root")
	}
	const owner = 65534
	const mailboxes = "dev@example.test=dev"
	in, addr, mailBase := startVirtualAsRootWith(t, owner, mailboxes, false, "")
	notRegularMailbox(t, mailBase, "dev")
	body := "Subject: to a device\r\n\r\nhi\r\n"
	if err := harness.SendMail(addr, "alice@remote.example", []string{"dev@example.test"}, []byte(body)); err != nil {
		t.Fatalf("SendMail: %v\nlog:\n%s", err, in.log())
	}
	in.waitLog("to=<dev@example.test>, relay=virtual", 30*time.Second)
	got := notRegularLines(in.log(), mailBase)
	want := []string{
		"warning: recipient dev@example.test: destination BASE/dev is not a regular file",
		"to=<dev@example.test>, dsn=5.3.5, status=bounced (delivery failed to mailbox BASE/dev: mail system configuration error)",
	}
	if d := harness.DiffLines(want, got); d != "" {
		t.Errorf("log lines differ (-want +got):\n%s", d)
	}

	realAddr := harness.FreeAddr(t)
	realBase := filepath.Join(harness.SharedTempDir(t), "mail")
	if err := os.Mkdir(realBase, 0o755); err != nil {
		t.Fatal(err)
	}
	notRegularMailbox(t, realBase, "dev")
	real := startRealPostfixRelayWith(t, realAddr, "", func(string) string {
		return fmt.Sprintf(`virtual_mailbox_domains = example.test
virtual_mailbox_base = %s
virtual_mailbox_maps = inline:{ %s }
virtual_uid_maps = static:%d
virtual_gid_maps = static:%d
`, realBase, mailboxes, owner, owner)
	}, "virtual unix - n n - - virtual\n")
	if err := harness.SendMail(realAddr, "alice@remote.example", []string{"dev@example.test"}, []byte(body)); err != nil {
		t.Fatalf("SendMail to the real Postfix: %v\nlog:\n%s", err, real.log())
	}
	real.waitLog(t, "to=<dev@example.test>, relay=virtual", 60*time.Second)
	if d := harness.DiffLines(notRegularLines(real.log(), realBase), got); d != "" {
		t.Errorf("log lines differ (-real +ours):\n%s", d)
	}
}
