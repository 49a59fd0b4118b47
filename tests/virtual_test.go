// End-to-end test of virtual(8) under a root master: mail over SMTP lands in a Maildir and an mbox owned by the uid and gid from virtual_uid_maps and virtual_gid_maps.

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

func TestVirtualDeliversAsMappedUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("delivering as another uid needs root")
	}
	const owner = 65534 // nobody / nogroup
	in, addr, mailBase := startVirtualAsRoot(t, owner)

	body := "Subject: as nobody\r\n\r\nFrom the test\r\n"
	if err := harness.SendMail(addr, "alice@remote.example", []string{"bob@example.test", "carol@example.test"}, []byte(body)); err != nil {
		t.Fatalf("SendMail: %v\nlog:\n%s", err, in.log())
	}
	log := in.waitLog("to=<carol@example.test>, relay=virtual", 30*time.Second)
	in.waitLog("to=<bob@example.test>, relay=virtual", 30*time.Second)
	for _, want := range []string{"status=sent (delivered to maildir)", "status=sent (delivered to mailbox)"} {
		if !strings.Contains(in.log(), want) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
	}
	maildirFiles, _ := filepath.Glob(filepath.Join(mailBase, "bob", "new", "*"))
	if len(maildirFiles) != 1 {
		t.Fatalf("bob's Maildir holds %v", maildirFiles)
	}
	mbox := filepath.Join(mailBase, "carol")
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{
		{filepath.Join(mailBase, "bob"), os.ModeDir | 0o700},
		{filepath.Join(mailBase, "bob", "new"), os.ModeDir | 0o700},
		{maildirFiles[0], 0o600},
		{mbox, 0o600},
	} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		if sys.Uid != owner || sys.Gid != owner || st.Mode() != c.mode {
			t.Errorf("%s: %v owned by %d:%d, want %v owned by %d:%d", c.path, st.Mode(), sys.Uid, sys.Gid, c.mode, owner, owner)
		}
	}
	data, _ := os.ReadFile(mbox)
	entry := regexp.MustCompile(`^From alice@remote\.example  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n` +
		`Return-Path: <alice@remote\.example>\nX-Original-To: carol@example\.test\nDelivered-To: carol@example\.test\nReceived: from [^\n]*\n(\s[^\n]*\n)*` +
		`(.+\n)*Subject: as nobody\n(.+\n)*\n>From the test\n\n$`)
	if !entry.Match(data) {
		t.Errorf("mbox entry:\n%s", data)
	}
}

// startVirtualAsRoot starts a root master with smtpd, cleanup, qmgr and
// virtual, delivering bob@example.test to the Maildir bob/ and
// carol@example.test to the mbox carol under the returned mail base, as
// uid and gid owner. It returns the instance, its SMTP address and the
// mail base.
func startVirtualAsRoot(t *testing.T, owner int) (*masterRun, string, string) {
	t.Helper()
	return startVirtualAsRootWith(t, owner, "bob@example.test=bob/, carol@example.test=carol", false, "")
}

// startVirtualAsRootWith is startVirtualAsRoot with the mailboxes given
// as an inline: table's entries, the verify service when withVerify, and
// mainCF appended to main.cf.
func startVirtualAsRootWith(t *testing.T, owner int, mailboxes string, withVerify bool, mainCF string) (*masterRun, string, string) {
	t.Helper()
	addr := harness.FreeAddr(t)
	services, daemons := "", []string{"smtpd", "cleanup", "qmgr", "virtual"}
	if withVerify {
		services, daemons = "verify unix - - n - 1 verify\n", append(daemons, "verify")
	}
	in := newMasterRun(t, masterRunOptions{asRoot: true, masterCF: fmt.Sprintf(`%s inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
virtual unix - n n - - virtual
%s%s`, addr, services, postlogServiceLine)})
	in.linkDaemons(daemons...)
	mailBase := filepath.Join(in.base, "mail")
	if err := os.Mkdir(mailBase, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(mailBase, owner, owner); err != nil {
		t.Fatal(err)
	}
	in.appendMainCF(fmt.Sprintf(`myhostname = mx.test.example
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
virtual_mailbox_domains = example.test
virtual_mailbox_base = %s
virtual_mailbox_maps = inline:{ %s }
virtual_uid_maps = static:%d
virtual_gid_maps = static:%d
`, mailBase, mailboxes, owner, owner) + mainCF)
	in.start()
	waitListening(t, addr)
	return in, addr, mailBase
}
