package verify

import (
	"testing"
	"time"
)

func TestProbeSenderMatcher(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	const ttl = 3 * time.Hour
	stamped := Settings{Sender: "double-bounce@example.com", SenderTTL: ttl}
	current := stamped.ProbeSender(now)
	older := stamped.ProbeSender(now.Add(-ttl))
	tooOld := stamped.ProbeSender(now.Add(-2 * ttl))
	newer := stamped.ProbeSender(now.Add(ttl))
	plain := ProbeSenderMatcher{Canonical: "double-bounce@example.com"}
	withTTL := ProbeSenderMatcher{Canonical: "double-bounce@example.com", TTL: ttl}
	tests := []struct {
		m       ProbeSenderMatcher
		address string
		want    bool
	}{
		{plain, "double-bounce@example.com", true},
		{plain, "Double-Bounce@EXAMPLE.com", true},
		{plain, "double-bounce1@example.com", false},
		{plain, "double-bounce@other.example", false},
		{plain, "double-bounce", false},
		{plain, "double-bounc@example.com", false},
		{withTTL, current, true},
		{withTTL, older, true},
		{withTTL, newer, true},
		{withTTL, tooOld, false},
		{withTTL, "double-bounce@example.com", false},
		{withTTL, "double-bounceAEIOU@example.com", false},
		{ProbeSenderMatcher{}, "", false},
		{ProbeSenderMatcher{}, "double-bounce@example.com", false},
	}
	for _, tt := range tests {
		got, ok := tt.m.Match(tt.address, now)
		if ok != tt.want || (ok && got != tt.m.Canonical) {
			t.Errorf("%+v.Match(%q) = %q, %v; want %v", tt.m, tt.address, got, ok, tt.want)
		}
	}
}
