// Tests of the input flow control in cleanup: one token per message, a pause without one, the token given back for held mail.

package cleanup

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailflow"
)

// flowServer serves cleanup with a gate of delay on a fresh token pipe.
type flowServer struct {
	t      *testing.T
	socket string
	pipe   *mailflow.Pipe
	log    string
}

func startFlowServer(t *testing.T, delay time.Duration) *flowServer {
	t.Helper()
	r, w, err := mailflow.NewPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	pipe := mailflow.FromDescriptors(int(r.Fd()), int(w.Fd()))
	ts := startServerWith(t, baseSettings(), func(srv *Server) {
		srv.Verbose = true
		srv.Flow = &mailflow.Gate{Pipe: pipe, Delay: delay}
	})
	return &flowServer{t: t, socket: ts.socket, pipe: pipe, log: ts.log}
}

// dial connects with a deadline: a gate that paused for its hour-long
// delay fails the test instead of hanging it.
func (fs *flowServer) dial() (*ipc.Conn, context.Context) {
	fs.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	fs.t.Cleanup(cancel)
	conn, err := ipc.Dial(ctx, fs.socket, ipc.ProtocolCleanup)
	if err != nil {
		fs.t.Fatal(err)
	}
	fs.t.Cleanup(func() { conn.Close() })
	return conn, ctx
}

func (fs *flowServer) submit(conn *ipc.Conn, ctx context.Context, sub *ipc.CleanupSubmission) {
	fs.t.Helper()
	reply, err := conn.Submit(ctx, sub, strings.NewReader("Subject: x\n\nbody\n"))
	if err != nil {
		fs.t.Fatal(err)
	}
	if reply.Status != 0 || reply.QueueID == "" {
		fs.t.Fatalf("reply %+v", reply)
	}
}

func TestFlowOneTokenPerMessage(t *testing.T) {
	fs := startFlowServer(t, time.Hour)
	fs.pipe.Put(3)
	conn, ctx := fs.dial()
	fs.submit(conn, ctx, remote("s@remote.example", "a@test.example"))
	if n := fs.pipe.Count(); n != 2 {
		t.Fatalf("%d tokens left after a submission, want 2", n)
	}
	// smtpd's way: a queue file first, then the submission on it.
	if err := conn.Send(ctx, &ipc.CleanupOpen{}); err != nil {
		t.Fatal(err)
	}
	var opened ipc.CleanupReply
	if err := conn.Expect(ctx, &opened); err != nil || opened.QueueID == "" {
		t.Fatalf("CleanupOpen: %+v, %v", opened, err)
	}
	if n := fs.pipe.Count(); n != 1 {
		t.Fatalf("%d tokens left after a CleanupOpen, want 1", n)
	}
	fs.submit(conn, ctx, remote("s@remote.example", "a@test.example"))
	if n := fs.pipe.Count(); n != 1 {
		t.Fatalf("%d tokens left after the opened file's submission, want still 1", n)
	}
}

func TestFlowPausesWithoutTokenAndAccepts(t *testing.T) {
	fs := startFlowServer(t, time.Millisecond)
	conn, ctx := fs.dial()
	fs.submit(conn, ctx, remote("s@remote.example", "a@test.example"))
	data, _ := os.ReadFile(fs.log)
	if !strings.Contains(string(data), "mail_flow_get: no token, paused 1ms (in_flow_delay)") {
		t.Errorf("no pause logged with -v:\n%s", data)
	}
}

func TestFlowTokenGivenBackForHeldMail(t *testing.T) {
	fs := startFlowServer(t, time.Hour)
	fs.pipe.Put(1)
	conn, ctx := fs.dial()
	sub := remote("s@remote.example", "a@test.example")
	sub.Flags |= ipc.CleanupFlagHold
	fs.submit(conn, ctx, sub)
	if n := fs.pipe.Count(); n != 1 {
		t.Fatalf("%d tokens after a held message, want its token back (1)", n)
	}
}
