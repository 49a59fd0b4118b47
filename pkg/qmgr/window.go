// Per-destination concurrency: a window that opens on success and closes on failure, as Postfix's,
// and the destination's queue of jobs waiting for a slot.

package qmgr

import "sync"

// Window limits the deliveries in progress to one destination (transport
// and next hop). It starts at the initial concurrency, grows by one after
// as many successful deliveries as the window is wide (Postfix's positive
// feedback of 1/concurrency per delivery), never beyond the limit, and
// falls back to 1 when a delivery fails at the destination level.
type Window struct {
	mu       sync.Mutex
	initial  int
	limit    int // 0 = no limit
	size     int
	credit   int // successes since the window last grew
	inflight int

	users int // jobs holding the window; guarded by the Manager's mutex
	// caching is the on-demand connection caching state; guarded by the
	// Manager's mutex, forgotten when no job holds the window.
	caching connCaching
	// waiting is the queue of jobs waiting for a slot, oldest first;
	// guarded by the Manager's mutex.
	waiting deliveryQueue
}

// NewWindow returns a window starting at initial (at least 1) and never
// growing beyond limit (0 = no limit).
func NewWindow(initial, limit int) *Window {
	if initial < 1 {
		initial = 1
	}
	if limit > 0 && initial > limit {
		initial = limit
	}
	return &Window{initial: initial, limit: limit, size: initial}
}

// Size returns the current window width.
func (w *Window) Size() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.size
}

// InFlight returns how many deliveries hold a slot.
func (w *Window) InFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inflight
}

// TryAcquire takes a free slot if there is one.
func (w *Window) TryAcquire() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inflight < w.size {
		w.inflight++
		return true
	}
	return false
}

// Release frees a slot and feeds back the delivery's outcome: ok when the
// destination accepted the delivery attempt, false when it failed as a
// whole (agent unreachable, every recipient deferred).
func (w *Window) Release(ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight--
	if ok {
		w.credit++
		if w.credit >= w.size && (w.limit == 0 || w.size < w.limit) {
			w.size++
			w.credit = 0
		}
	} else {
		w.size, w.credit = 1, 0
	}
}

// Return frees a slot without feedback: the job that held it made no
// delivery attempt.
func (w *Window) Return() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight--
}

// Reset returns the window to its initial width (postqueue -f forgets
// what failures taught).
func (w *Window) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.size, w.credit = w.initial, 0
}
