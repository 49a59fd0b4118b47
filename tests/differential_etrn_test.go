// Differential test of ETRN: Postern has no fast flush service, and
// answers as a real Postfix 3.7 without one does.

package tests

import (
	"os/user"
	"testing"
)

// TestDifferentialEtrnWithoutFlushService: a site in fast_flush_domains
// (by default $relay_domains, subdomains included) gets "458 Unable to
// queue messages", any other "459 <site>: service unavailable" and the
// "reject: ETRN" warning, as from a real Postfix whose flush service is
// not running.
func TestDifferentialEtrnWithoutFlushService(t *testing.T) {
	pf := realPostfixMaster(t)
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("real Postfix needs its mail_owner account postfix: %v", err)
	}
	setup := smtpDiffSetup{mainCF: func(string) string {
		return differentialHostMainCF + "smtpd_peername_lookup = no\nlocal_recipient_maps =\nalias_maps =\nrelay_domains = relay.example\n"
	}}
	restrictionsDiff(t, pf, setup, []smtpDiffSession{{"etrn", "127.0.0.1", []string{"EHLO c.example",
		"ETRN relay.example", "ETRN @relay.example", "ETRN #sub.relay.example", "ETRN other.example", "QUIT"}}})
}
