// stages_test.go tests the restriction stages, smtpd_delay_reject, the
// pseudo restrictions (warn_if_reject, defer_if_*, sleep), the HELO and
// address checks, access-table actions and their log lines. Texts follow
// Postfix 3.7's smtpd (the differential test in tests/ compares them with
// a running Postfix).

package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/addr"
)

// base restrictions: relay control that lets 127.0.0.1 relay.
const relayOnly = "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"

// rcpt sets the recipient and runs the RCPT stage.
func rcpt(c *Checker, s *Session, a string) string {
	s.Recipient = addr.Split(a)
	return c.CheckRecipient(s).Reply()
}

func TestDelayRejectNo(t *testing.T) {
	c, _, logs := testCheckerWith(t, relayOnly+"smtpd_delay_reject = no\n"+
		"smtpd_client_restrictions = check_client_access inline:{{127.0.0.9=REJECT go away}}\n"+
		"smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname\n"+
		"smtpd_sender_restrictions = reject_non_fqdn_sender\n", nil, Options{})
	if !c.DelayReject() == false {
		t.Fatal("DelayReject() = true with smtpd_delay_reject = no")
	}
	s := &Session{ClientAddr: "127.0.0.9", Protocol: "SMTP"}
	if got := c.CheckClient(s).Reply(); got != "554 5.7.1 <unknown[127.0.0.9]>: Client host rejected: go away" {
		t.Errorf("CheckClient = %q", got)
	}
	want := "NOQUEUE: reject: CONNECT from unknown[127.0.0.9]: 554 5.7.1 <unknown[127.0.0.9]>: Client host rejected: go away; proto=SMTP"
	if len(*logs) != 1 || (*logs)[0] != want {
		t.Errorf("log = %q, want %q", *logs, want)
	}
	s = &Session{ClientAddr: "127.0.0.2", Protocol: "SMTP"}
	for helo, want := range map[string]string{
		"bad_name!":   "501 5.5.2 <bad_name!>: Helo command rejected: Invalid name",
		"nodots":      "504 5.5.2 <nodots>: Helo command rejected: need fully-qualified hostname",
		"[1.2.3]":     "501 5.5.2 <[1.2.3]>: Helo command rejected: invalid ip address",
		"[127.0.0.2]": "",
		"ok.example.": "",
		"1.2.3.4":     "504 5.5.2 <1.2.3.4>: Helo command rejected: need fully-qualified hostname",
	} {
		s.Helo = helo
		if got := c.CheckHelo(s, "HELO").Reply(); got != want {
			t.Errorf("HELO %s = %q, want %q", helo, got, want)
		}
	}
	s.Helo = "ok.example"
	s.Mail, s.Sender = true, addr.Address{Local: "s"}
	if got := c.CheckSender(s).Reply(); got != "504 5.5.2 <s>: Sender address rejected: need fully-qualified address" {
		t.Errorf("CheckSender = %q", got)
	}
	if got := (*logs)[len(*logs)-1]; !strings.HasPrefix(got, "NOQUEUE: reject: MAIL from unknown[127.0.0.2]: 504 5.5.2 <s>:") || !strings.HasSuffix(got, "; from=<s> proto=SMTP helo=<ok.example>") {
		t.Errorf("MAIL log = %q", got)
	}
}

func TestDelayRejectYes(t *testing.T) {
	c, _, logs := testCheckerWith(t, relayOnly+
		"smtpd_client_restrictions = check_client_access inline:{{127.0.0.9=REJECT go away}}\n"+
		"smtpd_helo_restrictions = check_helo_access inline:{{dip.example=DEFER_IF_PERMIT helo later}}\n", nil, Options{})
	s := &Session{ClientAddr: "127.0.0.9", Helo: "c.example", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "s", Domain: "remote.example"}}
	if got := rcpt(c, s, "a@relay.example"); got != "554 5.7.1 <unknown[127.0.0.9]>: Client host rejected: go away" {
		t.Errorf("RCPT = %q", got)
	}
	want := "NOQUEUE: reject: RCPT from unknown[127.0.0.9]: 554 5.7.1 <unknown[127.0.0.9]>: Client host rejected: go away; from=<s@remote.example> to=<a@relay.example> proto=ESMTP helo=<c.example>"
	if (*logs)[0] != want {
		t.Errorf("log = %q\nwant %q", (*logs)[0], want)
	}
	// A defer_if_permit of the HELO stage decides a permitted recipient.
	s = &Session{ClientAddr: "127.0.0.2", Helo: "dip.example", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "s", Domain: "remote.example"}}
	if got := rcpt(c, s, "a@relay.example"); got != "450 4.7.1 <dip.example>: Helo command rejected: helo later" {
		t.Errorf("RCPT after HELO DEFER_IF_PERMIT = %q", got)
	}
	if got := rcpt(c, s, "a@elsewhere.example"); got != "554 5.7.1 <a@elsewhere.example>: Relay access denied" {
		t.Errorf("RCPT relay after HELO DEFER_IF_PERMIT = %q", got)
	}
}

