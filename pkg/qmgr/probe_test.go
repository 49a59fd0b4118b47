// Tests of address verification probes in the queue manager.

package qmgr_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
	"github.com/postern/postern/pkg/verify"
)

// startVerify serves a memory verify cache on a Unix socket.
func startVerify(t *testing.T) (*verify.Cache, string) {
	t.Helper()
	cache := &verify.Cache{Table: verify.NewMemoryTable(), Settings: verify.Settings{
		NegativeCache: true, PositiveExpire: time.Hour, PositiveRefresh: time.Hour,
		NegativeExpire: time.Hour, NegativeRefresh: time.Hour,
	}}
	path := filepath.Join(ipctest.SocketDir(t), "verify")
	ipctest.Listen(t, path, cache.Serve)
	return cache, path
}

func TestProbe(t *testing.T) {
	h := newHarness(t, "", map[string]agentReply{
		"nobody@one.example": {ipc.StatusBounced, "5.1.1", "host sink[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)", false},
		"later@one.example":  {ipc.StatusDeferred, "4.4.1", "connect to sink[192.0.2.1]:25: Connection refused", false},
	})
	cache, path := startVerify(t)
	h.mgr.Verify = &verify.Client{Path: path}
	env := &queue.Envelope{ArrivalTime: time.Now(), Sender: "double-bounce@test.example",
		// A probe skips content filters.
		Attrs: []queue.Attr{{Name: queue.AttrTraceFlags, Value: "256"}, {Name: queue.AttrContentFilter, Value: "smtp:[127.0.0.1]:10025"}}}
	for _, r := range []string{"known@one.example", "nobody@one.example", "later@one.example", "x@later.example"} {
		env.Recipients = append(env.Recipients, queue.Recipient{Address: r})
	}
	queuetest.Place(t, h.layout, queue.Incoming, "F1F2F3F4F5", env, "")
	h.run()
	h.waitLog("F1F2F3F4F5: removed")
	h.stop()
	for _, q := range []string{queue.Incoming, queue.Active, queue.Deferred, queue.Bounce, queue.Defer} {
		if h.exists(q, "F1F2F3F4F5") {
			t.Errorf("the probe is left in %s", q)
		}
	}
	if n := len(h.cleanup.Submissions()); n != 0 {
		t.Errorf("%d notices sent for a probe", n)
	}
	reqs := h.agent.Requests()
	if len(reqs) == 0 {
		t.Fatal("no delivery request")
	}
	for _, req := range reqs {
		if req.Flags&ipc.DeliveryFlagVerify == 0 || req.Nexthop != "one.example" {
			t.Errorf("request flags %b nexthop %s, want the verify flag and one.example", req.Flags, req.Nexthop)
		}
	}
	// The queue manager's own verdicts are logged as a probe's.
	if want := "F1F2F3F4F5: to=<x@later.example>, relay=none, "; !strings.Contains(h.log.Text(), want) ||
		!strings.Contains(h.log.Text(), "dsn=4.7.1, status=undeliverable (try again later)") {
		t.Errorf("log:\n%s", h.log.Text())
	}
	for addr, want := range map[string]verify.Status{
		"known@one.example": verify.StatusOK, "nobody@one.example": verify.StatusBounce,
		"later@one.example": verify.StatusDefer, "x@later.example": verify.StatusDefer,
	} {
		if got, text := cache.Query(addr); got != want {
			t.Errorf("%s: status %d (%s), want %d", addr, got, text, want)
		}
	}
	if _, text := cache.Query("nobody@one.example"); text != "host sink[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)" {
		t.Errorf("cached text %q", text)
	}
}
