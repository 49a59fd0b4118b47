// End-to-end tests of Deliver against go-smtp sinks and an in-test DNS
// server, all on 127.0.0.0/8.

package smtpclient

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/postern/postern/pkg/agent"
	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/dnsx/dnstest"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
)

// testLog returns a logger writing to a file and a function reading it.
func testLog(t *testing.T) (*maillog.Logger, func() string) {
	dir := t.TempDir()
	file := filepath.Join(dir, "maillog")
	log, err := maillog.New(maillog.Options{Program: "smtp", Hostname: "client.test", File: file, FilePrefixes: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = log.Close() })
	return log, func() string {
		data, _ := os.ReadFile(file)
		return string(data)
	}
}

// newTestClient returns a client resolving through zone, with the sinks'
// port as smtp_tcp_port.
func newTestClient(t *testing.T, port string, zone *dnstest.Server, adjust func(*Config)) (*Client, func() string) {
	log, read := testLog(t)
	cfg := Config{
		MyHostname:     "client.test",
		Port:           port,
		ConnectTimeout: 30 * time.Second,
		CommandTimeout: 30 * time.Second,
		Log:            log,
	}
	if zone != nil {
		cfg.Resolver = dnsx.New([]string{zone.Addr})
		cfg.Resolver.Timeout = 10 * time.Second
		cfg.Resolver.Shuffle = func(int, func(i, j int)) {}
	}
	if adjust != nil {
		adjust(&cfg)
	}
	return New(cfg), read
}

const testContent = "Subject: test\n\n.leading dot\nbody line\n..two dots\n"

func testMessage(rcpts ...string) *Message {
	m := &Message{QueueID: "4ABC123", Sender: "sender@client.test", Size: int64(len(testContent)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(testContent)), nil }}
	for i, r := range rcpts {
		m.Recipients = append(m.Recipients, ipc.Recipient{Address: r, Offset: int64(100 + i)})
	}
	return m
}

func deliver(c *Client, nexthop string, m *Message) []ipc.RecipientResult {
	return c.Deliver(context.Background(), nexthop, m, time.Now())
}

func TestMXPreferenceAndFallback(t *testing.T) {
	backup := listenSink(t, "127.0.0.3:0")
	port := backup.port()
	zone := dnstest.Start(t,
		"example.test. IN MX 20 mx2.example.test.",
		"example.test. IN MX 10 mx1.example.test.",
		"mx1.example.test. IN A 127.0.0.2",
		"mx2.example.test. IN A 127.0.0.3",
	)
	c, readLog := newTestClient(t, port, zone, nil)
	results := deliver(c, "example.test", testMessage("user@example.test"))
	r := results[0]
	if r.Status != ipc.StatusSent || r.DSNCode != "2.0.0" || r.Reply != "250 2.0.0 Ok: queued as SINK1" {
		t.Fatalf("result = %+v", r)
	}
	if want := "mx2.example.test[127.0.0.3]:" + port; r.Relay != want || r.Offset != 100 {
		t.Fatalf("relay = %q offset %d, want %q", r.Relay, r.Offset, want)
	}
	if log := readLog(); !strings.Contains(log, "connect to mx1.example.test[127.0.0.2]:"+port+": Connection refused") {
		t.Fatalf("log lacks the refused primary:\n%s", log)
	}
	got := backup.received()
	if len(got) != 1 || got[0].from != "sender@client.test" || got[0].size != int64(len(testContent)) {
		t.Fatalf("received %+v", got)
	}
	if want := "Subject: test\r\n\r\n.leading dot\r\nbody line\r\n..two dots\r\n"; got[0].data != want {
		t.Fatalf("data = %q, want %q", got[0].data, want)
	}
}

