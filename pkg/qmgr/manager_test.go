package qmgr_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
)

const bounceReply = "host sink[192.0.2.1] said: 550 5.1.1 <bad@remote.example>: unknown user (in reply to RCPT TO command)"

var mixedReplies = map[string]agentReply{
	"slow@remote.example": {ipc.StatusDeferred, "4.4.1", "connect to sink[192.0.2.1]:25: Connection refused", false},
	"bad@remote.example":  {ipc.StatusBounced, "5.1.1", bounceReply, false},
}

func TestMixedOutcomes(t *testing.T) {
	h := newHarness(t, "", mixedReplies)
	// The lines Postfix's bounce, error(8) and discard(8) write go to
	// the loggers under those programs' names.
	bounceLog, errorLog, discardLog := &ipctest.Log{}, &ipctest.Log{}, &ipctest.Log{}
	h.mgr.BounceLog, h.mgr.ErrorLog, h.mgr.DiscardLog = bounceLog, errorLog, discardLog
	arrival := time.Now().Add(-time.Minute).Truncate(time.Second)
	rcpts := h.place(queue.Incoming, "A1B2C3D4E5", "alice@test.example", arrival,
		"ok@remote.example", "slow@remote.example", "bad@remote.example", "x@gone.example",
		"y@drop.example", "z@later.example", "w@nosock.example")
	h.run()
	h.waitFor("the deferred file", func() bool { return h.exists(queue.Deferred, "A1B2C3D4E5") })
	h.stop()

	log := h.log.Text()
	for _, tc := range []struct {
		name  string
		log   *ipctest.Log
		wants []string
	}{
		{"qmgr", h.log, []string{
			"info: A1B2C3D4E5: from=<alice@test.example>, size=",
			", nrcpt=7 (queue active)",
			"warning: connect to transport " + h.mgr.AgentDir + "/nosuch: No such file or directory",
		}},
		{"error", errorLog, []string{
			"info: A1B2C3D4E5: to=<x@gone.example>, relay=none, delay=",
			", dsn=5.1.2, status=bounced (no such domain)",
			", dsn=4.7.1, status=deferred (try again later)",
			"info: A1B2C3D4E5: to=<w@nosock.example>, relay=none,",
			", dsn=4.3.0, status=deferred (mail transport unavailable)",
		}},
		{"discard", discardLog, []string{"info: A1B2C3D4E5: to=<y@drop.example>, relay=none,", ", dsn=2.0.0, status=sent (dropped by policy)"}},
		{"bounce", bounceLog, []string{"info: A1B2C3D4E5: sender non-delivery notification: BOUNCE1"}},
	} {
		for _, want := range tc.wants {
			if !strings.Contains(tc.log.Text(), want) {
				t.Errorf("%s log lacks %q:\n%s", tc.name, want, tc.log.Text())
			}
		}
	}
	if strings.Contains(log, "relay=none") || strings.Contains(log, "notification") {
		t.Errorf("qmgr's own log has lines of bounce, error or discard:\n%s", log)
	}
	if strings.Contains(log, "removed") {
		t.Errorf("a partly deferred message was removed:\n%s", log)
	}

	// The agent got one request with the three remote recipients.
	reqs := h.agent.Requests()
	if len(reqs) != 1 {
		t.Fatalf("agent got %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.Transport != "smtp" || req.Nexthop != "remote.example" || req.QueueID != "A1B2C3D4E5" ||
		req.Queue != "active" || req.Sender != "alice@test.example" || len(req.Recipients) != 3 ||
		!req.ArrivalTime.Equal(arrival) {
		t.Errorf("request %+v", req)
	}

	// Done marks: sent, bounced and discarded recipients are done.
	m := h.load(queue.Deferred, "A1B2C3D4E5")
	wantDone := map[string]bool{"ok@remote.example": true, "bad@remote.example": true, "x@gone.example": true, "y@drop.example": true}
	for i, r := range m.Recipients {
		if r.Offset != rcpts[i].Offset || r.Done != wantDone[r.Address] {
			t.Errorf("recipient %s: done=%v offset %d, want done=%v offset %d", r.Address, r.Done, r.Offset, wantDone[r.Address], rcpts[i].Offset)
		}
	}
	// The next attempt: now + max(age, minimal_backoff_time) = about 300 s.
	wait := time.Until(m.ModTime)
	if wait < 290*time.Second || wait > 301*time.Second {
		t.Errorf("next attempt in %v, want about 300s", wait)
	}
	// The defer log holds this attempt's reasons; the bounce log is gone
	// once the notification was sent.
	deferLog, err := h.layout.ReadStatus(queue.Defer, "A1B2C3D4E5")
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, e := range deferLog {
		reasons[e.Recipient] = e.Status + " " + e.Action + " " + e.Reason
	}
	wantReasons := map[string]string{
		"slow@remote.example": "4.4.1 delayed connect to sink[192.0.2.1]:25: Connection refused",
		"z@later.example":     "4.7.1 delayed try again later",
		"w@nosock.example":    "4.3.0 delayed mail transport unavailable",
	}
	if len(reasons) != len(wantReasons) {
		t.Errorf("defer log %v, want %v", reasons, wantReasons)
	}
	for k, v := range wantReasons {
		if reasons[k] != v {
			t.Errorf("defer log for %s: %q, want %q", k, reasons[k], v)
		}
	}
	if h.exists(queue.Bounce, "A1B2C3D4E5") {
		t.Error("bounce log kept after the notification was sent")
	}

	subs := h.cleanup.Submissions()
	if len(subs) != 1 {
		t.Fatalf("cleanup got %d submissions, want 1", len(subs))
	}
	sub := subs[0]
	if sub.Sub.Sender != "" || len(sub.Sub.Recipients) != 1 || sub.Sub.Recipients[0].Address != "alice@test.example" {
		t.Errorf("bounce envelope: sender %q recipients %+v", sub.Sub.Sender, sub.Sub.Recipients)
	}
	for _, want := range []string{
		"From: Mail Delivery System <MAILER-DAEMON>\nSubject: Undelivered Mail Returned to Sender\nTo: alice@test.example\nAuto-Submitted: auto-replied\n",
		"This is the mail system at host mx.test.example.\n\nI'm sorry to have to inform you",
		"\n" + dsn.Wrap("<bad@remote.example>: "+bounceReply, 79, 4),
		"\n<x@gone.example>: no such domain\n",
		"Reporting-MTA: dns; mx.test.example\nX-Postfix-Queue-ID: A1B2C3D4E5\nX-Postfix-Sender: rfc822; alice@test.example\n",
		"Final-Recipient: rfc822; bad@remote.example\nOriginal-Recipient: rfc822;bad@remote.example\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; sink\nDiagnostic-Code: smtp; 550 5.1.1 <bad@remote.example>: unknown user\n",
		"Final-Recipient: rfc822; x@gone.example\nOriginal-Recipient: rfc822;x@gone.example\nAction: failed\nStatus: 5.1.2\nDiagnostic-Code: X-Postfix; no such domain\n",
		"Content-Description: Undelivered Message\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\nReturn-Path: <alice@test.example>\nSubject: test A1B2C3D4E5\nFrom: <alice@test.example>\n\nbody\n\n--A1B2C3D4E5.",
	} {
		if !strings.Contains(sub.Content, want) {
			t.Errorf("DSN lacks %q:\n%s", want, sub.Content)
		}
	}
	if strings.Contains(sub.Content, "slow@remote.example") {
		t.Errorf("DSN names a deferred recipient:\n%s", sub.Content)
	}
}

func TestDeliveredMessageIsRemoved(t *testing.T) {
	h := newHarness(t, "", nil)
	h.place(queue.Incoming, "B1B2C3D4E5", "alice@test.example", time.Now(), "a@remote.example", "b@other.example")
	h.run()
	h.waitLog("B1B2C3D4E5: removed")
	h.stop()
	if h.exists(queue.Active, "B1B2C3D4E5") || h.exists(queue.Incoming, "B1B2C3D4E5") {
		t.Error("delivered message still queued")
	}
	if n := len(h.agent.Requests()); n != 2 {
		t.Errorf("agent got %d requests, want one per destination (2)", n)
	}
	if n := len(h.cleanup.Submissions()); n != 0 {
		t.Errorf("%d bounces for a delivered message", n)
	}
}

func TestExpiryReturnsToSender(t *testing.T) {
	h := newHarness(t, "maximal_queue_lifetime = 1d\n", mixedReplies)
	arrival := time.Now().Add(-25 * time.Hour)
	h.place(queue.Deferred, "C1B2C3D4E5", "carol@test.example", arrival, "slow@remote.example", "ok@remote.example")
	if err := h.layout.SetNextAttempt(queue.Deferred, "C1B2C3D4E5", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	h.run()
	h.waitLog("C1B2C3D4E5: removed")
	h.stop()
	log := h.log.Text()
	for _, want := range []string{
		"info: C1B2C3D4E5: from=<carol@test.example>, status=expired, returned to sender",
		"info: C1B2C3D4E5: sender non-delivery notification: BOUNCE1",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	subs := h.cleanup.Submissions()
	if len(subs) != 1 {
		t.Fatalf("%d submissions, want 1", len(subs))
	}
	for _, want := range []string{
		"\n<slow@remote.example>: connect to sink[192.0.2.1]:25: Connection refused\n",
		"Final-Recipient: rfc822; slow@remote.example\nOriginal-Recipient: rfc822;slow@remote.example\nAction: failed\nStatus: 4.4.1\n",
	} {
		if !strings.Contains(subs[0].Content, want) {
			t.Errorf("DSN lacks %q:\n%s", want, subs[0].Content)
		}
	}
}

func TestBounceOfNullSender(t *testing.T) {
	tests := []struct {
		name, extra, sender string
		wantSender, wantTo  string // "" when no notification goes out
		wantLog             string
	}{
		{"dropped by default", "", "", "", "", "D1B2C3D4E5: removed"},
		{"to postmaster with notify_classes=2bounce", "notify_classes = 2bounce\n", "",
			"double-bounce@mx.test.example", "postmaster", "D1B2C3D4E5: postmaster non-delivery notification: BOUNCE1"},
		{"double bounce discarded", "notify_classes = 2bounce\n", "double-bounce@mx.test.example", "", "",
			"warning: D1B2C3D4E5: undeliverable postmaster notification discarded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.extra, nil)
			h.place(queue.Incoming, "D1B2C3D4E5", tc.sender, time.Now(), "x@gone.example")
			h.run()
			h.waitLog("D1B2C3D4E5: removed")
			h.stop()
			if !strings.Contains(h.log.Text(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, h.log.Text())
			}
			subs := h.cleanup.Submissions()
			if tc.wantTo == "" {
				if len(subs) != 0 {
					t.Errorf("notification sent: %+v", subs)
				}
				return
			}
			if len(subs) != 1 || subs[0].Sub.Sender != tc.wantSender || subs[0].Sub.Recipients[0].Address != tc.wantTo {
				t.Fatalf("submissions %+v", subs)
			}
			if !strings.Contains(subs[0].Content, "To: postmaster\n") {
				t.Errorf("notification:\n%s", subs[0].Content)
			}
		})
	}
}

func TestCleanupDownKeepsBounceForRetry(t *testing.T) {
	h := newHarness(t, "", nil)
	h.mgr.CleanupSocket = h.mgr.AgentDir + "/nocleanup"
	h.place(queue.Incoming, "E1B2C3D4E5", "alice@test.example", time.Now(), "x@gone.example")
	h.run()
	h.waitFor("the deferred file", func() bool { return h.exists(queue.Deferred, "E1B2C3D4E5") })
	h.stop()
	if !strings.Contains(h.log.Text(), "warning: E1B2C3D4E5: sender non-delivery notification: connect to ") {
		t.Errorf("log:\n%s", h.log.Text())
	}
	entries, err := h.layout.ReadStatus(queue.Bounce, "E1B2C3D4E5")
	if err != nil || len(entries) != 1 || entries[0].Recipient != "x@gone.example" {
		t.Errorf("bounce log %+v, %v", entries, err)
	}
	if m := h.load(queue.Deferred, "E1B2C3D4E5"); len(m.Pending()) != 0 {
		t.Errorf("bounced recipient not marked done: %+v", m.Pending())
	}
}

func TestActiveLeftoversAreRedone(t *testing.T) {
	h := newHarness(t, "", nil)
	h.place(queue.Active, "F1B2C3D4E5", "alice@test.example", time.Now(), "a@remote.example")
	h.place(queue.Hold, "F2B2C3D4E5", "alice@test.example", time.Now(), "a@remote.example")
	h.run()
	h.waitLog("F1B2C3D4E5: removed")
	h.stop()
	if !h.exists(queue.Hold, "F2B2C3D4E5") || strings.Contains(h.log.Text(), "F2B2C3D4E5") {
		t.Errorf("the hold queue was touched:\n%s", h.log.Text())
	}
}

func TestDeferredWaitsUntilDueOrFlush(t *testing.T) {
	h := newHarness(t, "", nil)
	h.place(queue.Deferred, "A9B2C3D4E5", "alice@test.example", time.Now(), "a@remote.example")
	if err := h.layout.SetNextAttempt(queue.Deferred, "A9B2C3D4E5", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	h.run()
	// A plain deferred scan leaves a file that is not due.
	h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerScanDeferred})
	time.Sleep(200 * time.Millisecond)
	if !h.exists(queue.Deferred, "A9B2C3D4E5") {
		t.Fatalf("a file not due was taken:\n%s", h.log.Text())
	}
	// postqueue -f takes it at once.
	h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerFlushDead, ipc.TriggerScanAll, ipc.TriggerScanDeferred, ipc.TriggerScanIncoming})
	h.waitLog("A9B2C3D4E5: removed")
	h.stop()
}

