// match_test.go tests domain and network list matching.

package match

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/config"
)

func TestDomainListRule(t *testing.T) {
	items := []string{"relay.example", ".dotonly.example"}
	tests := []struct {
		domain         string
		parent, simple bool
	}{
		{"relay.example", true, true},
		{"RELAY.Example", true, true},
		{"sub.relay.example", true, false},
		{"a.b.relay.example", true, false},
		{"xrelay.example", false, false},
		{"dotonly.example", false, false},
		{"x.dotonly.example", false, true},
		{"other.example", false, false},
		{"", false, false},
	}
	parentList, err := NewDomainList("relay_domains", items, Options{ParentStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	simpleList, err := NewDomainList("mydestination", items, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if got, err := parentList.Match(tt.domain); err != nil || got != tt.parent {
			t.Errorf("parent-style Match(%q) = %v, %v; want %v", tt.domain, got, err, tt.parent)
		}
		if got, err := simpleList.Match(tt.domain); err != nil || got != tt.simple {
			t.Errorf("exact-style Match(%q) = %v, %v; want %v", tt.domain, got, err, tt.simple)
		}
	}
}

func TestDomainListExclusionAndOrder(t *testing.T) {
	l, err := NewDomainList("relay_domains", []string{"!bad.example.com", "example.com", "!ignored.example.org"}, Options{ParentStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	for domain, want := range map[string]bool{
		"example.com":           true,
		"bad.example.com":       false,
		"x.bad.example.com":     false,
		"good.example.com":      true,
		"ignored.example.org":   false,
		"other.ignored.example": false,
	} {
		if got, err := l.Match(domain); err != nil || got != want {
			t.Errorf("Match(%q) = %v, %v; want %v", domain, got, err, want)
		}
	}
}

func TestDomainListFileAndTables(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "domains")
	if err := os.WriteFile(file, []byte("# relay domains\nfile.example, other.example\n\n!no.table.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	items := config.SplitList(file + " inline:{table.example=x, .dot.example=y} regexp:{{/^re\\.example$/ z}}")
	tests := []struct {
		domain         string
		parent, simple bool
	}{
		{"file.example", true, true},
		{"sub.file.example", true, false},
		{"table.example", true, true},
		{"sub.table.example", true, false}, // parent lookup "table.example"
		{"sub.dot.example", false, true},   // ".dot.example" only without parent style
		{"no.table.example", false, false}, // "!" item from the file wins
		{"re.example", true, true},         // regexp: one query
		{"sub.re.example", false, false},   // no parent lookups in regexp tables
	}
	for _, parent := range []bool{true, false} {
		l, err := NewDomainList("relay_domains", items, Options{ParentStyle: parent})
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			want := tt.simple
			if parent {
				want = tt.parent
			}
			if got, err := l.Match(tt.domain); err != nil || got != want {
				t.Errorf("parent=%v Match(%q) = %v, %v; want %v", parent, tt.domain, got, err, want)
			}
		}
		l.Close()
	}
}

func TestListErrors(t *testing.T) {
	tests := []struct {
		network bool
		items   []string
		want    string
	}{
		{false, []string{"/nonexistent/file"}, "relay_domains: open /nonexistent/file: no such file or directory"},
		{false, []string{"nosuchtype:x"}, "relay_domains: unsupported dictionary type: nosuchtype"},
		{false, []string{"!"}, `relay_domains: empty pattern after "!"`},
		{true, []string{"1.2.3.4/33"}, `mynetworks: bad net/mask pattern: "1.2.3.4/33"`},
		{true, []string{"1.2.3.4/24"}, `mynetworks: non-null host address bits in "1.2.3.4/24", perhaps you should use "1.2.3.0/24" instead`},
		{true, []string{"[2001:db8::1]/32"}, `mynetworks: non-null host address bits in "[2001:db8::1]/32", perhaps you should use "[2001:db8::]/32" instead`},
		{true, []string{"1.2.3"}, `mynetworks: bad net/mask pattern: "1.2.3"`},
		{true, []string{"[::1"}, `mynetworks: bad address pattern: "[::1"`},
		{true, []string{"[host.example]"}, `mynetworks: bad net/mask pattern: "[host.example]"`},
	}
	for _, tt := range tests {
		var err error
		if tt.network {
			_, err = NewNetworkList("mynetworks", tt.items, Options{})
		} else {
			_, err = NewDomainList("relay_domains", tt.items, Options{})
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("%v: error = %v, want %q", tt.items, err, tt.want)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "nets")
	os.WriteFile(file, []byte("127.0.0.1\n10.0.0.1/8\n"), 0o644)
	_, err := NewNetworkList("mynetworks", []string{file}, Options{})
	if err == nil || !strings.Contains(err.Error(), file+", line 2: mynetworks: non-null host address bits") {
		t.Errorf("error in file = %v", err)
	}
}

func TestNetworkList(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "nets")
	if err := os.WriteFile(file, []byte("192.0.2.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	items := config.SplitList("127.0.0.1/32, !10.1.0.0/16 10.0.0.0/8 [::1]/128 [2001:db8::]/32 [198.51.100.7] 203.0.113.9 " +
		file + " cidr:{{172.16.0.0/12 ok}} .trusted.example inline:{host.example=1}")
	l, err := NewNetworkList("mynetworks", items, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, addr string
		want       bool
	}{
		{"", "127.0.0.1", true},
		{"", "127.0.0.2", false},
		{"", "10.2.3.4", true},
		{"", "10.1.3.4", false},
		{"", "::1", true},
		{"", "::2", false},
		{"", "2001:db8:ffff::1", true},
		{"", "2001:db9::1", false},
		{"", "198.51.100.7", true},
		{"", "203.0.113.9", true},
		{"", "192.0.2.200", true},
		{"", "172.20.1.1", true},
		{"", "::ffff:127.0.0.1", true},
		{"mx.trusted.example", "198.18.0.1", true},
		{"trusted.example", "198.18.0.1", false},
		{"unknown", "198.18.0.1", false},
		{"HOST.example", "198.18.0.1", true},
		{"", "not-an-address", false},
	}
	for _, tt := range tests {
		if got, err := l.Match(tt.name, tt.addr); err != nil || got != tt.want {
			t.Errorf("Match(%q, %q) = %v, %v; want %v", tt.name, tt.addr, got, err, tt.want)
		}
	}
}

func TestParentStyle(t *testing.T) {
	v := "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps"
	for name, want := range map[string]bool{"relay_domains": true, "smtpd_access_maps": true, "mydestination": false, "transport_maps": false} {
		if got := ParentStyle(v, name); got != want {
			t.Errorf("ParentStyle(%q) = %v", name, got)
		}
	}
}