func TestRecipientReplies(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0",
		refusing("busy@example.test", 450, smtp.EnhancedCode{4, 2, 0}, "<busy@example.test>: Recipient address rejected: try later"),
		refusing("gone@example.test", 550, smtp.EnhancedCode{5, 1, 1}, "<gone@example.test>: Recipient address rejected: User unknown"),
	)
	c, _ := newTestClient(t, s.port(), nil, nil)
	results := deliver(c, "[127.0.0.3]", testMessage("ok@example.test", "busy@example.test", "gone@example.test"))
	relay := "127.0.0.3[127.0.0.3]:" + s.port()
	want := []struct {
		status ipc.DeliveryStatus
		dsn    string
		reply  string
	}{
		{ipc.StatusSent, "2.0.0", "250 2.0.0 Ok: queued as SINK1"},
		{ipc.StatusDeferred, "4.2.0", "host 127.0.0.3[127.0.0.3] said: 450 4.2.0 <busy@example.test>: Recipient address rejected: try later (in reply to RCPT TO command)"},
		{ipc.StatusBounced, "5.1.1", "host 127.0.0.3[127.0.0.3] said: 550 5.1.1 <gone@example.test>: Recipient address rejected: User unknown (in reply to RCPT TO command)"},
	}
	for i, w := range want {
		r := results[i]
		if r.Status != w.status || r.DSNCode != w.dsn || r.Reply != w.reply || r.Relay != relay {
			t.Errorf("recipient %d = %+v, want %+v relay %s", i, r, w, relay)
		}
	}
	if got := s.received(); len(got) != 1 || len(got[0].to) != 1 || got[0].to[0] != "ok@example.test" {
		t.Fatalf("received %+v", got)
	}
}

func TestVerifyOnlyStopsAfterRCPT(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0", refusing("gone@example.test", 550, smtp.EnhancedCode{5, 1, 1}, "no"))
	c, _ := newTestClient(t, s.port(), nil, nil)
	m := testMessage("ok@example.test", "gone@example.test")
	m.VerifyOnly = true
	results := deliver(c, "[127.0.0.3]", m)
	if results[0].Status != ipc.StatusSent || !strings.HasPrefix(results[0].Reply, "250 2.0.0 ") || results[1].Status != ipc.StatusBounced {
		t.Fatalf("results %+v", results)
	}
	if len(s.received()) != 0 {
		t.Fatal("a probe sent a message")
	}
	line := agent.VerifyLine("4ABC", m.Recipients[1], results[1], agent.Delays{})
	if !strings.Contains(line, "status=undeliverable (host 127.0.0.3[127.0.0.3] said: 550 5.1.1 no (in reply to RCPT TO command))") {
		t.Fatalf("line %s", line)
	}
}

func TestDSNParametersReachServer(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0", withDSN)
	c, _ := newTestClient(t, s.port(), nil, nil)
	m := testMessage("a@x.test")
	m.DSNRet, m.DSNEnvID = ipc.DSNRetHeaders, "env 1"
	m.Recipients[0].Notify = ipc.DSNNotifyFailure | ipc.DSNNotifyDelay
	m.Recipients[0].ORCPT = "rfc822;orig+x@x.test"
	if r := deliver(c, "[127.0.0.3]", m)[0]; r.Status != ipc.StatusSent {
		t.Fatalf("result %+v", r)
	}
	got := s.received()
	want := []string{"RET=HDRS ENVID=env 1", "a@x.test NOTIFY=[FAILURE DELAY] ORCPT=RFC822;orig+x@x.test"}
	if len(got) != 1 || strings.Join(got[0].dsn, "|") != strings.Join(want, "|") {
		t.Fatalf("received %+v, want dsn %q", got, want)
	}
}

func TestAllRecipientsRefusedSendsNoData(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0", refusing("gone@example.test", 550, smtp.EnhancedCode{5, 1, 1}, "no"))
	c, _ := newTestClient(t, s.port(), nil, nil)
	results := deliver(c, "[127.0.0.3]:"+s.port(), testMessage("gone@example.test"))
	if results[0].Status != ipc.StatusBounced || len(s.received()) != 0 {
		t.Fatalf("result %+v, received %d", results[0], len(s.received()))
	}
}

