// End-to-end test of permit_mx_backup and permit_mx_backup_networks with
// the project's private DNS server.

package tests

import (
	"testing"

	"github.com/postern/postern/pkg/dnsx/dnstest"
)

// TestRestrictionsMXBackup: a domain whose backup MX is this host (by
// name or by address) is relayed; one where this host is the primary MX,
// one without MX records and one whose primary MX is outside
// permit_mx_backup_networks are not; a failed MX lookup turns the later
// reject into Postfix's 450 4.4.4.
func TestRestrictionsMXBackup(t *testing.T) {
	dns := dnstest.Start(t,
		"backup.example. IN MX 10 primary.example.",
		"backup.example. IN MX 20 mx.test.example.",
		"addr-backup.example. IN MX 10 primary.example.",
		"addr-backup.example. IN MX 20 ours.example.",
		"ours.example. IN A 127.0.0.1",
		"primary.example. IN A 192.0.2.1",
		"us-primary.example. IN MX 10 mx.test.example.",
		"us-primary.example. IN MX 20 primary.example.",
		"gated.example. IN MX 10 outside.example.",
		"gated.example. IN MX 20 mx.test.example.",
		"outside.example. IN A 198.51.100.1",
		"nomx.example. IN A 192.0.2.9",
	)
	dns.FailName("failing.example")
	in := startOurSMTPWith(t, smtpDiffSetup{
		mainCF: func(etc string) string {
			return restrictionsMainCF(etc, "dns_servers = "+dns.Addr+"\n"+
				"smtpd_relay_restrictions = permit_mynetworks, permit_mx_backup, reject_unauth_destination\n"+
				"permit_mx_backup_networks = 192.0.2.0/24\n")
		},
		files: map[string]string{"users": "pftest x\n"},
	})
	d := dialSMTP(t, in.addr, "127.0.0.2")
	d.dialogue([]smtpStep{
		greeting,
		{"HELO c.example", "250 mx.test.example"},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<a@backup.example>", "250 2.1.5 Ok"},
		{"RCPT TO:<a@addr-backup.example>", "250 2.1.5 Ok"},
		{"RCPT TO:<pftest@test.example>", "250 2.1.5 Ok"},
		{"RCPT TO:<a@us-primary.example>", "554 5.7.1 <a@us-primary.example>: Relay access denied"},
		{"RCPT TO:<a@nomx.example>", "554 5.7.1 <a@nomx.example>: Relay access denied"},
		{"RCPT TO:<a@gated.example>", "554 5.7.1 <a@gated.example>: Relay access denied"},
		{"RCPT TO:<a@failing.example>", "450 4.4.4 <a@failing.example>: Recipient address rejected: Unable to look up mail exchanger information: Host not found, try again"},
		{"QUIT", "221 2.0.0 Bye"},
	})
}
