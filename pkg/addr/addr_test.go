// addr_test.go tests path parsing, quoting and domain syntax.

package addr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseRcpt(t *testing.T) {
	utf8On := Options{SMTPUTF8Enable: true}
	strict := Options{SMTPUTF8Enable: true, StrictSMTPUTF8: true}
	tests := []struct {
		arg     string
		opts    Options
		want    Address
		route   []string
		trail   bool
		wantErr error
	}{
		{arg: "<user@example.com>", want: Address{"user", "example.com"}},
		{arg: " <user@Example.COM>", want: Address{"user", "Example.COM"}},
		{arg: "user@example.com", want: Address{"user", "example.com"}},
		{arg: "<postmaster>", want: Address{Local: "postmaster"}},
		{arg: "<user@example.com.>", want: Address{"user", "example.com."}, trail: true},
		{arg: "<user@example..com>", wantErr: ErrBadRecipient},
		{arg: "<user@example.com..>", wantErr: ErrBadRecipient},
		{arg: "<@a,@b:user@c.example>", want: Address{"user", "c.example"}, route: []string{"a", "b"}},
		{arg: "<@a:b@c>", want: Address{"b", "c"}, route: []string{"a"}},
		{arg: "<@a>", want: Address{"", "a"}},
		{arg: "<@>", wantErr: ErrBadRecipient},
		{arg: `<""@relay.example>`, want: Address{"", "relay.example"}},
		{arg: "<@a,b:user@c>", wantErr: ErrBadRecipient},
		{arg: `<"a b"@x.example>`, want: Address{"a b", "x.example"}},
		{arg: `<"user@other"@relay.example>`, want: Address{"user@other", "relay.example"}},
		{arg: `<"a\"b"@x.example>`, want: Address{`a"b`, "x.example"}},
		{arg: "<user@other.example@relay.example>", want: Address{"user@other.example", "relay.example"}},
		{arg: "<user%host@relay.example>", want: Address{"user%host", "relay.example"}},
		{arg: "<host!user@relay.example>", want: Address{"host!user", "relay.example"}},
		{arg: "<pftest@[127.0.0.1]>", want: Address{"pftest", "[127.0.0.1]"}},
		{arg: "<pftest@[IPv6:2001:db8::1]>", want: Address{"pftest", "[IPv6:2001:db8::1]"}},
		{arg: "<pftest@[ipv6:::1]>", want: Address{"pftest", "[ipv6:::1]"}},
		{arg: "<pftest@[2001:db8::1]>", wantErr: ErrBadRecipient},
		{arg: "<pftest@[300.0.0.1]>", wantErr: ErrBadRecipient},
		{arg: "<pftest@127.0.0.1>", wantErr: ErrBadRecipient},
		{arg: "<user@>", wantErr: ErrBadRecipient},
		{arg: "<user@-bad.example>", wantErr: ErrBadRecipient},
		{arg: "<user@bad_ok.example>", want: Address{"user", "bad_ok.example"}},
		{arg: "<a b@x.example>", wantErr: ErrBadRecipient},
		{arg: "<a,b@x.example>", wantErr: ErrBadRecipient},
		{arg: `<"unterminated@x.example>`, wantErr: ErrBadRecipient},
		{arg: "<user@x.example", wantErr: ErrBadRecipient},
		{arg: "<user@x.example>junk", wantErr: ErrBadRecipient},
		{arg: "<>", wantErr: ErrBadRecipient},
		{arg: "", wantErr: ErrRcptSyntax},
		{arg: "   ", wantErr: ErrRcptSyntax},
		{arg: "<δοκιμή@παράδειγμα.δοκιμή>", opts: Options{SMTPUTF8Enable: true, SMTPUTF8: true}, want: Address{"δοκιμή", "παράδειγμα.δοκιμή"}},
		{arg: "<δοκιμή@example.com>", opts: utf8On, want: Address{"δοκιμή", "example.com"}},
		{arg: "<δοκιμή@example.com>", opts: strict, wantErr: ErrNeedSMTPUTF8},
		// RFC 822 leniencies observed from Postfix 3.7's smtpd.
		{arg: "<<a@relay.example>>", want: Address{"a", "relay.example"}},
		{arg: "<a @relay .example>", want: Address{"a", "relay.example"}},
		{arg: "<a(comment)@relay.example(more)>", want: Address{"a", "relay.example"}},
		{arg: `<a."b".c@relay.example>`, want: Address{"a.b.c", "relay.example"}},
		{arg: `<"a"."b"@relay.example>`, want: Address{"a.b", "relay.example"}},
		{arg: "<a..b@relay.example>", want: Address{"a..b", "relay.example"}},
		{arg: "<.a@relay.example>", want: Address{".a", "relay.example"}},
		{arg: `<a\@b@relay.example>`, want: Address{"a@b", "relay.example"}},
		{arg: "<s@@other.example>", want: Address{"s@", "other.example"}},
		{arg: `<"user@relay.example">`, want: Address{Local: "user@relay.example"}},
		{arg: `<a"b"@relay.example>`, wantErr: ErrBadRecipient},
		{arg: `<"a"b@relay.example>`, wantErr: ErrBadRecipient},
		{arg: "<a;b@relay.example>", wantErr: ErrBadRecipient},
		{arg: "<a[b]@relay.example>", wantErr: ErrBadRecipient},
		{arg: "<a@relay example>", wantErr: ErrBadRecipient},
		{arg: "<a(unclosed@relay.example>", wantErr: ErrBadRecipient},
		{arg: "<\xff@example.com>", opts: utf8On, wantErr: ErrBadUTF8},
		{arg: "<\xff@example.com>", want: Address{"\xff", "example.com"}},
		// A control character is part of the local part, as in Postfix,
		// and makes a domain invalid.
		{arg: "<\x01a>", want: Address{Local: "\x01a"}},
		{arg: "<a\x7f@example.com>", want: Address{"a\x7f", "example.com"}},
		{arg: "<@r.example:\x02a@example.com>", want: Address{"\x02a", "example.com"}, route: []string{"r.example"}},
		{arg: "<a@exa\x01mple.com>", wantErr: ErrBadRecipient},
		{arg: "<a\x00@example.com>", wantErr: ErrBadRecipient},
	}
	for _, tt := range tests {
		path, _, err := ParseRcpt(tt.arg, tt.opts)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseRcpt(%q) error = %v, want %v", tt.arg, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRcpt(%q) error = %v", tt.arg, err)
			continue
		}
		if path.Address != tt.want || !reflect.DeepEqual(path.Route, tt.route) || path.TrailingDot != tt.trail {
			t.Errorf("ParseRcpt(%q) = %+v, want %+v route %v trailing %v", tt.arg, path, tt.want, tt.route, tt.trail)
		}
	}
}