// deliverOneByOne places the messages ids one after another, each once
// the previous one is removed, and waits for the last.
func (h *harness) deliverOneByOne(ids ...string) {
	staging := queue.NewLayout(h.t.TempDir(), nil, 1, false)
	if err := staging.MakeDirs(); err != nil {
		h.t.Fatal(err)
	}
	for _, id := range ids {
		// Written elsewhere and renamed in, as cleanup commits a file.
		env := &queue.Envelope{ArrivalTime: time.Now(), Sender: "alice@test.example", Recipients: []queue.Recipient{{Address: "a@remote.example"}}}
		queuetest.Place(h.t, staging, queue.Hold, id, env, "Subject: x\n\nbody\n")
		if err := os.Rename(staging.Path(queue.Hold, id), h.layout.Path(queue.Incoming, id)); err != nil {
			h.t.Fatal(err)
		}
		h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerScanIncoming})
		h.waitLog(id + ": removed")
	}
}

func TestAgentConnectionIsKept(t *testing.T) {
	h := newHarness(t, "", nil)
	h.run()
	h.deliverOneByOne("C1B2C3D4E5", "C2B2C3D4E5", "C3B2C3D4E5")
	h.stop()
	if n := len(h.agent.Requests()); n != 3 {
		t.Errorf("agent got %d requests, want 3", n)
	}
	if n := h.agent.Connections(); n != 1 {
		t.Errorf("3 requests one after another took %d agent connections, want 1", n)
	}
}

