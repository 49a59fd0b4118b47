package mailbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// idlePid returns the pid of the only idle helper without credentials.
func idlePid(t *testing.T, p *Helpers) int {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[keyOf(nil)]
	if len(list) != 1 {
		t.Fatalf("%d idle helpers, want 1", len(list))
	}
	return list[0].cmd.Process.Pid
}

func TestHelpersKeepOneChildForManyDeliveries(t *testing.T) {
	dir := t.TempDir()
	p := &Helpers{Exe: os.Args[0]}
	defer p.Close()
	os.WriteFile(filepath.Join(dir, "target"), nil, 0o600)
	os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "link"))
	pid := 0
	for i := range 3 {
		req := &Request{Path: filepath.Join(dir, "md") + "/", Maildir: true, Message: Message{Sender: "s@example.com", Recipient: "bob@example.test"}}
		if err := p.Deliver(nil, req, strings.NewReader(fmt.Sprintf("Subject: %d\n\nbody\n", i))); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		// A delivery the helper refuses leaves it usable.
		bad := &Request{Path: filepath.Join(dir, "link"), Message: Message{Recipient: "bob@example.test"}}
		var failure *Error
		if err := p.Deliver(nil, bad, strings.NewReader(strings.Repeat("x\n", 50000))); !errors.As(err, &failure) || failure.DSN != "5.2.0" {
			t.Fatalf("mbox through a symlink: %v", err)
		}
		if got := idlePid(t, p); pid != 0 && got != pid {
			t.Errorf("delivery %d ran in helper %d, want %d", i, got, pid)
		} else {
			pid = got
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "md", "new"))
	if len(entries) != 3 {
		t.Fatalf("maildir new/ holds %d files, want 3", len(entries))
	}
	for i, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, "md", "new", e.Name()))
		if !strings.HasSuffix(string(data), "\n\nbody\n") || !strings.Contains(string(data), "Subject: ") {
			t.Errorf("message %d: %q", i, data)
		}
	}
}

// brokenContent gives some content, then a read error.
type brokenContent struct{ sent bool }

func (b *brokenContent) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, "Subject: x\n\npart of the bo"), nil
	}
	return 0, io.ErrNoProgress
}

func TestHelpersStoreNothingWhenContentBreaks(t *testing.T) {
	dir := t.TempDir()
	p := &Helpers{Exe: os.Args[0]}
	defer p.Close()
	req := &Request{Path: filepath.Join(dir, "md") + "/", Maildir: true, Message: Message{Recipient: "bob@example.test"}}
	var failure *Error
	if err := p.Deliver(nil, req, &brokenContent{}); !errors.As(err, &failure) || failure.DSN != "4.3.0" || !strings.HasPrefix(failure.Text, "cannot read message content") {
		t.Fatalf("broken content: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "md", "new")); len(entries) != 0 {
		t.Errorf("maildir new/ holds %d files after a broken delivery", len(entries))
	}
	// The next delivery gets a new helper.
	if err := p.Deliver(nil, req, strings.NewReader("Subject: y\n\nwhole\n")); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "md", "new")); len(entries) != 1 {
		t.Errorf("maildir new/ holds %d files, want 1", len(entries))
	}
}

// TestHelperDeliveryTimeLimit: a delivery that does not end (here a lock
// that is never released) is stopped at the time limit with its helper,
// and reported as a temporary failure.
func TestHelperDeliveryTimeLimit(t *testing.T) {
	saved := deliveryTimeLimit
	deliveryTimeLimit = 300 * time.Millisecond
	defer func() { deliveryTimeLimit = saved }()
	path := filepath.Join(t.TempDir(), "mbox")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	p := &Helpers{Exe: os.Args[0]}
	defer p.Close()
	req := &Request{Path: path, Locks: Locks{Flock: true}, Message: Message{Sender: "s@example.com", Recipient: "bob"}}
	err = p.Deliver(nil, req, strings.NewReader("x\n"))
	var failure *Error
	if !errors.As(err, &failure) || failure.Permanent || !strings.Contains(failure.Text, "killed") {
		t.Errorf("delivery past the time limit: %v", err)
	}
}