func TestPathToken(t *testing.T) {
	tests := []struct {
		arg, token string
		closed     bool
	}{
		{"<a@b.example> SIZE=1", "<a@b.example>", true},
		{" <a b@b.example> BODY=7BIT", "<a b@b.example>", true},
		{"a@b.example extra", "a@b.example", true},
		{"<a@b.example>junk more", "<a@b.example>junk", true},
		{`<"a> b"@b.example> x`, `<"a> b"@b.example>`, true},
		{`<a\>@b.example> x`, `<a\>@b.example>`, true},
		{"<<a@b.example>>", "<<a@b.example>>", true},
		{"<a@b.example", "<a@b.example", false},
		{`<"a@b.example>`, `<"a@b.example>`, false},
		{`"a@b.example x`, `"a@b.example x`, false},
		{"a<b@c.example", "a<b@c.example", false},
		{"", "", true},
	}
	for _, tt := range tests {
		token, closed := PathToken(tt.arg)
		if token != tt.token || closed != tt.closed {
			t.Errorf("PathToken(%q) = %q, %v; want %q, %v", tt.arg, token, closed, tt.token, tt.closed)
		}
	}
}

func TestParseMail(t *testing.T) {
	on := Options{SMTPUTF8Enable: true}
	tests := []struct {
		arg     string
		opts    Options
		want    MailParams
		null    bool
		wantErr string
	}{
		{arg: "<>", null: true},
		{arg: "<> SIZE=1000 BODY=8bitmime", null: true, want: MailParams{Size: 1000, HasSize: true, Body: "8BITMIME"}},
		{arg: "<a@b.example> RET=hdrs ENVID=QQ314159", want: MailParams{Ret: "HDRS", EnvID: "QQ314159"}},
		{arg: "<a@b.example> ENVID=a+2Bb", want: MailParams{EnvID: "a+b"}},
		{arg: "<a@b.example> AUTH=<>", want: MailParams{Auth: "<>"}},
		{arg: "<a@b.example> SMTPUTF8", opts: on, want: MailParams{SMTPUTF8: true}},
		{arg: "<δ@b.example> SMTPUTF8", opts: on, want: MailParams{SMTPUTF8: true}},
		{arg: "<δ@b.example>", opts: Options{SMTPUTF8Enable: true, StrictSMTPUTF8: true}, wantErr: "553 5.6.7 Must declare SMTPUTF8 to send unicode address"},
		{arg: "<δ@b.example>", opts: on},
		{arg: "<a@b.example> SIZE=00012 SIZE=7", want: MailParams{Size: 7, HasSize: true}},
		{arg: "<a@b.example> AUTH=", want: MailParams{}},
		{arg: "<a@b.example>SIZE=5", wantErr: "501 5.1.7 Bad sender address syntax"},
		{arg: "<a@b.example> ENVID=abc ENVID=def", wantErr: "501 5.5.4 Bad ENVID parameter syntax"},
		{arg: "<a@b.example> SMTPUTF8=yes", opts: on, wantErr: "555 5.5.4 Unsupported option: SMTPUTF8=yes"},
		{arg: "<a@b.example> <c@d.example>", wantErr: "555 5.5.4 Unsupported option: <c@d.example>"},
		{arg: "<a@b.example> SMTPUTF8", wantErr: "555 5.5.4 Unsupported option: SMTPUTF8"},
		{arg: "<a@b.example> SIZE=", wantErr: "501 5.5.4 Bad message size syntax"},
		{arg: "<a@b.example> SIZE=12x", wantErr: "501 5.5.4 Bad message size syntax"},
		{arg: "<a@b.example> SIZE=99999999999999999999", wantErr: "552 5.3.4 Message size exceeds file system imposed limit"},
		{arg: "<a@b.example> BODY=BINARYMIME", wantErr: "555 5.5.4 Unsupported option: BODY=BINARYMIME"},
		{arg: "<a@b.example> RET=FULL RET=HDRS", wantErr: "501 5.5.4 Bad RET parameter syntax"},
		{arg: "<a@b.example> RET=ALL", wantErr: "501 5.5.4 Bad RET parameter syntax"},
		{arg: "<a@b.example> ENVID=a+zz", wantErr: "501 5.5.4 Bad ENVID parameter syntax"},
		{arg: "<a@b.example> FOO=BAR", wantErr: "555 5.5.4 Unsupported option: FOO=BAR"},
		{arg: "<a b@b.example>", wantErr: "501 5.1.7 Bad sender address syntax"},
		{arg: "", wantErr: "501 5.5.4 Syntax: MAIL FROM:<address>"},
	}
	for _, tt := range tests {
		path, params, err := ParseMail(tt.arg, tt.opts)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseMail(%q) error = %v, want %q", tt.arg, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMail(%q) error = %v", tt.arg, err)
			continue
		}
		if path.Null != tt.null || !reflect.DeepEqual(params, tt.want) {
			t.Errorf("ParseMail(%q) = %+v %+v, want null=%v %+v", tt.arg, path, params, tt.null, tt.want)
		}
	}
}

