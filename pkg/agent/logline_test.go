// Tests of the delivery log line and its delay format.

package agent

import (
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

func TestFormatDelay(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0"},
		{-time.Second, "0"},
		{4 * time.Millisecond, "0"},
		{90 * time.Millisecond, "0.09"},
		{100 * time.Millisecond, "0.1"},
		{999 * time.Millisecond, "0.99"},
		{1500 * time.Millisecond, "1.5"},
		{2 * time.Second, "2"},
		{9990 * time.Millisecond, "9.9"},
		{12700 * time.Millisecond, "12"},
		{12900 * time.Millisecond, "12"},
		{3 * time.Hour, "10800"},
	}
	for _, tt := range tests {
		if got := FormatDelay(tt.d); got != tt.want {
			t.Errorf("FormatDelay(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestDeliveryLine(t *testing.T) {
	base := time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)
	smtpDelays := Delays{Arrival: base, Active: base.Add(12 * time.Second), Started: base.Add(12*time.Second + 10*time.Millisecond), Done: base.Add(12100 * time.Millisecond)}
	smtpSent := ipc.RecipientResult{Status: ipc.StatusSent, DSNCode: "2.0.0", Reply: "250 2.0.0 Ok: queued as X", Relay: "mx[127.0.0.3]:25",
		ConnUse: 1, ConnSetup: 40 * time.Millisecond, Transmission: 50 * time.Millisecond}
	firstUse := smtpSent
	firstUse.ConnUse = 0
	// A local delivery agent has no connection to set up: c is 0.
	virtualDelays := Delays{Arrival: base, Active: base.Add(time.Second), Started: base.Add(1100 * time.Millisecond), Done: base.Add(1200 * time.Millisecond)}
	virtualSent := ipc.RecipientResult{Status: ipc.StatusSent, Relay: "virtual", DSNCode: "2.0.0", Reply: "delivered to maildir", Transmission: 100 * time.Millisecond}
	tests := []struct {
		name string
		rcpt ipc.Recipient
		r    ipc.RecipientResult
		d    Delays
		want string
	}{
		{"reused connection, alias", ipc.Recipient{Address: "a@x.test", OriginalRecipient: "alias@x.test"}, smtpSent, smtpDelays,
			"4ABC: to=<a@x.test>, orig_to=<alias@x.test>, relay=mx[127.0.0.3]:25, conn_use=2, delay=12, delays=12/0.01/0.04/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)"},
		{"first use, orig_to same as to", ipc.Recipient{Address: "a@x.test", OriginalRecipient: "a@x.test"}, firstUse, smtpDelays,
			"4ABC: to=<a@x.test>, relay=mx[127.0.0.3]:25, delay=12, delays=12/0.01/0.04/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)"},
		{"virtual", ipc.Recipient{Address: "bob@example.test"}, virtualSent, virtualDelays,
			"4ABC: to=<bob@example.test>, relay=virtual, delay=1.2, delays=1/0.1/0/0.1, dsn=2.0.0, status=sent (delivered to maildir)"},
		{"virtual, alias", ipc.Recipient{Address: "bob@example.test", OriginalRecipient: "info@example.test"}, virtualSent, virtualDelays,
			"4ABC: to=<bob@example.test>, orig_to=<info@example.test>, relay=virtual, delay=1.2, delays=1/0.1/0/0.1, dsn=2.0.0, status=sent (delivered to maildir)"},
		{"bounced", ipc.Recipient{Address: "x@x.test"}, ipc.RecipientResult{Status: ipc.StatusBounced, Relay: "local", DSNCode: "5.1.1", Reply: "unknown user: \"x\""}, Delays{},
			"4ABC: to=<x@x.test>, relay=local, delay=0, delays=0/0/0/0, dsn=5.1.1, status=bounced (unknown user: \"x\")"},
	}
	for _, tt := range tests {
		if got := DeliveryLine("4ABC", tt.rcpt, tt.r, tt.d); got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestVerifyLineStatus(t *testing.T) {
	tests := []struct {
		status ipc.DeliveryStatus
		want   string
	}{
		{ipc.StatusSent, "status=deliverable (r)"},
		{ipc.StatusBounced, "status=undeliverable (r)"},
		{ipc.StatusDeferred, "status=undeliverable (r)"},
	}
	for _, tt := range tests {
		r := ipc.RecipientResult{Status: tt.status, Relay: "virtual", DSNCode: "2.0.0", Reply: "r"}
		want := "4ABC: to=<a@x.test>, relay=virtual, delay=0, delays=0/0/0/0, dsn=2.0.0, " + tt.want
		if got := VerifyLine("4ABC", ipc.Recipient{Address: "a@x.test"}, r, Delays{}); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func TestRequestDelays(t *testing.T) {
	arrival := time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)
	active := arrival.Add(time.Second)
	started := active.Add(time.Second)
	done := started.Add(time.Second)
	tests := []struct {
		name            string
		arrival, active time.Time
		want            Delays
	}{
		{"both known", arrival, active, Delays{arrival, active, started, done}},
		{"no active time", arrival, time.Time{}, Delays{arrival, started, started, done}},
		{"no arrival time", time.Time{}, active, Delays{active, active, started, done}},
		{"neither", time.Time{}, time.Time{}, Delays{started, started, started, done}},
	}
	for _, tt := range tests {
		req := &ipc.DeliveryRequest{ArrivalTime: tt.arrival, ActiveTime: tt.active}
		if got := RequestDelays(req, started, done); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
