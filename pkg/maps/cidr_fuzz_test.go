// cidr_fuzz_test.go fuzzes the cidr table parser and lookups.

package maps

import (
	"strings"
	"testing"
)

func FuzzCIDRTable(f *testing.F) {
	f.Add("192.168.1.0/24 r1\n[2001:db8::]/32 r2\n", "192.168.1.7")
	f.Add("if !10.0.0.0/8\n!::/0 r1\nendif x\nendif\n", "::1")
	f.Add("[1.2.3.4]/33 r\n1.2.3.4/08 r\n[::1 r\nfe80::1%eth0 r\n", "1.2.3.4")
	f.Fuzz(func(t *testing.T, source, key string) {
		table, err := readCIDR(strings.NewReader(source), "fuzz")
		if err != nil {
			t.Fatalf("reading from memory failed: %v", err)
		}
		value, found, err := table.Lookup(key)
		if err != nil || (!found && value != "") {
			t.Fatalf("Lookup(%q) = %q, %v, %v", key, value, found, err)
		}
	})
}
