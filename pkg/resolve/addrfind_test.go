// Tests of the mail_addr_find key order and of the search over tables.

package resolve

import (
	"strings"
	"testing"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/maps"
)

// keyString writes keys as "key" with "~" for a partial key and "-" for
// one that lost the extension, separated by blanks.
func keyString(keys []AddressKey) string {
	var parts []string
	for _, k := range keys {
		s := k.Key
		if k.Partial {
			s += "~"
		}
		if k.ExtensionCut {
			s += "-"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestAddressKeysOrder(t *testing.T) {
	r := testResolver(t, "myorigin = origin.example\n", "")
	tests := []struct {
		address, keys, ext string
	}{
		// Remote domain: whole address, without extension, @domain.
		{"alice+tag@remote.example", "alice+tag@remote.example alice@remote.example~- @remote.example~-", "+tag"},
		{"alice@remote.example", "alice@remote.example @remote.example~", ""},
		// Local by mydestination ($myhostname too), by myorigin, by an
		// address literal of this host, with a trailing dot: the local
		// part alone, with then without extension, before @domain.
		{"alice+tag@test.example", "alice+tag@test.example alice@test.example~- alice+tag~ alice~- @test.example~-", "+tag"},
		{"alice@mx.test.example", "alice@mx.test.example alice~ @mx.test.example~", ""},
		{"alice@Origin.Example", "alice@Origin.Example alice~ @Origin.Example~", ""},
		{"alice@[127.0.0.1]", "alice@[127.0.0.1] alice~ @[127.0.0.1]~", ""},
		{"alice@[127.0.0.2]", "alice@[127.0.0.2] @[127.0.0.2]~", ""},
		{"alice@test.example.", "alice@test.example. alice~ @test.example.~", ""},
		// Case is kept: the tables fold it.
		{"Alice+Tag@TEST.example", "Alice+Tag@TEST.example Alice@TEST.example~- Alice+Tag~ Alice~- @TEST.example~-", "+Tag"},
		// No domain: the address and the address without extension.
		{"alice+tag", "alice+tag alice~-", "+tag"},
		{"alice", "alice", ""},
		// A leading delimiter is no extension.
		{"+tag@remote.example", "+tag@remote.example @remote.example~", ""},
	}
	f := r.AddressFinder()
	for _, tt := range tests {
		keys, ext, err := f.Keys(tt.address)
		if got := keyString(keys); err != nil || got != tt.keys || ext != tt.ext {
			t.Errorf("Keys(%q) = %q, %q, %v; want %q, %q", tt.address, got, ext, err, tt.keys, tt.ext)
		}
	}
	// No recipient_delimiter: no key without extension; with "-",
	// owner-list and list-request keep their names.
	for _, tt := range []struct{ delimiter, address, keys string }{
		{"", "alice+tag@remote.example", "alice+tag@remote.example @remote.example~"},
		{"-", "owner-list@remote.example", "owner-list@remote.example @remote.example~"},
		{"-", "list-request@remote.example", "list-request@remote.example @remote.example~"},
		{"-", "list-x@remote.example", "list-x@remote.example list@remote.example~- @remote.example~-"},
	} {
		keys, _, err := AddressFinder{Extensions: addr.Extensions{Delimiter: tt.delimiter, OwnerRequestSpecial: true}}.Keys(tt.address)
		if got := keyString(keys); err != nil || got != tt.keys {
			t.Errorf("delimiter %q: Keys(%q) = %q, %v; want %q", tt.delimiter, tt.address, got, err, tt.keys)
		}
	}
}

func TestAddressFinderFind(t *testing.T) {
	open := func(spec string) maps.Table {
		t.Helper()
		tab, err := maps.Open(spec, maps.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tab.Close() })
		return tab
	}
	// The pattern table matches every key but is asked for the whole
	// address only; a fixed table gets the partial keys.
	pattern := open("regexp:{{/^(alice|@local\\.example)$/ pattern}}")
	fixed := open("inline:{alice=fixed-local, @local.example=fixed-domain}")
	f := AddressFinder{Extensions: addr.Extensions{Delimiter: "+"}, IsLocal: func(d string) (bool, error) { return d == "local.example", nil }}
	for _, tt := range []struct {
		tables  []maps.Table
		address string
		value   string
		key     string
	}{
		{[]maps.Table{pattern, fixed}, "alice+x@local.example", "fixed-local", "alice"},
		{[]maps.Table{pattern, fixed}, "bob@local.example", "fixed-domain", "@local.example"},
		{[]maps.Table{pattern}, "alice@local.example", "", ""},
		{[]maps.Table{fixed}, "alice@remote.example", "", ""},
	} {
		m, found, err := f.Find(tt.tables, tt.address)
		if err != nil || m.Value != tt.value || m.Key.Key != tt.key || found != (tt.value != "") {
			t.Errorf("Find(%q) = %q by %q, %v, %v; want %q by %q", tt.address, m.Value, m.Key.Key, found, err, tt.value, tt.key)
		}
	}
}
