// Tests of the watchdog that ends a delivery agent stuck in one request.

package agent

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/maillog"
)

// watchdogLogger returns a logger whose fatal exit is recorded instead of
// taken, and a function that waits up to five seconds for that exit.
func watchdogLogger(t *testing.T) (log *maillog.Logger, exited func() (code int, ok bool), logged func() string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "maillog")
	var mu sync.Mutex
	code := -1
	log, err := maillog.New(maillog.Options{Program: "virtual", Hostname: "agent.test", File: file, FilePrefixes: dir,
		Sleep: func(time.Duration) {},
		Exit: func(c int) {
			mu.Lock()
			code = c
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	exited = func() (int, bool) {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			c := code
			mu.Unlock()
			if c >= 0 {
				return c, true
			}
		}
		return 0, false
	}
	logged = func() string {
		b, _ := os.ReadFile(file)
		return string(b)
	}
	return log, exited, logged
}

func TestWatchdogEndsAStuckRequest(t *testing.T) {
	log, exited, logged := watchdogLogger(t)
	armWatchdog(10*time.Millisecond, log)
	code, ok := exited()
	if !ok || code != 1 {
		t.Fatalf("exit %d (%v), want 1 after the watchdog timeout", code, ok)
	}
	if !strings.Contains(logged(), ": fatal: watchdog timeout\n") {
		t.Errorf("log:\n%s", logged())
	}
}

func TestWatchdogDisarmed(t *testing.T) {
	log, _, logged := watchdogLogger(t)
	if !armWatchdog(time.Hour, log)() {
		t.Error("disarming a running watchdog reported it already fired")
	}
	if armWatchdog(0, log)() {
		t.Error("a zero daemon_timeout armed a watchdog")
	}
	if got := logged(); got != "" {
		t.Errorf("log:\n%s", got)
	}
}
