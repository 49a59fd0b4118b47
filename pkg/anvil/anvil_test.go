package anvil

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
)

// fakeClock is a settable time source for the table.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestTable(unit time.Duration) (*Table, *fakeClock) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	t := NewTable(unit)
	t.now = clock.now
	return t, clock
}

func TestConnectCountsPerServiceAndClient(t *testing.T) {
	table, _ := newTestTable(time.Minute)
	if count, rate := table.Connect("smtp", "192.0.2.1"); count != 1 || rate != 1 {
		t.Errorf("first connect: count %d rate %d, want 1 1", count, rate)
	}
	if count, rate := table.Connect("smtp", "192.0.2.1"); count != 2 || rate != 2 {
		t.Errorf("second connect: count %d rate %d, want 2 2", count, rate)
	}
	if count, _ := table.Connect("submission", "192.0.2.1"); count != 1 {
		t.Errorf("other service: count %d, want 1", count)
	}
	if count, _ := table.Connect("smtp", "192.0.2.2"); count != 1 {
		t.Errorf("other client: count %d, want 1", count)
	}
	table.Disconnect("smtp", "192.0.2.1")
	if count, rate := table.Connect("smtp", "192.0.2.1"); count != 2 || rate != 3 {
		t.Errorf("after a disconnect: count %d rate %d, want 2 3", count, rate)
	}
}

func TestRatesRestartAfterTheTimeUnit(t *testing.T) {
	table, clock := newTestTable(time.Minute)
	table.Connect("smtp", "192.0.2.1")
	for i := 1; i <= 3; i++ {
		if rate := table.Count(EventMail, "smtp", "192.0.2.1"); rate != i {
			t.Errorf("mail %d: rate %d", i, rate)
		}
	}
	if rate := table.Count(EventRcpt, "smtp", "192.0.2.1"); rate != 1 {
		t.Errorf("rcpt rate %d, want 1 (counted apart from mail)", rate)
	}
	table.Count(EventNewTLS, "smtp", "192.0.2.1")
	if rate := table.Rate(EventNewTLS, "smtp", "192.0.2.1"); rate != 1 {
		t.Errorf("newtls status %d, want 1 (not counted again)", rate)
	}
	clock.t = clock.t.Add(time.Minute + time.Second)
	if rate := table.Count(EventMail, "smtp", "192.0.2.1"); rate != 1 {
		t.Errorf("mail rate after the time unit %d, want 1", rate)
	}
	if count, rate := table.Connect("smtp", "192.0.2.1"); count != 2 || rate != 1 {
		t.Errorf("connect after the time unit: count %d rate %d, want 2 (still open) 1", count, rate)
	}
}

func TestIdleClientsAreForgotten(t *testing.T) {
	table, clock := newTestTable(time.Minute)
	table.Connect("smtp", "192.0.2.1")
	table.Disconnect("smtp", "192.0.2.1")
	table.Connect("smtp", "192.0.2.2") // still connected: kept
	clock.t = clock.t.Add(2 * time.Minute)
	table.Count(EventMail, "smtp", "192.0.2.3")
	if _, ok := table.clients[key("smtp", "192.0.2.1")]; ok {
		t.Error("idle client kept past the time unit")
	}
	if _, ok := table.clients[key("smtp", "192.0.2.2")]; !ok {
		t.Error("connected client forgotten")
	}
}

// TestSessionsOverTheSocket checks the protocol end to end: a session's
// connection is counted until its stream closes, whichever process held it.
func TestSessionsOverTheSocket(t *testing.T) {
	table := NewTable(time.Minute)
	path := filepath.Join(sockdir.New(t), "anvil")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				table.Serve(ctx, conn)
			}()
		}
	}()
	client := &Client{Path: path}
	open := func() *Session {
		s, err := client.Open(ctx, "smtp", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first, second := open(), open()
	if count, _, err := first.Connect(); err != nil || count != 1 {
		t.Fatalf("first: count %d, %v", count, err)
	}
	if count, rate, err := second.Connect(); err != nil || count != 2 || rate != 2 {
		t.Fatalf("second: count %d rate %d, %v", count, rate, err)
	}
	if rate, err := second.Count(EventRcpt); err != nil || rate != 1 {
		t.Errorf("rcpt: %d, %v", rate, err)
	}
	if rate, err := second.NewTLSRate(); err != nil || rate != 0 {
		t.Errorf("newtls status: %d, %v", rate, err)
	}
	first.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		third := open()
		count, _, err := third.Connect()
		third.Close()
		if err != nil {
			t.Fatal(err)
		}
		if count == 2 {
			break // second and third: the closed session no longer counts
		}
		if time.Now().After(deadline) {
			t.Fatalf("closed session still counted: count %d", count)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if reply, _ := table.answer("bogus smtp 192.0.2.1"); reply != `error unknown request: "bogus"` {
		t.Errorf("unknown request: %q", reply)
	}
	if reply, _ := table.answer("connect smtp"); reply != `error bad request: "connect smtp"` {
		t.Errorf("short request: %q", reply)
	}
}

func TestOpenReportsTheSystemError(t *testing.T) {
	client := &Client{Path: filepath.Join(sockdir.New(t), "nothing")}
	_, err := client.Open(context.Background(), "smtp", "192.0.2.1")
	if err == nil || err.Error() != "connect to "+client.Path+": No such file or directory" {
		t.Errorf("error %v", err)
	}
	if !client.FirstFailure() || client.FirstFailure() {
		t.Error("FirstFailure is not true exactly once")
	}
}

func TestStatistics(t *testing.T) {
	table, clock := newTestTable(time.Minute)
	clock.t = time.Date(2026, 12, 7, 6, 0, 0, 0, time.Local)
	table.Connect("smtp", "192.0.2.1")
	table.Connect("smtp", "192.0.2.1")
	table.Connect("smtp", "192.0.2.2")
	table.Count(EventRcpt, "smtp", "192.0.2.2")
	want := []string{
		"statistics: max connection rate 2/60s for (smtp:192.0.2.1) at Dec  7 06:00:00",
		"statistics: max connection count 2 for (smtp:192.0.2.1) at Dec  7 06:00:00",
		"statistics: max recipient rate 1/60s for (smtp:192.0.2.2) at Dec  7 06:00:00",
		"statistics: max cache size 2 at Dec  7 06:00:00",
	}
	got := table.Statistics()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("statistics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if again := table.Statistics(); len(again) != 0 {
		t.Errorf("statistics not reset: %q", again)
	}
}