func TestFailures(t *testing.T) {
	port := freePort(t)
	zone := dnstest.Start(t,
		"down.test. IN MX 10 mx.down.test.",
		"mx.down.test. IN A 127.0.0.2",
		"nullmx.test. IN MX 0 .",
		"self.test. IN MX 10 me.self.test.",
		"me.self.test. IN A 127.0.0.9",
		"secondary.test. IN MX 10 primary.secondary.test.",
		"secondary.test. IN MX 20 me.self.test.",
	)
	zone.FailName("servfail.test")
	tests := []struct {
		name, nexthop, port string
		status              ipc.DeliveryStatus
		dsn, reply          string
	}{
		{"all down", "down.test", port, ipc.StatusDeferred, "4.4.1", "connect to mx.down.test[127.0.0.2]:" + port + ": Connection refused"},
		{"nxdomain", "missing.test", port, ipc.StatusBounced, "5.4.4", "Host or domain name not found. Name service error for name=missing.test type=A: Host not found"},
		{"dns failure", "servfail.test", port, ipc.StatusDeferred, "4.4.3", "Host or domain name not found. Name service error for name=servfail.test type=MX: Host not found, try again"},
		{"null mx", "nullmx.test", port, ipc.StatusBounced, "5.1.10", "Domain nullmx.test does not accept mail (nullMX)"},
		{"loops back", "self.test", "25", ipc.StatusBounced, "5.4.6", "mail for self.test loops back to myself"},
		{"primary unresolvable", "secondary.test", "25", ipc.StatusDeferred, "4.4.4", "unable to find primary relay for secondary.test"},
		{"own address other port", "self.test", port, ipc.StatusDeferred, "4.4.1", "connect to me.self.test[127.0.0.9]:" + port + ": Connection refused"},
		{"second nexthop used", "missing.test, down.test", port, ipc.StatusDeferred, "4.4.1", "connect to mx.down.test[127.0.0.2]:" + port + ": Connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, tt.port, zone, func(cfg *Config) {
				cfg.OwnAddrs = []netip.Addr{netip.MustParseAddr("127.0.0.9")}
			})
			r := deliver(c, tt.nexthop, testMessage("a@x.test", "b@x.test"))
			for _, r := range r {
				if r.Status != tt.status || r.DSNCode != tt.dsn || r.Reply != tt.reply || r.Relay != "none" {
					t.Fatalf("result = %+v, want %v %s %q", r, tt.status, tt.dsn, tt.reply)
				}
			}
		})
	}
}

func TestSessionFailures(t *testing.T) {
	tests := []struct {
		name    string
		replies []string
		status  ipc.DeliveryStatus
		dsn     string
		reply   string
	}{
		{"silent server", nil, ipc.StatusDeferred, "4.4.2",
			"conversation with 127.0.0.3[127.0.0.3] timed out while receiving the initial server greeting"},
		{"refused greeting", []string{"554 5.3.2 go away"}, ipc.StatusDeferred, "4.3.2",
			"host 127.0.0.3[127.0.0.3] refused to talk to me: 554 5.3.2 go away"},
		{"helo refused", []string{"220 hi", "502 no EHLO", "550 5.7.1 no HELO either"}, ipc.StatusBounced, "5.7.1",
			"host 127.0.0.3[127.0.0.3] said: 550 5.7.1 no HELO either (in reply to HELO command)"},
		{"sender refused", []string{"220 hi", "250 hello", "553 5.1.8 bad sender"}, ipc.StatusBounced, "5.1.8",
			"host 127.0.0.3[127.0.0.3] said: 553 5.1.8 bad sender (in reply to MAIL FROM command)"},
		{"hang-up after RCPT", []string{"220 hi", "250 hello", "250 ok"}, ipc.StatusDeferred, "4.4.2",
			"lost connection with 127.0.0.3[127.0.0.3] while sending RCPT TO"},
		{"pipelined sender refused", []string{"220 hi", "250-hello\r\n250 PIPELINING", "553 5.1.8 bad sender", "503 5.5.1 need MAIL"}, ipc.StatusBounced, "5.1.8",
			"host 127.0.0.3[127.0.0.3] said: 553 5.1.8 bad sender (in reply to MAIL FROM command)"},
		{"pipelined recipient refused", []string{"220 hi", "250-hello\r\n250 PIPELINING", "250 ok", "450 4.2.1 later"}, ipc.StatusDeferred, "4.2.1",
			"host 127.0.0.3[127.0.0.3] said: 450 4.2.1 later (in reply to RCPT TO command)"},
		{"pipelined hang-up", []string{"220 hi", "250-hello\r\n250 PIPELINING", "250 ok"}, ipc.StatusDeferred, "4.4.2",
			"lost connection with 127.0.0.3[127.0.0.3] while sending RCPT TO"},
		{"DATA refused", []string{"220 hi", "250 hello", "250 ok", "250 ok", "451 4.3.0 not now"}, ipc.StatusDeferred, "4.3.0",
			"host 127.0.0.3[127.0.0.3] said: 451 4.3.0 not now (in reply to DATA command)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := scriptedServer(t, tt.replies...)
			_, port, _ := net.SplitHostPort(addr)
			// Short for the silent server, whose case is the timeout;
			// generous for the others, which a slow machine must not
			// turn into timeouts.
			timeout := 30 * time.Second
			if tt.replies == nil {
				timeout = time.Second
			}
			c, _ := newTestClient(t, port, nil, func(cfg *Config) { cfg.CommandTimeout = timeout })
			r := deliver(c, "[127.0.0.3]", testMessage("a@x.test"))[0]
			if r.Status != tt.status || r.DSNCode != tt.dsn || r.Reply != tt.reply || r.Relay != "127.0.0.3[127.0.0.3]:"+port {
				t.Fatalf("result %+v, want %v %s %q", r, tt.status, tt.dsn, tt.reply)
			}
		})
	}
}

