// Package gcpace paces the garbage collector of a daemon to the heap it
// keeps. Go's default (GOGC=100) collects when the heap reaches twice what
// the last collection left live, but never below 4 MB: the daemons keep
// 0.5–1.2 MB live between messages, so each let 3–4 MB of garbage pile up
// before its first collection and then held that much, a fixed 3 MB or so
// per process that showed as memory growing with the number of messages
// (the heap reaching its goal) until every daemon sat at it. Paced, a
// daemon collects at twice its live heap with a floor of 1 MB instead:
// GOGC=100 behaviour above 2 MB live (many sessions), a smaller heap
// below. GOGC in the environment (master passes its own to every daemon)
// is the administrator's choice and turns the pacing off.
package gcpace

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// floor is the smallest heap goal: the heap a daemon with next to
	// nothing live may grow to before a collection.
	floor = 1 << 20
	// runtimeMinimum is the runtime's smallest heap goal at GOGC=100; it
	// scales with the percentage.
	runtimeMinimum = 4 << 20
	// defaultPercent is Go's default GOGC.
	defaultPercent = 100
	// minPercent is the percentage whose runtime minimum is the floor.
	minPercent = defaultPercent * floor / runtimeMinimum
)

// Percent returns the GOGC percentage for a live heap of live bytes: the
// one that makes the heap goal max(2 × live, floor). The runtime's goal is
// at least runtimeMinimum × percent / 100, so the percentage falls with a
// small live heap (to minPercent, the floor's) and is Go's default from
// runtimeMinimum / 2 live up.
func Percent(live uint64) int {
	if live >= runtimeMinimum/2 {
		return defaultPercent
	}
	goal := max(2*live, floor)
	return int(goal * defaultPercent / runtimeMinimum)
}

var startOnce sync.Once

// Start paces the collector from now on, unless GOGC is set. It is for a
// daemon's main, once; later calls do nothing.
func Start() {
	startOnce.Do(func() {
		if os.Getenv("GOGC") != "" {
			return
		}
		p := &pacer{percent: Percent(0), live: newLiveSample()}
		debug.SetGCPercent(p.percent)
		p.arm()
	})
}

// pacer adjusts the percentage after every collection.
type pacer struct {
	percent int
	live    []metrics.Sample
}

// sentinel is garbage from its first collection on: its finalizer runs
// once per collection, after it. It holds a pointer so that it is never
// one of the tiny allocations the runtime packs together (which may keep
// it alive).
type sentinel struct{ _ *pacer }

// newLiveSample is what adjust reads: the heap the last collection left
// live.
func newLiveSample() []metrics.Sample {
	return []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
}

func (p *pacer) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		p.adjust()
		p.arm()
	})
}

// adjust sets the percentage for what the last collection left live.
func (p *pacer) adjust() {
	metrics.Read(p.live)
	if p.live[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if percent := Percent(p.live[0].Value.Uint64()); percent != p.percent {
		p.percent = percent
		debug.SetGCPercent(percent)
	}
}
