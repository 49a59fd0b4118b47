package groupcommit

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls cond, under g.mu, until it holds or a generous deadline
// passes.
func waitFor[K comparable](t *testing.T, g *Group[K], what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		g.mu.Lock()
		ok := cond()
		g.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// While one operation runs, every caller that arrives joins the next
// round: one more operation covers them all, led by one of them, started
// only after they have all called; its error is every member's.
func TestCallersArrivingDuringAnOperationShareTheNext(t *testing.T) {
	var g Group[string]
	release := make(chan struct{})
	var mu sync.Mutex
	var leads []int // joiners of each operation, in order
	lead := func(joiners int) error {
		mu.Lock()
		first := len(leads) == 0
		leads = append(leads, joiners)
		mu.Unlock()
		if first {
			<-release
			return nil
		}
		return errors.New("disk on fire")
	}
	first := make(chan error, 1)
	go func() { first <- g.Do("d", lead) }()
	waitFor(t, &g, "the first operation", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(leads) == 1
	})
	const late = 8
	errs := make(chan error, late)
	for range late {
		go func() { errs <- g.Do("d", lead) }()
	}
	waitFor(t, &g, "the late callers to queue", func() bool {
		k := g.keys["d"]
		return k != nil && k.open != nil && k.open.joiners == late-1
	})
	if n := g.Waiting("d"); n != late {
		t.Fatalf("Waiting = %d, want %d", n, late)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first caller: %v", err)
	}
	for range late {
		if err := <-errs; err == nil || err.Error() != "disk on fire" {
			t.Fatalf("late caller got %v, want the second round's error", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leads) != 2 || leads[0] != 0 || leads[1] != late-1 {
		t.Fatalf("operations (joiners each) = %v, want [0 %d]", leads, late-1)
	}
	if len(g.keys) != 0 {
		t.Fatalf("%d keys left after every round ended", len(g.keys))
	}
}

// A key whose operation hangs holds up no caller of another key.
func TestKeysDoNotWaitForEachOther(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- g.Do(1, func(int) error { close(started); <-release; return nil })
	}()
	<-started
	ran := false
	if err := g.Do(2, func(int) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("other key: err %v, ran %v", err, ran)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Start returns before the operation has run; Wait returns its result.
func TestStartRunsTheOperationInTheBackground(t *testing.T) {
	var g Group[string]
	release := make(chan struct{})
	r := g.Start("d", func(int) error { <-release; return errors.New("late error") })
	select {
	case <-r.done:
		t.Fatal("the round ended before its operation could run")
	default:
	}
	close(release)
	if err := r.Wait(); err == nil || err.Error() != "late error" {
		t.Fatalf("Wait = %v", err)
	}
}

// Whoever returns from Do or Wait had its writes covered: the operation
// that ended its wait saw every write made before the call.
func TestEveryCallerIsCoveredByAnOperationStartedAfterIt(t *testing.T) {
	var g Group[int]
	var written [3]atomic.Int64 // per key: writes made so far
	var covered [3]atomic.Int64 // per key: writes covered by a finished operation
	var running [3]atomic.Int32
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := i % 3
			for j := range 50 {
				w := written[key].Add(1)
				lead := func(int) error {
					if running[key].Add(1) != 1 {
						t.Error("two operations of one key at once")
					}
					seen := written[key].Load()
					time.Sleep(10 * time.Microsecond)
					if covered[key].Load() < seen {
						covered[key].Store(seen)
					}
					running[key].Add(-1)
					return nil
				}
				var err error
				if j%2 == 0 {
					err = g.Do(key, lead)
				} else {
					err = g.Start(key, lead).Wait()
				}
				if err != nil {
					t.Error(err)
				}
				if c := covered[key].Load(); c < w {
					t.Errorf("key %d: write %d returned covered only up to %d", key, w, c)
				}
			}
		}()
	}
	wg.Wait()
	// A round Start led ends its goroutine after its waiters return.
	waitFor(t, &g, "every key to be forgotten", func() bool { return len(g.keys) == 0 })
}
