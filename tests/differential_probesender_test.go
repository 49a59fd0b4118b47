// Differential test of the address verification probe sender at RCPT
// TO: smtpd applies no restriction to it (its time stamp within one
// address_verify_sender_ttl of now), against a private real Postfix.

package tests

import (
	"fmt"
	"os/user"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/verify"
)

// TestDifferentialProbeSenderRecipient: with restrictions that refuse
// every recipient, RCPT TO the probe sender (address_verify_sender with
// a time stamp of now or one TTL ago, in any case) is accepted; the bare
// sender, a stamp two TTLs old and other addresses are refused, with
// the same replies and log lines as real Postfix's.
func TestDifferentialProbeSenderRecipient(t *testing.T) {
	pf := realPostfixMaster(t)
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("real Postfix needs its mail_owner account postfix: %v", err)
	}
	// A TTL of some days, chosen so that no slot boundary falls within
	// an hour of now: both servers see the same slot.
	now := time.Now()
	ttl := 10 * 24 * time.Hour
	slotPos := func() time.Duration { return time.Duration(now.Unix()%int64(ttl/time.Second)) * time.Second }
	for pos := slotPos(); pos < time.Hour || ttl-pos < time.Hour; pos = slotPos() {
		ttl += 24 * time.Hour
	}
	probe := verify.Settings{Sender: "prober@far.example", SenderTTL: ttl}
	setup := smtpDiffSetup{mainCF: func(string) string {
		return differentialHostMainCF + fmt.Sprintf(`smtpd_peername_lookup = no
local_recipient_maps =
alias_maps =
address_verify_sender = prober@far.example
address_verify_sender_ttl = %ds
smtpd_recipient_restrictions = reject
`, int(ttl/time.Second))
	}}
	script := []smtpDiffSession{{"probe sender", "127.0.0.2", []string{"EHLO c.example", "MAIL FROM:<s@remote.example>",
		"RCPT TO:<" + probe.ProbeSender(now) + ">",
		"RCPT TO:<" + strings.ToUpper(probe.ProbeSender(now.Add(-ttl))) + ">",
		"RCPT TO:<" + probe.ProbeSender(now.Add(-2*ttl)) + ">",
		"RCPT TO:<prober@far.example>",
		"RCPT TO:<pftest@test.example>",
		"QUIT"}}}
	restrictionsDiff(t, pf, setup, script)
}
