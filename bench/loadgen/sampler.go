// Sampling a process tree from /proc: the peak of its summed PSS and the CPU time it used.

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// treeSampler watches the processes descended from root.
type treeSampler struct {
	root int
	done chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	peakKB  int64
	first   map[int]int64 // CPU ticks of each process when first seen
	last    map[int]int64 // and when last seen
	reaped0 int64         // root's ticks of waited-for children at the start
}

func newTreeSampler(root int) *treeSampler {
	return &treeSampler{root: root, done: make(chan struct{}), first: map[int]int64{}, last: map[int]int64{}}
}

func (s *treeSampler) start(gap time.Duration) {
	_, _, s.reaped0 = procStat(s.root)
	s.sample()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(gap)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
}

// stop ends sampling and returns the peak PSS in KB and the CPU time the
// tree used: what its living processes used since first seen, plus what
// the processes root reaped meanwhile used.
func (s *treeSampler) stop() (int64, time.Duration) {
	s.sample()
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ticks int64
	alive := map[int]bool{}
	for _, pid := range s.tree() {
		alive[pid] = true
	}
	for pid, last := range s.last {
		if alive[pid] {
			ticks += last - s.first[pid]
		}
	}
	_, _, reaped := procStat(s.root)
	ticks += reaped - s.reaped0
	return s.peakKB, time.Duration(ticks) * time.Second / 100 // USER_HZ
}

func (s *treeSampler) sample() {
	var total int64
	pids := s.tree()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pid := range pids {
		total += pss(pid)
		_, ticks, _ := procStat(pid)
		if _, ok := s.first[pid]; !ok {
			s.first[pid] = ticks
		}
		s.last[pid] = ticks
	}
	s.peakKB = max(s.peakKB, total)
}

// tree lists root and its descendants.
func (s *treeSampler) tree() []int {
	children := map[int][]int{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		ppid, _, _ := procStat(pid)
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{s.root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// procStat returns a process's parent, its own CPU ticks (user+system)
// and those of its waited-for children.
func procStat(pid int) (ppid int, ticks, childTicks int64) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return 0, 0, 0
	}
	num := func(k int) int64 { n, _ := strconv.ParseInt(f[k-3], 10, 64); return n }
	return int(num(4)), num(14) + num(15), num(16) + num(17)
}

// pss returns a process's proportional set size in KB.
func pss(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
