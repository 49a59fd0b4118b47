// Tests of connection reuse per nexthop.
package smtpclient

import (
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

func TestConnectionReuse(t *testing.T) {
	tests := []struct {
		name       string
		reuse      bool
		idle       time.Duration
		countLimit int
		pause      time.Duration
		wantUses   []int
		wantConns  int
	}{
		{name: "reused", reuse: true, idle: 5 * time.Second, wantUses: []int{0, 1, 2}, wantConns: 1},
		{name: "count limit", reuse: true, idle: 5 * time.Second, countLimit: 2, wantUses: []int{0, 1, 0}, wantConns: 2},
		{name: "idle expired", reuse: true, idle: 20 * time.Millisecond, pause: 300 * time.Millisecond, wantUses: []int{0, 0, 0}, wantConns: 3},
		{name: "disabled", wantUses: []int{0, 0, 0}, wantConns: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := listenSink(t, "127.0.0.3:0")
			c, _ := newTestClient(t, s.port(), nil, func(cfg *Config) {
				cfg.Reuse, cfg.CacheIdleLimit, cfg.ReuseCountLimit = tt.reuse, tt.idle, tt.countLimit
			})
			for i, want := range tt.wantUses {
				r := deliver(c, "[127.0.0.3]", testMessage("user@x.test"))[0]
				if r.Status != ipc.StatusSent || r.ConnUse != want {
					t.Fatalf("delivery %d: %+v, want conn use %d", i, r, want)
				}
				time.Sleep(tt.pause)
			}
			if got := s.sessionCount(); got != tt.wantConns {
				t.Fatalf("%d connections, want %d", got, tt.wantConns)
			}
			if got := len(s.received()); got != len(tt.wantUses) {
				t.Fatalf("%d messages received", got)
			}
		})
	}
}

func TestReuseOfDeadConnectionFallsBack(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0")
	c, _ := newTestClient(t, s.port(), nil, func(cfg *Config) {
		cfg.Reuse, cfg.CacheIdleLimit = true, 5*time.Second
	})
	if r := deliver(c, "[127.0.0.3]", testMessage("a@x.test"))[0]; r.Status != ipc.StatusSent {
		t.Fatalf("first: %+v", r)
	}
	// Break the parked connection under the cache's feet.
	p := c.cache.take("[127.0.0.3]")
	p.s.close()
	c.cache.park("[127.0.0.3]", p)
	r := deliver(c, "[127.0.0.3]", testMessage("b@x.test"))[0]
	if r.Status != ipc.StatusSent || r.ConnUse != 0 {
		t.Fatalf("second: %+v", r)
	}
}

func TestDeliveryLine(t *testing.T) {
	base := time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)
	d := Delays{Arrival: base, Active: base.Add(12 * time.Second), Started: base.Add(12*time.Second + 10*time.Millisecond), Done: base.Add(12100 * time.Millisecond)}
	r := ipc.RecipientResult{Status: ipc.StatusSent, DSNCode: "2.0.0", Reply: "250 2.0.0 Ok: queued as X", Relay: "mx[127.0.0.3]:25",
		ConnUse: 1, ConnSetup: 40 * time.Millisecond, Transmission: 50 * time.Millisecond}
	got := DeliveryLine("4ABC", ipc.Recipient{Address: "a@x.test", OriginalRecipient: "alias@x.test"}, r, d)
	want := "4ABC: to=<a@x.test>, orig_to=<alias@x.test>, relay=mx[127.0.0.3]:25, conn_use=2, delay=12, delays=12/0.01/0.04/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	r.ConnUse = 0
	got = DeliveryLine("4ABC", ipc.Recipient{Address: "a@x.test", OriginalRecipient: "a@x.test"}, r, d)
	if strings.Contains(got, "conn_use") || strings.Contains(got, "orig_to") {
		t.Fatalf("got %s", got)
	}
}