func TestAgentThatClosedItsConnectionGetsANewOne(t *testing.T) {
	h := newHarness(t, "", nil)
	h.agent.CloseAfter(1)
	h.run()
	h.deliverOneByOne("D1B2C3D4E5", "D2B2C3D4E5")
	h.stop()
	if log := h.log.Text(); strings.Contains(log, "status=deferred") || strings.Contains(log, "warning") {
		t.Errorf("a closed kept connection showed:\n%s", log)
	}
	if n := h.agent.Connections(); n != 2 {
		t.Errorf("agent saw %d connections, want 2", n)
	}
}

func TestTriggerPicksUpNewMail(t *testing.T) {
	h := newHarness(t, "", nil)
	h.run()
	h.waitFor("the start-up scans", func() bool { return h.mgr.ActiveCount() == 0 })
	// Written elsewhere and renamed in, as cleanup commits a file.
	staging := queue.NewLayout(t.TempDir(), nil, 1, false)
	if err := staging.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	env := &queue.Envelope{ArrivalTime: time.Now(), Sender: "alice@test.example", Recipients: []queue.Recipient{{Address: "a@remote.example"}}}
	queuetest.Place(t, staging, queue.Hold, "B9B2C3D4E5", env, "Subject: x\n\nbody\n")
	if err := os.Rename(staging.Path(queue.Hold, "B9B2C3D4E5"), h.layout.Path(queue.Incoming, "B9B2C3D4E5")); err != nil {
		t.Fatal(err)
	}
	h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerWakeup})
	h.waitLog("B9B2C3D4E5: removed")
	h.stop()
}

