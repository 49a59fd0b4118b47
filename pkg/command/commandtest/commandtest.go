// Package commandtest checks in tests that the processes a command left
// behind are gone once its time limit killed it.
package commandtest

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PIDFromFile reads the process ID a test command wrote to path.
func PIDFromFile(t testing.TB, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("process ID in %s: %v", path, err)
	}
	return pid
}

// PIDBeforeLimit runs run with a time limit, first limit and then four
// times longer each try, until the command wrote the process ID of its
// background child to path before the limit killed it, and returns that
// ID. A try where the limit struck first (a machine too slow or loaded to
// start the command in time) proves nothing about the child, so it is
// repeated; run checks the outcome of each try.
func PIDBeforeLimit(t testing.TB, path string, limit time.Duration, run func(limit time.Duration)) int {
	t.Helper()
	for try := 0; try < 4; try, limit = try+1, limit*4 {
		os.Remove(path)
		run(limit)
		data, err := os.ReadFile(path)
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && perr == nil {
			return pid
		}
	}
	t.Fatalf("the command never wrote %s before its time limit", path)
	return 0
}

// Gone waits up to wait, looking every 20ms, until process pid no longer
// exists or is dead and waiting to be reaped (a kill is asynchronous),
// and reports whether it is gone.
func Gone(pid int, wait time.Duration) bool {
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
