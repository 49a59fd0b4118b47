// Tests of the Dovecot auth client against the fake auth server of package sasltest.

package sasl

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/sasl/sasltest"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func newTestClient(t *testing.T) (*Client, *sasltest.Server) {
	path := filepath.Join(sockdir.New(t), "auth")
	f := sasltest.Start(t, path)
	c := NewClient(path, 30*time.Second)
	t.Cleanup(func() { c.Close() })
	return c, f
}

func TestMechanismsSkipPrivate(t *testing.T) {
	c, _ := newTestClient(t)
	mechs, err := c.Mechanisms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mechs {
		names = append(names, m.Name)
	}
	if got := strings.Join(names, " "); got != "PLAIN LOGIN ANONYMOUS" {
		t.Fatalf("mechanisms = %q", got)
	}
	if mechs[0].Properties != PropPlaintext || mechs[2].Properties != PropAnonymous {
		t.Fatalf("properties = %v", mechs)
	}
}

func TestSecurityOptionsFilter(t *testing.T) {
	mechs := []Mechanism{{"PLAIN", PropPlaintext}, {"LOGIN", PropPlaintext}, {"ANONYMOUS", PropAnonymous}, {"SCRAM-SHA-256", PropMutualAuth}}
	for _, tc := range []struct{ opts, want string }{
		{"", "PLAIN LOGIN ANONYMOUS SCRAM-SHA-256"},
		{"noanonymous", "PLAIN LOGIN SCRAM-SHA-256"},
		{"noanonymous, noplaintext", "SCRAM-SHA-256"},
		{"mutual_auth", "SCRAM-SHA-256"},
		{"nodictionary noactive", "PLAIN LOGIN ANONYMOUS SCRAM-SHA-256"},
	} {
		o, err := ParseSecurityOptions(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(o.Filter(mechs), " "); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.opts, got, tc.want)
		}
	}
	if _, err := ParseSecurityOptions("noanonymous, bogus"); err == nil {
		t.Error("unknown option accepted")
	}
}

func TestPlainWithInitialResponse(t *testing.T) {
	c, f := newTestClient(t)
	ctx := context.Background()
	req := Request{Mechanism: "plain", Service: "smtp", LocalIP: "127.0.0.1", RemoteIP: "127.0.0.2", Secured: true, InitialResponse: b64("\x00alice\x00secret"), HasInitial: true}
	_, r, err := c.Begin(ctx, req)
	if err != nil || r.Status != Success || r.User != "alice" {
		t.Fatalf("good password: %+v, %v", r, err)
	}
	req.InitialResponse = b64("\x00alice\x00wrong")
	_, r, err = c.Begin(ctx, req)
	if err != nil || r.Status != Failure || r.User != "alice" || r.Reason != "" {
		t.Fatalf("wrong password: %+v, %v", r, err)
	}
	got := f.Lines()
	want := "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.2\tsecured\tresp=" + b64("\x00alice\x00secret")
	if len(got) != 2 || got[0] != want || !strings.HasPrefix(got[1], "AUTH\t2\tPLAIN\t") {
		t.Fatalf("requests:\n%q\nwant first %q", got, want)
	}
	if f.Connections() != 1 {
		t.Errorf("%d connections, want one reused", f.Connections())
	}
}

func TestPlainWithoutInitialResponse(t *testing.T) {
	c, _ := newTestClient(t)
	ctx := context.Background()
	x, r, err := c.Begin(ctx, Request{Mechanism: "PLAIN", Service: "smtp"})
	if err != nil || r.Status != Continue || r.Challenge != "" {
		t.Fatalf("begin: %+v, %v", r, err)
	}
	r, err = x.Next(ctx, b64("\x00alice\x00secret"))
	if err != nil || r.Status != Success || r.User != "alice" {
		t.Fatalf("next: %+v, %v", r, err)
	}
}

func TestLogin(t *testing.T) {
	c, _ := newTestClient(t)
	ctx := context.Background()
	for _, tc := range []struct {
		pass string
		want Status
	}{{"secret", Success}, {"nope", Failure}} {
		x, r, err := c.Begin(ctx, Request{Mechanism: "LOGIN", Service: "smtp"})
		if err != nil || r.Status != Continue || r.Challenge != "VXNlcm5hbWU6" {
			t.Fatalf("begin: %+v, %v", r, err)
		}
		if r, err = x.Next(ctx, b64("alice")); err != nil || r.Challenge != "UGFzc3dvcmQ6" {
			t.Fatalf("user: %+v, %v", r, err)
		}
		if r, err = x.Next(ctx, b64(tc.pass)); err != nil || r.Status != tc.want || r.User != "alice" {
			t.Fatalf("password %s: %+v, %v", tc.pass, r, err)
		}
	}
}

func TestLocalRefusals(t *testing.T) {
	c, f := newTestClient(t)
	ctx := context.Background()
	_, r, err := c.Begin(ctx, Request{Mechanism: "CRAM-MD5", Service: "smtp"})
	if err != nil || r.Status != Failure || r.Reason != "Invalid authentication mechanism" {
		t.Fatalf("unknown mechanism: %+v, %v", r, err)
	}
	_, r, err = c.Begin(ctx, Request{Mechanism: "SECRET", Service: "smtp"})
	if err != nil || r.Status != Failure || r.Reason != "Invalid authentication mechanism" {
		t.Fatalf("private mechanism: %+v, %v", r, err)
	}
	_, r, err = c.Begin(ctx, Request{Mechanism: "PLAIN", Service: "smtp", InitialResponse: "!!", HasInitial: true})
	if err != nil || r.Status != Failure || r.Reason != "Invalid base64 data in initial response" {
		t.Fatalf("bad initial base64: %+v, %v", r, err)
	}
	x, _, err := c.Begin(ctx, Request{Mechanism: "LOGIN", Service: "smtp"})
	if err != nil {
		t.Fatal(err)
	}
	r, err = x.Next(ctx, "not base64!")
	if err != nil || r.Status != Failure || r.Reason != "Invalid base64 data in continued response" {
		t.Fatalf("bad continued base64: %+v, %v", r, err)
	}
	// Nothing unknown went to the server; the abandoned LOGIN was cancelled.
	got := waitLines(f, 2)
	if len(got) != 2 || !strings.HasPrefix(got[0], "AUTH\t1\tLOGIN\t") || got[1] != "CANCEL\t1" {
		t.Fatalf("requests: %q", got)
	}
}

