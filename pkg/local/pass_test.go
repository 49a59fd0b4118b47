// Tests of mailbox_transport and fallback_transport: the delivery is
// handed to the named transport's agent over the delivery protocol.

package local

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/postern/postern/pkg/agent"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
)

// fakeTransport serves private/NAME in the working directory and answers
// every recipient as sent, recording the requests.
func fakeTransport(t *testing.T, name string) func() []*ipc.DeliveryRequest {
	t.Helper()
	if err := os.MkdirAll("private", 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", "private/"+name)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log, err := maillog.New(maillog.Options{Program: name, File: dir + "/maillog", FilePrefixes: dir})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reqs []*ipc.DeliveryRequest
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go agent.Serve(ctx, nc, log, 0, func(_ context.Context, req *ipc.DeliveryRequest) *ipc.DeliveryResult {
				mu.Lock()
				reqs = append(reqs, req)
				mu.Unlock()
				res := &ipc.DeliveryResult{}
				for _, r := range req.Recipients {
					res.Recipients = append(res.Recipients, ipc.RecipientResult{Offset: r.Offset, Address: r.Address,
						Status: ipc.StatusSent, DSNCode: "2.0.0", Reply: "250 2.0.0 <" + r.Address + "> Saved", Relay: name})
				}
				return res
			})
		}
	}()
	return func() []*ipc.DeliveryRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]*ipc.DeliveryRequest(nil), reqs...)
	}
}

// mailbox_transport serves every local recipient, whether or not it has
// a passwd entry (Postfix's precedence puts it before fallback_transport);
// fallback_transport serves the unknown ones when it is not set.
func TestMailboxAndFallbackTransport(t *testing.T) {
	t.Chdir(t.TempDir())
	requests := fakeTransport(t, "lmtp")
	f := newFixture(t, nil, map[string]string{
		"mailbox_transport":  "lmtp:unix:private/dovecot-lmtp",
		"fallback_transport": "lmtp:inet:127.0.0.1:24",
	})
	f.users["ghost"] = nil
	results := f.deliver(testContent, "alice@example.test", "ghost@example.test")
	for i, want := range []string{"250 2.0.0 <alice@example.test> Saved", "250 2.0.0 <ghost@example.test> Saved"} {
		if r := results[i]; r.Status != ipc.StatusSent || r.Reply != want {
			t.Errorf("result %d: %+v, want sent %q", i, r, want)
		}
	}
	reqs := requests()
	if len(reqs) != 2 || reqs[0].Transport != "lmtp" || reqs[0].Nexthop != "unix:private/dovecot-lmtp" ||
		reqs[0].Recipients[0].Address != "alice@example.test" || reqs[0].Recipients[0].Offset != 100 ||
		reqs[1].Nexthop != "unix:private/dovecot-lmtp" || reqs[1].Recipients[0].Address != "ghost@example.test" {
		t.Fatalf("requests %+v", reqs)
	}
	if strings.Contains(f.log(), "relay=local") {
		t.Errorf("local logged a delivery it handed on:\n%s", f.log())
	}

	f = newFixture(t, nil, map[string]string{"fallback_transport": "lmtp:inet:127.0.0.1:24"})
	f.users["ghost"] = nil
	if r := f.deliver(testContent, "ghost@example.test")[0]; r.Status != ipc.StatusSent {
		t.Errorf("unknown user with fallback_transport: %+v", r)
	}
	reqs = requests()
	if len(reqs) != 3 || reqs[2].Nexthop != "inet:127.0.0.1:24" || reqs[2].Recipients[0].Address != "ghost@example.test" {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestMailboxTransportDown(t *testing.T) {
	t.Chdir(t.TempDir())
	f := newFixture(t, nil, map[string]string{"mailbox_transport": "lmtp:unix:private/dovecot-lmtp"})
	r := f.deliver(testContent, "alice@example.test")[0]
	if r.Status != ipc.StatusDeferred || r.Reply != "mail transport unavailable" {
		t.Errorf("%+v", r)
	}
}
