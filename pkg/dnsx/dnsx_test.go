// Tests of MX and address lookups against an in-test DNS server.

package dnsx

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dnsx/dnstest"
)

func testZone(t *testing.T) *dnstest.Server {
	s := dnstest.Start(t,
		"multi.test. IN MX 20 backup.multi.test.",
		"multi.test. IN MX 10 a.multi.test.",
		"multi.test. IN MX 10 b.multi.test.",
		"multi.test. IN MX 30 nowhere.multi.test.",
		"a.multi.test. IN A 127.0.0.2",
		"b.multi.test. IN A 127.0.0.3",
		"backup.multi.test. IN A 127.0.0.4",
		"backup.multi.test. IN AAAA ::1",
		"plain.test. IN A 127.0.0.5",
		"nullmx.test. IN MX 0 .",
		"noaddr.test. IN TXT \"x\"",
		"broken.test. IN MX 10 a.multi.test.",
		"lost.test. IN MX 10 gone.lost.test.",
	)
	s.FailName("broken.test")
	s.FailName("flaky.test")
	return s
}

func newTestResolver(s *dnstest.Server) *Resolver {
	r := New([]string{s.Addr})
	r.Timeout = 10 * time.Second
	r.Shuffle = func(n int, swap func(i, j int)) {
		for i := 0; i < n/2; i++ {
			swap(i, n-1-i)
		}
	}
	return r
}

func describe(hosts []Host) []string {
	var out []string
	for _, h := range hosts {
		line := fmt.Sprintf("%d %s %v mx=%v", h.Pref, h.Name, h.Addrs, h.FromMX)
		if h.Err != nil {
			line += " err=" + h.Err.Error()
		}
		out = append(out, line)
	}
	return out
}

func TestLookupMX(t *testing.T) {
	r := newTestResolver(testZone(t))
	tests := []struct {
		domain  string
		want    []string
		wantErr string
		dsn     string
		temp    bool
	}{
		{domain: "multi.test", want: []string{
			"10 b.multi.test [127.0.0.3] mx=true",
			"10 a.multi.test [127.0.0.2] mx=true",
			"20 backup.multi.test [127.0.0.4 ::1] mx=true",
			"30 nowhere.multi.test [] mx=true err=Host or domain name not found. Name service error for name=nowhere.multi.test type=A: Host not found",
		}},
		{domain: "lost.test", wantErr: "Host or domain name not found. Name service error for name=gone.lost.test type=A: Host not found", dsn: "5.4.4"},
		{domain: "plain.test", want: []string{"0 plain.test [127.0.0.5] mx=false"}},
		{domain: "nullmx.test", wantErr: "Domain nullmx.test does not accept mail (nullMX)", dsn: "5.1.10"},
		{domain: "missing.test", wantErr: "Host or domain name not found. Name service error for name=missing.test type=A: Host not found", dsn: "5.4.4"},
		{domain: "broken.test", wantErr: "Host or domain name not found. Name service error for name=broken.test type=MX: Host not found, try again", dsn: "4.4.3", temp: true},
		{domain: "noaddr.test", wantErr: "Host or domain name not found. Name service error for name=noaddr.test type=A: Host found but no data record of requested type", dsn: "5.4.4"},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			hosts, err := r.LookupMX(context.Background(), tt.domain)
			if tt.wantErr != "" {
				e, ok := err.(*Error)
				if !ok {
					t.Fatalf("err = %v (%T), want *Error", err, err)
				}
				if e.Text != tt.wantErr || e.DSN != tt.dsn || e.Temporary != tt.temp {
					t.Fatalf("err = %+v, want %q %s temp=%v", e, tt.wantErr, tt.dsn, tt.temp)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(hosts); !slices.Equal(got, tt.want) {
				t.Fatalf("hosts =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestLookupHostAndFamilies(t *testing.T) {
	r := newTestResolver(testZone(t))
	r.IPv6 = false
	hosts, err := r.LookupHost(context.Background(), "backup.multi.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(hosts); !slices.Equal(got, []string{"0 backup.multi.test [127.0.0.4] mx=false"}) {
		t.Fatalf("hosts = %q", got)
	}
	addrs, err := r.LookupAddrs(context.Background(), "127.0.0.9")
	if err != nil || !slices.Equal(addrs, []netip.Addr{netip.MustParseAddr("127.0.0.9")}) {
		t.Fatalf("literal address: %v %v", addrs, err)
	}
	_, err = r.LookupAddrs(context.Background(), "flaky.test")
	if e, ok := err.(*Error); !ok || !e.Temporary || e.DSN != "4.4.3" {
		t.Fatalf("servfail A: %v", err)
	}
}

func TestUnreachableServerIsTemporary(t *testing.T) {
	r := New([]string{"127.0.0.1:1"})
	r.Timeout = 300 * time.Millisecond
	_, err := r.LookupMX(context.Background(), "example.test")
	e, ok := err.(*Error)
	if !ok || !e.Temporary || e.Text != "Host or domain name not found. Name service error for name=example.test type=MX: Host not found, try again" {
		t.Fatalf("err = %v", err)
	}
}

func TestServers(t *testing.T) {
	got, err := ParseServers([]string{"127.0.0.1:5353", "127.0.0.2", "[::1]:53"})
	if err != nil || !slices.Equal(got, []string{"127.0.0.1:5353", "127.0.0.2:53", "[::1]:53"}) {
		t.Fatalf("ParseServers = %q, %v", got, err)
	}
	if _, err := ParseServers([]string{"not an address"}); err == nil {
		t.Fatal("bad server accepted")
	}
	path := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(path, []byte("search x.test\nnameserver 127.0.0.53\nnameserver 127.0.0.54\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = ServersFromResolvConf(path)
	if err != nil || !slices.Equal(got, []string{"127.0.0.53:53", "127.0.0.54:53"}) {
		t.Fatalf("ServersFromResolvConf = %q, %v", got, err)
	}
	if _, err := ServersFromResolvConf(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("missing resolv.conf accepted")
	}
}
