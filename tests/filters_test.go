// End-to-end tests of content inspection: header_checks and body_checks
// answered to the SMTP client with Postfix's replies and log lines.
package tests

import (
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// sendExpectError submits one message and returns the server's final
// error reply ("550 5.7.1 text"), or "" when the message was accepted.
func sendExpectError(t *testing.T, addr, from, to, body string) string {
	t.Helper()
	err := smtp.SendMail(addr, nil, from, []string{to}, []byte(body))
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
			deadline := time.Now().Add(5 * time.Second)
			for !tt.log.MatchString(in.log()) {
				if time.Now().After(deadline) {
					t.Fatalf("log does not match %s:\n%s", tt.log, in.log())
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