func TestUncommittedIncomingIsLeft(t *testing.T) {
	h := newHarness(t, "", nil)
	h.place(queue.Incoming, "C9B2C3D4E5", "alice@test.example", time.Now(), "a@remote.example")
	if err := os.Chmod(h.layout.Path(queue.Incoming, "C9B2C3D4E5"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.place(queue.Incoming, "D9B2C3D4E5", "alice@test.example", time.Now(), "a@remote.example")
	h.run()
	h.waitLog("D9B2C3D4E5: removed")
	h.stop()
	if !h.exists(queue.Incoming, "C9B2C3D4E5") {
		t.Error("a file cleanup had not committed was taken")
	}
}

func TestActiveLimit(t *testing.T) {
	h := newHarness(t, "qmgr_message_active_limit = 1\n", nil)
	ids := []string{"A7B2C3D4E5", "B7B2C3D4E5", "C7B2C3D4E5"}
	for _, id := range ids {
		h.place(queue.Incoming, id, "alice@test.example", time.Now(), "a@remote.example")
	}
	h.run()
	for _, id := range ids {
		h.waitLog(id + ": removed")
	}
	h.stop()
	// One message at a time: each one's lines come before the next starts.
	log := h.log.Text()
	for i := 1; i < len(ids); i++ {
		if strings.Index(log, ids[i]+": from=") < strings.Index(log, ids[i-1]+": removed") {
			t.Errorf("%s started before %s was done:\n%s", ids[i], ids[i-1], log)
		}
	}
}

func TestReturnedHeadersOnly(t *testing.T) {
	tests := []struct {
		name, extra string
		attrs       []queue.Attr
	}{
		{"RET=HDRS", "", []queue.Attr{{Name: queue.AttrDSNRet, Value: "2"}}},
		{"larger than bounce_size_limit", "bounce_size_limit = 40\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.extra, nil)
			env := &queue.Envelope{ArrivalTime: time.Now(), Sender: "alice@test.example", Attrs: tc.attrs,
				Recipients: []queue.Recipient{{Address: "x@gone.example"}}}
			queuetest.Place(t, h.layout, queue.Incoming, "A5B2C3D4E5", env,
				"Subject: returned\nFrom: <alice@test.example>\n\nbody\n")
			h.run()
			h.waitLog("A5B2C3D4E5: removed")
			h.stop()
			subs := h.cleanup.Submissions()
			if len(subs) != 1 {
				t.Fatalf("%d submissions", len(subs))
			}
			want := "Content-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\nContent-Transfer-Encoding: 8bit\n\nReturn-Path: <alice@test.example>\nSubject: returned\n"
			if !strings.Contains(subs[0].Content, want) || strings.Contains(subs[0].Content, "\nbody\n") {
				t.Errorf("notification:\n%s", subs[0].Content)
			}
		})
	}
}

func TestAgentFailures(t *testing.T) {
	h := newHarness(t, "", map[string]agentReply{
		"unreported@remote.example": {},
		"crash@crash.example":       {hangUp: true},
	})
	h.place(queue.Incoming, "A6B2C3D4E5", "alice@test.example", time.Now(),
		"ok@remote.example", "unreported@remote.example", "crash@crash.example")
	h.run()
	h.waitFor("the deferred file", func() bool { return h.exists(queue.Deferred, "A6B2C3D4E5") })
	h.stop()
	log := h.log.Text()
	for _, want := range []string{
		"A6B2C3D4E5: to=<unreported@remote.example>, relay=none,",
		"A6B2C3D4E5: to=<crash@crash.example>, relay=none,",
		"dsn=4.3.0, status=deferred (unknown mail transport error)",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "mail transport unavailable") {
		t.Errorf("a reachable agent was called unavailable:\n%s", log)
	}
	m := h.load(queue.Deferred, "A6B2C3D4E5")
	if p := m.Pending(); len(p) != 2 || p[0].Address != "unreported@remote.example" || p[1].Address != "crash@crash.example" {
		t.Errorf("pending %+v", p)
	}
}

func TestForcedExpiry(t *testing.T) {
	h := newHarness(t, "", nil)
	rcpts := h.place(queue.Deferred, "A4B2C3D4E5", "carol@test.example", time.Now(), "a@remote.example", "b@remote.example")
	if err := h.layout.AppendStatus(queue.Defer, "A4B2C3D4E5", queue.StatusEntry{
		Recipient: "a@remote.example", Offset: rcpts[0].Offset, Status: "4.4.1", Action: "delayed",
		Reason: "connect to sink[192.0.2.1]:25: Connection refused"}); err != nil {
		t.Fatal(err)
	}
	if err := h.layout.SetForcedExpire(queue.Deferred, "A4B2C3D4E5"); err != nil {
		t.Fatal(err)
	}
	if err := h.layout.SetNextAttempt(queue.Deferred, "A4B2C3D4E5", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	h.run()
	h.waitLog("A4B2C3D4E5: removed")
	h.stop()
	if !strings.Contains(h.log.Text(), "info: A4B2C3D4E5: from=<carol@test.example>, status=force-expired, returned to sender") {
		t.Errorf("log:\n%s", h.log.Text())
	}
	if n := len(h.agent.Requests()); n != 0 {
		t.Errorf("%d delivery requests for a force-expired message", n)
	}
	subs := h.cleanup.Submissions()
	if len(subs) != 1 {
		t.Fatalf("%d submissions", len(subs))
	}
	for _, want := range []string{
		"\n<a@remote.example>: connect to sink[192.0.2.1]:25: Connection refused\n",
		"\n<b@remote.example>: message is administratively expired\n",
	} {
		if !strings.Contains(subs[0].Content, want) {
			t.Errorf("DSN lacks %q:\n%s", want, subs[0].Content)
		}
	}
}

// TestResolverWarningsToRewriteLog: a domain listed in both
// mydestination and virtual_alias_domains gets Postfix's trivial-rewrite
// warning when qmgr resolves a recipient in it, on RewriteLog.
func TestResolverWarningsToRewriteLog(t *testing.T) {
	h := newHarness(t, "mydestination = both.example\nvirtual_alias_domains = both.example\ndefer_transports = local\n", nil)
	rewriteLog := &ipctest.Log{}
	h.mgr.RewriteLog = rewriteLog
	h.place(queue.Incoming, "R1B2C3D4E5", "alice@test.example", time.Now(), "a@both.example")
	h.run()
	rewriteLog.Wait(t, "do not list domain both.example in BOTH mydestination and virtual_alias_domains")
	if !strings.Contains(rewriteLog.Text(), "warning: do not list domain both.example in BOTH mydestination and virtual_alias_domains") {
		t.Errorf("rewrite log:\n%s", rewriteLog.Text())
	}
	if strings.Contains(h.log.Text(), "do not list domain") {
		t.Errorf("qmgr's own log has the resolver warning:\n%s", h.log.Text())
	}
}

// TestDeferTransports: defer_transports defers without an attempt, as
// Postfix's "deferred transport", until a flush (postqueue -f). The line
// goes to ErrorLog, as Postfix's retry service (error(8)) logs it.
func TestDeferTransports(t *testing.T) {
	h := newHarness(t, "defer_transports = local, smtp\n", nil)
	errorLog := &ipctest.Log{}
	h.mgr.ErrorLog = errorLog
	h.place(queue.Incoming, "D1B2C3D4E5", "alice@test.example", time.Now(), "a@remote.example")
	h.run()
	h.waitFor("the deferred file", func() bool { return h.exists(queue.Deferred, "D1B2C3D4E5") })
	log := errorLog.Text()
	want := "D1B2C3D4E5: to=<a@remote.example>, relay=none, delay="
	if !strings.Contains(log, want) || !strings.Contains(log, ", dsn=4.3.2, status=deferred (deferred transport)") {
		t.Errorf("error log lacks the deferred transport line:\n%s", log)
	}
	if strings.Contains(h.log.Text(), want) {
		t.Errorf("qmgr's own log has the deferred transport line:\n%s", h.log.Text())
	}
	if n := len(h.agent.Requests()); n != 0 {
		t.Fatalf("agent got %d requests for a deferred transport", n)
	}
	// postqueue -f delivers it.
	h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerFlushDead, ipc.TriggerScanAll, ipc.TriggerScanDeferred, ipc.TriggerScanIncoming})
	h.waitLog("D1B2C3D4E5: removed")
	h.stop()
	if n := len(h.agent.Requests()); n != 1 {
		t.Errorf("agent got %d requests after the flush, want 1", n)
	}
}

