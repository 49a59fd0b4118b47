package verify

import (
	"context"

	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/maps"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// probeLog records the probes a cache sends, and its warnings.
type probeLog struct {
	mu       sync.Mutex
	warnings []string
	sent     chan string
}

func newProbeLog() *probeLog { return &probeLog{sent: make(chan string, 100)} }

// warn records a cache's warning.
func (p *probeLog) warn(w string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.warnings = append(p.warnings, w)
}

// takeWarnings returns the warnings so far and forgets them.
func (p *probeLog) takeWarnings() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.warnings
	p.warnings = nil
	return w
}

func (p *probeLog) probe(addr string) { p.sent <- addr }

// expectProbe waits for the probe to addr the last query started.
func (p *probeLog) expectProbe(t *testing.T, addr string) {
	t.Helper()
	select {
	case got := <-p.sent:
		if got != addr {
			t.Fatalf("probe to %q, want %q", got, addr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no probe to %s", addr)
	}
}

// expectNoProbe checks that no probe was started. A probe runs in its
// own goroutine, so a wrong one may show only later: the tests check the
// cache's record of the probe time as well.
func (p *probeLog) expectNoProbe(t *testing.T) {
	t.Helper()
	select {
	case got := <-p.sent:
		t.Fatalf("unexpected probe to %s", got)
	default:
	}
}

func defaultSettings(t *testing.T) Settings {
	t.Helper()
	s, err := FromConfig(config.Defaults(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTestCache(t *testing.T, s Settings, table Table) (*Cache, *fakeClock, *probeLog) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	probes := newProbeLog()
	c := &Cache{Settings: s, Table: table, Probe: probes.probe, Now: clock.now, Warn: probes.warn}
	t.Cleanup(func() {
		if w := probes.takeWarnings(); len(w) > 0 {
			t.Errorf("warnings: %q", w)
		}
	})
	return c, clock, probes
}

func TestDefaults(t *testing.T) {
	s := defaultSettings(t)
	if s.Map != "btree:/var/lib/postfix/verify_cache" || s.Sender != "double-bounce" || !s.NegativeCache ||
		s.PositiveExpire != 31*24*time.Hour || s.PositiveRefresh != 7*24*time.Hour ||
		s.NegativeExpire != 3*24*time.Hour || s.NegativeRefresh != 3*time.Hour {
		t.Errorf("defaults: %+v", s)
	}
	if s.SenderTTL != 0 {
		t.Errorf("address_verify_sender_ttl default %v, want 0", s.SenderTTL)
	}
}

func TestProbeSender(t *testing.T) {
	// 966 = 1*31*31 + 0*31 + 5 hours since the epoch; 30 is the last digit, Z.
	at966h := time.Unix(966*3600+1800, 0)
	for _, tc := range []struct {
		sender string
		ttl    time.Duration
		at     time.Time
		want   string
	}{
		{"<>", 0, at966h, ""},
		{"<>", time.Hour, at966h, ""},
		{"", time.Hour, at966h, ""},
		{"double-bounce", 0, at966h, "double-bounce"},
		{"double-bounce", time.Hour, at966h, "double-bounce105"},
		{"probe@example.com", time.Hour, at966h, "probe105@example.com"},
		{"probe@example.com", time.Hour, time.Unix(30*3600, 0), "probeZ@example.com"},
		{"probe@example.com", time.Hour, time.Unix(31*3600-1, 0), "probeZ@example.com"},
		{"probe@example.com", time.Hour, time.Unix(31*3600, 0), "probe10@example.com"},
	} {
		s := Settings{Sender: tc.sender, SenderTTL: tc.ttl}
		if got := s.ProbeSender(tc.at); got != tc.want {
			t.Errorf("sender %q ttl %v at %v: %q, want %q", tc.sender, tc.ttl, tc.at.Unix(), got, tc.want)
		}
	}
}

func TestProbeSenderAtSigns(t *testing.T) {
	for value, want := range map[string]string{
		"@example.com":   `parameter address_verify_sender: value "@example.com" must not start with '@'`,
		"double-bounce@": `parameter address_verify_sender: value "double-bounce@" must not end with '@'`,
	} {
		cfg := config.Defaults(t.TempDir())
		cfg.Set("address_verify_sender", value)
		if _, err := FromConfig(cfg); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", value, err, want)
		}
	}
}

func TestQueryProbesOnceAndCaches(t *testing.T) {
	table := NewMemoryTable()
	c, clock, probes := newTestCache(t, defaultSettings(t), table)
	status, text := c.Query("u@example.com")
	if status != StatusTodo || text != "Address verification in progress" {
		t.Fatalf("first query: %d %q", status, text)
	}
	probes.expectProbe(t, "u@example.com")
	if v, _, _ := table.Lookup("u@example.com"); v != "3:1800000000:0:Address verification in progress" {
		t.Errorf("entry after the probe: %q", v)
	}
	// Within 1000 s of the probe, no second one.
	clock.advance(999 * time.Second)
	if status, _ := c.Query("u@example.com"); status != StatusTodo {
		t.Errorf("second query: %d", status)
	}
	probes.expectNoProbe(t)
	// The probe is presumed lost after 1000 s.
	clock.advance(2 * time.Second)
	c.Query("u@example.com")
	probes.expectProbe(t, "u@example.com")
}

func TestUpdateAnswersAndRefreshes(t *testing.T) {
	table := NewMemoryTable()
	s := defaultSettings(t)
	c, clock, probes := newTestCache(t, s, table)
	c.Query("nobody@example.com")
	probes.expectProbe(t, "nobody@example.com")
	const why = "host mx[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)"
	if err := c.Update("nobody@example.com", StatusBounce, why); err != nil {
		t.Fatal(err)
	}
	if status, text := c.Query("nobody@example.com"); status != StatusBounce || text != why {
		t.Errorf("after the result: %d %q", status, text)
	}
	probes.expectNoProbe(t)
	// Past the negative refresh time the answer stands and a new probe
	// goes out (once).
	clock.advance(s.NegativeRefresh + time.Second)
	if status, _ := c.Query("nobody@example.com"); status != StatusBounce {
		t.Errorf("after the refresh time: %d", status)
	}
	probes.expectProbe(t, "nobody@example.com")
	c.Query("nobody@example.com")
	probes.expectNoProbe(t)
	// Past the negative expiry (and the probe's 1000 s) it is unknown.
	clock.advance(s.NegativeExpire)
	if status, _ := c.Query("nobody@example.com"); status != StatusTodo {
		t.Errorf("after expiry: %d", status)
	}
	probes.expectProbe(t, "nobody@example.com")
}

func TestFailedProbeKeepsDeliverable(t *testing.T) {
	c, clock, probes := newTestCache(t, defaultSettings(t), NewMemoryTable())
	if err := c.Update("u@example.com", StatusOK, "250 2.1.5 Ok"); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Hour)
	if err := c.Update("u@example.com", StatusDefer, "connect to mx: Connection refused"); err != nil {
		t.Fatal(err)
	}
	if status, text := c.Query("u@example.com"); status != StatusOK || text != "250 2.1.5 Ok" {
		t.Errorf("after a failed probe: %d %q", status, text)
	}
	probes.expectNoProbe(t)
	if err := c.Update("u@example.com", Status(7), "x"); err == nil {
		t.Error("status 7 accepted")
	}
}

func TestNoNegativeCache(t *testing.T) {
	s := defaultSettings(t)
	s.NegativeCache = false
	table := NewMemoryTable()
	c, _, probes := newTestCache(t, s, table)
	c.Query("u@example.com")
	probes.expectProbe(t, "u@example.com")
	if _, found, _ := table.Lookup("u@example.com"); found {
		t.Error("an unknown address is cached without address_verify_negative_cache")
	}
	// Every query probes again.
	c.Query("u@example.com")
	probes.expectProbe(t, "u@example.com")
}

func TestBadEntryIsUnknown(t *testing.T) {
	table := NewMemoryTable()
	table.Put("u@example.com", "garbage")
	var warnings []string
	c := &Cache{Settings: defaultSettings(t), Table: table, Warn: func(w string) { warnings = append(warnings, w) }}
	if status, _ := c.Query("u@example.com"); status != StatusTodo {
		t.Errorf("status %d", status)
	}
	if len(warnings) != 1 || warnings[0] != "bad address verify table entry: garbage" {
		t.Errorf("warnings %q", warnings)
	}
}

func TestColonInKey(t *testing.T) {
	table := NewMemoryTable()
	c, _, _ := newTestCache(t, defaultSettings(t), table)
	c.Update("u@[IPv6:2001:db8::1]", StatusOK, "ok")
	if _, found, _ := table.Lookup("u@[IPv6_2001_db8__1]"); !found {
		t.Error("key not stored with : as _")
	}
}

// TestProtocol runs a query and updates through the socket protocol with
// a btree table that outlives the cache.
func TestProtocol(t *testing.T) {
	dir := sockdir.New(t)
	spec := "btree:" + filepath.Join(dir, "verify_cache")
	table, err := OpenTable(spec)
	if err != nil {
		t.Fatal(err)
	}
	c, _, probes := newTestCache(t, defaultSettings(t), table)
	sock := filepath.Join(dir, "verify")
	ipctest.Listen(t, sock, c.Serve)
	ctx := context.Background()

	cl := &Client{Path: sock}
	addr := `"odd user"@example.com`
	status, text, err := cl.Query(ctx, addr)
	if err != nil || status != StatusTodo || text != inProgress {
		t.Fatalf("query: %d %q %v", status, text, err)
	}
	probes.expectProbe(t, addr)
	if cached, err := cl.Report(ctx, []string{addr, "odd.user@example.com"}, StatusBounce, `said: 550 "no"`); err != nil || !cached {
		t.Fatalf("report: %v %v", cached, err)
	}
	for _, a := range []string{addr, "odd.user@example.com"} {
		if status, text, err := cl.Query(ctx, a); err != nil || status != StatusBounce || text != `said: 550 "no"` {
			t.Errorf("query %s after the report: %d %q %v", a, status, text, err)
		}
	}
	if err := cl.Update(ctx, addr, StatusTodo, "x"); err == nil {
		t.Error("update with status 3 accepted")
	}
	want := `bad recipient status 3 for recipient "odd user"@example.com`
	if warned := probes.takeWarnings(); len(warned) != 1 || warned[0] != want {
		t.Errorf("warnings %q, want %q", warned, want)
	}
	noNeg := &Client{Path: sock, NoNegativeCache: true}
	if cached, err := noNeg.Report(ctx, []string{"other@example.com"}, StatusDefer, "x"); err != nil || cached {
		t.Errorf("report without negative caching: %v %v", cached, err)
	}
	if err := table.(maps.UpdatableTable).Close(); err != nil {
		t.Fatal(err)
	}
	// The file keeps the result in Postfix's format.
	reopened, err := maps.OpenUpdatable(spec, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	v, found, err := reopened.Lookup(addr)
	if err != nil || !found || !regexp.MustCompile(`^2:0:[0-9]+:said: 550 "no"$`).MatchString(v) {
		t.Errorf("stored %q %v %v", v, found, err)
	}
}

func TestCleanup(t *testing.T) {
	s := defaultSettings(t)
	table := NewMemoryTable()
	c, clock, probes := newTestCache(t, s, table)
	c.Update("ok@example.com", StatusOK, "250 Ok")
	c.Update("bad@example.com", StatusBounce, "550 no")
	table.Put("junk@example.com", "junk")
	clock.advance(s.NegativeExpire + time.Second)
	c.Query("probing@example.com") // a probe under way is kept
	probes.expectProbe(t, "probing@example.com")
	retained, dropped, err := c.Cleanup()
	if err != nil || retained != 2 || dropped != 2 {
		t.Errorf("cleanup: retained %d dropped %d, %v; want 2 and 2", retained, dropped, err)
	}
	for key, want := range map[string]bool{"ok@example.com": true, "probing@example.com": true, "bad@example.com": false, "junk@example.com": false} {
		if _, found, _ := table.Lookup(key); found != want {
			t.Errorf("%s kept: %v, want %v", key, found, want)
		}
	}
}
