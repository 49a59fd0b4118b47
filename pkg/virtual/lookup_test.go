package virtual

import (
	"reflect"
	"testing"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/maps"
)

func TestLookupKeys(t *testing.T) {
	tests := []struct {
		addr, delim string
		want        []string
	}{
		{"Bob@Example.TEST", "+", []string{"bob@example.test", "@example.test"}},
		{"bob+news@example.test", "+", []string{"bob+news@example.test", "bob@example.test", "@example.test"}},
		{"bob-news@example.test", "+-", []string{"bob-news@example.test", "bob@example.test", "@example.test"}},
		{"bob+news@example.test", "", []string{"bob+news@example.test", "@example.test"}},
		{"+only@example.test", "+", []string{"+only@example.test", "@example.test"}},
		{"nodomain", "+", []string{"nodomain"}},
	}
	for _, tt := range tests {
		if got := lookupKeys(tt.addr, addr.Extensions{Delimiter: tt.delim}); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("lookupKeys(%q, %q) = %q, want %q", tt.addr, tt.delim, got, tt.want)
		}
	}
}

func TestFindAddressOrder(t *testing.T) {
	open := func(spec string) maps.Table {
		tb, err := maps.Open(spec, maps.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tb.Close() })
		return tb
	}
	fixed := open("inline:{ bob@example.test=bob/, @example.test=catchall/, carol+x@example.test=carolx/ }")
	// Pattern tables see only the full address: "@example.test" never
	// reaches this one, so it cannot answer for the catch-all.
	pattern := open("regexp:{ {/^@/ pattern-saw-domain/}, {/^dave@/ dave/} }")
	tests := []struct {
		addr      string
		want      string
		wantFound bool
	}{
		{"bob@example.test", "bob/", true},
		{"BOB@example.test", "bob/", true},
		{"bob+ext@example.test", "bob/", true},
		{"carol+x@example.test", "carolx/", true},
		{"dave@example.test", "dave/", true},
		{"eve@example.test", "catchall/", true},
		{"eve@other.test", "", false},
	}
	for _, tt := range tests {
		got, _, found, err := findAddress([]maps.Table{pattern, fixed}, tt.addr, addr.Extensions{Delimiter: "+"})
		if err != nil || got != tt.want || found != tt.wantFound {
			t.Errorf("findAddress(%q) = %q, %v, %v; want %q, %v", tt.addr, got, found, err, tt.want, tt.wantFound)
		}
	}
}
