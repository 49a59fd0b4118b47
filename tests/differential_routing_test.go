// Differential tests of the routing parameters that show in the SMTP
// dialogue: strict_rfc821_envelopes against a private real Postfix 3.7.

package tests

import (
	"fmt"
	"os"
	"os/user"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// TestDifferentialStrictRFC821Envelopes sends MAIL FROM and RCPT TO
// paths in and out of RFC 821 form to real Postfix and Postern, both with
// strict_rfc821_envelopes = yes, and compares the whole replies and the
// "Illegal address syntax" warnings.
func TestDifferentialStrictRFC821Envelopes(t *testing.T) {
	pf := harness.RealPostfix(t)
	if os.Geteuid() != 0 {
		t.Skip("real Postfix's master runs only as root")
	}
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("real Postfix needs its mail_owner account postfix: %v", err)
	}
	setup := smtpDiffSetup{
		mainCF: func(etc string) string {
			return smtpDiffDefault.mainCF(etc) + "strict_rfc821_envelopes = yes\n"
		},
		files: smtpDiffDefault.files,
	}
	realAddr, realLog := startRealPostfixSMTPWith(t, pf, setup)
	ours := startOurSMTPWith(t, setup)
	commands := []string{"EHLO client.example",
		"MAIL FROM:s@remote.example", "MAIL FROM:<s@remote.example> (comment)", "MAIL FROM:<s@remote.example (comment)>",
		"MAIL FROM:<Name <s@remote.example>>", "MAIL FROM:<@remote.example>", "MAIL FROM:<@relay.example:s@remote.example>",
		"RSET", "MAIL FROM:<>", "RCPT TO:pftest@test.example", "RCPT TO:<pftest@test.example (x)>", "RCPT TO:<@test.example>",
		"RCPT TO:<pftest@test.example>", "QUIT"}
	run := func(addr string) []string {
		t.Helper()
		d := dialSMTP(t, addr, "")
		d.readReply(t)
		var out []string
		for _, cmd := range commands {
			fmt.Fprintf(d.conn, "%s\r\n", cmd)
			reply := d.readReply(t)
			if strings.HasPrefix(cmd, "EHLO") {
				continue
			}
			out = append(out, cmd+" -> "+reply[len(reply)-1])
		}
		return out
	}
	want, got := run(realAddr), run(ours.addr)
	if d := harness.Diff(strings.Join(want, "\n")+"\n", strings.Join(got, "\n")+"\n"); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
	warnings := func(log string) string {
		var lines []string
		for _, line := range strings.Split(log, "\n") {
			if _, w, ok := strings.Cut(line, "warning: "); ok && strings.Contains(w, "Illegal address syntax") {
				lines = append(lines, w)
			}
		}
		return strings.Join(lines, "\n") + "\n"
	}
	realText := func() string { data, _ := os.ReadFile(realLog); return string(data) }
	// Wait for both logs to hold the session's end.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(realText(), "disconnect from"); {
		if time.Now().After(deadline) {
			t.Fatalf("real Postfix did not log the disconnect:\n%s", realText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ourText := ours.waitLog("disconnect from", 10*time.Second)
	if d := harness.Diff(warnings(realText()), warnings(ourText)); d != "" {
		t.Errorf("warnings differ (-real +ours):\n%s", d)
	}
	t.Logf("real Postfix:\n%s\n%s", strings.Join(want, "\n"), warnings(realText()))
}
