// policy_test.go tests relay control, access tables, recipient validation
// and the reply and log texts. Expected replies were observed from
// Postfix 3.7.11's smtpd with the same main.cf and tables.

package policy

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/resolve"
)

// testChecker writes main.cf (the base settings plus extra) and the named
// table files into a temporary directory ("DIR" in extra stands for it)
// and builds a resolver and checker from it.
func testChecker(t *testing.T, extra string, files map[string]string) (*Checker, []string) {
	t.Helper()
	c, w, _ := testCheckerWith(t, extra, files, Options{})
	return c, *w
}

// testCheckerWith is testChecker with options; the warnings and the log
// lines are collected as they come.
func testCheckerWith(t *testing.T, extra string, files map[string]string, opts Options) (*Checker, *[]string, *[]string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mainCF := "compatibility_level = 3.6\n" +
		"myhostname = mx.test.example\n" +
		"mydestination = $myhostname, localhost, test.example\n" +
		"relay_domains = relay.example, .dotonly.example\n" +
		"mynetworks = 127.0.0.1/32\n" +
		"local_recipient_maps =\n" +
		strings.ReplaceAll(extra, "DIR", dir)
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := resolve.FromConfig(cfg, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var warnings, logs []string
	opts.Warn = func(w string) { warnings = append(warnings, w) }
	opts.Log = func(l string) { logs = append(logs, l) }
	c, err := NewChecker(cfg, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); r.Close() })
	return c, &warnings, &logs
}

// rcptReply runs one RCPT TO argument through the parser and the checker
// as smtpd will, and returns the reply ("250" when accepted).
func rcptReply(t *testing.T, c *Checker, s Session, arg string) string {
	t.Helper()
	path, _, err := addr.ParseRcpt(arg, addr.Options{SMTPUTF8Enable: true})
	if err != nil {
		return err.Error()
	}
	s.Recipient = path.Address
	d := c.CheckRecipient(&s)
	if d.Action == Permit || d.Action == Dunno {
		return "250"
	}
	return d.Reply()
}

func outsider() Session {
	return Session{ClientAddr: "127.0.0.2", Helo: "c.example", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "s", Domain: "remote.example"}}
}

func TestRelayControlProbes(t *testing.T) {
	c, _ := testChecker(t, "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n", nil)
	denied := func(a string) string { return "554 5.7.1 <" + a + ">: Relay access denied" }
	tests := []struct{ arg, want string }{
		{"<a@relay.example>", "250"},
		{"<a@sub.relay.example>", "250"},
		{"<a@dotonly.example>", denied("a@dotonly.example")},
		{"<a@x.dotonly.example>", denied("a@x.dotonly.example")},
		{"<pftest@sub.test.example>", denied("pftest@sub.test.example")},
		{"<a%b@relay.example>", denied("a%b@relay.example")},
		{"<b@relay.example@other.example>", denied("b@relay.example@other.example")},
		{"<pftest@[127.0.0.1]>", "250"},
		{"<postmaster>", "250"},
		{"<host!user@relay.example>", denied("host!user@relay.example")},
		{"<@a,@b:user@relay.example>", "250"},
		{"<@a:b@other.example>", denied("b@other.example")},
		{`<"user@other"@relay.example>`, denied("user@other@relay.example")},
		{`<"user@other"@test.example>`, denied("user@other@test.example")},
		{"<user%other.example@test.example>", denied("user%other.example@test.example")},
		{"<user%relay.example@test.example>", "250"},
		{`<"user%relay.example"@test.example>`, "250"},
		{"<user!relay.example@test.example>", denied("user!relay.example@test.example")},
		{"<user@other@test.example>", denied("user@other@test.example")},
		{`<a\@b@relay.example>`, denied("a@b@relay.example")},
		{`<"user@relay.example">`, "250"},
		{"<a@relay.example.>", "250"},
		{"<a@RELAY.EXAMPLE>", "250"},
		{"<a@elsewhere.example.>", denied("a@elsewhere.example.")},
		{"<a@relay.example..>", "501 5.1.3 Bad recipient address syntax"},
		{"<a@[127.0.0.2]>", denied("a@[127.0.0.2]")},
		{"<a@[IPv6:::1]>", denied("a@[IPv6:::1]")},
		{"<a@127.0.0.1>", "501 5.1.3 Bad recipient address syntax"},
		{"<>", "501 5.1.3 Bad recipient address syntax"},
		{"<a b@relay.example>", "501 5.1.3 Bad recipient address syntax"},
		{`<"a b"@relay.example>`, "250"},
		{"a@relay.example", "250"},
		{" <a@relay.example>", "250"},
		{"<@foo>", denied("@foo")},
		{`<""@relay.example>`, "250"},
		{"<someone@elsewhere.example>", denied("someone@elsewhere.example")},
		{"<a@relay.example> FOO=bar", "555 5.5.4 Unsupported option: FOO=bar"},
	}
	for _, tt := range tests {
		if got := rcptReply(t, c, outsider(), tt.arg); got != tt.want {
			t.Errorf("RCPT TO:%s = %q, want %q", tt.arg, got, tt.want)
		}
	}
	// The same probes pass from mynetworks or after AUTH.
	insider := outsider()
	insider.ClientAddr = "127.0.0.1"
	authenticated := outsider()
	authenticated.SASLUser = "alice"
	for _, s := range []Session{insider} {
		for _, arg := range []string{"<someone@elsewhere.example>", "<a%b@relay.example>", `<"user@other"@relay.example>`} {
			if got := rcptReply(t, c, s, arg); got != "250" {
				t.Errorf("from %s RCPT TO:%s = %q, want 250", s.ClientAddr, arg, got)
			}
		}
	}
	if got := rcptReply(t, c, authenticated, "<someone@elsewhere.example>"); got != denied("someone@elsewhere.example") {
		t.Errorf("authenticated without permit_sasl_authenticated = %q", got)
	}
}

