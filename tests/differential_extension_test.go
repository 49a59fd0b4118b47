// Differential test of address extensions (recipient_delimiter): which
// local parts real Postfix 3.7 splits, with owner_request_special on and
// off, as smtpd's access and recipient table lookups show them.

package tests

import (
	"fmt"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/tests/internal/harness"
)

// extensionDiffTables key each entry by a local part without its
// extension, so a reply says which lookup key matched: "access" for
// check_recipient_access, "aliases" for the recipient check of a virtual
// alias domain.
var extensionDiffTables = map[string]string{
	"users": "pftest x\n",
	"access": "owner@test.example REJECT owner stripped\nlist@test.example REJECT list stripped\n" +
		"mailer@test.example REJECT mailer stripped\ndouble@test.example REJECT double stripped\n" +
		"postmaster@test.example REJECT postmaster stripped\nuser@test.example REJECT user stripped\n" +
		"owner-list@test.example REJECT owner-list whole\n",
	"aliases": "owner@valias.example pftest@test.example\nlist@valias.example pftest@test.example\n" +
		"mailer@valias.example pftest@test.example\ndouble@valias.example pftest@test.example\n" +
		"user@valias.example pftest@test.example\n",
}

// TestDifferentialAddressExtensions sends RCPT TO for local parts that
// Postfix never splits (MAILER-DAEMON, double-bounce), splits only with
// owner_request_special = no (owner-*, *-request), and ordinary
// extensions, to real Postfix and Postern with recipient_delimiter = +-,
// and compares the replies: an access table hit or a virtual alias
// table hit on the stripped local part shows a split.
func TestDifferentialAddressExtensions(t *testing.T) {
	pf := realPostfixMaster(t)
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("real Postfix needs its mail_owner account postfix: %v", err)
	}
	rcpts := []string{"owner-list@test.example", "OWNER-x@test.example", "list-request@test.example",
		"List-Request@test.example", "mailer-daemon@test.example", "double-bounce@test.example",
		"postmaster-x@test.example", "user-ext@test.example", "user+ext@test.example", "-request@test.example",
		"owner-x@valias.example", "list-request@valias.example", "mailer-daemon@valias.example",
		"double-bounce@valias.example", "user+ext@valias.example"}
	for _, special := range []string{"yes", "no"} {
		t.Run("owner_request_special="+special, func(t *testing.T) {
			setup := smtpDiffSetup{
				mainCF: func(etc string) string {
					return smtpDiffMainCF(filepath.Join(etc, "users")) + fmt.Sprintf(`recipient_delimiter = +-
owner_request_special = %s
virtual_alias_domains = valias.example
virtual_alias_maps = texthash:%s
smtpd_recipient_restrictions = check_recipient_access texthash:%s
`, special, filepath.Join(etc, "aliases"), filepath.Join(etc, "access"))
				},
				files: extensionDiffTables,
			}
			realAddr, _ := startRealPostfixSMTPWith(t, pf, setup)
			ours := startOurSMTPWith(t, setup)
			run := func(addr string) []string {
				t.Helper()
				d := dialSMTP(t, addr, "")
				d.readReply(t)
				fmt.Fprintf(d.conn, "EHLO client.example\r\n")
				d.readReply(t)
				fmt.Fprintf(d.conn, "MAIL FROM:<s@remote.example>\r\n")
				d.readReply(t)
				var out []string
				for _, rcpt := range rcpts {
					fmt.Fprintf(d.conn, "RCPT TO:<%s>\r\n", rcpt)
					reply := d.readReply(t)
					out = append(out, rcpt+" -> "+strings.Join(reply, " / "))
				}
				fmt.Fprintf(d.conn, "QUIT\r\n")
				d.readReply(t)
				return out
			}
			want, got := run(realAddr), run(ours.addr)
			if d := harness.DiffLines(want, got); d != "" {
				t.Errorf("replies differ (-real +ours):\n%s", d)
			}
			t.Logf("real Postfix:\n%s", strings.Join(want, "\n"))
		})
	}
}
