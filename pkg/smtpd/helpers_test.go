// Test helpers: a server with a stand-in cleanup and a scripted SMTP client.

package smtpd

import (
	"bufio"
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/policy"
)

// relayPolicy accepts recipients in test.example and relay.example and
// rejects everything else as Postfix's reject_unauth_destination does,
// logging the rejection as pkg/policy does.
type relayPolicy struct{ log Logger }

func (relayPolicy) DelayReject() bool                                 { return true }
func (relayPolicy) CheckClient(*policy.Session) policy.Decision       { return policy.Decision{} }
func (relayPolicy) CheckHelo(*policy.Session, string) policy.Decision { return policy.Decision{} }
func (relayPolicy) CheckSender(*policy.Session) policy.Decision       { return policy.Decision{} }
func (relayPolicy) CheckData(*policy.Session) policy.Decision         { return policy.Decision{} }
func (relayPolicy) CheckEndOfData(*policy.Session) policy.Decision    { return policy.Decision{} }
func (relayPolicy) CheckEtrn(*policy.Session, string) policy.Decision { return policy.Decision{} }

func (p relayPolicy) CheckRecipient(s *policy.Session) policy.Decision {
	switch s.Recipient.FoldedDomain() {
	case "test.example", "relay.example":
		return policy.Decision{Action: policy.Dunno}
	}
	d := policy.Decision{Action: policy.Reject, Code: 554, DSN: "5.7.1", Text: "<" + s.Recipient.Internal() + ">: Relay access denied"}
	p.log.Info("%s", policy.RejectLog("RCPT", s, d.Reply()))
	return d
}

func (p relayPolicy) CheckVrfy(s *policy.Session) policy.Decision {
	if s.Recipient.Local == "nosuchuser" {
		d := policy.Decision{Action: policy.Reject, Code: 550, DSN: "5.1.1", Text: "<" + s.Recipient.Internal() + ">: Recipient address rejected: User unknown in local recipient table"}
		p.log.Info("%s", policy.RejectLog("VRFY", s, d.Reply()))
		return d
	}
	return policy.Decision{}
}

// testSettings are Postfix's defaults with a host name for the tests.
func testSettings() *Settings {
	return &Settings{
		Hostname:              "mx.test.example",
		Banner:                "mx.test.example ESMTP Postern",
		MessageSizeLimit:      10240000,
		RecipientLimit:        1000,
		Timeout:               10 * time.Second,
		HardErrorLimit:        20,
		SoftErrorLimit:        10,
		JunkCommandLimit:      100,
		LineLengthLimit:       2048,
		PeernameLookup:        true,
		SMTPUTF8Enable:        true,
		BareNewline:           BareNewlineNormalize,
		BareNewlineRejectCode: 550,
		DiscardEHLO:           map[string]bool{},
		CleanupFlags:          ipc.CleanupFlagFilter | ipc.CleanupFlagMapOK | ipc.CleanupFlagBCCOK,
	}
}

// testServer is a running Server on a 127.0.0.1 port.
type testServer struct {
	srv     *Server
	addr    string
	log     *ipctest.Log
	cleanup *ipctest.Cleanup
	wg      sync.WaitGroup
	// stop cancels the context the sessions run under (SIGTERM).
	stop context.CancelFunc
}

// startServer serves set on a fresh port with a fake cleanup; adjust, if
// given, changes the Server before it serves.
func startServer(t *testing.T, set *Settings, adjust ...func(*testServer)) *testServer {
	t.Helper()
	ts := &testServer{log: &ipctest.Log{}, cleanup: ipctest.StartCleanup(t, filepath.Join(ipctest.SocketDir(t), "cleanup"), "FAKE")}
	ts.srv = &Server{
		Settings: set,
		Policy:   relayPolicy{log: ts.log},
		Log:      ts.log,
		DialCleanup: func(ctx context.Context) (*ipc.Conn, error) {
			return ipc.Dial(ctx, ts.cleanup.Path, ipc.ProtocolCleanup)
		},
		LookupName: func(ctx context.Context, ip string) ClientName {
			return ClientName{Name: "localhost", Reverse: "localhost"}
		},
	}
	for _, f := range adjust {
		f(ts)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	ts.stop = cancel
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ts.wg.Add(1)
			go func() {
				defer ts.wg.Done()
				defer c.Close()
				ts.srv.Serve(ctx, c)
			}()
		}
	}()
	t.Cleanup(func() {
		cancel()
		ln.Close()
		ts.wg.Wait()
	})
	return ts
}

// waitLog waits until the log holds want.
func (ts *testServer) waitLog(t *testing.T, want string) {
	t.Helper()
	ts.log.Wait(t, want)
}

// client is a scripted SMTP client.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return &client{t: t, conn: c, r: bufio.NewReader(c)}
}

// send writes raw bytes.
func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// reply reads one (possibly multi-line) reply, lines joined by "\n".
func (c *client) reply() string {
	c.t.Helper()
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read reply after %q: %v", lines, err)
		}
		line = strings.TrimSuffix(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}

// expect sends cmd (with CRLF) and checks the reply.
func (c *client) expect(cmd, want string) {
	c.t.Helper()
	if cmd != "" {
		c.send(cmd + "\r\n")
	}
	if got := c.reply(); got != want {
		c.t.Errorf("%q: got\n%s\nwant\n%s", cmd, got, want)
	}
}

// scriptStep is one row of a scripted dialogue: the line sent ("" sends
// nothing: the banner, or the reply to lines sent before) and the
// complete reply expected, its lines joined by "\n".
type scriptStep struct{ send, want string }

// dialogue plays steps, checking each complete reply exactly.
func (c *client) dialogue(steps []scriptStep) {
	c.t.Helper()
	for _, s := range steps {
		c.expect(s.send, s.want)
	}
}

// bannerStep is the banner of testSettings.
var bannerStep = scriptStep{"", "220 mx.test.example ESMTP Postern"}

// toRecipient is the opening most tests share: the banner, then a
// sender and a recipient accepted without HELO.
var toRecipient = []scriptStep{
	bannerStep,
	{"MAIL FROM:<s@r.example>", "250 2.1.0 Ok"},
	{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
}

// expectClosed checks that the server closed the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	if line, err := c.r.ReadString('\n'); err == nil {
		c.t.Errorf("connection still open, got %q", line)
	}
}