func TestPseudoRestrictions(t *testing.T) {
	var slept time.Duration
	c, _, logs := testCheckerWith(t, relayOnly+
		"smtpd_restriction_classes = strict\nstrict = reject_non_fqdn_recipient, reject\n"+
		"smtpd_recipient_restrictions = sleep 2, check_recipient_access inline:{{w@relay.example=warned}, {dr@relay.example=dir}, {st@relay.example=strict}, {df@relay.example=defer}}\n"+
		"warned = warn_if_reject reject, permit\ndir = defer_if_reject, reject\n", nil,
		Options{Sleep: func(d time.Duration) { slept += d }})
	s := &Session{ClientAddr: "127.0.0.2", Helo: "c.example", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "s", Domain: "remote.example"}}
	// The classes "warned" and "dir" are not in smtpd_restriction_classes:
	// access values may name restrictions directly.
	// Access values are actions first ("defer" is DEFER): the restrictions
	// of the same names are reached through classes.
	c2, _, _ := testCheckerWith(t, relayOnly+"smtpd_restriction_classes = df, dp\ndf = defer\ndp = defer_if_permit\n"+
		"smtpd_recipient_restrictions = check_recipient_access inline:{{w@relay.example=warn_if_reject,reject}, {dr@relay.example=defer_if_reject,reject}, {df@relay.example=df}, {dp@relay.example=dp}, {da@relay.example=defer}}\n", nil, Options{})
	tests := []struct{ rcpt, want string }{
		{"w@relay.example", ""},
		{"dr@relay.example", "450 4.7.0 <dr@relay.example>: Recipient address rejected: defer_if_reject requested"},
		{"df@relay.example", "450 4.3.2 <df@relay.example>: Recipient address rejected: Try again later"},
		{"dp@relay.example", "450 4.7.0 <dp@relay.example>: Recipient address rejected: defer_if_permit requested"},
		{"da@relay.example", "450 4.7.1 <da@relay.example>: Recipient address rejected: Access denied"},
	}
	for _, tt := range tests {
		if got := rcpt(c2, s, tt.rcpt); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.rcpt, got, tt.want)
		}
	}
	if got := rcpt(c, s, "st@relay.example"); got != "554 5.7.1 <st@relay.example>: Recipient address rejected: Access denied" {
		t.Errorf("class = %q", got)
	}
	if slept != 2*time.Second {
		t.Errorf("slept %v, want 2s", slept)
	}
	_ = logs
	// warn_if_reject logs reject_warning and lets the request pass.
	c3, _, logs3 := testCheckerWith(t, relayOnly+"smtpd_recipient_restrictions = warn_if_reject reject_non_fqdn_recipient, permit\n", nil, Options{})
	s.ClientAddr = "127.0.0.1"
	if got := rcpt(c3, s, "a@relay"); got != "" {
		t.Errorf("warn_if_reject = %q", got)
	}
	want := "NOQUEUE: reject_warning: RCPT from unknown[127.0.0.1]: 504 5.5.2 <a@relay>: Recipient address rejected: need fully-qualified address; from=<s@remote.example> to=<a@relay> proto=ESMTP helo=<c.example>"
	if len(*logs3) != 1 || (*logs3)[0] != want {
		t.Errorf("log = %q\nwant %q", *logs3, want)
	}
}

func TestSoftBounceAndCodes(t *testing.T) {
	c, _, _ := testCheckerWith(t, relayOnly+"soft_bounce = yes\nreject_code = 550\n"+
		"smtpd_recipient_restrictions = check_recipient_access inline:{{r@relay.example=reject}, {n@relay.example=550 5.1.8 nope}}\n", nil, Options{})
	s := &Session{ClientAddr: "127.0.0.2", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "s", Domain: "remote.example"}}
	if got := rcpt(c, s, "r@relay.example"); got != "454 4.7.1 <r@relay.example>: Recipient address rejected: Access denied" {
		t.Errorf("soft_bounce reject = %q", got)
	}
	if got := rcpt(c, s, "n@relay.example"); got != "450 4.1.2 <n@relay.example>: Recipient address rejected: nope" {
		t.Errorf("soft_bounce coded = %q", got)
	}
	if got := rcpt(c, s, "x@elsewhere.example"); got != "454 4.7.1 <x@elsewhere.example>: Relay access denied" {
		t.Errorf("soft_bounce relay = %q", got)
	}
}