func TestDefaultRelayRestrictions(t *testing.T) {
	c, _ := testChecker(t, "", nil)
	authenticated := outsider()
	authenticated.SASLUser = "alice"
	tests := []struct {
		s         Session
		arg, want string
	}{
		{outsider(), "<x@elsewhere.example>", "454 4.7.1 <x@elsewhere.example>: Relay access denied"},
		{outsider(), "<a@relay.example>", "250"},
		{authenticated, "<x@elsewhere.example>", "250"},
	}
	for _, tt := range tests {
		if got := rcptReply(t, c, tt.s, tt.arg); got != tt.want {
			t.Errorf("RCPT TO:%s = %q, want %q", tt.arg, got, tt.want)
		}
	}
}

func TestAllowUntrustedRouting(t *testing.T) {
	c, _ := testChecker(t, "allow_untrusted_routing = yes\nsmtpd_relay_restrictions = reject_unauth_destination\n", nil)
	if got := rcptReply(t, c, outsider(), "<a%b@relay.example>"); got != "250" {
		t.Errorf("a%%b@relay.example = %q, want 250", got)
	}
	// Routing never makes an unauthorized destination authorized.
	if got := rcptReply(t, c, outsider(), "<a%relay.example@elsewhere.example>"); !strings.HasPrefix(got, "554 5.7.1") {
		t.Errorf("a%%relay.example@elsewhere.example = %q, want 554", got)
	}
}

const accessTable = `blocked@relay.example REJECT
texted@relay.example REJECT go away
deferred@relay.example DEFER
code@relay.example 550 5.1.1 custom text
code2@relay.example 451 no dsn here
c520@relay.example 450 5.2.0 t
c571x@relay.example 550 5.7.1x t
c55@relay.example 550
ok@relay.example OK
num@relay.example 12345
dunno@relay.example DUNNO
perm@relay.example permit
rej@relay.example reject
dis@relay.example DISCARD
hold@relay.example HOLD
dip2@relay.example DEFER_IF_PERMIT
cls@relay.example myclass
bye@relay.example 421 4.7.0 go away now
user+x@relay.example REJECT ext
base@relay.example REJECT base
sub2.relay.example REJECT parent-lookup
okpart.relay.example OK
lhs@ REJECT user part
empty.relay.example REJECT
filter@relay.example FILTER smtp:[x]
bad@relay.example permit_mynetworks,no_such_restriction
tbl@relay.example check_client_access texthash:/x
`

