// Tests of pickup against a real cleanup server on a Unix socket.

package pickup

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/cleanup"
	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/maildrop"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
)

type fixture struct {
	layout  *queue.Layout
	pickup  *Pickup
	logPath string
	socket  string
}

func newFixture(t *testing.T, withCleanup bool) *fixture {
	t.Helper()
	dir := sockdir.New(t)
	layout := queue.NewLayout(dir, []string{"deferred"}, 1, false)
	if err := layout.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "maillog")
	log, err := maillog.New(maillog.Options{Program: "pickup", File: logPath, FilePrefixes: dir})
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "cleanup.sock")
	if withCleanup {
		ln, err := net.Listen("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		srv := &cleanup.Server{Layout: layout, Log: log, Settings: &cleanup.Settings{
			MyHostname: "mx.test.example", MyOrigin: "test.example", MailName: "Postern", AppendAtMyOrigin: true,
			HopcountLimit: 50, MessageSizeLimit: 2000, AliasRecursionLimit: 1000, AliasExpansionLimit: 1000,
		}}
		go func() {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer nc.Close()
					srv.Serve(context.Background(), nc)
				}()
			}
		}()
		t.Cleanup(func() { ln.Close() })
	}
	return &fixture{layout: layout, pickup: New(layout, log, socket), logPath: logPath, socket: socket}
}

