package qmgr_test

import (
	"slices"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

// TestFlushStartsWaitingJobs: a failure closed a destination's window
// to one slot, held by a delivery that does not end; the messages behind
// it wait in the destination's queue. postqueue -f (F A D I) opens the
// window to its initial width again and starts the waiting jobs at once,
// without waiting for the delivery in flight.
func TestFlushStartsWaitingJobs(t *testing.T) {
	h := newHarness(t, "default_transport = slow\ninitial_destination_concurrency = 3\nslow_destination_concurrency_limit = 10\n", nil)
	// The first message's recipient is deferred at once: the window
	// closes to 1. The others' deliveries wait.
	others := func(req *ipc.DeliveryRequest) bool { return req.QueueID != "F0B2C3D4E5" }
	slow := h.startStalledAgent("slow", answer(map[string]agentReply{"fail@remote.example": {ipc.StatusDeferred, "4.4.1", "connect to remote.example: Connection refused", false}}), others)
	h.place(queue.Incoming, "F0B2C3D4E5", "alice@test.example", time.Now(), "fail@remote.example")
	h.run()
	h.waitFor("the deferral", func() bool { return h.exists(queue.Deferred, "F0B2C3D4E5") })

	waiting := []string{"F1B2C3D4E5", "F2B2C3D4E5", "F3B2C3D4E5", "F4B2C3D4E5"}
	for _, id := range waiting {
		h.place(queue.Incoming, id, "alice@test.example", time.Now(), "a@remote.example")
	}
	h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerScanIncoming})
	h.waitFor("one delivery in flight and three jobs waiting", func() bool {
		return len(slow.Requests()) == 2 && h.mgr.WaitingAt("slow", "remote.example") == 3
	})

	h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerFlushDead, ipc.TriggerScanAll, ipc.TriggerScanDeferred, ipc.TriggerScanIncoming})
	// The window is 3 wide again: two waiting jobs start beside the one
	// in flight, the others (and the deferred message) still wait.
	h.waitFor("three deliveries in flight", func() bool { return len(slow.Requests()) == 4 })
	// Which messages wait depends on the order of the incoming scan:
	// three distinct ones are in flight besides the deferral.
	var ids []string
	for _, req := range slow.Requests() {
		ids = append(ids, req.QueueID)
	}
	slices.Sort(ids)
	if ids[0] != "F0B2C3D4E5" || len(slices.Compact(slices.Clone(ids))) != 4 {
		t.Errorf("requests for %v, want F0B2C3D4E5 and three of %v", ids, waiting)
	}

	slow.release()
	for _, id := range waiting {
		h.waitLog(id + ": removed")
	}
	h.waitFor("the deferred message tried again", func() bool {
		n := 0
		for _, req := range slow.Requests() {
			if req.QueueID == "F0B2C3D4E5" {
				n++
			}
		}
		return n == 2
	})
	h.stop()
}