func TestAccessTables(t *testing.T) {
	c, _ := testChecker(t, "recipient_delimiter = +\n"+
		"smtpd_restriction_classes = myclass\nmyclass = reject_unauth_destination, reject\n"+
		"smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"+
		"smtpd_recipient_restrictions = check_recipient_access texthash:DIR/access\n",
		map[string]string{"access": accessTable})
	rejected := func(a, text string) string { return "<" + a + ">: Recipient address rejected: " + text }
	tests := []struct {
		rcpt                string
		action              Action
		reply               string
		disconnect, discard bool
		hold                bool
	}{
		{rcpt: "blocked@relay.example", action: Reject, reply: "554 5.7.1 " + rejected("blocked@relay.example", "Access denied")},
		{rcpt: "texted@relay.example", action: Reject, reply: "554 5.7.1 " + rejected("texted@relay.example", "go away")},
		{rcpt: "deferred@relay.example", action: Defer, reply: "450 4.7.1 " + rejected("deferred@relay.example", "Access denied")},
		{rcpt: "code@relay.example", action: Reject, reply: "550 5.1.1 " + rejected("code@relay.example", "custom text")},
		{rcpt: "code2@relay.example", action: Defer, reply: "451 4.7.1 " + rejected("code2@relay.example", "no dsn here")},
		{rcpt: "c520@relay.example", action: Defer, reply: "450 4.2.0 " + rejected("c520@relay.example", "t")},
		{rcpt: "c571x@relay.example", action: Reject, reply: "550 5.7.1 " + rejected("c571x@relay.example", "5.7.1x t")},
		{rcpt: "c55@relay.example", action: Permit},
		{rcpt: "ok@relay.example", action: Permit},
		{rcpt: "num@relay.example", action: Permit},
		{rcpt: "dunno@relay.example", action: Permit},
		{rcpt: "perm@relay.example", action: Permit},
		{rcpt: "rej@relay.example", action: Reject, reply: "554 5.7.1 " + rejected("rej@relay.example", "Access denied")},
		{rcpt: "dis@relay.example", action: Permit, discard: true},
		{rcpt: "hold@relay.example", action: Permit, hold: true},
		{rcpt: "dip2@relay.example", action: Defer, reply: "450 4.7.1 " + rejected("dip2@relay.example", "Service unavailable")},
		{rcpt: "cls@relay.example", action: Reject, reply: "554 5.7.1 " + rejected("cls@relay.example", "Access denied")},
		{rcpt: "bye@relay.example", action: Defer, reply: "421 4.7.0 " + rejected("bye@relay.example", "go away now"), disconnect: true},
		{rcpt: "user+x@relay.example", action: Reject, reply: "554 5.7.1 " + rejected("user+x@relay.example", "ext")},
		{rcpt: "base+x@relay.example", action: Reject, reply: "554 5.7.1 " + rejected("base+x@relay.example", "base")},
		{rcpt: "a@sub2.relay.example", action: Reject, reply: "554 5.7.1 " + rejected("a@sub2.relay.example", "parent-lookup")},
		{rcpt: "a@x.sub2.relay.example", action: Reject, reply: "554 5.7.1 " + rejected("a@x.sub2.relay.example", "parent-lookup")},
		{rcpt: "a@okpart.relay.example", action: Permit},
		{rcpt: "lhs@relay.example", action: Reject, reply: "554 5.7.1 " + rejected("lhs@relay.example", "user part")},
		{rcpt: "lhs+x@relay.example", action: Reject, reply: "554 5.7.1 " + rejected("lhs+x@relay.example", "user part")},
		{rcpt: "a@empty.relay.example", action: Reject, reply: "554 5.7.1 " + rejected("a@empty.relay.example", "Access denied")},
		{rcpt: "filter@relay.example", action: Permit},
		{rcpt: "bad@relay.example", action: Defer, reply: "451 4.3.5 Server configuration error"},
		{rcpt: "tbl@relay.example", action: Defer, reply: "451 4.3.5 Server configuration error"},
		{rcpt: "x@elsewhere.example", action: Reject, reply: "554 5.7.1 <x@elsewhere.example>: Relay access denied"},
	}
	for _, tt := range tests {
		s := outsider()
		s.Recipient = addr.Split(tt.rcpt)
		d := c.CheckRecipient(&s)
		if d.Action != tt.action || d.Reply() != tt.reply || d.Disconnect != tt.disconnect || d.Discard != tt.discard || d.Hold != tt.hold {
			t.Errorf("%s = %v %q disconnect=%v discard=%v hold=%v; want %v %q", tt.rcpt, d.Action, d.Reply(), d.Disconnect, d.Discard, d.Hold, tt.action, tt.reply)
		}
	}
}