func TestAccessActionsLog(t *testing.T) {
	c, warnings, logs := testCheckerWith(t, relayOnly+
		"smtpd_sender_restrictions = check_sender_access inline:{{w@remote.example=WARN watch it}, {i@remote.example=INFO noted}, {h@remote.example=HOLD}, {p@remote.example=PREPEND X-Tag: yes}, {d@remote.example=DISCARD bye}, {r@remote.example=RELAY}}\n"+
		"smtpd_recipient_restrictions = reject\n", nil, Options{})
	for _, tt := range []struct{ sender, reply, log string }{
		{"w", "554 5.7.1 <a@relay.example>: Recipient address rejected: Access denied", "NOQUEUE: warn: RCPT from unknown[127.0.0.2]: watch it; from=<w@remote.example> to=<a@relay.example> proto=ESMTP helo=<c.example>"},
		{"i", "554 5.7.1 <a@relay.example>: Recipient address rejected: Access denied", "NOQUEUE: info: RCPT from unknown[127.0.0.2]: noted; from=<i@remote.example> to=<a@relay.example> proto=ESMTP helo=<c.example>"},
		{"h", "554 5.7.1 <a@relay.example>: Recipient address rejected: Access denied", "NOQUEUE: hold: RCPT from unknown[127.0.0.2]: <h@remote.example>: Sender address triggers HOLD action; from=<h@remote.example> to=<a@relay.example> proto=ESMTP helo=<c.example>"},
		{"d", "", "NOQUEUE: discard: RCPT from unknown[127.0.0.2]: <d@remote.example>: Sender address bye; from=<d@remote.example> to=<a@relay.example> proto=ESMTP helo=<c.example>"},
		{"r", "554 5.7.1 <a@relay.example>: Recipient address rejected: Access denied", ""},
	} {
		*logs = nil
		s := &Session{ClientAddr: "127.0.0.2", Helo: "c.example", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: tt.sender, Domain: "remote.example"}}
		s.Recipient = addr.Address{Local: "a", Domain: "relay.example"}
		d := c.CheckRecipient(s)
		if d.Reply() != tt.reply {
			t.Errorf("%s: reply %q, want %q", tt.sender, d.Reply(), tt.reply)
		}
		if tt.log != "" && (len(*logs) == 0 || (*logs)[0] != tt.log) {
			t.Errorf("%s: log %q\nwant %q", tt.sender, *logs, tt.log)
		}
		if tt.sender == "h" && !s.Hold {
			t.Errorf("HOLD did not set Hold")
		}
		if tt.sender == "d" && (!s.Discard || !d.Discard) {
			t.Errorf("DISCARD did not set Discard")
		}
	}
	s := &Session{ClientAddr: "127.0.0.2", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "p", Domain: "remote.example"}, Recipient: addr.Address{Local: "a", Domain: "relay.example"}}
	c.CheckRecipient(s)
	if len(s.Prepend) != 1 || s.Prepend[0] != "X-Tag: yes" {
		t.Errorf("PREPEND = %q", s.Prepend)
	}
	_ = warnings
}

