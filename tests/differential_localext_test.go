// Differential test of an address extension with a "/" (Postfix's
// "address with illegal extension"): local's warning, and how it then
// delivers, against a real Postfix 3.7's local(8).

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// illegalExtensionLines are local's lines from log (warnings and
// delivery statuses), sorted, with queue IDs, timings and the domain
// taken out.
func illegalExtensionLines(log, domain string) []string {
	line := regexp.MustCompile(`postfix/local\[\d+\]: (.*)$`)
	id := regexp.MustCompile(`^(warning: )?[0-9A-F]+: `)
	timing := regexp.MustCompile(`, relay=local, delay=[^,]*, delays=[^,]*`)
	var out []string
	for _, l := range strings.Split(log, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil || strings.Contains(m[1], "overriding earlier entry") {
			continue
		}
		s := id.ReplaceAllString(m[1], "${1}ID: ")
		s = timing.ReplaceAllString(s, "")
		out = append(out, strings.ReplaceAll(s, "@"+domain, "@DOMAIN"))
	}
	slices.Sort(out)
	return out
}

// waitLocalStatuses waits until log() shows n delivery statuses from
// local and returns the log.
func waitLocalStatuses(t *testing.T, log func() string, n int) string {
	t.Helper()
	status := regexp.MustCompile(`postfix/local\[\d+\]: [0-9A-F]+: to=<.*, status=`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		l := log()
		if len(status.FindAllString(l, -1)) >= n {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("local logged fewer than %d statuses:\n%s", n, l)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLocalIllegalExtensionMatchesRealPostfix: with recipient_delimiter
// "+", an extension holding a "/" is dropped by local with Postfix's
// warning "ID: address with illegal extension: LOCAL", and the address
// is delivered as its user's or alias's without the extension; an
// unknown user is named without the extension; as with Postfix's local.
func TestLocalIllegalExtensionMatchesRealPostfix(t *testing.T) {
	in := newRootInstall(t, "", "alice")
	alice := in.users["alice"].name
	aliases := "tst " + alice + "\n"
	harness.WriteFile(t, filepath.Join(in.base, "aliases"), aliases)
	in.startAndWait()
	rcpts := []string{alice + "+a/b", alice + "+plain", "tst+x/y", "nosuch+plain"}
	send := func(addr, domain string) {
		t.Helper()
		var to []string
		for _, r := range rcpts {
			to = append(to, r+"@"+domain)
		}
		if err := harness.SendMail(addr, "bob@remote.example", to, []byte("Subject: extensions\r\n\r\nhi\r\n")); err != nil {
			t.Fatalf("SendMail to %s: %v", addr, err)
		}
	}
	send(in.smtpAddr, "mx.example.test")
	got := illegalExtensionLines(waitLocalStatuses(t, in.log, len(rcpts)), "mx.example.test")
	want := []string{
		"ID: to=<" + alice + "+a/b@DOMAIN>, dsn=2.0.0, status=sent (delivered to mailbox)",
		"ID: to=<" + alice + "+plain@DOMAIN>, dsn=2.0.0, status=sent (delivered to mailbox)",
		`ID: to=<nosuch+plain@DOMAIN>, dsn=5.1.1, status=bounced (unknown user: "nosuch")`,
		"ID: to=<" + alice + "@DOMAIN>, orig_to=<tst+x/y@DOMAIN>, dsn=2.0.0, status=sent (delivered to mailbox)",
		"warning: ID: address with illegal extension: " + alice + "+a/b",
		"warning: ID: address with illegal extension: tst+x/y",
	}
	slices.Sort(want)
	if d := harness.DiffLines(want, got); d != "" {
		t.Errorf("log lines differ (-want +got):\n%s", d)
	}

	realAddr := harness.FreeAddr(t)
	realBase := harness.SharedTempDir(t)
	realSpool := filepath.Join(realBase, "mail")
	if err := os.Mkdir(realSpool, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(realSpool, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	harness.WriteFile(t, filepath.Join(realBase, "aliases"), aliases)
	real := startRealPostfixRelayWith(t, realAddr, "", func(string) string {
		return fmt.Sprintf("mydestination = realpf.test.example\nmail_spool_directory = %s\nalias_maps = texthash:%s/aliases\nrecipient_delimiter = +\n", realSpool, realBase)
	}, "local unix - n n - - local\n")
	send(realAddr, "realpf.test.example")
	realLines := illegalExtensionLines(waitLocalStatuses(t, real.log, len(rcpts)), "realpf.test.example")
	if d := harness.DiffLines(realLines, got); d != "" {
		t.Errorf("log lines differ (-real +ours):\n%s", d)
	}
}
