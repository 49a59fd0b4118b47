// End-to-end test of the multi-call binary (postern/main.go): master and
// its daemons all run from the one executable, each by its own name.

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// TestMasterRunsMultiCallBinary installs the postern executable under the
// names master, postlogd, smtpd and cleanup (links, as make build makes
// them): `postfix start` starts master from it (master -w re-executes
// itself in the background, by its name), master starts each daemon from
// it, and a message sent to smtpd is queued by cleanup.
func TestMasterRunsMultiCallBinary(t *testing.T) {
	addr := harness.FreeAddr(t)
	in := newMasterRun(t, masterRunOptions{masterCF: fmt.Sprintf(`%s inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
postlog unix-dgram n - n - 1 postlogd
`, addr)})
	multi := harness.Bin(t, "postern")
	for _, name := range []string{"master", "postlogd", "smtpd", "cleanup"} {
		link := filepath.Join(in.daemonDir, name)
		os.Remove(link) // newMasterRun linked master and postlogd to their own binaries
		if err := os.Symlink(multi, link); err != nil {
			t.Fatal(err)
		}
	}
	in.appendMainCF("mynetworks = 127.0.0.0/8\nsmtpd_banner = $myhostname ESMTP multi\n")
	in.start()
	waitListening(t, addr)

	c := (&doorRun{masterRun: in, addr: addr}).dial()
	if banner := c.reply(30 * time.Second); !strings.HasPrefix(banner, "220 ") || !strings.HasSuffix(banner, " ESMTP multi") {
		t.Fatalf("banner %q", banner)
	}
	for _, step := range []struct{ line, want string }{
		{"HELO client.test", "250 "},
		{"MAIL FROM:<sender@client.test>", "250 2.1.0 Ok"},
		{"RCPT TO:<rcpt@client.test>", "250 2.1.5 Ok"},
		{"DATA", "354 "},
		{"Subject: multi-call\r\n\r\nhello\r\n.", "250 2.0.0 Ok: queued as "},
		{"QUIT", "221 2.0.0 Bye"},
	} {
		if got := c.send(step.line); !strings.HasPrefix(got, step.want) {
			t.Fatalf("%q: reply %q, want %q...", step.line, got, step.want)
		}
	}
	// cleanup logs message-id= once the message is queued; it may log
	// other lines before.
	log := in.waitLog(": message-id=", 30*time.Second)
	for _, want := range []string{"postfix/master[", "postfix/smtpd[", "postfix/cleanup["} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