func TestRcptParams(t *testing.T) {
	tests := []struct {
		arg     string
		want    RcptParams
		wantErr string
	}{
		{arg: "<a@b.example> NOTIFY=success,Delay", want: RcptParams{Notify: []string{"SUCCESS", "DELAY"}}},
		{arg: "<a@b.example> NOTIFY=NEVER", want: RcptParams{Notify: []string{"NEVER"}}},
		{arg: "<a@b.example> ORCPT=rfc822;a+40b.example", want: RcptParams{ORCPTType: "rfc822", ORCPT: "a@b.example"}},
		{arg: "<a@b.example> NOTIFY=NEVER,DELAY", wantErr: "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
		{arg: "<a@b.example> NOTIFY=SOMETIMES", wantErr: "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
		{arg: "<a@b.example> ORCPT=a@b.example", wantErr: "501 5.5.4 Error: Bad ORCPT parameter syntax"},
		{arg: "<a@b.example> ORCPT=rfc822;", wantErr: "501 5.5.4 Error: Bad ORCPT parameter syntax"},
		{arg: "<a@b.example> SIZE=10", wantErr: "555 5.5.4 Unsupported option: SIZE=10"},
	}
	for _, tt := range tests {
		_, params, err := ParseRcpt(tt.arg, Options{})
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseRcpt(%q) error = %v, want %q", tt.arg, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(params, tt.want) {
			t.Errorf("ParseRcpt(%q) = %+v, %v; want %+v", tt.arg, params, err, tt.want)
		}
	}
}

func TestQuoteLocal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"user", "user"},
		{"first.last", "first.last"},
		{"user+ext", "user+ext"},
		{"a b", `"a b"`},
		{"a@b", `"a@b"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{".lead", `".lead"`},
		{"trail.", `"trail."`},
		{"dou..ble", `"dou..ble"`},
		{"", `""`},
		{"δοκιμή", "δοκιμή"},
	}
	for _, tt := range tests {
		if got := QuoteLocal(tt.in); got != tt.want {
			t.Errorf("QuoteLocal(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAddressForms(t *testing.T) {
	a := Split("user@other@Relay.Example")
	if a.Local != "user@other" || a.Domain != "Relay.Example" {
		t.Fatalf("Split = %+v", a)
	}
	if got := a.String(); got != `"user@other"@Relay.Example` {
		t.Errorf("String = %q", got)
	}
	if got := a.Internal(); got != "user@other@Relay.Example" {
		t.Errorf("Internal = %q", got)
	}
	if got := a.FoldedDomain(); got != "relay.example" {
		t.Errorf("FoldedDomain = %q", got)
	}
	if got := Split("a@Relay.Example.").FoldedDomain(); got != "relay.example" {
		t.Errorf("FoldedDomain with trailing dot = %q", got)
	}
	if got := (Path{Null: true}).String(); got != "<>" {
		t.Errorf("null path = %q", got)
	}
}

func TestValidHostname(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"example.com", true},
		{"a", true},
		{"xn--bcher-kva.example", true},
		{"bücher.example", true},
		{"1.2.3.4", false},
		{"123", false},
		{"a..b", false},
		{".a", false},
		{"a-.b", false},
		{"a b", false},
		{string(make([]byte, 64)) + ".x", false},
	}
	for _, tt := range tests {
		if got := ValidHostname(tt.name); got != tt.want {
			t.Errorf("ValidHostname(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestXtext(t *testing.T) {
	for _, s := range []string{"plain", "a+b=c", "sp ace", "\x00\xff"} {
		enc := EncodeXtext(s)
		if got, ok := DecodeXtext(enc); !ok || got != s {
			t.Errorf("DecodeXtext(EncodeXtext(%q)) = %q, %v", s, got, ok)
		}
	}
	for _, bad := range []string{"a+", "a+4", "a=b", "a b"} {
		if _, ok := DecodeXtext(bad); ok {
			t.Errorf("DecodeXtext(%q) accepted", bad)
		}
	}
}

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		value   string
		want    []Mailbox
		wantErr bool
	}{
		{value: "a@b.example", want: []Mailbox{{Address: Address{"a", "b.example"}}}},
		{value: `"Doe, John" <john@x.example>, jane@y.example (Jane)`, want: []Mailbox{
			{Name: "Doe, John", Address: Address{"john", "x.example"}},
			{Address: Address{"jane", "y.example"}},
		}},
		{value: "Team: a@x.example,\r\n\tb@y.example;, c@z.example", want: []Mailbox{
			{Address: Address{"a", "x.example"}}, {Address: Address{"b", "y.example"}}, {Address: Address{"c", "z.example"}},
		}},
		{value: "undisclosed-recipients:;", want: nil},
		{value: "Mary Smith <@relay.example:mary@x.example>", want: []Mailbox{{Name: "Mary Smith", Address: Address{"mary", "x.example"}}}},
		{value: `<>, "quoted local"@x.example`, want: []Mailbox{{Address: Address{"quoted local", "x.example"}}}},
		{value: "postmaster", want: []Mailbox{{Address: Address{Local: "postmaster"}}}},
		{value: "a@b.example, bad address@, c@d.example", want: []Mailbox{{Address: Address{"a", "b.example"}}, {Address: Address{"c", "d.example"}}}, wantErr: true},
		{value: `"unterminated <a@b.example>`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseAddressList(tt.value)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAddressList(%q) = %+v, %v; want %+v, error %v", tt.value, got, err, tt.want, tt.wantErr)
		}
	}
	m := Mailbox{Name: "Doe, John", Address: Address{"john", "x.example"}}
	if got := m.String(); got != `"Doe, John" <john@x.example>` {
		t.Errorf("Mailbox.String = %q", got)
	}
	if got := (Mailbox{Name: "Jane Doe", Address: Address{"jane", "y.example"}}).String(); got != "Jane Doe <jane@y.example>" {
		t.Errorf("Mailbox.String = %q", got)
	}
}

func TestMapAddressList(t *testing.T) {
	toExample := func(a string) (string, error) {
		if a == "fail@x.example" {
			return "", errors.New("lookup failed")
		}
		return strings.Replace(a, "@local", "@example.com", 1), nil
	}
	tests := []struct {
		value   string
		want    string
		changed bool
		err     bool
	}{
		{value: `Jane <jane@local>, bob@remote.example`, want: "Jane <jane@example.com>|bob@remote.example", changed: true},
		{value: `jane@remote.example`, want: "jane@remote.example"},
		{value: "a@local, bad address@", want: ""},
		{value: "undisclosed-recipients:;", want: ""},
		{value: "a@local, fail@x.example", want: "", err: true},
	}
	for _, tt := range tests {
		got, changed, err := MapAddressList(tt.value, toExample)
		if strings.Join(got, "|") != tt.want || changed != tt.changed || (err != nil) != tt.err {
			t.Errorf("MapAddressList(%q) = %q, %v, %v; want %q, %v, error %v", tt.value, got, changed, err, tt.want, tt.changed, tt.err)
		}
	}
}