func TestAddressRestrictions(t *testing.T) {
	c, _, _ := testCheckerWith(t, "local_recipient_maps = inline:{alice=x}\nsmtpd_reject_unlisted_sender = yes\n"+
		"smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"+
		"smtpd_recipient_restrictions = reject_multi_recipient_bounce\n"+
		"smtpd_data_restrictions = reject_unauth_pipelining, reject_multi_recipient_bounce\n"+
		"smtpd_end_of_data_restrictions = check_sender_access inline:{{big@test.example=REJECT too late}}\n"+
		"smtpd_etrn_restrictions = check_etrn_access inline:{{no.example=REJECT}}\n", nil, Options{})
	s := &Session{ClientAddr: "127.0.0.1", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "bob", Domain: "test.example"}}
	if got := rcpt(c, s, "alice@test.example"); got != "550 5.1.0 <bob@test.example>: Sender address rejected: User unknown in local recipient table" {
		t.Errorf("unlisted sender = %q", got)
	}
	s = &Session{ClientAddr: "127.0.0.1", Protocol: "ESMTP", Mail: true}
	if got := rcpt(c, s, "alice@test.example"); got != "" {
		t.Errorf("bounce to one = %q", got)
	}
	s.RecipientCount = 1
	if got := rcpt(c, s, "alice@test.example"); got != "550 5.5.3 <alice@test.example>: Recipient address rejected: Multi-recipient bounce" {
		t.Errorf("bounce to two = %q", got)
	}
	s.RecipientCount = 2
	if got := c.CheckData(s).Reply(); got != "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce" {
		t.Errorf("DATA = %q", got)
	}
	s.RecipientCount, s.IllegalPipelining = 1, true
	if got := c.CheckData(s).Reply(); got != "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining" {
		t.Errorf("DATA pipelining = %q", got)
	}
	s = &Session{ClientAddr: "127.0.0.1", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "big", Domain: "test.example"}, RecipientCount: 1}
	if got := c.CheckEndOfData(s).Reply(); got != "554 5.7.1 <big@test.example>: Sender address rejected: too late" {
		t.Errorf("end of data = %q", got)
	}
	s = &Session{ClientAddr: "127.0.0.1", Helo: "c.example", Protocol: "ESMTP"}
	if got := c.CheckEtrn(s, "no.example").Reply(); got != "554 5.7.1 <no.example>: Etrn command rejected: Access denied" {
		t.Errorf("ETRN = %q", got)
	}
	if got := c.CheckEtrn(s, "yes.example").Reply(); got != "" {
		t.Errorf("ETRN allowed = %q", got)
	}
}

func TestUnknownClient(t *testing.T) {
	c, _, _ := testCheckerWith(t, relayOnly+"smtpd_client_restrictions = reject_unknown_reverse_client_hostname, reject_unknown_client_hostname\n", nil, Options{})
	tests := []struct {
		s    Session
		want string
	}{
		{Session{ClientName: "mx.example", ReverseName: "mx.example"}, ""},
		{Session{ClientName: "unknown", NameStatus: PeerPerm, ReverseName: "mx.example"}, "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]"},
		{Session{ClientName: "unknown", NameStatus: PeerTemp, ReverseName: "mx.example"}, "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]"},
		{Session{ClientName: "unknown", NameStatus: PeerPerm, ReverseName: "unknown", ReverseStatus: PeerPerm}, "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]"},
	}
	for _, tt := range tests {
		s := tt.s
		s.ClientAddr, s.Protocol, s.Mail = "192.0.2.1", "ESMTP", true
		if got := rcpt(c, &s, "a@relay.example"); got != tt.want {
			t.Errorf("%+v = %q, want %q", tt.s, got, tt.want)
		}
	}
	c2, _, _ := testCheckerWith(t, relayOnly+"unknown_client_reject_code = 550\nsmtpd_client_restrictions = reject_unknown_client_hostname\n", nil, Options{})
	s := Session{ClientName: "unknown", NameStatus: PeerPerm, ClientAddr: "192.0.2.1", Mail: true}
	if got := rcpt(c2, &s, "a@relay.example"); got != "550 5.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]" {
		t.Errorf("550 = %q", got)
	}
	s.NameStatus = PeerTemp
	if got := rcpt(c2, &s, "a@relay.example"); got != "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]" {
		t.Errorf("temporary = %q", got)
	}
}

