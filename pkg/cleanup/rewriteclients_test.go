// Tests of local_header_rewrite_clients matching and its effect on SMTP mail's headers.

package cleanup

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

func loopbackOnly() []netip.Addr { return []netip.Addr{netip.MustParseAddr("127.0.0.1")} }

func TestRewriteClientsMatch(t *testing.T) {
	popTable := filepath.Join(t.TempDir(), "pop")
	if err := os.WriteFile(popTable, []byte("192.0.2.77 whatever\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		list   []string
		client string
		sasl   string
		want   bool
	}{
		{"inet interface", []string{"permit_inet_interfaces"}, "127.0.0.1", "", true},
		{"mapped inet interface", []string{"permit_inet_interfaces"}, "::ffff:127.0.0.1", "", true},
		{"not an inet interface", []string{"permit_inet_interfaces"}, "192.0.2.9", "", false},
		{"mynetworks", []string{"permit_mynetworks"}, "10.1.2.3", "", true},
		{"outside mynetworks", []string{"permit_mynetworks"}, "192.0.2.9", "", false},
		{"sasl user", []string{"permit_sasl_authenticated"}, "192.0.2.9", "alice", true},
		{"no sasl user", []string{"permit_sasl_authenticated"}, "192.0.2.9", "", false},
		{"address map hit", []string{"check_address_map", "texthash:" + popTable}, "192.0.2.77", "", true},
		{"address map miss", []string{"check_address_map", "texthash:" + popTable}, "192.0.2.9", "", false},
		{"bare table", []string{"texthash:" + popTable}, "192.0.2.77", "", true},
		{"tls never matches", []string{"permit_tls_clientcerts", "permit_tls_all_clientcerts"}, "127.0.0.1", "", false},
		{"later element matches", []string{"permit_tls_clientcerts", "permit_inet_interfaces"}, "127.0.0.1", "", true},
		{"empty list", nil, "127.0.0.1", "", false},
		{"local submission is not an SMTP client", []string{"permit_inet_interfaces"}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := NewRewriteClients(tt.list, RewriteClientsConfig{
				LocalAddresses: loopbackOnly(), MyNetworks: []string{"10.0.0.0/8"},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			sub := &ipc.CleanupSubmission{ClientName: "unknown", ClientAddress: tt.client, SASLUsername: tt.sasl}
			got, err := rc.Match(sub)
			if err != nil || got != tt.want {
				t.Errorf("Match = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestNewRewriteClientsErrors(t *testing.T) {
	tests := []struct {
		list []string
		want string
	}{
		{[]string{"permit"}, `local_header_rewrite_clients: unknown restriction: "permit"`},
		{[]string{"check_address_map"}, "local_header_rewrite_clients: restriction check_address_map needs a table argument"},
		{[]string{"nosuchtype:/x"}, "local_header_rewrite_clients: "},
	}
	for _, tt := range tests {
		_, err := NewRewriteClients(tt.list, RewriteClientsConfig{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.list, err, tt.want)
		}
	}
}

// smtpFrom is an SMTP submission from client address ip.
func smtpFrom(ip string) *ipc.CleanupSubmission {
	sub := remote("sender", "rcpt@test.example")
	sub.ClientName, sub.ClientAddress = "unknown", ip
	return sub
}

func TestLocalHeaderClientsGetLocalTreatment(t *testing.T) {
	tests := []struct {
		name    string
		list    []string
		client  string
		local   bool
		content string
	}{
		{"inet_interfaces client", []string{"permit_inet_interfaces"}, "127.0.0.1", true, "To: bob\n\nbody\n"},
		{"remote client", []string{"permit_inet_interfaces"}, "192.0.2.9", false, "To: bob\n\nbody\n"},
		{"mynetworks client", []string{"permit_mynetworks"}, "192.0.2.9", true, "To: bob\n\nbody\n"},
		{"outside mynetworks", []string{"permit_mynetworks"}, "198.51.100.1", false, "To: bob\n\nbody\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSettings()
			rc, err := NewRewriteClients(tt.list, RewriteClientsConfig{LocalAddresses: loopbackOnly(), MyNetworks: []string{"192.0.2.0/24"}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rc.Close() })
			s.LocalHeaderClients = rc
			ts := startServer(t, s)
			reply := ts.submit(smtpFrom(tt.client), tt.content)
			if reply.Status != 0 {
				t.Fatalf("reply %+v", reply)
			}
			m, content := ts.load(reply.QueueID)
			id := reply.QueueID
			wantLocal := "\nTo: bob@test.example\n" +
				"Message-Id: <20261128130359." + id + "@mx.test.example>\n" +
				"Date: Sat, 28 Nov 2026 13:03:59 +0000 (UTC)\n" +
				"From: sender@test.example\n\nbody\n"
			wantRemote := "\nTo: bob\n\nbody\n"
			want, wantContext := wantRemote, "remote"
			if tt.local {
				want, wantContext = wantLocal, "local"
			}
			if !strings.HasSuffix(content, want) {
				t.Errorf("content:\n%q\nwant suffix\n%q", content, want)
			}
			if !strings.HasPrefix(content, "Received: from c.example (unknown ["+tt.client+"])\n") {
				t.Errorf("Received: changed:\n%s", content)
			}
			if v, _ := m.Attr("rewrite_context"); v != wantContext {
				t.Errorf("rewrite_context %q, want %q", v, wantContext)
			}
			if v, _ := m.Attr(queue.AttrClientAddr); v != tt.client {
				t.Errorf("client_address %q", v)
			}
		})
	}
}

func TestRemoteHeaderRewriteDomain(t *testing.T) {
	s := baseSettings()
	s.AppendDotMyDomain = true
	s.RemoteHeaderDomain = "domain.invalid"
	ts := startServer(t, s)
	reply := ts.submit(smtpFrom("192.0.2.9"), "To: bob, carol@host, dave@remote.example\n\nbody\n")
	_, content := ts.load(reply.QueueID)
	want := "\nTo: bob@domain.invalid, carol@host.domain.invalid, dave@remote.example\n\nbody\n"
	if !strings.HasSuffix(content, want) {
		t.Errorf("content:\n%q\nwant suffix\n%q", content, want)
	}
}

func TestFromConfigLocalHeaderClients(t *testing.T) {
	dir := t.TempDir()
	mainCF := "myhostname = mx.test.example\nmydomain = test.example\ninet_interfaces = 127.0.0.1\n" +
		"mynetworks = 127.0.0.0/8\nremote_header_rewrite_domain = domain.invalid\n"
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, closeAll, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	if s.RemoteHeaderDomain != "domain.invalid" {
		t.Errorf("RemoteHeaderDomain %q", s.RemoteHeaderDomain)
	}
	for client, want := range map[string]bool{"127.0.0.1": true, "192.0.2.9": false} {
		got, err := s.LocalHeaderClients.Match(smtpFrom(client))
		if err != nil || got != want {
			t.Errorf("%s: Match = %v, %v; want %v", client, got, err, want)
		}
	}
}