func TestSenderClientHeloAccess(t *testing.T) {
	c, _ := testChecker(t, "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"+
		"smtpd_recipient_restrictions = check_client_access texthash:DIR/client, check_helo_access texthash:DIR/helo, check_sender_access texthash:DIR/sender\n",
		map[string]string{
			"client": "127.0.0.3 DUNNO\n127.0.0 REJECT net3\nbad.example REJECT by name\n2001:db8 REJECT v6 net\n",
			"helo":   "evil.example REJECT bad helo\n",
			"sender": "<> REJECT nullsender\nbadsender@ REJECT userpart\nremote.example DEFER_IF_PERMIT dip\n",
		})
	tests := []struct {
		name, ip, helo string
		sender         addr.Address
		want           string
	}{
		{"", "127.0.0.2", "c.example", addr.Address{Local: "s", Domain: "ok.example"}, "554 5.7.1 <unknown[127.0.0.2]>: Client host rejected: net3"},
		{"", "127.0.0.3", "c.example", addr.Address{Local: "s", Domain: "ok.example"}, "250"},
		{"mx.bad.example", "192.0.2.1", "c.example", addr.Address{Local: "s", Domain: "ok.example"}, "554 5.7.1 <mx.bad.example[192.0.2.1]>: Client host rejected: by name"},
		{"", "2001:db8::1", "c.example", addr.Address{Local: "s", Domain: "ok.example"}, "554 5.7.1 <unknown[2001:db8::1]>: Client host rejected: v6 net"},
		{"", "192.0.2.1", "a.evil.example", addr.Address{Local: "s", Domain: "ok.example"}, "554 5.7.1 <a.evil.example>: Helo command rejected: bad helo"},
		{"", "192.0.2.1", "", addr.Address{}, "554 5.7.1 <>: Sender address rejected: nullsender"},
		{"", "192.0.2.1", "c.example", addr.Address{Local: "badsender", Domain: "x.example"}, "554 5.7.1 <badsender@x.example>: Sender address rejected: userpart"},
		{"", "192.0.2.1", "c.example", addr.Address{Local: "s", Domain: "remote.example"}, "450 4.7.1 <s@remote.example>: Sender address rejected: dip"},
	}
	for _, tt := range tests {
		s := Session{ClientName: tt.name, ClientAddr: tt.ip, Helo: tt.helo, Protocol: "ESMTP", Mail: true, Sender: tt.sender}
		if got := rcptReply(t, c, s, "<a@relay.example>"); got != tt.want {
			t.Errorf("client %s[%s] helo %q from <%s> = %q, want %q", tt.name, tt.ip, tt.helo, tt.sender.Internal(), got, tt.want)
		}
	}
	// DEFER_IF_PERMIT gives way to a later rejection.
	s := Session{ClientAddr: "192.0.2.1", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "s", Domain: "remote.example"}}
	if got := rcptReply(t, c, s, "<x@elsewhere.example>"); got != "554 5.7.1 <x@elsewhere.example>: Relay access denied" {
		t.Errorf("relay denied after DEFER_IF_PERMIT = %q", got)
	}
}

func TestRecipientValidation(t *testing.T) {
	c, _ := testChecker(t, "local_recipient_maps = texthash:DIR/local\n"+
		"recipient_delimiter = +\n"+
		"virtual_alias_domains = valias.example, catch.example\nvirtual_alias_maps = texthash:DIR/virtual\n"+
		"virtual_mailbox_domains = vmbox.example\nvirtual_mailbox_maps = texthash:DIR/vmailbox\n"+
		"relay_recipient_maps = texthash:DIR/relayrcpt\n"+
		"smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n",
		map[string]string{
			"local":     "alice x\n",
			"virtual":   "info@valias.example alice\nsales alice\n@catch.example x\n",
			"vmailbox":  "bob@vmbox.example bob/\n",
			"relayrcpt": "someone@relay.example x\n@sub.relay.example x\n",
		})
	unknown := func(a, table string) string {
		return "550 5.1.1 <" + a + ">: Recipient address rejected: User unknown in " + table + " table"
	}
	tests := []struct{ rcpt, want string }{
		{"alice@test.example", "250"},
		{"Alice@TEST.example", "250"},
		{"alice+ext@test.example", "250"},
		{"alice@[127.0.0.1]", "250"},
		{"bob@test.example", unknown("bob@test.example", "local recipient")},
		{"abuse@test.example", unknown("abuse@test.example", "local recipient")},
		{"postmaster@test.example", "250"},
		{"POSTMASTER@test.example", "250"},
		{"mailer-daemon@test.example", "250"},
		{"double-bounce@test.example", "250"},
		{"postmaster", "250"},
		{"sales@test.example", "250"}, // virtual_alias_maps "sales" matches local domains
		{"info@valias.example", "250"},
		{"other@valias.example", unknown("other@valias.example", "virtual alias")},
		{"sales@valias.example", unknown("sales@valias.example", "virtual alias")},
		{"x@catch.example", "250"},
		{"bob@vmbox.example", "250"},
		{"carol@vmbox.example", unknown("carol@vmbox.example", "virtual mailbox")},
		{"someone@relay.example", "250"},
		{"postmaster@relay.example", unknown("postmaster@relay.example", "relay recipient")},
		{"anyone@sub.relay.example", "250"},
		{"a@elsewhere.example", "554 5.7.1 <a@elsewhere.example>: Relay access denied"},
	}
	for _, tt := range tests {
		s := outsider()
		s.Recipient = addr.Split(tt.rcpt)
		d := c.CheckRecipient(&s)
		got := "250"
		if d.Action == Reject || d.Action == Defer {
			got = d.Reply()
		}
		if got != tt.want {
			t.Errorf("%s = %q; want %q", tt.rcpt, got, tt.want)
		}
	}
}

