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
