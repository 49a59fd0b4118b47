// Tests of connection reuse per nexthop: qmgr's on-demand flags,
// smtp_connection_cache_destinations and the reuse limits.

package smtpclient

import (
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dnsx/dnstest"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/match"
)

func TestConnectionReuse(t *testing.T) {
	tests := []struct {
		name        string
		onDemand    bool
		load, store bool
		cacheDests  []string
		idle        time.Duration
		countLimit  int
		ageLimit    time.Duration
		// aged: the connection parked after the first delivery is
		// made older than ageLimit; expire: the test waits until the
		// idle limit has closed each parked connection.
		aged, expire bool
		wantUses     []int
		wantConns    int
	}{
		{name: "on demand", onDemand: true, load: true, store: true, idle: time.Minute, wantUses: []int{0, 1, 2}, wantConns: 1},
		{name: "no backlog", onDemand: true, idle: time.Minute, wantUses: []int{0, 0, 0}, wantConns: 3},
		{name: "load only", onDemand: true, load: true, idle: time.Minute, wantUses: []int{0, 0, 0}, wantConns: 3},
		{name: "on demand off", load: true, store: true, idle: time.Minute, wantUses: []int{0, 0, 0}, wantConns: 3},
		{name: "cache destinations", cacheDests: []string{"127.0.0.3"}, idle: time.Minute, wantUses: []int{0, 1, 2}, wantConns: 1},
		{name: "other cache destinations", cacheDests: []string{"example.com"}, idle: time.Minute, wantUses: []int{0, 0, 0}, wantConns: 3},
		{name: "count limit", onDemand: true, load: true, store: true, idle: time.Minute, countLimit: 2, wantUses: []int{0, 1, 0}, wantConns: 2},
		// As in Postfix, the reuse time limit is checked when a connection
		// is put back: the parked one, grown older than the limit while it
		// waited, is used once more, then closed.
		{name: "reuse time limit", onDemand: true, load: true, store: true, idle: time.Minute, ageLimit: time.Hour, aged: true, wantUses: []int{0, 1, 0}, wantConns: 2},
		{name: "idle expired", onDemand: true, load: true, store: true, idle: 20 * time.Millisecond, expire: true, wantUses: []int{0, 0, 0}, wantConns: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := listenSink(t, "127.0.0.3:0")
			c, _ := newTestClient(t, s.port(), nil, func(cfg *Config) {
				cfg.Reuse, cfg.CacheIdleLimit, cfg.ReuseCountLimit = tt.onDemand, tt.idle, tt.countLimit
				if tt.ageLimit > 0 {
					cfg.ReuseTimeLimit = tt.ageLimit
				}
				if tt.cacheDests != nil {
					l, err := match.NewDomainList("smtp_connection_cache_destinations", tt.cacheDests, match.Options{})
					if err != nil {
						t.Fatal(err)
					}
					cfg.CacheDestinations = l
				}
			})
			for i, want := range tt.wantUses {
				m := testMessage("user@x.test")
				m.CacheLoad, m.CacheStore = tt.load, tt.store
				r := deliver(c, "[127.0.0.3]", m)[0]
				if r.Status != ipc.StatusSent || r.ConnUse != want {
					t.Fatalf("delivery %d: %+v, want conn use %d", i, r, want)
				}
				if tt.aged && i == 0 {
					ageParked(t, c.cache, 2*tt.ageLimit)
				}
				if tt.expire {
					waitNoneParked(t, c.cache)
				}
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

// ageParked makes every parked connection older by d, as if it had
// been opened d earlier: the reuse time limit without the wait.
func ageParked(t *testing.T, c *connCache, d time.Duration) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, list := range c.parked {
		for _, p := range list {
			p.opened = p.opened.Add(-d)
			p.s.opened = p.s.opened.Add(-d)
			n++
		}
	}
	if n == 0 {
		t.Fatal("no connection parked to age")
	}
}

// waitNoneParked waits, for at most 30 seconds, until the idle limit's
// timers have closed every parked connection.
func waitNoneParked(t *testing.T, c *connCache) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		c.mu.Lock()
		n := len(c.parked)
		c.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d endpoints still have parked connections past the idle limit", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCachedConnectionLoadOnly: when the backlog ends, qmgr stops asking
// to store but a cached connection is still used, and put back.
func TestCachedConnectionLoadOnly(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0")
	c, _ := newTestClient(t, s.port(), nil, func(cfg *Config) {
		cfg.Reuse, cfg.CacheIdleLimit = true, time.Minute
	})
	for i, flags := range []struct{ load, store bool }{{true, true}, {true, false}, {true, false}} {
		m := testMessage("user@x.test")
		m.CacheLoad, m.CacheStore = flags.load, flags.store
		if r := deliver(c, "[127.0.0.3]", m)[0]; r.Status != ipc.StatusSent || r.ConnUse != i {
			t.Fatalf("delivery %d: %+v, want conn use %d", i, r, i)
		}
	}
	if got := s.sessionCount(); got != 1 {
		t.Fatalf("%d connections, want 1", got)
	}
}

func TestReuseOfDeadConnectionFallsBack(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0")
	c, _ := newTestClient(t, s.port(), nil, func(cfg *Config) {
		cfg.Reuse, cfg.CacheIdleLimit = true, time.Minute
	})
	cached := func(rcpt string) *Message {
		m := testMessage(rcpt)
		m.CacheLoad, m.CacheStore = true, true
		return m
	}
	if r := deliver(c, "[127.0.0.3]", cached("a@x.test"))[0]; r.Status != ipc.StatusSent {
		t.Fatalf("first: %+v", r)
	}
	// Break the parked connection under the cache's feet.
	p := c.cache.take("[127.0.0.3]")
	if p == nil {
		t.Fatal("no connection cached")
	}
	p.s.close()
	c.cache.park("[127.0.0.3]", p.s.target.endpoint(), p)
	r := deliver(c, "[127.0.0.3]", cached("b@x.test"))[0]
	if r.Status != ipc.StatusSent || r.ConnUse != 0 {
		t.Fatalf("second: %+v", r)
	}
}

// TestReuseByServerAddress: a connection cached for one destination
// serves another destination whose mail exchanger has the same address,
// and the second destination gets its own binding.
func TestReuseByServerAddress(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0")
	zone := dnstest.Start(t,
		"one.test. IN MX 10 mx.shared.test.",
		"two.test. IN MX 10 mx.shared.test.",
		"mx.shared.test. IN A 127.0.0.3",
	)
	c, _ := newTestClient(t, s.port(), zone, func(cfg *Config) {
		cfg.Reuse, cfg.CacheIdleLimit = true, time.Minute
	})
	for i, d := range []struct{ nexthop, rcpt string }{{"one.test", "a@one.test"}, {"two.test", "b@two.test"}, {"two.test", "c@two.test"}} {
		m := testMessage(d.rcpt)
		m.CacheLoad, m.CacheStore = true, true
		if r := deliver(c, d.nexthop, m)[0]; r.Status != ipc.StatusSent || r.ConnUse != i {
			t.Fatalf("delivery %d: %+v, want conn use %d", i, r, i)
		}
	}
	if got := s.sessionCount(); got != 1 {
		t.Fatalf("%d connections, want 1", got)
	}
	// With TLS policy maps, which could give two.test another policy, a
	// connection is not shared between destinations.
	c2, _ := newTestClient(t, s.port(), zone, func(cfg *Config) {
		cfg.Reuse, cfg.CacheIdleLimit, cfg.TLS.Level = true, time.Minute, "may"
		cfg.TLS.PolicyMaps = []maps.Table{passwordMap(t, "elsewhere.test encrypt")}
	})
	for _, d := range []struct{ nexthop, rcpt string }{{"one.test", "a@one.test"}, {"two.test", "b@two.test"}} {
		m := testMessage(d.rcpt)
		m.CacheLoad, m.CacheStore = true, true
		if r := deliver(c2, d.nexthop, m)[0]; r.Status != ipc.StatusSent || r.ConnUse != 0 {
			t.Fatalf("with TLS policy maps, %s: %+v, want a new connection", d.nexthop, r)
		}
	}
}

// TestTLSConnectionReuse: a TLS connection is cached only with
// smtp_tls_connection_reuse = yes or a policy's connection_reuse=yes, as
// in Postfix; the reused connection is still encrypted.
func TestTLSConnectionReuse(t *testing.T) {
	pool, certs := testCA(t, []string{"127.0.0.3"})
	for _, tt := range []struct {
		name      string
		reuse     bool
		policy    string
		wantUses  []int
		wantConns int
	}{
		{name: "default", wantUses: []int{0, 0}, wantConns: 2},
		{name: "smtp_tls_connection_reuse", reuse: true, wantUses: []int{0, 1}, wantConns: 1},
		{name: "policy connection_reuse=yes", policy: "encrypt connection_reuse=yes", wantUses: []int{0, 1}, wantConns: 1},
		{name: "policy connection_reuse=no", reuse: true, policy: "encrypt connection_reuse=no", wantUses: []int{0, 0}, wantConns: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := listenSink(t, "127.0.0.3:0", withTLS(certs[0]))
			nexthop := "[127.0.0.3]:" + s.port()
			c, _ := newTestClient(t, s.port(), nil, func(cfg *Config) {
				cfg.Reuse, cfg.CacheIdleLimit = true, time.Minute
				cfg.TLS.Level, cfg.TLS.RootCAs, cfg.TLS.ConnectionReuse = "encrypt", pool, tt.reuse
				if tt.policy != "" {
					cfg.TLS.PolicyMaps = []maps.Table{passwordMap(t, nexthop+" "+tt.policy)}
				}
			})
			for i, want := range tt.wantUses {
				m := testMessage("user@x.test")
				m.CacheLoad, m.CacheStore = true, true
				if r := deliver(c, nexthop, m)[0]; r.Status != ipc.StatusSent || r.ConnUse != want {
					t.Fatalf("delivery %d: %+v, want conn use %d", i, r, want)
				}
			}
			// go-smtp starts a new session after STARTTLS: two per connection.
			if got := s.sessionCount(); got != 2*tt.wantConns {
				t.Fatalf("%d sessions, want %d", got, 2*tt.wantConns)
			}
			for _, m := range s.received() {
				if !m.tls {
					t.Fatalf("a message came without TLS: %+v", m)
				}
			}
		})
	}
}

// TestSASLConnectionReuse: an authenticated connection is cached and
// reused for its destination, but not for another destination at the
// same address, whose credentials may differ (Postfix's endpoint label
// has the next hop and host name when smtp_sasl_password_maps is set).
func TestSASLConnectionReuse(t *testing.T) {
	s := listenSink(t, "127.0.0.4:0", insecureAuth, withAuth("bob", "pw", "PLAIN"), withAuth("eve", "pw2", "PLAIN"))
	zone := dnstest.Start(t,
		"one.test. IN MX 10 mx.shared.test.",
		"two.test. IN MX 10 mx.shared.test.",
		"mx.shared.test. IN A 127.0.0.4",
	)
	c, _ := newTestClient(t, s.port(), zone, func(cfg *Config) {
		cfg.Reuse, cfg.CacheIdleLimit = true, time.Minute
		cfg.SASL = SASLPolicy{Enable: true, Options: []string{"noanonymous"},
			Passwords: []maps.Table{passwordMap(t, "one.test bob:pw", "two.test eve:pw2")}}
	})
	for i, d := range []struct {
		nexthop, rcpt string
		wantUse       int
	}{{"one.test", "a@one.test", 0}, {"one.test", "b@one.test", 1}, {"two.test", "c@two.test", 0}, {"two.test", "d@two.test", 1}} {
		m := testMessage(d.rcpt)
		m.CacheLoad, m.CacheStore = true, true
		if r := deliver(c, d.nexthop, m)[0]; r.Status != ipc.StatusSent || r.ConnUse != d.wantUse {
			t.Fatalf("delivery %d: %+v, want conn use %d", i, r, d.wantUse)
		}
	}
	if got := s.sessionCount(); got != 2 {
		t.Fatalf("%d connections, want 2", got)
	}
	var users []string
	for _, m := range s.received() {
		users = append(users, m.user)
	}
	if strings.Join(users, " ") != "bob bob eve eve" {
		t.Fatalf("messages from users %q, want bob bob eve eve", users)
	}
}
