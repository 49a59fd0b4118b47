package qmgr

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	arrival := time.Date(2026, time.November, 28, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		age, want time.Duration
	}{
		{0, 300 * time.Second},
		{299 * time.Second, 300 * time.Second},
		{300 * time.Second, 300 * time.Second},
		{600 * time.Second, 600 * time.Second},
		{1200 * time.Second, 1200 * time.Second},
		{2400 * time.Second, 2400 * time.Second},
		{4000 * time.Second, 4000 * time.Second},
		{4800 * time.Second, 4000 * time.Second},
		{72 * time.Hour, 4000 * time.Second},
		{-time.Minute, 300 * time.Second}, // clock went back
	}
	for _, tc := range tests {
		got := Backoff(arrival, arrival.Add(tc.age), 300*time.Second, 4000*time.Second)
		if got != tc.want {
			t.Errorf("Backoff(age %v) = %v, want %v", tc.age, got, tc.want)
		}
	}
}

func TestExpired(t *testing.T) {
	arrival := time.Date(2026, time.November, 28, 13, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		age      time.Duration
		lifetime time.Duration
		want     bool
	}{
		{"young", time.Hour, 5 * day, false},
		{"exactly the lifetime", 5 * day, 5 * day, false},
		{"older than the lifetime", 5*day + time.Second, 5 * day, true},
		{"lifetime 0: one attempt", 0, 0, true},
	}
	for _, tc := range tests {
		if got := Expired(arrival, arrival.Add(tc.age), tc.lifetime); got != tc.want {
			t.Errorf("%s: Expired = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLifetimeOfNullSender(t *testing.T) {
	s := &Settings{MaximalLifetime: 5 * 24 * time.Hour, BounceLifetime: time.Hour}
	if got := s.lifetime(""); got != time.Hour {
		t.Errorf("lifetime of the null sender = %v, want bounce_queue_lifetime", got)
	}
	if got := s.lifetime("a@b.example"); got != 5*24*time.Hour {
		t.Errorf("lifetime of a sender = %v, want maximal_queue_lifetime", got)
	}
}

// TestBackoffMinimalAboveMaximal: Postfix keeps delivering with
// minimal_backoff_time above maximal_backoff_time; the minimal time wins.
func TestBackoffMinimalAboveMaximal(t *testing.T) {
	arrival := time.Date(2026, time.November, 28, 13, 0, 0, 0, time.UTC)
	for _, age := range []time.Duration{0, 10 * time.Second, time.Hour} {
		if got := Backoff(arrival, arrival.Add(age), 300*time.Second, 20*time.Second); got != 300*time.Second {
			t.Errorf("Backoff(age %v, 300s, 20s) = %v, want 300s", age, got)
		}
	}
}
