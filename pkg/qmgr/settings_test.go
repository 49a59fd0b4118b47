package qmgr

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern/postern/pkg/config"
)

func loadSettings(t *testing.T, mainCF string) *Settings {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFromConfigDefaults(t *testing.T) {
	s := loadSettings(t, "myhostname = mx.test.example\n")
	checks := []struct {
		name      string
		got, want any
	}{
		{"queue_run_delay", s.QueueRunDelay, 300 * time.Second},
		{"minimal_backoff_time", s.MinimalBackoff, 300 * time.Second},
		{"maximal_backoff_time", s.MaximalBackoff, 4000 * time.Second},
		{"maximal_queue_lifetime", s.MaximalLifetime, 5 * 24 * time.Hour},
		{"bounce_queue_lifetime", s.BounceLifetime, 5 * 24 * time.Hour},
		{"qmgr_message_active_limit", s.ActiveLimit, 20000},
		{"initial_destination_concurrency", s.InitialConcurrency, 5},
		{"bounce_size_limit", s.ReturnSizeLimit, int64(50000)},
		{"double bounce sender", s.DoubleBounceSender, "double-bounce@mx.test.example"},
		{"2bounce_notice_recipient", s.DoubleBounceNotice, "postmaster"},
		{"notify_classes", s.NotifyBounces, false},
		{"smtp concurrency", s.ConcurrencyLimit("smtp"), 20},
		{"local concurrency", s.ConcurrencyLimit("local"), 2},
		{"smtp recipients", s.RecipientLimit("smtp"), 50},
		{"local recipients", s.RecipientLimit("local"), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := s.validate(noWarning(t)); err != nil {
		t.Errorf("validate: %v", err)
	}
}

func noWarning(t *testing.T) func(string, ...any) {
	return func(format string, args ...any) {
		t.Errorf("unexpected warning: "+format, args...)
	}
}

func TestFromConfigOverrides(t *testing.T) {
	s := loadSettings(t, "myhostname = mx.test.example\n"+
		"default_destination_concurrency_limit = 7\n"+
		"relay_destination_concurrency_limit = 3\n"+
		"bogus_destination_concurrency_limit = many\n"+
		"notify_classes = resource, 2bounce\n"+
		"minimal_backoff_time = 10s\nmaximal_backoff_time = 5s\n")
	if got := s.ConcurrencyLimit("relay"); got != 3 {
		t.Errorf("relay limit %d, want 3", got)
	}
	if got := s.ConcurrencyLimit("smtp"); got != 7 {
		t.Errorf("smtp limit %d, want the default 7", got)
	}
	if got := s.ConcurrencyLimit("bogus"); got != 7 {
		t.Errorf("bad per-transport value gave %d, want the default 7", got)
	}
	if !s.NotifyBounces {
		t.Error("notify_classes with 2bounce not seen")
	}
	// Postfix delivers with minimal_backoff_time above
	// maximal_backoff_time, without a word.
	if err := s.validate(noWarning(t)); err != nil {
		t.Errorf("minimal_backoff_time above maximal_backoff_time: %v", err)
	}
}

// TestBounceLifetimeAdjusted: Postfix's qmgr warns and adjusts a
// bounce_queue_lifetime above maximal_queue_lifetime.
func TestBounceLifetimeAdjusted(t *testing.T) {
	s := loadSettings(t, "maximal_queue_lifetime = 1d\nbounce_queue_lifetime = 3d\n")
	var warnings []string
	err := s.validate(func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) })
	if err != nil {
		t.Fatal(err)
	}
	want := "bounce_queue_lifetime is larger than maximal_queue_lifetime - adjusting bounce_queue_lifetime"
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings %q, want %q", warnings, want)
	}
	if s.BounceLifetime != 24*time.Hour {
		t.Errorf("bounce_queue_lifetime %v, want 24h", s.BounceLifetime)
	}
}