func TestTruncateSelf(t *testing.T) {
	c := New(Config{MyHostname: "me.test", OwnAddrs: []netip.Addr{netip.MustParseAddr("127.0.0.9")}})
	hosts := []dnsx.Host{
		{Name: "better.test", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.2")}},
		{Name: "alias.test", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.9")}},
		{Name: "worse.test", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.3")}},
	}
	got, self := c.truncateSelf(hosts)
	if !self || len(got) != 1 || got[0].Name != "better.test" {
		t.Fatalf("truncateSelf = %v, %v", got, self)
	}
	got, self = c.truncateSelf([]dnsx.Host{{Name: "ME.test."}, hosts[0]})
	if !self || len(got) != 0 {
		t.Fatalf("own name first: %v, %v", got, self)
	}
	got, self = c.truncateSelf(hosts[2:])
	if self || len(got) != 1 {
		t.Fatalf("without self: %v, %v", got, self)
	}
}

func TestEHLOWithMyHostnameLoops(t *testing.T) {
	// A scripted server that greets with this host's own name.
	addr := scriptedServer(t, "220 client.test ESMTP", "250-client.test\r\n250 SIZE 1000")
	c, readLog := newTestClient(t, "25", nil, nil)
	d := &delivery{client: c, msg: testMessage("a@x.test"), started: time.Now()}
	d.results = make([]ipc.RecipientResult, 1)
	// The loop check applies to port 25 only; the session is told it
	// talks to port 25 while connected to the scripted server's port.
	target := target{host: "mx.x.test", addr: netip.MustParseAddr("127.0.0.3"), port: "25", destHost: "x.test"}
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sess := &session{delivery: d, target: target, nc: nc}
	v, done := sess.run(context.Background())
	sess.close()
	if !done || v.status != ipc.StatusBounced || v.dsn != "5.4.6" || v.text != "mail for x.test loops back to myself" {
		t.Fatalf("verdict %+v done %v", v, done)
	}
	if !strings.Contains(readLog(), "warning: host mx.x.test[127.0.0.3] replied to HELO/EHLO with my own hostname client.test") {
		t.Fatalf("log: %s", readLog())
	}
}

func TestMissingQueueFileDefers(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0")
	c, _ := newTestClient(t, s.port(), nil, nil)
	m := testMessage("a@x.test")
	m.Open = func() (io.ReadCloser, error) { return nil, os.ErrNotExist }
	r := deliver(c, "[127.0.0.3]", m)[0]
	if r.Status != ipc.StatusDeferred || r.DSNCode != "4.3.0" || r.Reply != "cannot read message content: file does not exist" {
		t.Fatalf("result %+v", r)
	}
	if len(s.received()) != 0 {
		t.Fatal("an empty message was delivered")
	}
}
