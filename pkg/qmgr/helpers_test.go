package qmgr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/qmgr"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
	"github.com/postern/postern/pkg/resolve"
)

// captureLog collects log lines as "info: ..." and "warning: ...".
type captureLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *captureLog) Info(format string, args ...any) {
	l.add("info: " + fmt.Sprintf(format, args...))
}

func (l *captureLog) Warning(format string, args ...any) {
	l.add("warning: " + fmt.Sprintf(format, args...))
}

func (l *captureLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

func (l *captureLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// agentReply is what the fake agent answers for one recipient. A zero
// status makes the agent leave a recipient out of its result; hangUp makes
// it close the connection without a result.
type agentReply struct {
	status ipc.DeliveryStatus
	dsn    string
	reply  string
	hangUp bool
}

// fakeAgent is a delivery agent on a Unix socket answering per recipient
// address from replies (sent when absent).
type fakeAgent struct {
	replies map[string]agentReply
	mu      sync.Mutex
	reqs    []ipc.DeliveryRequest
}

func (a *fakeAgent) requests() []ipc.DeliveryRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]ipc.DeliveryRequest(nil), a.reqs...)
}

func (a *fakeAgent) serve(ctx context.Context, ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer nc.Close()
			conn, err := ipc.Greet(ctx, nc, ipc.ProtocolDelivery)
			if err != nil {
				return
			}
			for {
				var req ipc.DeliveryRequest
				if err := conn.Expect(ctx, &req); err != nil {
					return
				}
				a.mu.Lock()
				a.reqs = append(a.reqs, req)
				a.mu.Unlock()
				var res ipc.DeliveryResult
				for _, r := range req.Recipients {
					rep, ok := a.replies[r.Address]
					if !ok {
						rep = agentReply{ipc.StatusSent, "2.0.0", "250 2.0.0 Ok: queued as SINK1", false}
					}
					if rep.hangUp {
						return
					}
					if rep.status == 0 {
						continue
					}
					res.Recipients = append(res.Recipients, ipc.RecipientResult{
						Offset: r.Offset, Address: r.Address, Status: rep.status, DSNCode: rep.dsn,
						Reply: rep.reply, Relay: "sink[192.0.2.1]:25",
					})
				}
				if err := conn.Send(ctx, &res); err != nil {
					return
				}
			}
		}()
	}
}

// submission is what the fake cleanup received.
type submission struct {
	sub     ipc.CleanupSubmission
	content string
}

// fakeCleanup accepts submissions and answers with queue IDs BOUNCE1, BOUNCE2...
type fakeCleanup struct {
	mu   sync.Mutex
	subs []submission
}

func (c *fakeCleanup) submissions() []submission {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]submission(nil), c.subs...)
}

func (c *fakeCleanup) serve(ctx context.Context, ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer nc.Close()
			conn, err := ipc.Greet(ctx, nc, ipc.ProtocolCleanup)
			if err != nil {
				return
			}
			var sub ipc.CleanupSubmission
			if err := conn.Expect(ctx, &sub); err != nil {
				return
			}
			data, err := io.ReadAll(conn.ContentReader(ctx))
			if err != nil {
				return
			}
			c.mu.Lock()
			c.subs = append(c.subs, submission{sub, string(data)})
			id := fmt.Sprintf("BOUNCE%d", len(c.subs))
			c.mu.Unlock()
			conn.Send(ctx, &ipc.CleanupReply{QueueID: id})
		}()
	}
}

// harness is a queue manager on a temporary queue with a fake smtp agent
// and a fake cleanup.
type harness struct {
	t       *testing.T
	layout  *queue.Layout
	mgr     *qmgr.Manager
	log     *captureLog
	agent   *fakeAgent
	cleanup *fakeCleanup
	stopMgr context.CancelFunc
	done    chan error
}

// transportTable routes test domains to the in-house transports and to
// an agent that does not exist.
const transportTable = `gone.example error:5.1.2 no such domain
plain-error.example error:go away
drop.example discard:dropped by policy
later.example retry:4.7.1 try again later
nosock.example nosuch:
`

func newHarness(t *testing.T, extraMainCF string, replies map[string]agentReply) *harness {
	t.Helper()
	configDir, layout := queuetest.Setup(t, "")
	transport := filepath.Join(configDir, "transport")
	if err := os.WriteFile(transport, []byte(transportTable), 0o644); err != nil {
		t.Fatal(err)
	}
	mainCF := filepath.Join(configDir, "main.cf")
	f, err := os.OpenFile(mainCF, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "mydestination =\ntransport_maps = texthash:%s\nminimal_backoff_time = 300s\nmaximal_backoff_time = 4000s\n%s", transport, extraMainCF)
	f.Close()
	cfg, err := config.Load(configDir)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := qmgr.FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resolver, err := resolve.FromConfig(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resolver.Close() })

	// Socket paths must stay short.
	sockDir, err := os.MkdirTemp("", "qm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, layout: layout, log: &captureLog{}, agent: &fakeAgent{replies: replies},
		cleanup: &fakeCleanup{}, done: make(chan error, 1)}
	agentLn, err := net.Listen("unix", filepath.Join(sockDir, "smtp"))
	if err != nil {
		t.Fatal(err)
	}
	cleanupLn, err := net.Listen("unix", filepath.Join(sockDir, "cleanup"))
	if err != nil {
		t.Fatal(err)
	}
	go h.agent.serve(ctx, agentLn)
	go h.cleanup.serve(ctx, cleanupLn)
	h.mgr = &qmgr.Manager{
		Settings: settings, Layout: layout, Resolver: resolver, Log: h.log,
		CleanupSocket: filepath.Join(sockDir, "cleanup"), AgentDir: sockDir,
	}
	t.Cleanup(func() {
		h.stop()
		cancel()
		agentLn.Close()
		cleanupLn.Close()
	})
	return h
}

// run starts the manager.
func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	h.stopMgr = cancel
	go func() { h.done <- h.mgr.Run(ctx) }()
}

// stop stops the manager and waits for Run to return.
func (h *harness) stop() {
	if h.stopMgr == nil {
		return
	}
	h.stopMgr()
	h.stopMgr = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Error("Run did not return after cancel")
	}
}

// waitFor polls cond for up to 10 seconds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; log:\n%s", what, h.log.text())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLog waits for a log line containing s.
func (h *harness) waitLog(s string) {
	h.t.Helper()
	h.waitFor("log "+s, func() bool { return strings.Contains(h.log.text(), s) })
}

// place queues a message in queueName with fixed id.
func (h *harness) place(queueName, id, sender string, arrival time.Time, rcpts ...string) []queue.Recipient {
	h.t.Helper()
	env := &queue.Envelope{ArrivalTime: arrival, Sender: sender}
	for _, r := range rcpts {
		env.Recipients = append(env.Recipients, queue.Recipient{Address: r})
	}
	return queuetest.Place(h.t, h.layout, queueName, id, env,
		"Subject: test "+id+"\nFrom: <"+sender+">\n\nbody\n")
}

func (h *harness) exists(queueName, id string) bool {
	_, err := os.Stat(h.layout.Path(queueName, id))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		h.t.Fatal(err)
	}
	return err == nil
}

func (h *harness) load(queueName, id string) *queue.Message {
	h.t.Helper()
	m, err := h.layout.Load(queueName, id, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}
