package qmgr_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/queue"
)

// TestWaitingMessagesHoldNoGoroutine: with the agent of a destination
// stalled, three hundred messages are all taken into the active queue,
// the window's two deliveries are in flight and the others wait without
// a goroutine each (the last ones without their queue file open); a stop
// leaves them in the active queue, and a restart delivers them all once
// the agent answers.
func TestWaitingMessagesHoldNoGoroutine(t *testing.T) {
	const messages = 300
	h := newHarness(t, "default_transport = slow\ninitial_destination_concurrency = 2\nslow_destination_concurrency_limit = 2\n", nil)
	slow := h.startStalledAgent("slow", answer(nil), nil)
	var ids []string
	for i := range messages {
		id := fmt.Sprintf("W%09X", i)
		ids = append(ids, id)
		h.place(queue.Incoming, id, "alice@test.example", time.Now(), "a@remote.example")
	}
	before := runtime.NumGoroutine()
	h.run()
	h.waitFor("every message active and the window's deliveries in flight", func() bool {
		return strings.Count(h.log.Text(), "(queue active)") == messages && len(slow.Requests()) == 2
	})
	if n := h.mgr.ActiveCount(); n != messages {
		t.Errorf("%d messages active, want %d", n, messages)
	}
	if grew := runtime.NumGoroutine() - before; grew >= messages/2 {
		t.Errorf("%d more goroutines with %d messages waiting", grew, messages)
	}
	h.stop()
	if n := h.mgr.ActiveCount(); n != 0 {
		t.Errorf("%d messages still counted active after Run returned", n)
	}
	for _, id := range ids {
		if !h.exists(queue.Active, id) {
			t.Fatalf("%s left the active queue at the stop:\n%s", id, h.log.Text())
		}
	}

	slow.release()
	h.run()
	h.waitFor("every message delivered", func() bool { return strings.Count(h.log.Text(), ": removed") == messages })
	h.stop()
	for _, id := range ids {
		if h.exists(queue.Active, id) {
			t.Errorf("%s still in the active queue after its removal", id)
		}
	}
	for _, req := range slow.Requests() {
		if req.Transport != "slow" || req.Nexthop != "remote.example" {
			t.Errorf("request for %s:%s, want slow:remote.example", req.Transport, req.Nexthop)
		}
	}
}

// TestRecipientLimitInMemory: with qmgr_message_recipient_limit = 2, a
// message is taken only while the active ones hold fewer than two
// recipients (one being loaded counts as one): never more than two
// messages of two recipients are active at once.
func TestRecipientLimitInMemory(t *testing.T) {
	h := newHarness(t, "qmgr_message_recipient_limit = 2\n", nil)
	ids := []string{"A6B2C3D4E5", "B6B2C3D4E5", "C6B2C3D4E5", "D6B2C3D4E5", "E6B2C3D4E5", "F6B2C3D4E5"}
	for _, id := range ids {
		h.place(queue.Incoming, id, "alice@test.example", time.Now(), "a@remote.example", "b@remote.example")
	}
	h.run()
	for _, id := range ids {
		h.waitLog(id + ": removed")
	}
	h.stop()
	log := h.log.Text()
	active := 0
	for _, line := range strings.Split(log, "\n") {
		switch {
		case strings.HasSuffix(line, "(queue active)"):
			active++
			if active > 2 {
				t.Fatalf("%d messages active at once:\n%s", active, log)
			}
		case strings.HasSuffix(line, ": removed"):
			active--
		}
	}
}
