// End-to-end tests of content inspection: header_checks and body_checks
// answered to the SMTP client with Postfix's replies and log lines.

package tests

import (
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// sendExpectError submits one message and returns the server's final
// error reply ("550 5.7.1 text"), or "" when the message was accepted.
func sendExpectError(t *testing.T, addr, from, to, body string) string {
	t.Helper()
	err := harness.SendMail(addr, from, []string{to}, []byte(body))
	if err == nil {
		return ""
	}
	var te *textproto.Error
	if !errors.As(err, &te) {
		t.Fatalf("SendMail: %v", err)
	}
	return fmt.Sprintf("%d %s", te.Code, te.Msg)
}

func TestFiltersHeaderBodyChecksOverSMTP(t *testing.T) {
	in := newDelivery(t, "")
	checks := filepath.Join(in.etc, "header_checks")
	harness.WriteFile(t, checks, "/^Subject: .*spam/ REJECT no spam here\n/^Subject: later/ REJECT 4.7.0 come back later\n")
	body := filepath.Join(in.etc, "body_checks")
	harness.WriteFile(t, body, "/^buy now/ REJECT\n")
	in.giveAway(checks)
	in.giveAway(body)
	in.appendMainCF("header_checks = regexp:" + checks + "\nbody_checks = regexp:" + body + "\n")
	in.run()

	tests := []struct {
		name, content, reply string
		log                  *regexp.Regexp
	}{
		{name: "header reject", content: "Subject: cheap spam\r\n\r\nhello\r\n", reply: "550 5.7.1 no spam here",
			log: regexp.MustCompile(`postfix/cleanup\[\d+\]: [0-9A-F]+: reject: header Subject: cheap spam from \S+\[127\.0\.0\.1\]; ` +
				`from=<s@remote\.example> to=<u@test\.example> proto=ESMTP helo=<localhost>: 5\.7\.1 no spam here\n`)},
		{name: "header defer", content: "Subject: later\r\n\r\nhello\r\n", reply: "451 4.7.0 come back later"},
		{name: "body reject", content: "Subject: ok\r\n\r\nbuy now\r\n", reply: "550 5.7.1 message content rejected",
			log: regexp.MustCompile(`: reject: body buy now from \S+\[127\.0\.0\.1\]; from=<s@remote\.example> to=<u@test\.example> proto=ESMTP helo=<localhost>: 5\.7\.1 message content rejected\n`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sendExpectError(t, in.addr, "s@remote.example", "u@test.example", tt.content); got != tt.reply {
				t.Fatalf("reply %q, want %q\nlog:\n%s", got, tt.reply, in.log())
			}
			if tt.log == nil {
				return
			}
			deadline := time.Now().Add(30 * time.Second)
			for !tt.log.MatchString(in.log()) {
				if time.Now().After(deadline) {
					t.Fatalf("log does not match %s:\n%s", tt.log, in.log())
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestFiltersPipeService routes a domain to a pipe(8) service whose
// command stores what it gets, bounces an unknown user (exit 67) and
// defers on exit 75.
func TestFiltersPipeService(t *testing.T) {
	in := newDelivery(t, "")
	out := filepath.Join(in.base, "pipe-out")
	if err := os.MkdirAll(out, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o777); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(in.base, "deliver.sh")
	harness.WriteFile(t, script, `#!/bin/sh
case "$2" in
bad@*) echo "no such user $2"; exit 67;;
later@*) exit 75;;
esac
{ echo "args: $*"; id -u; cat; } > `+out+`/"$2"
`)
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(harness.Bin(t, "pipe"), filepath.Join(in.daemonDir, "pipe")); err != nil {
		t.Fatal(err)
	}
	master, err := os.ReadFile(filepath.Join(in.etc, "master.cf"))
	if err != nil {
		t.Fatal(err)
	}
	in.writeMasterCF(string(master) + "store unix - n n - - pipe\n  flags=DRhu user=nobody argv=" + script + " ${sender} ${recipient} ${user} ${extension} ${nexthop} ${client_address}\n")
	transport := in.writeMap("transport", "pipe.example store:pipe.example\n")
	in.appendMainCF("transport_maps = " + transport + "\nrecipient_delimiter = +\nstore_destination_recipient_limit = 1\n")
	in.run()
	in.send("s@remote.example", []string{"User+Box@Pipe.Example", "bad@pipe.example", "later@pipe.example"}, "Subject: pipe\r\n\r\nhello pipe\r\n")
	log := in.waitLogCount("status=sent (delivered via store service)", 1, 30*time.Second)
	log = in.waitLogCount("status=bounced (user unknown. Command output: no such user bad@pipe.example)", 1, 30*time.Second)
	log = in.waitLogCount("to=<later@pipe.example>, relay=store, delay=", 1, 30*time.Second)
	if !strings.Contains(log, "dsn=4.3.0, status=deferred (temporary failure)") {
		t.Errorf("log lacks the deferral:\n%s", log)
	}
	got, err := os.ReadFile(filepath.Join(out, "user+box@pipe.example"))
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, log)
	}
	text := string(got)
	if !strings.HasPrefix(text, "args: s@remote.example user+box@pipe.example user box pipe.example 127.0.0.1\n") {
		t.Errorf("command arguments:\n%s", text)
	}
	assertContains(t, "delivered message", text, "Return-Path: <s@remote.example>\nDelivered-To: user+box@pipe.example\nReceived: ", "\nSubject: pipe\n", "\n\nhello pipe\n")
	if nobody, err := user.Lookup("nobody"); err == nil && os.Geteuid() == 0 {
		if lines := strings.Split(text, "\n"); len(lines) < 2 || lines[1] == "0" {
			t.Errorf("command ran as uid %q (nobody is %s)", lines[1], nobody.Uid)
		}
	}
}
