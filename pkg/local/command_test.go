package local

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/command/commandtest"
	"github.com/postern/postern/pkg/ipc"
)

// TestCommandTimeLimitKillsGroup: at command_time_limit the whole process
// group of the command is killed, a background child included, and the
// delivery is deferred, not counted as sent.
func TestCommandTimeLimitKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	u := &User{Name: "x", Home: dir, Shell: "/bin/sh"}
	cmd := "sleep 300 & echo $! > " + pidFile + "; wait"
	pid := commandtest.PIDBeforeLimit(t, pidFile, 500*time.Millisecond, func(limit time.Duration) {
		res := runCommand(context.Background(), cmd, u, false, []string{"PATH=/usr/bin:/bin"}, limit, strings.NewReader(""))
		if res.Status != ipc.StatusDeferred || !strings.Contains(res.Reply, "command time limit exceeded") {
			t.Fatalf("result %+v, want deferred for the time limit", res)
		}
	})
	if !commandtest.Gone(pid, 30*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("background child %d outlived the time limit", pid)
	}
}

// TestCommandOutputBounded: a command that writes a flood of output is
// read to the end but only a bounded part is kept and quoted.
func TestCommandOutputBounded(t *testing.T) {
	u := &User{Name: "x", Home: t.TempDir(), Shell: "/bin/sh"}
	res := runCommand(context.Background(), "head -c 20000000 /dev/zero | tr '\\0' x; exit 67", u, false, []string{"PATH=/usr/bin:/bin"}, time.Minute, strings.NewReader(""))
	if res.Status != ipc.StatusBounced || !strings.HasPrefix(res.Reply, "user unknown. Command output: xxx") {
		t.Fatalf("result status %v reply %.80q", res.Status, res.Reply)
	}
	if len(res.Reply) > 400 {
		t.Errorf("reply is %d bytes long", len(res.Reply))
	}
}
