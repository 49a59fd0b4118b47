// resolve_test.go tests address classes, rewriting and transport selection.

package resolve

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
)

// testResolver builds a resolver from a main.cf written with extra lines
// and a transport file.
func testResolver(t *testing.T, extra, transport string) *Resolver {
	t.Helper()
	dir := t.TempDir()
	mainCF := "myhostname = mx.test.example\n" +
		"mydestination = $myhostname, localhost, test.example, both.example\n" +
		"relay_domains = relay.example, .dotonly.example\n" +
		"virtual_alias_domains = valias.example, both.example, twice.example\n" +
		"virtual_mailbox_domains = vmbox.example, twice.example\n" +
		"recipient_delimiter = +\n" + extra
	if transport != "" {
		path := filepath.Join(dir, "transport")
		if err := os.WriteFile(path, []byte(transport), 0o644); err != nil {
			t.Fatal(err)
		}
		mainCF += "transport_maps = texthash:" + path + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	local := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}
	r, err := FromConfig(cfg, local, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestClassAndRewriting(t *testing.T) {
	r := testResolver(t, "", "")
	tests := []struct {
		in        string
		recipient string
		class     Class
		transport string
		nexthop   string
		routed    bool
	}{
		{"user@test.example", "user@test.example", ClassLocal, "local", "mx.test.example", false},
		{"user@TEST.Example.", "user@TEST.Example", ClassLocal, "local", "mx.test.example", false},
		{"postmaster", "postmaster@mx.test.example", ClassLocal, "local", "mx.test.example", false},
		{"", "MAILER-DAEMON@mx.test.example", ClassLocal, "local", "mx.test.example", false},
		{"pftest@[127.0.0.1]", "pftest@[127.0.0.1]", ClassLocal, "local", "mx.test.example", false},
		{"pftest@[IPv6:::1]", "pftest@[IPv6:::1]", ClassLocal, "local", "mx.test.example", false},
		{"pftest@[127.0.0.2]", "pftest@[127.0.0.2]", ClassDefault, "smtp", "[127.0.0.2]", false},
		{"pftest@sub.test.example", "pftest@sub.test.example", ClassDefault, "smtp", "sub.test.example", false},
		{"a@relay.example", "a@relay.example", ClassRelay, "relay", "relay.example", false},
		{"a@sub.relay.example", "a@sub.relay.example", ClassRelay, "relay", "sub.relay.example", false},
		{"a@dotonly.example", "a@dotonly.example", ClassDefault, "smtp", "dotonly.example", false},
		{"a@x.dotonly.example", "a@x.dotonly.example", ClassDefault, "smtp", "x.dotonly.example", false},
		{"a@valias.example", "a@valias.example", ClassVirtualAlias, "error", "5.1.1 User unknown in virtual alias table", false},
		{"a@vmbox.example", "a@vmbox.example", ClassVirtualMailbox, "virtual", "vmbox.example", false},
		{"a@elsewhere.example", "a@elsewhere.example", ClassDefault, "smtp", "elsewhere.example", false},
		// Sender-specified routing.
		{"a%b@relay.example", "a%b@relay.example", ClassRelay, "relay", "relay.example", true},
		{"host!user@relay.example", "host!user@relay.example", ClassRelay, "relay", "relay.example", true},
		{"b@relay.example@other.example", "b@relay.example@other.example", ClassDefault, "smtp", "other.example", true},
		{"user@other.example@test.example", "user@other.example@test.example", ClassLocal, "local", "mx.test.example", true},
		{"user%other.example@test.example", "user@other.example", ClassDefault, "smtp", "other.example", false},
		{"user%test.example@localhost", "user@test.example", ClassLocal, "local", "mx.test.example", false},
		{"a%b%relay.example@localhost", "a%b@relay.example", ClassRelay, "relay", "relay.example", true},
		{"other.example!user@test.example", "user@other.example", ClassDefault, "smtp", "other.example", false},
		{"@a.example,@b.example:user@relay.example", "user@relay.example", ClassRelay, "relay", "relay.example", false},
		{"@a:b@elsewhere.example", "b@elsewhere.example", ClassDefault, "smtp", "elsewhere.example", false},
	}
	for _, tt := range tests {
		res, err := r.Resolve(tt.in)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.in, err)
			continue
		}
		if res.Recipient != tt.recipient || res.Class != tt.class || res.Transport != tt.transport || res.Nexthop != tt.nexthop || res.Routed != tt.routed || res.BadDomain {
			t.Errorf("Resolve(%q) = %q %v %s:%s routed=%v bad=%v; want %q %v %s:%s routed=%v",
				tt.in, res.Recipient, res.Class, res.Transport, res.Nexthop, res.Routed, res.BadDomain,
				tt.recipient, tt.class, tt.transport, tt.nexthop, tt.routed)
		}
	}
}