func TestCancel(t *testing.T) {
	c, f := newTestClient(t)
	ctx := context.Background()
	x, _, err := c.Begin(ctx, Request{Mechanism: "LOGIN", Service: "smtp"})
	if err != nil {
		t.Fatal(err)
	}
	x.Cancel()
	got := waitLines(f, 2)
	if len(got) != 2 || got[1] != "CANCEL\t1" {
		t.Fatalf("requests: %q", got)
	}
	// The connection still serves.
	_, r, err := c.Begin(ctx, Request{Mechanism: "PLAIN", Service: "smtp", InitialResponse: b64("\x00alice\x00secret"), HasInitial: true})
	if err != nil || r.Status != Success {
		t.Fatalf("after cancel: %+v, %v", r, err)
	}
}

func TestTemporaryFailureAndEscapes(t *testing.T) {
	c, _ := newTestClient(t)
	_, r, err := c.Begin(context.Background(), Request{Mechanism: "ANONYMOUS", Service: "smtp"})
	if err != nil || r.Status != Failure || !r.Temporary || r.Reason != "try\tlater" {
		t.Fatalf("%+v, %v", r, err)
	}
}

func TestConcurrentSessionsShareTheConnection(t *testing.T) {
	c, f := newTestClient(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			pass := "secret"
			want := Success
			if i%2 == 1 {
				pass, want = "wrong", Failure
			}
			x, r, err := c.Begin(context.Background(), Request{Mechanism: "LOGIN", Service: "smtp"})
			if err == nil {
				r, err = x.Next(context.Background(), b64("alice"))
			}
			if err == nil {
				r, err = x.Next(context.Background(), b64(pass))
			}
			if err != nil || r.Status != want {
				errs <- fmt.Errorf("session %d: %+v, %v", i, r, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if f.Connections() != 1 {
		t.Errorf("%d connections, want 1", f.Connections())
	}
}

func TestServerGoneAndBack(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	f := sasltest.Start(t, path)
	c := NewClient(path, 30*time.Second)
	defer c.Close()
	ctx := context.Background()
	good := Request{Mechanism: "PLAIN", Service: "smtp", InitialResponse: b64("\x00alice\x00secret"), HasInitial: true}
	if _, r, err := c.Begin(ctx, good); err != nil || r.Status != Success {
		t.Fatalf("before: %+v, %v", r, err)
	}
	// Mid-exchange loss.
	x, _, err := c.Begin(ctx, Request{Mechanism: "LOGIN", Service: "smtp"})
	if err != nil {
		t.Fatal(err)
	}
	f.Stop()
	var unavailable *UnavailableError
	if _, err := x.Next(ctx, b64("alice")); !errors.As(err, &unavailable) || unavailable.Text != "Connection lost to authentication server" {
		t.Fatalf("lost mid-exchange: %v", err)
	}
	// Gone: the last mechanisms are still known.
	mechs, err := c.Mechanisms(ctx)
	if !errors.As(err, &unavailable) || unavailable.Text != "Can't connect to authentication server" || len(mechs) != 3 {
		t.Fatalf("while gone: %v, %v", mechs, err)
	}
	if _, _, err := c.Begin(ctx, good); !errors.As(err, &unavailable) {
		t.Fatalf("begin while gone: %v", err)
	}
	// Back: the next request reconnects.
	sasltest.Start(t, path)
	if _, r, err := c.Begin(ctx, good); err != nil || r.Status != Success {
		t.Fatalf("after restart: %+v, %v", r, err)
	}
}

func TestInetPath(t *testing.T) {
	f := sasltest.Start(t, "")
	c := NewClient("inet:"+f.Addr(), 30*time.Second)
	defer c.Close()
	_, r, err := c.Begin(context.Background(), Request{Mechanism: "PLAIN", Service: "smtp", InitialResponse: b64("\x00alice\x00secret"), HasInitial: true})
	if err != nil || r.Status != Success {
		t.Fatalf("%+v, %v", r, err)
	}
}

func TestHandshakeVersionMismatch(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprint(c, "VERSION\t2\t0\nDONE\n")
		bufio.NewReader(c).ReadString('!')
	}()
	c := NewClient(path, 30*time.Second)
	defer c.Close()
	if _, err := c.Mechanisms(context.Background()); err == nil || !strings.Contains(err.Error(), "version mismatch") {
		t.Fatalf("err = %v", err)
	}
}

// waitLines waits up to 30 seconds for the fake server to have n request
// lines, and returns what it has.
func waitLines(f *sasltest.Server, n int) []string {
	got := f.Lines()
	for deadline := time.Now().Add(30 * time.Second); len(got) < n && time.Now().Before(deadline); got = f.Lines() {
		time.Sleep(10 * time.Millisecond)
	}
	return got
}
