package qmgr_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/postern/postern/pkg/mailflow"
	"github.com/postern/postern/pkg/queue"
)

// flowPipe gives the manager a producer on a fresh token pipe with limit.
func flowPipe(t *testing.T, h *harness, limit int) *mailflow.Pipe {
	t.Helper()
	r, w, err := mailflow.NewPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	p := mailflow.FromDescriptors(int(r.Fd()), int(w.Fd()))
	h.mgr.Flow = &mailflow.Producer{Pipe: p, Limit: limit}
	return p
}

// A message taken from incoming/ puts one token in; while the incoming
// scan is cut short by qmgr_message_active_limit no more come; once
// incoming/ has been scanned to its end the pipe is filled to the limit.
func TestFlowTokensFollowIncoming(t *testing.T) {
	h := newHarness(t, "default_transport = slow\nqmgr_message_active_limit = 1\n", nil)
	slow := h.startStalledAgent("slow", answer(nil), nil)
	pipe := flowPipe(t, h, 100)
	for i := range 3 {
		h.place(queue.Incoming, fmt.Sprintf("F%09X", i), "alice@test.example", time.Now(), "a@remote.example")
	}
	h.run()
	h.waitFor("the first delivery", func() bool { return len(slow.Requests()) == 1 })
	if n := pipe.Count(); n != 1 {
		t.Fatalf("%d tokens with one message taken and the scan stopped at the active limit, want 1", n)
	}
	slow.release()
	for i := range 3 {
		h.waitLog(fmt.Sprintf("F%09X: removed", i))
	}
	h.waitFor("the pipe filled to the limit", func() bool { return pipe.Count() == 100 })
	h.stop()
}
