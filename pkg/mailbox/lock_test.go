package mailbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseLocks(t *testing.T) {
	tests := []struct {
		value   string
		want    Locks
		wantErr string
	}{
		{"fcntl, dotlock", Locks{Fcntl: true, Dotlock: true}, ""},
		{"flock", Locks{Flock: true}, ""},
		{"fcntl flock,dotlock", allLocks, ""},
		{"", Locks{}, ""},
		{"fcntl, lockf", Locks{}, `invalid virtual_mailbox_lock value: "lockf"`},
	}
	for _, tt := range tests {
		got, err := ParseLocks("virtual_mailbox_lock", tt.value)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseLocks(%q) error %v, want %q", tt.value, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseLocks(%q) = %+v, %v; want %+v", tt.value, got, err, tt.want)
		}
	}
}

func TestDotlockWaitsForHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bob")
	if err := os.WriteFile(path+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	released := time.Now().Add(200 * time.Millisecond)
	go func() {
		time.Sleep(time.Until(released))
		os.Remove(path + ".lock")
	}()
	msg := &Message{Recipient: "bob@example.test"}
	if err := DeliverMbox(path, msg, strings.NewReader("x\n"), Locks{Dotlock: true}, 0); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(released) {
		t.Errorf("delivered while another process held the dot-lock")
	}
}

func TestDotlockRemovesStaleLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bob")
	if err := os.WriteFile(path+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * staleLockTime)
	if err := os.Chtimes(path+".lock", old, old); err != nil {
		t.Fatal(err)
	}
	msg := &Message{Recipient: "bob@example.test"}
	start := time.Now()
	if err := DeliverMbox(path, msg, strings.NewReader("x\n"), Locks{Dotlock: true}, 0); err != nil {
		t.Fatal(err)
	}
	// Waiting for a lock that is never removed takes lockAttempts x
	// lockDelay (20 s); at once is well below, even on a slow machine.
	if time.Since(start) > lockAttempts*lockDelay*3/4 {
		t.Errorf("stale lock not removed at once")
	}
}
