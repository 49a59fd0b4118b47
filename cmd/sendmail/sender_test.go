package main

import "testing"

func TestSenderOption(t *testing.T) {
	for _, tt := range []struct {
		arg, want string
		malformed bool
	}{
		{"alice@example.test", "alice@example.test", false},
		{"<alice@example.test>", "alice@example.test", false},
		{"", "", false},
		{"<>", "", false},
		{"a@x\nFrom fake@evil.example Mon Jan  1 00:00:00 2024\nX-Injected: yes", "a@x", true},
		{"a@x, b@y", "a@x", true},
		{"a@x\r\nSubject: injected", "a@x", true},
	} {
		got, malformed := senderOption(tt.arg)
		if got != tt.want || malformed != tt.malformed {
			t.Errorf("senderOption(%q) = %q, %v; want %q, %v", tt.arg, got, malformed, tt.want, tt.malformed)
		}
	}
}
