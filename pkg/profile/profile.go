// Package profile lets the benchmark take pprof profiles of running
// daemons: when the environment variable POSTERN_PROFILE_DIR names a
// directory (writable by mail_owner), a daemon records a CPU profile from
// start-up on and, when it exits, writes it with its heap, allocation,
// blocking and mutex profiles there as PROGRAM.PID.KIND.pprof, and the
// runtime's memory figures (runtime/metrics: heap in use, released, GC
// goal, stacks, goroutines, GC CPU ...) as PROGRAM.PID.memory.txt. With
// POSTERN_PROFILE_MEMORY_ONLY set too it writes only the memory figures
// and profiles nothing: the CPU profile's buffers alone are a megabyte of
// heap, which changes the very figures looked at. Without the variable it
// does nothing and costs nothing.
package profile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
)

// EnvDir is the environment variable that turns profiling on.
const EnvDir = "POSTERN_PROFILE_DIR"

// EnvMemoryOnly, set (to anything) with EnvDir, limits it to the memory
// figures.
const EnvMemoryOnly = "POSTERN_PROFILE_MEMORY_ONLY"

// Block and mutex sampling while profiling: a blocking event of 10 µs or
// more is always recorded, and one mutex contention in 10.
const (
	blockRateNanos = 10_000
	mutexFraction  = 10
)

// Start begins profiling when EnvDir is set and returns the function that
// writes the profiles; errors go to warn.
func Start(program string, warn func(format string, args ...any)) (stop func()) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		return func() {}
	}
	prefix := filepath.Join(dir, fmt.Sprintf("%s.%d.", program, os.Getpid()))
	if os.Getenv(EnvMemoryOnly) != "" {
		return func() {
			if err := writeMemory(prefix + "memory.txt"); err != nil {
				warn("profile: %v", err)
			}
		}
	}
	cpu, err := os.Create(prefix + "cpu.pprof")
	if err != nil {
		warn("profile: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		warn("profile: %v", err)
		cpu.Close()
		return func() {}
	}
	runtime.SetBlockProfileRate(blockRateNanos)
	runtime.SetMutexProfileFraction(mutexFraction)
	return func() {
		pprof.StopCPUProfile()
		if err := cpu.Close(); err != nil {
			warn("profile: %v", err)
		}
		for _, kind := range []string{"heap", "allocs", "block", "mutex"} {
			if err := write(prefix+kind+".pprof", kind); err != nil {
				warn("profile: %v", err)
			}
		}
		if err := writeMemory(prefix + "memory.txt"); err != nil {
			warn("profile: %v", err)
		}
	}
}

// writeMemory writes the runtime/metrics figures about memory, the
// garbage collector, CPU time and goroutines, one "name value" a line.
func writeMemory(path string) error {
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/") || strings.HasPrefix(d.Name, "/gc/") || strings.HasPrefix(d.Name, "/cpu/") || strings.HasPrefix(d.Name, "/sched/goroutines") {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	var b strings.Builder
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			fmt.Fprintf(&b, "%s %d\n", s.Name, s.Value.Uint64())
		case metrics.KindFloat64:
			fmt.Fprintf(&b, "%s %g\n", s.Name, s.Value.Float64())
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func write(path, kind string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(kind).WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
