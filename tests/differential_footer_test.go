// Differential test of smtpd_reject_footer_maps against a real Postfix.

package tests

import (
	"strings"
	"testing"

	"github.com/postern/postern/tests/internal/harness"
)

const footerDiffMainCF = differentialHostMainCF + `local_recipient_maps = texthash:ETC/users
alias_maps =
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:ETC/recipients
smtpd_reject_footer = Default footer.
smtpd_reject_footer_maps = regexp:ETC/footers, regexp:ETC/more
`

var footerDiffFiles = map[string]string{
	"users":      "pftest x\n",
	"recipients": "defer@test.example DEFER_IF_PERMIT slow down\nexact@test.example REJECT exactly this\n",
	"more":       "/^554 5\\.7\\.1 <exact@test\\.example>: Recipient address rejected: exactly this$/ \\cExact footer.\n",
	"footers":    "/^554 5\\.7\\.1 .*Relay access denied/ \\c; relay footer for $$client_address\n/^450 / temporary\\nsecond line\n",
}

// footerDiffSteps is the session from 127.0.0.2 and its replies.
var footerDiffSteps = []smtpStep{
	{"", "220"},
	{"EHLO c.example", "250 8BITMIME CHUNKING DSN ENHANCEDSTATUSCODES ETRN PIPELINING SIZE 10240000 SMTPUTF8 VRFY"},
	{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
	{"RCPT TO:<x@elsewhere.example>", "554 5.7.1 <x@elsewhere.example>: Relay access denied; relay footer for 127.0.0.2"},
	{"RCPT TO:<pftest@test.example>", "250 2.1.5 Ok"},
	{"RCPT TO:<nosuch@test.example>", "550-5.1.1 <nosuch@test.example>: Recipient address rejected: User unknown in local recipient table\n550 5.1.1 Default footer."},
	{"RCPT TO:<defer@test.example>", "450-4.7.1 <defer@test.example>: Recipient address rejected: slow down\n450-4.7.1 temporary\n450 4.7.1 second line"},
	{"RCPT TO:<exact@test.example>", "554 5.7.1 <exact@test.example>: Recipient address rejected: exactly thisExact footer."},
	{"QUIT", "221 2.0.0 Bye"},
}

// TestDifferentialRejectFooterMaps: a footer looked up by the whole reply
// (the first table that has it; $$ for a macro in a regexp) replaces
// smtpd_reject_footer; other replies get smtpd_reject_footer.
func TestDifferentialRejectFooterMaps(t *testing.T) {
	setup := smtpDiffSetup{
		mainCF: func(etc string) string { return strings.ReplaceAll(footerDiffMainCF, "ETC", etc) },
		files:  footerDiffFiles,
	}
	run := func(addr string) []string {
		return stepLines(dialSMTP(t, addr, "127.0.0.2").play(sends(footerDiffSteps), restrictionsRender))
	}
	ours := startOurSMTPWith(t, setup)
	got := run(ours.addr)
	want := stepLines(footerDiffSteps)
	if d := harness.DiffLines(want, got); d != "" {
		t.Errorf("replies differ (-want +got):\n%s", d)
	}

	pf := realPostfixMaster(t)
	realAddr, _ := startRealPostfixSMTPWith(t, pf, setup)
	real := run(realAddr)
	if d := harness.DiffLines(real, got); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
}
