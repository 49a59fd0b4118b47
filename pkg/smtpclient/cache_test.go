// Tests of connection reuse per nexthop.

package smtpclient

import (
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
