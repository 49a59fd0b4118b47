package mailbox

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFromLine(t *testing.T) {
	tests := []struct {
		sender string
		when   time.Time
		want   string
	}{
		{"alice@example.com", time.Date(2026, 11, 28, 13, 1, 26, 0, time.Local), "From alice@example.com  Sat Nov 28 13:01:26 2026\n"},
		{"", time.Date(2026, 11, 1, 9, 5, 0, 0, time.Local), "From MAILER-DAEMON  Sun Nov  1 09:05:00 2026\n"},
	}
	for _, tt := range tests {
		if got := FromLine(tt.sender, tt.when); got != tt.want {
			t.Errorf("FromLine(%q) = %q, want %q", tt.sender, got, tt.want)
		}
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		msg  Message
		want string
	}{
		{Message{Sender: "s@example.com", Recipient: "Bob@Example.TEST"},
			"Return-Path: <s@example.com>\nX-Original-To: Bob@Example.TEST\nDelivered-To: bob@example.test\n"},
		{Message{Recipient: "bob@example.test", OriginalRecipient: "info@example.test"},
			"Return-Path: <>\nX-Original-To: info@example.test\nDelivered-To: bob@example.test\n"},
	}
	for _, tt := range tests {
		if got := tt.msg.Headers(); got != tt.want {
			t.Errorf("Headers() = %q, want %q", got, tt.want)
		}
	}
}

func TestWriteMboxQuotesAndTerminates(t *testing.T) {
	when := time.Date(2026, 11, 28, 13, 1, 26, 0, time.Local)
	msg := &Message{Sender: "s@example.com", Recipient: "bob@example.test", Time: when}
	head := "From s@example.com  Sat Nov 28 13:01:26 2026\n" + msg.Headers()
	tests := []struct {
		name, content, want string
	}{
		{"plain", "Subject: x\n\nbody\n", "Subject: x\n\nbody\n\n"},
		{"From quoted", "Subject: x\n\nFrom here\n>From there\nFrom\n", "Subject: x\n\n>From here\n>From there\nFrom\n\n"},
		{"no final newline", "Subject: x\n\nlast", "Subject: x\n\nlast\n\n"},
		{"From mid-line untouched", "Subject: x\n\nsay From me\n", "Subject: x\n\nsay From me\n\n"},
		{"empty", "", "\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := msg.writeMbox(&out, strings.NewReader(tt.content)); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := out.String(); got != head+tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, head+tt.want)
		}
	}
}

func TestWriteMboxQuotesLongLines(t *testing.T) {
	// A line longer than the read buffer: only its real start is quoted.
	long := strings.Repeat("x", 10000) + "From inside\n"
	msg := &Message{Recipient: "bob@example.test"}
	var out bytes.Buffer
	if err := msg.writeMbox(&out, strings.NewReader("\n"+long+"From next\n")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\n"+long+">From next\n") {
		t.Errorf("long line or the one after it mangled")
	}
}

func TestLimitWriter(t *testing.T) {
	var out bytes.Buffer
	w := &limitWriter{w: &out, max: 5}
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("def")); err != ErrTooLarge {
		t.Errorf("write past the limit: %v, want ErrTooLarge", err)
	}
	if out.String() != "abc" {
		t.Errorf("wrote %q", out.String())
	}
}
