package qmgr

import (
	"context"
	"testing"
	"time"
)

func TestWindowGrowthAndBackOff(t *testing.T) {
	ctx := context.Background()
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
		if err := w.Acquire(ctx); err != nil {
			t.Fatal(err)
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

func TestWindowLimitsInFlight(t *testing.T) {
	w := NewWindow(2, 0)
	ctx := context.Background()
	for range 2 {
		if err := w.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := w.Acquire(short); err == nil {
		t.Fatal("third Acquire in a window of 2 succeeded")
	}
	got := make(chan error, 1)
	go func() { got <- w.Acquire(ctx) }()
	w.Release(true)
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Acquire did not proceed after Release")
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
	q := &Manager{Settings: &Settings{InitialConcurrency: 2, ConcurrencyLimit: func(string) int { return 20 }}}
	q.init()
	ctx := context.Background()

	w := q.window("smtp", "ok.example")
	if err := w.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	w.Release(true)
	q.releaseWindow("smtp", "ok.example", w)
	if _, ok := q.windows["smtp:ok.example"]; ok {
		t.Error("an idle window at its initial width was kept")
	}

	w = q.window("smtp", "down.example")
	if err := w.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	w.Release(false)
	q.releaseWindow("smtp", "down.example", w)
	if got := q.window("smtp", "down.example"); got != w || got.Size() != 1 {
		t.Error("a backed-off window was forgotten")
	}
}