// TestCheckSASLAccess: the SASL login name is the key; the reply names it
// as a "SASL login name". Without an authenticated client, and without
// SASL, the check does nothing (the latter with Postfix's warning).
func TestCheckSASLAccess(t *testing.T) {
	c, warnings, _ := testCheckerWith(t, relayOnly+"smtpd_sasl_auth_enable = yes\n"+
		"smtpd_recipient_restrictions = check_sasl_access inline:{{mallory=REJECT account suspended}, {alice=OK}}, reject\n", nil, Options{})
	s := &Session{ClientAddr: "127.0.0.2", Protocol: "ESMTPA", Helo: "c.example", Mail: true, Sender: addr.Split("s@remote.example")}
	s.SASLUser = "mallory"
	if got := rcpt(c, s, "x@test.example"); got != "554 5.7.1 <mallory>: SASL login name rejected: account suspended" {
		t.Errorf("mallory: %q", got)
	}
	s.SASLUser = "alice"
	if got := rcpt(c, s, "x@elsewhere.example"); got != "554 5.7.1 <x@elsewhere.example>: Relay access denied" {
		t.Errorf("alice relaying: %q", got)
	}
	if got := rcpt(c, s, "x@test.example"); got != "" {
		t.Errorf("alice: %q", got)
	}
	s.SASLUser = ""
	if got := rcpt(c, s, "x@test.example"); got != "554 5.7.1 <x@test.example>: Recipient address rejected: Access denied" {
		t.Errorf("unauthenticated: %q", got)
	}
	if len(*warnings) != 0 {
		t.Errorf("warnings %q", *warnings)
	}

	c, warnings, _ = testCheckerWith(t, relayOnly+"smtpd_recipient_restrictions = check_sasl_access inline:{{mallory=REJECT}}\n", nil, Options{})
	s.SASLUser = "mallory"
	if got := rcpt(c, s, "x@test.example"); got != "" {
		t.Errorf("without SASL: %q", got)
	}
	if want := "restriction `check_sasl_access' ignored: no SASL support"; len(*warnings) != 1 || (*warnings)[0] != want {
		t.Errorf("warnings %q, want %q", *warnings, want)
	}
}

// TestClientCertChecks: relay_clientcerts by certificate or public key
// fingerprint, permit_tls_all_clientcerts for a verified certificate,
// check_ccert_access naming the common name, and Postfix's warning when
// no certificate is asked for.
func TestClientCertChecks(t *testing.T) {
	c, warnings, _ := testCheckerWith(t, "relay_clientcerts = inline:{{AA:01=pinned}}\n"+
		"smtpd_relay_restrictions = permit_tls_clientcerts, reject_unauth_destination\n"+
		"smtpd_recipient_restrictions = check_ccert_access inline:{{BB:02=REJECT banned key}}, permit_tls_all_clientcerts, reject\n", nil, Options{})
	s := &Session{ClientAddr: "127.0.0.2", Protocol: "ESMTP", Helo: "c.example", Mail: true, Sender: addr.Split("s@remote.example")}
	for _, tc := range []struct {
		cert     *ClientCert
		to, want string
		warnings int
	}{
		{&ClientCert{Fingerprint: "AA:01", PubkeyFingerprint: "X", CommonName: "pinned.example"}, "x@elsewhere.example", "", 0},
		{&ClientCert{Fingerprint: "X", PubkeyFingerprint: "Y", CommonName: "plain.example"}, "x@test.example", "554 5.7.1 <x@test.example>: Recipient address rejected: Access denied", 0},
		{&ClientCert{Fingerprint: "X", PubkeyFingerprint: "AA:01", CommonName: "pinned.example", Trusted: true}, "x@elsewhere.example", "", 0},
		{&ClientCert{Fingerprint: "X", PubkeyFingerprint: "BB:02", CommonName: "banned.example", Trusted: true}, "x@test.example", "554 5.7.1 <banned.example>: Client certificate rejected: banned key", 0},
		{&ClientCert{Fingerprint: "X", PubkeyFingerprint: "Y", CommonName: "plain.example"}, "x@elsewhere.example", "554 5.7.1 <x@elsewhere.example>: Relay access denied", 0},
		{nil, "x@test.example", "554 5.7.1 <x@test.example>: Recipient address rejected: Access denied", 1},
	} {
		s.ClientCert = tc.cert
		*warnings = nil
		if got := rcpt(c, s, tc.to); got != tc.want {
			t.Errorf("%+v to %s: %q, want %q", tc.cert, tc.to, got, tc.want)
		}
		if len(*warnings) != tc.warnings {
			t.Errorf("%+v: warnings %q", tc.cert, *warnings)
		}
	}
	if want := `check_ccert_access is requested, but "smtpd_tls_ask_ccert = no"`; len(*warnings) == 1 && (*warnings)[0] != want {
		t.Errorf("warning %q, want %q", (*warnings)[0], want)
	}
}

// TestEveryRestrictionHasAStep: the names the parser accepts and the
// names apply dispatches are the same, but for warn_if_reject, which run
// handles itself.
func TestEveryRestrictionHasAStep(t *testing.T) {
	for name := range restrictionArgs {
		if _, ok := restrictionSteps[name]; !ok && name != "warn_if_reject" {
			t.Errorf("restriction %s has no step", name)
		}
	}
	for name := range restrictionSteps {
		if _, ok := restrictionArgs[name]; !ok {
			t.Errorf("step %s is no restriction the parser accepts", name)
		}
	}
}
