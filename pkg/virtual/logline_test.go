package virtual

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
		{0, "0"}, {-time.Second, "0"}, {90 * time.Millisecond, "0.09"}, {100 * time.Millisecond, "0.1"},
		{1500 * time.Millisecond, "1.5"}, {2 * time.Second, "2"}, {12900 * time.Millisecond, "12"},
	}
	for _, tt := range tests {
		if got := formatDelay(tt.d); got != tt.want {
			t.Errorf("formatDelay(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestDeliveryLine(t *testing.T) {
	at := time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)
	times := deliveryTimes{arrival: at, active: at.Add(time.Second), started: at.Add(1100 * time.Millisecond), done: at.Add(1200 * time.Millisecond)}
	r := ipc.RecipientResult{Relay: "virtual", DSNCode: "2.0.0", Reply: "delivered to maildir", Transmission: 100 * time.Millisecond}
	tests := []struct {
		rcpt ipc.Recipient
		want string
	}{
		{ipc.Recipient{Address: "bob@example.test"},
			"ID1: to=<bob@example.test>, relay=virtual, delay=1.2, delays=1/0.1/0/0.1, dsn=2.0.0, status=sent (delivered to maildir)"},
		{ipc.Recipient{Address: "bob@example.test", OriginalRecipient: "info@example.test"},
			"ID1: to=<bob@example.test>, orig_to=<info@example.test>, relay=virtual, delay=1.2, delays=1/0.1/0/0.1, dsn=2.0.0, status=sent (delivered to maildir)"},
	}
	for _, tt := range tests {
		if got := deliveryLine("ID1", tt.rcpt, r, "sent", times); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}