func TestUnreadableTableDefers(t *testing.T) {
	c, warnings := testChecker(t, "local_recipient_maps = hash:DIR/missing\nsmtpd_relay_restrictions = reject_unauth_destination\n", nil)
	s := outsider()
	s.Recipient = addr.Address{Local: "alice", Domain: "test.example"}
	d := c.CheckRecipient(&s)
	if d.Reply() != "451 4.3.0 <alice@test.example>: Temporary lookup failure" {
		t.Errorf("CheckRecipient = %q; want the 451 temporary failure", d.Reply())
	}
	if len(warnings) == 0 || !strings.Contains(warnings[0], "is unavailable") {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestStartupChecks(t *testing.T) {
	tests := []struct{ extra, want string }{
		{"smtpd_relay_restrictions = permit_mynetworks\nsmtpd_recipient_restrictions = permit\n",
			"in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains"},
		{"smtpd_restriction_classes = empty\nsmtpd_relay_restrictions = reject\n", "restriction class `empty' needs a definition"},
		{"mynetworks = 1.2.3.4/24\n", `mynetworks: non-null host address bits in "1.2.3.4/24", perhaps you should use "1.2.3.0/24" instead`},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "main.cf"), []byte("compatibility_level = 3.6\nmyhostname = mx.test.example\n"+tt.extra), 0o644)
		cfg, err := config.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		r, err := resolve.FromConfig(cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewChecker(cfg, r, Options{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: error = %v, want %q", tt.extra, err, tt.want)
		}
		r.Close()
	}
}

// Unknown restrictions and bad arguments fail the requests that meet
// them, as in Postfix, not smtpd's start.
func TestBrokenRestrictionsFailRequests(t *testing.T) {
	c, warnings, _ := testCheckerWith(t, "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"+
		"smtpd_recipient_restrictions = check_recipient_access inline:{{b@relay.example=DUNNO}}, reject_bogus\n"+
		"smtpd_sender_restrictions = check_sender_access\n", nil, Options{})
	s := outsider()
	s.Mail = false
	s.Recipient = addr.Address{Local: "a", Domain: "relay.example"}
	if got := c.CheckRecipient(&s).Reply(); got != "451 4.3.5 Server configuration error" {
		t.Errorf("unknown restriction = %q", got)
	}
	if got := strings.Join(*warnings, "\n"); !strings.Contains(got, `unknown smtpd restriction: "reject_bogus"`) {
		t.Errorf("warnings = %q", got)
	}
	s = outsider()
	s.Recipient = addr.Address{Local: "a", Domain: "relay.example"}
	if got := c.CheckRecipient(&s).Reply(); got != "451 4.3.5 Server configuration error" {
		t.Errorf("bad argument = %q", got)
	}
	if got := strings.Join(*warnings, "\n"); !strings.Contains(got, `restriction check_sender_access: bad argument "": need maptype:mapname`) {
		t.Errorf("warnings = %q", got)
	}
}

func TestRejectLog(t *testing.T) {
	s := &Session{ClientName: "localhost", ClientAddr: "127.0.0.1", Protocol: "SMTP", Mail: true,
		Sender: addr.Address{Local: "s", Domain: "remote.example"}, Recipient: addr.Address{Local: "someone", Domain: "elsewhere.example"}}
	want := "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <someone@elsewhere.example>: Relay access denied; from=<s@remote.example> to=<someone@elsewhere.example> proto=SMTP"
	if got := RejectLog("RCPT", s, "554 5.7.1 <someone@elsewhere.example>: Relay access denied"); got != want {
		t.Errorf("RejectLog =\n%s\nwant\n%s", got, want)
	}
	s.ClientName, s.ClientAddr, s.Helo, s.Protocol, s.QueueID = "", "127.0.0.2", "c.example", "ESMTP", "DC96F984327"
	want = "DC96F984327: reject: RCPT from unknown[127.0.0.2]: 450 4.7.1 <x>: y; from=<s@remote.example> to=<someone@elsewhere.example> proto=ESMTP helo=<c.example>"
	if got := RejectLog("RCPT", s, "450 4.7.1 <x>: y"); got != want {
		t.Errorf("RejectLog =\n%s\nwant\n%s", got, want)
	}
}

func TestNonFQDNAndPostmaster(t *testing.T) {
	c, _ := testChecker(t, "smtpd_relay_restrictions = reject_non_fqdn_sender, reject_non_fqdn_recipient, permit_mynetworks, reject_unauth_destination\n"+
		"smtpd_recipient_restrictions = reject\n", nil)
	bare := outsider()
	bare.Sender = addr.Address{Local: "s"}
	tests := []struct {
		s         Session
		arg, want string
	}{
		{bare, "<a@relay.example>", "504 5.5.2 <s>: Sender address rejected: need fully-qualified address"},
		{outsider(), "<a@relay>", "504 5.5.2 <a@relay>: Recipient address rejected: need fully-qualified address"},
		{outsider(), "<a@[192.0.2.1]>", "554 5.7.1 <a@[192.0.2.1]>: Relay access denied"},
		{outsider(), "<a@relay.example>", "554 5.7.1 <a@relay.example>: Recipient address rejected: Access denied"},
		{bare, "<postmaster>", "250"},
		{bare, "<PostMaster>", "250"},
		{outsider(), "<postmaster@elsewhere.example>", "554 5.7.1 <postmaster@elsewhere.example>: Relay access denied"},
	}
	for _, tt := range tests {
		if got := rcptReply(t, c, tt.s, tt.arg); got != tt.want {
			t.Errorf("from <%s> RCPT TO:%s = %q, want %q", tt.s.Sender.Internal(), tt.arg, got, tt.want)
		}
	}
}

// Observed from Postfix 3.7.11: access-table replies with X.1.Y codes.
func TestDSNForSubject(t *testing.T) {
	tests := []struct{ dsn, class, want string }{
		{"5.1.1", "Recipient address", "5.1.1"},
		{"5.1.7", "Recipient address", "5.1.3"},
		{"5.1.8", "Recipient address", "5.1.2"},
		{"5.1.9", "Recipient address", "5.1.0"},
		{"5.1.10", "Recipient address", "5.1.0"},
		{"5.1.1", "Sender address", "5.1.7"},
		{"5.1.2", "Sender address", "5.1.8"},
		{"5.1.3", "Sender address", "5.1.7"},
		{"5.1.5", "Sender address", "5.1.0"},
		{"5.1.8", "Sender address", "5.1.8"},
		{"5.1.1", "Client host", "5.0.0"},
		{"5.1.7", "Helo command", "5.0.0"},
		{"5.2.9", "Recipient address", "5.2.9"},
		{"5.7.30", "Client host", "5.7.30"},
	}
	for _, tt := range tests {
		if got := dsnForSubject(tt.dsn, tt.class); got != tt.want {
			t.Errorf("dsnForSubject(%q, %q) = %q, want %q", tt.dsn, tt.class, got, tt.want)
		}
	}
	// Through a table: 2.1.9 on a 550 reply becomes 5.1.0.
	c, _ := testChecker(t, "smtpd_relay_restrictions = reject_unauth_destination\nsmtpd_recipient_restrictions = check_recipient_access inline:{{i@relay.example=550 2.1.9 t}}\n", nil)
	if got := rcptReply(t, c, outsider(), "<i@relay.example>"); got != "550 5.1.0 <i@relay.example>: Recipient address rejected: t" {
		t.Errorf("2.1.9 on 550 = %q", got)
	}
}
