// Retry and expiry decisions: when a deferred message is tried again, and when it is returned.

package qmgr

import "time"

// Backoff returns how long a message that arrived at arrival and was just
// deferred waits for its next attempt: its age, clamped to
// [minimal, maximal], as Postfix does (300 s, 300, 600, 1200, 2400, then
// 4000 s with the defaults). Like Postfix it applies maximal first, so
// that minimal wins when it is the larger.
func Backoff(arrival, now time.Time, minimal, maximal time.Duration) time.Duration {
	delay := now.Sub(arrival)
	if delay > maximal {
		delay = maximal
	}
	if delay < minimal {
		delay = minimal
	}
	return delay
}

// Expired reports whether a message whose recipients were just deferred
// is returned to the sender instead: when it is older than its lifetime
// (a lifetime of 0 means one attempt).
func Expired(arrival, now time.Time, lifetime time.Duration) bool {
	return lifetime <= 0 || now.Sub(arrival) > lifetime
}
