// Tests of the delivery protocol: the test plays qmgr, dialing the agent's
// socket with a request for a queue file it wrote.

package smtpclient

import (
	"context"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/queue"
)

// writeQueueFile commits a message to the active queue and returns it as
// read back.
func writeQueueFile(t *testing.T, layout *queue.Layout, arrival time.Time, content string, rcpts ...string) *queue.Message {
	t.Helper()
	if err := layout.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	w, err := layout.Create(queue.Incoming)
	if err != nil {
		t.Fatal(err)
	}
	env := &queue.Envelope{ArrivalTime: arrival, Sender: "sender@client.test"}
	for _, r := range rcpts {
		env.Recipients = append(env.Recipients, queue.Recipient{Address: r})
	}
	if err := w.WriteEnvelope(env); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := layout.Move(w.ID, queue.Incoming, queue.Active); err != nil {
		t.Fatal(err)
	}
	msg, err := layout.Load(queue.Active, w.ID, func(s string) { t.Error(s) })
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// serveAgent runs the agent on a Unix socket and returns its path.
func serveAgent(t *testing.T, agent *Agent) string {
	path := filepath.Join(sockdir.New(t), "smtp")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer nc.Close(); agent.Serve(ctx, nc) }()
		}
	}()
	return path
}

func TestAgentServesDeliveryRequests(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0", refusing("gone@x.test", 550, smtp.EnhancedCode{5, 1, 1}, "User unknown"))
	client, readLog := newTestClient(t, s.port(), nil, nil)
	layout := queue.NewLayout(t.TempDir(), []string{"deferred", "defer"}, 1, false)
	arrival := time.Now().Add(-3 * time.Second)
	msg := writeQueueFile(t, layout, arrival, "Subject: via agent\n\n.dot\nend\n", "ok@x.test", "gone@x.test")
	path := serveAgent(t, &Agent{Client: client, Layout: layout, Log: client.cfg.Log})

	conn, err := ipc.Dial(context.Background(), path, ipc.ProtocolDelivery)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := &ipc.DeliveryRequest{
		Queue: queue.Active, QueueID: msg.ID, DataOffset: msg.Size.DataOffset, DataSize: msg.Size.ContentLength,
		Sender: msg.Sender, Transport: "smtp", Nexthop: "[127.0.0.3]",
		ArrivalTime: arrival, ActiveTime: arrival.Add(time.Second),
	}
	for _, r := range msg.Recipients {
		req.Recipients = append(req.Recipients, ipc.Recipient{Address: r.Address, Offset: r.Offset})
	}
	// Two requests on one connection, as qmgr may send.
	for round := 0; round < 2; round++ {
		result, err := ipctest.Deliver(context.Background(), conn, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(result.Recipients) != 2 {
			t.Fatalf("results: %+v", result.Recipients)
		}
		sent, bounced := result.Recipients[0], result.Recipients[1]
		if sent.Status != ipc.StatusSent || sent.Offset != msg.Recipients[0].Offset || sent.Address != "ok@x.test" {
			t.Fatalf("first: %+v", sent)
		}
		if bounced.Status != ipc.StatusBounced || bounced.DSNCode != "5.1.1" || bounced.Offset != msg.Recipients[1].Offset {
			t.Fatalf("second: %+v", bounced)
		}
	}
	got := s.received()
	if len(got) != 2 || got[0].data != "Subject: via agent\r\n\r\n.dot\r\nend\r\n" {
		t.Fatalf("received %+v", got)
	}
	relay := regexp.QuoteMeta("relay=127.0.0.3[127.0.0.3]:" + s.port())
	sentLine := regexp.MustCompile(msg.ID + `: to=<ok@x\.test>, ` + relay + `, delay=([0-9.]+), delays=1(\.\d)?/([0-9.]+)/[0-9.]+/[0-9.]+, dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as SINK1\)`)
	bounceLine := regexp.MustCompile(msg.ID + `: to=<gone@x\.test>, ` + relay + `, .*dsn=5\.1\.1, status=bounced \(host 127\.0\.0\.3\[127\.0\.0\.3\] said: 550 5\.1\.1 User unknown \(in reply to RCPT TO command\)\)`)
	log := readLog()
	if !sentLine.MatchString(log) || !bounceLine.MatchString(log) || strings.Count(log, "status=sent") != 2 {
		t.Fatalf("log:\n%s", log)
	}
	// The message arrived three seconds ago, one before it was active; a
	// slow machine adds to the delays.
	m := sentLine.FindStringSubmatch(log)
	delay, err1 := strconv.ParseFloat(m[1], 64)
	sinceActive, err2 := strconv.ParseFloat(m[3], 64)
	if err1 != nil || err2 != nil || delay < 3 || sinceActive < 2 {
		t.Errorf("delay=%s and %s s since active, want 3 and 2 or more:\n%s", m[1], m[3], log)
	}
}
