// Fuzz test of access-table actions: any table value gives a decision with a well-formed reply, never a panic.

package policy

import (
	"regexp"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/addr"
)

var wellFormedReply = regexp.MustCompile(`^(250|[45]\d\d [45]\.\d{1,3}\.\d{1,3} [^\r\n]*)$`)

func FuzzAccessAction(f *testing.F) {
	for _, v := range []string{
		"OK", "REJECT text", "DEFER_IF_PERMIT dip", "554 5.7.1 custom", "450 try later", "DUNNO",
		"PREPEND X-Header: v", "REDIRECT a@b.example", "FILTER smtp:[x]:25", "HOLD why", "DISCARD", "WARN w", "INFO i",
		"BCC b@c.example", "reject_unauth_destination", "permit_mynetworks, reject", "599 9.9.9", "4 x", "", "5",
		"check_sender_access inline:{ remote.example=REJECT nested }",
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		value = strings.NewReplacer("\n", " ", "\r", " ", "\x00", " ").Replace(value)
		c, _ := testChecker(t, "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"+
			"smtpd_recipient_restrictions = check_sender_access texthash:DIR/sender\n",
			map[string]string{"sender": "remote.example " + value + "\n"})
		s := Session{ClientAddr: "192.0.2.1", Helo: "c.example", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "s", Domain: "remote.example"}}
		got := rcptReply(t, c, s, "<a@relay.example>")
		if !wellFormedReply.MatchString(got) {
			t.Fatalf("access value %q gave reply %q", value, got)
		}
	})
}
