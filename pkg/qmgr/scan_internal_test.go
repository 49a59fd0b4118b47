// Tests of the queue scan that need the manager's active list.

package qmgr

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
)

// TestScanLeavesAFileWhoseAttemptIsEnding: a deferred file whose attempt
// has moved it to deferred/ but is not over yet (its ID still active) is
// left where it is by a flush's scan; moved back to active/, nobody
// would have worked on it until the next start.
func TestScanLeavesAFileWhoseAttemptIsEnding(t *testing.T) {
	_, layout := queuetest.Setup(t, "")
	const id = "A1B2C3D4E5"
	queuetest.Place(t, layout, queue.Deferred, id,
		&queue.Envelope{ArrivalTime: time.Now(), Sender: "alice@test.example", Recipients: []queue.Recipient{{Address: "a@remote.example"}}},
		"Subject: test\n\nbody\n")
	q := &Manager{Settings: &Settings{}, Layout: layout, Log: &ipctest.Log{}}
	q.init()
	q.mu.Lock()
	q.activateLocked(id) // its attempt is finishing
	q.mu.Unlock()
	q.scan(context.Background(), queue.Deferred, true, true)
	if _, err := os.Stat(layout.Path(queue.Deferred, id)); err != nil {
		t.Errorf("the file of the ending attempt left deferred/: %v", err)
	}
	if _, err := os.Stat(layout.Path(queue.Active, id)); err == nil {
		t.Error("the file of the ending attempt was moved to active/, where nobody works on it")
	}
}

// TestFlushTakesUpAFileItLeftOnceItsAttemptEnds: a flush's scan leaves a
// deferred file whose attempt is ending (its ID still active); once that
// attempt is over, the manager takes the file up as the flush asked,
// although its next attempt is an hour away.
func TestFlushTakesUpAFileItLeftOnceItsAttemptEnds(t *testing.T) {
	q, layout, log := discardingManager(t)
	const id = "B1B2C3D4E5"
	queuetest.Place(t, layout, queue.Deferred, id,
		&queue.Envelope{ArrivalTime: time.Now(), Sender: "alice@test.example", Recipients: []queue.Recipient{{Address: "a@remote.example"}}},
		"Subject: test\n\nbody\n")
	if err := layout.SetNextAttempt(queue.Deferred, id, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	q.mu.Lock()
	q.activateLocked(id) // its attempt is finishing
	q.mu.Unlock()
	q.scan(context.Background(), queue.Deferred, true, true)
	if _, err := os.Stat(layout.Path(queue.Deferred, id)); err != nil {
		t.Fatalf("the file of the ending attempt left deferred/: %v", err)
	}
	q.messageDone(id) // the attempt is over
	// Run's own first scans leave the file, whose time has not come.
	runUntil(t, q, log, id+" taken up after its attempt ended", func() bool {
		return strings.Contains(log.Text(), id+": removed")
	})
}
