package config

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestLocalAddresses(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		want     []string
	}{
		{"listed", map[string]string{"inet_interfaces": "127.0.0.1, [::1]", "proxy_interfaces": "192.0.2.7"},
			[]string{"127.0.0.1", "::1", "192.0.2.7"}},
		{"protocols limit inet_interfaces, not proxy_interfaces",
			map[string]string{"inet_interfaces": "127.0.0.1 ::1", "inet_protocols": "ipv4", "proxy_interfaces": "2001:db8::1"},
			[]string{"127.0.0.1", "2001:db8::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults(t.TempDir())
			for n, v := range tt.settings {
				c.Set(n, v)
			}
			addrs, err := c.LocalAddresses()
			if err != nil {
				t.Fatal(err)
			}
			var want []netip.Addr
			for _, s := range tt.want {
				want = append(want, netip.MustParseAddr(s))
			}
			if !reflect.DeepEqual(addrs, want) {
				t.Errorf("LocalAddresses() = %v, want %v", addrs, want)
			}
		})
	}
	c := Defaults(t.TempDir())
	c.Set("inet_interfaces", "loopback-only")
	addrs, err := c.LocalAddresses()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if !a.IsLoopback() {
			t.Errorf("loopback-only gave %v", a)
		}
	}
}
