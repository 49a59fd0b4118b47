// dns_test.go tests the DNS-based restrictions against the project's
// private DNS server: DNSBL/DNSWL with reply filters and TXT texts,
// rbl_reply_maps, RHSBLs, unknown HELO and address domains (NXDOMAIN,
// null MX, SERVFAIL) and the MX/NS access tables.

package policy

import (
	"strings"
	"testing"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/dnsx/dnstest"
)

// testDNS starts the private DNS server with the zone the tests share.
func testDNS(t *testing.T) *dnsx.Resolver {
	r, _ := testDNSServer(t)
	return r
}

// testDNSServer is testDNS that also returns the server.
func testDNSServer(t *testing.T) (*dnsx.Resolver, *dnstest.Server) {
	t.Helper()
	srv := dnstest.Start(t,
		// DNSBL: 192.0.2.1 listed twice with a reason, 192.0.2.2 with
		// 127.0.0.20 (outside the usual filter), 192.0.2.3 no TXT.
		"1.2.0.192.bl.test. IN A 127.0.0.2",
		"1.2.0.192.bl.test. IN A 127.0.0.4",
		`1.2.0.192.bl.test. IN TXT "listed for spam"`,
		`1.2.0.192.bl.test. IN TXT "see https://bl.test/192.0.2.1"`,
		"2.2.0.192.bl.test. IN A 127.0.0.20",
		"3.2.0.192.bl.test. IN A 127.0.0.3",
		"1.2.0.192.wl.test. IN A 127.0.0.2",
		"bad.example.rhs.test. IN A 127.0.0.2",
		`bad.example.rhs.test. IN TXT "bad domain"`,
		"client.bad.example.rhs.test. IN A 127.0.0.2",
		"good.example.rhswl.test. IN A 127.0.0.2",
		// Names for the unknown-name checks.
		"mx.good.example. IN A 192.0.2.10",
		"good.example. IN MX 10 mx.good.example.",
		"mxonly.example. IN MX 10 mx.good.example.",
		"aonly.example. IN A 192.0.2.11",
		"null.example. IN MX 0 .",
		"null.relay.example. IN MX 0 .",
		"relay.example. IN MX 10 mx.good.example.",
		"ns1.good.example. IN A 192.0.2.53",
		"good.example. IN NS ns1.good.example.",
		"sub.good.example. IN A 192.0.2.12",
	)
	srv.FailName("broken.example")
	srv.FailName("4.2.0.192.bl.test")
	return dnsx.New([]string{srv.Addr}), srv
}

func TestDNSBL(t *testing.T) {
	dns := testDNS(t)
	c, warnings, _ := testCheckerWith(t, relayOnly+
		"smtpd_client_restrictions = reject_rbl_client bl.test=127.0.0.[2..11]\n", nil, Options{DNS: dns})
	tests := []struct{ ip, want string }{
		{"192.0.2.1", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.test; listed for spam / see https://bl.test/192.0.2.1"},
		{"192.0.2.2", ""}, // 127.0.0.20 is outside the filter
		{"192.0.2.3", "554 5.7.1 Service unavailable; Client host [192.0.2.3] blocked using bl.test"},
		{"192.0.2.9", ""},
		{"192.0.2.4", ""}, // SERVFAIL: not listed, with a warning
	}
	for _, tt := range tests {
		s := &Session{ClientAddr: tt.ip, Protocol: "ESMTP", Mail: true}
		if got := rcpt(c, s, "a@relay.example"); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.ip, got, tt.want)
		}
	}
	if !strings.Contains(strings.Join(*warnings, "\n"), "4.2.0.192.bl.test: RBL lookup error") {
		t.Errorf("warnings = %q", *warnings)
	}
	// The allow list lets its clients through, but never for relaying.
	c2, _, _ := testCheckerWith(t, "smtpd_relay_restrictions = permit_dnswl_client wl.test, reject_rbl_client bl.test, reject_unauth_destination\n", nil, Options{DNS: dns})
	s := &Session{ClientAddr: "192.0.2.1", Protocol: "ESMTP", Mail: true}
	if got := rcpt(c2, s, "a@relay.example"); got != "" {
		t.Errorf("allow-listed = %q", got)
	}
	if got := rcpt(c2, s, "a@elsewhere.example"); !strings.HasPrefix(got, "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked") {
		t.Errorf("allow-listed relaying = %q", got)
	}
	// rbl_reply_maps, looked up by the list's domain.
	c3, _, _ := testCheckerWith(t, relayOnly+"rbl_reply_maps = texthash:DIR/rbl_reply\n"+
		"smtpd_client_restrictions = reject_rbl_client bl.test=127.0.0.4\n",
		map[string]string{"rbl_reply": "bl.test 550 5.7.9 $rbl_what via $rbl_domain: $rbl_reason ($client_address)\n"}, Options{DNS: dns})
	s = &Session{ClientAddr: "192.0.2.1", Protocol: "ESMTP", Mail: true}
	if got := rcpt(c3, s, "a@relay.example"); got != "550 5.7.9 192.0.2.1 via bl.test: listed for spam / see https://bl.test/192.0.2.1 (192.0.2.1)" {
		t.Errorf("rbl_reply_maps = %q", got)
	}
}

