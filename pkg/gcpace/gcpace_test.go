// Tests of the collector's pacing: the percentage for a live heap, and that
// an administrator's GOGC wins.

package gcpace

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPercentGivesTwiceTheLiveHeapWithAFloor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 25},                // the floor: 1 MB, a quarter of the runtime's 4 MB
		{400 << 10, 25},        // 2 × live under the floor
		{512 << 10, 25},        // 2 × live is the floor
		{768 << 10, 37},        // 1.5 MB goal: 37 % of 4 MB
		{1 << 20, 50},          // 2 MB goal
		{3 << 19, 75},          // 1.5 MB live, 3 MB goal
		{2 << 20, 100},         // Go's default from here on
		{64 << 20, 100},        // never above the default
		{^uint64(0) / 4, 100},  // nor overflowing
		{^uint64(0) / 2, 100},  // 2 × live is the largest uint64
		{(1 << 20) + 1, 50},    // rounded down
		{(2 << 20) - 1024, 99}, // just under the default
	} {
		if got := Percent(c.live); got != c.want {
			t.Errorf("Percent(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}

func TestPercentStaysWithinItsBounds(t *testing.T) {
	prev := 0
	for live := uint64(0); live <= 8<<20; live += 4096 {
		p := Percent(live)
		if p < minPercent || p > defaultPercent {
			t.Fatalf("Percent(%d) = %d, outside [%d, %d]", live, p, minPercent, defaultPercent)
		}
		if p < prev {
			t.Fatalf("Percent(%d) = %d, below %d for a smaller heap", live, p, prev)
		}
		prev = p
	}
}

func TestAdjustSetsThePercentageForWhatIsLive(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	keep := make([]*[1 << 10]byte, 3<<10) // 3 MB live: Go's default
	for i := range keep {
		keep[i] = new([1 << 10]byte)
	}
	p := &pacer{percent: Percent(0), live: newLiveSample()}
	runtime.GC()
	p.adjust()
	runtime.KeepAlive(keep)
	if p.percent != defaultPercent {
		t.Errorf("with 3 MB live the percentage is %d, want %d", p.percent, defaultPercent)
	}
	if got := debug.SetGCPercent(old); got != p.percent {
		t.Errorf("the runtime's percentage is %d, the pacer's %d", got, p.percent)
	}
}

func TestStartLeavesAnAdministratorsGOGC(t *testing.T) {
	t.Setenv("GOGC", "150")
	old := debug.SetGCPercent(150)
	defer debug.SetGCPercent(old)
	Start()
	runtime.GC()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("with GOGC=150 set the percentage became %d", got)
	}
}
