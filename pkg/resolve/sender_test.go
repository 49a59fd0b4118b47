// Tests of sender_dependent_relayhost_maps and
// sender_dependent_default_transport_maps.

package resolve

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSenderDependentRouting(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return "texthash:" + path
	}
	relays := write("relays", "alice@client.example [smarthost.example]:587\n@other.example [other-relay.example]\n<> [bounce-relay.example]\nbob@client.example DUNNO\n")
	transports := write("transports", "@bulk.example bulk:[bulk-relay.example]\nuser@test.example local-out\n")
	r := testResolver(t, "relayhost = [default-relay.example]\n"+
		"sender_dependent_relayhost_maps = "+relays+"\n"+
		"sender_dependent_default_transport_maps = "+transports+"\n", "dest.example :[transport-hop.example]\n")
	tests := []struct {
		sender, rcpt       string
		transport, nexthop string
	}{
		{"alice@client.example", "x@remote.example", "smtp", "[smarthost.example]:587"},
		{"alice+tag@client.example", "x@remote.example", "smtp", "[smarthost.example]:587"},
		{"carol@other.example", "x@remote.example", "smtp", "[other-relay.example]"},
		{"bob@client.example", "x@remote.example", "smtp", "[default-relay.example]"},
		{"nobody@elsewhere.example", "x@remote.example", "smtp", "[default-relay.example]"},
		{"", "x@remote.example", "smtp", "[bounce-relay.example]"},
		// relay_domains use relay_transport, but the relayhost map applies.
		{"alice@client.example", "x@relay.example", "relay", "[smarthost.example]:587"},
		// The transport's own nexthop wins over the relayhost map.
		{"x@bulk.example", "x@remote.example", "bulk", "[bulk-relay.example]"},
		// A local sender's bare local part is a key.
		{"user@test.example", "x@remote.example", "local-out", "[default-relay.example]"},
		// Local delivery is not affected.
		{"alice@client.example", "user@test.example", "local", "mx.test.example"},
		// transport_maps win over both.
		{"alice@client.example", "x@dest.example", "smtp", "[transport-hop.example]"},
	}
	for _, tt := range tests {
		res, err := r.ResolveFrom(tt.sender, tt.rcpt)
		if err != nil {
			t.Fatalf("ResolveFrom(%q, %q): %v", tt.sender, tt.rcpt, err)
		}
		if res.Transport != tt.transport || res.Nexthop != tt.nexthop {
			t.Errorf("ResolveFrom(%q, %q) = %s:%s, want %s:%s", tt.sender, tt.rcpt, res.Transport, res.Nexthop, tt.transport, tt.nexthop)
		}
	}
	// Without the sender, the tables are not used.
	if res, _ := r.Resolve("x@remote.example"); res.Nexthop != "[default-relay.example]" {
		t.Errorf("Resolve without sender: nexthop %s", res.Nexthop)
	}
}