func TestDNSBLCachedPerSession(t *testing.T) {
	dns, srv := testDNSServer(t)
	c, _, _ := testCheckerWith(t, relayOnly+"smtpd_client_restrictions = reject_rbl_client bl.test\n", nil, Options{DNS: dns})
	s := &Session{ClientAddr: "192.0.2.3", Protocol: "ESMTP", Mail: true}
	want := "554 5.7.1 Service unavailable; Client host [192.0.2.3] blocked using bl.test"
	if got := rcpt(c, s, "a@relay.example"); got != want {
		t.Fatalf("first RCPT = %q", got)
	}
	srv.FailName("3.2.0.192.bl.test")
	if got := rcpt(c, s, "b@relay.example"); got != want {
		t.Errorf("second RCPT of the session = %q, want the cached answer", got)
	}
	s = &Session{ClientAddr: "192.0.2.3", Protocol: "ESMTP", Mail: true}
	if got := rcpt(c, s, "a@relay.example"); got != "" {
		t.Errorf("new session with the list failing = %q", got)
	}
}

func TestRHSBL(t *testing.T) {
	dns := testDNS(t)
	c, _, _ := testCheckerWith(t, relayOnly+
		"smtpd_client_restrictions = permit_rhswl_client rhswl.test, reject_rhsbl_client rhs.test, reject_rhsbl_reverse_client rhs.test\n"+
		"smtpd_helo_restrictions = reject_rhsbl_helo rhs.test\n"+
		"smtpd_sender_restrictions = reject_rhsbl_sender rhs.test\n", nil, Options{DNS: dns})
	tests := []struct {
		s    Session
		want string
	}{
		{Session{ClientName: "client.bad.example", ReverseName: "client.bad.example"}, "554 5.7.1 Service unavailable; Client host [client.bad.example] blocked using rhs.test"},
		{Session{ClientName: "unknown", ReverseName: "client.bad.example"}, "554 5.7.1 Service unavailable; Unverified Client host [client.bad.example] blocked using rhs.test"},
		{Session{Helo: "bad.example"}, "554 5.7.1 Service unavailable; Helo command [bad.example] blocked using rhs.test; bad domain"},
		{Session{Sender: addr.Address{Local: "s", Domain: "bad.example"}}, "554 5.7.1 Service unavailable; Sender address [s@bad.example] blocked using rhs.test; bad domain"},
		{Session{ClientName: "good.example", ReverseName: "client.bad.example"}, ""},
		{Session{Sender: addr.Address{Local: "s", Domain: "[192.0.2.1]"}}, ""},
	}
	for _, tt := range tests {
		s := tt.s
		s.ClientAddr, s.Protocol, s.Mail = "192.0.2.99", "ESMTP", true
		if got := rcpt(c, &s, "a@relay.example"); got != tt.want {
			t.Errorf("%+v = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestUnknownNames(t *testing.T) {
	dns := testDNS(t)
	c, _, _ := testCheckerWith(t, relayOnly+
		"smtpd_helo_restrictions = reject_unknown_helo_hostname\n"+
		"smtpd_sender_restrictions = reject_unknown_sender_domain\n"+
		"smtpd_recipient_restrictions = reject_unknown_recipient_domain\n", nil, Options{DNS: dns})
	tests := []struct {
		helo, sender, rcpt, want string
	}{
		{"mx.good.example", "s@good.example", "a@relay.example", ""},
		{"nx.example", "s@good.example", "a@relay.example", "450 4.7.1 <nx.example>: Helo command rejected: Host not found"},
		{"mxonly.example", "s@aonly.example", "a@relay.example", ""},
		{"mx.good.example", "s@nx.example", "a@relay.example", "450 4.1.8 <s@nx.example>: Sender address rejected: Domain not found"},
		{"mx.good.example", "s@null.example", "a@relay.example", "550 5.7.27 <s@null.example>: Sender address rejected: Domain null.example does not accept mail (nullMX)"},
		{"mx.good.example", "s@test.example", "a@relay.example", ""}, // final destination: not looked up
		{"mx.good.example", "s@good.example", "a@null.relay.example", "556 5.1.10 <a@null.relay.example>: Recipient address rejected: Domain null.relay.example does not accept mail (nullMX)"},
		{"mx.good.example", "s@good.example", "a@nx.relay.example", "450 4.1.2 <a@nx.relay.example>: Recipient address rejected: Domain not found"},
		// A failing lookup is a defer_if_permit: it decides only a permit.
		{"broken.example", "s@good.example", "a@relay.example", "450 4.7.1 <broken.example>: Helo command rejected: Host not found"},
		{"mx.good.example", "s@broken.example", "a@relay.example", "450 4.1.8 <s@broken.example>: Sender address rejected: Domain not found"},
		{"mx.good.example", "s@broken.example", "a@elsewhere.example", "554 5.7.1 <a@elsewhere.example>: Relay access denied"},
	}
	for _, tt := range tests {
		s := &Session{ClientAddr: "192.0.2.99", Helo: tt.helo, Protocol: "ESMTP", Mail: true, Sender: addr.Split(tt.sender)}
		if got := rcpt(c, s, tt.rcpt); got != tt.want {
			t.Errorf("helo %s from %s to %s = %q, want %q", tt.helo, tt.sender, tt.rcpt, got, tt.want)
		}
	}
}

func TestServerAccess(t *testing.T) {
	dns := testDNS(t)
	c, warnings, _ := testCheckerWith(t, relayOnly+
		"smtpd_sender_restrictions = check_sender_mx_access inline:{{mx.good.example=REJECT bad mx}, {192.0.2.11=REJECT bad mx address}, {192.0.2=DUNNO}},"+
		" check_sender_ns_access inline:{{ns1.good.example=REJECT bad ns}, {192.0.2.77=OK}}\n", nil, Options{DNS: dns})
	tests := []struct{ sender, want string }{
		{"s@good.example", "554 5.7.1 <s@good.example>: Sender address rejected: bad mx"},
		// No MX: the domain itself is the mail exchanger; its address
		// 192.0.2.11 matches.
		{"s@aonly.example", "554 5.7.1 <s@aonly.example>: Sender address rejected: bad mx address"},
		// NS of a subdomain is searched in its parents.
		{"s@sub.good.example", "554 5.7.1 <s@sub.good.example>: Sender address rejected: bad ns"},
		{"s@null.example", ""},
	}
	for _, tt := range tests {
		s := &Session{ClientAddr: "192.0.2.99", Protocol: "ESMTP", Mail: true, Sender: addr.Split(tt.sender)}
		if got := rcpt(c, s, "a@relay.example"); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.sender, got, tt.want)
		}
	}
	_ = warnings
	// OK is not allowed from these tables.
	c2, w2, _ := testCheckerWith(t, relayOnly+"smtpd_sender_restrictions = check_sender_mx_access inline:{{mx.good.example=OK}}\n", nil, Options{DNS: dns})
	s := &Session{ClientAddr: "192.0.2.99", Protocol: "ESMTP", Mail: true, Sender: addr.Split("s@good.example")}
	if got := rcpt(c2, s, "a@relay.example"); got != "451 4.3.5 Server configuration error" {
		t.Errorf("OK from mx access = %q", got)
	}
	if !strings.Contains(strings.Join(*w2, "\n"), "this is not allowed for security reasons") {
		t.Errorf("warnings = %q", *w2)
	}
}

func TestIPMatch(t *testing.T) {
	tests := []struct {
		pattern, ip string
		want        bool
	}{
		{"127.0.0.[2..11]", "127.0.0.2", true},
		{"127.0.0.[2..11]", "127.0.0.11", true},
		{"127.0.0.[2..11]", "127.0.0.12", false},
		{"127.0.0.[2;4;6..8]", "127.0.0.7", true},
		{"127.0.0.[2;4;6..8]", "127.0.0.5", false},
		{"127.0.[0..1].2", "127.0.1.2", true},
		{"127.0.0.2", "127.0.0.2", true},
		{"127.0.0.[x]", "127.0.0.2", false},
		{"127.0.0", "127.0.0.2", false},
	}
	for _, tt := range tests {
		if got := ipMatch(tt.pattern, tt.ip); got != tt.want {
			t.Errorf("ipMatch(%q, %q) = %v", tt.pattern, tt.ip, got)
		}
	}
}

// TestServerAccessEveryName: each check_*_mx_access, check_*_ns_access
// and check_reverse_client_hostname_access looks up its own name (the
// verified client name, the PTR name, the HELO name, the recipient
// domain) and replies with that name and its class.
func TestServerAccessEveryName(t *testing.T) {
	dns := testDNS(t)
	const table = " inline:{{mx.good.example=REJECT bad mx}, {ns1.good.example=REJECT bad ns}, {sub.good.example=REJECT bad name}}"
	s := &Session{ClientName: "good.example", NameStatus: PeerOK, ReverseName: "sub.good.example", ReverseStatus: PeerOK,
		ClientAddr: "192.0.2.99", Helo: "relay.example", Protocol: "ESMTP", Mail: true, Sender: addr.Split("s@aonly.example")}
	tests := []struct{ restriction, rcpt, want string }{
		{"check_client_mx_access", "a@relay.example", "554 5.7.1 <good.example[192.0.2.99]>: Client host rejected: bad mx"},
		{"check_client_ns_access", "a@relay.example", "554 5.7.1 <good.example[192.0.2.99]>: Client host rejected: bad ns"},
		{"check_reverse_client_hostname_access", "a@relay.example", "554 5.7.1 <sub.good.example>: Unverified Client host rejected: bad name"},
		// sub.good.example has no MX: it is its own mail exchanger.
		{"check_reverse_client_hostname_mx_access", "a@relay.example", "554 5.7.1 <sub.good.example>: Unverified Client host rejected: bad name"},
		{"check_reverse_client_hostname_ns_access", "a@relay.example", "554 5.7.1 <sub.good.example>: Unverified Client host rejected: bad ns"},
		{"check_helo_mx_access", "a@aonly.example", "554 5.7.1 <relay.example>: Helo command rejected: bad mx"},
		{"check_helo_ns_access", "a@aonly.example", ""}, // relay.example and example have no NS
		{"check_recipient_mx_access", "a@relay.example", "554 5.7.1 <a@relay.example>: Recipient address rejected: bad mx"},
		{"check_recipient_ns_access", "a@sub.good.example", "554 5.7.1 <a@sub.good.example>: Recipient address rejected: bad ns"},
		{"check_recipient_mx_access", "a@aonly.example", ""},
	}
	for _, tt := range tests {
		c, _, _ := testCheckerWith(t, "smtpd_relay_restrictions = permit\nsmtpd_recipient_restrictions = "+tt.restriction+table+", reject_unauth_destination\nrelay_domains = relay.example, aonly.example, sub.good.example\n", nil, Options{DNS: dns})
		if got := rcpt(c, s, tt.rcpt); got != tt.want {
			t.Errorf("%s, RCPT TO:<%s> = %q, want %q", tt.restriction, tt.rcpt, got, tt.want)
		}
	}
}
