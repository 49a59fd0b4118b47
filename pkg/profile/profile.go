// Package profile lets the benchmark take pprof profiles of running
// daemons: when the environment variable POSTERN_PROFILE_DIR names a
// directory (writable by mail_owner), a daemon records a CPU profile from
// start-up on and, when it exits, writes it with its heap, allocation,
// blocking and mutex profiles there as PROGRAM.PID.KIND.pprof. Without the
// variable it does nothing and costs nothing.
package profile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// EnvDir is the environment variable that turns profiling on.
const EnvDir = "POSTERN_PROFILE_DIR"

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
	}
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
