// Tests of the active list's count of the recipients in memory.

package qmgr

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
	"github.com/postern/postern/pkg/resolve"
)

// discardAll routes every recipient to the discard transport, which the
// queue manager handles itself.
type discardAll struct{}

func (discardAll) Resolve(address string) (resolve.Result, error) {
	return resolve.Result{Recipient: address, Transport: "discard", Nexthop: "dropped"}, nil
}

func (d discardAll) ResolveFrom(_, address string) (resolve.Result, error) { return d.Resolve(address) }

// discardingManager is a manager with the default settings on a new
// queue, which discards every recipient; Run is not started.
func discardingManager(t *testing.T) (*Manager, *queue.Layout, *ipctest.Log) {
	t.Helper()
	configDir, layout := queuetest.Setup(t, "")
	cfg, err := config.Load(configDir)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := &ipctest.Log{}
	q := &Manager{Settings: settings, Layout: layout, Resolver: discardAll{}, Log: log}
	q.init()
	return q, layout, log
}

// runUntil runs q until cond holds (at most 30 seconds), then stops it.
func runUntil(t *testing.T, q *Manager, log *ipctest.Log, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; log:\n%s", what, log.Text())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inMemory returns the active messages and the recipients they hold.
func (q *Manager) inMemory() (messages, recipients int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.active), q.recipientsInMemory
}

// TestRecipientsInMemory: a message taken into the active queue counts
// as one recipient until it is loaded, then as its pending recipients,
// and as none once it is off the active list.
func TestRecipientsInMemory(t *testing.T) {
	q := testManager(1)
	check := func(when string, wantMessages, wantRecipients int) {
		t.Helper()
		if m, r := q.inMemory(); m != wantMessages || r != wantRecipients {
			t.Errorf("%s: %d messages, %d recipients in memory; want %d, %d", when, m, r, wantMessages, wantRecipients)
		}
	}
	q.mu.Lock()
	first, again, second := q.activateLocked("A"), q.activateLocked("A"), q.activateLocked("B")
	q.mu.Unlock()
	if !first || again || !second {
		t.Errorf("activated A %v, A again %v, B %v; want true, false, true", first, again, second)
	}
	check("two being loaded", 2, 2)
	q.loaded("A", 3)
	check("A loaded with 3", 2, 4)
	q.messageDone("B") // could not be loaded
	check("B gone", 1, 3)
	q.messageDone("A")
	check("A done", 0, 0)
}

// TestRecipientsInMemoryAfterARun: after the messages of a run, one of
// them corrupt, are done, no recipient is counted in memory.
func TestRecipientsInMemoryAfterARun(t *testing.T) {
	q, layout, log := discardingManager(t)
	ids := []string{"C1B2C3D4E5", "C2B2C3D4E5"}
	for _, id := range ids {
		queuetest.Place(t, layout, queue.Incoming, id,
			&queue.Envelope{ArrivalTime: time.Now(), Sender: "alice@test.example",
				Recipients: []queue.Recipient{{Address: "a@remote.example"}, {Address: "b@remote.example"}}},
			"Subject: test\n\nbody\n")
	}
	const corrupt = "C3B2C3D4E5"
	if err := os.WriteFile(layout.Path(queue.Incoming, corrupt), []byte("not a queue file"), 0o700); err != nil {
		t.Fatal(err)
	}
	runUntil(t, q, log, "every message done", func() bool {
		text := log.Text()
		messages, _ := q.inMemory()
		return strings.Contains(text, ids[0]+": removed") && strings.Contains(text, ids[1]+": removed") &&
			strings.Contains(text, corrupt) && messages == 0
	})
	if _, r := q.inMemory(); r != 0 {
		t.Errorf("%d recipients in memory with no message active; log:\n%s", r, log.Text())
	}
}
