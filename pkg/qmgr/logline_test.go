package qmgr

import (
	"testing"
	"time"
)

func TestDeliveryLine(t *testing.T) {
	arrival := time.Date(2026, time.November, 28, 13, 0, 0, 0, time.UTC)
	active := arrival.Add(12 * time.Second)
	now := active.Add(10 * time.Millisecond)
	got := deliveryLine("x@gone.example", "", arrival, active, now, "5.1.2", "bounced", "no such domain")
	want := "to=<x@gone.example>, relay=none, delay=12, delays=12/0.01/0/0, dsn=5.1.2, status=bounced (no such domain)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	got = deliveryLine("x@gone.example", "X@Gone.example", arrival, arrival, arrival, "2.0.0", "sent", "dropped")
	want = "to=<x@gone.example>, orig_to=<X@Gone.example>, relay=none, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (dropped)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
