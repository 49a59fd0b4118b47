// Tests of smtpd_sender_login_maps and the four sender login mismatch restrictions.

package policy

import (
	"strings"
	"testing"

	"github.com/postern/postern/pkg/addr"
)

func TestSenderLoginMismatch(t *testing.T) {
	logins := "alice@test.example alice\n" +
		"shared@test.example alice, bob\n" +
		"@team.example carol\n" +
		"postmaster admin\n"
	type who struct{ sender, user string }
	cases := []struct {
		restriction string
		want        map[who]string // "" means no decision
	}{
		{"reject_sender_login_mismatch", map[who]string{
			{"alice@test.example", "alice"}:      "",
			{"ALICE@Test.Example", "Alice"}:      "",
			{"alice+list@test.example", "alice"}: "",
			{"alice@test.example", "bob"}:        "553 5.7.1 <alice@test.example>: Sender address rejected: not owned by user bob",
			{"shared@test.example", "bob"}:       "",
			{"anyone@team.example", "carol"}:     "",
			{"anyone@team.example", "alice"}:     "553 5.7.1 <anyone@team.example>: Sender address rejected: not owned by user alice",
			{"postmaster@test.example", "admin"}: "",
			{"stranger@remote.example", "bob"}:   "553 5.7.1 <stranger@remote.example>: Sender address rejected: not owned by user bob",
			{"alice@test.example", ""}:           "553 5.7.1 <alice@test.example>: Sender address rejected: not logged in",
			{"stranger@remote.example", ""}:      "",
			{"", "bob"}:                          "",
		}},
		{"reject_authenticated_sender_login_mismatch", map[who]string{
			{"alice@test.example", "bob"}:      "553 5.7.1 <alice@test.example>: Sender address rejected: not owned by user bob",
			{"stranger@remote.example", "bob"}: "553 5.7.1 <stranger@remote.example>: Sender address rejected: not owned by user bob",
			{"alice@test.example", ""}:         "",
		}},
		{"reject_known_sender_login_mismatch", map[who]string{
			{"alice@test.example", "bob"}:      "553 5.7.1 <alice@test.example>: Sender address rejected: not owned by user bob",
			{"stranger@remote.example", "bob"}: "",
			{"alice@test.example", ""}:         "553 5.7.1 <alice@test.example>: Sender address rejected: not logged in",
		}},
		{"reject_unauthenticated_sender_login_mismatch", map[who]string{
			{"alice@test.example", "bob"}:     "",
			{"alice@test.example", ""}:        "553 5.7.1 <alice@test.example>: Sender address rejected: not logged in",
			{"stranger@remote.example", ""}:   "",
			{"anyone@team.example", ""}:       "553 5.7.1 <anyone@team.example>: Sender address rejected: not logged in",
			{"alice+x@test.example", "alice"}: "",
		}},
	}
	for _, tc := range cases {
		c, warnings := testChecker(t, "recipient_delimiter = +\nsmtpd_sender_login_maps = texthash:DIR/logins\n"+
			"smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"+
			"smtpd_sender_restrictions = "+tc.restriction+"\n", map[string]string{"logins": logins})
		if len(warnings) > 0 {
			t.Fatalf("warnings: %q", warnings)
		}
		for w, want := range tc.want {
			s := outsider()
			s.SASLUser = w.user
			s.Sender = addr.Address{}
			if w.sender != "" {
				local, domain, _ := strings.Cut(w.sender, "@")
				s.Sender = addr.Address{Local: local, Domain: domain}
			}
			got := c.CheckSender(&s).Reply()
			if got != want {
				t.Errorf("%s, MAIL FROM:<%s> as %q: %q, want %q", tc.restriction, w.sender, w.user, got, want)
			}
		}
	}
}

func TestSenderLoginInRecipientRestrictionsAndNoMaps(t *testing.T) {
	c, _ := testChecker(t, "smtpd_sender_login_maps = inline:{ alice@test.example=alice }\n"+
		"smtpd_recipient_restrictions = reject_sender_login_mismatch, permit_sasl_authenticated, reject\n", nil)
	s := outsider()
	s.Sender, s.SASLUser = addr.Address{Local: "alice", Domain: "test.example"}, "bob"
	if got := rcptReply(t, c, s, "<friend@elsewhere.example>"); got != "553 5.7.1 <alice@test.example>: Sender address rejected: not owned by user bob" {
		t.Errorf("bob as alice: %q", got)
	}
	s.SASLUser = "alice"
	if got := rcptReply(t, c, s, "<friend@elsewhere.example>"); got != "250" {
		t.Errorf("alice: %q", got)
	}
	// Without smtpd_sender_login_maps the restrictions decide nothing.
	c, _ = testChecker(t, "smtpd_sender_restrictions = reject_sender_login_mismatch\n", nil)
	s.SASLUser = "bob"
	if d := c.CheckSender(&s); d.Reply() != "" {
		t.Errorf("no maps: %q", d.Reply())
	}
}
