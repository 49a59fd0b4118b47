// End-to-end test of the smtp daemon: built, started stand-alone, and
// given a delivery request as qmgr gives it, for a domain whose MX (from
// an in-test DNS server) is a go-smtp sink.

package main

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/postern/postern/pkg/dnsx/dnstest"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/queue"
)

type sinkSession struct {
	mu   *sync.Mutex
	got  *[]string
	from string
}

func (s *sinkSession) Reset()        {}
func (s *sinkSession) Logout() error { return nil }
func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	s.mu.Lock()
	*s.got = append(*s.got, s.from+"|"+string(data))
	s.mu.Unlock()
	return err
}

func TestDaemonDeliversRequest(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "smtp")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	var mu sync.Mutex
	var got []string
	l, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{mu: &mu, got: &got}, nil
	}))
	srv.Domain = "sink.test"
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	zone := dnstest.Start(t, "dest.test. IN MX 10 mx.dest.test.", "mx.dest.test. IN A 127.0.0.3")

	queueDir := filepath.Join(dir, "queue")
	maillog := filepath.Join(dir, "maillog")
	mainCF := strings.Join([]string{
		"queue_directory = " + queueDir,
		"maillog_file = " + maillog,
		"maillog_file_prefixes = " + dir,
		"myhostname = client.test",
		"inet_interfaces = loopback-only",
		"dns_servers = " + zone.Addr,
		"smtp_tcp_port = " + port,
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	layout := queue.NewLayout(queueDir, []string{"deferred", "defer"}, 1, false)
	if err := layout.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	w, err := layout.Create(queue.Incoming)
	if err != nil {
		t.Fatal(err)
	}
	arrival := time.Now()
	if err := w.WriteEnvelope(&queue.Envelope{ArrivalTime: arrival, Sender: "s@client.test",
		Recipients: []queue.Recipient{{Address: "r@dest.test"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "Subject: e2e\n\nhello\n"); err != nil {
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

	sock := filepath.Join(dir, "smtp.sock")
	cmd := exec.Command(bin, "-c", dir, "-n", "smtp", "-t", "unix", "-S", "-L", "unix:"+sock)
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	var conn *ipc.Conn
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		conn, err = ipc.Dial(context.Background(), sock, ipc.ProtocolDelivery)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("dial the daemon: %v", err)
	}
	defer conn.Close()
	req := &ipc.DeliveryRequest{Queue: queue.Active, QueueID: msg.ID, DataOffset: msg.Size.DataOffset,
		DataSize: msg.Size.ContentLength, Sender: msg.Sender, Transport: "smtp", Nexthop: "dest.test",
		Recipients:  []ipc.Recipient{{Address: "r@dest.test", Offset: msg.Recipients[0].Offset}},
		ArrivalTime: arrival, ActiveTime: arrival}
	result, err := ipctest.Deliver(context.Background(), conn, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(result.Recipients) != 1 || result.Recipients[0].Status != ipc.StatusSent {
		t.Fatalf("result %+v", result.Recipients)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "s@client.test|Subject: e2e\r\n\r\nhello\r\n" {
		t.Fatalf("sink got %q", got)
	}
	logText, _ := os.ReadFile(maillog)
	want := msg.ID + ": to=<r@dest.test>, relay=mx.dest.test[127.0.0.3]:" + port + ", delay="
	if !strings.Contains(string(logText), want) || !strings.Contains(string(logText), "status=sent (250 2.0.0 OK: queued)") {
		t.Fatalf("maillog lacks %q:\n%s", want, logText)
	}
}
