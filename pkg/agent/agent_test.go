// Tests of the request loop over a real Unix-domain socket.

package agent

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
)

// serveTest runs Serve on a socket with a deliver that answers each
// recipient as sent and records the queue IDs it was given; it returns the
// socket path, the recorded IDs and a reader of the log.
func serveTest(t *testing.T) (path string, delivered func() []string, readLog func() string) {
	t.Helper()
	dir := sockdir.New(t)
	logFile := filepath.Join(dir, "maillog")
	log, err := maillog.New(maillog.Options{Program: "test", Hostname: "agent.test", File: logFile, FilePrefixes: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = log.Close() })
	var mu sync.Mutex
	var ids []string
	deliver := func(_ context.Context, req *ipc.DeliveryRequest) *ipc.DeliveryResult {
		mu.Lock()
		ids = append(ids, req.QueueID)
		mu.Unlock()
		res := &ipc.DeliveryResult{}
		for _, r := range req.Recipients {
			res.Recipients = append(res.Recipients, ipc.RecipientResult{Offset: r.Offset, Address: r.Address, Status: ipc.StatusSent, DSNCode: "2.0.0"})
		}
		return res
	}
	path = filepath.Join(dir, "agent")
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
			go func() { defer nc.Close(); Serve(ctx, nc, log, time.Hour, deliver) }()
		}
	}()
	delivered = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(ids)
	}
	readLog = func() string {
		b, _ := os.ReadFile(logFile)
		return string(b)
	}
	return path, delivered, readLog
}

func TestServeAnswersEveryRequestOnOneConnection(t *testing.T) {
	path, delivered, _ := serveTest(t)
	ctx := context.Background()
	conn, err := ipc.Dial(ctx, path, ipc.ProtocolDelivery)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, id := range []string{"4ABC123DEF", "5BCD234EF0"} {
		req := &ipc.DeliveryRequest{Queue: queue.Active, QueueID: id,
			Recipients: []ipc.Recipient{{Address: "a@x.test", Offset: 7}, {Address: "b@x.test", Offset: 99}}}
		result, err := ipctest.Deliver(ctx, conn, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(result.Recipients) != 2 || result.Recipients[0].Offset != 7 || result.Recipients[1].Address != "b@x.test" {
			t.Fatalf("%s: results %+v", id, result.Recipients)
		}
	}
	if got := strings.Join(delivered(), " "); got != "4ABC123DEF 5BCD234EF0" {
		t.Fatalf("delivered %q", got)
	}
}

func TestServeRefusesBadQueueNames(t *testing.T) {
	path, delivered, readLog := serveTest(t)
	// A broken Serve that neither answers nor hangs up fails the test
	// here, not at go test's timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, req := range []*ipc.DeliveryRequest{
		{Queue: queue.Active, QueueID: "../../etc/passwd", Nexthop: "[127.0.0.3]"},
		{Queue: "../tmp", QueueID: "4ABC123DEF", Nexthop: "[127.0.0.3]"},
		{Queue: queue.Active, QueueID: "", Nexthop: "[127.0.0.3]"},
	} {
		conn, err := ipc.Dial(ctx, path, ipc.ProtocolDelivery)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Send(ctx, req); err != nil {
			t.Fatal(err)
		}
		var result ipc.DeliveryResult
		if err := conn.Expect(ctx, &result); err == nil {
			t.Fatalf("request %+v answered: %+v", req, result)
		}
		conn.Close()
	}
	if ids := delivered(); len(ids) != 0 {
		t.Fatalf("delivered %q", ids)
	}
	if n := strings.Count(readLog(), "bad delivery request"); n != 3 {
		t.Fatalf("log:\n%s", readLog())
	}
}