func TestBadDomainAndWarnings(t *testing.T) {
	r := testResolver(t, "", "")
	for _, in := range []string{"user@bad..example", "user@1.2.3.4", "user@[1.2.3]", "user@-x.example"} {
		if res, err := r.Resolve(in); err != nil || !res.BadDomain {
			t.Errorf("Resolve(%q) = %+v, %v; want BadDomain", in, res, err)
		}
	}
	warnings := map[string][]string{
		"a@both.example":  {"do not list domain both.example in BOTH mydestination and virtual_alias_domains"},
		"a@twice.example": {"do not list domain twice.example in BOTH virtual_alias_domains and virtual_mailbox_domains"},
		"a@test.example":  nil,
	}
	for in, want := range warnings {
		res, err := r.Resolve(in)
		if err != nil || !reflect.DeepEqual(res.Warnings, want) {
			t.Errorf("Resolve(%q) warnings = %q, %v; want %q", in, res.Warnings, err, want)
		}
	}
}

// The seed mail-hub example plus the transport(5) result forms.
const seedTransport = `example.local :[192.168.1.100]
sub.example.local :sub.example.local
.example.local :[mailtrans.example.local]
special@dest.example smtp:[special.example]:2525
user@plus.example local:
slow.example slow:
error.example error:5.1.2 no such domain here
retry.example retry:try later
discard.example discard:silently dropped
list.example smtp:a.example, b.example
keep.example :
MAILER-DAEMON@mx.test.example local:bounces
`

func TestTransportMaps(t *testing.T) {
	tests := []struct {
		relayhost string
		in        string
		transport string
		nexthop   string
	}{
		{"", "user@example.local", "smtp", "[192.168.1.100]"},
		{"", "user@sub.example.local", "smtp", "sub.example.local"},
		{"", "user@deep.sub.example.local", "smtp", "[mailtrans.example.local]"},
		{"", "user@other.example.local", "smtp", "[mailtrans.example.local]"},
		{"", "user@EXAMPLE.LOCAL", "smtp", "[192.168.1.100]"},
		{"", "special@dest.example", "smtp", "[special.example]:2525"},
		{"", "other@dest.example", "smtp", "dest.example"},
		{"", "user+ext@plus.example", "local", "plus.example"},
		{"", "other@plus.example", "smtp", "plus.example"},
		{"", "a@slow.example", "slow", "slow.example"},
		{"[smart.example]:587", "a@slow.example", "slow", "slow.example"},
		{"", "a@error.example", "error", "5.1.2 no such domain here"},
		{"", "a@retry.example", "retry", "try later"},
		{"", "a@discard.example", "discard", "silently dropped"},
		{"", "a@list.example", "smtp", "a.example, b.example"},
		{"[smart.example]:587", "a@keep.example", "smtp", "[smart.example]:587"},
		{"[smart.example]:587", "a@elsewhere.example", "smtp", "[smart.example]:587"},
		{"[smart.example]:587", "a@relay.example", "relay", "[smart.example]:587"},
		{"[smart.example]:587", "a@test.example", "local", "mx.test.example"},
		{"[smart.example]:587", "a@example.local", "smtp", "[192.168.1.100]"},
		{"", "", "local", "bounces"},
	}
	for _, tt := range tests {
		extra := ""
		if tt.relayhost != "" {
			extra = "relayhost = " + tt.relayhost + "\n"
		}
		r := testResolver(t, extra, seedTransport)
		res, err := r.Resolve(tt.in)
		if err != nil || res.Transport != tt.transport || res.Nexthop != tt.nexthop {
			t.Errorf("relayhost=%q Resolve(%q) = %s:%s, %v; want %s:%s", tt.relayhost, tt.in, res.Transport, res.Nexthop, err, tt.transport, tt.nexthop)
		}
	}
}