// TestSiteFlushLiftsDeferTransports: a file postqueue -s moved (marked
// unthrottled) is delivered once over defer_transports, and the mark is
// cleared.
func TestSiteFlushLiftsDeferTransports(t *testing.T) {
	h := newHarness(t, "defer_transports = smtp\n", nil)
	h.place(queue.Incoming, "D2B2C3D4E5", "alice@test.example", time.Now(), "a@remote.example")
	if err := queue.SetUnthrottled(h.layout.Path(queue.Incoming, "D2B2C3D4E5"), true); err != nil {
		t.Fatal(err)
	}
	h.run()
	h.waitLog("D2B2C3D4E5: removed")
	h.stop()
	if n := len(h.agent.Requests()); n != 1 {
		t.Errorf("agent got %d requests, want 1:\n%s", n, h.log.Text())
	}
}

// TestMessagesOneAfterAnother: each message arrives after the previous one
// is done, so that the worker that finished one is there to take the next;
// every one is delivered, and Run returns while the worker waits.
func TestMessagesOneAfterAnother(t *testing.T) {
	h := newHarness(t, "", nil)
	h.run()
	h.waitFor("the start-up scans", func() bool { return h.mgr.ActiveCount() == 0 })
	staging := queue.NewLayout(t.TempDir(), nil, 1, false)
	if err := staging.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"A8B2C3D4E5", "B8B2C3D4E5", "C8B2C3D4E5"} {
		env := &queue.Envelope{ArrivalTime: time.Now(), Sender: "alice@test.example", Recipients: []queue.Recipient{{Address: "a@remote.example"}}}
		queuetest.Place(t, staging, queue.Hold, id, env, "Subject: x\n\nbody\n")
		if err := os.Rename(staging.Path(queue.Hold, id), h.layout.Path(queue.Incoming, id)); err != nil {
			t.Fatal(err)
		}
		h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerScanIncoming})
		h.waitLog(id + ": removed")
		if h.exists(queue.Active, id) || h.exists(queue.Incoming, id) {
			t.Errorf("%s still queued after its removal was logged", id)
		}
	}
	if n := len(h.agent.Requests()); n != 3 {
		t.Errorf("%d delivery requests, want 3", n)
	}
	h.stop()
}