func (f *fixture) ids(t *testing.T, q string) []string {
	t.Helper()
	ids, err := f.layout.IDs(q)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (f *fixture) log() string {
	data, _ := os.ReadFile(f.logPath)
	return string(data)
}

func TestPickupSubmitsMaildropFiles(t *testing.T) {
	f := newFixture(t, true)
	if _, err := maildrop.Write(f.layout, &maildrop.Submission{Sender: "alice", Recipients: []string{"bob"}},
		strings.NewReader("Subject: hi\n\nhello\n")); err != nil {
		t.Fatal(err)
	}
	f.pickup.Scan(context.Background())
	if ids := f.ids(t, queue.Maildrop); len(ids) != 0 {
		t.Errorf("maildrop still has %v", ids)
	}
	incoming := f.ids(t, queue.Incoming)
	if len(incoming) != 1 {
		t.Fatalf("incoming has %v", incoming)
	}
	m, err := f.layout.Load(queue.Incoming, incoming[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sender != "alice@test.example" || len(m.Recipients) != 1 || m.Recipients[0].Address != "bob@test.example" {
		t.Errorf("envelope %q -> %+v", m.Sender, m.Recipients)
	}
	want := fmt.Sprintf("%s: uid=%d from=<alice>", incoming[0], os.Getuid())
	if !strings.Contains(f.log(), want) {
		t.Errorf("log lacks %q:\n%s", want, f.log())
	}
}

func TestPickupRequeuedFileKeepsArrivalAndPending(t *testing.T) {
	f := newFixture(t, true)
	arrival := time.Unix(1795870875, 0)
	w, err := f.layout.Create(queue.Deferred)
	if err != nil {
		t.Fatal(err)
	}
	env := &queue.Envelope{ArrivalTime: arrival, Sender: "s@remote.example", Recipients: []queue.Recipient{
		{Address: "done@test.example", Done: true}, {Address: "todo@test.example", Original: "orig@test.example"},
	}}
	if err := w.WriteEnvelope(env); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("Subject: x\n\nbody\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := f.layout.Requeue(queue.Deferred, w.ID); err != nil {
		t.Fatal(err)
	}
	f.pickup.Scan(context.Background())
	incoming := f.ids(t, queue.Incoming)
	if len(incoming) != 1 {
		t.Fatalf("incoming has %v; log:\n%s", incoming, f.log())
	}
	m, err := f.layout.Load(queue.Incoming, incoming[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if !m.ArrivalTime.Equal(arrival) {
		t.Errorf("arrival %v, want %v", m.ArrivalTime, arrival)
	}
	if len(m.Recipients) != 1 || m.Recipients[0].Address != "todo@test.example" || m.Recipients[0].Original != "orig@test.example" {
		t.Errorf("recipients %+v", m.Recipients)
	}
}

func TestPickupProblemFiles(t *testing.T) {
	f := newFixture(t, true)
	// Not committed yet: left alone.
	w, err := f.layout.Create(queue.Maildrop)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abandon()
	// Garbage: moved to corrupt/.
	garbage := f.layout.Path(queue.Maildrop, "ABCDEF12345")
	if err := os.WriteFile(garbage, []byte("not a queue file"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Too big for cleanup: a local submission is not refused but queued
	// for a bounce to its sender, as in Postfix.
	big := &maildrop.Submission{Sender: "alice", Recipients: []string{"bob"}}
	if _, err := maildrop.Write(f.layout, big, strings.NewReader("Subject: x\n\n"+strings.Repeat("y", 5000)+"\n")); err != nil {
		t.Fatal(err)
	}
	f.pickup.Scan(context.Background())
	if got := f.ids(t, queue.Maildrop); len(got) != 1 || got[0] != w.ID {
		t.Errorf("maildrop has %v, want only the file being written %s", got, w.ID)
	}
	if corrupt := strings.Join(f.ids(t, queue.Corrupt), ","); corrupt != "ABCDEF12345" {
		t.Errorf("corrupt has %s", corrupt)
	}
	incoming := f.ids(t, queue.Incoming)
	if len(incoming) != 1 {
		t.Fatalf("incoming has %v", incoming)
	}
	m, err := f.layout.Load(queue.Incoming, incoming[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if reason, _ := m.Attr(queue.AttrContentReject); reason != "5.3.4 message file too big" {
		t.Errorf("the message too big is queued with content_reject %q", reason)
	}
	if want := `warning: saving corrupt file "ABCDEF12345"`; !strings.Contains(f.log(), want) {
		t.Errorf("log lacks %q:\n%s", want, f.log())
	}
}

func TestPickupWithoutCleanupKeepsFiles(t *testing.T) {
	f := newFixture(t, false)
	id, err := maildrop.Write(f.layout, &maildrop.Submission{Sender: "alice", Recipients: []string{"bob"}}, strings.NewReader("x\n"))
	if err != nil {
		t.Fatal(err)
	}
	f.pickup.Scan(context.Background())
	if got := f.ids(t, queue.Maildrop); len(got) != 1 || got[0] != id {
		t.Errorf("maildrop has %v, want %s", got, id)
	}
	if !strings.Contains(f.log(), "warning: connect to "+f.socket) {
		t.Errorf("log:\n%s", f.log())
	}
}

func TestTriggerWakesRun(t *testing.T) {
	f := newFixture(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.pickup.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if _, err := maildrop.Write(f.layout, &maildrop.Submission{Sender: "alice", Recipients: []string{"bob"}}, strings.NewReader("x\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(f.ids(t, queue.Incoming)) == 0 && time.Now().Before(deadline) {
		f.pickup.Trigger(ctx, nil)
		time.Sleep(20 * time.Millisecond)
	}
	if len(f.ids(t, queue.Incoming)) != 1 {
		t.Errorf("trigger did not lead to a pickup; log:\n%s", f.log())
	}
}

func TestPickupRefusesLinks(t *testing.T) {
	f := newFixture(t, true)
	// A valid message elsewhere that a user must not get mailed to them.
	secretID, err := maildrop.Write(f.layout, &maildrop.Submission{Sender: "root", Recipients: []string{"root"}}, strings.NewReader("secret\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.layout.Move(secretID, queue.Maildrop, queue.Hold); err != nil {
		t.Fatal(err)
	}
	secret := f.layout.Path(queue.Hold, secretID)
	symlink := f.layout.Path(queue.Maildrop, "ABCDE11111")
	if err := os.Symlink(secret, symlink); err != nil {
		t.Fatal(err)
	}
	hardlink := f.layout.Path(queue.Maildrop, "ABCDE22222")
	if err := os.Link(secret, hardlink); err != nil {
		t.Fatal(err)
	}
	f.pickup.Scan(context.Background())
	if got := f.ids(t, queue.Incoming); len(got) != 0 {
		t.Errorf("a linked file was submitted: %v", got)
	}
	if got := f.ids(t, queue.Maildrop); len(got) != 0 {
		t.Errorf("links left in maildrop: %v", got)
	}
	if got := f.ids(t, queue.Corrupt); len(got) != 2 {
		t.Errorf("links not set aside in corrupt: %v", got)
	}
	if _, err := os.Stat(secret); err != nil {
		t.Errorf("the link target was touched: %v", err)
	}
	for _, want := range []string{"maildrop/ABCDE11111: ", "maildrop/ABCDE22222: file has 2 links", `saving corrupt file "ABCDE22222" from queue "maildrop" to queue "corrupt"`} {
		if !strings.Contains(f.log(), want) {
			t.Errorf("log lacks %q:\n%s", want, f.log())
		}
	}
}

// TestPickupKeepsUnreadableFile: a maildrop file pickup may not open is
// warned about and left where it is, never removed.
func TestPickupKeepsUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file; the root end-to-end test covers the installed model")
	}
	f := newFixture(t, true)
	id, err := maildrop.Write(f.layout, &maildrop.Submission{Sender: "alice", Recipients: []string{"bob"}}, strings.NewReader("x\n"))
	if err != nil {
		t.Fatal(err)
	}
	path := f.layout.Path(queue.Maildrop, id)
	if err := os.Chmod(path, 0o300); err != nil {
		t.Fatal(err)
	}
	f.pickup.Scan(context.Background())
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("unreadable maildrop file was removed: %v\nlog:\n%s", err, f.log())
	}
	if want := "open input file maildrop/" + id + ": "; !strings.Contains(f.log(), want) || !strings.Contains(f.log(), "permission denied -- left in place") {
		t.Errorf("log lacks %q ... permission denied -- left in place:\n%s", want, f.log())
	}
}