func TestClassTransportNexthopBeatsRelayhost(t *testing.T) {
	r := testResolver(t, "relayhost = smart.example\nrelay_transport = relay:[gw.example]\ndefault_transport = smtp\n", "")
	for in, want := range map[string]string{
		"a@relay.example":     "relay:[gw.example]",
		"a@elsewhere.example": "smtp:smart.example",
	} {
		res, err := r.Resolve(in)
		if got := res.Transport + ":" + res.Nexthop; err != nil || got != want {
			t.Errorf("Resolve(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
}

func TestRegexpTransportGetsOneQuery(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.cf"), []byte("myhostname = mx.test.example\n"+
		"transport_maps = regexp:{{/^rx\\.example$$/ smtp:[domain-key]}, {/^\\*$$/ smtp:[star-key]}, {/^whole@/ smtp:[whole-address]}}\n"), 0o644)
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := FromConfig(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for in, want := range map[string]string{
		"whole@rx.example": "smtp:[whole-address]",
		"other@rx.example": "smtp:rx.example", // no domain or "*" query
	} {
		res, err := r.Resolve(in)
		if got := res.Transport + ":" + res.Nexthop; err != nil || got != want {
			t.Errorf("Resolve(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
}

func TestTransportKeys(t *testing.T) {
	var got []string
	for _, k := range transportKeys("user+ext", "sub.example.com", addr.Extensions{Delimiter: "+"}) {
		got = append(got, k.key)
	}
	want := "user+ext@sub.example.com user@sub.example.com sub.example.com .example.com .com *"
	if strings.Join(got, " ") != want {
		t.Errorf("keys = %q, want %q", strings.Join(got, " "), want)
	}
}

func TestParseDestination(t *testing.T) {
	tests := []struct {
		in   string
		want Destination
		ok   bool
	}{
		{"example.com", Destination{Host: "example.com"}, true},
		{"mail.example.com:2025", Destination{Host: "mail.example.com", Port: "2025"}, true},
		{"[mail.example.com]", Destination{Host: "mail.example.com", NoMX: true}, true},
		{"[smtp.example.net]:587", Destination{Host: "smtp.example.net", Port: "587", NoMX: true}, true},
		{"[192.0.2.1]", Destination{Host: "192.0.2.1", NoMX: true}, true},
		{"[ipv6:2001:db8::1]:25", Destination{Host: "2001:db8::1", Port: "25", NoMX: true}, true},
		{"[unclosed", Destination{}, false},
		{"host:", Destination{}, false},
		{"[]", Destination{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseDestination(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseDestination(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if got := SplitNexthops("a.example, b.example [c]:25"); !reflect.DeepEqual(got, []string{"a.example", "b.example", "[c]:25"}) {
		t.Errorf("SplitNexthops = %q", got)
	}
}

func TestParseErrorNexthop(t *testing.T) {
	tests := []struct{ nexthop, def, dsn, text string }{
		{"5.1.2 no such domain here", "5.0.0", "5.1.2", "no such domain here"},
		{"no such domain here", "5.0.0", "5.0.0", "no such domain here"},
		{"try later", "4.0.0", "4.0.0", "try later"},
		{"4.3.2 busy", "4.0.0", "4.3.2", "busy"},
		{"silently dropped", "2.0.0", "2.0.0", "silently dropped"},
	}
	for _, tt := range tests {
		dsn, text := ParseErrorNexthop(tt.nexthop, tt.def)
		if dsn != tt.dsn || text != tt.text {
			t.Errorf("ParseErrorNexthop(%q) = %q %q, want %q %q", tt.nexthop, dsn, text, tt.dsn, tt.text)
		}
	}
}
