package qmgr_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/qmgr"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
	"github.com/postern/postern/pkg/resolve"
)

// agentReply is what the fake agent answers for one recipient. A zero
// status makes the agent leave a recipient out of its result; hangUp makes
// it close the connection without a result.
type agentReply struct {
	status ipc.DeliveryStatus
	dsn    string
	reply  string
	hangUp bool
}

// answer is the fake agent's Answer: per recipient address from replies,
// sent when absent.
func answer(replies map[string]agentReply) ipctest.Answer {
	return func(req *ipc.DeliveryRequest) *ipc.DeliveryResult {
		var res ipc.DeliveryResult
		for _, r := range req.Recipients {
			rep, ok := replies[r.Address]
			if !ok {
				rep = agentReply{ipc.StatusSent, "2.0.0", "250 2.0.0 Ok: queued as SINK1", false}
			}
			if rep.hangUp {
				return nil
			}
			if rep.status == 0 {
				continue
			}
			res.Recipients = append(res.Recipients, ipc.RecipientResult{
				Offset: r.Offset, Address: r.Address, Status: rep.status, DSNCode: rep.dsn,
				Reply: rep.reply, Relay: "sink[192.0.2.1]:25",
			})
		}
		return &res
	}
}

// harness is a queue manager on a temporary queue with a fake smtp agent
// and a fake cleanup that answers queue IDs BOUNCE1, BOUNCE2, ...
type harness struct {
	t       *testing.T
	layout  *queue.Layout
	mgr     *qmgr.Manager
	log     *ipctest.Log
	agent   *ipctest.Agent
	cleanup *ipctest.Cleanup
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

	sockDir := ipctest.SocketDir(t)
	h := &harness{t: t, layout: layout, log: &ipctest.Log{}, done: make(chan error, 1),
		agent:   ipctest.StartAgent(t, filepath.Join(sockDir, "smtp"), answer(replies)),
		cleanup: ipctest.StartCleanup(t, filepath.Join(sockDir, "cleanup"), "BOUNCE")}
	h.mgr = &qmgr.Manager{
		Settings: settings, Layout: layout, Resolver: resolver, Log: h.log,
		CleanupSocket: filepath.Join(sockDir, "cleanup"), AgentDir: sockDir,
	}
	t.Cleanup(h.stop)
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
	case <-time.After(30 * time.Second):
		h.t.Error("Run did not return after cancel")
	}
}

// waitFor polls cond for up to 30 seconds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; log:\n%s", what, h.log.Text())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLog waits for a log line containing s.
func (h *harness) waitLog(s string) {
	h.t.Helper()
	h.waitFor("log "+s, func() bool { return strings.Contains(h.log.Text(), s) })
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

// stalledAgent is a fake agent for one transport whose deliveries wait
// until release, then get answer's result.
type stalledAgent struct {
	*ipctest.Agent
	released chan struct{}
	once     sync.Once
}

// startStalledAgent starts a stalled agent on transport's socket; those
// requests that stalls reports false for (nil: none) are answered at
// once. It is released at the latest when the test ends, before the
// agent's own clean-up, which waits for its sessions.
func (h *harness) startStalledAgent(transport string, answer ipctest.Answer, stalls func(*ipc.DeliveryRequest) bool) *stalledAgent {
	a := &stalledAgent{released: make(chan struct{})}
	a.Agent = ipctest.StartAgent(h.t, filepath.Join(h.mgr.AgentDir, transport), func(req *ipc.DeliveryRequest) *ipc.DeliveryResult {
		if stalls == nil || stalls(req) {
			<-a.released
		}
		return answer(req)
	})
	h.t.Cleanup(a.release)
	return a
}

// release lets the stalled deliveries and those to come go on.
func (a *stalledAgent) release() { a.once.Do(func() { close(a.released) }) }
