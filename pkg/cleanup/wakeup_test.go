// Tests of the coalesced wake-ups cleanup sends the queue manager.

package cleanup

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

// triggerRecorder is a trigger server that notes when each trigger came.
type triggerRecorder struct {
	mu    sync.Mutex
	times []time.Time
}

func (r *triggerRecorder) serve(ctx context.Context, ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		// A raw trigger, as master's wakeup: the code bytes, then EOF.
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if codes, err := io.ReadAll(io.LimitReader(nc, 16)); err == nil && string(codes) == string(ipc.TriggerScanIncoming) {
			r.mu.Lock()
			r.times = append(r.times, time.Now())
			r.mu.Unlock()
		}
		nc.Close()
	}
}

// after counts the triggers received after t.
func (r *triggerRecorder) after(t time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, at := range r.times {
		if at.After(t) {
			n++
		}
	}
	return n
}

func TestQueueManagerIsWokenAfterEveryCommit(t *testing.T) {
	dir := sockdir.New(t)
	trigger := filepath.Join(dir, "qmgr")
	ln, err := net.Listen("unix", trigger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer ln.Close()
	rec := &triggerRecorder{}
	go rec.serve(ctx, ln)

	settings := baseSettings()
	settings.QmgrTrigger = trigger
	ts := startServer(t, settings)
	var last time.Time
	for i := range 20 {
		reply := ts.submit(remote("alice@remote.example", "bob@test.example"), fmt.Sprintf("Subject: %d\n\nbody\n", i))
		if reply.Status != 0 {
			t.Fatalf("submission %d: %+v", i, reply)
		}
		// The wake-up may reach qmgr before the reply reaches us: the
		// queue file's last write, before its commit, is the time to beat.
		info, err := os.Stat(ts.layout.Path(queue.Incoming, reply.QueueID))
		if err != nil {
			t.Fatal(err)
		}
		last = info.ModTime()
	}
	for deadline := time.Now().Add(30 * time.Second); rec.after(last) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no wake-up reached qmgr after the last commit")
		}
	}
	if n := rec.after(time.Time{}); n > 20 {
		t.Errorf("%d wake-ups for 20 messages", n)
	}
}
