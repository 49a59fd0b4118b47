// Tests of the input flow control in cleanup: one token per message, a pause without one, the token given back for held mail.

package cleanup

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailflow"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
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
	dir := sockdir.New(t)
	layout := queue.NewLayout(dir, []string{"deferred", "defer"}, 1, false)
	if err := layout.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "maillog")
	log, err := maillog.New(maillog.Options{Program: "cleanup", File: logPath, FilePrefixes: dir, Hostname: "mx"})
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := mailflow.NewPipe()
	if err != nil {
		t.Fatal(err)
	}
	pipe := mailflow.FromDescriptors(int(r.Fd()), int(w.Fd()))
	socket := filepath.Join(dir, "cleanup.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Settings: baseSettings(), Layout: layout, Log: log, Verbose: true,
		Flow: &mailflow.Gate{Pipe: pipe, Delay: delay}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				srv.Serve(ctx, nc)
			}()
		}
	}()
	t.Cleanup(func() { cancel(); ln.Close(); r.Close(); w.Close() })
	return &flowServer{t: t, socket: socket, pipe: pipe, log: logPath}
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
