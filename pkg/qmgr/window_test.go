package qmgr

import "testing"

func TestWindowGrowthAndBackOff(t *testing.T) {
	w := NewWindow(2, 4)
	if w.Size() != 2 {
		t.Fatalf("initial size %d, want 2", w.Size())
	}
	// One success per slot of the window widens it by one.
	steps := []struct {
		ok   bool
		want int
	}{
		{true, 2}, {true, 3}, // 2 successes at width 2
		{true, 3}, {true, 3}, {true, 4}, // 3 at width 3
		{true, 4}, {true, 4}, {true, 4}, {true, 4}, {true, 4}, // the limit holds
		{false, 1}, // a failure closes it to 1
		{true, 2},  // and it opens again
	}
	for i, s := range steps {
		if !w.TryAcquire() {
			t.Fatalf("step %d: no free slot in an empty window", i)
		}
		w.Release(s.ok)
		if got := w.Size(); got != s.want {
			t.Fatalf("step %d (ok=%v): size %d, want %d", i, s.ok, got, s.want)
		}
	}
	w.Reset()
	if w.Size() != 2 {
		t.Errorf("after Reset size %d, want 2", w.Size())
	}
}

// testManager is a Manager with windows of initial width 2 and the
// given limit, without a queue or agents.
func testManager(limit int) *Manager {
	q := &Manager{Settings: &Settings{InitialConcurrency: 2, ConcurrencyLimit: func(string) int { return limit }}}
	q.init()
	return q
}

// TestWindowLimitsInFlight: the deliveries to a destination hold at most
// its window's width of slots (here 2, also the limit); the others wait in
// its queue, and each freed slot starts the oldest waiting one; a new job
// does not take a free slot while older ones wait.
func TestWindowLimitsInFlight(t *testing.T) {
	q := testManager(2)
	job := Job{Transport: "smtp", Nexthop: "remote.example"}
	var ds []*delivery
	for range 5 {
		ds = append(ds, &delivery{job: job})
	}
	for i, d := range ds[:4] {
		if got, want := q.enqueue(d), i < 2; got != want {
			t.Fatalf("job %d holds a slot: %v, want %v", i, got, want)
		}
	}
	w := ds[0].w
	if w.InFlight() != 2 {
		t.Fatalf("in flight %d, want 2", w.InFlight())
	}

	// One delivery ends, as runDeliveries ends it: the oldest waiting
	// job gets its slot, and only that one.
	w.Release(true)
	var started deliveryQueue
	q.mu.Lock()
	q.takeStartable(w, &started)
	q.releaseWindowLocked(job.Transport, job.Nexthop, w)
	q.mu.Unlock()
	if next := started.pop(); next != ds[2] || started.first != nil {
		t.Fatalf("a freed slot started %p and %p, want the oldest waiting job %p alone", next, started.first, ds[2])
	}
	if w.InFlight() != 2 {
		t.Errorf("in flight %d, want 2", w.InFlight())
	}

	// A slot is free, but job 3 waits: job 4 queues behind it.
	w.Release(true)
	if q.enqueue(ds[4]) {
		t.Fatal("a new job took a free slot while an older one waited")
	}
	q.mu.Lock()
	q.takeStartable(w, &started)
	q.mu.Unlock()
	if next := started.pop(); next != ds[3] || started.first != nil {
		t.Fatalf("a freed slot started %p and %p, want the oldest waiting job %p alone", next, started.first, ds[3])
	}
	if w.InFlight() != 2 {
		t.Errorf("in flight %d, want 2", w.InFlight())
	}
}

func TestNewWindowBounds(t *testing.T) {
	if got := NewWindow(5, 2).Size(); got != 2 {
		t.Errorf("initial above the limit: size %d, want 2", got)
	}
	if got := NewWindow(0, 0).Size(); got != 1 {
		t.Errorf("initial 0: size %d, want 1", got)
	}
}

func TestIdleWindowsAreForgotten(t *testing.T) {
	q := testManager(20)
	deliver := func(nexthop string, ok bool) *Window {
		d := &delivery{job: Job{Transport: "smtp", Nexthop: nexthop}}
		if !q.enqueue(d) {
			t.Fatalf("the only job to %s got no slot", nexthop)
		}
		d.w.Release(ok)
		q.mu.Lock()
		q.releaseWindowLocked("smtp", nexthop, d.w)
		q.mu.Unlock()
		return d.w
	}

	deliver("ok.example", true)
	if _, ok := q.windows["smtp:ok.example"]; ok {
		t.Error("an idle window at its initial width was kept")
	}

	w := deliver("down.example", false)
	if got := q.windows["smtp:down.example"]; got != w || got.Size() != 1 {
		t.Error("a backed-off window was forgotten")
	}
}
